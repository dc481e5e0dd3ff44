// Delivery audit: compares what a producer reported (acknowledged / failed records) with
// what an independent reader found in the topic, and names every broken promise:
//   lost              acknowledged, not in the topic
//   duplicated        a value stored more than once
//   reordered         within one partition, a stream's records stored out of produce order
//   failedButWritten  reported failed, yet in the topic
//   wrongOffset       acknowledged at a partition/offset other than where it is stored
//   wrongKey          stored with another key than the one acknowledged
//   unknown           in the topic, never produced (or a null value: it cannot be identified)
//   conflicting       the producer reported one value more than once (acked twice, acked and failed, ...)
// Pure: no broker, no I/O.
//
// Value format: every produced value is unique and says which stream (usually the key) it
// belongs to and its place in that stream: `<stream>:<seq>` with seq zero-padded to 6
// digits, optionally followed by `~` and filler to reach a size, e.g. `k3:000123` or
// `k3:000123~xxxx`. Streams are [A-Za-z0-9_.-]+. Produce each stream's values in seq order.

export interface Position {
  partition: number;
  offset: string;
}

/** An acknowledged record. offset null/undefined/-1 (e.g. acks=0): only the partition is checked. */
export interface AckedRecord {
  value: string;
  key: string | null;
  partition: number;
  offset?: string | number | bigint | null;
}

export interface FailedRecord {
  value: string;
  key: string | null;
  error?: unknown;
}

/** Sent, but no outcome was reported (e.g. still in flight when the test stopped waiting). */
export interface PendingRecord {
  value: string;
  key: string | null;
}

/** A record as the reader found it (e.g. consoleConsume output). */
export interface StoredRecord {
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
}

export interface ProducerReport {
  acked: AckedRecord[];
  failed: FailedRecord[];
  /** Stored or not, these are no error: their outcome was never promised. Counted as pendingWritten. */
  pending?: PendingRecord[];
}

export interface DeliveryAuditCounts {
  acked: number;
  failed: number;
  pending: number;
  stored: number;
  lost: number;
  /** Values stored more than once (not the number of extra copies). */
  duplicated: number;
  reordered: number;
  failedButWritten: number;
  wrongOffset: number;
  wrongKey: number;
  unknown: number;
  conflicting: number;
  /** Informational: pending records found in the topic. */
  pendingWritten: number;
}

export interface DeliveryAuditExamples {
  lost: AckedRecord[];
  duplicated: Array<{ value: string; copies: Position[] }>;
  /** `record` is stored after `after`, a later record of the same stream in the same partition. */
  reordered: Array<{ stream: string; partition: number; record: { offset: string; seq: number }; after: { offset: string; seq: number } }>;
  failedButWritten: Array<{ value: string; error: string; stored: Position[] }>;
  wrongOffset: Array<{ value: string; acked: { partition: number; offset: string | null }; stored: Position[] }>;
  wrongKey: Array<{ value: string; acked: string | null; stored: Array<string | null> }>;
  unknown: StoredRecord[];
  conflicting: Array<{ value: string; reports: Array<'acked' | 'failed' | 'pending'> }>;
}

export interface DeliveryAudit {
  /** No error in any category (pendingWritten is not an error). */
  ok: boolean;
  counts: DeliveryAuditCounts;
  /** Up to maxExamples of each category, in report order (lost) or stored order (others). */
  examples: DeliveryAuditExamples;
  /** One line for assertion messages: the counts and the first example of each failure. */
  summary: string;
}

export interface DeliveryAuditOptions {
  /** Examples kept per category (default 5). */
  maxExamples?: number;
}

const STREAM = /^[A-Za-z0-9_.-]+$/;
const VALUE = /^([A-Za-z0-9_.-]+):(\d{6,})(?:~[\s\S]*)?$/;

/**
 * Makes the value of record `seq` of `stream`, padded with `~x…` to `size` characters
 * (ASCII, so also bytes) when that is longer than the bare value.
 */
export function auditValue(stream: string, seq: number, size = 0): string {
  if (!STREAM.test(stream)) throw new Error(`audit stream must match ${STREAM}, got ${JSON.stringify(stream)}`);
  if (!Number.isSafeInteger(seq) || seq < 0) throw new Error(`audit seq must be a non-negative integer, got ${seq}`);
  const bare = `${stream}:${String(seq).padStart(6, '0')}`;
  return bare.length + 1 < size ? `${bare}~${'x'.repeat(size - bare.length - 1)}` : bare;
}

/** Stream and seq of a value made by auditValue; undefined for anything else (and null). */
export function parseAuditValue(value: string | null): { stream: string; seq: number } | undefined {
  if (value === null) return undefined;
  const m = VALUE.exec(value);
  return m ? { stream: m[1], seq: Number(m[2]) } : undefined;
}

function offsetText(offset: AckedRecord['offset']): string | null {
  if (offset === null || offset === undefined) return null;
  const text = String(offset);
  return text === '-1' ? null : text;
}

function errorText(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return error === undefined ? '(no error given)' : String(error);
}

const pos = (r: StoredRecord): Position => ({ partition: r.partition, offset: r.offset });
const posText = (p: { partition: number; offset: string | null }): string => `p${p.partition}@${p.offset ?? '?'}`;

export function auditDelivery(report: ProducerReport, stored: StoredRecord[], opts: DeliveryAuditOptions = {}): DeliveryAudit {
  const max = opts.maxExamples ?? 5;
  const counts: DeliveryAuditCounts = {
    acked: report.acked.length,
    failed: report.failed.length,
    pending: report.pending?.length ?? 0,
    stored: stored.length,
    lost: 0,
    duplicated: 0,
    reordered: 0,
    failedButWritten: 0,
    wrongOffset: 0,
    wrongKey: 0,
    unknown: 0,
    conflicting: 0,
    pendingWritten: 0,
  };
  const examples: DeliveryAuditExamples = {
    lost: [],
    duplicated: [],
    reordered: [],
    failedButWritten: [],
    wrongOffset: [],
    wrongKey: [],
    unknown: [],
    conflicting: [],
  };
  const note = <K extends keyof DeliveryAuditExamples>(category: K, example: DeliveryAuditExamples[K][number]): void => {
    counts[category]++;
    const list = examples[category] as Array<DeliveryAuditExamples[K][number]>;
    if (list.length < max) list.push(example);
  };

  // Where each value is stored, in the order the reader returned them.
  const copies = new Map<string, StoredRecord[]>();
  for (const r of stored) {
    if (r.value === null) continue;
    const list = copies.get(r.value);
    if (list) list.push(r);
    else copies.set(r.value, [r]);
  }

  // What the producer said about each value; a value reported twice is itself a finding.
  const reports = new Map<string, Array<'acked' | 'failed' | 'pending'>>();
  const tell = (value: string, what: 'acked' | 'failed' | 'pending'): void => {
    const list = reports.get(value);
    if (list) list.push(what);
    else reports.set(value, [what]);
  };
  for (const r of report.acked) tell(r.value, 'acked');
  for (const r of report.failed) tell(r.value, 'failed');
  for (const r of report.pending ?? []) tell(r.value, 'pending');
  for (const [value, list] of reports) if (list.length > 1) note('conflicting', { value, reports: list });

  const ackedSeen = new Set<string>();
  for (const a of report.acked) {
    if (ackedSeen.has(a.value)) continue; // already a conflict; judge the first report only
    ackedSeen.add(a.value);
    const found = copies.get(a.value);
    if (!found) {
      note('lost', a);
      continue;
    }
    const offset = offsetText(a.offset);
    const atAck = found.some((r) => r.partition === a.partition && (offset === null || BigInt(r.offset) === BigInt(offset)));
    if (!atAck) note('wrongOffset', { value: a.value, acked: { partition: a.partition, offset }, stored: found.map(pos) });
    if (found.some((r) => r.key !== a.key)) note('wrongKey', { value: a.value, acked: a.key, stored: found.map((r) => r.key) });
  }

  const failedSeen = new Set<string>();
  for (const f of report.failed) {
    if (ackedSeen.has(f.value) || failedSeen.has(f.value)) continue; // conflicting, counted there
    failedSeen.add(f.value);
    const found = copies.get(f.value);
    if (found) note('failedButWritten', { value: f.value, error: errorText(f.error), stored: found.map(pos) });
  }

  const pendingSeen = new Set<string>();
  for (const p of report.pending ?? []) {
    if (ackedSeen.has(p.value) || failedSeen.has(p.value) || pendingSeen.has(p.value)) continue;
    pendingSeen.add(p.value);
    if (copies.has(p.value)) counts.pendingWritten++;
  }

  for (const r of stored) {
    if (r.value === null || !reports.has(r.value)) note('unknown', r);
  }
  for (const [value, list] of copies) if (list.length > 1) note('duplicated', { value, copies: list.map(pos) });

  // Order: first copies only (a duplicate is reported once, as a duplicate), per partition
  // and stream, in offset order; Kafka promises no order across partitions.
  const firsts = [...copies.values()].map((list) => list[0]);
  const byOffset = firsts
    .map((r) => ({ r, parsed: parseAuditValue(r.value) }))
    .filter((x): x is { r: StoredRecord; parsed: { stream: string; seq: number } } => x.parsed !== undefined)
    .sort((x, y) => x.r.partition - y.r.partition || (BigInt(x.r.offset) < BigInt(y.r.offset) ? -1 : BigInt(x.r.offset) > BigInt(y.r.offset) ? 1 : 0));
  const highest = new Map<string, { offset: string; seq: number }>();
  for (const { r, parsed } of byOffset) {
    const id = `${r.partition}\u0000${parsed.stream}`;
    const top = highest.get(id);
    if (top && parsed.seq < top.seq) {
      note('reordered', { stream: parsed.stream, partition: r.partition, record: { offset: r.offset, seq: parsed.seq }, after: top });
    } else {
      highest.set(id, { offset: r.offset, seq: parsed.seq });
    }
  }

  const ok =
    counts.lost + counts.duplicated + counts.reordered + counts.failedButWritten + counts.wrongOffset + counts.wrongKey + counts.unknown + counts.conflicting === 0;
  return { ok, counts, examples, summary: summarize(ok, counts, examples) };
}

function summarize(ok: boolean, c: DeliveryAuditCounts, e: DeliveryAuditExamples): string {
  const head =
    `delivery audit ${ok ? 'OK' : 'FAILED'}: ${c.acked} acked, ${c.failed} failed` +
    (c.pending ? `, ${c.pending} pending (${c.pendingWritten} written)` : '') +
    `, ${c.stored} stored`;
  if (ok) return head;
  const q = (v: string | null): string => (v === null ? 'null' : JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v));
  const parts: string[] = [];
  const add = (n: number, label: string, first: string | undefined): void => {
    if (n > 0) parts.push(`${label} ${n}${first ? ` (e.g. ${first})` : ''}`);
  };
  add(c.lost, 'lost', e.lost[0] && `${q(e.lost[0].value)} acked at ${posText({ partition: e.lost[0].partition, offset: offsetText(e.lost[0].offset) })}`);
  add(c.duplicated, 'duplicated', e.duplicated[0] && `${q(e.duplicated[0].value)} at ${e.duplicated[0].copies.map(posText).join(',')}`);
  add(
    c.reordered,
    'reordered',
    e.reordered[0] &&
      `${e.reordered[0].stream} seq ${e.reordered[0].record.seq} at ${posText({ partition: e.reordered[0].partition, offset: e.reordered[0].record.offset })}` +
        ` after seq ${e.reordered[0].after.seq} at ${posText({ partition: e.reordered[0].partition, offset: e.reordered[0].after.offset })}`,
  );
  add(
    c.failedButWritten,
    'failed-but-written',
    e.failedButWritten[0] && `${q(e.failedButWritten[0].value)} at ${e.failedButWritten[0].stored.map(posText).join(',')}, failed with ${e.failedButWritten[0].error}`,
  );
  add(
    c.wrongOffset,
    'wrong-offset',
    e.wrongOffset[0] && `${q(e.wrongOffset[0].value)} acked at ${posText(e.wrongOffset[0].acked)}, stored at ${e.wrongOffset[0].stored.map(posText).join(',')}`,
  );
  add(c.wrongKey, 'wrong-key', e.wrongKey[0] && `${q(e.wrongKey[0].value)} acked with key ${q(e.wrongKey[0].acked)}, stored with ${e.wrongKey[0].stored.map(q).join(',')}`);
  add(c.unknown, 'unknown', e.unknown[0] && `${q(e.unknown[0].value)} at ${posText(e.unknown[0])}`);
  add(c.conflicting, 'conflicting reports', e.conflicting[0] && `${q(e.conflicting[0].value)} reported ${e.conflicting[0].reports.join('+')}`);
  return `${head} | ${parts.join('; ')}`;
}
