// A Node-RED user directory with this package installed as the palette
// manager would (node_modules/@streamsafe/node-red-twitter-kafka), used by the
// demo and by the tests that run a real node-red process.
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');

/**
 * Writes settings.js, flows.json and the package link into `dir`; with `flows: null`
 * the flows file there is left alone (the demo keeps the user's edits).
 * Returns the settings file path.
 */
function prepareUserDir(dir, { flows = [], port = 1880, host = '127.0.0.1', logLevel = 'info', linkPackage = true } = {}) {
  // linkPackage false: the caller installs the package itself (e.g. from a packed tarball).
  if (linkPackage) {
    fs.mkdirSync(path.join(dir, 'node_modules', '@streamsafe'), { recursive: true });
    const link = path.join(dir, 'node_modules', '@streamsafe', 'node-red-twitter-kafka');
    fs.rmSync(link, { recursive: true, force: true });
    fs.symlinkSync(root, link, 'dir');
    fs.writeFileSync(
      path.join(dir, 'package.json'),
      JSON.stringify({ name: 'node-red-userdir', private: true, dependencies: { '@streamsafe/node-red-twitter-kafka': `file:${root}` } }, null, 2),
    );
  }
  if (flows !== null) fs.writeFileSync(path.join(dir, 'flows.json'), JSON.stringify(flows, null, 2));
  const settings = path.join(dir, 'settings.js');
  fs.writeFileSync(
    settings,
    `module.exports = {
  uiHost: ${JSON.stringify(host)},
  uiPort: ${Number(port)},
  flowFile: 'flows.json',
  credentialSecret: false,
  logging: { console: { level: ${JSON.stringify(logLevel)}, metrics: false, audit: false } },
  editorTheme: { tours: false, projects: { enabled: false } },
  telemetry: { enabled: false },
};
`,
  );
  return settings;
}

module.exports = { prepareUserDir };
