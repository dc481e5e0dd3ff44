import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecordAccumulator, type AccumulatorOptions } from '../../src/lib/accumulator';
import { ManualClock } from '../../src/lib/clock';
import { toProducerRecord } from '../../src/lib/record';

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
  assert.equal(acc.drain(clock.now(), 5).length, 0);
  assert.equal(acc.nextReadyIn(clock.now()), 5);
  clock.advance(5);
  const [b] = acc.drain(clock.now(), 5);
  assert.equal(b.records.length, 1);
  assert.ok(acc.isEmpty());
});

test('a full batch is ready at once and the next record starts a new one', () => {
  const { clock, acc, rec } = setup();
  for (let i = 0; i < 12; i++) void acc.append(rec(100));
  // 10 × 100 bytes fill the 1000-byte batch; 2 more start the second.
  const ready = acc.drain(clock.now(), 5);
  assert.equal(ready.length, 1);
  assert.equal(ready[0].records.length, 10);
  assert.equal(acc.queuedRecords, 2);
  assert.equal(acc.drain(clock.now(), 5).length, 0, 'the second batch still lingers');
});

test('queues per topic drain together', () => {
  const { clock, acc, rec } = setup();
  void acc.append(rec(100, 'a'));
  void acc.append(rec(100, 'b'));
  clock.advance(5);
  assert.deepEqual(acc.drain(clock.now(), 5).map((b) => b.topic).sort(), ['a', 'b']);
});

test('in order: a busy queue is skipped and only one batch per queue is taken', () => {
  const { clock, acc, rec } = setup();
  for (let i = 0; i < 25; i++) void acc.append(rec(100, 'a'));
  assert.equal(acc.drain(clock.now(), 5, new Set(['a']), true).length, 0);
  assert.equal(acc.drain(clock.now(), 5, new Set(), true).length, 1);
  assert.equal(acc.drain(clock.now(), 5, new Set(), false).length, 1, 'the last batch still lingers');
});

test('buffer.memory bounds the bytes held; a blocked append gets room when a record settles', async () => {
  const { clock, acc, rec } = setup({ bufferMemory: 1000, batchSize: 200 });
  const first = [];
  for (let i = 0; i < 10; i++) first.push(acc.append(rec(100)));
  assert.equal(acc.bytesHeld, 1000);
  const blocked = acc.append(rec(100));
  assert.equal(acc.blockedAppends, 1);
  assert.equal(acc.bytesHeld, 1000);
  const [b] = acc.drain(clock.now(), 1);
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
  const [b] = acc.drain(clock.now(), 1);
  void acc.append(rec(100));
  acc.requeue(b, clock.now() + 50);
  assert.equal(acc.drain(clock.now(), 5, new Set(), true).length, 0, 'backoff holds the head, and order holds the rest');
  clock.advance(50);
  const [again] = acc.drain(clock.now(), 5, new Set(), true);
  assert.equal(again, b);
  assert.equal(again.attempts, 2);
  acc.split(again, clock.now());
  const singles = acc.drain(clock.now(), 10);
  assert.deepEqual(singles.slice(0, 3).map((s) => s.records.length), [1, 1, 1]);
});

test('flush makes lingering batches ready; close fails blocked appends', async () => {
  const { clock, acc, rec } = setup({ bufferMemory: 200 });
  void acc.append(rec(100));
  void acc.append(rec(100));
  const blocked = acc.append(rec(100));
  acc.beginFlush();
  assert.equal(acc.drain(clock.now(), 5).length, 1);
  acc.endFlush();
  acc.close();
  const err = (await settled(blocked)) as Error;
  assert.equal(err.name, 'ProducerClosedError');
  assert.equal((await settled(acc.append(rec(30))) as Error).name, 'ProducerClosedError');
});
