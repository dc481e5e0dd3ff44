// The editor as a user sees it: a real node-red process with the package
// installed, driven in Debian's Chromium. Palette labels, translated dialogs,
// tabs, presets that fill the fields, and the help text.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startNodeRed, type NodeRedProcess } from '../support/node-red-process';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const shots = path.join(os.tmpdir(), 'streamsafe-screenshots');

let red: NodeRedProcess;
let browser: Browser;
let page: Page;

const flows = [
  { id: 'tab', type: 'tab', label: 'editor test' },
  // Nothing listens here: the editor test needs no broker.
  { id: 'b1', type: 'streamsafe-kafka-broker', name: 'test broker', brokers: '127.0.0.1:1', saslMechanism: 'none', connectionTimeout: '1000' },
  { id: 'p1', type: 'streamsafe-kafka-producer', z: 'tab', broker: 'b1', topic: 'tweets', preset: 'safe', x: 300, y: 100, wires: [[], []] },
  { id: 'k1', type: 'streamsafe-kafka-consumer', z: 'tab', broker: 'b1', topics: 'tweets', groupId: 'g', x: 300, y: 200, wires: [['cm1']] },
  { id: 'cm1', type: 'streamsafe-kafka-commit', z: 'tab', x: 500, y: 200, wires: [[]] },
];

before(async () => {
  assert.ok(fs.existsSync(CHROMIUM), `Chromium is needed at ${CHROMIUM} (apt-get install chromium; .ci/run does it)`);
  fs.mkdirSync(shots, { recursive: true });
  red = await startNodeRed(flows);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(red.url);
  await page.waitForFunction(() => (window as any).RED?.nodes?.node('p1') && document.querySelector('.red-ui-palette-node'), null, { timeout: 60000 });
});

after(async () => {
  await browser?.close();
  await red?.stop();
});

/**
 * Types `value` into the field and waits until Node-RED's validation marks it invalid (or not);
 * on failure it says what the validators read (the edit stack and the Start field).
 */
async function typeAndCheck(selector: string, value: string, invalid: boolean): Promise<void> {
  await page.fill(selector, value);
  const deadline = Date.now() + 15000;
  for (;;) {
    await page.dispatchEvent(selector, 'change');
    const marked = await page.evaluate((sel) => document.querySelector(sel)?.classList.contains('input-error') ?? false, selector);
    if (marked === invalid) return;
    if (Date.now() > deadline) {
      const seen = await page.evaluate(() => {
        const R = (window as any).RED;
        const stack = R.editor.getEditStack ? R.editor.getEditStack().map((n: { id?: string; type?: string }) => `${n.type}:${n.id}`) : 'no getEditStack';
        return { stack, start: (document.querySelector('#node-input-start') as HTMLSelectElement | null)?.value };
      });
      throw new Error(`${selector} = "${value}": ${invalid ? 'not marked invalid' : 'still marked invalid'} after 15 s; editor: ${JSON.stringify(seen)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Closes the tray and waits until it is gone: Node-RED pops its edit stack when the close
 * animation ends, and a dialog opened before then is popped in its place (the validators then
 * no longer see it as open, and read the node's saved values instead of the dialog's).
 */
async function closeTray(): Promise<void> {
  await page.evaluate(() => (window as any).RED.tray.close());
  await page.waitForFunction(() => !document.querySelector('.red-ui-tray'), null, { timeout: 10000 });
}

async function trayText(): Promise<string> {
  return page.locator('.red-ui-tray').last().innerText();
}

describe('editor', () => {
  it('shows the nodes in the palette with short plain labels', async () => {
    const label = await page.locator('.red-ui-palette-node[data-palette-type="streamsafe-kafka-producer"] .red-ui-palette-label').innerText();
    assert.equal(label.replace(/\s+/g, ' ').trim(), 'kafka producer');
  });

  it('the producer dialog is translated, in tabs, and the presets fill the fields', async () => {
    await page.evaluate(() => (window as any).RED.editor.edit((window as any).RED.nodes.node('p1')));
    await page.waitForSelector('#node-input-preset', { state: 'visible' });
    const text = await trayText();
    assert.doesNotMatch(text, /streamsafe-kafka-producer\./, 'no untranslated i18n key');
    for (const label of ['Delivery', 'Batching', 'Timeouts', 'Metrics', 'Preset', 'Broker', 'Topic']) assert.match(text, new RegExp(label));
    assert.equal(await page.inputValue('#node-input-preset'), 'safe');
    assert.equal(await page.inputValue('#node-input-acks'), 'all');
    assert.equal(await page.isChecked('#node-input-idempotence'), true);
    await page.screenshot({ path: path.join(shots, 'producer-delivery.png') });

    await page.selectOption('#node-input-preset', 'throughput');
    await page.click('text=Batching');
    assert.equal(await page.inputValue('#node-input-compression'), 'lz4');
    assert.equal(await page.inputValue('#node-input-lingerMs'), '20');
    assert.equal(await page.inputValue('#node-input-batchSize'), '32768');
    await page.screenshot({ path: path.join(shots, 'producer-batching.png') });

    // Changing a field a preset sets makes it Custom.
    await page.fill('#node-input-lingerMs', '7');
    await page.dispatchEvent('#node-input-lingerMs', 'change');
    assert.equal(await page.inputValue('#node-input-preset'), 'custom');

    await page.selectOption('#node-input-preset', 'fireAndForget');
    assert.equal(await page.inputValue('#node-input-acks'), '0');
    assert.equal(await page.isChecked('#node-input-idempotence'), false);
    assert.equal(await page.inputValue('#node-input-retries'), '0');
    await closeTray();
  });

  it('the broker dialog keeps SASL fields hidden until a mechanism is chosen', async () => {
    await page.evaluate(() => (window as any).RED.editor.editConfig('', 'streamsafe-kafka-broker', 'b1'));
    await page.waitForSelector('#node-config-input-brokers', { state: 'visible' });
    const text = await trayText();
    assert.doesNotMatch(text, /streamsafe-kafka-broker\./, 'no untranslated i18n key');
    assert.match(text, /Connection/);
    await page.click('text=Security');
    assert.equal(await page.isVisible('#node-config-input-username'), false);
    await page.selectOption('#node-config-input-saslMechanism', 'scram-sha-512');
    assert.equal(await page.isVisible('#node-config-input-username'), true);
    assert.equal(await page.getAttribute('#node-config-input-password', 'type'), 'password');
    await page.screenshot({ path: path.join(shots, 'broker-security.png') });
    await closeTray();
    const def = 'streamsafe-kafka-broker';
    assert.equal(await page.evaluate((t) => { const d = (window as any).RED.nodes.getType(t); return d.paletteLabel.call(d); }, def), 'kafka broker');
  });

  it('the consumer dialog is translated, in tabs, and checks each field with the runtime rules', async () => {
    const label = await page.locator('.red-ui-palette-node[data-palette-type="streamsafe-kafka-consumer"] .red-ui-palette-label').innerText();
    assert.equal(label.replace(/\s+/g, ' ').trim(), 'kafka consumer');
    await page.evaluate(() => (window as any).RED.editor.edit((window as any).RED.nodes.node('k1')));
    await page.waitForSelector('#node-input-groupId', { state: 'visible' });
    const text = await trayText();
    assert.doesNotMatch(text, /streamsafe-kafka-consumer\./, 'no untranslated i18n key');
    for (const tab of ['Source', 'Delivery', 'Format', 'Group']) assert.match(text, new RegExp(tab));
    assert.equal(await page.inputValue('#node-input-commitMode'), 'atLeastOnce');
    assert.equal(await page.inputValue('#node-input-maxOutstanding'), '100');
    // The timestamp row shows only for start = timestamp, and an unreadable one is refused.
    assert.equal(await page.isVisible('#node-input-startTimestamp'), false);
    await page.selectOption('#node-input-start', 'timestamp');
    assert.equal(await page.isVisible('#node-input-startTimestamp'), true);
    await typeAndCheck('#node-input-startTimestamp', 'soon', true);
    await typeAndCheck('#node-input-startTimestamp', '2026-01-31T12:00:00Z', false);
    await typeAndCheck('#node-input-groupId', '', true);
    await page.screenshot({ path: path.join(shots, 'consumer-source.png') });
    await page.click('#red-ui-tab-streamsafe-kafka-consumer-tab-group');
    await typeAndCheck('#node-input-heartbeatIntervalMs', '30000', true);
    await closeTray();
    const commit = await page.locator('.red-ui-palette-node[data-palette-type="streamsafe-kafka-commit"] .red-ui-palette-label').innerText();
    assert.equal(commit.replace(/\s+/g, ' ').trim(), 'kafka commit');
  });

  it('the help explains every option, with the Java names', async () => {
    // Help texts arrive with the node definitions, shortly after the palette.
    await page.waitForSelector('script[data-help-name="streamsafe-kafka-producer"]', { state: 'attached' });
    await page.evaluate(() => (window as any).RED.sidebar.help.show('streamsafe-kafka-producer'));
    await page.waitForSelector('.red-ui-help >> text=delivery.timeout.ms', { timeout: 10000 });
    // textContent: the help's later sections are collapsed, not absent.
    const help = (await page.locator('.red-ui-help').allTextContents()).join('\n');
    await page.screenshot({ path: path.join(shots, 'producer-help.png') });
    for (const javaName of ['enable.idempotence', 'retries', 'retry.backoff.ms', 'request.timeout.ms', 'delivery.timeout.ms',
      'max.in.flight.requests.per.connection', 'compression.type', 'linger.ms', 'batch.size', 'buffer.memory', 'max.block.ms', 'max.request.size']) {
      assert.ok(help.includes(javaName), `help mentions ${javaName}`);
    }
    assert.match(help, /min\.insync\.replicas/);
    assert.match(help, /tombstone/);
  });
});
