// The producer engine (KafkaProducer → Sender, RecordAccumulator,
// IdempotenceManager) against the in-memory cluster of
// test/support/model-kafka.ts, on simulated time: each scenario injects one
// kind of fault and checks the exact outcome of every record, what the
// brokers were sent, and (through auditDelivery) that the logs hold what the
// producer reported. The Safe preset unless said otherwise: acks all,
// idempotence, max.in.flight 5.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src/lib/kafka/protocol/error-codes';
import { auditDelivery } from '../support/delivery-audit';
import { DeliveryRecorder, harness, type Harness } from '../support/model-harness';
import type { ModelOptions, SeenBatch, SeenRequest } from '../support/model-kafka';

const NOT_ENOUGH_REPLICAS = 19;
const UNKNOWN_SERVER_ERROR = -1;

/** Three brokers; topic t with `partitions` partitions led by 1, 2, 3, 1, ... (or as `leaders` says). */
function cluster(partitions: number, extra: Partial<ModelOptions['topics'][number]> = {}, model: Partial<ModelOptions> = {}): ModelOptions {
  return { brokers: [1, 2, 3], topics: [{ name: 't', partitions, minInsync: 2, ...extra }], ...model };
}

/** One record to every partition, settled: connections, metadata and the producer id are in place. */
async function warmUp(h: Harness): Promise<void> {
  for (let p = 0; p < h.model.partitionCount('t'); p++) h.rec.send(`k${p}`, { partition: p });
  await h.drain();
  assert.equal(h.rec.failed.length, 0, 'warm-up');
}

/** Nothing broken: the audit is clean, the engine sent nothing a broker would call corrupt and reported no bug. */
function assertClean(h: Harness): void {
  const audit = h.rec.audit(h.model);
  assert.ok(audit.ok, audit.summary);
  assert.deepEqual(h.model.violations, []);
  assert.deepEqual(h.internalErrors.map((e) => e.message), []);
}

const values = (h: Harness, partition: number) => h.model.log('t', partition).map((e) => e.value?.toString());
const header = (b: SeenBatch) => ({ producerId: b.batch!.producerId, epoch: b.batch!.producerEpoch, baseSequence: b.batch!.baseSequence });
const partitionsOf = (r: SeenRequest) => r.batches.map((b) => b.partition).sort((a, b) => a - b);

test('partial success across brokers: one request per broker; only the partition that failed is sent again', async () => {
  const h = await harness(cluster(6));
  await warmUp(h);
  const from = h.model.requests.length;
  h.model.failPartition('t', 1, NOT_ENOUGH_REPLICAS);
  for (let i = 0; i < 3; i++) for (let p = 0; p < 6; p++) h.rec.send(`k${p}`, { partition: p });
  await h.drain();

  const reqs = h.model.requests.slice(from);
  // One request per broker carrying both of its partitions, then the one retry.
  assert.deepEqual(
    reqs.slice(0, 3).map((r) => [r.node, partitionsOf(r)]).sort(),
    [
      [1, [0, 3]],
      [2, [1, 4]],
      [3, [2, 5]],
    ],
  );
  assert.equal(reqs.length, 4);
  const failed = reqs.slice(0, 3).find((r) => r.node === 2)!.batches.find((b) => b.partition === 1)!;
  assert.equal(failed.errorCode, NOT_ENOUGH_REPLICAS);
  assert.equal(failed.written, false);
  const retry = reqs[3];
  assert.equal(retry.node, 2);
  assert.deepEqual(partitionsOf(retry), [1]);
  // The very bytes again: same producer id, epoch and sequence.
  assert.ok(retry.batches[0].batch!.bytes.equals(failed.batch!.bytes));
  assert.equal(retry.batches[0].written, true);
  assert.equal(h.rec.acked.length, 24);
  assert.equal(h.rec.failed.length, 0);
  assert.equal(h.producer.idempotence!.epochBumps, 0);
  assertClean(h);
});

test('leader moved: NOT_LEADER_OR_FOLLOWER, metadata refreshed, sent again to the new leader with the same sequence', async () => {
  const h = await harness(cluster(3));
  await warmUp(h);
  const metadataBefore = h.model.metadataRequests;
  h.model.moveLeader('t', 0, 2);
  const v = h.rec.send('k0', { partition: 0 });
  await h.drain();

  const seen = h.model.batchesFor('t', 0).slice(1);
  // Sent to the old leader until fresh metadata came (a retry may beat the refresh: retry.backoff.ms has jitter).
  const toOld = seen.slice(0, -1);
  assert.ok(toOld.length >= 1);
  for (const b of toOld) {
    assert.equal(b.request.node, 1);
    assert.equal(b.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
    assert.equal(b.written, false);
  }
  const last = seen[seen.length - 1];
  assert.equal(last.request.node, 2);
  assert.equal(last.written, true);
  for (const b of seen) assert.deepEqual(header(b), header(seen[0]));
  assert.ok(h.model.metadataRequests > metadataBefore, 'metadata asked again');
  assert.equal(h.producer.metadata.leader('t', 0), 2);
  assert.equal(h.rec.ackOf(v)?.offset, '1');
  assertClean(h);
});

test('a partition left out of the answer is never taken for success: sent again (deduplicated when it had been written)', async () => {
  const h = await harness(cluster(3, { leaders: [1, 1, 2] }));
  await warmUp(h);
  // Written, then left out of the answer: the resend is recognised and answered with the first offset.
  h.model.omitPartition('t', 0, { written: true });
  const a = h.rec.send('k0', { partition: 0 });
  const other = h.rec.send('k1', { partition: 1 });
  await h.drain();
  let seen = h.model.batchesFor('t', 0).slice(1);
  assert.equal(seen.length, 2);
  assert.deepEqual(seen[0].request.carries.sort(), ['t-0', 't-1']);
  assert.ok(seen[0].omitted && seen[0].written);
  assert.ok(seen[1].duplicate && !seen[1].written);
  assert.deepEqual(header(seen[1]), header(seen[0]));
  assert.equal(h.rec.ackOf(a)?.offset, '1');
  // The partition answered in the same request was not sent again.
  assert.equal(h.model.batchesFor('t', 1).length, 2);
  assert.equal(h.rec.ackOf(other)?.offset, '1');

  // Not written, left out: the resend writes it.
  h.model.omitPartition('t', 0, { written: false });
  const b = h.rec.send('k0', { partition: 0 });
  await h.drain();
  seen = h.model.batchesFor('t', 0).slice(3);
  assert.equal(seen.length, 2);
  assert.ok(seen[0].omitted && !seen[0].written);
  assert.ok(seen[1].written);
  assert.equal(h.rec.ackOf(b)?.offset, '2');
  assert.deepEqual(values(h, 0), ['k0:000000', a, b]);
  assertClean(h);
});

test('request timed out after the broker wrote it: sent again with the same sequence, deduplicated, acknowledged once with the first offset', async () => {
  const h = await harness(cluster(3), { requestTimeoutMs: 5000, deliveryTimeoutMs: 60_000 });
  await warmUp(h);
  h.model.failRequest('loseAnswer', { node: 1 });
  const sentAt = h.clock.now();
  const v = h.rec.send('k0', { partition: 0 });
  await h.drain();

  const seen = h.model.batchesFor('t', 0).slice(1);
  assert.equal(seen.length, 2);
  assert.equal(seen[0].request.outcome, 'no-answer');
  assert.ok(seen[0].written);
  assert.ok(seen[1].duplicate);
  assert.deepEqual(header(seen[1]), header(seen[0]));
  // Sent again only once request.timeout.ms had passed.
  assert.ok(seen[1].request.at >= sentAt + 5000, `resent at +${seen[1].request.at - sentAt} ms`);
  // The timeout closed the connection (its other requests' answers could not be trusted either), as the Java client does.
  assert.deepEqual(h.model.aborts.map((a) => a.node), [1]);
  assert.match(h.model.aborts[0].error.message, /no answer within request.timeout.ms/);
  assert.deepEqual(h.rec.acked.filter((x) => x.value === v).map((x) => x.offset), ['1']);
  assert.deepEqual(values(h, 0), ['k0:000000', v]);
  assertClean(h);
});

test('a retriable error outlasting delivery.timeout.ms: DeliveryTimeoutError naming the partition and its last error; nothing sent after; later records go through', async () => {
  const h = await harness(cluster(1, { leaders: [1] }), { deliveryTimeoutMs: 5000, requestTimeoutMs: 2000 });
  await warmUp(h);
  // Two of three replicas gone: acks=all is refused with NOT_ENOUGH_REPLICAS (min.insync.replicas 2).
  h.model.kill(2);
  h.model.kill(3);
  const sentAt = h.clock.now();
  const doomed = [0, 1, 2].map(() => h.rec.send('k0', { partition: 0 }));
  await h.runUntil(() => h.rec.failed.length === 3, 20_000, 'the records expire');
  const failedAt = h.clock.now();
  assert.ok(failedAt - sentAt >= 5000 && failedAt - sentAt < 5000 + 2000, `failed after ${failedAt - sentAt} ms`);
  for (const v of doomed) {
    const err = h.rec.failureOf(v)!.error;
    assert.equal(err.name, 'DeliveryTimeoutError');
    assert.match(err.message, /t-0/);
    assert.match(err.message, /NOT_ENOUGH_REPLICAS/);
    assert.match(err.message, /refused each time: it was not written/);
    assert.equal((err.cause as { code?: number }).code, NOT_ENOUGH_REPLICAS);
  }
  const attempts = h.model.batchesFor('t', 0).slice(1);
  assert.ok(attempts.length >= 3, `${attempts.length} attempts`);
  assert.ok(attempts.every((b) => b.errorCode === NOT_ENOUGH_REPLICAS && !b.written));

  await h.runFor(10_000);
  assert.equal(h.model.batchesFor('t', 0).filter((b) => b.request.at > failedAt).length, 0, 'nothing sent after it failed');

  h.model.restart(2);
  const later = [0, 1, 2].map(() => h.rec.send('k0', { partition: 0 }));
  await h.drain();
  assert.deepEqual(later.map((v) => h.rec.ackOf(v)?.offset), ['1', '2', '3']);
  assert.deepEqual(values(h, 0), ['k0:000000', ...later]);
  assertClean(h);
});

test('a non-retriable error on one partition fails that batch only; the request\'s other partition succeeds; later batches go through, renumbered under a new epoch', async () => {
  // 3 records of 32 bytes fill a 160-byte batch (61 bytes of header).
  const h = await harness(cluster(2, { leaders: [1, 1] }), { batchSize: 160 });
  await warmUp(h);
  const epoch = h.producer.idempotence!.epoch;
  h.model.failPartition('t', 0, UNKNOWN_SERVER_ERROR);
  h.model.hold(1);
  const p0 = Array.from({ length: 9 }, () => h.rec.send('k0', { partition: 0 }));
  const p1 = h.rec.send('k1', { partition: 1 });
  await h.runFor(20);
  // Three batches of p0 in flight at once, the first with p1's.
  const inFlight = h.model.requests.filter((r) => r.outcome === 'pending');
  assert.deepEqual(inFlight.map((r) => r.carries.sort()), [['t-0', 't-1'], ['t-0'], ['t-0']]);
  h.model.release(1);
  await h.drain();

  for (const v of p0.slice(0, 3)) {
    const err = h.rec.failureOf(v)?.error as { name?: string; code?: number; message?: string } | undefined;
    assert.equal(err?.name, 'KafkaProtocolError');
    assert.equal(err?.code, UNKNOWN_SERVER_ERROR);
    assert.match(err!.message!, /t-0/);
  }
  assert.equal(h.rec.ackOf(p1)?.offset, '1');
  assert.deepEqual(values(h, 0), ['k0:000000', ...p0.slice(3)]);
  // The batches behind the failed one were refused (a gap for the broker), then renumbered from 0 under epoch + 1.
  const written = h.model.log('t', 0).slice(1);
  assert.deepEqual(written.map((e) => e.producerEpoch), Array(6).fill(epoch + 1));
  assert.deepEqual(written.map((e) => e.sequence), [0, 1, 2, 3, 4, 5]);
  assert.equal(h.producer.idempotence!.epochBumps, 1);
  assert.equal(h.rec.failed.length, 3);
  assertClean(h);
});

test('a record too large inside a batch: split until it fails alone (the broker\'s MESSAGE_TOO_LARGE); the others written once, in order', async () => {
  const h = await harness(cluster(1, { leaders: [1], maxMessageBytes: 400 }));
  await warmUp(h);
  const vs = [0, 1, 2, 3].map((i) => h.rec.send('k0', { partition: 0, size: i === 2 ? 600 : 0 }));
  await h.drain();

  const err = h.rec.failureOf(vs[2])?.error as { name?: string; type?: string; code?: number } | undefined;
  // The engine hands on the broker's answer; it is not turned into a RecordTooLargeError.
  assert.equal(err?.name, 'KafkaProtocolError');
  assert.equal(err?.type, 'MESSAGE_TOO_LARGE');
  assert.equal(h.rec.failed.length, 1);
  assert.deepEqual(values(h, 0), ['k0:000000', vs[0], vs[1], vs[3]]);
  assert.deepEqual([vs[0], vs[1], vs[3]].map((v) => h.rec.ackOf(v)?.offset), ['1', '2', '3']);
  // 4 records refused, then halves: [0,1] written, [2,3] refused, then [2] refused and [3] written.
  const seen = h.model.batchesFor('t', 0).slice(1);
  assert.deepEqual(
    seen.map((b) => [b.batch!.records.length, b.errorCode]),
    [
      [4, ErrorCode.MESSAGE_TOO_LARGE],
      [2, 0],
      [2, ErrorCode.MESSAGE_TOO_LARGE],
      [1, ErrorCode.MESSAGE_TOO_LARGE],
      [1, 0],
    ],
  );
  assertClean(h);
});

test('one record refused by index (INVALID_TIMESTAMP, record_errors): only it fails; the rest of its batch is written once, in order', async () => {
  const h = await harness(cluster(1, { leaders: [1] }));
  await warmUp(h);
  const now = h.clock.now();
  // Two hours ahead: past log.message.timestamp.after.max.ms (1 h).
  const vs = [0, 1, 2, 3, 4].map((i) => h.rec.send('k0', { partition: 0, timestamp: i === 2 ? now + 7_200_000 : now }));
  await h.drain();

  const err = h.rec.failureOf(vs[2])?.error as { name?: string; code?: number; message?: string } | undefined;
  assert.equal(err?.name, 'KafkaProtocolError');
  assert.equal(err?.code, ErrorCode.INVALID_TIMESTAMP);
  assert.match(err!.message!, /out of range/); // the broker's own reason for that record
  assert.equal(h.rec.failed.length, 1);
  const rest = [vs[0], vs[1], vs[3], vs[4]];
  assert.deepEqual(values(h, 0), ['k0:000000', ...rest]);
  assert.deepEqual(rest.map((v) => h.rec.ackOf(v)?.offset), ['1', '2', '3', '4']);
  const seen = h.model.batchesFor('t', 0).slice(1);
  assert.deepEqual(seen.map((b) => [b.batch!.records.length, b.errorCode, b.recordErrors.map((e) => e.batchIndex)]), [
    [5, ErrorCode.INVALID_TIMESTAMP, [2]],
    [4, 0, []],
  ]);
  assertClean(h);
});

test('a record without key on a compacted topic (INVALID_RECORD) fails alone', async () => {
  const h = await harness(cluster(1, { leaders: [1], compacted: true }));
  await warmUp(h);
  const vs = [0, 1, 2].map((i) => h.rec.send('k0', { partition: 0, key: i === 1 ? null : 'k0' }));
  await h.drain();
  assert.equal((h.rec.failureOf(vs[1])?.error as { code?: number }).code, ErrorCode.INVALID_RECORD);
  assert.deepEqual(values(h, 0), ['k0:000000', vs[0], vs[2]]);
  assertClean(h);
});

test('two records of one batch refused by index (INVALID_RECORD): each fails with its own reason, the other three are written in order', async () => {
  const h = await harness(cluster(1, { leaders: [1] }));
  await warmUp(h);
  h.model.refuseRecords('t', 0, [0, 3], ErrorCode.INVALID_RECORD, { message: 'refused by a broker-side interceptor' });
  const vs = [0, 1, 2, 3, 4].map(() => h.rec.send('k0', { partition: 0 }));
  await h.drain();
  assert.deepEqual(h.rec.failed.map((f) => f.value), [vs[0], vs[3]]);
  for (const f of h.rec.failed) assert.match(f.error.message, /INVALID_RECORD.*refused by a broker-side interceptor/);
  assert.deepEqual(values(h, 0), ['k0:000000', vs[1], vs[2], vs[4]]);
  assertClean(h);
});

test('TOPIC_AUTHORIZATION_FAILED fails the batch as a whole, in one attempt: never split into per-record retries', async () => {
  const h = await harness(cluster(1, { leaders: [1] }));
  await warmUp(h);
  h.model.denyWrite('t');
  const vs = [0, 1, 2, 3].map(() => h.rec.send('k0', { partition: 0 }));
  await h.drain();
  assert.equal(h.rec.failed.length, 4);
  for (const v of vs) assert.equal((h.rec.failureOf(v)?.error as { code?: number }).code, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  const seen = h.model.batchesFor('t', 0).slice(1);
  assert.deepEqual(seen.map((b) => [b.batch!.records.length, b.errorCode]), [[4, ErrorCode.TOPIC_AUTHORIZATION_FAILED]]);

  // Allowed again: the partition carries on.
  h.model.denyWrite('t', false);
  const after = h.rec.send('k0', { partition: 0 });
  await h.drain();
  assert.equal(h.rec.ackOf(after)?.offset, '1');
  assertClean(h);
});

test('an epoch bump waits for a batch that may already be in the log: it is resolved under the old epoch, not written twice', async () => {
  const h = await harness(cluster(1, { leaders: [1] }), { batchSize: 160 });
  await warmUp(h);
  const epoch = h.producer.idempotence!.epoch;
  // A is written but answered REQUEST_TIMED_OUT (replicas slow); C, read right after it, holds a record
  // two hours ahead: C's refusal needs an epoch bump, while A's fate is still unknown to the producer.
  h.model.failPartition('t', 0, 7 /* REQUEST_TIMED_OUT */, { afterWrite: true });
  h.model.hold(1);
  const a = [0, 1, 2].map(() => h.rec.send('k0', { partition: 0 }));
  const c = [0, 1, 2].map((i) => h.rec.send('k0', { partition: 0, timestamp: i === 1 ? h.clock.now() + 7_200_000 : undefined }));
  await h.runFor(20);
  h.model.release(1);
  await h.drain();

  const seen = h.model.batchesFor('t', 0).slice(1);
  assert.deepEqual(
    seen.map((b) => [b.batch!.producerEpoch, b.batch!.baseSequence, b.batch!.records.length, b.errorCode, b.written, b.duplicate]),
    [
      [epoch, 1, 3, 7, true, false],
      [epoch, 4, 3, ErrorCode.INVALID_TIMESTAMP, false, false],
      // A again under its own epoch and sequence: recognised. Only then the bump, for C's two good records.
      [epoch, 1, 3, 0, false, true],
      [epoch + 1, 0, 2, 0, true, false],
    ],
  );
  assert.deepEqual(a.map((v) => h.rec.ackOf(v)?.offset), ['1', '2', '3']);
  assert.deepEqual(values(h, 0), ['k0:000000', ...a, c[0], c[2]]);
  assertClean(h);
});

/** Batches written to partition 0 after the one holding `value` and before its resend was recognised. */
function writtenBehind(h: Harness, value: string): number {
  const seen = h.model.batchesFor('t', 0);
  const holds = (b: SeenBatch) => b.batch!.records.some((r) => r.value?.toString() === value);
  const first = seen.findIndex((b) => holds(b) && b.written);
  const recognised = seen.findIndex((b) => holds(b) && b.duplicate);
  assert.ok(first >= 0 && recognised > first, 'written, then recognised');
  return seen.slice(first + 1, recognised).filter((b) => b.written).length;
}

test('behind a batch that may be in the log, at most 4 batches are written until its resend is recognised (the broker remembers 5)', async () => {
  const h = await harness(cluster(1, { leaders: [1] }), { batchSize: 160, deliveryTimeoutMs: 30_000, requestTimeoutMs: 5000 });
  await warmUp(h);
  // X is written but answered NOT_ENOUGH_REPLICAS_AFTER_APPEND; its next three sends meet a leader election.
  h.model.failPartition('t', 0, 20, { afterWrite: true });
  const x = [0, 1, 2].map(() => h.rec.send('k0', { partition: 0 }));
  await h.runFor(5);
  h.model.failPartition('t', 0, ErrorCode.LEADER_NOT_AVAILABLE, { times: 3, match: (b) => b.baseSequence === 1 });
  // Meanwhile more records keep coming, a batch every 10 ms.
  const more: string[] = [];
  for (let i = 0; i < 30; i++) {
    for (let j = 0; j < 3; j++) more.push(h.rec.send('k0', { partition: 0 }));
    await h.runFor(10);
  }
  await h.drain();
  assert.equal(h.rec.failed.length, 0, h.rec.failed[0]?.error.message);
  assert.deepEqual(x.map((v) => h.rec.ackOf(v)?.offset), ['1', '2', '3']);
  assert.deepEqual(values(h, 0), ['k0:000000', ...x, ...more]);
  assert.ok(writtenBehind(h, x[0]) <= 4);
  assertClean(h);
});

test('the same when the batches behind go to a new leader while the first one\'s answer is lost on the old', async () => {
  // Partition 1 on broker 2 keeps a connection there, from which fresh metadata comes.
  const h = await harness(cluster(2, { leaders: [1, 2] }), { batchSize: 160, deliveryTimeoutMs: 30_000, requestTimeoutMs: 5000 });
  await warmUp(h);
  h.model.failRequest('loseAnswer', { node: 1 });
  const x = h.rec.send('k0', { partition: 0 });
  await h.runFor(10);
  // Leadership moves; the producer learns it (a metadata refresh) while X still waits for its answer.
  h.model.moveLeader('t', 0, 2);
  h.producer.metadata.requestUpdate();
  h.producer.sender.wake();
  await h.runUntil(() => h.producer.metadata.leader('t', 0) === 2, 1000, 'the producer learns the new leader');
  const more: string[] = [];
  for (let i = 0; i < 30; i++) {
    for (let j = 0; j < 3; j++) more.push(h.rec.send('k0', { partition: 0 }));
    await h.runFor(10);
  }
  await h.drain();
  assert.equal(h.rec.failed.length, 0, h.rec.failed[0]?.error.message);
  assert.equal(h.rec.ackOf(x)?.offset, '1');
  assert.deepEqual(values(h, 0), ['k0:000000', x, ...more]);
  assert.ok(
    h.model.batchesFor('t', 0).some((b) => b.request.node === 2 && b.written && b.request.at < h.rec.ackOf(x)!.at),
    'batches behind X went to the new leader before X was settled',
  );
  assert.ok(writtenBehind(h, x) <= 4);
  assertClean(h);
});

test('OUT_OF_ORDER_SEQUENCE_NUMBER for batches behind one being resent: they are retried after it, same sequences, no reorder, no epoch bump', async () => {
  const h = await harness(cluster(1, { leaders: [1] }), { batchSize: 160 });
  await warmUp(h);
  h.model.failPartition('t', 0, NOT_ENOUGH_REPLICAS);
  h.model.hold(1);
  const vs = Array.from({ length: 9 }, () => h.rec.send('k0', { partition: 0 }));
  await h.runFor(20);
  assert.equal(h.model.inFlight(1), 3);
  h.model.release(1);
  await h.drain();

  const seen = h.model.batchesFor('t', 0).slice(1);
  assert.deepEqual(
    seen.map((b) => [b.batch!.baseSequence, b.errorCode]),
    [
      [1, NOT_ENOUGH_REPLICAS],
      [4, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER],
      [7, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER],
      [1, 0],
      [4, 0],
      [7, 0],
    ],
  );
  assert.equal(h.producer.idempotence!.epochBumps, 0);
  assert.deepEqual(values(h, 0), ['k0:000000', ...vs]);
  assertClean(h);
});

test('OUT_OF_ORDER_SEQUENCE_NUMBER for the next batch (a real gap): epoch bumped, renumbered from 0, written once', async () => {
  const h = await harness(cluster(1, { leaders: [1] }));
  await warmUp(h);
  const epoch = h.producer.idempotence!.epoch;
  h.model.failPartition('t', 0, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  const vs = [0, 1].map(() => h.rec.send('k0', { partition: 0 }));
  await h.drain();
  const seen = h.model.batchesFor('t', 0).slice(1);
  assert.deepEqual(seen.map((b) => [b.batch!.producerEpoch, b.batch!.baseSequence, b.errorCode]), [
    [epoch, 1, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER],
    [epoch + 1, 0, 0],
  ]);
  assert.equal(h.producer.idempotence!.epochBumps, 1);
  assert.deepEqual(values(h, 0), ['k0:000000', ...vs]);
  assertClean(h);
});

test('UNKNOWN_PRODUCER_ID (the broker lost the producer state): epoch bumped, renumbered from 0, nothing lost or duplicated', async () => {
  const h = await harness(cluster(1, { leaders: [1] }), { batchSize: 160 });
  await warmUp(h);
  const epoch = h.producer.idempotence!.epoch;
  h.model.loseProducerState('t', 0);
  h.model.hold(1);
  const vs = Array.from({ length: 6 }, () => h.rec.send('k0', { partition: 0 }));
  await h.runFor(20);
  h.model.release(1);
  await h.drain();

  const seen = h.model.batchesFor('t', 0).slice(1);
  assert.deepEqual(seen.map((b) => [b.batch!.producerEpoch, b.batch!.baseSequence, b.errorCode]), [
    [epoch, 1, ErrorCode.UNKNOWN_PRODUCER_ID],
    [epoch, 4, ErrorCode.UNKNOWN_PRODUCER_ID],
    [epoch + 1, 0, 0],
    [epoch + 1, 3, 0],
  ]);
  assert.equal(h.producer.idempotence!.epochBumps, 1);
  assert.deepEqual(values(h, 0), ['k0:000000', ...vs]);
  assertClean(h);
});

test('max.in.flight.requests.per.connection is kept per broker; batch.size bounds every record batch on the wire', async () => {
  const batchSize = 1024;
  const h = await harness(cluster(6), { batchSize });
  await warmUp(h);
  const from = h.model.requests.length;
  for (const node of [1, 2, 3]) h.model.hold(node);
  for (let i = 0; i < 900; i++) h.rec.send(`k${i % 6}`, { partition: i % 6, size: 40 + (i % 7) * 10 });
  // One record larger than batch.size goes alone.
  const big = h.rec.send('k0', { partition: 0, size: 3000 });
  await h.runFor(50);
  for (const node of [1, 2, 3]) assert.equal(h.model.inFlight(node), 5, `node ${node} in flight`);
  for (const node of [1, 2, 3]) h.model.release(node);
  await h.drain();

  for (const node of [1, 2, 3]) assert.equal(h.model.maxInFlight.get(node), 5);
  for (const r of h.model.requests.slice(from)) {
    const parts = r.batches.map((b) => b.partition);
    assert.equal(new Set(parts).size, parts.length, `request ${r.id}: one batch per partition`);
    for (const b of r.batches) {
      const size = b.batch!.bytes.length;
      assert.ok(size <= batchSize || b.batch!.records.length === 1, `request ${r.id} p${b.partition}: ${b.batch!.records.length} records in ${size} bytes`);
    }
  }
  const bigBatch = h.model.batchesFor('t', 0).find((b) => b.batch!.records.some((x) => x.value?.toString() === big))!;
  assert.equal(bigBatch.batch!.records.length, 1);
  assert.equal(h.rec.acked.length, 907);
  assertClean(h);
});

test('a lingering batch behind a full one goes at linger.ms, even while every answer is awaited', async () => {
  const h = await harness(cluster(1, { leaders: [1] }), { batchSize: 160, lingerMs: 5 });
  await warmUp(h);
  const from = h.model.requests.length;
  h.model.hold(1);
  // A full batch of 3 (sent at once) and a batch of 1 (ready 5 ms later), both made now.
  for (let i = 0; i < 4; i++) h.rec.send('k0', { partition: 0 });
  await h.runFor(4);
  assert.deepEqual(h.model.requests.slice(from).map((r) => r.carries), [['t-0']]);
  await h.runFor(2);
  assert.equal(h.model.requests.length - from, 2, 'the second batch went at linger.ms without waiting for an answer');
  h.model.release(1);
  await h.drain();
  assertClean(h);
});

test('every broker down: records wait, the state says disconnected (not while one broker is left), and all go once brokers are back', async () => {
  const h = await harness(cluster(3));
  await warmUp(h);
  h.states.length = 0;
  h.model.kill(1);
  await h.runFor(200);
  assert.deepEqual(h.states.filter((s) => s.startsWith('disconnected')), [], 'two brokers of three still answer');
  h.model.kill(2);
  h.model.kill(3);
  const vs = Array.from({ length: 9 }, (_, i) => h.rec.send(`k${i % 3}`, { partition: i % 3 }));
  await h.runFor(10_000);
  assert.equal(h.rec.pending, 9, 'neither written nor failed before delivery.timeout.ms');
  assert.match(h.states[h.states.length - 1], /^disconnected: .*broker-\d/);
  for (const n of [1, 2, 3]) h.model.restart(n);
  await h.drain();
  assert.equal(h.states[h.states.length - 1], 'connected');
  assert.deepEqual(vs.map((v) => h.rec.ackOf(v)?.offset), ['1', '1', '1', '2', '2', '2', '3', '3', '3']);
  assertClean(h);
});

test('a partition without a leader (its only replica down): its records wait while the others go, then follow when it is back', async () => {
  const h = await harness(cluster(3, { replicationFactor: 1, minInsync: 1 }));
  await warmUp(h);
  h.model.kill(2);
  const vs = [0, 1, 2].map((p) => h.rec.send(`k${p}`, { partition: p }));
  await h.runFor(3000);
  assert.equal(h.producer.metadata.leader('t', 1), -1, 'the metadata says LEADER_NOT_AVAILABLE');
  assert.deepEqual(vs.map((v) => h.rec.ackOf(v)?.offset), ['1', undefined, '1']);
  assert.equal(h.rec.failed.length, 0);
  h.model.restart(2);
  await h.drain();
  assert.equal(h.rec.ackOf(vs[1])?.offset, '1');
  assertClean(h);
});

test('acks 1 is written by the leader alone, below min.insync.replicas; acks 0 learns nothing, so a request lost with its connection counts as sent', async () => {
  const one = await harness(cluster(1, { leaders: [1] }), { acks: '1', idempotence: false });
  await warmUp(one);
  one.model.kill(2);
  one.model.kill(3);
  const v = one.rec.send('k0', { partition: 0 });
  await one.drain();
  assert.equal(one.rec.ackOf(v)?.offset, '1');
  assertClean(one);

  const zero = await harness(cluster(1, { leaders: [1] }), { acks: '0', idempotence: false, retries: 0 });
  await warmUp(zero);
  assert.deepEqual(zero.rec.acked.map((a) => a.offset), [null]);
  assert.deepEqual(zero.model.requests.map((r) => r.outcome), ['no-answer']);
  zero.model.failRequest('dropBeforeWrite', { node: 1 });
  const lost = zero.rec.send('k0', { partition: 0 });
  await zero.drain();
  assert.equal(zero.rec.ackOf(lost)?.offset, null);
  const audit = zero.rec.audit(zero.model);
  assert.equal(audit.counts.lost, 1);
  assert.equal(audit.examples.lost[0].value, lost);
});

test('InitProducerId: a retriable error is asked again; CLUSTER_AUTHORIZATION_FAILED is fatal, every record failing with it at once', async () => {
  const retried = await harness(cluster(1, { leaders: [1] }));
  retried.model.failInitProducerId(15 /* COORDINATOR_NOT_AVAILABLE */, 2);
  await warmUp(retried);
  assert.equal(retried.model.producerIds.length, 1);
  assert.equal(retried.model.batchesFor('t', 0)[0].batch!.producerId, retried.model.producerIds[0]);
  assertClean(retried);

  const h = await harness(cluster(1, { leaders: [1] }));
  h.model.failInitProducerId(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  const vs = [0, 1, 2].map(() => h.rec.send('k0', { partition: 0 }));
  await h.drain(5000);
  for (const v of vs) assert.equal((h.rec.failureOf(v)?.error as { code?: number }).code, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  assert.match(h.states[h.states.length - 1], /^error: .*CLUSTER_AUTHORIZATION_FAILED/);
  // Refused at once from now on, and nothing was ever sent.
  const late = h.rec.send('k0', { partition: 0 });
  assert.equal((h.rec.failureOf(late)?.error as { code?: number }).code, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  assert.equal(h.model.requests.length, 0);
});

test('a topic the cluster does not have: its records wait up to max.block.ms, then fail unsent; once it exists, they go', async () => {
  const h = await harness(cluster(1, { leaders: [1] }), { maxBlockMs: 2000 });
  await warmUp(h);
  const other = new DeliveryRecorder(h.producer, h.clock, 'later');
  const sentAt = h.clock.now();
  const early = other.send('k0');
  await h.runUntil(() => other.failed.length === 1, 5000, 'the record fails');
  const err = other.failureOf(early)!.error;
  assert.equal(err.name, 'MetadataTimeoutError');
  assert.match(err.message, /UNKNOWN_TOPIC_OR_PARTITION/);
  assert.match(err.message, /not written/);
  assert.ok(h.clock.now() - sentAt >= 2000);
  assert.ok(h.model.requests.every((r) => r.carries.every((tp) => tp.startsWith('t-'))));

  h.model.createTopic({ name: 'later', partitions: 2 });
  const now = other.send('k0');
  await h.runUntil(() => other.pending === 0, 5000, 'the record settles');
  assert.ok(other.ackOf(now));
  assert.deepEqual(auditDelivery(other.report(), h.model.stored('later')).ok, true);
});

test('without idempotence (acks 1, max.in.flight 5): a lost answer gives a duplicate, and a retry can land behind later batches', async () => {
  const h = await harness(cluster(1, { leaders: [1] }), { idempotence: false, acks: '1', maxInFlight: 5, batchSize: 160, requestTimeoutMs: 5000 });
  await warmUp(h);
  h.model.failRequest('loseAnswer', { node: 1 });
  const dup = h.rec.send('k0', { partition: 0 });
  await h.drain();
  assert.deepEqual(h.rec.acked.filter((a) => a.value === dup).length, 1);
  assert.deepEqual(values(h, 0), ['k0:000000', dup, dup]);
  assert.ok(h.model.batchesFor('t', 0).every((b) => b.batch!.producerId === -1n));
  let audit = h.rec.audit(h.model);
  assert.equal(audit.counts.duplicated, 1);

  // A retriable refusal of the first of three batches in flight: the other two are written before its retry.
  h.model.failPartition('t', 0, 56 /* KAFKA_STORAGE_ERROR */);
  h.model.hold(1);
  for (let i = 0; i < 9; i++) h.rec.send('k1', { partition: 0 });
  await h.runFor(20);
  h.model.release(1);
  await h.drain();
  audit = h.rec.audit(h.model);
  assert.equal(audit.counts.reordered, 3, audit.summary);
  assert.equal(audit.counts.lost, 0);
  assert.equal(h.rec.failed.length, 0);
});

test('without idempotence but max.in.flight 1, the same refusal keeps the order', async () => {
  const h = await harness(cluster(1, { leaders: [1] }), { idempotence: false, acks: '1', maxInFlight: 1, batchSize: 160 });
  await warmUp(h);
  h.model.failPartition('t', 0, 56 /* KAFKA_STORAGE_ERROR */);
  const vs = Array.from({ length: 9 }, () => h.rec.send('k1', { partition: 0 }));
  await h.drain();
  assert.equal(h.model.maxInFlight.get(1), 1);
  assert.deepEqual(values(h, 0), ['k0:000000', ...vs]);
  assertClean(h);
});

/** mulberry32: a small seeded PRNG, so that a failing soak can be replayed with its seed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * 4000 records of 24 keys (murmur2 over 6 partitions led by 3 brokers),
 * a few per millisecond, while faults strike at random: every kind the model
 * has that a broker can recover from (a record error or an authorization
 * failure would fail records by design). With `outageMs`, halfway through
 * every partition refuses writes (NOT_ENOUGH_REPLICAS) for that long.
 * Returns the harness, settled.
 */
async function soak(seed: number, overrides: Partial<Harness['options']>, outageMs = 0): Promise<{ h: Harness; faults: string; kinds: number }> {
  const random = seeded(seed);
  const realRandom = Math.random;
  // The engine's backoff jitter draws from Math.random too: seeded, a seed replays exactly.
  Math.random = random;
  try {
    const h = await harness(cluster(6, {}, { failoverMs: 30 }), { batchSize: 1024, ...overrides });
    const m = h.model;
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
    const partition = () => Math.floor(random() * 6);
    const injected = new Map<string, number>();
    const note = (name: string) => injected.set(name, (injected.get(name) ?? 0) + 1);
    const later = (ms: number, fn: () => void) => h.clock.setTimeout(fn, ms);
    const faults: Array<() => void> = [
      () => {
        note('retriable error');
        m.failPartition('t', partition(), pick([NOT_ENOUGH_REPLICAS, ErrorCode.NOT_LEADER_OR_FOLLOWER, 56, ErrorCode.LEADER_NOT_AVAILABLE]), { times: 1 + Math.floor(random() * 3) });
      },
      () => {
        note('error after write');
        m.failPartition('t', partition(), pick([7, 20]), { afterWrite: true });
      },
      () => {
        note('partition left out');
        m.omitPartition('t', partition(), { written: random() < 0.5 });
      },
      () => {
        note('answer lost');
        m.failRequest('loseAnswer', { node: pick([1, 2, 3]) });
      },
      () => {
        note('connection dropped');
        m.failRequest('dropBeforeWrite', { node: pick([1, 2, 3]) });
      },
      () => {
        const p = partition();
        const to = pick(m.replicas('t', p).filter((r) => m.isAlive(r) && r !== m.leader('t', p)));
        if (to === undefined) return;
        note('leader moved');
        m.moveLeader('t', p, to);
      },
      () => {
        // One broker down at a time: with min.insync.replicas 2 of 3 the others go on.
        if (![1, 2, 3].every((n) => m.isAlive(n))) return;
        const node = pick([1, 2, 3]);
        note('broker killed');
        m.kill(node);
        later(200 + Math.floor(random() * 2000), () => m.restart(node));
      },
      () => {
        const node = pick([1, 2, 3]);
        note('answers held');
        m.hold(node);
        later(5 + Math.floor(random() * 300), () => m.release(node));
      },
    ];
    const total = 4000;
    const streams = Array.from({ length: 24 }, (_, i) => `s${i}`);
    while (h.rec.sent < total) {
      const n = Math.floor(random() * 4);
      for (let i = 0; i < n && h.rec.sent < total; i++) h.rec.send(pick(streams), { size: random() < 0.05 ? 300 : 0 });
      if (random() < 0.03) pick(faults)();
      if (outageMs && h.rec.sent >= total / 2 && !injected.has('outage')) {
        note('outage');
        const outage = m.failPartition('t', undefined, NOT_ENOUGH_REPLICAS, { times: Infinity });
        later(outageMs, () => m.removeFault(outage));
      }
      // Now and then a quiet moment in which a partition's producer state goes (as retention can take it):
      // never while one of its batches may be in the log unacknowledged, which Kafka cannot deduplicate either.
      if (h.rec.sent % 1000 === 999) {
        await h.drain();
        note('producer state lost');
        m.loseProducerState('t', partition());
      }
      await h.runFor(1);
    }
    m.clearFaults();
    await h.runFor(3000); // held answers released, killed brokers back
    await h.drain();
    return { h, faults: [...injected].map(([k, v]) => `${k} ${v}`).join(', '), kinds: injected.size };
  } finally {
    Math.random = realRandom;
  }
}

const SOAK_SEEDS = (process.env.SOAK_SEEDS ?? '1,2,3').split(',').map(Number);

for (const seed of SOAK_SEEDS) {
  test(`soak (seed ${seed}), delivery.timeout.ms long enough: 4000 keyed records under random faults, none lost, duplicated, reordered or failed`, async () => {
    const { h, faults, kinds } = await soak(seed, { deliveryTimeoutMs: 600_000, requestTimeoutMs: 3000 });
    const audit = h.rec.audit(h.model);
    assert.ok(audit.ok, `${audit.summary} (faults: ${faults})`);
    assert.equal(h.rec.failed.length, 0, `${h.rec.failed[0]?.error.message} (faults: ${faults})`);
    assert.equal(h.rec.acked.length, 4000);
    assert.equal(audit.counts.stored, 4000);
    for (const node of [1, 2, 3]) assert.ok((h.model.maxInFlight.get(node) ?? 0) <= 5);
    assert.deepEqual(h.model.violations, []);
    assert.deepEqual(h.internalErrors.map((e) => e.message), []);
    // The soak did what it says: nearly every kind of fault struck.
    assert.ok(kinds >= 8, faults);
  });
}

for (const seed of SOAK_SEEDS) {
  test(`soak (seed ${seed}), short delivery.timeout.ms: records fail, and each failure says truly whether it may be in the log`, async () => {
    const { h, faults } = await soak(seed, { deliveryTimeoutMs: 1500, requestTimeoutMs: 1000, retryBackoffMaxMs: 500 }, 2000);
    const audit = h.rec.audit(h.model);
    const c = audit.counts;
    assert.equal(c.lost + c.duplicated + c.reordered + c.wrongOffset + c.wrongKey + c.unknown + c.conflicting, 0, `${audit.summary} (faults: ${faults})`);
    assert.ok(h.rec.failed.length > 0, `the outage outlasts delivery.timeout.ms (faults: ${faults})`);
    const stored = new Set(h.model.stored('t').map((r) => r.value));
    let maybes = 0;
    for (const f of h.rec.failed) {
      const maybe = /may have written it|may or may not have written it/.test(f.error.message);
      if (maybe) maybes++;
      // "It was not written" is a promise: the record must not be in the log.
      else assert.ok(!stored.has(f.value), `${f.value} is in the log, yet: ${f.error.message}`);
    }
    if (process.env.SOAK_VERBOSE) console.log(`seed ${seed}: ${h.rec.failed.length} failed (${maybes} maybe written, ${audit.counts.failedButWritten} written)`);
    assert.deepEqual(h.model.violations, []);
    assert.deepEqual(h.internalErrors.map((e) => e.message), []);
  });
}
