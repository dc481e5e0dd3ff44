// The X access level in Node-RED: the credentials node's `access` setting (accessLevel at run
// time), the admin route that serves lib/x/access.ts's table to the editor, and the editors
// themselves: they hold no copy of the figures, and the X stream editor's validators (run here in a
// sandbox with a stub of the editor's RED and jQuery) mark what the account's level refuses.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { getNode, helper, unloadFlow } from '../support/node-red';
import { loadXFlow, xCredentialsNode } from '../support/x-nodes';
import { ACCESS_LEVELS, DEFAULT_STALL_TIMEOUT_MS, X_ACCESS, X_STREAM_KEEPALIVE_MS } from '../../src/lib/x/access';

const root = path.resolve(__dirname, '..', '..');
const STREAM_HTML = path.join(root, 'src', 'nodes', 'x-stream', 'streamsafe-x-stream.html');
const CREDENTIALS_HTML = path.join(root, 'src', 'nodes', 'x-credentials', 'streamsafe-x-credentials.html');

before(async () => {
  await new Promise<void>((resolve) => helper.startServer(resolve));
});
after(async () => {
  await unloadFlow();
  await new Promise<void>((resolve) => helper.stopServer(resolve));
});

function account(id: string, access?: unknown) {
  return { id, type: 'streamsafe-x-credentials', z: '', baseUrl: 'http://127.0.0.1:9', authType: 'bearer', timeout: '5000', ...(access === undefined ? {} : { access }) };
}

async function loadAccounts(nodes: unknown[]) {
  const creds = Object.fromEntries((nodes as Array<{ id: string }>).map((n) => [n.id, { bearerToken: 'token' }]));
  await loadXFlow([{ id: 'tab', type: 'tab', label: 'x' }, ...nodes], creds);
}

describe('X credentials node: access level', () => {
  it('exposes accessLevel: the chosen level; none or unknown is pay-per-use (an unknown one is warned about)', async () => {
    await loadAccounts([account('a1', 'enterprise'), account('a2', 'basic'), account('a3', 'pro'), account('a4', 'pay-per-use'), account('a5'), account('a6', 'gold')]);
    assert.equal(getNode('a1').accessLevel, 'enterprise');
    assert.equal(getNode('a2').accessLevel, 'basic');
    assert.equal(getNode('a3').accessLevel, 'pro');
    assert.equal(getNode('a4').accessLevel, 'pay-per-use');
    assert.equal(getNode('a5').accessLevel, 'pay-per-use');
    assert.equal(getNode('a6').accessLevel, 'pay-per-use');
    // The rest of the node is untouched by the new setting.
    assert.equal(getNode('a1').settingsError, undefined);
    assert.equal(typeof getNode('a1').createClient, 'function');
    const warnings = helper
      .log()
      .args.filter((a: any[]) => a[0].level === helper.log().WARN)
      .map((a: any[]) => String(a[0].msg));
    assert.ok(warnings.some((w: string) => w.includes('Unknown X access level "gold": pay-per-use assumed')), warnings.join('\n'));
    assert.equal(warnings.filter((w: string) => w.includes('Unknown X access level')).length, 1, warnings.join('\n'));
    await unloadFlow();
  });

  it('GET /streamsafe-x-credentials/access-levels answers the table of lib/x/access.ts', async () => {
    await loadAccounts([account('a1')]);
    const res = await helper.request().get('/streamsafe-x-credentials/access-levels').expect(200).expect('Content-Type', /json/);
    assert.deepEqual(res.body.limits, JSON.parse(JSON.stringify(X_ACCESS)));
    assert.deepEqual(res.body.levels, [...ACCESS_LEVELS]);
    assert.equal(res.body.defaultLevel, 'pay-per-use');
    assert.equal(res.body.defaultStallTimeoutMs, DEFAULT_STALL_TIMEOUT_MS);
    assert.equal(res.body.keepAliveMs, X_STREAM_KEEPALIVE_MS);
    assert.equal(res.body.maxBackfillMinutes, 5);
    assert.deepEqual(Object.keys(res.body.recoveryReachMs), ['backfill', 'recovery', 'search']);
    await unloadFlow();
  });
});

describe('editors: the figures come from the route only', () => {
  // Figures that can only be X's limits (the rule and query lengths, rule counts, request windows).
  const FIGURES = ['1024', '1,024', '2048', '2,048', '4096', '4,096', '25000', '25,000', '512', '450', '1,000'];

  for (const [name, file] of [['X stream', STREAM_HTML], ['X credentials', CREDENTIALS_HTML]]) {
    it(`${name} .html: no literal copy of an access figure; reads the route`, () => {
      const html = fs.readFileSync(file, 'utf8');
      for (const f of FIGURES) {
        // A number on its own (not part of a longer one, nor a CSS size such as min-width: 450px).
        const literal = new RegExp(`(^|[^\\d,.])${f.replace(/[,.]/g, '\\$&')}(?![\\d,]|px)`);
        assert.doesNotMatch(html, literal, `${path.basename(file)} holds the figure ${f}`);
      }
      assert.match(html, /streamsafe-x-credentials\/access-levels/);
    });
  }

  it('X stream .html: the stall timeout default is DEFAULT_STALL_TIMEOUT_MS', () => {
    const html = fs.readFileSync(STREAM_HTML, 'utf8');
    const m = /stallTimeoutMs:\s*\{\s*value:\s*'(\d+)'/.exec(html);
    assert.ok(m, 'stallTimeoutMs default');
    assert.equal(Number(m[1]), DEFAULT_STALL_TIMEOUT_MS);
    assert.match(html, /id="node-input-stallTimeoutMs" placeholder="90000"/);
    assert.match(html, /recovery:\s*\{\s*value:\s*true\s*\}/);
    assert.match(html, /id="node-input-recovery"/);
  });
});

describe('X stream editor validators (sandboxed, against the route\'s table)', () => {
  type Def = { defaults: Record<string, { value: unknown; validate?: (this: any, v: unknown, opt?: unknown) => unknown }> };
  let def: Def;
  const accounts: Record<string, { access?: string }> = {};
  const revalidated: string[] = [];

  before(async () => {
    await loadAccounts([account('a1')]);
    const table = (await helper.request().get('/streamsafe-x-credentials/access-levels').expect(200)).body;
    await unloadFlow();
    const html = fs.readFileSync(STREAM_HTML, 'utf8');
    const script = /<script type="text\/javascript">([\s\S]*?)<\/script>/.exec(html)![1];
    const resolved = { then: (ok: (t: unknown) => void) => (ok(table), resolved), fail: () => resolved };
    const jq: any = () => ({ length: 0 });
    jq.getJSON = (url: string) => {
      assert.equal(url, 'streamsafe-x-credentials/access-levels');
      return resolved;
    };
    const RED = {
      nodes: {
        registerType: (type: string, d: Def) => {
          if (type === 'streamsafe-x-stream') def = d;
        },
        node: (id: string) => accounts[id] ?? null,
        eachNode: (fn: (n: { type: string; id: string }) => void) => fn({ type: 'streamsafe-x-stream', id: 'loaded' }),
      },
      editor: { getEditStack: () => [], validateNode: (n: { id: string }) => revalidated.push(n.id) },
      view: { redraw: () => undefined },
    };
    const sandbox: any = { RED, $: jq, console };
    sandbox.window = sandbox;
    vm.runInNewContext(script, sandbox);
    assert.ok(def, 'registerType called');
  });

  /** A node as the editor has it; `_` returns the key and its parameters, for the assertions. */
  function node(props: Record<string, unknown>) {
    return { mode: 'filtered', account: 'acc', rules: [], _: (key: string, o?: Record<string, unknown>) => `${key.replace('streamsafe-x-stream.', '')}${o ? ' ' + JSON.stringify(o) : ''}`, ...props };
  }
  function check(field: string, n: ReturnType<typeof node>, value: unknown = n[field as keyof typeof n]) {
    const v = def.defaults[field].validate!;
    assert.equal(v.length, 2, `${field}: a validator that can give its reason takes (value, opt)`);
    return v.call(n, value, {});
  }
  const rules = (count: number, length = 5) => Array.from({ length: count }, (_v, i) => ({ value: `${i}`.padEnd(length, 'x') }));

  it('revalidates the flow once the table has arrived', () => {
    assert.deepEqual(revalidated, ['loaded']);
  });

  it('pay-per-use (also an account without `access`): 1,000 rules pass, 1,001 do not; a rule of 1,025 characters does not', () => {
    for (const access of ['pay-per-use', undefined]) {
      accounts.acc = { access };
      assert.equal(check('rules', node({ rules: rules(1000) })), true);
      const many = check('rules', node({ rules: rules(1001) }));
      assert.match(String(many), /^access\.tooManyRules /);
      assert.match(String(many), /"index":"1,001","count":"1,001","level":"access\.level\.pay-per-use","max":"1,000"/);
      const long = check('rules', node({ rules: [{ value: 'x'.repeat(1025) }] }));
      assert.match(String(long), /^access\.ruleTooLong .*"length":"1,025".*"max":"1,024"/);
      assert.equal(check('rules', node({ rules: [{ value: 'x'.repeat(1024) }] })), true);
    }
  });

  it('Enterprise: 2,048 characters, no rule count of its own', () => {
    accounts.acc = { access: 'enterprise' };
    assert.equal(check('rules', node({ rules: [{ value: 'x'.repeat(2048) }] })), true);
    assert.match(String(check('rules', node({ rules: [{ value: 'x'.repeat(2049) }] }))), /"max":"2,048"/);
    assert.equal(check('rules', node({ rules: rules(1500) })), true);
  });

  it('rules are not checked outside the filtered mode, nor without an account', () => {
    accounts.acc = { access: 'pay-per-use' };
    assert.equal(check('rules', node({ mode: 'search', rules: rules(1001) })), true);
    assert.equal(check('rules', node({ account: '', rules: rules(1001) })), true);
  });

  it('sample mode needs Enterprise; filtered mode is refused on Basic', () => {
    accounts.acc = { access: 'pay-per-use' };
    assert.match(String(check('mode', node({ mode: 'sample' }))), /^access\.sample .*access\.level\.pay-per-use/);
    assert.equal(check('mode', node({ mode: 'filtered' })), true);
    accounts.acc = { access: 'enterprise' };
    assert.equal(check('mode', node({ mode: 'sample' })), true);
    accounts.acc = { access: 'basic' };
    assert.match(String(check('mode', node({ mode: 'filtered' }))), /^access\.noFilteredStream /);
    assert.equal(check('mode', node({ mode: 'search' })), true);
  });

  it('manual backfill > 0 needs Enterprise; 0 is fine everywhere; over 5 is refused', () => {
    accounts.acc = { access: 'pro' };
    assert.match(String(check('backfillMinutes', node({}), '2')), /^access\.backfill .*access\.level\.pro/);
    assert.equal(check('backfillMinutes', node({}), '0'), true);
    assert.equal(check('backfillMinutes', node({ mode: 'search' }), '2'), true);
    accounts.acc = { access: 'enterprise' };
    assert.equal(check('backfillMinutes', node({}), '5'), true);
    assert.equal(check('backfillMinutes', node({}), '6'), false);
  });

  it('a recent-search query longer than the level allows', () => {
    accounts.acc = { access: 'pay-per-use' };
    assert.equal(check('query', node({ mode: 'search' }), 'q'.repeat(512)), true);
    assert.match(String(check('query', node({ mode: 'search' }), 'q'.repeat(513))), /^access\.queryTooLong .*"max":"512"/);
    assert.equal(check('query', node({ mode: 'search' }), ''), false);
    assert.equal(check('query', node({ mode: 'filtered' }), ''), true);
    accounts.acc = { access: 'enterprise' };
    assert.equal(check('query', node({ mode: 'search' }), 'q'.repeat(4096)), true);
  });
});
