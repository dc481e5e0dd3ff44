#!/usr/bin/env node
// Builds dist/: compiles src/ with tsc, then puts each editor .html and its
// locale files beside the compiled .js, where Node-RED's loader looks for them.
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const { injectEditorBundle } = require('./editor-bundle');

const root = path.resolve(__dirname, '..');
const finalDist = path.join(root, 'dist');
// Build beside dist/ and swap it in at the end, so a test run reading dist/
// never sees it half-built by a concurrent build.
const dist = path.join(root, `.dist-build-${process.pid}`);

function fail(message) {
  fs.rmSync(dist, { recursive: true, force: true });
  process.stderr.write(`[build] ${message}\n`);
  process.exit(1);
}

fs.rmSync(dist, { recursive: true, force: true });
let tsc;
try {
  tsc = require.resolve('typescript/bin/tsc');
} catch (e) {
  fail('TypeScript is not installed: run `npm install` (or `npm ci`) in this folder first.');
}
try {
  execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.json'), '--outDir', dist], { stdio: 'inherit' });
} catch (e) {
  fail(`the TypeScript compiler failed (${e.status != null ? `exit ${e.status}` : e.message}); its errors are above.`);
}

const nodesDir = path.join(root, 'src', 'nodes');
const editorHtml = [];
const localesDir = path.join(root, 'locales');
for (const folder of fs.readdirSync(nodesDir)) {
  const src = path.join(nodesDir, folder);
  const out = path.join(dist, 'nodes', folder);
  for (const file of fs.readdirSync(src)) {
    if (file.endsWith('.html')) {
      const basename = file.slice(0, -'.html'.length);
      fs.copyFileSync(path.join(src, file), path.join(out, file));
      editorHtml.push(path.join(out, file));
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

try {
  injectEditorBundle(dist, editorHtml);
} catch (e) {
  fail(e.message);
}

const old = path.join(root, `.dist-old-${process.pid}`);
if (fs.existsSync(finalDist)) fs.renameSync(finalDist, old);
fs.renameSync(dist, finalDist);
fs.rmSync(old, { recursive: true, force: true });
