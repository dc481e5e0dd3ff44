// Producer metrics with the Java producer's names and meaning, over a sliding
// window (the Java client keeps two 30 s samples; so do we by default).

import type { Clock } from '../../common/clock';

class SampledStat {
  private samples: Array<{ start: number; count: number; sum: number; max: number }> = [];
  constructor(private readonly sampleMs: number, private readonly keep: number) {}

  record(now: number, value: number, count = 1): void {
    let s = this.samples[this.samples.length - 1];
    if (!s || now - s.start >= this.sampleMs) {
      s = { start: now, count: 0, sum: 0, max: -Infinity };
      this.samples.push(s);
      if (this.samples.length > this.keep) this.samples.shift();
    }
    s.count += count;
    s.sum += value;
    if (value > s.max) s.max = value;
  }

  private live(now: number) {
    const horizon = now - this.sampleMs * this.keep;
    return this.samples.filter((s) => s.start > horizon);
  }

  /** events per second over the window */
  rate(now: number, windowStart: number): number {
    const live = this.live(now);
    return (live.reduce((n, s) => n + s.count, 0) * 1000) / this.elapsed(live, now, windowStart);
  }

  /** sum of values per second over the window */
  sumRate(now: number, windowStart: number): number {
    const live = this.live(now);
    return (live.reduce((n, s) => n + s.sum, 0) * 1000) / this.elapsed(live, now, windowStart);
  }

  /** ms the window's samples span; as the Java Rate, at least one sample long, so a burst right after start is not inflated. */
  private elapsed(live: Array<{ start: number }>, now: number, windowStart: number): number {
    const oldest = live.length ? Math.min(live[0].start, now) : now;
    return Math.max(now - Math.max(oldest, windowStart), this.sampleMs * (this.keep - 1), 1);
  }

  avg(now: number): number {
    const live = this.live(now);
    const count = live.reduce((n, s) => n + s.count, 0);
    return count ? live.reduce((n, s) => n + s.sum, 0) / count : NaN;
  }

  max(now: number): number {
    const live = this.live(now);
    return live.length ? Math.max(...live.map((s) => s.max)) : NaN;
  }
}

export interface ProducerMetricsSnapshot {
  'record-send-rate': number;
  'record-error-rate': number;
  'record-retry-rate': number;
  'byte-rate': number;
  'batch-size-avg': number;
  'batch-size-max': number;
  'records-per-request-avg': number;
  'compression-rate-avg': number;
  'request-latency-avg': number;
  'request-latency-max': number;
  'request-rate': number;
  'buffer-available-bytes': number;
  'buffer-total-bytes': number;
  'record-send-total': number;
  'record-error-total': number;
  'record-retry-total': number;
  'records-queued': number;
  'requests-in-flight': number;
  /** ours: records taken and not yet acknowledged or failed (queued, in flight, waiting) */
  'records-held': number;
  /** ours: ms since the oldest held record was taken (0: none held) */
  'oldest-record-age-ms': number;
}

export class ProducerMetrics {
  private readonly sends: SampledStat;
  private readonly errors: SampledStat;
  private readonly retries: SampledStat;
  private readonly bytes: SampledStat;
  private readonly batchSize: SampledStat;
  private readonly recordsPerRequest: SampledStat;
  private readonly compression: SampledStat;
  private readonly latency: SampledStat;
  private readonly started: number;
  private totals = { sent: 0, errors: 0, retries: 0 };

  constructor(private readonly clock: Clock, windowMs = 60000, samples = 2) {
    const sampleMs = windowMs / samples;
    const make = () => new SampledStat(sampleMs, samples);
    this.sends = make();
    this.errors = make();
    this.retries = make();
    this.bytes = make();
    this.batchSize = make();
    this.recordsPerRequest = make();
    this.compression = make();
    this.latency = make();
    this.started = clock.now();
  }

  /** Records acknowledged (or sent, with acks 0). */
  recordsSent(records: number, bytes: number): void {
    const now = this.clock.now();
    this.sends.record(now, records, records);
    this.bytes.record(now, bytes);
    this.totals.sent += records;
  }

  recordsFailed(records: number): void {
    this.errors.record(this.clock.now(), records, records);
    this.totals.errors += records;
  }

  retried(records: number): void {
    this.retries.record(this.clock.now(), records, records);
    this.totals.retries += records;
  }

  /** One partition batch in a request: its bytes (uncompressed). */
  batch(bytes: number): void {
    this.batchSize.record(this.clock.now(), bytes);
  }

  /** One request answered: how many records it carried and how long it took. */
  request(records: number, latencyMs: number): void {
    const now = this.clock.now();
    this.recordsPerRequest.record(now, records);
    this.latency.record(now, latencyMs);
  }

  /** A batch was compressed: compressed / uncompressed, as the Java compression-rate. */
  compressed(uncompressedBytes: number, compressedBytes: number): void {
    if (uncompressedBytes > 0) this.compression.record(this.clock.now(), compressedBytes / uncompressedBytes);
  }

  snapshot(
    buffer: { available: number; total: number },
    queued = 0,
    inFlight = 0,
    held: { records: number; oldestAgeMs: number } = { records: 0, oldestAgeMs: 0 },
  ): ProducerMetricsSnapshot {
    const now = this.clock.now();
    const round = (n: number, digits = 3) => (Number.isFinite(n) ? Number(n.toFixed(digits)) : NaN);
    return {
      'record-send-rate': round(this.sends.rate(now, this.started), 1),
      'record-error-rate': round(this.errors.rate(now, this.started), 3),
      'record-retry-rate': round(this.retries.rate(now, this.started), 3),
      'byte-rate': round(this.bytes.sumRate(now, this.started), 0),
      'batch-size-avg': round(this.batchSize.avg(now), 0),
      'batch-size-max': round(this.batchSize.max(now), 0),
      'records-per-request-avg': round(this.recordsPerRequest.avg(now), 1),
      'compression-rate-avg': round(this.compression.avg(now), 3),
      'request-latency-avg': round(this.latency.avg(now), 1),
      'request-latency-max': round(this.latency.max(now), 1),
      'request-rate': round(this.latency.rate(now, this.started), 2),
      'buffer-available-bytes': buffer.available,
      'buffer-total-bytes': buffer.total,
      'record-send-total': this.totals.sent,
      'record-error-total': this.totals.errors,
      'record-retry-total': this.totals.retries,
      'records-queued': queued,
      'requests-in-flight': inFlight,
      'records-held': held.records,
      'oldest-record-age-ms': held.oldestAgeMs,
    };
  }
}

function compact(n: number): string {
  if (!Number.isFinite(n)) return '0';
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return n >= 10 ? String(Math.round(n)) : n.toFixed(1);
}

function bytesText(n: number): string {
  if (!Number.isFinite(n)) return '0 B';
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MB`;
  if (n >= 1024) return `${Math.round(n / 1024)} KB`;
  return `${Math.round(n)} B`;
}

/** The one-line status summary, e.g. "1.2k msg/s · batch 14 KB · lz4 0.31". */
export function metricsSummary(m: ProducerMetricsSnapshot, compression: string): string {
  const parts = [`${compact(m['record-send-rate'])} msg/s`, `batch ${bytesText(m['batch-size-avg'])}`];
  if (compression !== 'none' && Number.isFinite(m['compression-rate-avg'])) parts.push(`${compression} ${m['compression-rate-avg'].toFixed(2)}`);
  if (m['record-error-rate'] > 0) parts.push(`${compact(m['record-error-rate'])} err/s`);
  return parts.join(' · ');
}
