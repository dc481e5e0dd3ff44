#!/usr/bin/env node
// Builds dist/: compiles src/ with tsc, then puts each editor .html and its
// locale files beside the compiled .js, where Node-RED's loader looks for them.
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist');

fs.rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.json')], {
  stdio: 'inherit',
});

const nodesDir = path.join(root, 'src', 'nodes');
const localesDir = path.join(root, 'locales');
for (const folder of fs.readdirSync(nodesDir)) {
  const src = path.join(nodesDir, folder);
  const out = path.join(dist, 'nodes', folder);
  for (const file of fs.readdirSync(src)) {
    if (file.endsWith('.html')) {
      const basename = file.slice(0, -'.html'.length);
      fs.copyFileSync(path.join(src, file), path.join(out, file));
      // locales/<lang>/<basename>.json|.html → dist/nodes/<folder>/locales/<lang>/
      for (const lang of fs.existsSync(localesDir) ? fs.readdirSync(localesDir) : []) {
        for (const ext of ['.json', '.html']) {
          const from = path.join(localesDir, lang, basename + ext);
          if (fs.existsSync(from)) {
            fs.mkdirSync(path.join(out, 'locales', lang), { recursive: true });
            fs.copyFileSync(from, path.join(out, 'locales', lang, basename + ext));
          }
        }
      }
    } else if (!file.endsWith('.ts') && fs.statSync(path.join(src, file)).isDirectory()) {
      fs.cpSync(path.join(src, file), path.join(out, file), { recursive: true });
    }
  }
}
