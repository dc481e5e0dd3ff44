// The X access level in Node-RED: the credentials node's `access` setting (accessLevel at run
// time), and the editors: they hold no copy of the figures or rules (both come from src/lib
// through the editor bundle, window.streamsafeEditor), and the X stream and X credentials
// validators (the built .html run here in a sandbox with a stub of the editor's RED and jQuery)
// mark what the account's level refuses, with the reason.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { getNode, helper, unloadFlow } from '../support/node-red';
import { loadXFlow } from '../support/x-nodes';
import { DEFAULT_STALL_TIMEOUT_MS } from '../../src/lib/x/access';

const root = path.resolve(__dirname, '..', '..');
const STREAM_HTML = path.join(root, 'src', 'nodes', 'x-stream', 'streamsafe-x-stream.html');
const CREDENTIALS_HTML = path.join(root, 'src', 'nodes', 'x-credentials', 'streamsafe-x-credentials.html');
const BUILT_STREAM_HTML = path.join(root, 'dist', 'nodes', 'x-stream', 'streamsafe-x-stream.html');
const BUILT_CREDENTIALS_HTML = path.join(root, 'dist', 'nodes', 'x-credentials', 'streamsafe-x-credentials.html');

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
});

describe('editors: no figure or rule of their own', () => {
  // Figures that can only be X's limits (the rule and query lengths, rule counts, request windows).
  const FIGURES = ['1024', '1,024', '2048', '2,048', '4096', '4,096', '25000', '25,000', '512', '450', '1,000'];

  for (const [name, file] of [['X stream', STREAM_HTML], ['X credentials', CREDENTIALS_HTML]]) {
    it(`${name} .html: no literal copy of an access figure; the rules come from the bundle`, () => {
      const html = fs.readFileSync(file, 'utf8');
      for (const f of FIGURES) {
        // A number on its own (not part of a longer one, nor a CSS size such as min-width: 450px).
        const literal = new RegExp(`(^|[^\\d,.])${f.replace(/[,.]/g, '\\$&')}(?![\\d,]|px)`);
        assert.doesNotMatch(html, literal, `${path.basename(file)} holds the figure ${f}`);
      }
      assert.match(html, /<!-- streamsafe:editor-bundle -->/);
      assert.match(html, /window\.streamsafeEditor\.x/);
      assert.doesNotMatch(html, /access-levels|getJSON/, 'no admin route: the table is in the bundle');
      assert.doesNotMatch(html, /\/\^\\s\*\\d\+\\s\*\$\/|TWEET_FIELDS = \[/, 'no rule or list of its own');
    });
  }

  it('X stream .html: the defaults (stall timeout: DEFAULT_STALL_TIMEOUT_MS) and the field lists come from the bundle', () => {
    const html = fs.readFileSync(STREAM_HTML, 'utf8');
    assert.match(html, /stallTimeoutMs:\s*number\('stallTimeoutMs'\)/);
    assert.match(html, /recovery:\s*\{\s*value:\s*true\s*\}/);
    assert.match(html, /id="node-input-recovery"/);
    assert.match(html, /icon: 'streamsafe-x-stream\.svg'/);
  });
});

/** The built .html's scripts (the bundle, then the node's own) run in a sandbox with a stub editor. */
function loadEditor(file: string, type: string, accounts: Record<string, Record<string, unknown>>) {
  const html = fs.readFileSync(file, 'utf8');
  const scripts = [...html.matchAll(/<script type="text\/javascript">([\s\S]*?)<\/script>/g)].map((m) => m[1]);
  assert.equal(scripts.length, 2, 'the bundle and the node script');
  let def: any;
  const RED = {
    comms: { subscribe: () => undefined },
    nodes: {
      registerType: (t: string, d: unknown) => {
        if (t === type) def = d;
      },
      node: (id: string) => accounts[id] ?? null,
      getType: () => undefined,
    },
    editor: { getEditStack: () => [] },
  };
  const sandbox: any = { RED, $: () => ({ length: 0 }), console, URL };
  sandbox.window = sandbox;
  for (const script of scripts) vm.runInNewContext(script, sandbox);
  assert.ok(def, 'registerType called');
  return def as { defaults: Record<string, { value: unknown; validate?: (this: any, v: unknown, opt?: unknown) => unknown }>; credentials?: Record<string, { validate?: (this: any, v: unknown, opt?: unknown) => unknown }> };
}

/** `_` as the editor's: here the key (without the node type) and its values, for the assertions. */
const translate = (type: string) => (key: string, o?: Record<string, unknown>) => `${key.replace(`${type}.`, '')}${o ? ' ' + JSON.stringify(o) : ''}`;

describe('X stream editor validators (the built .html, sandboxed)', () => {
  const accounts: Record<string, { access?: string }> = {};
  let def: ReturnType<typeof loadEditor>;
  before(() => {
    def = loadEditor(BUILT_STREAM_HTML, 'streamsafe-x-stream', accounts);
  });

  function node(props: Record<string, unknown>) {
    return { mode: 'filtered', account: 'acc', rules: [], _: translate('streamsafe-x-stream'), ...props };
  }
  function check(field: string, n: ReturnType<typeof node>, value: unknown = n[field as keyof typeof n]) {
    const v = def.defaults[field].validate!;
    assert.equal(v.length, 2, `${field}: a validator that can give its reason takes (value, opt)`);
    return v.call(n, value, {});
  }
  const rules = (count: number, length = 5) => Array.from({ length: count }, (_v, i) => ({ value: `${i}`.padEnd(length, 'x') }));

  it('every field but the name and the recovery checkbox has a validator; the defaults are the lib\'s', () => {
    const without = Object.entries(def.defaults).filter(([, d]) => !d.validate).map(([k]) => k);
    assert.deepEqual(without.sort(), ['name', 'recovery']);
    assert.equal(def.defaults.stallTimeoutMs.value, String(DEFAULT_STALL_TIMEOUT_MS));
    assert.equal(def.defaults.tweetFields.value, 'author_id,created_at,lang,public_metrics');
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

  it('rules: a repeat or a tag alone is refused as the runtime does; not checked outside the filtered mode; no level without an account', () => {
    accounts.acc = { access: 'pay-per-use' };
    assert.match(String(check('rules', node({ rules: [{ value: 'a' }, { value: 'a' }] }))), /^errors\.rule \{"index":2,"reason":"errors\.ruleDuplicate \{\\"first\\":1\}"\}$/);
    assert.equal(check('rules', node({ mode: 'search', rules: rules(1001) })), true);
    assert.equal(check('rules', node({ account: '', rules: rules(1001) })), true);
    assert.match(String(check('account', node({ account: '' }))), /^errors\.noAccount$/);
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

  it('manual backfill > 0 needs Enterprise; 0 is fine everywhere; over 5 is out of range', () => {
    accounts.acc = { access: 'pro' };
    assert.match(String(check('backfillMinutes', node({}), '2')), /^access\.backfill .*access\.level\.pro/);
    assert.equal(check('backfillMinutes', node({}), '0'), true);
    assert.equal(check('backfillMinutes', node({ mode: 'search' }), '2'), true);
    accounts.acc = { access: 'enterprise' };
    assert.equal(check('backfillMinutes', node({}), '5'), true);
    assert.match(String(check('backfillMinutes', node({}), '6')), /^errors\.range \{"field":"label\.backfillMinutes","value":"6","min":0,"max":5\}$/);
  });

  it('a recent-search query: needed, and no longer than the level allows', () => {
    accounts.acc = { access: 'pay-per-use' };
    assert.equal(check('query', node({ mode: 'search' }), 'q'.repeat(512)), true);
    assert.match(String(check('query', node({ mode: 'search' }), 'q'.repeat(513))), /^access\.queryTooLong .*"max":"512"/);
    assert.equal(check('query', node({ mode: 'search' }), ''), 'errors.noQuery');
    assert.equal(check('query', node({ mode: 'filtered' }), ''), true);
    accounts.acc = { access: 'enterprise' };
    assert.equal(check('query', node({ mode: 'search' }), 'q'.repeat(4096)), true);
  });

  it('numbers: the ranges of X_STREAM_NUMBERS and the reconnect settings, named by their label', () => {
    assert.equal(check('maxResults', node({}), '100'), true);
    assert.match(String(check('maxResults', node({}), '101')), /^errors\.range \{"field":"label\.maxResults","value":"101","min":10,"max":100\}$/);
    assert.equal(check('pollInterval', node({}), ''), true, 'blank: the default');
    assert.match(String(check('networkMaxMs', node({}), 'soon')), /^errors\.range /);
    assert.match(String(check('tweetFields', node({}), 'author_id,colour')), /^errors\.unknownFields \{"fields":"colour"\}$/);
    assert.match(String(check('overflow', node({}), 'block')), /^errors\.overflow /);
  });

  it('an account whose credentials node is invalid: the reason', () => {
    accounts.bad = { access: 'pro', valid: false, validationErrors: ['no bearer token is set'] } as never;
    assert.equal(check('account', node({ account: 'bad' })), 'errors.account {"reason":"no bearer token is set"}');
  });
});

describe('X credentials editor validators (the built .html, sandboxed)', () => {
  let def: ReturnType<typeof loadEditor>;
  before(() => {
    def = loadEditor(BUILT_CREDENTIALS_HTML, 'streamsafe-x-credentials', {});
  });
  const node = (props: Record<string, unknown>) => ({ authType: 'bearer', baseUrl: '', timeout: '', _: translate('streamsafe-x-credentials'), ...props });

  it('a bearer token is needed (a stored one, __PWRD__ in the dialog or has_bearerToken, counts)', () => {
    const token = def.credentials!.bearerToken.validate!;
    assert.equal(token.length, 2);
    assert.equal(token.call(node({}), '', {}), 'errors.noToken');
    assert.equal(token.call(node({}), '__PWRD__', {}), true);
    assert.equal(token.call(node({}), 'AAAA', {}), true);
    assert.equal(token.call(node({ authType: 'keys' }), '', {}), true, 'not with API keys');
    const key = def.credentials!.apiSecret.validate!;
    assert.equal(key.call(node({ authType: 'keys' }), '', {}), 'errors.noSecret');
    // Outside the dialog the node itself is invalid (authType carries it), when its secrets are known.
    const auth = def.defaults.authType.validate!;
    assert.equal(auth.call(node({ credentials: { has_bearerToken: false } }), 'bearer', {}), 'errors.noToken');
    assert.equal(auth.call(node({ credentials: { has_bearerToken: true } }), 'bearer', {}), true);
    assert.equal(auth.call(node({}), 'bearer', {}), true, 'secrets not loaded: not judged');
  });

  it('base URL an http(s) URL; timeout a whole number in range; access a known level', () => {
    const url = def.defaults.baseUrl.validate!;
    assert.equal(url.call(node({}), 'https://api.x.com', {}), true);
    assert.equal(url.call(node({}), '', {}), true);
    assert.equal(url.call(node({}), 'ftp://x', {}), 'errors.notHttp {"protocol":"ftp:"}');
    assert.equal(url.call(node({}), 'not a url', {}), 'errors.notUrl {"value":"not a url"}');
    assert.equal(def.defaults.timeout.validate!.call(node({}), '0', {}), 'errors.timeout {"value":"0","min":1,"max":600000}');
    assert.equal(def.defaults.timeout.value, '15000');
    assert.equal(def.defaults.access.validate!.call(node({}), 'gold', {}), 'warn.unknownAccess {"value":"gold","level":"pay-per-use"}');
  });
});
