// Holds records until they are sent, as the Java client's RecordAccumulator:
// one queue of batches per topic-partition; a batch fills up to batch.size
// (its size estimated with the topic's compression ratio, as Java does) and
// is ready once full, after linger.ms, when someone waits for buffer room, or
// on flush and close. The sender asks which brokers have ready batches
// (ready), then takes one batch per partition for each (drain). Records whose
// topic (or partition) is not in the metadata yet wait here, in order, until
// it is, up to max.block.ms.
//
// Memory is counted by the BufferPool; this class only places, hands out and
// settles records. It keeps no timers: the sender asks when to look again.

import type { Clock } from '../../common/clock';
import { ErrorCode, errorName } from '../protocol/error-codes';
import { deliveryTimeout, ProducerError, RecordError } from '../errors';
import type { BufferPool } from './buffer-pool';
import type { ClusterMetadata } from './cluster-metadata';
import type { IdempotenceManager } from './idempotence';
import type { PartitionAssigner } from './partitioner';
import { BATCH_HEADER_BYTES, ProducerBatch, tpKey, type PendingRecord, type RecordMetadata } from './producer-batch';

export interface AccumulatorOptions {
  batchSize: number;
  lingerMs: number;
  deliveryTimeoutMs: number;
  /** how long a record waits for its topic's metadata */
  maxBlockMs: number;
  /** whether batches are compressed: their size is then estimated with the observed ratio */
  compressed: boolean;
}

export interface PartitionQueue {
  topic: string;
  partition: number;
  key: string;
  batches: ProducerBatch[];
  /** a batch is in flight and order must hold without idempotence (max.in.flight 1) */
  muted: boolean;
  /** the last error seen for this partition, for the delivery timeout's message */
  lastError?: Error;
  /** an error was seen here since its last batch was written (it is retrying, or its leader is gone) */
  troubled?: boolean;
}

export interface ReadyCheck {
  /** brokers with at least one batch to send now */
  readyNodes: Set<number>;
  /** per broker, the queues of partitions it leads (to drain from) */
  queuesByNode: Map<number, PartitionQueue[]>;
  /** ms until a batch not yet ready becomes ready (Infinity: none) */
  nextReadyCheckMs: number;
  /** topics with a partition whose leader is unknown */
  unknownLeaderTopics: Set<string>;
}

interface WaitingRecord {
  p: PendingRecord;
  /** metadata requests started before it came: an explicit partition is refused only by the answer to a later one */
  sinceRequest: number;
}

/** The earliest receivedAt among records not settled (Infinity: none). */
export function oldestOf(records: readonly PendingRecord[]): number {
  for (const p of records) if (!p.settled) return p.receivedAt;
  return Infinity;
}

/** An explicit partition beyond the topic's count, after fresh metadata confirmed the count. */
function invalidPartition(topic: string, partition: number, count: number): RecordError {
  return new RecordError(`Invalid partition given with record: ${partition} is not in the range [0...${count}) of topic "${topic}"`);
}

export class RecordAccumulator {
  private readonly queues = new Map<string, PartitionQueue>();
  private readonly queuesByTopic = new Map<string, PartitionQueue[]>();
  private readonly waiting = new Map<string, WaitingRecord[]>();
  /** compressed / uncompressed size per topic, for batch.size (Java's CompressionRatioEstimator) */
  private readonly ratios = new Map<string, number>();
  private readonly drainIndex = new Map<number, number>();
  private flushes = 0;
  /** the last connection failure, for records that wait for metadata */
  private lastNetworkError: Error | undefined;
  private closed = false;
  private queued = 0;

  constructor(
    private readonly opts: AccumulatorOptions,
    private readonly clock: Clock,
    private readonly pool: BufferPool,
    private readonly metadata: ClusterMetadata,
    private readonly partitioner: PartitionAssigner,
    /** called when something may have become ready, so the sender looks */
    private readonly wakeup: () => void,
    /** called once for every record that settles, either way */
    private readonly onSettled: (ok: boolean, p: PendingRecord) => void = () => {},
  ) {}

  /** Records queued or waiting for metadata (not in flight). */
  get queuedRecords(): number {
    let waiting = 0;
    for (const w of this.waiting.values()) waiting += w.length;
    return this.queued + waiting;
  }

  isEmpty(): boolean {
    return this.queued === 0 && this.waiting.size === 0;
  }

  /** Whether a topic still has records here (so its metadata stays wanted). */
  holds(topic: string): boolean {
    return this.waiting.has(topic) || !!this.queuesByTopic.get(topic)?.some((q) => q && q.batches.length > 0);
  }

  /**
   * When the oldest record held here (queued or waiting for its topic) was
   * taken (Infinity: none). Records of a partition are queued in the order they
   * came, so only the head batch of each queue and the head of each waiting
   * list are looked at: O(partitions), no per-record bookkeeping.
   */
  oldestReceivedAt(): number {
    let oldest = Infinity;
    for (const q of this.queues.values()) {
      const head = q.batches[0];
      if (head) oldest = Math.min(oldest, oldestOf(head.records));
    }
    for (const list of this.waiting.values()) if (list.length) oldest = Math.min(oldest, list[0].p.receivedAt);
    return oldest;
  }

  /**
   * Partitions with queued records that cannot go now: no leader known, a
   * leader `down` says is unreachable, or an error since the partition's last
   * write (e.g. NOT_ENOUGH_REPLICAS, retried); topics whose records wait for
   * metadata count one each.
   */
  unavailablePartitions(down: (node: number) => boolean): number {
    let n = this.waiting.size;
    for (const q of this.queues.values()) {
      if (!q.batches.length) continue;
      const leader = this.metadata.leader(q.topic, q.partition);
      if (leader < 0 || down(leader) || q.troubled) n++;
    }
    return n;
  }

  // ---- appending -----------------------------------------------------------------

  /** Places a record whose buffer bytes are granted. */
  add(p: PendingRecord): void {
    const { record } = p;
    const topic = this.metadata.use(record.topic, this.clock.now());
    const count = topic.partitions.length;
    // Behind records of the topic that wait, so that none overtakes an earlier one.
    if (count > 0 && !this.waiting.has(record.topic) && (record.partition === undefined || record.partition < count)) {
      this.append(p, this.partitioner.assign(record.topic, topic.partitions, record.key, record.partition, record.sizeInBytes));
      return;
    }
    let list = this.waiting.get(record.topic);
    if (!list) this.waiting.set(record.topic, (list = []));
    list.push({ p, sinceRequest: this.metadata.requestsStarted });
    this.metadata.requestUpdate();
    this.wakeup();
  }

  /** The partition's queue if it has one. */
  private existing(topic: string, partition: number): PartitionQueue | undefined {
    return this.queuesByTopic.get(topic)?.[partition];
  }

  private queue(topic: string, partition: number): PartitionQueue {
    // By topic, then partition number: no key string made per record.
    let byPartition = this.queuesByTopic.get(topic);
    if (!byPartition) this.queuesByTopic.set(topic, (byPartition = []));
    let q = byPartition[partition];
    if (!q) {
      const key = tpKey(topic, partition);
      q = { topic, partition, key, batches: [], muted: false };
      this.queues.set(key, q);
      byPartition[partition] = q;
    }
    return q;
  }

  private ratio(topic: string): number {
    return this.opts.compressed ? (this.ratios.get(topic) ?? 1) : 1;
  }

  /** A batch's size on the wire as estimated before it is written. */
  estimatedSize(batch: ProducerBatch): number {
    return BATCH_HEADER_BYTES + Math.ceil(batch.recordBytes * this.ratio(batch.topic));
  }

  private append(p: PendingRecord, partition: number): void {
    const q = this.queue(p.record.topic, partition);
    let last = q.batches[q.batches.length - 1];
    let wake = false;
    const size = p.record.sizeInBytes;
    const r = this.ratio(q.topic);
    if (!last || last.closed || (last.count > 0 && BATCH_HEADER_BYTES + (last.recordBytes + size) * r > this.opts.batchSize)) {
      last = new ProducerBatch(q.topic, partition, this.clock.now());
      q.batches.push(last);
      wake = true; // its linger timer starts, and the batch before it (if any) is full
    }
    last.records.push(p);
    last.recordBytes += size;
    this.queued++;
    if (wake || BATCH_HEADER_BYTES + last.recordBytes * r >= this.opts.batchSize || this.flushes > 0 || this.closed || this.pool.exhausted) {
      this.wakeup();
    }
  }

  /** Tells the ratio estimator how a topic's batch compressed. */
  observeCompression(topic: string, uncompressed: number, compressed: number): void {
    if (!this.opts.compressed || uncompressed <= 0) return;
    const observed = compressed / uncompressed;
    const current = this.ratios.get(topic) ?? 1;
    // As Java's estimator: worse ratios are taken quickly (a batch must not outgrow its limits), better ones slowly.
    const next = observed > current ? Math.max(current + 0.05, observed) : Math.max(observed, current - 0.005);
    this.ratios.set(topic, Math.min(1, next));
  }

  /**
   * After a metadata answer: records that waited for their topic go to their
   * partitions, in order, or fail when the topic cannot be written.
   */
  placeWaiting(): void {
    for (const [topic, list] of this.waiting) {
      const t = this.metadata.get(topic);
      if (!t) continue;
      const count = t.partitions.length;
      if (count === 0) {
        if (t.errorCode === ErrorCode.INVALID_TOPIC_EXCEPTION || t.errorCode === ErrorCode.TOPIC_AUTHORIZATION_FAILED) {
          const err =
            t.errorCode === ErrorCode.INVALID_TOPIC_EXCEPTION
              ? new ProducerError('InvalidTopicError', `The broker refused topic "${topic}" as invalid (${errorName(t.errorCode)})`)
              : new ProducerError('TopicAuthorizationError', `Not authorized to access topic "${topic}" (${errorName(t.errorCode)})`);
          this.waiting.delete(topic);
          for (const w of list) this.settle(w.p, err);
        }
        continue;
      }
      let i = 0;
      for (; i < list.length; i++) {
        const { p, sinceRequest } = list[i];
        const explicit = p.record.partition;
        if (explicit !== undefined && explicit >= count) {
          // As the Java producer, look again before refusing: the topic may have grown.
          if (this.metadata.lastAnsweredRequest > sinceRequest) {
            this.settle(p, invalidPartition(topic, explicit, count));
            continue;
          }
          this.metadata.requestUpdate();
          break;
        }
        this.append(p, this.partitioner.assign(topic, t.partitions, p.record.key, explicit, p.record.sizeInBytes));
      }
      if (i >= list.length) this.waiting.delete(topic);
      else if (i > 0) this.waiting.set(topic, list.slice(i));
    }
  }

  // ---- the sender's side -----------------------------------------------------------

  /** Which brokers have a batch to send now (Java: RecordAccumulator.ready). */
  ready(now: number): ReadyCheck {
    const readyNodes = new Set<number>();
    const queuesByNode = new Map<number, PartitionQueue[]>();
    const unknownLeaderTopics = new Set<string>();
    let next = Infinity;
    const hurry = this.flushes > 0 || this.closed || this.pool.exhausted;
    for (const q of this.queues.values()) {
      const head = q.batches[0];
      if (!head) continue;
      const leader = this.metadata.leader(q.topic, q.partition);
      if (leader < 0) {
        unknownLeaderTopics.add(q.topic);
        continue;
      }
      let list = queuesByNode.get(leader);
      if (!list) queuesByNode.set(leader, (list = []));
      list.push(q);
      if (readyNodes.has(leader) || q.muted) continue;
      if (head.attempts > 0 && now < head.retryAt) {
        next = Math.min(next, head.retryAt - now);
        continue;
      }
      const lingerLeft = head.attempts > 0 ? 0 : head.createdAt + this.opts.lingerMs - now;
      const full = q.batches.length > 1 || this.estimatedSize(head) >= this.opts.batchSize;
      if (full || lingerLeft <= 0 || hurry) readyNodes.add(leader);
      else next = Math.min(next, lingerLeft);
    }
    return { readyNodes, queuesByNode, nextReadyCheckMs: next, unknownLeaderTopics };
  }

  /**
   * The batches for one request to `node`: the first batch of each of its
   * partitions, up to maxRequestSize (the first always fits), starting where
   * the last drain of this node stopped so that no partition starves.
   */
  drain(node: number, queues: PartitionQueue[], maxRequestSize: number, now: number, idempotence?: IdempotenceManager, guaranteeOrder = false): ProducerBatch[] {
    const out: ProducerBatch[] = [];
    if (!queues.length) return out;
    let size = 0;
    const start = (this.drainIndex.get(node) ?? 0) % queues.length;
    let i = 0;
    for (; i < queues.length; i++) {
      const q = queues[(start + i) % queues.length];
      if (q.muted) continue;
      const head = q.batches[0];
      if (!head || (head.attempts > 0 && now < head.retryAt)) continue;
      const estimate = this.estimatedSize(head);
      if (out.length > 0 && size + estimate > maxRequestSize) break;
      if (idempotence?.shouldStopDrain(head)) continue;
      q.batches.shift();
      this.queued -= head.count;
      head.closed = true;
      if (idempotence && !head.hasSequence) idempotence.assignSequence(head);
      if (guaranteeOrder) q.muted = true;
      out.push(head);
      size += estimate;
    }
    this.drainIndex.set(node, (start + i + 1) % queues.length);
    return out;
  }

  /** The partition may send again (its batch in flight settled; max.in.flight 1). */
  unmute(topic: string, partition: number): void {
    const q = this.existing(topic, partition);
    if (q) q.muted = false;
  }

  noteError(topic: string, partition: number, err: Error): void {
    const q = this.existing(topic, partition);
    if (q) {
      q.lastError = err;
      q.troubled = true;
    }
  }

  /** Notes `err` on every partition with queued batches whose leader is `node`. */
  noteNodeError(node: number, err: Error): void {
    this.lastNetworkError = err;
    for (const q of this.queues.values()) {
      if (q.batches.length && this.metadata.leader(q.topic, q.partition) === node) {
        q.lastError = err;
        q.troubled = true;
      }
    }
  }

  /**
   * A batch comes back to be sent again after `backoffMs`: first in its
   * queue, or (idempotent) in sequence order among the batches being resent.
   */
  reenqueue(batch: ProducerBatch, now: number, backoffMs: number): void {
    batch.retryAt = now + backoffMs;
    batch.inFlight = false;
    batch.closed = true;
    const q = this.queue(batch.topic, batch.partition);
    let i = 0;
    if (batch.hasSequence) while (i < q.batches.length && q.batches[i].hasSequence && q.batches[i].baseSequence < batch.baseSequence) i++;
    q.batches.splice(i, 0, batch);
    this.queued += batch.count;
    this.wakeup();
  }

  /**
   * A batch the broker found too large goes back as two halves (sent again
   * at once); a half of one record that is still too large fails alone.
   * Idempotent: the halves keep the batch's sequence numbers (the broker
   * wrote none of it).
   */
  splitAndReenqueue(batch: ProducerBatch, now: number, idempotence?: IdempotenceManager): ProducerBatch[] {
    const live = batch.records;
    const half = Math.ceil(live.length / 2);
    const parts = [live.slice(0, half), live.slice(half)].map((records) => {
      const b = new ProducerBatch(batch.topic, batch.partition, batch.createdAt);
      for (const p of records) {
        b.records.push(p);
        b.recordBytes += p.record.sizeInBytes;
      }
      b.closed = true;
      b.attempts = batch.attempts;
      b.lastError = batch.lastError;
      return b;
    });
    if (batch.hasSequence) {
      parts[0].setProducerState(batch.producerId, batch.producerEpoch, batch.baseSequence, batch.sequenceReset);
      parts[1].setProducerState(batch.producerId, batch.producerEpoch, batch.baseSequence + parts[0].count, batch.sequenceReset);
      idempotence?.replaceInFlight(batch, parts);
    }
    batch.done = true;
    // Reversed, so that each lands first: the earlier half ends up in front.
    for (const part of [parts[1], parts[0]]) this.reenqueue(part, now, 0);
    return parts;
  }

  /** Batches queued past delivery.timeout.ms, taken out (Java: expiredBatches). */
  expiredBatches(now: number): ProducerBatch[] {
    const out: ProducerBatch[] = [];
    for (const q of this.queues.values()) {
      while (q.batches.length && now >= q.batches[0].createdAt + this.opts.deliveryTimeoutMs) {
        const b = q.batches.shift()!;
        this.queued -= b.count;
        b.closed = true;
        out.push(b);
      }
    }
    return out;
  }

  /** How long a record may wait for its topic's metadata: max.block.ms, but never past delivery.timeout.ms. */
  private get waitLimitMs(): number {
    return Math.min(this.opts.maxBlockMs, this.opts.deliveryTimeoutMs);
  }

  /** Fails records that waited for their topic's metadata too long (see waitLimitMs). */
  expireWaiting(now: number): void {
    const limit = this.waitLimitMs;
    for (const [topic, list] of this.waiting) {
      let i = 0;
      while (i < list.length && now >= list[i].p.receivedAt + limit) i++;
      if (i === 0) continue;
      const t = this.metadata.get(topic);
      const count = t?.partitions.length ?? 0;
      for (const { p } of list.slice(0, i)) this.settle(p, this.waitError(p, topic, count, t?.errorCode ?? 0, now));
      if (i >= list.length) this.waiting.delete(topic);
      else this.waiting.set(topic, list.slice(i));
    }
  }

  private waitError(p: PendingRecord, topic: string, count: number, errorCode: number, now: number): Error {
    const explicit = p.record.partition;
    const what =
      count > 0 && explicit !== undefined
        ? `partition ${explicit} of topic "${topic}" (the broker lists ${count} partitions)`
        : `the metadata of topic "${topic}"`;
    const why = errorCode
      ? ` The broker answers ${errorName(errorCode)}: does the topic exist, and may the broker create it?`
      : this.lastNetworkError
        ? ` Last error: ${this.lastNetworkError.message}`
        : '';
    if (this.opts.deliveryTimeoutMs <= this.opts.maxBlockMs) {
      return deliveryTimeout(
        `Expiring 1 record(s) for ${topic}: ${now - p.receivedAt} ms has passed waiting for ${what} ` +
          `(delivery.timeout.ms is ${this.opts.deliveryTimeoutMs} ms). It was never sent: it was not written.${why}`,
        this.lastNetworkError,
      );
    }
    return new ProducerError('MetadataTimeoutError', `No ${what.replace(/^the /, '')} after ${this.opts.maxBlockMs} ms (max.block.ms): the record was not written.${why}`);
  }

  /** Milliseconds until the next queued batch or waiting record expires (Infinity: none). */
  nextExpiryMs(now: number): number {
    let best = Infinity;
    for (const q of this.queues.values()) {
      const head = q.batches[0];
      if (head) best = Math.min(best, head.createdAt + this.opts.deliveryTimeoutMs - now);
    }
    for (const list of this.waiting.values()) best = Math.min(best, list[0].p.receivedAt + this.waitLimitMs - now);
    return Math.max(0, best);
  }

  // ---- settling ----------------------------------------------------------------------

  /** The broker wrote the batch at `baseOffset` (null: no offset known); `acknowledged` false with acks 0. */
  complete(batch: ProducerBatch, baseOffset: bigint | null, logAppendTimeMs: bigint, acknowledged = true): void {
    batch.done = true;
    batch.inFlight = false;
    const q = this.existing(batch.topic, batch.partition);
    if (q) q.troubled = false;
    const base = baseOffset !== null && baseOffset >= 0n ? baseOffset : null;
    const exact = base !== null && base + BigInt(batch.count) <= BigInt(Number.MAX_SAFE_INTEGER);
    const baseNumber = exact ? Number(base) : 0;
    const appendTime = logAppendTimeMs >= 0n ? Number(logAppendTimeMs) : -1;
    const records = batch.records;
    for (let i = 0; i < records.length; i++) {
      const p = records[i];
      if (p.settled) continue;
      const meta: RecordMetadata = {
        topic: batch.topic,
        partition: batch.partition,
        offset: base === null ? null : exact ? String(baseNumber + i) : (base + BigInt(i)).toString(),
        // LogAppendTime topics stamp records on the broker; otherwise ours stands.
        timestamp: appendTime >= 0 ? appendTime : p.record.timestamp,
        acknowledged,
      };
      this.settle(p, undefined, meta);
    }
  }

  failBatch(batch: ProducerBatch, err: Error): void {
    batch.done = true;
    batch.inFlight = false;
    for (const p of batch.records) this.settle(p, err);
  }

  /** A record settles once: its buffer bytes are freed and its callback called. */
  settle(p: PendingRecord, err?: Error, meta?: RecordMetadata): void {
    if (p.settled) return;
    p.settled = true;
    this.pool.release(p.record.memoryBytes ?? p.record.sizeInBytes);
    this.onSettled(!err, p);
    try {
      if (err) p.failed(err);
      else p.acknowledged(meta!);
    } catch (e) {
      // The books are already right: the caller's error surfaces on its own, as an
      // exception in a promise reaction would, instead of breaking the sender mid-loop.
      queueMicrotask(() => {
        throw e;
      });
    }
  }

  /** The delivery timeout error of a batch, naming its partition and the last error seen there. */
  timeoutError(batch: ProducerBatch, now: number): Error {
    const last = batch.lastError ?? this.existing(batch.topic, batch.partition)?.lastError;
    const what =
      batch.attempts === 0
        ? 'It was never sent: it was not written.'
        : batch.mayBeWritten
          ? `It was sent ${batch.attempts} time(s) without a final answer: the broker may have written it.`
          : `It was sent ${batch.attempts} time(s) and refused each time: it was not written.`;
    return deliveryTimeout(
      `Expiring ${batch.count} record(s) for ${batch.topic}-${batch.partition}: ${now - batch.createdAt} ms has passed since batch creation ` +
        `(delivery.timeout.ms is ${this.opts.deliveryTimeoutMs} ms). ${what}` +
        (last ? ` Last error: ${last.message}` : ''),
      last,
    );
  }

  // ---- flush and close -----------------------------------------------------------------

  /** Everything queued is ready now, linger or not. */
  beginFlush(): void {
    this.flushes++;
    this.wakeup();
  }

  endFlush(): void {
    this.flushes = Math.max(0, this.flushes - 1);
  }

  /** No more linger: the producer is closing. */
  close(): void {
    this.closed = true;
    this.wakeup();
  }

  /** Fails every queued and waiting record (the producer gave up flushing). */
  abortAll(err: (p: PendingRecord) => Error): number {
    let n = 0;
    for (const q of this.queues.values()) {
      for (const b of q.batches) {
        b.done = true;
        for (const p of b.records) {
          if (!p.settled) n++;
          this.settle(p, err(p));
        }
      }
    }
    this.queues.clear();
    this.queuesByTopic.clear();
    this.queued = 0;
    for (const list of this.waiting.values()) {
      for (const { p } of list) {
        if (!p.settled) n++;
        this.settle(p, err(p));
      }
    }
    this.waiting.clear();
    return n;
  }
}
