#!/usr/bin/env node
// The README's screenshot (docs/flagship-flow.png) of the running demo: starts
// `npm start`'s script with a throwaway user dir on a free port, opens the editor in
// Debian's Chromium (playwright-core), waits until the flagship flow's nodes show their
// statuses and the debug sidebar has posts, and takes the picture. Then Ctrl-C.
//
//   node scripts/screenshot-demo.js [out.png]     (CHROMIUM_PATH=/usr/bin/chromium)
//
// The posts are multilingual: Debian's fonts-noto-cjk and fonts-noto-color-emoji draw them.
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '..');
const out = path.resolve(process.argv[2] || path.join(root, 'docs', 'flagship-flow.png'));
const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

async function main() {
  if (!fs.existsSync(chromiumPath)) throw new Error(`Chromium is needed at ${chromiumPath} (apt-get install chromium, or set CHROMIUM_PATH)`);
  const { chromium } = require('playwright-core');
  const port = await freePort();
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'streamsafe-screenshot-'));
  const demo = spawn(process.execPath, [path.join(root, 'scripts', 'demo.js')], {
    cwd: root,
    env: { ...process.env, PORT: String(port), DEMO_USER_DIR: userDir },
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  let output = '';
  demo.stdout.on('data', (d) => (output += d));
  const stopDemo = () => {
    try {
      process.kill(-demo.pid, 'SIGINT');
    } catch {
      // gone
    }
  };
  process.once('exit', stopDemo);
  let browser;
  try {
    const deadline = Date.now() + 180_000;
    while (!/\[demo\] ready in/.test(output)) {
      if (demo.exitCode !== null) throw new Error(`the demo exited (${demo.exitCode}):\n${output}`);
      if (Date.now() > deadline) throw new Error(`the demo did not come up:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
    const page = await browser.newPage({ viewport: { width: 1600, height: 560 }, deviceScaleFactor: 1 });
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(() => window.RED && window.RED.nodes && document.querySelector('.red-ui-flow-node'), null, { timeout: 60_000 });
    // The flow and the debug sidebar, without the palette.
    await page.evaluate(() => {
      window.RED.menu.setSelected('menu-item-palette', false);
      window.RED.sidebar.show('debug');
    });
    // A wider sidebar: the debug lines carry the post text.
    const sep = await page.locator('#red-ui-sidebar-separator').boundingBox();
    if (sep) {
      await page.mouse.move(sep.x + sep.width / 2, sep.y + sep.height / 2);
      await page.mouse.down();
      await page.mouse.move(sep.x - 380, sep.y + sep.height / 2, { steps: 5 });
      await page.mouse.up();
    }
    // The statuses under the nodes, and several posts in the sidebar.
    await page.waitForFunction(() => document.querySelectorAll('.red-ui-debug-msg').length >= 6 && Array.from(document.querySelectorAll('.red-ui-flow-node-status-label')).filter((e) => /@/.test(e.textContent)).length >= 1, null, { timeout: 90_000 });
    // Let the X stream's rate status settle on a non-zero figure.
    await page.waitForTimeout(3000);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    await page.screenshot({ path: out });
    process.stdout.write(`${path.relative(process.cwd(), out)}: ${(fs.statSync(out).size / 1024).toFixed(0)} KB\n`);
  } finally {
    if (browser) await browser.close();
    stopDemo();
    await new Promise((r) => (demo.exitCode !== null ? r() : demo.once('exit', r)));
    fs.rmSync(userDir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`screenshot-demo: ${e.stack || e}\n`);
  process.exit(1);
});
