// The idempotent producer's sequence bookkeeping (the Java client's
// TransactionManager, idempotent part, with KIP-360 epoch bumps).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdempotenceManager } from '../../src/lib/kafka/producer/idempotence';
import { ProducerBatch } from '../../src/lib/kafka/producer/producer-batch';
import { ErrorCode } from '../../src/lib/kafka/protocol/error-codes';

function batch(records: number, topic = 't', partition = 0): ProducerBatch {
  const b = new ProducerBatch(topic, partition, 0);
  for (let i = 0; i < records; i++) b.records.push({} as never);
  return b;
}

function ready(): IdempotenceManager {
  const m = new IdempotenceManager();
  m.setProducerIdAndEpoch(42n, 0);
  return m;
}

test('nothing drains before there is a producer id', () => {
  const m = new IdempotenceManager();
  assert.equal(m.shouldStopDrain(batch(1)), true);
  assert.equal(m.bumpEpochIfNeeded(), true, 'the sender must ask for one');
  m.setProducerIdAndEpoch(42n, 0);
  assert.equal(m.shouldStopDrain(batch(1)), false);
  assert.equal(m.bumpEpochIfNeeded(), false);
});

test('a batch gets its sequence numbers once, at its first drain, following the previous batch of its partition', () => {
  const m = ready();
  const [a, b, c] = [batch(3), batch(5), batch(2, 't', 1)];
  for (const x of [a, b, c]) m.assignSequence(x);
  assert.deepEqual([a.baseSequence, b.baseSequence, c.baseSequence], [0, 3, 0]);
  assert.equal(b.lastSequence, 7);
  assert.deepEqual([a.producerId, a.producerEpoch], [42n, 0]);
  assert.equal(m.firstInFlightSequence('t', 0), 0);
});

test('a batch being resent goes only when it is the first in flight of its partition: it is never overtaken', () => {
  const m = ready();
  const [a, b] = [batch(3), batch(3)];
  m.assignSequence(a);
  m.assignSequence(b);
  assert.equal(m.shouldStopDrain(b), true, 'b waits for a');
  assert.equal(m.shouldStopDrain(a), false);
  m.onSuccess(a);
  assert.equal(m.shouldStopDrain(b), false);
  assert.equal(m.sequenceInfo('t', 0)?.lastAcked, 2);
});

test('OUT_OF_ORDER_SEQUENCE_NUMBER for a batch that is not the next one: retried after the earlier one, no epoch bump', () => {
  const m = ready();
  const [a, b] = [batch(3), batch(3)];
  m.assignSequence(a);
  m.assignSequence(b);
  assert.equal(m.canRetry(b, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, 0n), true);
  m.bumpEpochIfNeeded();
  assert.equal(m.epoch, 0);
  assert.equal(b.baseSequence, 3);
});

test('OUT_OF_ORDER_SEQUENCE_NUMBER for the next batch (a real gap): epoch + 1, the partition renumbered from 0, nothing else', () => {
  const m = ready();
  const [a, b, other] = [batch(3), batch(4), batch(2, 't', 1)];
  m.assignSequence(a);
  m.assignSequence(other);
  m.onSuccess(a);
  m.assignSequence(b);
  assert.equal(m.canRetry(b, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, 0n), true);
  assert.equal(m.bumpEpochIfNeeded(), false);
  assert.equal(m.epoch, 1);
  assert.deepEqual([b.baseSequence, b.producerEpoch, b.sequenceReset], [0, 1, true]);
  assert.deepEqual([other.baseSequence, other.producerEpoch], [0, 0], 'the other partition keeps its batch as sent');
  // The other partition's next batch waits until its old-epoch batch settles, then starts again at 0.
  const next = batch(1, 't', 1);
  assert.equal(m.shouldStopDrain(next), true);
  m.onSuccess(other);
  assert.equal(m.shouldStopDrain(next), false);
  m.assignSequence(next);
  assert.deepEqual([next.baseSequence, next.producerEpoch], [0, 1]);
});

test('UNKNOWN_PRODUCER_ID: retried as is without the log start offset; otherwise the epoch is bumped and the partition renumbered', () => {
  const m = ready();
  const b = batch(2);
  m.assignSequence(batch(5));
  m.assignSequence(b);
  assert.equal(m.canRetry(b, ErrorCode.UNKNOWN_PRODUCER_ID, -1n), true);
  m.bumpEpochIfNeeded();
  assert.equal(m.epoch, 0);
  assert.equal(m.canRetry(b, ErrorCode.UNKNOWN_PRODUCER_ID, 100n), true);
  m.bumpEpochIfNeeded();
  assert.equal(m.epoch, 1);
  assert.equal(b.baseSequence, 5, 'after the unsettled batch before it');
  assert.equal(m.canRetry(b, ErrorCode.UNKNOWN_PRODUCER_ID, 100n), true, 'a renumbered batch is just resent');
  m.bumpEpochIfNeeded();
  assert.equal(m.epoch, 1);
});

test('a batch the broker refused: the ones after it are renumbered (they would leave a gap)', () => {
  const m = ready();
  const [a, b, c] = [batch(3), batch(3), batch(3)];
  for (const x of [a, b, c]) m.assignSequence(x);
  m.onSuccess(a);
  m.onFailed(b);
  m.bumpEpochIfNeeded();
  assert.deepEqual([c.baseSequence, c.producerEpoch], [0, 1]);
  const d = batch(1);
  m.assignSequence(d);
  assert.equal(d.baseSequence, 3);
});

test('a batch that expired after it may have been written: new batches wait; a later acknowledgement resolves it without a bump', () => {
  const m = ready();
  const [a, b] = [batch(3), batch(3)];
  m.assignSequence(a);
  m.assignSequence(b);
  m.markUnresolved(a);
  assert.equal(m.shouldStopDrain(batch(1)), true, 'no new batch while the sequence is unresolved');
  m.onSuccess(b); // the broker took b, so it had a
  m.maybeResolveSequences();
  m.bumpEpochIfNeeded();
  assert.equal(m.epoch, 0);
  assert.equal(m.shouldStopDrain(batch(1)), false);
});

test('...and when nothing after it was acknowledged either, the epoch is bumped', () => {
  const m = ready();
  const [a, b] = [batch(3), batch(3)];
  m.assignSequence(a);
  m.assignSequence(b);
  m.markUnresolved(a);
  m.markUnresolved(b);
  m.maybeResolveSequences();
  m.bumpEpochIfNeeded();
  assert.equal(m.epoch, 1);
  const c = batch(1);
  assert.equal(m.shouldStopDrain(c), false);
  m.assignSequence(c);
  assert.deepEqual([c.baseSequence, c.producerEpoch], [0, 1]);
});

test('at the highest epoch a bump asks for a new producer id, and every partition starts again under it', () => {
  const m = new IdempotenceManager();
  m.setProducerIdAndEpoch(42n, 32767);
  const a = batch(3);
  m.assignSequence(a);
  m.onFailed(a);
  assert.equal(m.bumpEpochIfNeeded(), true, 'a new producer id is needed');
  assert.equal(m.hasProducerId(), false);
  m.setProducerIdAndEpoch(43n, 0);
  const b = batch(1);
  m.assignSequence(b);
  assert.deepEqual([b.producerId, b.producerEpoch, b.baseSequence], [43n, 0, 0]);
});

test('a split batch is replaced by its parts, which keep its sequence numbers', () => {
  const m = ready();
  const big = batch(6);
  m.assignSequence(big);
  const [p1, p2] = [batch(3), batch(3)];
  p1.setProducerState(42n, 0, 0);
  p2.setProducerState(42n, 0, 3);
  m.replaceInFlight(big, [p1, p2]);
  assert.equal(m.firstInFlightSequence('t', 0), 0);
  assert.equal(m.shouldStopDrain(p2), true);
  m.onSuccess(p1);
  assert.equal(m.shouldStopDrain(p2), false);
  const next = batch(1);
  m.assignSequence(next);
  assert.equal(next.baseSequence, 6);
});
