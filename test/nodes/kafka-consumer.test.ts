// The consumer and commit nodes in a real Node-RED runtime against a real broker: what our
// producer node wrote (every codec, keys, headers, tombstones) comes out byte for byte; only
// finished offsets are committed (read back with kafkajs admin fetchOffsets); a new flow resumes
// after the last finished msg; backpressure holds maxOutstanding; control msgs and bad settings.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { getTestKafka, type TestKafka } from '../support/kafka';
import { collect, commitNode, consumerNode, createTopic, getNode, helper, kafkaClient, loadFlow, producerFlow, uniqueTopic, unloadFlow } from '../support/node-red';
import { registerKafkajsCodecs } from '../../src/lib/kafka/codecs';

let kafka: TestKafka;

before(async () => {
  kafka = await getTestKafka();
  helper.settings({ streamsafeKafkaConsumer: { statusIntervalMs: 200, commitIntervalMs: 200, lagIntervalMs: 500 } });
  await new Promise<void>((resolve) => helper.startServer(resolve));
});
after(async () => {
  await unloadFlow();
  helper.settings({});
  await new Promise<void>((resolve) => helper.stopServer(resolve));
});

async function waitFor(ok: () => boolean | Promise<boolean>, timeoutMs: number, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`${what} not met in ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** broker b1 → consumer k1 → helper got; commit node cm → helper done; Catch of k1 and cm → caught. */
function consumerFlow(consumer: Record<string, unknown>, extra: unknown[] = []): unknown[] {
  return [
    { id: 'tab', type: 'tab', label: 'test' },
    { id: 'b1', type: 'streamsafe-kafka-broker', z: '', brokers: kafka.brokers.join(','), clientId: 'test', saslMechanism: 'none' },
    { id: 'k1', type: 'streamsafe-kafka-consumer', z: 'tab', broker: 'b1', start: 'earliest', wires: [['got']], ...consumer },
    { id: 'got', type: 'helper', z: 'tab' },
    { id: 'cm', type: 'streamsafe-kafka-commit', z: 'tab', wires: [['done']] },
    { id: 'done', type: 'helper', z: 'tab' },
    { id: 'c1', type: 'catch', z: 'tab', scope: ['k1', 'cm'], uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'tab' },
    ...extra,
  ];
}

/** The last status text node `id` set (the helper spies on status() of every node at once). */
function statusOf(id: string): string {
  const spy = getNode(id).status as { args?: Array<[{ text?: string }]>; thisValues?: Array<{ id: string }> };
  for (let i = (spy.args?.length ?? 0) - 1; i >= 0; i--) if (spy.thisValues?.[i]?.id === id) return spy.args![i][0]?.text ?? '';
  return '';
}

async function waitStatus(id: string, re: RegExp, timeoutMs: number): Promise<void> {
  await waitFor(() => re.test(statusOf(id)), timeoutMs, `status of ${id} ${re} (last "${statusOf(id)}")`);
}

/**
 * msgs of `topic` arriving at helper `id`: collect() also takes what earlier flows' nodes of
 * the same id sent (the helper's send spy keeps them), so each test reads only its own topics.
 */
function received(id: string, topics: string | string[]): { readonly msgs: any[]; next(n: number, timeoutMs?: number): Promise<any[]> } {
  const wanted = new Set(Array.isArray(topics) ? topics : [topics]);
  const c = collect(id);
  const mine = () => c.msgs.filter((m) => wanted.has(m.topic));
  return {
    get msgs() {
      return mine();
    },
    async next(n: number, timeoutMs = 20000) {
      await waitFor(() => mine().length >= n, timeoutMs, `${n} msg(s) of ${[...wanted].join(',')} at ${id} (got ${mine().length})`);
      return mine().slice(0, n);
    },
  };
}

const loadConsumer = (consumer: Record<string, unknown>, extra: unknown[] = []) => loadFlow(consumerFlow(consumer, extra), {}, [consumerNode, commitNode]);

async function committedOffsets(groupId: string, topic: string): Promise<Map<number, string>> {
  const admin = kafkaClient(kafka.brokers).admin();
  await admin.connect();
  try {
    const r = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map(r[0].partitions.map((p) => [p.partition, p.offset]));
  } finally {
    await admin.disconnect();
  }
}

async function produceRaw(topic: string, messages: Array<{ key?: string; value: string | null; partition?: number }>): Promise<void> {
  // Idempotent: a retried send on a busy machine must not write a record twice (the tests count them).
  const producer = kafkaClient(kafka.brokers).producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    await producer.send({ topic, messages });
  } finally {
    await producer.disconnect();
  }
}

describe('kafka consumer node', () => {
  it('reads back what the producer node wrote with every codec: exact bytes, keys, headers, tombstones, metadata', async () => {
    await registerKafkajsCodecs();
    const codecs = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
    const written = new Map<string, Array<{ sent: any; ack: any }>>();
    const topics: string[] = [];
    for (const codec of codecs) {
      const topic = uniqueTopic(`rt-${codec}`);
      topics.push(topic);
      await createTopic(kafka.brokers, topic, 2);
      const sent = [
        { payload: Buffer.from([0, 1, 2, 254, 255]), key: Buffer.from([9, 8, 7]) },
        { payload: `한국어 text 🎉 ${codec}`, key: 'user-1', headers: { source: 'x', bin: Buffer.from([1, 0, 255]) } },
        { payload: { id: '1', codec, n: [1, 2] }, key: 'user-2' },
        { payload: 'x'.repeat(5000), key: 'big' },
        { payload: null, key: 'user-1' },
      ];
      await loadFlow(producerFlow({ brokers: kafka.brokers, producer: { topic, compression: codec, linger: '50' } }));
      const out = collect('out');
      for (const m of sent) getNode('p1').receive({ ...m });
      const acks = await out.next(sent.length, 30000);
      written.set(topic, acks.map((ack, i) => ({ sent: sent.find((s) => JSON.stringify(s.key) === JSON.stringify(ack.key) && (s.payload === null) === (ack.payload === null) && (typeof s.payload !== 'string' || s.payload === ack.payload))!, ack })));
      assert.equal(collect('caught').msgs.length, 0);
    }
    const groupId = uniqueTopic('g-rt');
    await loadConsumer({ topics: topics.join(', '), groupId, payloadFormat: 'buffer', keyFormat: 'buffer', headersFormat: 'buffer' });
    const got = received('got', topics);
    const total = codecs.length * 5;
    const msgs = await got.next(total, 60000);
    assert.equal(msgs.length, total);
    for (const topic of topics) {
      for (const { sent, ack } of written.get(topic)!) {
        const m = msgs.find((x) => x.topic === topic && x.partition === ack.kafka.partition && x.offset === ack.kafka.offset);
        assert.ok(m, `record ${topic}-${ack.kafka.partition}@${ack.kafka.offset} read back`);
        const expectValue = sent.payload === null ? null : Buffer.isBuffer(sent.payload) ? sent.payload : Buffer.from(typeof sent.payload === 'string' ? sent.payload : JSON.stringify(sent.payload));
        if (expectValue === null) assert.equal(m.payload, null, 'tombstone payload null');
        else assert.deepEqual(Buffer.from(m.payload), expectValue);
        assert.deepEqual(Buffer.from(m.key), Buffer.isBuffer(sent.key) ? sent.key : Buffer.from(sent.key));
        assert.equal(m.timestamp, ack.kafka.timestamp);
        assert.equal(typeof m.offset, 'string');
        assert.deepEqual(Object.keys(m.headers).sort(), Object.keys(sent.headers ?? {}).sort());
        for (const [h, v] of Object.entries(sent.headers ?? {})) assert.deepEqual(Buffer.from(m.headers[h]), Buffer.isBuffer(v) ? v : Buffer.from(v as string));
        assert.deepEqual(
          { topic: m.kafka.topic, partition: m.kafka.partition, offset: m.kafka.offset, timestamp: m.kafka.timestamp, groupId: m.kafka.groupId },
          { topic, partition: ack.kafka.partition, offset: ack.kafka.offset, timestamp: ack.kafka.timestamp, groupId },
        );
        assert.equal(m._streamsafeConsumed.node, 'k1');
      }
    }
    // Per-partition order kept.
    for (const topic of topics) {
      for (const p of [0, 1]) {
        const offs = msgs.filter((x) => x.topic === topic && x.partition === p).map((x) => Number(x.offset));
        assert.deepEqual(offs, [...offs].sort((a, b) => a - b));
      }
    }
  });

  it('decodes text and JSON; a value that is not JSON comes as text with msg.parseError, never dropped', async () => {
    const topic = uniqueTopic('fmt');
    await createTopic(kafka.brokers, topic, 1);
    await produceRaw(topic, [{ key: 'k', value: '{"a":1}' }, { key: 'k', value: 'not json' }, { value: null }]);
    await loadConsumer({ topics: topic, groupId: uniqueTopic('g-fmt'), payloadFormat: 'json' });
    const msgs = await received('got', topic).next(3);
    assert.deepEqual(msgs[0].payload, { a: 1 });
    assert.equal(msgs[0].key, 'k');
    assert.equal(msgs[1].payload, 'not json');
    assert.equal(msgs[1].parseError.name, 'JsonParseError');
    assert.equal(msgs[2].payload, null);
    assert.equal(msgs[2].key, null);
  });

  it('at least once: commits only up to the last unbroken finished offset; a new flow resumes there and redelivers the unfinished', async () => {
    const topic = uniqueTopic('alo');
    const groupId = uniqueTopic('g-alo');
    await createTopic(kafka.brokers, topic, 1);
    await produceRaw(topic, Array.from({ length: 20 }, (_, i) => ({ value: `v${i}` })));
    await loadConsumer({ topics: topic, groupId });
    const got = received('got', topic);
    const msgs = await got.next(20);
    assert.deepEqual(msgs.map((m) => m.offset), Array.from({ length: 20 }, (_, i) => String(i)));
    // Finish 0..4 and 6..9: 5 stays in the flow.
    for (const m of msgs.filter((x) => Number(x.offset) < 10 && x.offset !== '5')) getNode('cm').receive(m);
    await collect('done').next(9);
    await waitFor(async () => (await committedOffsets(groupId, topic)).get(0) === '5', 15000, 'offset 5 committed');
    await sleep(600);
    assert.equal((await committedOffsets(groupId, topic)).get(0), '5', 'no commit past the unfinished offset 5');
    // commit now: nothing more to commit, still 5
    getNode('k1').receive({ action: 'commit' });
    await sleep(300);
    assert.equal(collect('caught').msgs.length, 0);
    assert.equal((await committedOffsets(groupId, topic)).get(0), '5');
    // A new flow (the same group): from 5, the unfinished ones again.
    await loadConsumer({ topics: topic, groupId });
    const again = await received('got', topic).next(15);
    assert.deepEqual(again.map((m) => m.offset), Array.from({ length: 15 }, (_, i) => String(i + 5)));
    // Finishing all commits 20; finishing a msg of the previous flow's node commits nothing (stale).
    getNode('cm').receive(msgs[5]);
    for (const m of again) getNode('cm').receive(m);
    await waitFor(async () => (await committedOffsets(groupId, topic)).get(0) === '20', 15000, 'offset 20 committed');
    await waitFor(() => /15 finished · 1 stale/.test(statusOf('cm')), 5000, 'commit node status');
  });

  it('backpressure: with maxOutstanding 10 and a slow downstream, never more than 10 outstanding', async () => {
    const topic = uniqueTopic('bp');
    const groupId = uniqueTopic('g-bp');
    await createTopic(kafka.brokers, topic, 3);
    await produceRaw(topic, Array.from({ length: 120 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })));
    await loadConsumer({ topics: topic, groupId, maxOutstanding: '10' });
    const got = received('got', topic);
    await got.next(10);
    await sleep(1500);
    assert.equal(got.msgs.length, 10, 'stops at 10 while none is finished');
    await waitStatus('k1', /waiting for the flow: 10\/10 outstanding/, 5000);
    let finished = 0;
    let maxOutstanding = 0;
    while (finished < 120) {
      await waitFor(() => got.msgs.length > finished, 10000, `msg ${finished + 1}`);
      maxOutstanding = Math.max(maxOutstanding, got.msgs.length - finished);
      getNode('cm').receive(got.msgs[finished++]);
      await sleep(5);
    }
    assert.ok(maxOutstanding <= 10, `at most 10 outstanding (saw ${maxOutstanding})`);
    const ids = got.msgs.map((m) => `${m.partition}@${m.offset}`);
    assert.equal(new Set(ids).size, 120, ids.join(' '));
    await waitFor(async () => [...(await committedOffsets(groupId, topic)).values()].reduce((a, o) => a + Number(o), 0) === 120, 15000, 'all committed');
  });

  it('a flow stuck at the limit for 2.5 session timeouts is not thrown out of the group (heartbeats while waiting)', async () => {
    const topic = uniqueTopic('hb');
    const groupId = uniqueTopic('g-hb');
    await createTopic(kafka.brokers, topic, 1);
    await produceRaw(topic, Array.from({ length: 30 }, (_, i) => ({ value: `v${i}` })));
    await loadConsumer({ topics: topic, groupId, maxOutstanding: '10', sessionTimeoutMs: '6000', heartbeatIntervalMs: '1000' });
    const got = received('got', topic);
    await got.next(10);
    await sleep(15000);
    assert.equal(got.msgs.length, 10, 'nothing more while none is finished');
    assert.match(statusOf('k1'), /waiting for the flow: 10\/10 outstanding/);
    for (const m of got.msgs.slice(0, 10)) getNode('cm').receive(m);
    await got.next(20);
    // Had the member been thrown out, kafkajs would read again from offset 0 and the finishes would be stale.
    assert.deepEqual(got.msgs.slice(10, 20).map((m) => m.offset), ['10', '11', '12', '13', '14', '15', '16', '17', '18', '19']);
    await waitFor(() => /^10 finished$/.test(statusOf('cm')), 5000, `commit node: 10 finished, none stale (${statusOf('cm')})`);
    await waitFor(async () => (await committedOffsets(groupId, topic)).get(0) === '10', 10000, 'offset 10 committed');
  });

  it('control msgs: pause, resume, seek by offset and timestamp, commit; bad ones fail with ConsumerControlError', async () => {
    const topic = uniqueTopic('ctl');
    const groupId = uniqueTopic('g-ctl');
    await createTopic(kafka.brokers, topic, 1);
    await produceRaw(topic, Array.from({ length: 5 }, (_, i) => ({ value: `a${i}` })));
    await loadConsumer({ topics: topic, groupId, commitMode: 'none' });
    const got = received('got', topic);
    await got.next(5);
    const k1 = getNode('k1');
    k1.receive({ action: 'pause' });
    await waitStatus('k1', /paused/, 5000);
    await produceRaw(topic, Array.from({ length: 5 }, (_, i) => ({ value: `b${i}` })));
    await sleep(1500);
    assert.equal(got.msgs.length, 5, 'nothing while paused');
    k1.receive({ action: 'resume' });
    await got.next(10);
    assert.deepEqual(got.msgs.slice(5).map((m) => m.payload), ['b0', 'b1', 'b2', 'b3', 'b4']);
    k1.receive({ action: 'seek', topic, partition: 0, offset: 2 });
    await got.next(18);
    assert.deepEqual(got.msgs.slice(10, 18).map((m) => m.offset), ['2', '3', '4', '5', '6', '7', '8', '9']);
    const ts = got.msgs[7].timestamp;
    k1.receive({ action: 'seek', timestamp: new Date(ts).toISOString() }); // one topic: msg.topic may be left out
    await waitFor(() => got.msgs.length >= 19, 10000, 'seek by timestamp');
    assert.ok(Number(got.msgs[18].offset) <= 7, `seek by timestamp starts at or before offset 7 (got ${got.msgs[18].offset})`);
    k1.receive({ action: 'seek', topic, offset: 'earliest' });
    await waitFor(() => got.msgs.length >= 19 + 10 && got.msgs[got.msgs.length - 1].offset === '9', 10000, 'seek earliest: from offset 0 again');
    const all = got.msgs;
    let lastZero = all.length - 1;
    while (lastZero > 0 && all[lastZero].offset !== '0') lastZero--;
    const fromEarliest = all.slice(lastZero);
    assert.deepEqual(fromEarliest.map((m: any) => m.offset), ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    const caught = collect('caught');
    const bad = [
      { action: 'jump' },
      { action: 'seek', topic, partition: 0 },
      { action: 'seek', topic, partition: 0, offset: 1, timestamp: 5 },
      { action: 'seek', topic, partition: 'x', offset: 1 },
      { action: 'seek', topic, partition: 0, offset: -3 },
      { action: 'seek', topic, partition: 7, offset: 0 },
      { action: 'seek', topic: 'other-topic', offset: 0 },
      { action: 'seek', topic, timestamp: 'yesterday' },
      { action: 'pause', partition: 1 },
      { action: 'pause', topic: 'not-read-here' },
      { action: 'resume', topic: 'not-read-here', partition: 0 },
      { action: 'commit' }, // commit mode none
    ];
    for (const m of bad) k1.receive(m);
    const errs = await caught.next(bad.length, 10000);
    for (const e of errs) assert.equal(e.error.source.id, 'k1');
    const messages = errs.map((e) => e.error.message);
    assert.ok(messages.every((t) => !/__\w+__|errors\./.test(t)), messages.join('\n'));
    assert.ok(messages.some((t) => /Unknown msg.action "jump"/.test(t)), messages.join('\n'));
    assert.ok(messages.some((t) => /exactly one of msg.offset and msg.timestamp/.test(t)));
    assert.ok(messages.some((t) => /Partition 7 of .* is not assigned/.test(t)));
    assert.ok(messages.some((t) => /commit needs commit mode at least once/.test(t)));
    assert.equal(messages.filter((t) => /does not read not-read-here \(its topics: /.test(t)).length, 2, messages.join('\n'));
    assert.ok(messages.every((t) => t.startsWith('ConsumerControlError: ')), messages.join('\n'));
    // Still consuming.
    await produceRaw(topic, [{ value: 'after' }]);
    await waitFor(() => got.msgs.some((m) => m.payload === 'after'), 10000, 'still consuming after bad control msgs');
  });

  it('periodic commits what was sent without commit nodes; none never commits', async () => {
    const topic = uniqueTopic('modes');
    await createTopic(kafka.brokers, topic, 1);
    await produceRaw(topic, Array.from({ length: 8 }, (_, i) => ({ value: `v${i}` })));
    const periodic = uniqueTopic('g-periodic');
    await loadConsumer({ topics: topic, groupId: periodic, commitMode: 'periodic', autoCommitIntervalMs: '100', maxOutstanding: '2' });
    await received('got', topic).next(8);
    await waitFor(async () => (await committedOffsets(periodic, topic)).get(0) === '8', 15000, 'periodic committed the sent offsets');
    const none = uniqueTopic('g-none');
    await loadConsumer({ topics: topic, groupId: none, commitMode: 'none' });
    const got = received('got', topic);
    await waitFor(() => got.msgs.filter((m) => m.kafka.groupId === none).length === 8, 15000, 'none: all 8 read');
    getNode('k1').receive({ action: 'pause' });
    await sleep(1500);
    await unloadFlow();
    assert.equal((await committedOffsets(none, topic)).get(0), '-1', 'none: nothing committed, even on close');
  });

  it('start timestamp: a group without offsets starts at the first record at or after it (ms or ISO)', async () => {
    const topic = uniqueTopic('ts');
    await createTopic(kafka.brokers, topic, 1);
    const base = Date.now() - 600000;
    const producer = kafkaClient(kafka.brokers).producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: 10 }, (_, i) => ({ value: `v${i}`, timestamp: String(base + i * 1000) })) });
    await producer.disconnect();
    for (const startTimestamp of [String(base + 5000), new Date(base + 4500).toISOString()]) {
      const groupId = uniqueTopic('g-ts');
      await loadConsumer({ topics: topic, groupId, start: 'timestamp', startTimestamp });
      const got = received('got', topic);
      await waitFor(() => got.msgs.filter((m) => m.kafka.groupId === groupId).length >= 5, 20000, `from ${startTimestamp}`);
      await sleep(500);
      assert.deepEqual(got.msgs.filter((m) => m.kafka.groupId === groupId).map((m) => m.offset), ['5', '6', '7', '8', '9']);
    }
  });

  it('start latest: a group without offsets reads only what is written after it joined', async () => {
    const topic = uniqueTopic('latest');
    await createTopic(kafka.brokers, topic, 1);
    await produceRaw(topic, [{ value: 'old 1' }, { value: 'old 2' }]);
    const groupId = uniqueTopic('g-latest');
    await loadConsumer({ topics: topic, groupId, start: 'latest' });
    await waitStatus('k1', /1 partition\b/, 20000);
    // kafkajs looks the end up at the first fetch after the join.
    await sleep(1500);
    await produceRaw(topic, [{ value: 'new 1' }, { value: 'new 2' }]);
    const got = received('got', topic);
    await waitFor(() => got.msgs.filter((m) => m.kafka.groupId === groupId).length >= 2, 20000, 'the new records');
    await sleep(500);
    assert.deepEqual(got.msgs.filter((m) => m.kafka.groupId === groupId).map((m) => [m.offset, m.payload]), [['2', 'new 1'], ['3', 'new 2']]);
  });

  it('a topic that does not exist yet is read once records are written to it', async () => {
    const topic = uniqueTopic('later');
    const groupId = uniqueTopic('g-later');
    // Written while the consumer starts, and after it joined.
    for (const delay of [0, 2500]) {
      const t = `${topic}-${delay}`;
      await loadConsumer({ topics: t, groupId: `${groupId}-${delay}`, start: 'earliest' });
      await sleep(delay);
      await produceRaw(t, [{ value: 'first' }]);
      const got = received('got', t);
      const [m] = await got.next(1, 30000);
      assert.equal(m.payload, 'first');
    }
  });

  it('topics as a regular expression: every matching topic is read', async () => {
    const prefix = uniqueTopic('rx');
    const topics = [`${prefix}-a`, `${prefix}-b`];
    for (const t of topics) {
      await createTopic(kafka.brokers, t, 1);
      await produceRaw(t, [{ value: t }]);
    }
    await createTopic(kafka.brokers, `${prefix}x-c`, 1);
    await produceRaw(`${prefix}x-c`, [{ value: 'not matched' }]);
    await loadConsumer({ topics: `^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-(a|b)$`, topicsType: 'regex', groupId: uniqueTopic('g-rx') });
    const got = received('got', [...topics, `${prefix}x-c`]);
    await got.next(2);
    await sleep(1000);
    assert.deepEqual(got.msgs.map((m) => m.payload).sort(), topics);
  });

  it('finishOn producerAck: a producer node acknowledging the msg finishes it', async () => {
    const topic = uniqueTopic('ack-in');
    const outTopic = uniqueTopic('ack-out');
    const groupId = uniqueTopic('g-ack');
    await createTopic(kafka.brokers, topic, 1);
    await createTopic(kafka.brokers, outTopic, 1);
    await produceRaw(topic, Array.from({ length: 5 }, (_, i) => ({ value: `v${i}` })));
    const flow = consumerFlow({ topics: topic, groupId, finishOn: 'producerAck', wires: [['p1']] }, [
      { id: 'p1', type: 'streamsafe-kafka-producer', z: 'tab', broker: 'b1', topic: outTopic, wires: [['out']] },
      { id: 'out', type: 'helper', z: 'tab' },
    ]);
    await loadFlow(flow, {}, [consumerNode, commitNode]);
    await collect('out').next(5, 30000);
    await waitFor(async () => (await committedOffsets(groupId, topic)).get(0) === '5', 15000, 'committed after acknowledgement');
  });

  it('the commit node refuses a msg that did not come from a consumer with NotConsumedError', async () => {
    await loadConsumer({ topics: uniqueTopic('nc'), groupId: uniqueTopic('g-nc') });
    const caught = collect('caught');
    getNode('cm').receive({ payload: 'from somewhere else' });
    const [c] = await caught.next(1, 5000);
    assert.match(c.error.message, /^NotConsumedError: This msg did not come from a kafka consumer node \(no msg\._streamsafeConsumed\)/);
    assert.equal(c.error.source.id, 'cm');
  });

  it('bad settings: a clear reason in the status and the log, control msgs fail, nothing crashes', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ topics: 'a', groupId: '' }, /A group id is required/],
      [{ topics: '', groupId: 'g' }, /No topics/],
      [{ topics: 'bad topic!', groupId: 'g' }, /Not a Kafka topic name/],
      [{ topics: '(unclosed', topicsType: 'regex', groupId: 'g' }, /Not a regular expression/],
      [{ topics: 'a', groupId: 'g', maxOutstanding: '0' }, /Max outstanding must be a whole number from 1/],
      [{ topics: 'a', groupId: 'g', heartbeatIntervalMs: '40000' }, /must be shorter than the session timeout/],
      [{ topics: 'a', groupId: 'g', start: 'timestamp', startTimestamp: 'soon' }, /start timestamp must be/],
      [{ topics: 'a', groupId: 'g', commitMode: 'sometimes' }, /Unknown commit mode "sometimes"/],
      [{ topics: 'a', groupId: 'g', broker: 'missing' }, /No Kafka broker config node/],
    ];
    for (const [config, reason] of cases) {
      await loadConsumer(config);
      await waitStatus('k1', /^invalid: /, 5000);
      const k1 = getNode('k1');
      const errors = (k1.error as any).args.map((a: unknown[]) => String(a[0]));
      assert.ok(errors.some((e: string) => reason.test(e)), `${JSON.stringify(config)}: ${errors.join(' | ')}`);
      const caught = collect('caught');
      k1.receive({ action: 'pause' });
      const [c] = await caught.next(1, 5000);
      assert.match(c.error.message, /^ConsumerConfigError: /);
      assert.match(c.error.message, reason);
    }
  });
});
