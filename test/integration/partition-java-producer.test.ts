// On the real broker: the same keys produced by the Java producer (kafka-clients,
// default partitioner; test/support/java/PartitionProducer.java) and through
// Node-RED (partition key node → kafka producer node) land on the same
// partitions, and the partition key node's prediction is where the record landed:
//
//   pk ─┬─> p1 (kafka producer; sends to msg.partition)                     → out1
//       └─> mv (change: msg.partition → msg.predicted) → p2 (kafka producer;
//            only msg.key, so our partitioner picks the partition itself)     → out2
//
// Every record is then read back with a consumer and checked against the Java
// producer's acknowledged partition for its key. Then a topic grows and the
// check is repeated with both producers seeing the new partition count.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { getTestKafka, type TestKafka } from '../support/kafka';
import { kafkaClasspath } from '../support/kafka/classpath';
import { compileJava, javaRun } from '../support/kafka/java';
import { brokerNode, catchNode, collect, createTopic, getNode, helper, kafkaClient, partitionKeyNode, producerNode, readTopic, uniqueTopic, unloadFlow } from '../support/node-red';
import { keyToBytes, partitionForKey } from '../../src/lib/kafka/murmur2';

const SOURCE = path.join(__dirname, '..', 'support', 'java', 'PartitionProducer.java');
const changeNode = require(require.resolve('@node-red/nodes/core/function/15-change.js'));

// ---------------------------------------------------------------------------
// The partition key node from dist/, with RED._ reading its en-US catalog.


// ---------------------------------------------------------------------------
// Keys: what the node gets in msg.key, and what the Java producer sends (a
// String through StringSerializer, or byte[]).

interface Key {
  label: string;
  /** msg.key for the node */
  node: string | Buffer | number | object;
  /** the Java key: text (UTF-16 units) or bytes */
  java: { text: string } | { bytes: Buffer };
}

function prng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

function generateKeys(): Key[] {
  const next = prng(0x70a57);
  const pick = (chars: () => string, n: number) => Array.from({ length: n }, chars).join('');
  const alnum = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_';
  const keys: Key[] = [];
  const text = (label: string, s: string) => keys.push({ label, node: s, java: { text: s } });
  for (let i = 0; i < 400; i++) text('author id', (1_500_000_000_000_000_000n + BigInt(next()) * 65_537n).toString());
  for (let i = 0; i < 300; i++) text('handle', '@' + pick(() => alnum[next() % alnum.length], 3 + (next() % 14)));
  for (let i = 0; i < 300; i++) text('korean', pick(() => String.fromCharCode(0xac00 + (next() % 11172)), 1 + (next() % 20)));
  for (let i = 0; i < 200; i++) text('japanese', pick(() => String.fromCharCode(next() % 2 ? 0x3041 + (next() % 0x56) : 0x4e00 + (next() % 0x5200)), 1 + (next() % 20)));
  for (let i = 0; i < 200; i++) text('emoji', pick(() => (next() % 3 ? String.fromCodePoint(0x1f600 + (next() % 0x50)) : alnum[next() % alnum.length]), 1 + (next() % 12)));
  for (let i = 0; i < 40; i++) text('long', pick(() => alnum[next() % alnum.length], 1000 + (next() % 3000)));
  text('empty string', '');
  for (let i = 0; i < 300; i++) {
    const b = Buffer.alloc(next() % 48);
    for (let j = 0; j < b.length; j++) b[j] = next() & 0xff;
    keys.push({ label: 'bytes', node: b, java: { bytes: b } });
  }
  keys.push({ label: 'empty bytes', node: Buffer.alloc(0), java: { bytes: Buffer.alloc(0) } });
  for (let i = 0; i < 200; i++) {
    const n = i % 2 ? next() - 2 ** 31 : next() / (1 + (next() % 977));
    keys.push({ label: 'number', node: n, java: { text: String(n) } });
  }
  for (let i = 0; i < 200; i++) {
    const o = { author_id: String(next()), lang: i % 2 ? 'ko' : 'ja', tags: [next() % 100] };
    keys.push({ label: 'object', node: o, java: { text: JSON.stringify(o) } });
  }
  return keys;
}

function encodeKeys(keys: Key[]): Buffer {
  const parts: Buffer[] = [];
  for (const k of keys) {
    if ('bytes' in k.java) {
      const head = Buffer.alloc(5);
      head[0] = 0;
      head.writeInt32BE(k.java.bytes.length, 1);
      parts.push(head, k.java.bytes);
    } else {
      const s = k.java.text;
      const b = Buffer.alloc(5 + 2 * s.length);
      b[0] = 1;
      b.writeInt32BE(s.length, 1);
      for (let i = 0; i < s.length; i++) b.writeUInt16BE(s.charCodeAt(i), 5 + 2 * i);
      parts.push(b);
    }
  }
  return Buffer.concat(parts);
}

// ---------------------------------------------------------------------------
// Java


/** Produces every key to each topic with the Java producer; the partition of each acknowledged record, per topic. */
async function javaProduce(keys: Key[], topics: string[], prefix: string): Promise<Map<string, { partitions: number; landed: number[] }>> {
  const classpath = await kafkaClasspath();
  const classes = await compileJava(SOURCE, classpath);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'partition-java-'));
  try {
    const keysFile = path.join(work, 'keys.bin');
    const outFile = path.join(work, 'partitions.bin');
    fs.writeFileSync(keysFile, encodeKeys(keys));
    await javaRun('PartitionProducer', [kafka.brokers.join(','), keysFile, outFile, prefix, ...topics], { classpath: [classes], timeoutMs: 120_000 });
    const out = fs.readFileSync(outFile);
    let p = 0;
    const int = () => {
      const v = out.readInt32BE(p);
      p += 4;
      return v;
    };
    assert.equal(int(), topics.length);
    const result = new Map<string, { partitions: number; landed: number[] }>();
    for (const topic of topics) {
      const partitions = int();
      const count = int();
      assert.equal(count, keys.length);
      result.set(topic, { partitions, landed: Array.from({ length: count }, int) });
    }
    assert.equal(p, out.length);
    return result;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------
// Node-RED

let kafka: TestKafka;

before(async () => {
  kafka = await getTestKafka();
  await new Promise<void>((resolve) => helper.startServer(resolve));
});
after(async () => {
  await unloadFlow();
  await new Promise<void>((resolve) => helper.stopServer(resolve));
});

async function loadFlow(): Promise<void> {
  const flow = [
    { id: 'tab', type: 'tab', label: 'partition check' },
    { id: 'b1', type: 'streamsafe-kafka-broker', z: '', brokers: kafka.brokers.join(','), clientId: 'pk-java', saslMechanism: 'none' },
    { id: 'pk', type: 'streamsafe-partition-key', z: 'tab', key: 'key', keyType: 'msg', nullKey: 'error', partitionsFrom: 'broker', broker: 'b1', topic: '', metadataMaxAgeMs: '300000', outputHash: true, wires: [['p1', 'mv']] },
    { id: 'p1', type: 'streamsafe-kafka-producer', z: 'tab', broker: 'b1', topic: '', wires: [['out1']] },
    {
      id: 'mv',
      type: 'change',
      z: 'tab',
      rules: [
        { t: 'move', p: 'partition', pt: 'msg', to: 'predicted', tot: 'msg' },
        { t: 'set', p: 'payload', pt: 'msg', to: '"node-key:" & payload', tot: 'jsonata' },
      ],
      wires: [['p2']],
    },
    { id: 'p2', type: 'streamsafe-kafka-producer', z: 'tab', broker: 'b1', topic: '', wires: [['out2']] },
    { id: 'out1', type: 'helper', z: 'tab' },
    { id: 'out2', type: 'helper', z: 'tab' },
    { id: 'c1', type: 'catch', z: 'tab', uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'tab' },
  ];
  await helper.unload();
  await new Promise<void>((resolve) => helper.load([brokerNode, producerNode, partitionKeyNode, changeNode, catchNode], flow, {}, resolve));
}

/** Sends each key through the flow to `topic`; payload "node-partition:<topic>:<i>" (and "node-key:..." on the p2 path). */
async function nodeProduce(keys: Key[], topic: string, first: Record<string, unknown> = {}): Promise<{ out1: any[]; out2: any[] }> {
  const out1 = collect('out1');
  const out2 = collect('out2');
  const caught = collect('caught');
  const pk = getNode('pk');
  keys.forEach((k, i) => pk.receive({ topic, key: k.node, payload: `node-partition:${topic}:${i}`, ...(i === 0 ? first : {}) }));
  const deadline = Date.now() + 60_000;
  while (out1.msgs.length < keys.length || out2.msgs.length < keys.length) {
    if (caught.msgs.length) throw new Error(`failed: ${caught.msgs.slice(0, 3).map((m) => m.error.message).join('; ')}`);
    if (Date.now() > deadline) throw new Error(`node flow: ${out1.msgs.length}/${out2.msgs.length} of ${keys.length} acknowledged`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const byIndex = (msgs: any[]) => {
    const a: any[] = [];
    for (const m of msgs) a[Number(/:(\d+)$/.exec(m.payload)![1])] = m;
    return a;
  };
  return { out1: byIndex(out1.msgs), out2: byIndex(out2.msgs) };
}

async function growTopic(topic: string, count: number): Promise<void> {
  const admin = kafkaClient(kafka.brokers).admin();
  await admin.connect();
  try {
    await admin.createPartitions({ topicPartitions: [{ topic, count }] });
  } finally {
    await admin.disconnect();
  }
}

/** Checks one topic: Java vs prediction vs both node paths vs what a consumer reads back. */
async function check(t: { diagnostic(s: string): void }, keys: Key[], topic: string, partitions: number, java: { partitions: number; landed: number[] }, node: { out1: any[]; out2: any[] }, javaPrefix: string): Promise<void> {
  assert.equal(java.partitions, partitions, 'Java producer sees the partition count');
  const mismatches: string[] = [];
  const used = new Set<number>();
  for (const [i, k] of keys.entries()) {
    const predicted = node.out1[i].partition;
    const expected = partitionForKey(keyToBytes(k.node as never), partitions);
    used.add(java.landed[i]);
    const seen = [
      ['java landed', java.landed[i]],
      ['node predicted', predicted],
      ['kafkajs formula', expected],
      ['p1 landed (msg.partition)', node.out1[i].kafka.partition],
      ['p2 landed (key only)', node.out2[i].kafka.partition],
      ['p2 predicted', node.out2[i].predicted],
    ] as const;
    if (seen.some(([, p]) => p !== java.landed[i]) && mismatches.length < 10) {
      mismatches.push(`#${i} ${k.label} ${JSON.stringify(k.node).slice(0, 40)}: ${seen.map(([n, p]) => `${n}=${p}`).join(' ')}`);
    }
  }
  assert.deepEqual(mismatches, [], `partitions differ:\n${mismatches.join('\n')}`);
  assert.equal(used.size, partitions, 'the keys cover every partition');

  // What the broker holds: every record of key i, from all three producers, on Java's partition for i.
  const records = await readTopic(kafka.brokers, topic, 3 * keys.length, 60_000);
  const counts = { java: 0, 'node-partition': 0, 'node-key': 0 } as Record<string, number>;
  for (const r of records) {
    const m = /^(\w+(?:-\w+)?):(?:node-partition:)?(.+):(\d+)$/.exec(r.value!.toString());
    assert.ok(m, r.value!.toString());
    const [, who, , index] = m;
    const i = Number(index);
    const source = who === javaPrefix ? 'java' : who;
    counts[source]++;
    assert.equal(r.partition, java.landed[i], `${source} record of key #${i} read back from partition ${r.partition}`);
    assert.deepEqual(r.key, Buffer.from(keyToBytes(keys[i].node as never)), `${source} record #${i} key bytes`);
  }
  assert.deepEqual(counts, { java: keys.length, 'node-partition': keys.length, 'node-key': keys.length });
  t.diagnostic(`${topic}: ${keys.length} keys x 3 producers on ${partitions} partitions, ${records.length} records read back, all on the Java producer's partition`);
}

test('Java producer and the Node-RED flow put every key on the same partition; the node predicts it', { timeout: 180_000 }, async (t) => {
  const started = Date.now();
  const keys = generateKeys();
  const t7 = uniqueTopic('java-pk-7');
  const t12 = uniqueTopic('java-pk-12');
  await createTopic(kafka.brokers, t7, 7);
  await createTopic(kafka.brokers, t12, 12);

  const [java] = await Promise.all([javaProduce(keys, [t7, t12], 'java'), loadFlow()]);
  const javaMs = Date.now() - started;
  const nodeStarted = Date.now();
  const node7 = await nodeProduce(keys, t7);
  const node12 = await nodeProduce(keys, t12);
  const nodeMs = Date.now() - nodeStarted;
  await check(t, keys, t7, 7, java.get(t7)!, node7, 'java');
  await check(t, keys, t12, 12, java.get(t12)!, node12, 'java');
  const cache = getNode('b1').topicMetadata();
  assert.equal(cache.requests, 2, 'one metadata request per topic');

  // The topic grows from 4 to 10 partitions: a new Java producer and a freshly deployed flow
  // map the keys over 10, and most keys move.
  const grown = uniqueTopic('java-pk-grow');
  await createTopic(kafka.brokers, grown, 4);
  const subset = keys.filter((_, i) => i % 4 === 0);
  const before = await nodeProduce(subset, grown);
  for (const [i, k] of subset.entries()) assert.equal(before.out1[i].kafka.partition, partitionForKey(keyToBytes(k.node as never), 4));
  await growTopic(grown, 10);
  const [javaGrown] = await Promise.all([javaProduce(subset, [grown], 'java2'), loadFlow()]);
  const after = await nodeProduce(subset, grown);
  const landed = javaGrown.get(grown)!;
  assert.equal(landed.partitions, 10);
  let moved = 0;
  for (const [i, k] of subset.entries()) {
    const p = partitionForKey(keyToBytes(k.node as never), 10);
    assert.equal(landed.landed[i], p, `Java, key #${i} after the growth`);
    assert.equal(after.out1[i].partition, p, `node prediction, key #${i} after the growth`);
    assert.equal(after.out1[i].kafka.partition, p);
    assert.equal(after.out2[i].kafka.partition, p);
    if (before.out1[i].partition !== p) moved++;
  }
  assert.ok(moved > subset.length / 2, `most keys moved: ${moved} of ${subset.length}`);
  t.diagnostic(
    `${keys.length} keys (${[...new Set(keys.map((k) => k.label))].join(', ')}); Java producer ${javaMs} ms for 2 topics; ` +
      `node flow ${nodeMs} ms for ${2 * keys.length} msgs (${4 * keys.length} records); after growth 4 -> 10 partitions: ` +
      `${subset.length} keys, ${moved} moved, Java and node agree; total ${Date.now() - started} ms`,
  );
});

test(
  'a running flow follows a topic that grows: node refreshed on demand, producer sends to the new partitions',
  {
    timeout: 60_000,
  },
  async () => {
    await loadFlow();
    const keys = generateKeys().filter((_, i) => i % 20 === 0);
    const topic = uniqueTopic('java-pk-live-grow');
    await createTopic(kafka.brokers, topic, 4);
    await nodeProduce(keys, topic);
    await growTopic(topic, 10);
    const after = await nodeProduce(keys, topic, { refreshPartitions: true });
    for (const [i, k] of keys.entries()) {
      const p = partitionForKey(keyToBytes(k.node as never), 10);
      assert.equal(after.out1[i].partition, p, 'the node refreshed');
      assert.equal(after.out1[i].kafka.partition, p, 'the producer sent it there');
    }
  },
);
