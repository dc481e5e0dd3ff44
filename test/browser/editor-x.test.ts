// The X nodes in the editor as a user sees them: a real node-red process with the package
// installed and an X credentials node pointed at the X emulator, driven in Debian's Chromium.
// Palette label, the translated X stream dialog with its rules list, the mode toggle, the
// validate button showing X's verdict (dry_run=true) beside each rule, the credentials dialog
// keeping the token in a password field, and the help.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startNodeRed, type NodeRedProcess } from '../support/node-red-process';
import { startXEmulator, type XEmulator } from '../support/x-emulator';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const shots = path.join(os.tmpdir(), 'streamsafe-screenshots');

const VALID_RULE = { value: 'kafka lang:en -is:retweet', tag: 'kafka' };
// Unbalanced parenthesis: X refuses it (on deploy the node stops with a red status; the
// editor's validate shows why beside the rule).
const INVALID_RULE = { value: '(kafka OR streaming', tag: 'broken' };

let emu: XEmulator;
let red: NodeRedProcess;
let browser: Browser;
let page: Page;

function flows(baseUrl: string): unknown[] {
  return [
    { id: 'tab', type: 'tab', label: 'X editor test' },
    { id: 'xc', type: 'streamsafe-x-credentials', name: '', baseUrl, authType: 'bearer', timeout: '5000' },
    {
      id: 'x1', type: 'streamsafe-x-stream', z: 'tab', name: '', account: 'xc', mode: 'filtered', rules: [VALID_RULE, INVALID_RULE], query: '',
      tweetFields: 'author_id,created_at,lang,public_metrics', userFields: '', expansions: 'author_id',
      statsInterval: '0', dedupWindow: '10000', queueSize: '10000', overflow: 'drop', x: 200, y: 100, wires: [[], []],
    },
  ];
}

before(async () => {
  assert.ok(fs.existsSync(CHROMIUM), `Chromium is needed at ${CHROMIUM} (apt-get install chromium; .ci/run does it)`);
  fs.mkdirSync(shots, { recursive: true });
  emu = await startXEmulator({ postsPerSecond: 0, rateLimits: false });
  red = await startNodeRed(flows(emu.url), { credentials: { xc: { bearerToken: emu.bearerToken } } });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(red.url);
  await page.waitForFunction(() => (window as any).RED?.nodes?.node('x1') && document.querySelector('.red-ui-palette-node[data-palette-type="streamsafe-x-stream"]'), null, {
    timeout: 60000,
  });
});

after(async () => {
  await browser?.close();
  await red?.stop();
  await emu?.stop();
});

async function trayText(): Promise<string> {
  return page.locator('.red-ui-tray').last().innerText();
}

/** Every text in the open tray, hidden tabs included, and the placeholders of its inputs. */
async function trayAllText(): Promise<string> {
  return page.locator('.red-ui-tray').last().evaluate((tray) => {
    const placeholders = Array.from(tray.querySelectorAll('input[placeholder]')).map((i) => i.getAttribute('placeholder'));
    return [tray.textContent, ...placeholders].join('\n');
  });
}

async function closeTray(): Promise<void> {
  await page.evaluate(() => (window as any).RED.tray.close());
  await page.waitForFunction(() => !document.querySelector('.red-ui-tray'), null, { timeout: 10000 });
}

/**
 * Clicks a tab of the X stream dialog and waits until its content shows. Node-RED's tabs take a
 * second click within 400 ms of the last one (on any tab of the bar) for a double click, which
 * does not switch: leave more than that between tab clicks, as a user does.
 */
async function showTab(name: 'source' | 'fields' | 'delivery' | 'reconnect'): Promise<void> {
  await page.waitForTimeout(450);
  await page.click(`#red-ui-tab-streamsafe-x-stream-tab-${name} a`);
  await page.waitForSelector(`#streamsafe-x-stream-tab-${name}`, { state: 'visible', timeout: 10000 });
}

async function ruleRows(): Promise<Array<{ value: string; tag: string; verdict: string }>> {
  return page.$$eval('#node-input-rule-container li', (lis) =>
    lis.map((li) => ({
      value: (li.querySelector('.streamsafe-x-stream-rule-value') as HTMLInputElement).value,
      tag: (li.querySelector('.streamsafe-x-stream-rule-tag') as HTMLInputElement).value,
      verdict: (li.querySelector('.streamsafe-x-stream-rule-verdict') as HTMLElement).innerText.trim(),
    })),
  );
}

describe('X nodes in the editor', () => {
  it('shows the X stream node in the palette with a short plain label', async () => {
    const label = await page.locator('.red-ui-palette-node[data-palette-type="streamsafe-x-stream"] .red-ui-palette-label').innerText();
    assert.equal(label.replace(/\s+/g, ' ').trim(), 'X stream');
    // In the workspace: the rule count.
    assert.equal(await page.evaluate(() => { const n = (window as any).RED.nodes.node('x1'); return n._def.label.call(n); }), 'X stream (2 rules)');
    const def = 'streamsafe-x-credentials';
    assert.equal(await page.evaluate((t) => { const d = (window as any).RED.nodes.getType(t); return d.paletteLabel.call(d); }, def), 'X credentials');
    await page.locator('.red-ui-palette-node[data-palette-type="streamsafe-x-stream"]').screenshot({ path: path.join(shots, 'x-stream-palette.png') });
  });

  it('the X stream dialog is translated and lists the rules; the mode toggles them', async () => {
    await page.evaluate(() => (window as any).RED.editor.edit((window as any).RED.nodes.node('x1')));
    await page.waitForSelector('#node-input-rule-container', { state: 'visible' });
    const all = await trayAllText();
    assert.doesNotMatch(all, /streamsafe-x-stream\./, 'no untranslated i18n key');
    const text = await trayText();
    for (const label of ['Source', 'Fields', 'Delivery', 'Reconnect', 'Account', 'Mode', 'Rules', 'validate']) assert.match(text, new RegExp(label));
    assert.equal(await page.inputValue('#node-input-mode'), 'filtered');
    // The account is the credentials node, shown by its label.
    assert.equal(await page.inputValue('#node-input-account'), 'xc');
    assert.match(await page.locator('#node-input-account option:checked').innerText(), /X credentials @ 127\.0\.0\.1:\d+/);

    const rows = await ruleRows();
    assert.deepEqual(rows.map((r) => [r.value, r.tag]), [[VALID_RULE.value, VALID_RULE.tag], [INVALID_RULE.value, INVALID_RULE.tag]]);
    assert.equal(await page.isVisible('#streamsafe-x-stream-validate'), true);
    await page.screenshot({ path: path.join(shots, 'x-stream-rules.png') });

    // Sample stream: no rules, no query.
    await page.selectOption('#node-input-mode', 'sample');
    assert.equal(await page.isVisible('#node-input-rule-container'), false);
    assert.equal(await page.isVisible('#streamsafe-x-stream-validate'), false);
    assert.equal(await page.isVisible('#node-input-query'), false);
    // Recent search: the query and the polling fields instead of the rules.
    await page.selectOption('#node-input-mode', 'search');
    assert.equal(await page.isVisible('#node-input-rule-container'), false);
    assert.equal(await page.isVisible('#node-input-query'), true);
    assert.equal(await page.isVisible('#node-input-pollInterval'), true);
    await page.screenshot({ path: path.join(shots, 'x-stream-search.png') });
    // Back to the filtered stream: the rules are still there.
    await page.selectOption('#node-input-mode', 'filtered');
    assert.equal(await page.isVisible('#node-input-rule-container'), true);
    assert.equal(await page.isVisible('#node-input-query'), false);
    assert.equal((await ruleRows()).length, 2);

    // The other tabs are translated too, with X's field names and the defaults.
    await showTab('fields');
    const fields = await trayText();
    assert.match(fields, /tweet\.fields/);
    assert.match(fields, /expansions/);
    assert.equal(await page.inputValue('#node-input-tweetFields'), 'author_id,created_at,lang,public_metrics');
    await page.screenshot({ path: path.join(shots, 'x-stream-fields.png') });
    await showTab('reconnect');
    assert.match(await trayText(), /HTTP 429/);
    await page.screenshot({ path: path.join(shots, 'x-stream-reconnect.png') });
    await showTab('source');
    assert.equal(await page.isVisible('#node-input-rule-container'), true);
  });

  it('validate shows X\'s verdict (dry_run=true) beside each rule and changes nothing at X', async () => {
    const before = emu.rules();
    // The emulator logs paths without the query: a rules POST that changed nothing was a dry run.
    const dryRuns = () => emu.requests('rules.post').length;
    const dryRunsBefore = dryRuns();
    await page.click('#streamsafe-x-stream-validate');
    await page.waitForFunction(
      () => Array.from(document.querySelectorAll('#node-input-rule-container .streamsafe-x-stream-rule-verdict')).every((v) => (v as HTMLElement).innerText.trim() !== ''),
      null,
      { timeout: 15000 },
    );
    const rows = await ruleRows();
    // Deploy refused the list as a whole (X creates nothing when one rule is invalid), so the
    // valid rule is not this node's yet: "valid".
    assert.match(rows[0].verdict, /^valid$/);
    assert.match(rows[1].verdict, /^invalid: .*Unbalanced parentheses/);
    const colours = await page.$$eval('#node-input-rule-container .streamsafe-x-stream-rule-verdict', (vs) => vs.map((v) => getComputedStyle(v).color));
    assert.notEqual(colours[0], colours[1], 'valid and invalid are told apart by colour');
    assert.equal((await page.innerText('#streamsafe-x-stream-validate-result')).trim(), '1 of 2 rule(s) refused');
    assert.ok(dryRuns() > dryRunsBefore, 'the editor asked X');
    assert.deepEqual(emu.rules(), before, 'nothing changes at X');
    await page.screenshot({ path: path.join(shots, 'x-stream-validate.png') });

    // Fix the rule in the dialog and ask again: both valid, and the verdicts of the last run are replaced.
    await page.fill('#node-input-rule-container li:nth-child(2) .streamsafe-x-stream-rule-value', '(kafka OR streaming) lang:en');
    await page.click('#streamsafe-x-stream-validate');
    await page.waitForFunction(() => /all 2 rule\(s\) are valid/.test(document.querySelector('#streamsafe-x-stream-validate-result')!.textContent || ''), null, { timeout: 15000 });
    assert.deepEqual((await ruleRows()).map((r) => r.verdict), ['valid', 'valid']);
    assert.deepEqual(emu.rules(), before, 'nothing changes at X');
    await page.screenshot({ path: path.join(shots, 'x-stream-validate-fixed.png') });
    await closeTray();
  });

  it('the credentials dialog keeps the bearer token in a password field', async () => {
    await page.evaluate(() => (window as any).RED.editor.editConfig('', 'streamsafe-x-credentials', 'xc'));
    await page.waitForSelector('#node-config-input-bearerToken', { state: 'visible' });
    const all = await trayAllText();
    assert.doesNotMatch(all, /streamsafe-x-credentials\./, 'no untranslated i18n key');
    const text = await trayText();
    for (const label of ['API base URL', 'Authentication', 'Bearer token', 'Request timeout']) assert.match(text, new RegExp(label));
    assert.equal(await page.inputValue('#node-config-input-baseUrl'), emu.url);
    assert.equal(await page.getAttribute('#node-config-input-bearerToken', 'type'), 'password');
    // The editor only knows that a token is set; the token itself never reaches the browser.
    const shown = await page.inputValue('#node-config-input-bearerToken');
    assert.ok(shown.length > 0, 'a token is set');
    assert.notEqual(shown, emu.bearerToken);
    assert.ok(!(await page.content()).includes(emu.bearerToken), 'the token is not in the page');
    assert.equal(await page.isVisible('#node-config-input-apiKey'), false);
    await page.screenshot({ path: path.join(shots, 'x-credentials.png') });
    // API key + secret: both in password fields, the bearer token hidden.
    await page.selectOption('#node-config-input-authType', 'keys');
    assert.equal(await page.isVisible('#node-config-input-bearerToken'), false);
    assert.equal(await page.isVisible('#node-config-input-apiKey'), true);
    assert.equal(await page.getAttribute('#node-config-input-apiKey', 'type'), 'password');
    assert.equal(await page.getAttribute('#node-config-input-apiSecret', 'type'), 'password');
    await page.screenshot({ path: path.join(shots, 'x-credentials-keys.png') });
    await closeTray();
  });

  it('the help explains tweet.fields/expansions and X\'s reconnect rules', async () => {
    await page.waitForSelector('script[data-help-name="streamsafe-x-stream"]', { state: 'attached' });
    await page.evaluate(() => (window as any).RED.sidebar.help.show('streamsafe-x-stream'));
    await page.waitForSelector('.red-ui-help >> text=Reconnecting', { timeout: 10000 });
    // textContent: the help's later sections are collapsed, not absent.
    const help = (await page.locator('.red-ui-help').allTextContents()).join('\n');
    await page.screenshot({ path: path.join(shots, 'x-stream-help.png') });
    assert.doesNotMatch(help, /streamsafe-x-stream\./, 'no untranslated i18n key');
    // The help names the author_id "expansion" but not the expansions field itself.
    assert.match(help, /expansion/);
    for (const s of ['tweet.fields', 'user.fields', 'author_id', 'matching_rules', 'dry_run=true', 'x-rate-limit-reset', 'operational-disconnect', 'searchCursor']) {
      assert.ok(help.includes(s), `help mentions ${s}`);
    }
    // X's reconnect rules: network linear, HTTP and 429 exponential, stall.
    assert.match(help, /\+250 ms per attempt, up to 16 s/);
    assert.match(help, /from 5 s, doubling, up to 320 s/);
    assert.match(help, /HTTP 429: exponential from 60 s, doubling, up to 960 s/);
    assert.match(help, /401 \/ 403: stop/);
    assert.match(help, /for 90 s: drop and reconnect/);
    assert.match(help, /persistent context store/);

    await page.evaluate(() => (window as any).RED.sidebar.help.show('streamsafe-x-credentials'));
    await page.waitForSelector('.red-ui-help >> text=credentialSecret', { timeout: 10000 });
    const credHelp = (await page.locator('.red-ui-help').allTextContents()).join('\n');
    assert.match(credHelp, /POST \/oauth2\/token/);
  });

  it('a Korean browser gets the Korean dialog and help, with no raw keys', async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, locale: 'ko-KR' });
    try {
      const ko = await context.newPage();
      await ko.goto(red.url);
      await ko.waitForFunction(() => (window as any).RED?.nodes?.node('x1') && document.querySelector('.red-ui-palette-node[data-palette-type="streamsafe-x-stream"]'), null, {
        timeout: 60000,
      });
      // Palette labels stay English in every language.
      const label = await ko.locator('.red-ui-palette-node[data-palette-type="streamsafe-x-stream"] .red-ui-palette-label').innerText();
      assert.equal(label.replace(/\s+/g, ' ').trim(), 'X stream');
      await ko.evaluate(() => (window as any).RED.editor.edit((window as any).RED.nodes.node('x1')));
      await ko.waitForSelector('#node-input-rule-container', { state: 'visible' });
      const all = await ko.locator('.red-ui-tray').last().evaluate((tray) =>
        [tray.textContent, ...Array.from(tray.querySelectorAll('input[placeholder]')).map((i) => i.getAttribute('placeholder'))].join('\n'),
      );
      assert.doesNotMatch(all, /streamsafe-x-stream\./, 'no untranslated i18n key');
      for (const text of ['소스', '필드', '전달', '재연결', '검증', '필터링 스트림 (규칙)', '큐 크기']) assert.ok(all.includes(text), `dialog shows ${text}`);
      await ko.screenshot({ path: path.join(shots, 'x-stream-ko.png') });
      await ko.evaluate(() => (window as any).RED.tray.close());
      await ko.waitForSelector('script[data-help-name="streamsafe-x-stream"]', { state: 'attached' });
      await ko.evaluate(() => (window as any).RED.sidebar.help.show('streamsafe-x-stream'));
      await ko.waitForSelector('.red-ui-help >> text=재연결', { timeout: 10000 });
      const help = (await ko.locator('.red-ui-help').allTextContents()).join('\n');
      for (const text of ['tweet.fields', 'x-rate-limit-reset', '영구 컨텍스트 저장소', '노드를 삭제하고 배포하면', '0.5초']) assert.ok(help.includes(text), `Korean help mentions ${text}`);
    } finally {
      await context.close();
    }
  });
});
