// hbc-like statistics of one X source: posts, connects, disconnects, reconnect attempts, drops,
// and a posts/s rate over the last few seconds.
import { systemClock, type Clock } from '../common/clock';

export type SourceState = 'idle' | 'syncing' | 'connecting' | 'connected' | 'waiting' | 'polling' | 'stopped' | 'closed';

export interface XStatsSnapshot {
  state: SourceState;
  /** Posts handed to the flow. */
  posts: number;
  /** Posts handed to the flow per second, over the last `rateWindowMs`. */
  postsPerSecond: number;
  /** Posts read from X (before de-duplication and the queue). */
  received: number;
  /** Stream connections established (HTTP 200). */
  connects: number;
  /** Established stream connections that ended. */
  disconnects: number;
  /** Connection attempts (or search requests) after a failure or a drop. */
  reconnectAttempts: number;
  /** Failures that were retried, by kind: dropped, network, http, rateLimited. */
  failures: Record<string, number>;
  /** HTTP error statuses seen, by status. */
  httpErrors: Record<string, number>;
  /** Posts refused by the full queue. */
  drops: number;
  /** Posts recognised as repeats and not sent on. */
  duplicates: number;
  /** Lines that were not JSON or not a post. */
  malformed: number;
  keepAlives: number;
  /** In-stream error objects (operational-disconnect and kin). */
  disconnectNotices: number;
  bytes: number;
  queued: number;
  queueHighWater: number;
  /** Recent search polls done. */
  polls: number;
  lastError?: string;
  /** Epoch ms of the last established connection (or poll). */
  connectedSince?: number;
}

export class XStats {
  state: SourceState = 'idle';
  posts = 0;
  received = 0;
  connects = 0;
  disconnects = 0;
  reconnectAttempts = 0;
  failures: Record<string, number> = {};
  httpErrors: Record<string, number> = {};
  duplicates = 0;
  malformed = 0;
  keepAlives = 0;
  disconnectNotices = 0;
  bytes = 0;
  polls = 0;
  lastError?: string;
  connectedSince?: number;

  private readonly buckets: Float64Array;
  private readonly bucketMs: number;
  private bucketStart = 0;
  private bucketIndex = 0;
  private readonly startedAt: number;

  constructor(private readonly clock: Clock = systemClock, readonly rateWindowMs = 5000, buckets = 10) {
    this.buckets = new Float64Array(buckets);
    this.bucketMs = Math.max(1, Math.floor(rateWindowMs / buckets));
    this.startedAt = clock.now();
    this.bucketStart = this.startedAt;
  }

  /** Counts `n` posts handed to the flow. */
  sent(n = 1): void {
    this.posts += n;
    this.advance(this.clock.now());
    this.buckets[this.bucketIndex] += n;
  }

  failure(kind: string, status?: number): void {
    this.failures[kind] = (this.failures[kind] ?? 0) + 1;
    if (status !== undefined) this.httpErrors[status] = (this.httpErrors[status] ?? 0) + 1;
  }

  postsPerSecond(): number {
    const now = this.clock.now();
    this.advance(now);
    let sum = 0;
    for (let i = 0; i < this.buckets.length; i++) sum += this.buckets[i];
    // Right after the start, divide by the time there has been, not by the whole window.
    const span = Math.min(this.rateWindowMs, Math.max(now - this.startedAt, this.bucketMs));
    return (sum * 1000) / span;
  }

  snapshot(queue: { length: number; dropped: number; highWater: number }): XStatsSnapshot {
    return {
      state: this.state,
      posts: this.posts,
      postsPerSecond: Math.round(this.postsPerSecond() * 10) / 10,
      received: this.received,
      connects: this.connects,
      disconnects: this.disconnects,
      reconnectAttempts: this.reconnectAttempts,
      failures: { ...this.failures },
      httpErrors: { ...this.httpErrors },
      drops: queue.dropped,
      duplicates: this.duplicates,
      malformed: this.malformed,
      keepAlives: this.keepAlives,
      disconnectNotices: this.disconnectNotices,
      bytes: this.bytes,
      queued: queue.length,
      queueHighWater: queue.highWater,
      polls: this.polls,
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
      ...(this.connectedSince === undefined ? {} : { connectedSince: this.connectedSince }),
    };
  }

  private advance(now: number): void {
    const steps = Math.floor((now - this.bucketStart) / this.bucketMs);
    if (steps <= 0) return;
    const n = this.buckets.length;
    for (let i = 0; i < Math.min(steps, n); i++) {
      this.bucketIndex = (this.bucketIndex + 1) % n;
      this.buckets[this.bucketIndex] = 0;
    }
    this.bucketStart += steps * this.bucketMs;
  }
}

/** 1234 → "1234", 12345 → "12.3k", 1234567 → "1.23M" (for a status line). */
export function compactNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const a = Math.abs(n);
  if (a < 10_000) return a >= 100 || Number.isInteger(n) ? String(Math.round(n)) : n.toFixed(1);
  if (a < 1_000_000) return `${(n / 1000).toFixed(a < 100_000 ? 1 : 0)}k`;
  return `${(n / 1_000_000).toFixed(a < 10_000_000 ? 2 : 1)}M`;
}
