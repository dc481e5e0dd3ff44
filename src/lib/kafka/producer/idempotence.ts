// The idempotent producer's state, as the idempotent part of the Java
// client's TransactionManager keeps it (with KIP-360's epoch bumps):
//
//  - one producer id and epoch (InitProducerId), and per partition the next
//    sequence number, the last one the broker acknowledged, and the batches
//    sent and not yet settled, in sequence order;
//  - a batch gets its sequence numbers once, at its first drain; a resend
//    carries the same ones, so the broker recognises a batch it already wrote;
//  - a batch that is resent waits until it is the partition's first batch in
//    flight: a retry is never overtaken;
//  - when the broker's sequence and ours can no longer agree (a batch failed
//    after it may have been sent, the broker lost the producer's state, a real
//    gap), the epoch is bumped and the partition's unsettled batches are
//    numbered again from 0 under the new epoch. Nothing that failed is resent.
//
// Two rules beyond the Java client's, so that a batch the broker may have
// written is always recognised when resent:
//  - at most 4 batches are numbered behind the oldest one not settled (the
//    broker remembers the last 5), even when they go to a new leader;
//  - an epoch bump waits until the batches below the refused one that may be
//    in the log are settled under the current epoch: renumbered, they would be
//    written again.

import { ErrorCode, isRetriableCode } from '../protocol/error-codes';
import { incrementSequence, NO_SEQUENCE, tpKey, type ProducerBatch } from './producer-batch';

const MAX_EPOCH = 32767;
const NO_LAST_ACKED = -1;
/** The broker remembers a producer's last 5 batches per partition, and recognises a resend only among them. */
const BROKER_DEDUP_WINDOW = 5;

interface PartitionSequences {
  /** the producer id and epoch its sequence numbers run under */
  producerId: bigint;
  epoch: number;
  nextSequence: number;
  lastAckedSequence: number;
  /** batches with sequence numbers that have not settled, by baseSequence */
  inflight: ProducerBatch[];
  /** the oldest batch not settled and every batch numbered after it (settled or not), in order */
  window: ProducerBatch[];
}

export class IdempotenceManager {
  private pid = -1n;
  private ep = -1;
  private readonly partitions = new Map<string, PartitionSequences>();
  /**
   * Partitions where a batch failed after it may have been written (it
   * expired in flight): new batches wait until the partition's batches in
   * flight settle; then either a later batch was acknowledged (the broker has
   * the sequence) or the epoch is bumped.
   */
  private readonly unresolved = new Set<string>();
  /**
   * Partitions to number again at the next epoch bump, each with its gap: the
   * lowest sequence the broker refused for good. Nothing from the gap on can
   * be in the log under the current epoch; a batch below it may be.
   */
  private readonly toRewrite = new Map<string, number>();
  private bumpRequired = false;
  private resetRequired = false;
  /** epoch bumps and producer id resets so far, for tests and diagnostics */
  epochBumps = 0;

  get producerId(): bigint {
    return this.pid;
  }

  get epoch(): number {
    return this.ep;
  }

  hasProducerId(): boolean {
    return this.pid >= 0n && !this.resetRequired;
  }

  /** A producer id and epoch from InitProducerId. */
  setProducerIdAndEpoch(producerId: bigint, epoch: number): void {
    this.pid = producerId;
    this.ep = epoch;
    this.resetRequired = false;
  }

  private entry(topic: string, partition: number): PartitionSequences {
    const key = tpKey(topic, partition);
    let e = this.partitions.get(key);
    if (!e) {
      e = { producerId: this.pid, epoch: this.ep, nextSequence: 0, lastAckedSequence: NO_LAST_ACKED, inflight: [], window: [] };
      this.partitions.set(key, e);
    }
    return e;
  }

  private isStale(e: PartitionSequences): boolean {
    return e.producerId !== this.pid || e.epoch !== this.ep;
  }

  firstInFlightSequence(topic: string, partition: number): number {
    const e = this.partitions.get(tpKey(topic, partition));
    return e && e.inflight.length ? e.inflight[0].baseSequence : NO_SEQUENCE;
  }

  /** Whether the head batch of a partition must wait (Java: shouldStopDrainBatchesForPartition). */
  shouldStopDrain(first: ProducerBatch): boolean {
    if (!this.hasProducerId()) return true;
    const key = tpKey(first.topic, first.partition);
    const e = this.partitions.get(key);
    if (!first.hasSequence) {
      // A new batch under a new epoch would start at sequence 0 before the old epoch's batches settle.
      if (e && e.inflight.length > 0 && this.isStale(e)) return true;
      if (this.unresolved.has(key)) return true;
      // Numbered now, it would land past the gap; it waits for the bump.
      if (this.toRewrite.has(key)) return true;
      // At most 4 batches behind one not settled yet, even when they go to another broker (a new leader):
      // were they all written, the broker would still remember it, and recognise its resend. Beyond that
      // the resend would meet OUT_OF_ORDER_SEQUENCE_NUMBER until delivery.timeout.ms, then fail although written.
      if (e && e.window.length >= BROKER_DEDUP_WINDOW) return true;
    }
    const firstInFlight = e && e.inflight.length ? e.inflight[0].baseSequence : NO_SEQUENCE;
    // A batch being resent goes only when it is the first one in flight: in-flight effectively 1 while retrying.
    return firstInFlight !== NO_SEQUENCE && first.hasSequence && first.baseSequence !== firstInFlight;
  }

  /** At a batch's first drain: its producer state and sequence numbers, for good. */
  assignSequence(batch: ProducerBatch): void {
    const e = this.entry(batch.topic, batch.partition);
    if (this.isStale(e) && e.inflight.length === 0) {
      // The epoch moved (or a new producer id came) since this partition last sent: start again at 0.
      e.producerId = this.pid;
      e.epoch = this.ep;
      e.nextSequence = 0;
      e.lastAckedSequence = NO_LAST_ACKED;
      e.window = [];
    }
    batch.setProducerState(this.pid, this.ep, e.nextSequence);
    e.nextSequence = incrementSequence(e.nextSequence, batch.count);
    this.insertInFlight(e, batch);
    e.window.push(batch);
  }

  private insertInFlight(e: PartitionSequences, batch: ProducerBatch): void {
    let i = e.inflight.length;
    while (i > 0 && e.inflight[i - 1].baseSequence > batch.baseSequence) i--;
    e.inflight.splice(i, 0, batch);
  }

  /** A batch split after MESSAGE_TOO_LARGE is replaced by its parts, which keep its sequence numbers. */
  replaceInFlight(original: ProducerBatch, parts: ProducerBatch[]): void {
    const e = this.entry(original.topic, original.partition);
    const w = e.window.indexOf(original);
    if (w >= 0) e.window.splice(w, 1, ...parts);
    for (const p of parts) this.insertInFlight(e, p);
    this.removeInFlight(original);
  }

  private removeInFlight(batch: ProducerBatch): void {
    const e = this.partitions.get(tpKey(batch.topic, batch.partition));
    if (!e) return;
    const i = e.inflight.indexOf(batch);
    if (i >= 0) e.inflight.splice(i, 1);
    // The window starts at the oldest batch not settled.
    while (e.window.length && !e.inflight.includes(e.window[0])) e.window.shift();
  }

  /** The broker wrote the batch. */
  onSuccess(batch: ProducerBatch): void {
    const e = this.partitions.get(tpKey(batch.topic, batch.partition));
    this.removeInFlight(batch);
    if (e && batch.producerId === e.producerId && batch.producerEpoch === e.epoch && batch.lastSequence > e.lastAckedSequence) {
      e.lastAckedSequence = batch.lastSequence;
    }
  }

  /**
   * The batch failed for good and was not written (the broker refused it, or
   * it was never sent): the sequence numbers after it must be numbered again
   * (Java does it by bumping the epoch).
   */
  onFailed(batch: ProducerBatch): void {
    this.removeInFlight(batch);
    if (batch.hasSequence) this.renumber(batch.topic, batch.partition, batch.baseSequence);
  }

  /** The batch failed after it may have been written (it expired while being sent). */
  markUnresolved(batch: ProducerBatch): void {
    this.removeInFlight(batch);
    if (batch.hasSequence) this.unresolved.add(tpKey(batch.topic, batch.partition));
  }

  private isNextSequence(e: PartitionSequences, sequence: number): boolean {
    return sequence - e.lastAckedSequence === 1;
  }

  /**
   * Whether a batch the broker answered with `code` may be sent again, for the
   * two sequence errors; any other code is retriable when Kafka says so
   * (Java: TransactionManager.canRetry).
   */
  canRetry(batch: ProducerBatch, code: number, logStartOffset: bigint): boolean {
    const key = tpKey(batch.topic, batch.partition);
    const e = this.entry(batch.topic, batch.partition);
    if (code === ErrorCode.UNKNOWN_PRODUCER_ID) {
      // Without the log start offset (leadership moving) the answer is not final yet.
      if (logStartOffset === -1n) return true;
      // The first failed batch already renumbered the others.
      if (batch.sequenceReset) return true;
      // The broker lost this producer's state (retention, or a new leader without it): new epoch, from 0.
      // It can recognise none of our batches any more: nothing waits for the bump.
      this.renumber(batch.topic, batch.partition, -Infinity);
      return true;
    }
    if (code === ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER) {
      // Not the next batch: an earlier one has not arrived yet; it is resent first.
      if (!this.unresolved.has(key) && (batch.sequenceReset || !this.isNextSequence(e, batch.baseSequence))) return true;
      // The next batch and still out of order: a real gap on the broker. Renumber under a new epoch.
      if (!this.unresolved.has(key) || this.isNextSequence(e, batch.baseSequence)) this.renumber(batch.topic, batch.partition, batch.baseSequence);
      return true;
    }
    return isRetriableCode(code);
  }

  /**
   * The partition's unsettled batches must be numbered again from 0 (under a
   * new epoch), because the broker refused the batch at sequence `gapAt` for
   * good (-Infinity: it knows none of our batches).
   */
  renumber(topic: string, partition: number, gapAt: number): void {
    const key = tpKey(topic, partition);
    this.toRewrite.set(key, Math.min(this.toRewrite.get(key) ?? Infinity, gapAt));
    this.bumpRequired = true;
  }

  /**
   * Whether a partition to renumber still has a batch below its gap that may
   * already be in the log (an attempt ended without a final answer): it is
   * resent under the current epoch first, where the broker recognises it.
   * Renumbered, it would be written a second time.
   */
  private awaitingResolution(): boolean {
    for (const [key, gap] of this.toRewrite) {
      const e = this.partitions.get(key);
      if (!e) continue;
      for (const b of e.inflight) {
        if (b.mayBeWritten && b.baseSequence < gap && b.producerId === this.pid && b.producerEpoch === this.ep) return true;
      }
    }
    return false;
  }

  /**
   * Settles unresolved partitions whose batches in flight all ended: if the
   * broker acknowledged up to the last sequence handed out, all is well;
   * otherwise the epoch is bumped.
   */
  maybeResolveSequences(): void {
    for (const key of [...this.unresolved]) {
      const e = this.partitions.get(key);
      if (!e) {
        this.unresolved.delete(key);
        continue;
      }
      if (e.inflight.length > 0) continue;
      this.unresolved.delete(key);
      if (!this.isNextSequence(e, e.nextSequence)) {
        // Nothing of it is in flight any more: nothing to wait for.
        this.toRewrite.set(key, -Infinity);
        this.bumpRequired = true;
      }
    }
  }

  /**
   * Applies a requested epoch bump (the sender calls this before each drain):
   * epoch + 1 and the affected partitions' batches numbered from 0; at the
   * highest epoch a new producer id is needed instead. Returns true when the
   * sender must ask for a producer id.
   */
  bumpEpochIfNeeded(): boolean {
    if (this.bumpRequired && this.pid >= 0n && !this.awaitingResolution()) {
      this.bumpRequired = false;
      this.epochBumps++;
      if (this.ep >= MAX_EPOCH) {
        // Every partition is stale under a new id: each starts again at 0 once its batches in flight settle.
        this.resetRequired = true;
        for (const key of this.toRewrite.keys()) this.unresolved.delete(key);
        this.toRewrite.clear();
      } else {
        this.ep++;
        for (const key of this.toRewrite.keys()) {
          this.startSequencesAtBeginning(key);
          this.unresolved.delete(key);
        }
        this.toRewrite.clear();
      }
    }
    return !this.hasProducerId();
  }

  /** A new producer id is needed (the broker fenced this one): every partition starts again under it. */
  requestNewProducerId(): void {
    this.resetRequired = true;
  }

  private startSequencesAtBeginning(key: string): void {
    const e = this.partitions.get(key);
    if (!e) return;
    let sequence = 0;
    for (const b of e.inflight) {
      b.setProducerState(this.pid, this.ep, sequence, true);
      sequence = incrementSequence(sequence, b.count);
    }
    e.producerId = this.pid;
    e.epoch = this.ep;
    e.nextSequence = sequence;
    e.lastAckedSequence = NO_LAST_ACKED;
    e.window = [...e.inflight];
  }

  /** A partition's sequence bookkeeping: the next number, the last acknowledged one, batches unsettled (tests, diagnostics). */
  sequenceInfo(topic: string, partition: number): { next: number; lastAcked: number; inflight: number } | undefined {
    const e = this.partitions.get(tpKey(topic, partition));
    return e && { next: e.nextSequence, lastAcked: e.lastAckedSequence, inflight: e.inflight.length };
  }
}
