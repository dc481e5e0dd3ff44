// Many failures of one kind make one log line, not one each. The first of a kind is
// told at once (with its key); the ones after it are counted and told as one summary
// line per kind after `everyMs` ("1,234 more: <kind>: <reason> (keys: a, b, c, …)").
// While a kind keeps coming its period doubles, up to `maxEveryMs`, so an outage of
// hours makes a few dozen lines, not thousands. A kind that stayed quiet for a whole
// period is forgotten, so its next failure is told at once again. Memory is bounded:
// at most `maxKinds` kinds (past that, new kinds share one "other" group),
// `maxKeys` keys per summary, and keys and reasons cut to a fixed length.

import { systemClock, type Clock } from './clock';
import { boundedDelay } from './timers';

export interface SummaryOptions {
  /** how long after the first failure of a kind its count is told (ms) */
  everyMs: number;
  /** the longest period between two lines of a kind that keeps coming (default 12 × everyMs) */
  maxEveryMs?: number;
  /** kinds followed at once; more fold into one "other" kind */
  maxKinds?: number;
  /** keys named per summary line */
  maxKeys?: number;
  /** characters of a key kept */
  maxKeyChars?: number;
  /** characters of a reason kept */
  maxReasonChars?: number;
  clock?: Clock;
}

/** The first failure of a kind: to log at once. */
export interface FirstLine {
  type: 'first';
  kind: string;
  reason: string;
  /** the record's key (null: a record without key; undefined: not about a record) */
  key?: string | null;
}

/** Failures of a kind counted since the last line about it. */
export interface SummaryLine {
  type: 'summary';
  kind: string;
  /** the latest reason of the kind */
  reason: string;
  count: number;
  /** the first few keys, in order (null: a record without key) */
  keys: Array<string | null>;
  /** more keys than those named */
  moreKeys: boolean;
  /** ms the count covers */
  periodMs: number;
}

export type LogLine = FirstLine | SummaryLine;

interface Group {
  kind: string;
  reason: string;
  count: number;
  keys: Array<string | null>;
  moreKeys: boolean;
  since: number;
  /** the period until its next line, doubling while the kind keeps coming */
  period: number;
  /** when its next line is due */
  due: number;
}

/** Digits vary within one kind (counts, partitions, ms): the grouping ignores them. */
function groupKey(kind: string, reason: string): string {
  return `${kind}\u0000${reason.replace(/\d+/g, '#').slice(0, 200)}`;
}

const OTHER = '\u0000other';

export function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export class LogSummary {
  private readonly groups = new Map<string, Group>();
  private readonly opts: Required<Omit<SummaryOptions, 'clock'>>;
  private readonly clock: Clock;
  private timer: unknown;
  private timerAt = Infinity;
  private closed = false;

  constructor(
    opts: SummaryOptions,
    private readonly emit: (line: LogLine) => void,
    /** told when emit throws */
    private readonly onError: (err: unknown) => void = (e) =>
      queueMicrotask(() => {
        throw e;
      }),
  ) {
    this.opts = { maxKinds: 16, maxKeys: 5, maxKeyChars: 40, maxReasonChars: 500, maxEveryMs: opts.everyMs * 12, ...opts };
    this.clock = opts.clock ?? systemClock;
  }

  /** Kinds followed now (for tests: memory stays bounded). */
  get kinds(): number {
    return this.groups.size;
  }

  /**
   * One failure. `kind` names it (an error name), `reason` says why; failures of
   * one kind whose reasons differ only in numbers are summed up together.
   */
  add(kind: string, reason: string, key?: string | null): void {
    const why = cut(reason, this.opts.maxReasonChars);
    const k = key == null ? key : cut(key, this.opts.maxKeyChars);
    let id = groupKey(kind, why);
    // Bounded: past maxKinds - 1 kinds, new ones share one "other" group.
    const other = !this.groups.has(id) && this.groups.size >= Math.max(1, this.opts.maxKinds - 1);
    if (other) id = OTHER;
    let g = this.groups.get(id);
    if (!g) {
      const now = this.clock.now();
      const period = this.opts.everyMs;
      this.groups.set(id, { kind: other ? 'other' : kind, reason: why, count: 0, keys: [], moreKeys: false, since: now, period, due: now + period });
      this.say({ type: 'first', kind, reason: why, key: k });
      this.schedule();
      return;
    }
    if (g.count === 0) g.since = this.clock.now();
    g.count++;
    g.reason = other ? `${kind}: ${why}` : why;
    if (k !== undefined) {
      if (g.keys.length < this.opts.maxKeys) g.keys.push(k);
      else g.moreKeys = true;
    }
    this.schedule();
  }

  /** Tells what was counted now, every kind, due or not. */
  flush(): void {
    this.emitDue(Infinity);
  }

  /** Tells the kinds whose line is due by `at`; forgets those that stayed quiet for their period. */
  private emitDue(at: number): void {
    const now = this.clock.now();
    for (const [id, g] of this.groups) {
      if (g.due > at) continue;
      if (g.count === 0) {
        if (at !== Infinity) this.groups.delete(id);
        continue;
      }
      const line: SummaryLine = { type: 'summary', kind: g.kind, reason: g.reason, count: g.count, keys: g.keys, moreKeys: g.moreKeys, periodMs: now - g.since };
      g.count = 0;
      g.keys = [];
      g.moreKeys = false;
      g.period = Math.min(g.period * 2, Math.max(this.opts.everyMs, this.opts.maxEveryMs));
      g.due = now + g.period;
      this.say(line);
    }
  }

  /** Tells what was counted and stops (no timer left). Later failures are told at once, each. */
  close(): void {
    this.flush();
    this.groups.clear();
    this.closed = true;
    this.stopTimer();
  }

  private say(line: LogLine): void {
    try {
      this.emit(line);
    } catch (e) {
      // A log sink that throws must not break the caller (a record settling).
      this.onError(e);
    }
  }

  private schedule(): void {
    if (this.closed) {
      // After close each failure is told on its own at once (nothing may wait on a timer).
      this.flush();
      this.groups.clear();
      return;
    }
    let next = Infinity;
    for (const g of this.groups.values()) next = Math.min(next, g.due);
    if (this.timer !== undefined && this.timerAt <= next) return;
    this.stopTimer();
    if (!Number.isFinite(next)) return;
    this.timerAt = next;
    this.timer = this.clock.setTimeout(() => this.tick(), boundedDelay(Math.max(1, next - this.clock.now())));
  }

  private tick(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    this.emitDue(this.clock.now());
    this.schedule();
  }

  private stopTimer(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }
}

/**
 * A line about a node's connection or problems: the first as it is, then how often it came again
 * (`t` translates the node catalogue's `log.problemRepeated`).
 */
export function problemLogLine(line: LogLine, t: (key: string, values?: Record<string, string | number>) => string): string {
  if (line.type === 'first') return line.reason;
  const seconds = Math.max(1, Math.round(line.periodMs / 1000));
  return t('log.problemRepeated', { count: line.count, seconds, problem: line.reason });
}
