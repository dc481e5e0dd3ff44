// A new user's first run, in Debian's Chromium against a real node-red process with a fresh
// user dir: the packed tarball uploaded through Menu → Manage palette, each node dragged
// from the palette, a setting the Java client refuses shown red with a deploy warning, the
// broker dialog's "test connection" against the real broker and a wrong port, a Korean
// editor reading a translated status, and each example imported and deployed against the
// real broker and the X emulator. Screenshots of the main views are saved as artefacts in
// $STREAMSAFE_ARTEFACTS (default: <tmp>/streamsafe-screenshots), not committed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startNodeRed, type NodeRedProcess } from '../support/node-red-process';
import { getTestKafka, type TestKafka } from '../support/kafka';
import { startXEmulator, type XEmulator } from '../support/x-emulator';
import { readTopic } from '../support/node-red';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const shots = process.env.STREAMSAFE_ARTEFACTS || path.join(os.tmpdir(), 'streamsafe-screenshots');
const root = path.resolve(__dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const FLOW_TYPES = ['streamsafe-x-stream', 'streamsafe-partition-key', 'streamsafe-kafka-producer'];
const ko = (type: string) => JSON.parse(fs.readFileSync(path.join(root, 'locales', 'ko', `${type}.json`), 'utf8'))[type];

let work: string;
let kafka: TestKafka;
let emu: XEmulator;
let red: NodeRedProcess;
let browser: Browser;
let page: Page;

function npm(args: string[], cwd: string): string {
  const npmCli = process.env.npm_execpath;
  return npmCli
    ? execFileSync(process.execPath, [npmCli, ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    : execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(shots, `first-run-${name}.png`) });
}

/** The RED object of the page (typed loosely: it is Node-RED's editor API). */
function red$<T>(fn: (RED: any, arg: any) => T, arg?: unknown): Promise<T> {
  return page.evaluate(([src, a]) => new Function('RED', 'arg', `return (${src})(RED, arg)`)((window as any).RED, a), [fn.toString(), arg] as const) as Promise<T>;
}

async function closeTray(): Promise<void> {
  await page.evaluate(() => (window as any).RED.tray.close());
  await page.waitForFunction(() => !document.querySelector('.red-ui-tray'), null, { timeout: 10000 });
}

/** Closes every open tray, dialog and notification, so one failed step does not block the next. */
async function clearEditor(): Promise<void> {
  for (let i = 0; i < 5 && (await page.locator('.red-ui-tray').count()) > 0; i++) {
    await page.evaluate(() => (window as any).RED.tray.close());
    await page.waitForTimeout(300);
  }
  await page.evaluate(() => {
    document.querySelectorAll('.red-ui-notification').forEach((n: any) => n.close?.());
    (window as any).$('.ui-dialog-content:visible').dialog?.('close');
  });
}

async function deploy(): Promise<void> {
  await page.click('#red-ui-header-button-deploy');
  // A deploy with invalid nodes asks first; these tests deploy valid flows only.
  await page.waitForFunction(() => !(window as any).RED.nodes.dirty(), null, { timeout: 30000 });
}

async function statusText(id: string): Promise<string> {
  return page.evaluate((nodeId) => {
    const el = document.getElementById(nodeId) as any;
    return el?.__statusLabel__?.textContent ?? '';
  }, id);
}

before(async () => {
  assert.ok(fs.existsSync(CHROMIUM), `Chromium is needed at ${CHROMIUM} (apt-get install chromium; .ci/run does it)`);
  fs.mkdirSync(shots, { recursive: true });
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'streamsafe-first-run-'));
  // --ignore-scripts: dist/ is built by the test run already; pack what is there.
  const packed = JSON.parse(npm(['pack', '--ignore-scripts', '--json', '--pack-destination', work], root));
  fs.renameSync(path.join(work, packed[0].filename), path.join(work, 'streamsafe-node-red-twitter-kafka.tgz'));
  [kafka, emu] = await Promise.all([getTestKafka(), startXEmulator({ postsPerSecond: 20, rateLimits: false })]);
  // A fresh user dir: no flows, the package not installed.
  const userDir = path.join(work, 'userdir');
  fs.mkdirSync(userDir);
  fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'node-red-project', private: true }));
  red = await startNodeRed([], { userDir });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(red.url);
  await page.waitForFunction(() => (window as any).RED?.nodes && document.querySelector('.red-ui-palette-node'), null, { timeout: 60000 });
});

after(async () => {
  await browser?.close();
  await red?.stop();
  await emu?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe('first run in the editor', () => {
  it('uploading the packed tarball in Manage palette installs every node', { timeout: 240_000 }, async () => {
    await page.evaluate(() => (window as any).RED.actions.invoke('core:manage-palette'));
    await page.click('#red-ui-palette-editor-tab-install, .red-ui-tabs li:has-text("Install") a');
    await page.setInputFiles('#red-ui-palette-editor-upload-form input[type="file"]', path.join(work, 'streamsafe-node-red-twitter-kafka.tgz'));
    await page.click('.red-ui-palette-editor-upload-buttons .primary');
    // npm installs the tarball and its dependencies into the user dir; the nodes then appear.
    await page.waitForSelector('.red-ui-palette-node[data-palette-type="streamsafe-x-stream"]', { state: 'attached', timeout: 200_000 });
    await shot('palette-installed');
    await page.evaluate(() => (window as any).RED.actions.invoke('core:manage-palette'));
    await closeTray().catch(() => undefined);
    const types = await red$((RED) => RED.nodes.registry.getNodeTypes());
    for (const type of Object.keys(pkg['node-red'].nodes)) assert.ok(types.includes(type), `${type} is registered`);
  });

  it('the palette filter finds the X stream node by X, twitter, tweet and post', async () => {
    const entry = '.red-ui-palette-node[data-palette-type="streamsafe-x-stream"]';
    for (const term of ['X', 'twitter', 'tweet', 'post', 'kafka']) {
      // Typed key by key: the palette's search box filters on keyup.
      await page.fill('#red-ui-palette-search input', '');
      await page.locator('#red-ui-palette-search input').pressSequentially(term);
      const want = term !== 'kafka';
      const shown = await page
        .waitForFunction(([sel, w]) => !!(document.querySelector(sel as string) as HTMLElement | null)?.offsetParent === w, [entry, want] as const, { timeout: 5000 })
        .then(() => want, () => !want);
      assert.equal(shown, want, `filter "${term}" ${want ? 'shows' : 'hides'} the X stream node`);
      if (term === 'tweet') await shot('palette-search-tweet');
    }
    await page.fill('#red-ui-palette-search input', '');
    await page.locator('#red-ui-palette-search input').press('Backspace');
    await page.waitForSelector(entry, { state: 'visible' });
    assert.equal(
      (await page.locator(`${entry} .red-ui-palette-label`).innerText()).trim(),
      'X stream',
      'the palette still shows its plain label',
    );
    const icon = await page.locator(`${entry} .red-ui-palette-icon`).evaluate((el) => getComputedStyle(el).backgroundImage);
    assert.match(icon, /streamsafe-x-stream\.svg/, 'our own icon');
  });

  it('each node is dragged from the palette onto the workspace', async () => {
    let y = 120;
    for (const type of FLOW_TYPES) {
      const source = page.locator(`.red-ui-palette-node[data-palette-type="${type}"]`);
      await source.scrollIntoViewIfNeeded();
      await source.dragTo(page.locator('#red-ui-workspace-chart'), { targetPosition: { x: 300, y } });
      y += 100;
      const count = await red$((RED, t) => RED.nodes.filterNodes({ type: t }).length, type);
      assert.equal(count, 1, `${type} dropped once`);
    }
    await shot('dragged');
  });

  it('a setting the Java client refuses is red in the dialog and the deploy warns', async (t) => {
    t.after(clearEditor);
    const id = await red$((RED) => RED.nodes.filterNodes({ type: 'streamsafe-kafka-producer' })[0].id);
    await red$((RED, nodeId) => RED.editor.edit(RED.nodes.node(nodeId)), id);
    await page.waitForSelector('#node-input-acks', { state: 'visible' });
    await page.selectOption('#node-input-acks', '1');
    if (!(await page.isChecked('#node-input-idempotence'))) await page.check('#node-input-idempotence');
    await page.dispatchEvent('#node-input-acks', 'change');
    await page.waitForFunction(() => document.querySelector('#node-input-acks.input-error, #node-input-idempotence.input-error, label[for="node-input-idempotence"].input-error'), null, {
      timeout: 5000,
    });
    await shot('invalid-acks-idempotence');
    await page.click('#node-dialog-ok');
    await page.waitForFunction(() => !document.querySelector('.red-ui-tray'), null, { timeout: 10000 });
    assert.equal(await red$((RED, nodeId) => RED.nodes.node(nodeId).valid, id), false, 'the node is marked invalid');
    await page.click('#red-ui-header-button-deploy');
    const warning = page.locator('.red-ui-notification:has-text("not properly configured"), #red-ui-deploy-dialog-confirm-deploy-invalid');
    await warning.first().waitFor({ state: 'visible', timeout: 10000 });
    await shot('deploy-warning');
    // Cancel the deploy.
    await page.locator('.red-ui-notification button:has-text("Cancel"), .ui-dialog button:has-text("Cancel")').first().click();
  });

  it('X credentials without a token are red in the dialog', async (t) => {
    t.after(clearEditor);
    await red$((RED) => RED.editor.editConfig('', 'streamsafe-x-credentials', '_ADD_'));
    await page.waitForSelector('#node-config-input-bearerToken', { state: 'visible' });
    await page.fill('#node-config-input-bearerToken', '');
    await page.dispatchEvent('#node-config-input-bearerToken', 'change');
    await page.waitForSelector('#node-config-input-bearerToken.input-error', { timeout: 5000 });
    await shot('x-credentials-no-token');
    await page.fill('#node-config-input-bearerToken', 'AAAA-a-token');
    await page.dispatchEvent('#node-config-input-bearerToken', 'change');
    await page.waitForSelector('#node-config-input-bearerToken:not(.input-error)', { timeout: 5000 });
  });

  it('"test connection" reports the real cluster, and a refused port with its reason', { timeout: 60_000 }, async (t) => {
    t.after(clearEditor);
    await red$((RED) => RED.editor.editConfig('', 'streamsafe-kafka-broker', '_ADD_'));
    await page.waitForSelector('#node-config-input-brokers', { state: 'visible' });
    await page.fill('#node-config-input-brokers', kafka.brokers.join(','));
    await page.click('#streamsafe-kafka-broker-test');
    const result = page.locator('#streamsafe-kafka-broker-test-result');
    await page.waitForFunction(() => /cluster|클러스터/i.test(document.getElementById('streamsafe-kafka-broker-test-result')?.textContent ?? ''), null, { timeout: 30000 });
    const ok = await result.innerText();
    const [host, port] = kafka.brokers[0].split(':');
    assert.match(ok, new RegExp(`${host}:${port}`), `the brokers are listed: ${ok}`);
    assert.match(ok, /Kafka 4\./, `the Kafka version line: ${ok}`);
    await shot('test-connection-ok');

    await page.fill('#node-config-input-brokers', '127.0.0.1:1');
    await page.click('#streamsafe-kafka-broker-test');
    await page.waitForFunction((before) => {
      const t = document.getElementById('streamsafe-kafka-broker-test-result')?.textContent ?? '';
      return t !== before && /refused|거부/i.test(t);
    }, ok, { timeout: 30000 });
    await shot('test-connection-refused');
  });

  it('each example imports from the Examples menu and runs once deployed', { timeout: 180_000 }, async () => {
    await clearEditor();
    // The nodes dragged in before are removed: only the examples are deployed.
    await red$((RED) => {
      const ours: any[] = [];
      RED.nodes.eachNode((n: any) => { if (n.type.startsWith('streamsafe-')) ours.push(n); });
      RED.nodes.eachConfig((n: any) => { if (n.type.startsWith('streamsafe-')) ours.push(n); });
      ours.forEach((n) => RED.nodes.remove(n.id));
      RED.view.redraw(true);
    });
    const examples = fs.readdirSync(path.join(root, 'examples')).filter((f) => f.endsWith('.json')).sort();
    assert.ok(examples.length >= 3);
    for (const file of examples) {
      await page.evaluate(() => (window as any).RED.actions.invoke('core:show-examples-import-dialog'));
      await page.waitForSelector('#red-ui-clipboard-dialog', { state: 'visible' });
      await page.click(`#red-ui-clipboard-dialog .red-ui-treeList-label:has-text("${pkg.name}")`);
      await page.click(`#red-ui-clipboard-dialog .red-ui-treeList-label >> text="${path.basename(file, '.json')}"`);
      await page.click('#red-ui-clipboard-dialog-ok');
      // Each example is a whole flow: it imports as a tab of its own.
      const tab = JSON.parse(fs.readFileSync(path.join(root, 'examples', file), 'utf8')).find((n: { type: string }) => n.type === 'tab');
      await page.waitForFunction(
        (label) => (window as any).RED.nodes.getWorkspaceOrder().some((id: string) => (window as any).RED.nodes.workspace(id)?.label === label),
        tab.label,
        { timeout: 10000 },
      );
      await shot(`example-${path.basename(file, '.json')}`);
    }
    // Point the imported config nodes at the real broker and the emulator, as a user edits them.
    await red$((RED, a) => {
      RED.nodes.eachConfig((n: any) => {
        if (n.type === 'streamsafe-kafka-broker') n.brokers = a.brokers;
        if (n.type === 'streamsafe-x-credentials') {
          n.baseUrl = a.x;
          n.authType = 'bearer';
          n.credentials = { bearerToken: a.token };
        }
        n.changed = true;
        n.dirty = true;
      });
      RED.nodes.dirty(true);
    }, { brokers: kafka.brokers.join(','), x: emu.url, token: emu.bearerToken });
    await deploy();
    await shot('examples-deployed');
    // Each example's producer acknowledges records: its msgs leave the node with msg.kafka.
    const producers: string[] = await red$((RED) => RED.nodes.filterNodes({ type: 'streamsafe-kafka-producer' }).map((n: any) => n.id));
    const withProducer = examples.filter((f) => fs.readFileSync(path.join(root, 'examples', f), 'utf8').includes('"streamsafe-kafka-producer"'));
    assert.equal(producers.length, withProducer.length);
    let records: Awaited<ReturnType<typeof readTopic>> = [];
    for (let attempt = 0; ; attempt++) {
      try {
        records = await readTopic(kafka.brokers, 'tweets', 5, 60_000);
        break;
      } catch (e) {
        // The topic appears with the first record produced.
        if (attempt >= 30 || (e as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION') throw e;
        await page.waitForTimeout(1000);
      }
    }
    assert.ok(records.length >= 5, 'the examples wrote to tweets');
  });

  it('a Korean editor shows translated statuses', { timeout: 90_000 }, async () => {
    await page.evaluate(() => localStorage.setItem('editor-language', 'ko'));
    await page.reload();
    await page.waitForFunction(() => (window as any).RED?.nodes?.filterNodes({ type: 'streamsafe-kafka-producer' }).length > 0, null, { timeout: 60000 });
    // The runtime runs in English; the editor renders our statuses from its own catalogue.
    for (const type of FLOW_TYPES) {
      const id: string = await red$((RED, t) => RED.nodes.filterNodes({ type: t })[0].id, type);
      await red$((RED, nodeId) => RED.workspaces.show(RED.nodes.node(nodeId).z), id);
      let text = '';
      for (const deadline = Date.now() + 30_000; !/[가-힣]/.test(text) && Date.now() < deadline; await page.waitForTimeout(250)) text = await statusText(id);
      assert.ok(/[가-힣]/.test(text), `${type}: a Korean status: ${text}`);
      assert.doesNotMatch(text, new RegExp(`${type}\\.`), 'no untranslated key');
      await shot(`korean-status-${type}`);
    }
    assert.ok(Object.keys(ko('streamsafe-kafka-producer').status).length > 0);
  });
});
