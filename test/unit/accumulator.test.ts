import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecordAccumulator, type AccumulatorOptions } from '../../src/lib/kafka/producer/accumulator';
import { ManualClock } from '../../src/lib/common/clock';
import { toProducerRecord } from '../../src/lib/kafka/record';
import { PartitionAssigner } from '../../src/lib/kafka/producer/partitioner';
import { partitionForKey } from '../../src/lib/kafka/murmur2';
import type { PartitionMetadata } from 'kafkajs';

const partitionsMeta = (n: number): PartitionMetadata[] =>
  Array.from({ length: n }, (_, i) => ({ partitionId: i, leader: 1, replicas: [1], isr: [1], offlineReplicas: [], partitionErrorCode: 0 }));

const OPTS: AccumulatorOptions = {
  batchSize: 1000,
  lingerMs: 5,
  bufferMemory: 10_000,
  maxBlockMs: 100,
  deliveryTimeoutMs: 2000,
  maxRequestSize: 5000,
};

function setup(o: Partial<AccumulatorOptions> = {}) {
  const clock = new ManualClock();
  let wakes = 0;
  const acc = new RecordAccumulator({ ...OPTS, ...o }, clock, () => wakes++);
  const rec = (bytes: number, topic = 't') => toProducerRecord({ payload: Buffer.alloc(bytes - 21) }, topic, clock.now());
  return { clock, acc, rec, wakes: () => wakes };
}

const settled = async (p: Promise<unknown>) => {
  const r = await Promise.race([p.then(() => 'ok', (e) => e as Error), new Promise((res) => setImmediate(() => res('pending')))]);
  return r;
};

test('a batch waits for linger.ms, then is ready', () => {
  const { clock, acc, rec } = setup();
  void acc.append(rec(100));
  assert.equal(acc.drain(clock.now()).length, 0);
  assert.equal(acc.nextReadyIn(clock.now()), 5);
  clock.advance(5);
  const [b] = acc.drain(clock.now());
  assert.equal(b.records.length, 1);
  assert.ok(acc.isEmpty());
});

test('a full batch is ready at once; the next record starts a new batch, which rides along in the same request', () => {
  const { clock, acc, rec } = setup();
  for (let i = 0; i < 12; i++) void acc.append(rec(100));
  // 10 × 100 bytes fill the 1000-byte batch; 2 more start the second.
  const request = acc.drain(clock.now());
  assert.deepEqual(request.map((b) => b.records.length), [10, 2]);
  assert.equal(acc.queuedRecords, 0);
});

test('without a full batch nothing goes before linger.ms', () => {
  const { clock, acc, rec } = setup();
  for (let i = 0; i < 9; i++) void acc.append(rec(100));
  assert.equal(acc.drain(clock.now()).length, 0);
  clock.advance(5);
  assert.deepEqual(acc.drain(clock.now()).map((b) => b.records.length), [9]);
});

test('queues per topic drain together', () => {
  const { clock, acc, rec } = setup();
  void acc.append(rec(100, 'a'));
  void acc.append(rec(100, 'b'));
  clock.advance(5);
  assert.deepEqual(acc.drain(clock.now()).map((b) => b.topic).sort(), ['a', 'b']);
});

test('in order: a busy queue is skipped; a free one sends its batches in order in one request', () => {
  const { clock, acc, rec } = setup();
  for (let i = 0; i < 25; i++) void acc.append(rec(100, 'a'));
  assert.equal(acc.drain(clock.now(), new Set(['a\u0000*']), true).length, 0);
  const request = acc.drain(clock.now(), new Set(), true);
  assert.deepEqual(request.map((b) => b.records.length), [10, 10, 5]);
  assert.ok(acc.isEmpty());
});

test('a request stays within max.request.size even for one partition\'s backlog', () => {
  const { clock, acc, rec } = setup({ maxRequestSize: 2500, bufferMemory: 100000 });
  for (let i = 0; i < 50; i++) void acc.append(rec(100, 'a'));
  assert.deepEqual(acc.drain(clock.now()).map((b) => b.records.length), [10, 10]);
  assert.deepEqual(acc.drain(clock.now()).map((b) => b.records.length), [10, 10]);
  assert.deepEqual(acc.drain(clock.now()).map((b) => b.records.length), [10]);
});

test('appends that find no room wait in a bounded line; past it they fail at once', async () => {
  // buffer 2 MiB: the line holds 1 MiB (at least 1 MiB, or an eighth of the buffer).
  const { clock, acc, rec } = setup({ bufferMemory: 2 << 20, batchSize: 1 << 20, maxRequestSize: 1 << 20 });
  for (let i = 0; i < 2 * 16; i++) void acc.append(rec(64 * 1024));
  assert.equal(acc.bytesHeld, 2 << 20);
  const waiting = [];
  for (let i = 0; i < 16; i++) waiting.push(acc.append(rec(64 * 1024)));
  assert.equal(acc.blockedAppends, 16);
  assert.equal(acc.refusing, true, 'a caller can refuse before building the record');
  const err = (await settled(acc.append(rec(64 * 1024)))) as Error;
  assert.equal(err.name, 'BufferExhaustedError');
  assert.match(err.message, /already wait for room/);
  assert.equal(await settled(waiting[0]), 'pending');
  clock.advance(100);
  for (const w of waiting) assert.equal(((await settled(w)) as Error).name, 'BufferExhaustedError', 'max.block.ms passed');
});

test('once a record finds the line full, later ones are refused before they are built, until the line moves', async () => {
  // The line (1 MiB) does not divide into 100,000-byte records: 10 wait, the 11th is refused.
  const { clock, acc, rec } = setup({ bufferMemory: 2 << 20, batchSize: 1 << 20, maxRequestSize: 1 << 20 });
  for (let i = 0; i < 2 * 16; i++) void acc.append(rec(64 * 1024));
  const waiting = [];
  for (let i = 0; i < 10; i++) waiting.push(acc.append(rec(100_000)));
  assert.equal(acc.refusing, false, 'the line still has 48,576 bytes of room');
  assert.equal(((await settled(acc.append(rec(100_000)))) as Error).name, 'BufferExhaustedError');
  assert.equal(acc.refusing, true, 'the next msg is refused without building its record');
  assert.equal(((await settled(acc.append(rec(100)))) as Error).name, 'BufferExhaustedError', 'no small record jumps the full line');
  clock.advance(100); // max.block.ms: the line empties
  for (const w of waiting) assert.equal(((await settled(w)) as Error).name, 'BufferExhaustedError');
  assert.equal(acc.refusing, false);
  const again = acc.append(rec(100));
  assert.equal(acc.blockedAppends, 1, 'a new record waits in line again');
  clock.advance(100);
  assert.match(((await settled(again)) as Error).message, /max blocking time/);
});

test('buffer.memory bounds the bytes held; a blocked append gets room when a record settles', async () => {
  const { clock, acc, rec } = setup({ bufferMemory: 1000, batchSize: 200 });
  const first = [];
  for (let i = 0; i < 10; i++) first.push(acc.append(rec(100)));
  assert.equal(acc.bytesHeld, 1000);
  const blocked = acc.append(rec(100));
  assert.equal(acc.blockedAppends, 1);
  assert.equal(acc.bytesHeld, 1000);
  const [b] = acc.drain(clock.now());
  acc.succeed(b.records[0], { topic: 't', partition: 0, offset: '0', timestamp: 0 });
  assert.equal(await first[0].then(() => 'ok'), 'ok');
  assert.equal(acc.blockedAppends, 0);
  assert.equal(acc.bytesHeld, 1000);
  assert.equal(await settled(blocked), 'pending');
});

test('max.block.ms: an append that finds no room fails with BufferExhaustedError', async () => {
  const { clock, acc, rec } = setup({ bufferMemory: 1000 });
  for (let i = 0; i < 10; i++) void acc.append(rec(100));
  const blocked = acc.append(rec(100));
  clock.advance(99);
  assert.equal(await settled(blocked), 'pending');
  clock.advance(1);
  const err = (await settled(blocked)) as Error;
  assert.equal(err.name, 'BufferExhaustedError');
  assert.match(err.message, /within the configured max blocking time 100 ms/);
  assert.equal(acc.bytesHeld, 1000);
});

test('delivery.timeout.ms expires queued records with the topic named', async () => {
  const { clock, acc, rec } = setup();
  const p = acc.append(rec(100, 'tweets'));
  clock.advance(1999);
  assert.equal(acc.expire(clock.now()), 0);
  clock.advance(1);
  assert.equal(acc.expire(clock.now()), 1);
  const err = (await settled(p)) as Error;
  assert.equal(err.name, 'DeliveryTimeoutError');
  assert.match(err.message, /Expiring record for tweets: 2000 ms has passed/);
  assert.equal(acc.bytesHeld, 0);
  assert.ok(acc.isEmpty());
});

test('records larger than max.request.size or buffer.memory are refused at once', async () => {
  const { acc, rec } = setup();
  const err = (await settled(acc.append(rec(6000)))) as Error;
  assert.equal(err.name, 'RecordTooLargeError');
  assert.match(err.message, /max.request.size/);
  assert.equal(acc.bytesHeld, 0);
});

test('a requeued batch goes first, after its backoff; a split one becomes single-record batches', () => {
  const { clock, acc, rec } = setup();
  for (let i = 0; i < 3; i++) void acc.append(rec(100));
  clock.advance(5);
  const [b] = acc.drain(clock.now());
  void acc.append(rec(100));
  acc.requeue(b, clock.now() + 50);
  assert.equal(acc.drain(clock.now(), new Set(), true).length, 0, 'backoff holds the head, and order holds the rest');
  clock.advance(50);
  const [again] = acc.drain(clock.now(), new Set(), true);
  assert.equal(again, b);
  assert.equal(again.attempts, 2);
  acc.split(again, clock.now());
  // Each single goes in a request of its own.
  const requests = [acc.drain(clock.now()), acc.drain(clock.now()), acc.drain(clock.now())];
  assert.deepEqual(requests.map((r) => r.map((b) => b.records.length)), [[1], [1], [1]]);
});

test('flush makes lingering batches ready; close fails blocked appends', async () => {
  const { clock, acc, rec } = setup({ bufferMemory: 200 });
  void acc.append(rec(100));
  void acc.append(rec(100));
  const blocked = acc.append(rec(100));
  acc.beginFlush();
  assert.equal(acc.drain(clock.now()).length, 1);
  acc.endFlush();
  acc.close();
  const err = (await settled(blocked)) as Error;
  assert.equal(err.name, 'ProducerClosedError');
  assert.equal((await settled(acc.append(rec(30))) as Error).name, 'ProducerClosedError');
});

function partitioned(o: Partial<AccumulatorOptions> = {}, partitions = 4) {
  const clock = new ManualClock();
  let r = 0;
  const assigner = new PartitionAssigner(o.batchSize ?? OPTS.batchSize, () => (r = (r + 0.37) % 1));
  assigner.learn('t', partitionsMeta(partitions));
  const acc = new RecordAccumulator({ ...OPTS, ...o }, clock, () => {}, assigner);
  const rec = (bytes: number, key?: string, partition?: number) =>
    toProducerRecord({ payload: Buffer.alloc(bytes - 21 - (key ? Buffer.byteLength(key) : 0)), key, partition }, 't', clock.now());
  return { clock, acc, rec, assigner };
}

test('keyed records are batched per partition, on the Java client\'s partition', () => {
  const { clock, acc, rec } = partitioned({}, 4);
  const keys = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
  for (const k of keys) void acc.append(rec(50, k));
  clock.advance(5);
  const request = acc.drain(clock.now());
  const expected = new Map<number, string[]>();
  for (const k of keys) {
    const p = partitionForKey(Buffer.from(k), 4);
    expected.set(p, [...(expected.get(p) ?? []), k]);
  }
  assert.equal(request.length, expected.size, 'one batch per partition, all in one request');
  for (const b of request) {
    assert.deepEqual(b.records.map((p) => p.record.key!.toString()), expected.get(b.partition!));
  }
});

test('once one partition\'s batch is ready, the others go along in the same request', () => {
  const { clock, acc, rec } = partitioned({ batchSize: 500, lingerMs: 1000 }, 4);
  void acc.append(rec(100, undefined, 0));
  void acc.append(rec(100, undefined, 1));
  assert.equal(acc.drain(clock.now()).length, 0, 'nothing is ready yet');
  for (let i = 0; i < 5; i++) void acc.append(rec(100, undefined, 2)); // fills partition 2
  const request = acc.drain(clock.now());
  assert.deepEqual(request.map((b) => b.partition).sort(), [0, 1, 2]);
});

test('a request stays within max.request.size', () => {
  const { clock, acc, rec } = partitioned({ batchSize: 1000, maxRequestSize: 2500, bufferMemory: 100000 }, 4);
  for (let p = 0; p < 4; p++) for (let i = 0; i < 10; i++) void acc.append(rec(100, undefined, p));
  const first = acc.drain(clock.now());
  assert.equal(first.length, 2, `${first.length} batches of 1000 bytes fit in 2500`);
  assert.equal(acc.drain(clock.now()).length, 2);
});

test('null keys stick to one partition until batch.size bytes, then move on (KIP-794)', () => {
  const { clock, acc, rec } = partitioned({ batchSize: 1000, bufferMemory: 100000 }, 6);
  const records = Array.from({ length: 40 }, () => rec(100));
  for (const r of records) void acc.append(r);
  const partitionOf = new Map<unknown, number>();
  for (;;) {
    const request = acc.drain(clock.now() + 10);
    if (!request.length) break;
    for (const b of request) for (const p of b.records) partitionOf.set(p.record, p.partition!);
  }
  const partitions = records.map((r) => partitionOf.get(r)!);
  // 100-byte records, batch.size 1000: runs of 10 on one partition.
  const runs: Array<[number, number]> = [];
  for (const p of partitions) {
    const last = runs[runs.length - 1];
    if (last && last[0] === p) last[1]++;
    else runs.push([p, 1]);
  }
  assert.equal(partitions.length, 40);
  assert.ok(runs.every(([, n]) => n === 10), JSON.stringify(runs));
  for (let i = 1; i < runs.length; i++) assert.notEqual(runs[i][0], runs[i - 1][0], 'moves to another partition');
});

test('an explicit partition the topic does not have is refused at once', async () => {
  const { acc, rec } = partitioned({}, 3);
  const err = (await settled(acc.append(rec(50, undefined, 3)))) as Error;
  assert.equal(err.name, 'RecordError');
  assert.match(err.message, /Invalid partition given with record: 3 is not in the range \[0\.\.\.3\)/);
  assert.equal(acc.bytesHeld, 0);
});

test('while records of a topic wait unpartitioned, later ones join them instead of overtaking', () => {
  const clock = new ManualClock();
  const assigner = new PartitionAssigner(1000);
  const acc = new RecordAccumulator(OPTS, clock, () => {}, assigner);
  void acc.append(toProducerRecord({ payload: 'first', key: 'user-1' }, 'fresh', clock.now()));
  clock.advance(5);
  const [first] = acc.drain(clock.now());
  assert.equal(first.partition, undefined);
  // kafkajs learnt the topic while sending the first record...
  assigner.learn('fresh', partitionsMeta(12));
  // ...but until that record is settled, the next ones stay behind it in the same queue.
  void acc.append(toProducerRecord({ payload: 'second', key: 'user-1' }, 'fresh', clock.now()));
  clock.advance(5);
  const [second] = acc.drain(clock.now(), new Set([first.queueKey]), true);
  assert.equal(second, undefined, 'the unassigned queue is busy: nothing overtakes');
  acc.succeed(first.records[0], { topic: 'fresh', partition: 3, offset: '0', timestamp: 0 });
  const [next] = acc.drain(clock.now(), new Set(), true);
  assert.equal(next.queueKey, first.queueKey);
  acc.succeed(next.records[0], { topic: 'fresh', partition: 3, offset: '1', timestamp: 0 });
  // Once none is pending, records get their partition at append again.
  void acc.append(toProducerRecord({ payload: 'third', key: 'user-1' }, 'fresh', clock.now()));
  clock.advance(5);
  const [third] = acc.drain(clock.now());
  assert.equal(third.partition, partitionForKey(Buffer.from('user-1'), 12));
});

test('records of an unknown topic wait unpartitioned; the kafkajs partitioner places them by the same rules', () => {
  const clock = new ManualClock();
  const assigner = new PartitionAssigner(1000);
  const acc = new RecordAccumulator(OPTS, clock, () => {}, assigner);
  void acc.append(toProducerRecord({ payload: 'x', key: 'user-1' }, 'fresh', clock.now()));
  clock.advance(5);
  const [b] = acc.drain(clock.now());
  assert.equal(b.partition, undefined);
  const choose = assigner.kafkajsPartitioner()();
  const message: { key: Buffer; value: Buffer; partition?: number } = { key: Buffer.from('user-1'), value: Buffer.from('x') };
  const p = choose({ topic: 'fresh', partitionMetadata: partitionsMeta(12), message });
  assert.equal(p, partitionForKey(Buffer.from('user-1'), 12));
  assert.equal(message.partition, p, 'kept on the message for retries');
  assert.equal(assigner.partitionCount('fresh'), 12);
  assigner.learn('fresh', partitionsMeta(24));
  assert.equal(assigner.partitionCount('fresh'), 24, 'a grown topic is picked up');
});
