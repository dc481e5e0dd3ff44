// Takes ready batches from the accumulator and sends them, as the Java
// client's Sender: one request carries the ready batches of many partitions,
// at most max.in.flight requests at once, retries with backoff within
// delivery.timeout.ms, one batch per partition in flight when order must hold,
// and a failed request split until a bad record fails alone.

import type { Batch, PendingRecord, RecordAccumulator, RecordMetadata } from './accumulator';
import { timeoutError } from './accumulator';
import { exponentialBackoff, type BackoffPolicy } from '../../common/backoff';
import type { Clock } from '../../common/clock';
import { isConnectionError, isRetriable, producerClosed, rootCause } from '../errors';

/** One send of several batches; the records of each batch are those not yet settled. */
export interface OutgoingBatch {
  topic: string;
  partition?: number;
  records: PendingRecord[];
}

export interface Transport {
  /** Sends the batches in one go; resolves with one metadata per record of each batch, in order. */
  send(batches: OutgoingBatch[]): Promise<RecordMetadata[][]>;
}

export interface SenderOptions {
  maxInFlight: number;
  /** keep order under retries: one batch per partition in flight */
  inOrder: boolean;
  retries: number;
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
  deliveryTimeoutMs: number;
}

export interface SenderEvents {
  /** a request was acknowledged */
  onRequestDone?(batches: readonly Batch[], records: number, bytes: number, latencyMs: number): void;
  /** records of a failed request will be tried again */
  onRetry?(err: unknown, records: number): void;
  /** the broker answered after a connection error */
  onReachable?(): void;
  /** a connection-type failure: the broker seems unreachable */
  onUnreachable?(err: unknown): void;
}

export class Sender {
  private inFlight = new Set<Batch[]>();
  private busy = new Set<string>();
  private timer: unknown;
  private timerAt = Infinity;
  private runQueued = false;
  private stopped = false;
  private idleWaiters: Array<() => void> = [];
  private readonly backoff: BackoffPolicy;
  private unreachable = false;

  constructor(
    private readonly acc: RecordAccumulator,
    private readonly transport: Transport,
    private readonly opts: SenderOptions,
    private readonly clock: Clock,
    private readonly events: SenderEvents = {},
  ) {
    this.backoff = exponentialBackoff({ initialMs: opts.retryBackoffMs, maxMs: opts.retryBackoffMaxMs, jitter: 0.2 });
  }

  get inFlightRequests(): number {
    return this.inFlight.size;
  }

  /** Coalesces wake-ups from many appends into one pass. */
  wake(): void {
    if (this.runQueued || this.stopped) return;
    this.runQueued = true;
    queueMicrotask(() => {
      this.runQueued = false;
      this.run();
    });
  }

  private run(): void {
    if (this.stopped) return;
    const now = this.clock.now();
    this.acc.expire(now);
    this.expireInFlight(now);
    while (this.inFlight.size < this.opts.maxInFlight) {
      const batches = this.acc.drain(now, this.busy, this.opts.inOrder);
      if (!batches.length) break;
      this.launch(batches);
    }
    this.schedule(now);
    if (this.inFlight.size === 0 && this.acc.isEmpty()) for (const w of this.idleWaiters.splice(0)) w();
  }

  private schedule(now: number): void {
    const waits = [this.acc.nextReadyIn(now), this.acc.nextExpiryIn(now), this.nextInFlightExpiryIn(now)].filter(
      (w): w is number => w !== undefined,
    );
    if (!waits.length) return;
    const at = now + Math.max(1, Math.min(...waits));
    if (this.timer !== undefined && this.timerAt <= at) return;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.run();
    }, at - now);
  }

  private launch(batches: Batch[]): void {
    this.inFlight.add(batches);
    for (const b of batches) this.busy.add(b.queueKey);
    const started = this.clock.now();
    const outgoing: OutgoingBatch[] = batches.map((b) => ({
      topic: b.topic,
      partition: b.partition,
      records: b.records.filter((p) => !p.settled),
    }));
    let sending: Promise<RecordMetadata[][]>;
    try {
      sending = this.transport.send(outgoing);
    } catch (e) {
      sending = Promise.reject(e);
    }
    sending
      .then(
        (metas) => {
          let records = 0;
          let bytes = 0;
          outgoing.forEach((o, i) => {
            o.records.forEach((p, j) => {
              records++;
              bytes += p.record.sizeInBytes;
              this.acc.succeed(p, metas[i][j]);
            });
          });
          if (this.unreachable) {
            this.unreachable = false;
            this.events.onReachable?.();
          }
          this.events.onRequestDone?.(batches, records, bytes, this.clock.now() - started);
        },
        (err) => this.failed(batches, err),
      )
      .finally(() => {
        this.inFlight.delete(batches);
        for (const b of batches) this.busy.delete(b.queueKey);
        this.wake();
      });
  }

  private failed(batches: Batch[], err: unknown): void {
    const now = this.clock.now();
    const cause = rootCause(err);
    if (isConnectionError(err)) {
      this.unreachable = true;
      this.events.onUnreachable?.(err);
    } else if (this.unreachable) {
      this.unreachable = false;
      this.events.onReachable?.();
    }
    const retriable = !this.stopped && isRetriable(err);
    let retried = 0;
    for (const batch of batches) {
      const live = batch.records.filter((p) => !p.settled);
      if (!live.length) continue;
      for (const p of live) p.lastError = cause;
      batch.records = live;
      batch.bytes = live.reduce((n, p) => n + p.record.sizeInBytes, 0);
      if (retriable && batch.attempts <= this.opts.retries) {
        retried += live.length;
        this.acc.requeue(batch, now + this.backoff.delay(batch.attempts));
      } else if (!this.stopped && !retriable && batches.length > 1) {
        // One batch of the request may be the cause: send each alone.
        retried += live.length;
        this.acc.requeue(batch, now, true);
      } else if (!this.stopped && !retriable && live.length > 1) {
        // One record may be the cause (too large, bad partition): try each alone.
        retried += live.length;
        this.acc.split(batch, now);
      } else {
        const error = cause instanceof Error ? cause : new Error(String(cause));
        for (const p of live) this.acc.fail(p, error);
      }
    }
    if (retried) this.events.onRetry?.(err, retried);
  }

  private expireInFlight(now: number): void {
    for (const batches of this.inFlight) {
      for (const b of batches) {
        for (const p of b.records) {
          if (now - p.receivedAt < this.opts.deliveryTimeoutMs) break; // arrival order: the rest are younger
          if (!p.settled) this.acc.fail(p, timeoutError(p, this.opts.deliveryTimeoutMs, now));
        }
      }
    }
  }

  private nextInFlightExpiryIn(now: number): number | undefined {
    let best: number | undefined;
    for (const batches of this.inFlight) {
      for (const b of batches) {
        const first = b.records.find((p) => !p.settled);
        if (!first) continue;
        const wait = Math.max(0, first.receivedAt + this.opts.deliveryTimeoutMs - now);
        if (best === undefined || wait < best) best = wait;
      }
    }
    return best;
  }

  /** Resolves once nothing is queued or in flight. */
  idle(): Promise<void> {
    if (this.inFlight.size === 0 && this.acc.isEmpty()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Sends everything now, ignoring linger.ms, and waits up to timeoutMs. */
  async flush(timeoutMs: number): Promise<boolean> {
    this.acc.beginFlush();
    this.wake();
    try {
      return await this.waitIdle(timeoutMs);
    } finally {
      this.acc.endFlush();
    }
  }

  /**
   * Stops taking records, sends what is held for up to timeoutMs, then fails
   * whatever is left so nothing vanishes without an error.
   */
  async close(timeoutMs: number): Promise<{ failed: number }> {
    this.acc.close();
    this.acc.beginFlush();
    this.wake();
    await this.waitIdle(timeoutMs);
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    const err = producerClosed(`The producer closed before the record was acknowledged (waited ${timeoutMs} ms to flush)`);
    let failed = this.acc.abortQueued(err);
    for (const batches of this.inFlight) {
      for (const b of batches) {
        for (const p of b.records) {
          if (!p.settled) {
            this.acc.fail(p, err);
            failed++;
          }
        }
      }
    }
    return { failed };
  }

  private waitIdle(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      let done = false;
      const t = this.clock.setTimeout(() => {
        if (done) return;
        done = true;
        resolve(false);
      }, timeoutMs);
      this.idle().then(() => {
        if (done) return;
        done = true;
        this.clock.clearTimeout(t);
        resolve(true);
      });
    });
  }
}
