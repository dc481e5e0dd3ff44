// Shared pieces of the producer benchmark: presets, measurement helpers, result types.
import * as fs from 'node:fs';

export type PresetId = 'safe' | 'throughput';

export interface Preset {
  id: PresetId;
  label: string;
  lingerMs: number;
  batchSize: number;
  compression: 'none' | 'lz4';
}

/** The node's presets (src/lib/kafka/producer/config.ts PRESETS): acks all, idempotence, retries max, 5 in flight, plus: */
export const PRESETS: Record<PresetId, Preset> = {
  safe: { id: 'safe', label: 'Safe', lingerMs: 5, batchSize: 16384, compression: 'none' },
  throughput: { id: 'throughput', label: 'High throughput', lingerMs: 20, batchSize: 32768, compression: 'lz4' },
};

/** The Java producer properties of a preset. */
export function javaProps(p: Preset): string[] {
  return [
    'acks=all',
    'enable.idempotence=true',
    'retries=2147483647',
    'max.in.flight.requests.per.connection=5',
    `linger.ms=${p.lingerMs}`,
    `batch.size=${p.batchSize}`,
    `compression.type=${p.compression}`,
  ];
}

/** Percentile (nearest rank) of a sorted array. */
export function pct(sorted: ArrayLike<number>, q: number): number {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

export function sortedFinite(values: Float64Array, from = 0, to = values.length): Float64Array {
  const out = new Float64Array(to - from);
  let n = 0;
  for (let i = from; i < to; i++) if (Number.isFinite(values[i]) && values[i] >= 0) out[n++] = values[i];
  return out.subarray(0, n).sort();
}

const CLK_TCK = 100; // Linux USER_HZ: /proc/<pid>/stat counts in 1/100 s

/** CPU time (user + system, ms) of a process, from /proc; NaN when unreadable. */
export function procCpuMs(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state): utime is field 14, stime field 15.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  } catch {
    return NaN;
  }
}

/** A /proc/<pid>/status value in kB (VmHWM: peak RSS, VmRSS: current). */
export function procStatusKb(pid: number | 'self', field: 'VmHWM' | 'VmRSS'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

/** The pid of the broker JVM whose command line names this file (its server.properties). */
export function findPidByCmdline(needle: string): number | undefined {
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmd.includes(needle) && cmd.includes('kafka.Kafka')) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

/** What one measured run reports (one row of the table). */
export interface RunResult {
  id: string;
  preset: PresetId;
  impl: 'java-pp' | 'java-keyed' | 'raw-kafkajs' | 'node' | 'other';
  label: string;
  /** delay added each way between the client and the broker, ms (0 on loopback) */
  latencyMs: number;
  /** the client reached the broker through toxiproxy (latency.ts) */
  proxied: boolean;
  /** records measured (after warm-up) */
  records: number;
  elapsedMs: number;
  recordsPerSec: number;
  /** records/s of every round when the case ran several times (this result is the median round) */
  rounds?: number[];
  mbPerSec: number;
  /** acknowledgement latency, ms (send → ack as the client/node reports it) */
  ackP50Ms?: number;
  ackP99Ms?: number;
  ackMaxMs?: number;
  /** send → broker log append (LogAppendTime of the record read back), ms */
  appendP50Ms?: number;
  appendP99Ms?: number;
  /** CPU of the client process over the measured window, ms and % of one core */
  cpuMs: number;
  cpuPct: number;
  brokerCpuPct?: number;
  /** CPU of everything else on the machine over the window, % of one core (a shared machine shows here) */
  otherCpuPct?: number;
  /** toxiproxy's CPU over the window, % of one core (proxied runs; not in otherCpuPct) */
  proxyCpuPct?: number;
  /** MB toxiproxy forwarded over the whole run, warm-up included (proxied runs) */
  proxyMb?: { upstream: number; downstream: number };
  /** peak RSS of the client process, MB */
  peakRssMb: number;
  /** records the client/node acknowledged (null: it does not report acknowledgements) */
  acked: number | null;
  errors: number;
  /** what a consumer read back */
  readBack?: ReadBack;
  notes: string[];
}

export interface ReadBack {
  total: number;
  unique: number;
  duplicates: number;
  missing: number;
  wrongPartition: number;
  outOfOrder: number;
  /** records read after a later-sent record with the same key */
  keyOutOfOrder: number;
  /** records whose seq is outside the sent range (foreign) */
  foreign: number;
}

/** Messages a child sends the orchestrator over IPC. */
export type ChildMessage =
  | { type: 'ready' }
  | { type: 'window'; edge: 'start' | 'end' }
  | { type: 'progress'; text: string }
  | { type: 'result'; result: Record<string, unknown> }
  | { type: 'error'; message: string };

export function fmt(n: number | undefined | null, digits = 0): string {
  if (n === undefined || n === null || !Number.isFinite(n)) return 'n/a';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Whole-machine CPU from /proc/stat: busy and total ms summed over all cores. */
export function systemCpuMs(): { busy: number; total: number } {
  try {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest counted in user)
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = v[3] + (v[4] ?? 0);
    return { busy: ((total - idle) * 1000) / CLK_TCK, total: (total * 1000) / CLK_TCK };
  } catch {
    return { busy: NaN, total: NaN };
  }
}

/**
 * Waits (up to maxWaitMs) for a second in which the whole machine is mostly idle (other
 * processes under `busyCores` cores), so a run does not start on top of someone else's
 * work. Returns the busy cores of the last second sampled.
 */
export async function waitQuiet(maxWaitMs: number, busyCores = 0.3): Promise<{ busyCores: number; waitedMs: number }> {
  const start = Date.now();
  for (;;) {
    const a = systemCpuMs();
    await new Promise((r) => setTimeout(r, 1000));
    const b = systemCpuMs();
    const busy = (b.busy - a.busy) / 1000;
    if (busy <= busyCores || Date.now() - start >= maxWaitMs) return { busyCores: busy, waitedMs: Date.now() - start };
  }
}

/** A number from a child's JSON result: null (NaN serialised) stays NaN. */
export function num(v: unknown): number {
  return v === null || v === undefined ? NaN : Number(v);
}

/**
 * With BENCH_PROFILE=<file>: a CPU profile of the measured window only (not start-up or
 * warm-up), through the inspector. Returns the function that stops it and writes the file.
 */
export async function startProfile(): Promise<(() => Promise<void>) | undefined> {
  const file = process.env.BENCH_PROFILE;
  if (!file) return undefined;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const inspector = require('node:inspector') as typeof import('node:inspector');
  const session = new inspector.Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<any>((resolve, reject) => session.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 200 });
  await post('Profiler.start');
  return async () => {
    const { profile } = await post('Profiler.stop');
    fs.writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  };
}
