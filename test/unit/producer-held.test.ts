// What the producer engine says it holds (records, buffer bytes, the oldest
// record's age, partitions that cannot be reached), and the engine pieces a
// redeploy handover uses: hold/release, flush, drain-on-close and a close cut short.
// Against the in-memory cluster of test/support/model-kafka.ts on simulated time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness, settle } from '../support/model-harness';

test('broker away: held records, their buffer bytes and the oldest age grow with time; all back to zero once they fail', async () => {
  const h = await harness({ brokers: [1], topics: [{ name: 't', partitions: 1, replicationFactor: 1 }], failoverMs: -1 }, {
    deliveryTimeoutMs: 10_000,
    requestTimeoutMs: 2000,
    lingerMs: 0,
    bufferMemory: 100_000,
  });
  h.rec.send('warm');
  await h.drain();
  assert.deepEqual(
    { ...h.producer.heldRecords() },
    { records: 0, bytes: 0, bufferMemory: 100_000, oldestAgeMs: 0, unavailablePartitions: 0, holding: false },
  );
  h.model.kill(1);
  for (let i = 0; i < 10; i++) h.rec.send(`k${i}`, { size: 1000 });
  await h.runFor(2000);
  const a = h.producer.heldRecords();
  assert.equal(a.records, 10);
  assert.ok(a.bytes >= 10_000 && a.bytes < 12_000, `bytes ${a.bytes}`);
  assert.ok(a.oldestAgeMs >= 2000 && a.oldestAgeMs < 2100, `oldest ${a.oldestAgeMs}`);
  assert.ok(a.unavailablePartitions >= 1, 'the one partition cannot be reached');
  assert.equal(h.producer.connectionState, 'disconnected');
  // Newer records do not make the oldest younger.
  h.rec.send('late');
  await h.runFor(3000);
  const b = h.producer.heldRecords();
  assert.equal(b.records, 11);
  assert.ok(b.oldestAgeMs >= 5000 && b.oldestAgeMs < 5100, `oldest ${b.oldestAgeMs}`);
  const m = h.producer.metricsSnapshot();
  assert.equal(m['records-held'], 11);
  assert.equal(m['oldest-record-age-ms'], b.oldestAgeMs);
  assert.equal(m['buffer-available-bytes'], 100_000 - b.bytes);
  await h.drain();
  assert.equal(h.rec.failed.length, 11);
  assert.deepEqual(
    { ...h.producer.heldRecords(), unavailablePartitions: 0 },
    { records: 0, bytes: 0, bufferMemory: 100_000, oldestAgeMs: 0, unavailablePartitions: 0, holding: false },
  );
});

test('partly available: only the partitions whose leader is gone count as unavailable; the rest is written', async () => {
  const h = await harness({ brokers: [1, 2, 3], topics: [{ name: 't', partitions: 3, replicationFactor: 1 }], failoverMs: -1 }, { deliveryTimeoutMs: 60_000 });
  for (let p = 0; p < 3; p++) h.rec.send(`w${p}`, { partition: p });
  await h.drain();
  h.model.kill(2); // leads partition 1 only, no replica
  for (let i = 0; i < 9; i++) h.rec.send(`k${i}`, { partition: i % 3 });
  await h.runFor(3000);
  const held = h.producer.heldRecords();
  assert.equal(held.records, 3, 'the three records of partition 1');
  assert.equal(held.unavailablePartitions, 1);
  assert.equal(h.producer.connectionState, 'connected');
  assert.equal(h.rec.acked.length, 3 + 6);
  h.model.restart(2);
  await h.drain();
  assert.equal(h.producer.heldRecords().unavailablePartitions, 0);
  assert.equal(h.rec.failed.length, 0);
});

test('records waiting for buffer room count as held, and their wait counts for the oldest age', async () => {
  const h = await harness({ brokers: [1], topics: [{ name: 't', partitions: 1, replicationFactor: 1 }], failoverMs: -1 }, {
    bufferMemory: 4096,
    maxBlockMs: 60_000,
    deliveryTimeoutMs: 120_000,
    lingerMs: 0,
  });
  h.rec.send('warm');
  await h.drain();
  h.model.kill(1);
  for (let i = 0; i < 6; i++) h.rec.send(`k${i}`, { size: 1000 });
  await h.runFor(1000);
  const held = h.producer.heldRecords();
  assert.equal(held.records, 6, 'three or so in the buffer, the rest in line for room');
  assert.ok(h.producer.pool.waiting > 0);
  assert.ok(held.bytes <= 4096);
  assert.ok(held.oldestAgeMs >= 1000);
  await h.producer.close(0, 'test');
});

test('hold: records are taken but no Produce request goes until release, then all are written in order', async () => {
  const h = await harness({ brokers: [1], topics: [{ name: 't', partitions: 1, replicationFactor: 1 }] }, { deliveryTimeoutMs: 60_000 });
  h.producer.hold();
  for (let i = 0; i < 5; i++) h.rec.send('k');
  await h.runFor(5000);
  const produced = h.model.requests.length;
  assert.equal(h.rec.acked.length, 0);
  assert.equal(h.producer.heldRecords().holding, true);
  assert.equal(h.producer.heldRecords().records, 5);
  h.producer.release();
  await h.drain();
  assert.equal(h.model.requests.length > produced, true);
  assert.deepEqual(h.model.log('t', 0).map((e) => e.value?.toString()), h.rec.acked.map((a) => a.value));
  assert.equal(h.rec.failed.length, 0);
});

test('flush: sends what lingers now; with no broker it gives up after its timeout and fails nothing', async () => {
  const h = await harness({ brokers: [1], topics: [{ name: 't', partitions: 1, replicationFactor: 1 }], failoverMs: -1 }, { lingerMs: 10_000, deliveryTimeoutMs: 60_000 });
  h.rec.send('a');
  h.rec.send('b');
  const flushed = h.producer.flush(1000);
  await h.runFor(100);
  assert.equal(await flushed, true);
  assert.equal(h.rec.acked.length, 2, 'sent without waiting for linger.ms');
  h.model.kill(1);
  h.rec.send('c');
  let result: boolean | undefined;
  void h.producer.flush(1000).then((r) => (result = r));
  await h.runFor(999);
  assert.equal(result, undefined);
  await h.runFor(10);
  assert.equal(result, false);
  assert.equal(h.rec.failed.length, 0);
  assert.equal(h.producer.heldRecords().records, 1);
  await h.producer.close(0, 'test');
});

test('close with drain keeps sending while no broker is reachable; the broker back, everything is written, nothing fails', async () => {
  const h = await harness({ brokers: [1], topics: [{ name: 't', partitions: 1, replicationFactor: 1 }], failoverMs: -1 }, { deliveryTimeoutMs: 60_000 });
  h.rec.send('warm');
  await h.drain();
  h.model.kill(1);
  for (let i = 0; i < 20; i++) h.rec.send('k');
  let failed: number | undefined;
  void h.producer.close(61_000, 'drained', { drain: true }).then((n) => (failed = n));
  await h.runFor(5000);
  assert.equal(failed, undefined, 'still draining');
  h.model.restart(1);
  await h.runUntil(() => failed !== undefined, 30_000, 'close');
  assert.equal(failed, 0);
  assert.equal(h.rec.acked.length, 21);
  const audit = h.rec.audit(h.model);
  assert.ok(audit.ok, audit.summary);
});

test('a second close asking for less time cuts a draining close short: what is held fails at once, saying it was not written', async () => {
  const h = await harness({ brokers: [1], topics: [{ name: 't', partitions: 1, replicationFactor: 1 }], failoverMs: -1 }, { deliveryTimeoutMs: 60_000 });
  h.rec.send('warm');
  await h.drain();
  h.model.kill(1);
  for (let i = 0; i < 5; i++) h.rec.send('k');
  const first = h.producer.close(61_000, 'drained', { drain: true });
  await h.runFor(2000);
  const second = h.producer.close(0, 'cut');
  await settle();
  assert.equal(await second, 5);
  assert.equal(await first, 5, 'one close, one answer');
  assert.equal(h.rec.failed.length, 5);
  assert.match(h.rec.failed[0].error.message, /drained before the record could be sent: it was not written/);
});

test('a partition answering a retriable error (NOT_ENOUGH_REPLICAS) counts as unavailable while it retries, not once written again', async () => {
  const h = await harness({ brokers: [1, 2, 3], topics: [{ name: 't', partitions: 3, minInsync: 2 }] }, { deliveryTimeoutMs: 60_000 });
  for (let p = 0; p < 3; p++) h.rec.send(`w${p}`, { partition: p });
  await h.drain();
  const fault = h.model.failPartition('t', 1, 19 /* NOT_ENOUGH_REPLICAS */, { times: Infinity });
  for (let i = 0; i < 9; i++) h.rec.send(`k${i}`, { partition: i % 3 });
  await h.runFor(3000);
  const held = h.producer.heldRecords();
  assert.equal(held.records, 3);
  assert.equal(held.unavailablePartitions, 1);
  h.model.removeFault(fault);
  await h.drain();
  h.rec.send('again', { partition: 1 });
  assert.equal(h.producer.heldRecords().unavailablePartitions, 0, 'written since: no longer counted');
  await h.drain();
  assert.equal(h.rec.failed.length, 0);
});
