// Takes ready batches from the accumulator and sends them, as the Java
// client's Sender: at most max.in.flight batches at once, retries with
// backoff within delivery.timeout.ms, one batch per queue in flight when order
// must hold, and a failed multi-record batch split so a bad record fails alone.

import type { Batch, PendingRecord, RecordAccumulator, RecordMetadata } from './accumulator';
import { timeoutError } from './accumulator';
import { exponentialBackoff, type BackoffPolicy } from './backoff';
import type { Clock } from './clock';
import { isConnectionError, isRetriable, producerClosed, rootCause } from './errors';
import type { ProducerRecord } from './record';

export interface Transport {
  /** Sends one topic's records; resolves with one metadata per record, in order. */
  send(topic: string, records: ProducerRecord[]): Promise<RecordMetadata[]>;
}

export interface SenderOptions {
  maxInFlight: number;
  /** keep order under retries: one batch per queue in flight */
  inOrder: boolean;
  retries: number;
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
  deliveryTimeoutMs: number;
}

export interface SenderEvents {
  /** a batch was acknowledged */
  onBatchSent?(batch: Batch, latencyMs: number): void;
  /** a send failed (it may be retried) */
  onSendError?(err: unknown, batch: Batch, willRetry: boolean): void;
  /** the broker answered after a connection error */
  onReachable?(): void;
  /** a connection-type failure: the broker seems unreachable */
  onUnreachable?(err: unknown): void;
}

export class Sender {
  private inFlight = new Set<Batch>();
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

  get inFlightBatches(): number {
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
    const room = this.opts.maxInFlight - this.inFlight.size;
    if (room > 0) {
      for (const batch of this.acc.drain(now, room, this.busy, this.opts.inOrder)) this.launch(batch);
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

  private launch(batch: Batch): void {
    this.inFlight.add(batch);
    this.busy.add(batch.queueKey);
    const started = this.clock.now();
    const live = batch.records.filter((p) => !p.settled);
    let sending: Promise<RecordMetadata[]>;
    try {
      sending = this.transport.send(batch.topic, live.map((p) => p.record));
    } catch (e) {
      sending = Promise.reject(e);
    }
    sending.then(
      (metas) => {
        for (let i = 0; i < live.length; i++) this.acc.succeed(live[i], metas[i]);
        if (this.unreachable) {
          this.unreachable = false;
          this.events.onReachable?.();
        }
        this.events.onBatchSent?.(batch, this.clock.now() - started);
      },
      (err) => this.failed(batch, err),
    ).finally(() => {
      this.inFlight.delete(batch);
      this.busy.delete(batch.queueKey);
      this.wake();
    });
  }

  private failed(batch: Batch, err: unknown): void {
    const live = batch.records.filter((p) => !p.settled);
    for (const p of live) p.lastError = rootCause(err);
    if (!live.length) return;
    batch.records = live;
    batch.bytes = live.reduce((n, p) => n + p.record.sizeInBytes, 0);
    const now = this.clock.now();
    if (isConnectionError(err)) {
      this.unreachable = true;
      this.events.onUnreachable?.(err);
    } else if (this.unreachable) {
      this.unreachable = false;
      this.events.onReachable?.();
    }
    if (!this.stopped && isRetriable(err) && batch.attempts <= this.opts.retries) {
      this.events.onSendError?.(err, batch, true);
      this.acc.requeue(batch, now + this.backoff.delay(batch.attempts));
      return;
    }
    if (!this.stopped && live.length > 1 && !isRetriable(err)) {
      // One record may be the cause (too large, bad partition): try each alone.
      this.events.onSendError?.(err, batch, true);
      this.acc.split(batch, now);
      return;
    }
    this.events.onSendError?.(err, batch, false);
    const cause = rootCause(err);
    const error = cause instanceof Error ? cause : new Error(String(cause));
    for (const p of live) this.acc.fail(p, error);
  }

  private expireInFlight(now: number): void {
    for (const b of this.inFlight) {
      for (const p of b.records) {
        if (!p.settled && now - p.receivedAt >= this.opts.deliveryTimeoutMs) {
          this.acc.fail(p, timeoutError(p, this.opts.deliveryTimeoutMs, now));
        }
      }
    }
  }

  private nextInFlightExpiryIn(now: number): number | undefined {
    let best: number | undefined;
    for (const b of this.inFlight) {
      const first = b.records.find((p: PendingRecord) => !p.settled);
      if (!first) continue;
      const wait = Math.max(0, first.receivedAt + this.opts.deliveryTimeoutMs - now);
      if (best === undefined || wait < best) best = wait;
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
    for (const b of this.inFlight) for (const p of b.records) if (!p.settled) {
      this.acc.fail(p, err);
      failed++;
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
