// The consumer node in a real Node-RED runtime reads back what the Java producer
// (kafka-clients; test/support/java/ConsumerRoundTripProducer.java) wrote, one topic per
// codec (none, gzip, snappy, lz4, zstd), records of a partition sharing a batch: binary, text,
// JSON, large and empty values, binary, text, empty and null keys, a tombstone, text,
// binary, repeated, non-ASCII and null-valued headers, explicit CreateTime timestamps out of
// order. Every record comes out once, with the exact bytes and the partition, offset and
// timestamp of the Java producer's RecordMetadata; with text and json formats the strings
// and the object Java wrote. DumpLogSegments confirms the batches are the Java client's.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { getTestKafka, parseDumpLogSegments, DUMP_LOG_SEGMENTS_CLASS, javaRun, NO_BROKER_LOGS_REASON, type TestKafka } from '../support/kafka';
import { kafkaClasspath } from '../support/kafka/classpath';
import { compileJava } from '../support/kafka/java';
import { collect, commitNode, consumerNode, createTopic, helper, loadFlow, readTopic, uniqueTopic, unloadFlow } from '../support/node-red';

const SOURCE = path.join(__dirname, '..', 'support', 'java', 'ConsumerRoundTripProducer.java');
const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;

/** One record as the Java producer reported it: its RecordMetadata and the bytes it sent. */
interface Written {
  topic: string;
  codec: string;
  label: string;
  partition: number;
  offset: string;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: Array<[string, Buffer | null]>;
}

// What the Java program is meant to write (checked against what it reports, so a change on
// either side shows).
const TEXT_KEY = '사용자-1 🙂';
const textValue = (codec: string) => `안녕하세요, 카프카! Korean text with emoji 🎉🚀👩‍💻 codec=${codec}`;
const jsonValue = (codec: string) => ({ id: '42', text: '한국어 🎉', n: [1, 2.5, -3], nested: { ok: true, none: null }, codec });
const LABELS = ['binary', 'text', 'json', 'large', 'no-key', 'tombstone', 'null-header', 'empty', ...Array.from({ length: 10 }, (_, i) => `fill-${i}`)];
/** Records whose key and value (where not null) are UTF-8 text. */
const TEXT_LABELS = new Set(['text', 'json', 'no-key', 'tombstone', 'null-header', 'empty', ...LABELS.filter((l) => l.startsWith('fill-'))]);

let kafka: TestKafka;
const topics = new Map<string, string>(); // codec → topic
let written: Written[] = [];
let acked = new Map<string, number>(); // topic → records the Java program reported
let bufferPass: any[] | undefined; // what the buffer pass received, for the null header check

const unhex = (s: string): Buffer | null => (s === '-' ? null : Buffer.from(s, 'hex'));

function parseJavaOutput(stdout: string): void {
  const codecOf = new Map([...topics].map(([c, t]) => [t, c]));
  for (const line of stdout.split('\n').filter(Boolean)) {
    const f = line.split('\t');
    if (f[0] === 'R') {
      assert.equal(f.length, 9, line);
      const [, topic, label, partition, offset, timestamp, key, value, headers] = f;
      written.push({
        topic,
        codec: codecOf.get(topic)!,
        label,
        partition: Number(partition),
        offset,
        timestamp: Number(timestamp),
        key: unhex(key),
        value: unhex(value),
        headers: headers === '' ? [] : headers.split(',').map((h) => h.split('=')).map(([n, v]) => [Buffer.from(n, 'hex').toString('utf8'), unhex(v)]),
      });
    } else if (f[0] === 'T') acked.set(f[1], Number(f[3]));
    else assert.fail(`unexpected output line ${line}`);
  }
}

before(
  async () => {
    kafka = await getTestKafka();
    helper.settings({ streamsafeKafkaConsumer: { statusIntervalMs: 200, commitIntervalMs: 200, lagIntervalMs: 500 } });
    await new Promise<void>((resolve) => helper.startServer(resolve));
    const classpath = await kafkaClasspath();
    const [classes] = await Promise.all([
      compileJava(SOURCE, classpath),
      ...CODECS.map(async (codec) => {
        const topic = uniqueTopic(`java-rt-${codec}`);
        topics.set(codec, topic);
        // CreateTime, and no retention that could drop records stamped an hour ago.
        await createTopic(kafka.brokers, topic, 2, [
          { name: 'message.timestamp.type', value: 'CreateTime' },
          { name: 'retention.ms', value: '-1' },
        ]);
      }),
    ]);
    const started = Date.now();
    const { stdout } = await javaRun('ConsumerRoundTripProducer', [kafka.brokers.join(','), ...[...topics].map(([codec, topic]) => `${codec}=${topic}`)], {
      classpath: [classes],
      timeoutMs: 120_000,
    });
    parseJavaOutput(stdout);
    console.log(`# Java producer: ${written.length} records to ${topics.size} topics in ${Date.now() - started} ms`);
  },
  { timeout: 180_000 },
);
after(async () => {
  await unloadFlow();
  helper.settings({});
  await new Promise<void>((resolve) => helper.stopServer(resolve));
});

async function waitFor(ok: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`${what()} not met in ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** broker b1 → consumers (given) → helpers; Catch of every consumer → caught. */
function flow(consumers: Array<{ id: string; out: string; config: Record<string, unknown> }>): unknown[] {
  return [
    { id: 'tab', type: 'tab', label: 'java round trip' },
    { id: 'b1', type: 'streamsafe-kafka-broker', z: '', brokers: kafka.brokers.join(','), clientId: 'java-rt', saslMechanism: 'none' },
    ...consumers.flatMap((c) => [
      { id: c.id, type: 'streamsafe-kafka-consumer', z: 'tab', broker: 'b1', start: 'earliest', topics: [...topics.values()].join(', '), maxOutstanding: '1000', wires: [[c.out]], ...c.config },
      { id: c.out, type: 'helper', z: 'tab' },
    ]),
    { id: 'c1', type: 'catch', z: 'tab', scope: consumers.map((c) => c.id), uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'tab' },
  ];
}

/**
 * Every msg of the group at helper `id`, once all the Java records have come and a further
 * second brought nothing more (the helper's spies keep msgs of earlier flows: filtered by group).
 */
async function receiveAll(id: string, groupId: string): Promise<any[]> {
  const c = collect(id);
  const caught = collect('caught');
  const mine = () => c.msgs.filter((m) => m.kafka?.groupId === groupId);
  await waitFor(
    () => {
      if (caught.msgs.length) assert.fail(`consumer error: ${caught.msgs.map((m) => m.error?.message).join('; ')}`);
      return mine().length >= written.length;
    },
    60_000,
    () => `${written.length} msgs of group ${groupId} at ${id} (got ${mine().length})`,
  );
  await sleep(1000);
  return mine();
}

/** The one msg of the record, by topic, partition and offset. */
function msgOf(msgs: any[], w: Written): any {
  const found = msgs.filter((m) => m.topic === w.topic && m.partition === w.partition && m.offset === w.offset);
  assert.equal(found.length, 1, `${w.codec} ${w.label} (${w.topic}-${w.partition}@${w.offset}) received ${found.length} times`);
  return found[0];
}

/** The headers a msg should carry: a name given once → its value, repeated → an array in order. */
function expectedHeaders<T>(w: Written, convert: (b: Buffer) => T): Record<string, T | null | Array<T | null>> {
  const out: Record<string, T | null | Array<T | null>> = {};
  for (const [name, v] of w.headers) {
    const value = v === null ? null : convert(v);
    const seen = w.headers.filter(([n]) => n === name).length;
    if (seen === 1) out[name] = value;
    else ((out[name] ??= []) as Array<T | null>).push(value);
  }
  return out;
}

function assertNothingLostNothingExtra(msgs: any[]): void {
  for (const [codec, topic] of topics) {
    const got = msgs.filter((m) => m.topic === topic);
    assert.equal(got.length, acked.get(topic), `${codec}: msgs received = records the Java producer acknowledged`);
    assert.equal(new Set(got.map((m) => `${m.partition}@${m.offset}`)).size, got.length, `${codec}: no record twice`);
    for (const p of [0, 1]) {
      const offsets = got.filter((m) => m.partition === p).map((m) => Number(m.offset));
      assert.deepEqual(offsets, [...offsets].sort((a, b) => a - b), `${codec} partition ${p} in offset order`);
    }
  }
  assert.equal(msgs.length, written.length);
}

describe('kafka consumer node: records written by the Java producer', () => {
  it('the Java producer wrote what was meant, in shared, compressed batches', async (t) => {
    assert.equal(written.length, CODECS.length * LABELS.length);
    for (const [codec, topic] of topics) {
      assert.equal(acked.get(topic), LABELS.length);
      const w = written.filter((x) => x.topic === topic);
      assert.deepEqual(w.map((x) => x.label), LABELS, codec);
      const by = (label: string) => w.find((x) => x.label === label)!;
      assert.deepEqual(new Set(w.map((x) => x.partition)), new Set([0, 1]), `${codec}: both partitions used`);
      assert.equal(by('text').key!.toString('utf8'), TEXT_KEY);
      assert.equal(by('text').value!.toString('utf8'), textValue(codec));
      assert.deepEqual(by('text').headers, [
        ['source', Buffer.from('java-producer')],
        ['bin', Buffer.from([0x00, 0x01, 0xfe, 0xff])],
        ['trace', Buffer.from('first')],
        ['trace', Buffer.from('second')],
        ['출처', Buffer.from('자바 🎈')],
      ]);
      assert.deepEqual(JSON.parse(by('json').value!.toString('utf8')), jsonValue(codec));
      const binary = by('binary');
      assert.deepEqual(binary.key, Buffer.from([0x00, 0xff, 0x7f, 0x80, 0x0a]));
      assert.equal(binary.value!.length, 258);
      assert.ok(binary.value!.includes(0x00) && binary.value!.includes(0xff));
      assert.ok(by('large').value!.length > 5 * 1024);
      assert.equal(by('no-key').key, null);
      assert.equal(by('tombstone').value, null);
      assert.equal(by('tombstone').key!.toString(), 'user-1');
      assert.deepEqual(by('null-header').headers, [
        ['present', Buffer.from('yes')],
        ['empty', Buffer.alloc(0)],
        ['nothing', null],
      ]);
      assert.deepEqual([by('empty').key, by('empty').value], [Buffer.alloc(0), Buffer.alloc(0)]);
      // Explicit timestamps: an hour back, and not in send order.
      const ts = w.map((x) => x.timestamp);
      assert.ok(ts.every((x) => x < Date.now() - 3_000_000), 'CreateTime from the records, not the broker clock');
      assert.notDeepEqual(ts, [...ts].sort((a, b) => a - b));
    }
    if (!kafka.logDir) return t.diagnostic(`batch check skipped: ${NO_BROKER_LOGS_REASON}`);
    // What the broker stored (one DumpLogSegments run over all 10 partitions).
    const files = [...topics.values()].flatMap((topic) =>
      [0, 1].flatMap((p) => {
        const dir = path.join(kafka.logDir!, `${topic}-${p}`);
        return fs.readdirSync(dir).filter((f) => /^\d{20}\.log$/.test(f)).map((f) => path.join(dir, f));
      }),
    );
    const { stdout } = await javaRun(DUMP_LOG_SEGMENTS_CLASS, ['--files', files.join(','), '--deep-iteration'], { timeoutMs: 120_000 });
    const batches = parseDumpLogSegments(stdout);
    const summary: string[] = [];
    for (const [codec, topic] of topics) {
      const mine = batches.filter((b) => path.basename(path.dirname(b.file)).startsWith(`${topic}-`));
      const partitionOf = (b: (typeof batches)[number]) => Number(path.basename(path.dirname(b.file)).slice(topic.length + 1));
      assert.equal(mine.reduce((n, b) => n + b.count, 0), LABELS.length, `${codec}: records stored`);
      for (const b of mine) {
        assert.equal(b.compresscodec, codec, `${codec}: batch codec`);
        assert.equal(b.timestampType, 'CreateTime');
        assert.ok(b.producerId >= 0, `${codec}: idempotent Java producer`);
        for (const r of b.records) {
          const w = written.find((x) => x.topic === topic && x.partition === partitionOf(b) && x.offset === String(r.offset))!;
          assert.ok(w, `${codec}: stored record ${partitionOf(b)}@${r.offset} acknowledged`);
          assert.equal(r.timestamp, w.timestamp, `${codec} ${w.label}: stored timestamp`);
          assert.equal(r.keySize, w.key === null ? -1 : w.key.length);
          assert.equal(r.valueSize, w.value === null ? -1 : w.value.length);
        }
      }
      assert.ok(mine.some((b) => b.count >= 3), `${codec}: records share a batch (${mine.map((b) => b.count).join('+')})`);
      summary.push(`${codec} ${mine.map((b) => b.count).join('+')}`);
    }
    t.diagnostic(`batches written by the Java producer (records per batch): ${summary.join(', ')}`);
  });

  it('payload, key and headers buffer: exact bytes, partition, offset, timestamp and msg.kafka of every record, nothing lost or extra', async (t) => {
    const groupId = uniqueTopic('g-java-rt-buf');
    const started = Date.now();
    await loadFlow(flow([{ id: 'k1', out: 'got', config: { groupId, payloadFormat: 'buffer', keyFormat: 'buffer', headersFormat: 'buffer' } }]), {}, [consumerNode, commitNode]);
    const msgs = await receiveAll('got', groupId);
    bufferPass = msgs;
    assertNothingLostNothingExtra(msgs);
    const same = (actual: unknown, expected: Buffer, what: string) => {
      assert.ok(Buffer.isBuffer(actual), `${what}: not a Buffer: ${JSON.stringify(actual)?.slice(0, 80)}`);
      if (actual.equals(expected)) return;
      let i = 0;
      while (i < actual.length && i < expected.length && actual[i] === expected[i]) i++;
      assert.fail(`${what}: ${actual.length} bytes, expected ${expected.length}; first difference at byte ${i}: ${actual.subarray(i, i + 8).toString('hex')} instead of ${expected.subarray(i, i + 8).toString('hex')}`);
    };
    for (const w of written) {
      const m = msgOf(msgs, w);
      const what = `${w.codec} ${w.label}`;
      if (w.value === null) assert.equal(m.payload, null, `${what}: tombstone payload`);
      else same(m.payload, w.value, `${what}: value`);
      if (w.key === null) assert.equal(m.key, null, `${what}: null key`);
      else same(m.key, w.key, `${what}: key`);
      const headers = expectedHeaders(w, (b) => b);
      assert.deepEqual(Object.keys(m.headers), w.headers.map(([n]) => n).filter((n, i, a) => a.indexOf(n) === i), `${what}: header names in order`);
      for (const [name, v] of Object.entries(headers)) assert.deepEqual(m.headers[name], v, `${what}: header ${name}`);
      if (Array.isArray(headers.trace)) assert.ok(m.headers.trace.every(Buffer.isBuffer));
      assert.equal(m.topic, w.topic);
      assert.equal(m.partition, w.partition);
      assert.equal(m.offset, w.offset);
      assert.equal(typeof m.offset, 'string');
      assert.equal(m.timestamp, w.timestamp, `${what}: the RecordMetadata timestamp`);
      assert.deepEqual(
        { topic: m.kafka.topic, partition: m.kafka.partition, offset: m.kafka.offset, timestamp: m.kafka.timestamp, groupId: m.kafka.groupId },
        { topic: w.topic, partition: w.partition, offset: w.offset, timestamp: w.timestamp, groupId },
        `${what}: msg.kafka`,
      );
      assert.deepEqual(m.kafka.key, m.key, `${what}: msg.kafka.key`);
      assert.deepEqual(m.kafka.headers, m.headers, `${what}: msg.kafka.headers`);
      assert.equal(m._streamsafeConsumed.node, 'k1');
    }
    t.diagnostic(`buffer pass: ${msgs.length} msgs in ${Date.now() - started} ms (deploy, group join, +1 s quiet)`);
  });

  it('payload text / json, key and headers text: the strings and the object Java wrote', async () => {
    const textGroup = uniqueTopic('g-java-rt-text');
    const jsonGroup = uniqueTopic('g-java-rt-json');
    await loadFlow(
      flow([
        { id: 'k1', out: 'got', config: { groupId: textGroup, payloadFormat: 'text', keyFormat: 'text', headersFormat: 'text' } },
        { id: 'k2', out: 'got2', config: { groupId: jsonGroup, payloadFormat: 'json', keyFormat: 'text', headersFormat: 'text' } },
      ]),
      {},
      [consumerNode, commitNode],
    );
    const [text, json] = await Promise.all([receiveAll('got', textGroup), receiveAll('got2', jsonGroup)]);
    assertNothingLostNothingExtra(text);
    assertNothingLostNothingExtra(json);
    const utf8 = (b: Buffer | null) => (b === null ? null : b.toString('utf8'));
    for (const w of written) {
      const t = msgOf(text, w);
      const j = msgOf(json, w);
      const what = `${w.codec} ${w.label}`;
      for (const m of [t, j]) {
        assert.equal(m.timestamp, w.timestamp, what);
        assert.equal(m.kafka.timestamp, w.timestamp, what);
      }
      if (!TEXT_LABELS.has(w.label)) continue;
      assert.equal(t.payload, utf8(w.value), `${what}: text payload`);
      assert.equal(t.key, utf8(w.key), `${what}: text key`);
      assert.equal(j.key, utf8(w.key), `${what}: text key (json pass)`);
      const headers = expectedHeaders(w, (b) => b.toString('utf8'));
      const names = w.headers.map(([n]) => n).filter((n, i, a) => a.indexOf(n) === i);
      assert.deepEqual([Object.keys(t.headers), Object.keys(j.headers)], [names, names], `${what}: header names`);
      for (const [name, v] of Object.entries(headers)) {
        assert.deepEqual(t.headers[name], v, `${what}: text header ${name}`);
        assert.deepEqual(j.headers[name], v, `${what}: text header ${name} (json pass)`);
      }
      if (w.label === 'json') {
        assert.deepEqual(j.payload, jsonValue(w.codec), `${what}: parsed JSON`);
        assert.equal(j.parseError, undefined);
      } else if (w.value === null) {
        assert.equal(j.payload, null, `${what}: tombstone in the json pass`);
      } else {
        // Not JSON: the text, with the reason, never dropped.
        assert.equal(j.payload, utf8(w.value), `${what}: not JSON`);
        assert.equal(j.parseError?.name, 'JsonParseError', what);
      }
    }
    const textRecord = written.find((w) => w.label === 'text' && w.codec === 'zstd')!;
    const t = msgOf(text, textRecord);
    assert.equal(t.payload, textValue('zstd'));
    assert.equal(t.key, TEXT_KEY);
    assert.deepEqual(t.headers, { source: 'java-producer', bin: '\u0000\u0001\ufffd\ufffd', trace: ['first', 'second'], '출처': '자바 🎈' });
  });

  it(
    'a header the Java producer sent with a null value comes as null, not as the text "null"',
    async () => {
      assert.ok(bufferPass, 'needs the buffer pass above');
      const topic = topics.get('none')!;
      const w = written.find((x) => x.topic === topic && x.label === 'null-header')!;
      // kafkajs itself gives null for it.
      const raw = (await readTopic(kafka.brokers, topic, LABELS.length, 30_000)).find((r) => r.partition === w.partition && r.offset === w.offset)!;
      assert.equal(raw.headers!.nothing, null, 'kafkajs: null');
      for (const x of written.filter((y) => y.label === 'null-header')) {
        const m = msgOf(bufferPass, x);
        assert.deepEqual(m.headers, expectedHeaders(x, (b) => b), `${x.codec}: msg.headers`);
        assert.equal(m.headers.nothing, null, `${x.codec}: null header value (got ${JSON.stringify(m.headers.nothing)})`);
      }
    },
  );
});
