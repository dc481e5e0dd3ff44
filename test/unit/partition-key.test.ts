// The partition key node's logic (src/lib/kafka/partition-key.ts) without
// Node-RED: settings, placing keys with a fixed or broker count (a scripted
// admin behind a real TopicMetadataCache), msg order while a count is looked
// up, refresh, null and bad keys, close, and the status throttle on a manual
// clock. The node itself, on a real broker, is in test/nodes/partition-key.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/lib/common/clock';
import { KeyError } from '../../src/lib/kafka/key';
import { keyToBytes, murmur2, partitionForKey } from '../../src/lib/kafka/murmur2';
import {
  invalidStatus,
  KeyPartitioner,
  PartitionKeyError,
  STATUS_INTERVAL_MS,
  partitionKeySettings,
  readPath,
  type KeyReader,
  type PartitionKeyMsg,
} from '../../src/lib/kafka/partition-key';
import { partitionKeyProblems, type PartitionKeyConfig } from '../../src/lib/kafka/partition-key-settings';
import { renderMessage, renderStatus, STATUS_MAX_CHARS, type NodeStatus } from '../../src/lib/common/status-message';
import { catalogue } from './catalogue';
import { TopicMetadataCache, UnknownTopicError, type MetadataAdmin } from '../../src/lib/kafka/topic-metadata';

/** Translation that shows the catalogue key and its parameters, so tests see what was asked for. */
const t = (key: string, subs?: Record<string, string | number>) => (subs ? `${key} ${JSON.stringify(subs)}` : key);
const en = catalogue('en-US', 'streamsafe-partition-key');
const ko = catalogue('ko', 'streamsafe-partition-key');
/** What node.status() got, without the message the editor renders again (asserted on its own). */
const plain = (s: NodeStatus | undefined) => (s && 'fill' in s ? { fill: s.fill, shape: s.shape, text: s.text } : s);

/** An admin whose topics the test sets; with `hold`, answers wait for release(). */
class ScriptedAdmin implements MetadataAdmin {
  counts = new Map<string, number>();
  requests: string[] = [];
  hold = false;
  private held: Array<() => void> = [];
  async connect(): Promise<void> {}
  async disconnect(): Promise<void> {}
  async fetchTopicMetadata({ topics }: { topics: string[] }) {
    this.requests.push(topics.join(','));
    if (this.hold) await new Promise<void>((resolve) => this.held.push(resolve));
    return {
      topics: topics.filter((name) => this.counts.has(name)).map((name) => ({ name, partitions: Array.from({ length: this.counts.get(name)! }) })),
    };
  }
  release(): void {
    for (const resolve of this.held.splice(0)) resolve();
  }
}

/** Lets the promise chains of a lookup run to their end. */
const settle = async () => {
  for (let i = 0; i < 10; i++) await new Promise<void>((resolve) => setImmediate(resolve));
};

interface Outcome {
  msg: PartitionKeyMsg;
  sent: boolean;
  error?: Error;
}

function rig(config: PartitionKeyConfig, options: { readKey?: KeyReader; admin?: ScriptedAdmin; clock?: ManualClock } = {}) {
  const statuses: NodeStatus[] = [];
  const warnings: string[] = [];
  const errors: unknown[] = [];
  const outcomes: Outcome[] = [];
  const clock = options.clock ?? new ManualClock();
  const admin = options.admin ?? new ScriptedAdmin();
  const metadata = new TopicMetadataCache(() => admin);
  const settings = partitionKeySettings(config, t);
  const partitioner = new KeyPartitioner({
    settings,
    readKey: options.readKey ?? ((msg, cb) => cb(null, readPath(msg, settings.key.expression.split('.')))),
    t,
    status: (s) => statuses.push(s),
    warn: (text) => warnings.push(text),
    error: (e) => errors.push(e),
    metadata: settings.partitions.from === 'broker' ? metadata : undefined,
    clock,
  });
  /** Sends msgs in; each outcome is recorded in the order send/done happen. */
  const receive = (...msgs: PartitionKeyMsg[]) => {
    for (const msg of msgs) {
      const outcome: Outcome = { msg, sent: false };
      partitioner.receive(
        msg,
        () => {
          outcome.sent = true;
        },
        (err) => {
          outcome.error = err;
          outcomes.push(outcome);
        },
      );
    }
  };
  return { partitioner, receive, outcomes, statuses, warnings, errors, clock, admin, metadata };
}

const expected = (key: unknown, n: number) => partitionForKey(keyToBytes(key as never), n);

describe('partition key settings', () => {
  it('defaults to msg.key, passing keyless msgs on, and checks every setting with a translated reason', () => {
    const s = partitionKeySettings({ partitions: '12' }, t);
    assert.deepEqual(s, { key: { type: 'msg', expression: 'key', label: 'msg.key' }, passWithoutKey: true, outputHash: false, partitions: { from: 'fixed', count: 12 } });
    assert.deepEqual(partitionKeySettings({ key: ' msg.payload.id ', partitions: 3 }, t).key, { type: 'msg', expression: 'payload.id', label: 'msg.payload.id' });
    assert.deepEqual(partitionKeySettings({ key: 'author', keyType: 'flow', partitions: 3 }, t).key.label, 'flow.author');
    const broker = partitionKeySettings({ partitionsFrom: 'broker', broker: 'b1', topic: ' tweets ', nullKey: 'error', outputHash: 'true' }, t);
    assert.deepEqual(broker.partitions, { from: 'broker', topic: 'tweets', maxAgeMs: 300000 });
    assert.equal(broker.passWithoutKey, false);
    assert.equal(broker.outputHash, true);

    const refused: Array<[PartitionKeyConfig, RegExp]> = [
      [{ keyType: 'env', partitions: 3 }, /^errors\.keyType \{"type":"env"\}$/],
      [{ key: ' ', keyType: 'jsonata', partitions: 3 }, /^errors\.keyMissing$/],
      [{ partitions: '0' }, /^errors\.partitions \{"value":"0"\}$/],
      [{ partitions: 'twelve' }, /errors\.partitions/],
      [{ partitions: '2147483648' }, /errors\.partitions/],
      [{ partitions: 1.5 }, /errors\.partitions/],
      [{}, /^errors\.partitions \{"value":""\}$/],
      [{ partitionsFrom: 'broker', broker: 'b1', metadataMaxAgeMs: '-1' }, /^errors\.maxAge \{"value":"-1"\}$/],
      [{ partitionsFrom: 'broker', broker: 'b1', topic: 'bad topic' }, /illegal/],
    ];
    for (const [config, re] of refused) {
      assert.throws(() => partitionKeySettings(config, t), (e: Error) => e instanceof PartitionKeyError && re.test(e.message), JSON.stringify(config));
    }
  });

  it('every problem on its field (the rules the editor runs), in the user\'s language', () => {
    const problems = (config: PartitionKeyConfig, t2 = en) => partitionKeyProblems(config).map((p) => [p.field, renderMessage(p.message, t2)]);
    assert.deepEqual(problems({ partitions: '12' }), []);
    assert.deepEqual(problems({ partitionsFrom: 'broker', broker: 'b1', topic: '' }), [], 'the count is not read from a broker source');
    assert.deepEqual(problems({ keyType: 'env', nullKey: 'drop', partitionsFrom: 'zookeeper' }), [
      ['keyType', 'Unknown key type "env": use msg, flow, global or jsonata'],
      ['nullKey', 'Unknown "no key" setting "drop": use pass or error'],
      ['partitionsFrom', 'Unknown partition source "zookeeper": use fixed or broker'],
    ]);
    assert.deepEqual(problems({ key: '', keyType: 'flow', partitions: '0' }).map((p) => p[0]), ['key', 'partitions']);
    assert.deepEqual(problems({ partitionsFrom: 'broker', broker: '_ADD_', topic: 'a b', metadataMaxAgeMs: 'soon' }).map((p) => p[0]), ['broker', 'topic', 'metadataMaxAgeMs']);
    // The topic rule is Kafka's own (record.ts topicNameProblem), inside a translated sentence.
    assert.match(problems({ partitionsFrom: 'broker', broker: 'b1', topic: 'a b' }, ko)[0][1], /^Kafka 토픽 이름이 아닙니다: Topic name "a b" is illegal/);
    assert.deepEqual(problems({ partitions: '0' }, ko), [['partitions', '파티션 수는 1부터 2147483647 사이의 정수여야 합니다. 입력값: "0"']]);
  });

  it('the status of a refused node carries the short reason, clipped', () => {
    const s = invalidStatus({ key: 'errors.partitions', values: { value: 'x'.repeat(80) } }, en);
    assert.equal(s.fill, 'red');
    assert.equal(s.text!.length, STATUS_MAX_CHARS);
    assert.ok(s.text!.startsWith('invalid: The partition count must be a whole number'));
    assert.ok(renderStatus(s.i18n!, ko).startsWith('잘못된 설정: '));
  });
});

describe('KeyPartitioner: statuses in the user\'s language', () => {
  it('partition N/M of the topic (not "broker: <topic>"), or of the fixed count; en-US and ko from the real catalogues', async () => {
    const admin = new ScriptedAdmin();
    admin.counts.set('tweets', 6);
    const statuses: NodeStatus[] = [];
    const settings = partitionKeySettings({ partitionsFrom: 'broker', broker: 'b1', topic: 'tweets' }, en);
    const clock = new ManualClock();
    const p = new KeyPartitioner({ settings, readKey: (_m, cb) => cb(null, 'k'), t: en, status: (x) => statuses.push(x), warn() {}, error() {}, metadata: new TopicMetadataCache(() => admin), clock });
    p.receive({}, () => undefined, () => undefined);
    await settle();
    clock.advance(STATUS_INTERVAL_MS); // past the status throttle ("reading the partitions of tweets" came first)
    const last = statuses.at(-1)!;
    const n = expected('k', 6);
    assert.equal(last.text, `partition ${n}/6 of tweets`);
    assert.equal(renderStatus(last.i18n!, ko), `tweets의 파티션 ${n}/6`);
    p.close();

    const fixed: NodeStatus[] = [];
    const f = new KeyPartitioner({ settings: partitionKeySettings({ partitions: 6 }, en), readKey: (_m, cb) => cb(null, 'k'), t: en, status: (x) => fixed.push(x), warn() {}, error() {} });
    assert.equal(fixed[0].text, '6 partitions (fixed)');
    f.receive({}, () => undefined, () => undefined);
    assert.equal(fixed.at(-1)!.text, `partition ${n}/6 (fixed count)`);
    assert.equal(renderStatus(fixed.at(-1)!.i18n!, ko), `파티션 ${n}/6 (고정 개수)`);
    f.close();
  });

  it('a failure: red, the reason translated where it is ours, clipped to the status width', () => {
    const statuses: NodeStatus[] = [];
    const f = new KeyPartitioner({ settings: partitionKeySettings({ key: 'payload.id', partitions: 6, nullKey: 'error' }, en), readKey: (_m, cb) => cb(null, undefined), t: en, status: (x) => statuses.push(x), warn() {}, error() {} });
    f.receive({}, () => undefined, () => undefined);
    const last = statuses.at(-1)!;
    assert.equal(last.fill, 'red');
    assert.equal(last.text, 'failed: No key: msg.payload.id is missing');
    assert.equal(renderStatus(last.i18n!, ko), `실패: ${ko('errors.noKey', { key: 'msg.payload.id', value: 'missing' })}`.slice(0, STATUS_MAX_CHARS));
    f.close();
  });
});

describe('KeyPartitioner: fixed partition count', () => {
  it('places keys of every type, sets msg.key (the hashed bytes) and msg.murmur2, and removes refreshPartitions', () => {
    const r = rig({ partitions: '12', outputHash: true });
    const keys: unknown[] = ['21', 'foobar', '카프카', 21, -2.75, true, 7n, { id: '1' }, [1, 'two'], Buffer.from([0, 0xff]), Uint8Array.from([9, 8])];
    r.receive(...keys.map((key, i) => ({ key, payload: i, refreshPartitions: true })));
    assert.equal(r.outcomes.length, keys.length, 'all placed synchronously');
    for (const [i, o] of r.outcomes.entries()) {
      assert.equal(o.error, undefined);
      assert.equal(o.sent, true);
      assert.equal(o.msg.payload, i);
      const bytes = keyToBytes(keys[i] as never);
      assert.equal(o.msg.partition, partitionForKey(bytes, 12));
      assert.equal(o.msg.murmur2, murmur2(bytes));
      assert.equal('refreshPartitions' in o.msg, false);
    }
    assert.equal(r.outcomes[0].msg.murmur2, -973932308, "Kafka's UtilsTest vector for '21'");
    assert.equal(r.outcomes[3].msg.key, 21, 'a number stays a number');
    assert.equal(r.outcomes[3].msg.partition, r.outcomes[0].msg.partition, 'number 21 = string "21"');
    assert.equal(r.outcomes[5].msg.key, 'true');
    assert.equal(r.outcomes[6].msg.key, '7');
    assert.equal(r.outcomes[7].msg.key, '{"id":"1"}');
    assert.ok(Buffer.isBuffer(r.outcomes[10].msg.key), 'a Uint8Array goes on as a Buffer');
    assert.deepEqual(plain(r.statuses[0]), { fill: 'grey', shape: 'ring', text: 'status.readyFixed {"count":12}' });
    assert.deepEqual(plain(r.statuses[1]), { fill: 'green', shape: 'dot', text: `status.partitionFixed {"partition":${r.outcomes[0].msg.partition},"count":12}` });
    assert.deepEqual(r.statuses[1].i18n, { key: 'status.partitionFixed', values: { partition: r.outcomes[0].msg.partition as number, count: 12 } });
  });

  it('a msg without key: passed on without partition, key and hash, or failed with "fail" chosen', () => {
    const pass = rig({ key: 'payload.id', partitions: '4', outputHash: true });
    pass.receive({ payload: {}, key: 'stale', partition: 3, murmur2: 1 }, { payload: { id: null }, key: 'stale' }, { payload: 'no object' });
    for (const o of pass.outcomes) {
      assert.equal(o.error, undefined);
      assert.equal(o.sent, true);
      assert.equal('partition' in o.msg || 'key' in o.msg || 'murmur2' in o.msg, false);
    }
    assert.deepEqual(plain(pass.statuses.at(-1)), { fill: 'grey', shape: 'dot', text: 'status.noKey' });

    const fail = rig({ key: 'payload.id', partitions: '4', nullKey: 'error' });
    fail.receive({ payload: {} }, { payload: { id: null } });
    assert.deepEqual(
      fail.outcomes.map((o) => [o.sent, o.error?.name, o.error?.message]),
      [
        [false, 'PartitionKeyError', 'errors.noKey {"key":"msg.payload.id","value":"missing"}'],
        [false, 'PartitionKeyError', 'errors.noKey {"key":"msg.payload.id","value":"null"}'],
      ],
    );
    assert.equal(fail.statuses.at(-1)?.fill, 'red');
  });

  it('keys without bytes fail with the translated reason (the KeyError as cause); the msgs after them go on', () => {
    const r = rig({ key: 'payload.id', partitions: '4' });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    r.receive(...[Number.NaN, () => 1, circular, new Set([1]), 'ok'].map((id) => ({ payload: { id } })));
    const [nan, fn, circ, set, ok] = r.outcomes;
    assert.equal(nan.error?.message, 'errors.keyNumber {"key":"msg.payload.id","value":"NaN"}');
    assert.equal(fn.error?.message, 'errors.keyUnsupported {"key":"msg.payload.id","type":"function"}');
    assert.match(circ.error!.message, /^errors\.keyJson \{"key":"msg\.payload\.id","reason":".*circular/i);
    assert.match(set.error!.message, /^errors\.keyJson .*every Set/);
    for (const o of [nan, fn, circ, set]) {
      assert.equal(o.sent, false);
      assert.ok(o.error instanceof PartitionKeyError);
      assert.ok(o.error.cause instanceof KeyError);
    }
    assert.equal(ok.error, undefined);
    assert.equal(ok.msg.partition, expected('ok', 4));
  });

  it('a key reader that fails, throws or answers later: evaluation errors fail the msg, order is kept', async () => {
    const later: Array<() => void> = [];
    const readKey: KeyReader = (msg, cb) => {
      if (msg.mode === 'error') cb(new Error('bad expression'));
      else if (msg.mode === 'throw') throw new Error('thrown');
      else if (msg.mode === 'later') later.push(() => cb(null, msg.k));
      else cb(null, msg.k);
    };
    const r = rig({ key: '$x', keyType: 'jsonata', partitions: '8' }, { readKey });
    r.receive({ mode: 'error', i: 0 }, { mode: 'later', k: 'a', i: 1 }, { mode: 'throw', i: 2 }, { k: 'b', i: 3 });
    assert.equal(r.outcomes.length, 1, 'the others wait behind the msg whose key comes later');
    assert.equal(r.outcomes[0].error?.message, 'errors.keyEvaluate {"key":"$x","reason":"bad expression"}');
    later.shift()!();
    await settle();
    assert.deepEqual(r.outcomes.map((o) => o.msg.i), [0, 1, 2, 3]);
    assert.equal(r.outcomes[1].msg.partition, expected('a', 8));
    assert.equal(r.outcomes[2].error?.message, 'errors.keyEvaluate {"key":"$x","reason":"thrown"}');
    assert.equal(r.outcomes[3].msg.partition, expected('b', 8));
    assert.deepEqual(r.errors, []);
  });
});

describe('KeyPartitioner: partition count from the broker', () => {
  it('one lookup for many msgs; they keep their order while it is under way, also msgs of a topic already known', async () => {
    const admin = new ScriptedAdmin();
    admin.counts.set('tweets', 9).set('other', 3);
    const r = rig({ partitionsFrom: 'broker', broker: 'b1', topic: '' }, { admin });
    // "other" becomes known first.
    r.receive({ topic: 'other', key: 'warm', i: -1 });
    await settle();
    admin.hold = true;
    const keys = Array.from({ length: 50 }, (_, i) => `user-${i}`);
    r.receive(...keys.map((key, i) => ({ topic: i === 10 ? 'other' : 'tweets', key, i })));
    await settle();
    assert.equal(r.outcomes.length, 1, 'all wait for the first lookup of "tweets"');
    r.clock.advance(STATUS_INTERVAL_MS); // past the status throttle
    assert.deepEqual(plain(r.statuses.at(-1)), { fill: 'yellow', shape: 'dot', text: 'status.reading {"topic":"tweets"}' });
    admin.release();
    await settle();
    assert.deepEqual(r.outcomes.map((o) => o.msg.i), [-1, ...keys.map((_, i) => i)]);
    for (const o of r.outcomes.slice(1)) {
      assert.equal(o.error, undefined);
      assert.equal(o.msg.partition, expected(o.msg.key, o.msg.topic === 'other' ? 3 : 9));
    }
    assert.deepEqual(admin.requests, ['other', 'tweets']);
    assert.equal(r.metadata.requests, 2);
    assert.deepEqual(r.warnings, []);
  });

  it('msg.refreshPartitions reads the count again at once; a changed count is warned about and used from that msg on', async () => {
    const admin = new ScriptedAdmin();
    admin.counts.set('grow', 3);
    const r = rig({ partitionsFrom: 'broker', broker: 'b1', topic: 'grow' }, { admin });
    r.receive({ key: 'k1' });
    await settle();
    admin.counts.set('grow', 8);
    r.receive({ key: 'k1' }, { key: 'k1', refreshPartitions: true }, { key: 'k1' }, { key: 'k1', refreshPartitions: 'yes' });
    await settle();
    assert.deepEqual(r.outcomes.map((o) => o.msg.partition), [expected('k1', 3), expected('k1', 3), expected('k1', 8), expected('k1', 8), expected('k1', 8)]);
    assert.equal('refreshPartitions' in r.outcomes[2].msg || 'refreshPartitions' in r.outcomes[4].msg, false, 'the trigger is removed');
    assert.equal(admin.requests.length, 2, 'only `true` refreshes');
    assert.deepEqual(r.warnings, ['warn.countChanged {"topic":"grow","count":8,"previous":3}']);
  });

  it('unknown topics, msgs without topic and illegal topic names fail; the queue goes on', async () => {
    const admin = new ScriptedAdmin();
    admin.counts.set('known', 2);
    const r = rig({ partitionsFrom: 'broker', broker: 'b1', topic: '' }, { admin });
    r.receive({ topic: 'missing', key: 'a', i: 0 }, { key: 'a', i: 1 }, { topic: 'not a topic!', key: 'a', i: 2 }, { topic: 'known', key: 'a', i: 3 });
    await settle();
    assert.deepEqual(r.outcomes.map((o) => o.msg.i), [0, 1, 2, 3]);
    assert.ok(r.outcomes[0].error instanceof UnknownTopicError);
    assert.equal(r.outcomes[1].error?.message, 'errors.noTopic');
    assert.match(r.outcomes[2].error!.message, /illegal/);
    assert.equal(r.outcomes[3].msg.partition, expected('a', 2));
    assert.deepEqual(admin.requests, ['missing', 'known'], 'no lookup for a msg without a valid topic');
  });

  it('close fails the queued msgs and the one whose lookup is under way, and clears the status', async () => {
    const admin = new ScriptedAdmin();
    admin.counts.set('t', 4);
    admin.hold = true;
    const r = rig({ partitionsFrom: 'broker', broker: 'b1', topic: 't' }, { admin });
    r.receive({ key: 'a', i: 0 }, { key: 'b', i: 1 }, { key: 'c', i: 2 });
    await settle();
    assert.equal(r.outcomes.length, 0);
    r.partitioner.close();
    assert.deepEqual(r.outcomes.map((o) => [o.msg.i, o.error?.message]), [
      [1, 'errors.closed'],
      [2, 'errors.closed'],
    ]);
    assert.deepEqual(r.statuses.at(-1), {});
    admin.release();
    await settle();
    assert.deepEqual(r.outcomes.map((o) => [o.msg.i, o.sent, o.error?.message]), [
      [1, false, 'errors.closed'],
      [2, false, 'errors.closed'],
      [0, false, 'errors.closed'],
    ]);
    r.receive({ key: 'late', i: 3 });
    assert.equal(r.outcomes.at(-1)?.error?.message, 'errors.closed');
    assert.deepEqual(r.statuses.at(-1), {}, 'nothing shown after close');
    assert.deepEqual(r.errors, []);
  });

  it('refuses to start without a metadata cache when counts come from the broker', () => {
    const settings = partitionKeySettings({ partitionsFrom: 'broker', broker: 'b1', topic: 't' }, t);
    assert.throws(() => new KeyPartitioner({ settings, readKey: (_m, cb) => cb(null, 'k'), t, status() {}, warn() {}, error() {} }), TypeError);
  });
});

describe('KeyPartitioner: status', () => {
  it(`shows at most one status per ${STATUS_INTERVAL_MS} ms, always the latest, and none after close`, () => {
    const clock = new ManualClock();
    const r = rig({ partitions: '5' }, { clock });
    const shown = () => r.statuses.slice(1).map((s) => s.text);
    const partitionText = (key: string) => `status.partitionFixed {"partition":${expected(key, 5)},"count":5}`;
    r.receive({ key: 'a' });
    assert.deepEqual(shown(), [partitionText('a')], 'the first is shown at once');
    r.receive({ key: 'b' }, { key: 'c' }, { key: 'd' });
    assert.equal(shown().length, 1, 'held back');
    assert.equal(clock.pending(), 1, 'one timer for all of them');
    clock.advance(STATUS_INTERVAL_MS - 1);
    assert.equal(shown().length, 1);
    clock.advance(1);
    assert.deepEqual(shown(), [partitionText('a'), partitionText('d')], 'the latest when the interval is over');
    // The same status again is not sent again.
    clock.advance(STATUS_INTERVAL_MS);
    r.receive({ key: 'd' });
    assert.equal(shown().length, 2);
    // A failure right after is held back too, then shown red.
    r.receive({ key: Number.NaN });
    clock.advance(STATUS_INTERVAL_MS);
    assert.equal(r.statuses.at(-1)?.fill, 'red');
    assert.match(r.statuses.at(-1)!.text!, /^status\.failed \{"reason":"errors\.keyNumber/);
    // Close cancels a pending update.
    r.receive({ key: 'e' });
    r.receive({ key: 'f' });
    assert.equal(clock.pending(), 1);
    r.partitioner.close();
    assert.equal(clock.pending(), 0);
    assert.deepEqual(r.statuses.at(-1), {});
  });
});
