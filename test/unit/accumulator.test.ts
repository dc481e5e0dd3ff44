// The accumulator alone: batching per partition, readiness per broker, drains
// of one batch per partition up to max.request.size, records waiting for
// metadata, expiry, resends in sequence order, splits and settling.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecordAccumulator, type AccumulatorOptions } from '../../src/lib/kafka/producer/accumulator';
import { BufferPool } from '../../src/lib/kafka/producer/buffer-pool';
import { ClusterMetadata } from '../../src/lib/kafka/producer/cluster-metadata';
import { PartitionAssigner } from '../../src/lib/kafka/producer/partitioner';
import type { PendingRecord, RecordMetadata } from '../../src/lib/kafka/producer/producer-batch';
import { ManualClock } from '../../src/lib/common/clock';
import { toProducerRecord } from '../../src/lib/kafka/record';
import { partitionForKey } from '../../src/lib/kafka/murmur2';

const OPTS: AccumulatorOptions = { batchSize: 1000, lingerMs: 5, deliveryTimeoutMs: 2000, maxBlockMs: 500, compressed: false };

interface Outcome {
  meta?: RecordMetadata;
  err?: Error;
}

/** The outcome's error, read fresh (not narrowed by an earlier assertion). */
const errorOf = (o: Outcome): Error | undefined => o.err;

function setup(o: Partial<AccumulatorOptions> = {}, bufferMemory = 1_000_000) {
  const clock = new ManualClock();
  const metadata = new ClusterMetadata({ retryBackoffMs: 100, retryBackoffMaxMs: 1000 });
  const pool = new BufferPool(bufferMemory, 100, clock);
  let wakes = 0;
  const acc = new RecordAccumulator({ ...OPTS, ...o }, clock, pool, metadata, new PartitionAssigner(1000, () => 0), () => wakes++);
  /** The topic with `n` partitions, partition p led by leaderOf(p). */
  const known = (topic: string, n: number, leaderOf: (p: number) => number = () => 1) => {
    metadata.use(topic, clock.now());
    const request = metadata.attempt(clock.now());
    metadata.update(
      {
        brokers: [1, 2, 3].map((nodeId) => ({ nodeId, host: 'h', port: 9000 + nodeId, rack: null })),
        clusterId: 'c',
        controllerId: 1,
        topics: [
          {
            errorCode: 0,
            topic,
            partitions: Array.from({ length: n }, (_, partition) => ({
              errorCode: 0, partition, leader: leaderOf(partition), leaderEpoch: 0, replicas: [1], isr: [1], offlineReplicas: [],
            })),
          },
        ],
      },
      clock.now(),
      request,
    );
    acc.placeWaiting();
  };
  /** Appends a record of `bytes` (as record.ts sizes it: 21 bytes of overhead + value). */
  const add = (bytes: number, r: { topic?: string; key?: string; partition?: number; value?: string } = {}): Outcome => {
    const outcome: Outcome = {};
    const record = toProducerRecord({ payload: r.value ?? Buffer.alloc(bytes - 21 - (r.key ? Buffer.byteLength(r.key) : 0)), key: r.key, partition: r.partition }, r.topic ?? 't', clock.now());
    const p: PendingRecord = { record, receivedAt: clock.now(), acknowledged: (meta) => (outcome.meta = meta), failed: (err) => (outcome.err = err) };
    pool.allocate(record.memoryBytes, () => acc.add(p), (err) => (outcome.err = err));
    return outcome;
  };
  const drainAll = (node: number, maxRequestSize = 1_000_000) => {
    const check = acc.ready(clock.now());
    return acc.drain(node, check.queuesByNode.get(node) ?? [], maxRequestSize, clock.now());
  };
  return { clock, metadata, pool, acc, known, add, drainAll, wakes: () => wakes };
}

test('a batch waits for linger.ms, then its broker is ready', () => {
  const { clock, acc, known, add } = setup();
  known('t', 1);
  add(100);
  let check = acc.ready(clock.now());
  assert.equal(check.readyNodes.size, 0);
  assert.equal(check.nextReadyCheckMs, 5);
  clock.advance(5);
  check = acc.ready(clock.now());
  assert.deepEqual([...check.readyNodes], [1]);
  const batches = acc.drain(1, check.queuesByNode.get(1)!, 1_000_000, clock.now());
  assert.equal(batches.length, 1);
  assert.equal(batches[0].count, 1);
  assert.equal(acc.queuedRecords, 0);
});

test('batch.size fills a batch; a full batch is ready at once; one batch per partition per request', () => {
  const { clock, acc, known, add, drainAll } = setup();
  known('t', 1);
  // 61 bytes of batch header + 9 × 100 fit in 1000; the 10th starts the next batch.
  for (let i = 0; i < 12; i++) add(100);
  assert.deepEqual([...acc.ready(clock.now()).readyNodes], [1], 'the first batch is full: ready without linger');
  const first = drainAll(1);
  assert.deepEqual(first.map((b) => b.count), [9], 'only the first batch of the partition');
  clock.advance(5);
  assert.deepEqual(drainAll(1).map((b) => b.count), [3]);
});

test('readiness and drains are per broker: a request carries only partitions its broker leads', () => {
  const { clock, acc, known, add } = setup();
  known('t', 6, (p) => 1 + (p % 3));
  for (let p = 0; p < 6; p++) add(100, { partition: p });
  clock.advance(5);
  const check = acc.ready(clock.now());
  assert.deepEqual([...check.readyNodes].sort(), [1, 2, 3]);
  for (const node of [1, 2, 3]) {
    const batches = acc.drain(node, check.queuesByNode.get(node)!, 1_000_000, clock.now());
    assert.deepEqual(batches.map((b) => b.partition).sort(), [node - 1, node + 2]);
  }
});

test('a drain stays within max.request.size (the first batch always fits) and starts where the last one stopped', () => {
  const { clock, acc, known, add, drainAll } = setup();
  known('t', 4);
  for (let p = 0; p < 4; p++) add(400, { partition: p });
  clock.advance(5);
  const seen: number[] = [];
  for (let i = 0; i < 4; i++) {
    const batches = drainAll(1, 500);
    assert.equal(batches.length, 1, 'two batches of ~461 bytes do not fit in 500');
    seen.push(batches[0].partition);
  }
  assert.deepEqual(seen.sort(), [0, 1, 2, 3], 'every partition had its turn');
});

test('keyed records go to the Java client\'s partition and are batched there', () => {
  const { clock, known, add, drainAll } = setup();
  known('t', 12);
  for (const key of ['foobar', '21', 'foobar']) add(100, { key });
  clock.advance(5);
  const batches = drainAll(1);
  const byPartition = new Map(batches.map((b) => [b.partition, b.count]));
  assert.equal(byPartition.get(partitionForKey(Buffer.from('foobar'), 12)), 2);
  assert.equal(byPartition.get(partitionForKey(Buffer.from('21'), 12)), 1);
});

test('records of a topic not in the metadata wait, in order, and are placed once it is', () => {
  const { clock, acc, metadata, known, add, drainAll } = setup();
  add(100, { value: 'a' });
  add(100, { value: 'b' });
  assert.equal(acc.queuedRecords, 2);
  assert.ok(metadata.updatePending, 'a metadata update is asked for');
  assert.equal(acc.ready(clock.now()).readyNodes.size, 0);
  known('t', 1);
  add(100, { value: 'c' });
  clock.advance(5);
  const [batch] = drainAll(1);
  assert.deepEqual(batch.records.map((p) => p.record.value!.toString()), ['a', 'b', 'c']);
});

test('a partition without a leader holds its batches and names the topic for a metadata update', () => {
  const { clock, acc, known, add } = setup();
  known('t', 2, (p) => (p === 0 ? -1 : 1));
  add(100, { partition: 0 });
  add(100, { partition: 1 });
  clock.advance(5);
  const check = acc.ready(clock.now());
  assert.deepEqual([...check.unknownLeaderTopics], ['t']);
  assert.deepEqual(check.queuesByNode.get(1)!.map((q) => q.partition), [1]);
});

test('an explicit partition the topic lacks fails only after an answer to a request made after it came', () => {
  const { clock, metadata, acc, known, add } = setup();
  known('t', 3);
  // A request already under way when the record comes...
  const before = metadata.attempt(clock.now());
  const r = add(100, { partition: 5 });
  assert.ok(errorOf(r) === undefined, 'not refused on the metadata it came with: the topic may have grown');
  // ...does not decide: its answer may predate a growth.
  metadata.update(
    { brokers: [], clusterId: 'c', controllerId: 1, topics: [{ errorCode: 0, topic: 't', partitions: metadata.get('t')!.partitions }] },
    clock.now(),
    before,
  );
  acc.placeWaiting();
  assert.ok(errorOf(r) === undefined);
  assert.ok(metadata.updatePending, 'it asks again');
  known('t', 3);
  assert.match(String(errorOf(r)?.message), /Invalid partition given with record: 5 is not in the range \[0\.\.\.3\)/);
  assert.equal(errorOf(r)?.name, 'RecordError');
  // A topic that did grow takes the record.
  const grown = add(100, { partition: 7 });
  known('t', 8);
  clock.advance(5);
  assert.ok(errorOf(grown) === undefined);
  assert.equal(acc.ready(clock.now()).queuesByNode.get(1)!.some((q) => q.partition === 7 && q.batches.length === 1), true);
});

test('records waiting for metadata fail at min(max.block.ms, delivery.timeout.ms), saying so', () => {
  const a = setup({ maxBlockMs: 300, deliveryTimeoutMs: 2000 });
  const r1 = a.add(100, { topic: 'missing' });
  a.clock.advance(299);
  a.acc.expireWaiting(a.clock.now());
  assert.ok(errorOf(r1) === undefined);
  a.clock.advance(1);
  a.acc.expireWaiting(a.clock.now());
  assert.equal(errorOf(r1)?.name, 'MetadataTimeoutError');
  assert.match(errorOf(r1)!.message, /topic "missing" after 300 ms \(max\.block\.ms\): the record was not written/);

  const b = setup({ maxBlockMs: 60000, deliveryTimeoutMs: 1000 });
  const r2 = b.add(100, { topic: 'missing' });
  assert.equal(b.acc.nextExpiryMs(b.clock.now()), 1000);
  b.clock.advance(1000);
  b.acc.expireWaiting(b.clock.now());
  assert.equal(r2.err?.name, 'DeliveryTimeoutError');
  assert.match(r2.err!.message, /Expiring 1 record\(s\) for missing: 1000 ms has passed waiting for the metadata of topic "missing"/);
});

test('queued batches past delivery.timeout.ms are taken out oldest first; the error names the partition and the last error', () => {
  const { clock, acc, known, add } = setup();
  known('t', 1);
  add(100);
  clock.advance(1500);
  add(950); // a second batch, younger
  clock.advance(500);
  acc.noteError('t', 0, new Error('Connection error: connect ECONNREFUSED'));
  const expired = acc.expiredBatches(clock.now());
  assert.equal(expired.length, 1, 'only the old batch');
  const err = acc.timeoutError(expired[0], clock.now());
  assert.equal(err.name, 'DeliveryTimeoutError');
  assert.match(err.message, /Expiring 1 record\(s\) for t-0: 2000 ms has passed since batch creation \(delivery\.timeout\.ms is 2000 ms\)\. It was never sent: it was not written\. Last error: Connection error/);
  assert.equal(acc.nextExpiryMs(clock.now()), 1500);
});

test('a resent batch goes back in sequence order among the batches being resent, ahead of new ones', () => {
  const { clock, acc, known, add, drainAll } = setup();
  known('t', 1);
  for (let i = 0; i < 27; i++) add(100); // three batches of 9
  clock.advance(5);
  const [b1] = drainAll(1);
  const [b2] = drainAll(1);
  b1.setProducerState(7n, 0, 0);
  b2.setProducerState(7n, 0, 9);
  add(100);
  // Answers come back in any order; the queue stays in sequence order.
  acc.reenqueue(b2, clock.now(), 0);
  acc.reenqueue(b1, clock.now(), 0);
  const order = [drainAll(1)[0], drainAll(1)[0], drainAll(1)[0]];
  assert.deepEqual(order.map((b) => b.baseSequence), [0, 9, -1]);
  assert.equal(order[2].count, 9, 'then the batches never sent');
});

test('a resent batch waits out its backoff', () => {
  const { clock, acc, known, add, drainAll } = setup();
  known('t', 1);
  add(100);
  clock.advance(5);
  const [b] = drainAll(1);
  b.attempts = 1;
  acc.reenqueue(b, clock.now(), 100);
  const check = acc.ready(clock.now());
  assert.equal(check.readyNodes.size, 0);
  assert.equal(check.nextReadyCheckMs, 100);
  clock.advance(100);
  assert.equal(drainAll(1)[0], b);
});

test('a batch the broker finds too large comes back as two halves, first in line, keeping its sequence numbers', () => {
  const { clock, acc, known, add, drainAll } = setup();
  known('t', 1);
  for (let i = 0; i < 9; i++) add(100, { value: `v${i}` });
  clock.advance(5);
  const [b] = drainAll(1);
  b.setProducerState(3n, 2, 40);
  const [first, second] = acc.splitAndReenqueue(b, clock.now());
  assert.deepEqual([first.count, second.count], [5, 4]);
  assert.deepEqual([first.baseSequence, second.baseSequence], [40, 45]);
  assert.equal(first.producerEpoch, 2);
  assert.equal(first.createdAt, b.createdAt, 'the delivery timeout still counts from the first record');
  const again = [drainAll(1)[0], drainAll(1)[0]];
  assert.deepEqual(again.flatMap((x) => x.records.map((p) => p.record.value!.toString())), ['v0', 'v1', 'v2', 'v3', 'v4', 'v5', 'v6', 'v7', 'v8']);
});

test('with compression, batch.size counts the estimated compressed size (Java\'s ratio estimate)', () => {
  const { clock, acc, known, add, drainAll } = setup({ compressed: true });
  known('t', 1);
  // Batches compress to a quarter: as Java's estimator, the estimate comes down slowly (0.005 a batch)...
  acc.observeCompression('t', 10_000, 2_500);
  assert.equal(acc.estimatedSize(Object.assign(Object.create(null), { topic: 't', recordBytes: 1000 })), 61 + 995);
  for (let i = 0; i < 200; i++) acc.observeCompression('t', 10_000, 2_500);
  for (let i = 0; i < 60; i++) add(100);
  clock.advance(5);
  const [b] = drainAll(1);
  assert.ok(b.count > 9 && b.count < 60, `more records than uncompressed fit (got ${b.count})`);
  assert.ok(acc.estimatedSize(b) <= 1000);
  // ...and goes up fast when batches compress worse, so that none outgrows its limits.
  acc.observeCompression('t', 10_000, 9_000);
  assert.equal(acc.estimatedSize(Object.assign(Object.create(null), { topic: 't', recordBytes: 1000 })), 61 + 900);
});

test('settling: offsets count from the base offset as text, exact past 2^53; LogAppendTime replaces the timestamps', () => {
  const { clock, acc, known, add, drainAll, pool } = setup();
  known('t', 1);
  const r = [add(100), add(100), add(100)];
  clock.advance(5);
  const [b] = drainAll(1);
  const before = pool.heldBytes;
  acc.complete(b, 9007199254740991n, 1_700_000_000_000n);
  assert.deepEqual(r.map((o) => o.meta!.offset), ['9007199254740991', '9007199254740992', '9007199254740993']);
  assert.ok(r.every((o) => o.meta!.timestamp === 1_700_000_000_000));
  assert.ok(pool.heldBytes < before && pool.heldBytes === 0, 'their buffer bytes are free again');
  // A record settles once.
  acc.failBatch(b, new Error('late'));
  assert.equal(r[0].err, undefined);
});

test('flush and close make lingering batches ready at once', () => {
  const { clock, acc, known, add } = setup({ lingerMs: 10_000 });
  known('t', 1);
  add(100);
  assert.equal(acc.ready(clock.now()).readyNodes.size, 0);
  acc.beginFlush();
  assert.equal(acc.ready(clock.now()).readyNodes.size, 1);
  acc.endFlush();
  assert.equal(acc.ready(clock.now()).readyNodes.size, 0);
  acc.close();
  assert.equal(acc.ready(clock.now()).readyNodes.size, 1);
});

test('abortAll fails every queued and waiting record with the error made for it', () => {
  const { acc, known, add } = setup();
  known('t', 1);
  const queued = add(100);
  const waiting = add(100, { topic: 'unknown' });
  assert.equal(acc.abortAll((p) => new Error(`closed: ${p.record.topic}`)), 2);
  assert.equal(queued.err?.message, 'closed: t');
  assert.equal(waiting.err?.message, 'closed: unknown');
  assert.ok(acc.isEmpty());
});
