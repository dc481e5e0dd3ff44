// The producer and broker dialogs' validators as the editor runs them: the built .html
// (dist/, with the src/lib bundle) evaluated in a sandbox with a stub of the editor's RED
// and jQuery. A validator gets (value, opt), reads the other fields from the open dialog
// when it is that node's (else from the node), and returns true or the reason translated
// with the node's catalogue (en-US, ko): Node-RED then marks the field and the deploy
// warns of an invalid node.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';

const dist = path.resolve(__dirname, '..', '..', 'dist', 'nodes');

type Validator = (this: unknown, v: unknown, opt?: unknown) => unknown;
type Def = { defaults: Record<string, { value: unknown; validate?: Validator }>; credentials?: Record<string, { validate?: Validator }> };

function catalog(type: string, lang: string) {
  const folder = type.replace('streamsafe-', '');
  return JSON.parse(fs.readFileSync(path.join(dist, folder, 'locales', lang, `${type}.json`), 'utf8'));
}

/** node._ as the editor has it: the catalogue of `lang`, __name__ interpolated. */
function translator(type: string, lang: string) {
  const messages = catalog(type, lang);
  return (key: string, values: Record<string, unknown> = {}) => {
    const text = key.split('.').reduce((o: any, k) => (o == null ? o : o[k]), messages);
    if (typeof text !== 'string') return key;
    return text.replace(/__(\w+)__/g, (_m: string, name: string) => String(values[name] ?? `__${name}__`));
  };
}

/**
 * Loads a built editor .html in a sandbox. `dialog` holds the open dialog's inputs (by id)
 * and `stack` the nodes being edited.
 */
function loadEditor(type: string) {
  const html = fs.readFileSync(path.join(dist, type.replace('streamsafe-', ''), `${type}.html`), 'utf8');
  const scripts = [...html.matchAll(/<script type="text\/javascript">([\s\S]*?)<\/script>/g)].map((m) => m[1]);
  assert.equal(scripts.length, 2, 'the lib bundle, then the node definition');
  const defs: Record<string, Def> = {};
  const dialog: Record<string, { value: unknown; checkbox?: boolean }> = {};
  const stack: unknown[] = [];
  const nodes: Record<string, unknown> = {};
  const jq: any = (selector: string) => {
    const id = /^#(.+)$/.exec(selector)?.[1];
    const input = id ? dialog[id] : undefined;
    if (!input) return { length: 0, attr: () => undefined, val: () => undefined, is: () => false };
    return {
      length: 1,
      attr: (name: string) => (name === 'type' && input.checkbox ? 'checkbox' : undefined),
      is: (what: string) => what === ':checked' && input.value === true,
      prop: (name: string) => (name === 'checked' ? input.value === true : undefined),
      val: () => input.value,
    };
  };
  jq.fn = {};
  const RED = {
    nodes: { registerType: (t: string, d: Def) => (defs[t] = d), node: (id: string) => nodes[id] ?? null },
    editor: { getEditStack: () => [...stack] },
    comms: { subscribe: () => undefined },
    view: { redrawStatus: () => undefined },
  };
  const sandbox: any = { RED, $: jq, console };
  sandbox.window = sandbox;
  for (const s of scripts) vm.runInNewContext(s, sandbox);
  assert.ok(defs[type], `${type} registered`);
  return { def: defs[type], dialog, stack, nodes, window: sandbox };
}

function validate(def: Def, field: string, node: unknown, value: unknown): unknown {
  const v = (def.defaults[field] ?? def.credentials?.[field])!.validate!;
  assert.equal(v.length, 2, `${field}: a validator that gives its reason takes (value, opt)`);
  return v.call(node, value, {});
}

describe('producer dialog validators', () => {
  const { def, dialog, stack, window } = loadEditor('streamsafe-kafka-producer');
  const rules = window.streamsafeEditor.producer;
  const fields = Object.keys(def.defaults);
  const nodeOf = (props: Record<string, unknown>, lang = 'en-US') => {
    const n: Record<string, unknown> = { type: 'streamsafe-kafka-producer', _: translator('streamsafe-kafka-producer', lang) };
    for (const f of fields) n[f] = def.defaults[f].value;
    return Object.assign(n, props);
  };
  const all = (n: Record<string, unknown>) => Object.fromEntries(fields.filter((f) => def.defaults[f].validate).map((f) => [f, validate(def, f, n, n[f])]));

  it('every field but name and broker has a validator; the defaults are the lib\'s and pass', () => {
    for (const f of fields) if (f !== 'name' && f !== 'broker') assert.equal(typeof def.defaults[f].validate, 'function', f);
    for (const f of rules.OPTION_FIELDS) assert.equal(def.defaults[f].value, rules.DEFAULTS[f], f);
    assert.equal(def.defaults.retries.value, '2147483647');
    assert.equal(def.defaults.idempotence.value, true);
    for (const [f, r] of Object.entries(all(nodeOf({})))) assert.equal(r, true, f);
  });

  it('acks 1 with idempotence on: acks and idempotence are refused with the translated reason', () => {
    const r = all(nodeOf({ acks: '1' }));
    assert.equal(r.acks, 'Idempotence needs acks all (acks is 1): set acks to all, or turn idempotence off');
    assert.equal(r.idempotence, r.acks);
    for (const [f, v] of Object.entries(r)) if (f !== 'acks' && f !== 'idempotence') assert.equal(v, true, f);
    assert.equal(all(nodeOf({ acks: '1', idempotence: false })).acks, true);
  });

  it('in Korean', () => {
    const r = all(nodeOf({ acks: '0' }, 'ko'));
    assert.equal(r.acks, '멱등성을 쓰려면 acks가 all이어야 합니다 (현재 acks 0): acks를 all로 바꾸거나 멱등성을 끄세요');
    assert.match(String(all(nodeOf({ deliveryTimeoutMs: '1000' }, 'ko')).deliveryTimeoutMs), /^delivery\.timeout\.ms \(1000\)는 linger\.ms \+ request\.timeout\.ms \(5 \+ 30000 = 30005\) 이상이어야 합니다$/);
  });

  it('each cross-field rule marks its fields', () => {
    const marked = (props: Record<string, unknown>) => Object.entries(all(nodeOf(props))).filter(([, v]) => v !== true).map(([f]) => f).sort();
    assert.deepEqual(marked({ retries: '0' }), ['idempotence', 'retries']);
    assert.deepEqual(marked({ maxInFlight: '6' }), ['idempotence', 'maxInFlight']);
    assert.deepEqual(marked({ retryBackoffMs: '5000' }), ['retryBackoffMaxMs', 'retryBackoffMs']);
    assert.deepEqual(marked({ deliveryTimeoutMs: '1000' }), ['deliveryTimeoutMs', 'lingerMs', 'requestTimeoutMs']);
    assert.deepEqual(marked({ bufferMemory: '12' }), ['bufferMemory']);
    assert.deepEqual(marked({ lingerMs: 'soon' }), ['lingerMs']);
    assert.deepEqual(marked({ topic: 'bad topic' }), ['topic']);
    assert.deepEqual(marked({ metricsInterval: 'x' }), ['metricsInterval']);
    assert.deepEqual(marked({ compression: 'brotli' }), ['compression']);
  });

  it('in the open dialog, the other fields are read from it (the typed acks, not the saved one)', () => {
    const n = nodeOf({ acks: 'all' });
    for (const f of fields) dialog[`node-input-${f}`] = { value: n[f], checkbox: f === 'idempotence' };
    dialog['node-input-acks'].value = '1';
    stack.push(n);
    try {
      // Validating idempotence (its own value: true) sees acks 1 in the dialog.
      assert.match(String(validate(def, 'idempotence', n, true)), /^Idempotence needs acks all \(acks is 1\)/);
      dialog['node-input-idempotence'].value = false;
      assert.equal(validate(def, 'acks', n, '1'), true);
    } finally {
      stack.length = 0;
    }
    // Outside the dialog, the node's own values count.
    assert.equal(validate(def, 'idempotence', n, true), true);
  });

  it('values from the flow reach the reason as text, not HTML', () => {
    assert.equal(validate(def, 'acks', nodeOf({}), '<img src=x>'), 'acks must be 0, 1 or all, not "&lt;img src=x&gt;"');
  });
});

describe('broker dialog validators', () => {
  const { def, dialog, stack } = loadEditor('streamsafe-kafka-broker');
  const fields = Object.keys(def.defaults);
  const nodeOf = (props: Record<string, unknown>, lang = 'en-US') => {
    const n: Record<string, unknown> = { type: 'streamsafe-kafka-broker', _: translator('streamsafe-kafka-broker', lang) };
    for (const f of fields) n[f] = def.defaults[f].value;
    return Object.assign(n, props);
  };

  it('the defaults pass; blank and bad broker lists are refused with the reason', () => {
    for (const f of fields) if (def.defaults[f].validate) assert.equal(validate(def, f, nodeOf({}), def.defaults[f].value), true, f);
    assert.equal(validate(def, 'brokers', nodeOf({}), ''), 'List at least one broker as host:port');
    assert.equal(validate(def, 'brokers', nodeOf({}), 'a:1, kafka'), '"kafka" is not host:port (a port from 1 to 65535)');
    assert.equal(validate(def, 'brokers', nodeOf({}, 'ko'), 'kafka:0'), '"kafka:0"는 host:port 형식이 아닙니다 (포트는 1~65535)');
  });

  it('timeouts and client id: ranges, named by their translated label', () => {
    assert.equal(validate(def, 'connectionTimeout', nodeOf({}), '0'), 'Connect timeout: from 1 to 2147483647 ms (is 0)');
    assert.equal(validate(def, 'requestTimeout', nodeOf({}, 'ko'), '1.5'), '요청 타임아웃: 밀리초 단위 정수여야 합니다 ("1.5" 아님)');
    assert.equal(validate(def, 'clientId', nodeOf({}), 'a\nb'), 'The client id must not contain control characters (newline, tab, ...)');
  });

  it('SASL needs a username and a password: in the dialog the empty one is marked, and the mechanism', () => {
    const n = nodeOf({ saslMechanism: 'scram-sha-512' });
    for (const f of fields) dialog[`node-config-input-${f}`] = { value: n[f], checkbox: f === 'usetls' };
    dialog['node-config-input-username'] = { value: 'user' };
    dialog['node-config-input-password'] = { value: '' };
    stack.push(n);
    try {
      assert.equal(validate(def, 'password', n, ''), 'SASL SCRAM-SHA-512 needs a password');
      assert.equal(validate(def, 'saslMechanism', n, 'scram-sha-512'), 'SASL SCRAM-SHA-512 needs a password');
      assert.equal(validate(def, 'username', n, 'user'), true);
      // A stored password shows as Node-RED's placeholder.
      dialog['node-config-input-password'].value = '__PWRD__';
      assert.equal(validate(def, 'saslMechanism', n, 'scram-sha-512'), true);
      dialog['node-config-input-saslMechanism'].value = 'none';
      dialog['node-config-input-username'].value = '';
      assert.equal(validate(def, 'username', n, ''), true);
    } finally {
      stack.length = 0;
    }
    // Outside the dialog: judged from the credentials the editor has, not judged without them.
    assert.equal(validate(def, 'saslMechanism', nodeOf({}), 'plain'), true);
    assert.equal(validate(def, 'saslMechanism', nodeOf({ credentials: { username: 'u', has_password: false } }), 'plain'), 'SASL PLAIN needs a password');
    assert.equal(validate(def, 'saslMechanism', nodeOf({ credentials: { username: 'u', has_password: true } }), 'plain'), true);
  });
});
