// Holds records until they are sent, as the Java client's RecordAccumulator:
// one queue of batches per topic-partition; a batch is ready when full
// (batch.size) or old enough (linger.ms), and once one is ready the heads of
// all queues go out with it in one request (up to max.request.size). Every
// byte held counts against buffer.memory; a record that finds no room waits up
// to max.block.ms. It keeps no timers of its own except for those waits: the
// sender asks it what is ready and when to look again.

import type { Clock } from '../../common/clock';
import { bufferExhausted, deliveryTimeout, producerClosed, recordTooLarge } from '../errors';
import type { PartitionAssigner } from './partitioner';
import type { ProducerRecord } from '../record';

export interface RecordMetadata {
  topic: string;
  partition: number;
  /** null when acks=0: the broker sends no acknowledgement */
  offset: string | null;
  timestamp: number;
}

export interface PendingRecord {
  record: ProducerRecord;
  /** chosen at append; undefined while the topic's partitions are unknown */
  partition?: number;
  /** placed without a partition: kafkajs's partitioner picks it at send time */
  unassigned?: boolean;
  /** when the producer took it: delivery.timeout.ms counts from here */
  receivedAt: number;
  resolve(meta: RecordMetadata): void;
  reject(err: Error): void;
  /** set once resolved or rejected, so nothing settles twice */
  settled?: boolean;
  /** the last error seen while retrying, for the timeout message */
  lastError?: unknown;
  /** the transport's form of the record, built at its first send and kept for retries */
  wire?: unknown;
}

export interface Batch {
  queueKey: string;
  topic: string;
  /** undefined: records whose partition kafkajs picks (topic not known yet) */
  partition?: number;
  records: PendingRecord[];
  bytes: number;
  createdAt: number;
  /** sends tried so far */
  attempts: number;
  /** not ready before this time (retry backoff) */
  notBefore: number;
  /** frozen once drained: no more appends */
  closed: boolean;
  /** must go in a request of its own (isolating a failure) */
  solo?: boolean;
}

export interface AccumulatorOptions {
  batchSize: number;
  lingerMs: number;
  bufferMemory: number;
  maxBlockMs: number;
  deliveryTimeoutMs: number;
  maxRequestSize: number;
  /** called once for every record that fails, whichever way (for record-error-rate) */
  onRecordFailed?: () => void;
}

interface Waiter {
  bytes: number;
  grant(): void;
  reject(err: Error): void;
  timer: unknown;
}

export class RecordAccumulator {
  private queues = new Map<string, Batch[]>();
  private held = 0;
  private waiters: Waiter[] = [];
  private waitingBytes = 0;
  /**
   * Set when a record found the line for room full, cleared when someone leaves
   * the line: until then every append is refused, so `refusing` can say so
   * before the caller builds the record.
   */
  private lineFull = false;
  /** per topic, records placed unassigned and not yet settled */
  private unassigned = new Map<string, number>();
  private rotation = 0;
  private flushing = false;
  private closed = false;

  constructor(
    private readonly opts: AccumulatorOptions,
    private readonly clock: Clock,
    /** called when something may have become ready, so the sender can look */
    private readonly wakeup: () => void = () => {},
    /** picks partitions at append; without one, batches are per topic */
    private readonly assigner?: PartitionAssigner,
  ) {}

  /** Bytes held: queued and in flight. Never above buffer.memory. */
  get bytesHeld(): number {
    return this.held;
  }

  get bufferAvailable(): number {
    return this.opts.bufferMemory - this.held;
  }

  /** Records queued (not in flight). */
  get queuedRecords(): number {
    let n = 0;
    for (const q of this.queues.values()) for (const b of q) if (!b.closed) n += b.records.length;
    return n;
  }

  /** Number of appends waiting for buffer room. */
  get blockedAppends(): number {
    return this.waiters.length;
  }

  /**
   * Adds a record; the promise settles when the record is acknowledged or
   * fails.
   */
  append(record: ProducerRecord): Promise<RecordMetadata> {
    return new Promise<RecordMetadata>((resolve, reject) => this.appendWith(record, resolve, reject));
  }

  /**
   * append() without a promise: exactly one of the two is called, once, when
   * the record is acknowledged or fails; `failed` may be called before this
   * returns (a record refused at once). A producer taking tens of thousands of
   * records a second saves a promise and its reactions per record.
   */
  appendWith(record: ProducerRecord, acknowledged: (meta: RecordMetadata) => void, failed: (err: Error) => void): void {
    const size = record.sizeInBytes;
    const memory = record.memoryBytes ?? size;
    if (size > this.opts.maxRequestSize) {
      return this.failWith(failed, recordTooLarge(
        `The message is ${size} bytes when serialized which is larger than ${this.opts.maxRequestSize}, which is the value of the max.request.size configuration.`,
      ));
    }
    if (memory > this.opts.bufferMemory) {
      return this.failWith(failed, recordTooLarge(
        `The message takes ${memory} bytes until it is acknowledged, which is larger than the total memory buffer you have configured with the buffer.memory configuration (${this.opts.bufferMemory}).`,
      ));
    }
    if (this.closed) return this.failWith(failed, producerClosed('The producer is closed'));
    const receivedAt = this.clock.now();
    let partition: number | undefined;
    try {
      partition = this.assigner ? this.assigner.assign(record.topic, record.key, record.partition, size) : record.partition;
    } catch (e) {
      return this.failWith(failed, e as Error);
    }
    const pending: PendingRecord = { record, partition, receivedAt, resolve: acknowledged, reject: failed, wire: undefined };
    if (this.waiters.length === 0 && this.held + memory <= this.opts.bufferMemory) {
      this.place(pending);
      return;
    }
    // No room: wait in line for max.block.ms (first come, first served). Node-RED
    // cannot block its sender as Java's send() blocks a thread, so the line itself
    // is bounded: past it a record fails at once instead of piling up in memory.
    if ((this.lineFull && this.waiters.length > 0) || this.waitingBytes + memory > this.waitingRoom) {
      if (this.waiters.length > 0) this.lineFull = true;
      return this.failWith(failed, bufferExhausted(
        `buffer.memory (${this.opts.bufferMemory} bytes) is full and ${this.waitingBytes} bytes already wait for room: ` +
          `the broker is not keeping up or cannot be reached`,
      ));
    }
    this.waitingBytes += memory;
    const waiter: Waiter = {
      bytes: memory,
      grant: () => this.place(pending),
      reject: failed,
      timer: undefined,
    };
    const block = this.opts.maxBlockMs;
    waiter.timer = this.clock.setTimeout(() => {
      const i = this.waiters.indexOf(waiter);
      if (i >= 0) this.waiters.splice(i, 1);
      this.waitingBytes -= memory;
      this.lineFull = false;
      this.failWith(failed, bufferExhausted(
        `Failed to allocate ${memory} bytes within the configured max blocking time ${block} ms: buffer.memory (${this.opts.bufferMemory} bytes) is full, ${this.held} bytes are waiting to be sent`,
      ));
      this.grantWaiters();
    }, block);
    this.waiters.push(waiter);
  }

  private place(p: PendingRecord): void {
    const { record } = p;
    this.held += record.memoryBytes ?? record.sizeInBytes;
    // While records of this topic wait for kafkajs to pick their partition, later
    // ones join them, so that none overtakes an earlier record of its key.
    if (p.partition !== undefined && this.unassigned.get(record.topic) && record.partition === undefined) p.partition = undefined;
    if (p.partition === undefined && this.assigner) {
      p.unassigned = true;
      this.unassigned.set(record.topic, (this.unassigned.get(record.topic) ?? 0) + 1);
    }
    const key = p.partition === undefined ? `${record.topic}\u0000*` : `${record.topic}\u0000${p.partition}`;
    let q = this.queues.get(key);
    if (!q) this.queues.set(key, (q = []));
    let last = q[q.length - 1];
    let started = false;
    if (!last || last.closed || (last.records.length > 0 && last.bytes + record.sizeInBytes > this.opts.batchSize)) {
      started = true;
      last = {
        queueKey: key, topic: record.topic, partition: p.partition, records: [], bytes: 0,
        createdAt: this.clock.now(), attempts: 0, notBefore: 0, closed: false,
      };
      q.push(last);
    }
    last.records.push(p);
    last.bytes += record.sizeInBytes;
    // The sender looks again only when something changed for it: a new batch
    // (its linger timer), a full one, or a flush. A record joining a growing
    // batch needs no look: that batch's timer is already set.
    if (started || last.bytes >= this.opts.batchSize || this.flushing || this.closed) this.wakeup();
  }

  private isReady(b: Batch, now: number, waited: boolean): boolean {
    if (now < b.notBefore) return false;
    if (b.attempts > 0 || this.flushing || this.closed || waited) return true;
    return b.bytes >= this.opts.batchSize || now - b.createdAt >= this.opts.lingerMs;
  }

  /**
   * Takes the batches for one request, or none if nothing is ready. Once any
   * queue's head batch is ready, the heads of the other queues go along (as
   * the Java client drains every partition of a ready broker), up to
   * max.request.size bytes. With `inOrder`, queues in `busy` (a batch in
   * flight) are skipped so a retry can never be overtaken. A solo batch goes
   * alone.
   */
  drain(now: number, busy: ReadonlySet<string> = new Set(), inOrder = false): Batch[] {
    const waited = this.waiters.length > 0;
    let anyReady = false;
    const heads: Batch[] = [];
    for (const [key, q] of this.queues) {
      if (inOrder && busy.has(key)) continue;
      const head = q[0];
      if (!head || now < head.notBefore) continue;
      if (head.solo) {
        if (!this.isReady(head, now, true)) continue;
        return [this.take(q, key)];
      }
      heads.push(head);
      // A full batch behind the head means the head is done growing.
      if (!anyReady && this.isReady(head, now, waited || q.length > 1)) anyReady = true;
    }
    if (!anyReady) return [];
    const out: Batch[] = [];
    let bytes = 0;
    const max = this.opts.maxRequestSize;
    // Start at a different queue each time, so none starves when requests fill up.
    const start = this.rotation++ % heads.length;
    for (let i = 0; i < heads.length; i++) {
      const head = heads[(start + i) % heads.length];
      if (out.length && bytes + head.bytes > max) continue;
      const key = head.queueKey;
      const q = this.queues.get(key)!;
      out.push(this.take(q, key));
      bytes += head.bytes;
      // The partition's later batches ride along: kafkajs sends a partition's
      // messages as one record batch, so a backlog goes in few big requests
      // (the idempotent kafkajs producer has one request per broker at a time).
      while (q.length && !q[0].solo && q[0].notBefore <= now && bytes + q[0].bytes <= max) {
        bytes += q[0].bytes;
        out.push(this.take(q, key));
      }
    }
    return out;
  }

  private take(q: Batch[], key: string): Batch {
    const b = q.shift()!;
    if (q.length === 0) this.queues.delete(key);
    b.closed = true;
    b.attempts++;
    return b;
  }

  /** Milliseconds until some batch becomes ready, or undefined if none is queued. */
  nextReadyIn(now: number): number | undefined {
    let best: number | undefined;
    for (const q of this.queues.values()) {
      const b = q[0];
      if (!b) continue;
      const at = b.attempts > 0 ? b.notBefore : Math.max(b.notBefore, b.createdAt + this.opts.lingerMs);
      const wait = Math.max(0, at - now);
      if (best === undefined || wait < best) best = wait;
    }
    return best;
  }

  /** Milliseconds until the oldest queued record passes delivery.timeout.ms. */
  nextExpiryIn(now: number): number | undefined {
    let best: number | undefined;
    for (const q of this.queues.values()) {
      for (const b of q) {
        for (const p of b.records) {
          const wait = Math.max(0, p.receivedAt + this.opts.deliveryTimeoutMs - now);
          if (best === undefined || wait < best) best = wait;
          break; // records in a batch are in arrival order
        }
      }
    }
    return best;
  }

  /** Fails queued records older than delivery.timeout.ms. Returns how many. */
  expire(now: number): number {
    const cutoff = now - this.opts.deliveryTimeoutMs;
    let n = 0;
    for (const [key, q] of this.queues) {
      let emptied = false;
      for (const b of q) {
        // Records are in arrival order: most of the time the oldest is young enough and that is all to look at.
        if (!b.records.length || b.records[0].receivedAt > cutoff) continue;
        let i = 0;
        while (i < b.records.length && b.records[i].receivedAt <= cutoff) {
          const p = b.records[i++];
          this.fail(p, timeoutError(p, this.opts.deliveryTimeoutMs, now));
          b.bytes -= p.record.sizeInBytes;
          n++;
        }
        b.records = b.records.slice(i);
        if (!b.records.length) emptied = true;
      }
      if (emptied) {
        const left = q.filter((b) => b.records.length > 0);
        if (left.length) this.queues.set(key, left);
        else this.queues.delete(key);
      }
    }
    return n;
  }

  /** A batch came back for another try: it goes first in its queue, after the backoff. */
  requeue(batch: Batch, notBefore: number, solo = batch.solo): void {
    batch.notBefore = notBefore;
    batch.solo = solo;
    let q = this.queues.get(batch.queueKey);
    if (!q) this.queues.set(batch.queueKey, (q = []));
    q.unshift(batch);
    this.wakeup();
  }

  /** Splits a failed batch into one-record batches, first in line, each sent alone, so one bad record fails alone. */
  split(batch: Batch, notBefore: number): void {
    const singles = batch.records.map((p) => ({ ...batch, records: [p], bytes: p.record.sizeInBytes, notBefore, closed: true, solo: true }));
    let q = this.queues.get(batch.queueKey);
    if (!q) this.queues.set(batch.queueKey, (q = []));
    q.unshift(...singles);
    this.wakeup();
  }

  /** Settling a record (either way) frees its bytes, exactly once. */
  succeed(p: PendingRecord, meta: RecordMetadata): void {
    if (p.settled) return;
    p.settled = true;
    this.held -= p.record.memoryBytes ?? p.record.sizeInBytes;
    this.settleUnassigned(p);
    settleSafely(p.resolve, meta);
    this.grantWaiters();
  }

  fail(p: PendingRecord, err: Error): void {
    if (p.settled) return;
    p.settled = true;
    this.held -= p.record.memoryBytes ?? p.record.sizeInBytes;
    this.settleUnassigned(p);
    this.failWith(p.reject, err);
    this.grantWaiters();
  }

  private failWith(failed: (err: Error) => void, err: Error): void {
    this.opts.onRecordFailed?.();
    settleSafely(failed, err);
  }

  private settleUnassigned(p: PendingRecord): void {
    if (!p.unassigned) return;
    const left = (this.unassigned.get(p.record.topic) ?? 1) - 1;
    if (left > 0) this.unassigned.set(p.record.topic, left);
    else this.unassigned.delete(p.record.topic);
  }

  private grantWaiters(): void {
    while (this.waiters.length && this.held + this.waiters[0].bytes <= this.opts.bufferMemory) {
      const w = this.waiters.shift()!;
      this.clock.clearTimeout(w.timer);
      this.waitingBytes -= w.bytes;
      this.lineFull = false;
      w.grant();
    }
  }

  /**
   * True while an append would be refused at once (buffer full and the line
   * for room full too): a caller can refuse before building the record.
   */
  get refusing(): boolean {
    return this.closed || (this.waiters.length > 0 && (this.lineFull || this.waitingBytes >= this.waitingRoom));
  }

  /** Bytes that may wait for buffer room at once: an eighth of buffer.memory, at least 1 MiB (or all of it when smaller). */
  private get waitingRoom(): number {
    return Math.min(this.opts.bufferMemory, Math.max(1 << 20, Math.floor(this.opts.bufferMemory / 8)));
  }

  /** Sends everything queued now, linger or not (close, flush). */
  beginFlush(): void {
    this.flushing = true;
    this.wakeup();
  }

  endFlush(): void {
    this.flushing = false;
  }

  /** No more appends; blocked appends fail; queued records stay to be flushed. */
  close(): void {
    this.closed = true;
    for (const w of this.waiters.splice(0)) {
      this.clock.clearTimeout(w.timer);
      this.waitingBytes -= w.bytes;
      this.lineFull = false;
      this.failWith(w.reject, producerClosed('The producer closed while this record waited for buffer room'));
    }
    this.wakeup();
  }

  /** Fails every queued record (after a flush ran out of time). */
  abortQueued(err: Error): number {
    let n = 0;
    for (const q of this.queues.values()) for (const b of q) for (const p of b.records) {
      this.fail(p, err);
      n++;
    }
    this.queues.clear();
    return n;
  }

  isEmpty(): boolean {
    return this.queues.size === 0;
  }
}

export function timeoutError(p: PendingRecord, deliveryTimeoutMs: number, now: number) {
  const last = p.lastError ? ` Last error: ${(p.lastError as Error).message ?? String(p.lastError)}` : '';
  const partition = p.partition ?? p.record.partition;
  const where = partition !== undefined ? `${p.record.topic}-${partition}` : p.record.topic;
  return deliveryTimeout(
    `Expiring record for ${where}: ${now - p.receivedAt} ms has passed since it was received (delivery.timeout.ms is ${deliveryTimeoutMs} ms).${last}`,
    p.lastError,
  );
}

/**
 * Calls a caller's settle callback. If it throws, the accumulator's books are
 * already right; the error is thrown again on its own, as an exception in a
 * promise reaction would surface, instead of breaking the sender mid-loop.
 */
function settleSafely<T>(fn: (v: T) => void, v: T): void {
  try {
    fn(v);
  } catch (e) {
    queueMicrotask(() => {
      throw e;
    });
  }
}
