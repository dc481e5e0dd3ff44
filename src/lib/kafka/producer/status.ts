// What the producer node's status says, as i18n messages (keys under the node's
// "status" section, see src/lib/common/status-message.ts), from the connection
// state, what the producer holds and its metrics. The rule: the status never
// says green while records fail or wait on a broker that cannot be reached.
//
//   connected, busy             green  "1.2k msg/s · batch 14 KB · lz4 0.31"
//   connected, records failing  yellow (some go through) / red (none do)
//                                      "records failing: INVALID_TIMESTAMP · 3 msg/s · 2 err/s"
//   partitions unreachable      yellow / red "partitions down: 2 · 1.2k held · 4% buffer · oldest 45s"
//   waiting for a previous
//   producer to drain           yellow ring "previous deploy sending: 120 · 3 held · oldest 2s"
//   broker unreachable          red ring "disconnected · 1.2k held · 4% buffer · oldest 45s"
//   connecting                  yellow ring "connecting · 3 held · 0.1% buffer · oldest 2s"
//   fatal                       red dot "error: <reason>"

import { msg, type Fill, type Shape, type StatusMessage } from '../../common/status-message';
import type { ProducerMetricsSnapshot } from './metrics';
import type { ConnectionState, HeldRecords } from './producer';

export interface StatusInput {
  state: ConnectionState;
  /** why the state is what it is (the last connection error) */
  detail?: string;
  held: HeldRecords;
  metrics: ProducerMetricsSnapshot;
  compression: string;
  /** short reason of the last record that failed */
  lastFailure?: string;
  /** what earlier producers of this node still hold, sent before this one's (a redeploy with other options) */
  previous?: { records: number; oldestAgeMs: number };
}

export interface ProducerStatus {
  fill: Fill;
  shape: Shape;
  text: StatusMessage[];
}

/** 950 → "950", 1234 → "1.2k", 2.5e6 → "2.5M". */
export function compactCount(n: number): string {
  if (!Number.isFinite(n)) return '0';
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e4) return `${Math.round(n / 1e3)}k`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n));
}

/** Share of buffer.memory: "0.4" below 1 %, whole numbers above. */
export function percentOf(part: number, whole: number): string {
  if (!(whole > 0) || !(part > 0)) return '0';
  const p = (part * 100) / whole;
  if (p < 1) return p < 0.1 ? '0.1' : p.toFixed(1);
  return String(Math.min(100, Math.round(p)));
}

/** An age as a message: 45 s, 3 min 20 s, 2 h 5 min. */
export function ageMessage(ms: number): StatusMessage {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return msg('status.age.s', { s });
  if (s < 3600) return msg('status.age.m', { m: Math.floor(s / 60), s: s % 60 });
  return msg('status.age.h', { h: Math.floor(s / 3600), m: Math.floor((s % 3600) / 60) });
}

function bytesText(n: number): string {
  if (!Number.isFinite(n)) return '0 B';
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MB`;
  if (n >= 1024) return `${Math.round(n / 1024)} KB`;
  return `${Math.round(n)} B`;
}

function rate(n: number): string {
  if (!Number.isFinite(n)) return '0';
  return n >= 10 ? compactCount(n) : n.toFixed(1);
}

/**
 * A connection error short enough for a status: without the error's name and
 * kafkajs's "Connection error:" lead-in, so the cause ("connect ECONNREFUSED
 * 127.0.0.1:9092", "self-signed certificate in certificate chain") survives
 * the 60-character cut. The whole error is in the log.
 */
export function statusDetail(detail: string): string {
  let d = detail.trim();
  for (let i = 0; i < 3; i++) d = d.replace(/^(?:[A-Z]\w*(?:Error|Exception)|Connection error|Error): /, '');
  return d || detail;
}

/** "1.2k held · 4% buffer · oldest 45s" */
export function heldMessages(h: HeldRecords, withBuffer = true): StatusMessage[] {
  const out = [msg('status.held', { n: compactCount(h.records) })];
  if (withBuffer) out.push(msg('status.buffer', { percent: percentOf(h.bytes, h.bufferMemory) }));
  out.push(msg('status.oldest', { age: ageMessage(h.oldestAgeMs) }));
  return out;
}

/** The metrics summary: "1.2k msg/s · batch 14 KB · lz4 0.31". */
export function metricsMessages(m: ProducerMetricsSnapshot, compression: string): StatusMessage[] {
  const out = [msg('status.rate', { rate: rate(m['record-send-rate']) }), msg('status.batch', { size: bytesText(m['batch-size-avg']) })];
  if (compression !== 'none' && Number.isFinite(m['compression-rate-avg'])) {
    out.push(msg('status.ratio', { codec: compression, ratio: m['compression-rate-avg'].toFixed(2) }));
  }
  return out;
}

/** The status for the state, or undefined when there is nothing new to say (connected and idle). */
export function producerStatus(i: StatusInput, active: boolean): ProducerStatus | undefined {
  const { metrics: m } = i;
  const prev = i.previous ?? { records: 0, oldestAgeMs: 0 };
  // Everything the node holds, its own producer's and its predecessors' (the buffer share is its own).
  const held: HeldRecords = { ...i.held, records: i.held.records + prev.records, oldestAgeMs: Math.max(i.held.oldestAgeMs, prev.oldestAgeMs) };
  const holding = held.records > 0;
  const sending = m['record-send-rate'] > 0;
  switch (i.state) {
    case 'closed':
      return undefined;
    case 'error':
      return { fill: 'red', shape: 'dot', text: [i.detail ? msg('status.errorBecause', { reason: statusDetail(i.detail) }) : msg('status.error')] };
    case 'disconnected':
      if (holding) return { fill: 'red', shape: 'ring', text: [msg('status.disconnected'), ...heldMessages(held)] };
      return { fill: 'red', shape: 'ring', text: [i.detail ? msg('status.disconnectedBecause', { reason: statusDetail(i.detail) }) : msg('status.disconnected')] };
    case 'connecting':
      return { fill: 'yellow', shape: 'ring', text: [msg('status.connecting'), ...(holding ? heldMessages(held) : [])] };
    case 'connected':
      break;
  }
  if (i.held.holding && prev.records > 0) {
    return {
      fill: 'yellow',
      shape: 'ring',
      text: [msg('status.waitingPrevious', { n: compactCount(prev.records) }), ...heldMessages(i.held, false)],
    };
  }
  if (holding && held.unavailablePartitions > 0) {
    return {
      fill: sending ? 'yellow' : 'red',
      shape: 'dot',
      text: [msg('status.partitionsDown', { n: held.unavailablePartitions }), ...heldMessages(held)],
    };
  }
  if (m['record-error-rate'] > 0) {
    const text = [
      i.lastFailure ? msg('status.failingBecause', { reason: i.lastFailure }) : msg('status.failing'),
      msg('status.rate', { rate: rate(m['record-send-rate']) }),
      msg('status.errorRate', { rate: rate(m['record-error-rate']) }),
    ];
    return { fill: sending ? 'yellow' : 'red', shape: 'dot', text };
  }
  if (active || holding) return { fill: 'green', shape: 'dot', text: metricsMessages(m, i.compression) };
  return undefined;
}

/**
 * Remembers what was shown, so the node sets a status only when it changes, and
 * says "connected" when the state turns connected with nothing else to show.
 */
export class ProducerStatusView {
  private lastSent = -1;
  private lastErrors = -1;
  private lastState: ConnectionState | undefined;
  private lastKey = '';

  /** The status to set now, or undefined to leave the one shown. */
  next(i: StatusInput): ProducerStatus | undefined {
    const sent = i.metrics['record-send-total'];
    const errors = i.metrics['record-error-total'];
    // Activity since the last look (the first look has nothing to compare with).
    const active = this.lastSent >= 0 && (sent !== this.lastSent || errors !== this.lastErrors);
    const stateChanged = i.state !== this.lastState;
    this.lastSent = sent;
    this.lastErrors = errors;
    this.lastState = i.state;
    let s = producerStatus(i, active);
    if (!s && i.state === 'connected' && stateChanged) s = { fill: 'green', shape: 'dot', text: [msg('status.connected')] };
    if (!s) return undefined;
    const key = JSON.stringify(s);
    if (key === this.lastKey) return undefined;
    this.lastKey = key;
    return s;
  }

  /** Forget what was shown (another status was set in between). */
  reset(): void {
    this.lastKey = '';
  }
}
