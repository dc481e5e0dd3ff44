// The producer node in a real Node-RED runtime against a real broker: what it
// writes is read back by a consumer and, where it matters, from the broker's
// own log segments.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { getTestKafka, dumpLogSegments, NO_BROKER_LOGS_REASON, type TestKafka } from '../support/kafka';
import { collect, createTopic, getNode, helper, loadFlow, nodeRedVersion, producerFlow, readTopic, uniqueTopic, unloadFlow, waitForStatus } from '../support/node-red';

let kafka: TestKafka;

before(async () => {
  kafka = await getTestKafka();
  await new Promise<void>((resolve) => helper.startServer(resolve));
});
after(async () => {
  await unloadFlow();
  await new Promise<void>((resolve) => helper.stopServer(resolve));
});

async function waitFor(ok: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(50);
  }
}

async function produce(producer: Record<string, unknown>, msgs: unknown[]): Promise<{ out: any[]; caught: any[] }> {
  await loadFlow(producerFlow({ brokers: kafka.brokers, producer }));
  const out = collect('out');
  const caught = collect('caught');
  const p1 = getNode('p1');
  for (const m of msgs) p1.receive(m);
  const want = msgs.length;
  const deadline = Date.now() + 30000;
  while (out.msgs.length + caught.msgs.length < want && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return { out: out.msgs, caught: caught.msgs };
}

describe('kafka producer node', () => {
  it(`runs in the Node-RED runtime asked for (${nodeRedVersion})`, () => {
    const expected = process.env.STREAMSAFE_EXPECT_NODE_RED;
    if (expected) assert.equal(nodeRedVersion, expected);
    assert.match(nodeRedVersion, /^[45]\./);
  });

  it('produces values, keys, headers, timestamps and tombstones that a consumer reads back', async () => {
    const topic = uniqueTopic('contract');
    await createTopic(kafka.brokers, topic, 1);
    const msgs = [
      { payload: Buffer.from([0, 1, 254, 255]), key: Buffer.from([7]) },
      { payload: '한국어 text 🎉', key: 'user-1', headers: { source: 'x', bin: Buffer.from([1, 2]) } },
      { payload: { id: '1', text: 'hello', n: [1, 2] }, key: 42 },
      { payload: [1, 'two'], timestamp: 1600000000000 },
      { payload: 3.25 },
      { payload: true },
      { payload: null, key: 'user-1' },
    ];
    const { out, caught } = await produce({ topic }, msgs);
    assert.equal(caught.length, 0, JSON.stringify(caught.map((c) => c.error)));
    assert.equal(out.length, msgs.length);
    // Acknowledged in order, offsets 0..n-1 on the single partition.
    assert.deepEqual(out.map((m) => m.kafka.offset), msgs.map((_, i) => String(i)));
    for (const m of out) {
      assert.equal(m.kafka.topic, topic);
      assert.equal(m.kafka.partition, 0);
      assert.equal(m.kafka.acknowledged, true);
      assert.equal(typeof m.kafka.timestamp, 'number');
    }
    const read = await readTopic(kafka.brokers, topic, msgs.length);
    read.sort((a, b) => Number(a.offset) - Number(b.offset));
    assert.deepEqual(read[0].value, Buffer.from([0, 1, 254, 255]));
    assert.deepEqual(read[0].key, Buffer.from([7]));
    assert.equal(read[1].value!.toString(), '한국어 text 🎉');
    assert.equal(read[1].key!.toString(), 'user-1');
    assert.equal(read[1].headers!.source!.toString(), 'x');
    assert.deepEqual(read[1].headers!.bin, Buffer.from([1, 2]));
    assert.deepEqual(JSON.parse(read[2].value!.toString()), { id: '1', text: 'hello', n: [1, 2] });
    assert.equal(read[2].key!.toString(), '42');
    assert.equal(read[3].value!.toString(), '[1,"two"]');
    assert.equal(read[3].timestamp, '1600000000000');
    assert.equal(out[3].kafka.timestamp, 1600000000000);
    assert.equal(read[4].value!.toString(), '3.25');
    assert.equal(read[5].value!.toString(), 'true');
    assert.equal(read[6].value, null, 'tombstone');
    assert.equal(read[6].key!.toString(), 'user-1');
  });

  it('takes the topic from msg.topic when the node has none, and msg.partition wins over the key', async () => {
    const topic = uniqueTopic('msgtopic');
    await createTopic(kafka.brokers, topic, 4);
    const { out, caught } = await produce({ topic: '' }, [
      { topic, payload: 'a', key: 'k', partition: 3 },
      { topic, payload: 'b', partition: 1 },
    ]);
    assert.equal(caught.length, 0);
    // Records of different partitions are acknowledged in whatever order the broker answers them.
    const landed = new Map(out.map((m) => [m.payload as string, m.kafka.partition]));
    assert.deepEqual([landed.get('a'), landed.get('b')], [3, 1]);
  });

  it('keyed records land on the partition the Java client picks (Kafka UtilsTest.testMurmur2 vectors)', async () => {
    // [key, Java Utils.murmur2(key)] from Kafka's UtilsTest.testMurmur2.
    const vectors: Array<[string, number]> = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ];
    const partitions = 12;
    const topic = uniqueTopic('murmur');
    await createTopic(kafka.brokers, topic, partitions);
    const { out, caught } = await produce({ topic }, vectors.map(([key]) => ({ payload: key, key })));
    assert.equal(caught.length, 0);
    const expected = vectors.map(([, hash]) => (hash & 0x7fffffff) % partitions);
    // Records of different partitions are acknowledged in whatever order the broker answers them.
    const landed = new Map(out.map((m) => [m.payload as string, m.kafka.partition]));
    assert.deepEqual(vectors.map(([key]) => landed.get(key)), expected);
    const read = await readTopic(kafka.brokers, topic, vectors.length);
    for (const r of read) {
      const i = vectors.findIndex(([k]) => k === r.key!.toString());
      assert.equal(r.partition, expected[i], `key ${r.key}`);
    }
  });

  it('acks 0: the record arrives, and the msg says there is no offset', async () => {
    const topic = uniqueTopic('acks0');
    await createTopic(kafka.brokers, topic, 1);
    const { out, caught } = await produce({ topic, preset: 'fireAndForget', acks: '0', idempotence: false, retries: '0' }, [{ payload: 'x' }]);
    assert.equal(caught.length, 0);
    assert.equal(out[0].kafka.offset, null);
    assert.equal(out[0].kafka.acknowledged, false);
    assert.match(out[0].kafka.note, /acks=0/);
    const read = await readTopic(kafka.brokers, topic, 1);
    assert.equal(read[0].value!.toString(), 'x');
  });

  it('acks 1 and acks all both return offsets', async () => {
    for (const acks of ['1', 'all']) {
      const topic = uniqueTopic(`acks${acks}`);
      await createTopic(kafka.brokers, topic, 1);
      const { out, caught } = await produce({ topic, acks, idempotence: acks === 'all' }, [{ payload: 'a' }, { payload: 'b' }]);
      assert.equal(caught.length, 0);
      assert.deepEqual(out.map((m) => m.kafka.offset), ['0', '1'], `acks ${acks}`);
      await unloadFlow();
    }
  });

  for (const compression of ['none', 'gzip', 'snappy', 'lz4', 'zstd']) {
    it(`compression ${compression}: batches carry the codec in the broker's log, and read back intact`, async (t) => {
      if (!kafka.logDir) return t.skip(NO_BROKER_LOGS_REASON);
      const topic = uniqueTopic(`codec-${compression}`);
      await createTopic(kafka.brokers, topic, 1);
      const msgs = Array.from({ length: 50 }, (_, i) => ({ payload: { i, text: `tweet ${i} 한국어 ${'x'.repeat(200)}` } }));
      const { out, caught } = await produce({ topic, compression, lingerMs: '50' }, msgs);
      assert.equal(caught.length, 0, JSON.stringify(caught.map((c) => c.error)));
      assert.equal(out.length, 50);
      const batches = await dumpLogSegments(kafka.logDir, topic, 0);
      assert.ok(batches.length >= 1);
      const codecs = new Set(batches.map((b) => b.compresscodec.toLowerCase()));
      assert.deepEqual([...codecs], [compression], `codecs in log: ${[...codecs]}`);
      assert.equal(batches.reduce((n, b) => n + b.count, 0), 50);
      assert.ok(batches.length < 50, `batched: ${batches.length} batches for 50 records`);
      const read = await readTopic(kafka.brokers, topic, 50);
      assert.deepEqual(read.map((r) => JSON.parse(r.value!.toString()).i).sort((a, b) => a - b), msgs.map((m) => m.payload.i));
    });
  }

  it('idempotence: batches carry a producer id and sequence numbers; without it they do not', async (t) => {
    if (!kafka.logDir) return t.skip(NO_BROKER_LOGS_REASON);
    const on = uniqueTopic('idem-on');
    const off = uniqueTopic('idem-off');
    await createTopic(kafka.brokers, on, 1);
    await createTopic(kafka.brokers, off, 1);
    await produce({ topic: on, idempotence: true, lingerMs: '0', maxInFlight: '1' }, [{ payload: 'a' }]);
    getNode('p1').receive({ payload: 'b' });
    await collect('out').next(1);
    await unloadFlow();
    await produce({ topic: off, idempotence: false, acks: '1' }, [{ payload: 'a' }]);
    const withId = await dumpLogSegments(kafka.logDir, on, 0);
    const without = await dumpLogSegments(kafka.logDir, off, 0);
    assert.ok(withId[0].producerId >= 0, `producerId ${withId[0].producerId}`);
    assert.equal(withId[0].baseSequence, 0);
    assert.equal(withId[withId.length - 1].producerId, withId[0].producerId);
    assert.equal(withId[withId.length - 1].baseSequence, withId.length === 1 ? 0 : withId[0].count);
    // No producer id: the broker does no duplicate check (kafkajs sends sequence 0, which the broker ignores then).
    assert.equal(without[0].producerId, -1);
  });

  it('bad input fails to Catch with a clear error, and the next good message still goes through', async () => {
    const topic = uniqueTopic('bad');
    await createTopic(kafka.brokers, topic, 2);
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const bad = [
      { topic, payload: undefined },
      { topic, payload: () => 1 },
      { topic, payload: circular },
      { topic, payload: 'v', key: Number.NaN },
      { topic, payload: 'v', headers: { n: 5 } },
      { topic, payload: 'v', headers: 'x' },
      { payload: 'no topic' },
      { topic: 'bad topic name!', payload: 'v' },
      { topic, payload: 'v', partition: -2 },
      { topic, payload: 'v', partition: 7 },
      { topic, payload: 'v', timestamp: 'soon' },
    ];
    const msgs = bad.flatMap((m) => [m, { topic, payload: 'good' }]);
    const { out, caught } = await produce({ topic: '' }, msgs);
    assert.equal(caught.length, bad.length, caught.map((c) => c.error.message).join('\n'));
    assert.equal(out.length, bad.length);
    const errors = caught.map((c) => c.error.message as string);
    for (const re of [/msg\.payload is missing/, /type function is not supported/, /could not be turned into JSON/, /msg\.key is the number NaN/,
      /msg\.headers\["n"\] is of type number/, /msg\.headers must be an object/, /No topic/, /Topic name "bad topic name!" is illegal/,
      /msg\.partition must be/, /Invalid partition given with record: 7 is not in the range \[0\.\.\.2\)/, /msg\.timestamp must be/]) {
      assert.ok(errors.some((e) => re.test(e)), `no error matched ${re}: ${errors.join(' | ')}`);
    }
    assert.ok(caught.every((c) => /Error/.test(c.error.message)), 'the error name is in the message Catch sees');
    assert.ok(out.every((m) => m.payload === 'good'));
  });

  it('one record the broker refuses among thousands fails alone: every good record is written once, in order', async () => {
    // Topic from msg.topic; one record a day ahead, which Kafka 4 refuses (log.message.timestamp.after.max.ms is 1 h).
    const topic = uniqueTopic('refused');
    await createTopic(kafka.brokers, topic, 3);
    const good = 6000;
    const bad = 2500;
    const msgs: unknown[] = [];
    for (let i = 0; i <= good; i++) {
      if (i === bad) msgs.push({ topic, payload: 'from-the-future', key: 'k1', timestamp: Date.now() + 24 * 3600 * 1000 });
      else msgs.push({ topic, payload: `k${i % 7}:${String(i).padStart(6, '0')}`, key: `k${i % 7}` });
    }
    const { out, caught } = await produce({ topic: '' }, msgs);
    assert.equal(caught.length, 1, caught.map((c) => c.error.message).slice(0, 3).join('\n'));
    assert.equal(caught[0].payload, 'from-the-future');
    assert.match(caught[0].error.message, /INVALID_TIMESTAMP/);
    assert.equal(out.length, good);
    const read = await readTopic(kafka.brokers, topic, good, 60000);
    const values = read.map((r) => r.value!.toString());
    assert.equal(new Set(values).size, good, 'each good record once');
    assert.ok(!values.includes('from-the-future'));
    for (let k = 0; k < 7; k++) {
      const seqs = read.filter((r) => r.key!.toString() === `k${k}`).sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset)).map((r) => Number(r.value!.toString().split(':')[1]));
      assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), `order of key k${k}`);
    }
  });

  it('a record over the broker\'s max message size fails to Catch; the next one goes through', async () => {
    const topic = uniqueTopic('toolarge');
    await createTopic(kafka.brokers, topic, 1, [{ name: 'max.message.bytes', value: '2000' }]);
    const { out, caught } = await produce({ topic, lingerMs: '20' }, [
      { payload: 'small-1' },
      { payload: 'x'.repeat(5000) },
      { payload: 'small-2' },
    ]);
    assert.equal(caught.length, 1);
    assert.match(caught[0].error.message, /larger than the max message size|MESSAGE_TOO_LARGE|too large/i);
    assert.deepEqual(out.map((m) => m.payload).sort(), ['small-1', 'small-2']);
  });

  it('a record over max.request.size is refused before sending', async () => {
    const topic = uniqueTopic('maxreq');
    const { out, caught } = await produce({ topic, maxRequestSize: '1000' }, [{ payload: 'y'.repeat(2000) }, { payload: 'ok' }]);
    assert.equal(caught.length, 1);
    assert.match(caught[0].error.message, /RecordTooLargeError: The message is \d+ bytes when serialized which is larger than 1000/);
    assert.equal(out.length, 1);
  });

  it('refuses an invalid configuration with the reason in the status, the log and every msg', async () => {
    await loadFlow(producerFlow({ brokers: kafka.brokers, producer: { topic: 't', acks: '1', idempotence: true } }));
    const caught = collect('caught');
    // The status names the reason, short (the Java client's words are in the log and every error).
    await waitForStatus('p1', /^invalid: acks must be all for idempotence$/);
    getNode('p1').receive({ payload: 'x' });
    const [c] = await caught.next(1);
    assert.match(c.error.message, /Must set acks to all in order to use the idempotent producer/);
    const logged = helper.log().args.flat().filter((e: any) => e && e.id === 'p1' && /Must set acks/.test(String(e.msg)));
    assert.ok(logged.length >= 1, 'the reason is in the log');
    await unloadFlow();
    await loadFlow(producerFlow({ brokers: kafka.brokers, producer: { topic: 't', deliveryTimeoutMs: '1000' } }));
    await waitForStatus('p1', /^invalid: delivery timeout < linger \+ request timeout$/);
  });

  it('shows connected once the producer is up', async () => {
    await loadFlow(producerFlow({ brokers: kafka.brokers, producer: { topic: uniqueTopic('status') } }));
    await waitForStatus('p1', /^connected/);
  });

  it('closes with records lingering: all are sent before the node finishes closing', async () => {
    const topic = uniqueTopic('close');
    await createTopic(kafka.brokers, topic, 3);
    await loadFlow(producerFlow({ brokers: kafka.brokers, producer: { topic, lingerMs: '2000' } }));
    await waitForStatus('p1', /^connected/);
    const p1 = getNode('p1');
    let taken = 0;
    p1.on('input', () => taken++);
    const n = 500;
    for (let i = 0; i < n; i++) p1.receive({ payload: `r${i}`, key: `k${i % 17}` });
    while (taken < n) await new Promise((r) => setTimeout(r, 5));
    const started = Date.now();
    await unloadFlow();
    assert.ok(Date.now() - started < 2000, 'close flushes at once instead of waiting for linger');
    // Downstream nodes close too, so the broker is the witness: every record is there.
    const read = await readTopic(kafka.brokers, topic, n);
    assert.equal(new Set(read.map((r) => r.value!.toString())).size, n);
  });
  it('emits the Java producer metrics on the second output and sums them up in the status', async () => {
    const topic = uniqueTopic('metrics');
    await createTopic(kafka.brokers, topic, 3);
    await loadFlow(producerFlow({
      brokers: kafka.brokers,
      producer: { topic, compression: 'lz4', metricsInterval: '1', wires: [['out'], ['metrics']] },
      extraNodes: [{ id: 'metrics', type: 'helper', z: 'tab' }],
    }));
    const out = collect('out');
    const metrics = collect('metrics');
    await waitForStatus('p1', /^connected/);
    for (let i = 0; i < 300; i++) getNode('p1').receive({ payload: { i, text: 'compressible '.repeat(20) }, key: `k${i % 5}` });
    await out.next(300);
    const status = await waitForStatus('p1', /msg\/s · batch .* · lz4 0\.\d\d/, 10000);
    assert.ok(status);
    const [m] = await metrics.next(1, 5000);
    assert.equal(m.topic, 'metrics');
    const p = m.payload;
    assert.equal(p['record-send-total'], 300);
    assert.ok(p['record-send-rate'] > 0);
    assert.equal(p['record-error-total'], 0);
    assert.ok(p['batch-size-avg'] > 0);
    assert.ok(p['records-per-request-avg'] >= 1);
    assert.ok(p['compression-rate-avg'] > 0 && p['compression-rate-avg'] < 0.5, `lz4 on repetitive JSON: ${p['compression-rate-avg']}`);
    assert.ok(p['request-latency-avg'] >= 0 && p['request-latency-max'] >= p['request-latency-avg']);
    assert.equal(p['buffer-total-bytes'], 33554432);
    assert.ok(p['buffer-available-bytes'] <= 33554432);
  });

  it('the status is never green while records fail: red when none go through, yellow when some do, with the reason', async () => {
    const topic = uniqueTopic('status');
    await createTopic(kafka.brokers, topic, 1);
    await loadFlow(producerFlow({ brokers: kafka.brokers, producer: { topic } }));
    const caught = collect('caught');
    const out = collect('out');
    await waitForStatus('p1', /^connected/);
    const p1 = getNode('p1');
    const lastStatus = () => {
      const calls = p1.status.args as Array<[{ fill?: string; text?: string }]>;
      return calls[calls.length - 1][0];
    };
    const future = () => Date.now() + 24 * 3600 * 1000;
    // Every record refused by the broker.
    for (let i = 0; i < 20; i++) p1.receive({ payload: `bad-${i}`, timestamp: future() });
    await caught.next(20);
    // The short reason first: a status is cut at 60 characters (the full error is in Catch).
    const red = await waitForStatus('p1', /records failing/, 10000);
    assert.equal(lastStatus().fill, 'red', red);
    assert.match(red, /^records failing: INVALID_TIMESTAMP · /);
    assert.ok(red.length <= 60, red);
    // Half of them refused: yellow.
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 10; i++) p1.receive({ payload: `r${round}-${i}`, timestamp: i % 2 ? future() : undefined });
      await sleep(500);
    }
    await out.next(30);
    await waitFor(() => lastStatus().fill === 'yellow', 10000);
    assert.match(String(lastStatus().text), /^records failing: INVALID_TIMESTAMP · [\d.k]+ msg\/s · [\d.k]+ err\/s$/);
  });
});

