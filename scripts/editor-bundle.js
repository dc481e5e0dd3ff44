// Bundles dist/lib/editor/index.js and the modules it requires (compiled CommonJS) into one
// browser script that defines `window.streamsafeEditor`, and puts it into each editor .html
// at the marker <!-- streamsafe:editor-bundle -->. Only relative requires are allowed: the
// editor runs in a browser, so a lib module that needs node: modules or a package cannot be
// part of it, and the build says which one.
'use strict';
const fs = require('fs');
const path = require('path');

const MARKER = '<!-- streamsafe:editor-bundle -->';

function bundle(distDir) {
  const libRoot = path.join(distDir, 'lib');
  const modules = new Map(); // id (path under lib, no .js) → source
  const visit = (file, from) => {
    const id = path.relative(libRoot, file).replace(/\\/g, '/').replace(/\.js$/, '');
    if (modules.has(id)) return id;
    if (!fs.existsSync(file)) throw new Error(`editor bundle: ${from} requires ${id}, which does not exist`);
    let source = fs.readFileSync(file, 'utf8');
    modules.set(id, '');
    source = source.replace(/require\("([^"]+)"\)/g, (_, spec) => {
      if (!spec.startsWith('.')) {
        throw new Error(`editor bundle: ${id}.ts imports "${spec}", which a browser cannot load; keep editor rules free of node: modules and packages`);
      }
      const dep = visit(path.join(path.dirname(file), spec.endsWith('.js') ? spec : `${spec}.js`), id);
      return `require(${JSON.stringify(dep)})`;
    });
    modules.set(id, source);
    return id;
  };
  const entry = visit(path.join(libRoot, 'editor', 'index.js'), 'the bundle');
  const defs = [...modules].map(([id, src]) => `${JSON.stringify(id)}: function (module, exports, require) {\n${src}\n}`).join(',\n');
  return [
    '(function () {',
    '  if (window.streamsafeEditor) return;',
    `  var defs = {\n${defs}\n  };`,
    '  var cache = {};',
    '  function load(id) {',
    '    if (cache[id]) return cache[id].exports;',
    '    var module = (cache[id] = { exports: {} });',
    '    defs[id].call(module.exports, module, module.exports, load);',
    '    return module.exports;',
    '  }',
    `  window.streamsafeEditor = load(${JSON.stringify(entry)});`,
    '  window.streamsafeEditor.status.installStatusTranslation(RED);',
    '})();',
  ].join('\n');
}

/** Puts the bundle into every .html under dir that has the marker. */
function injectEditorBundle(distDir, htmlFiles) {
  const script = `<script type="text/javascript">\n${bundle(distDir)}\n</script>`;
  for (const file of htmlFiles) {
    const html = fs.readFileSync(file, 'utf8');
    if (!html.includes(MARKER)) throw new Error(`${path.basename(file)} lacks ${MARKER}: its editor would not have the shared rules`);
    fs.writeFileSync(file, html.replace(MARKER, () => script));
  }
}

module.exports = { bundle, injectEditorBundle, MARKER };
