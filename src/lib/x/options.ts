// The X stream node's settings, from the editor's strings to what XSource takes, checked once
// here (as the producer's options are in kafka/config): every number, the mode against the
// account's access level, and the fields asked for. Errors come back as message keys with
// their values, so the node says them in the user's language.
import { DEFAULT_EXPANSIONS, DEFAULT_TWEET_FIELDS, DEFAULT_USER_FIELDS, fieldList, fieldParams, unknownFields } from './fields';
import { X_RECONNECT_DEFAULTS, type ReconnectSettings } from './reconnect-policy';
import { DEFAULT_STALL_TIMEOUT_MS } from './access';
import type { Overflow, XSourceMode } from './x-source';

export const X_SOURCE_MODES: readonly XSourceMode[] = ['filtered', 'sample', 'search'];

/** [default, minimum, maximum] of each numeric field of the node. */
export const X_STREAM_NUMBERS = {
  pollInterval: [60, 1, Infinity],
  maxPages: [10, 1, Infinity],
  maxResults: [100, 10, 100],
  lookbackMinutes: [0, 0, 7 * 24 * 60],
  backfillMinutes: [0, 0, 5],
  dedupWindow: [10_000, 0, 10_000_000],
  queueSize: [10_000, 1, 10_000_000],
  statsInterval: [0, 0, 86_400],
  stallTimeoutMs: [DEFAULT_STALL_TIMEOUT_MS, 1, 3_600_000],
  connectTimeoutMs: [10_000, 1, 600_000],
} as const;

export type XStreamNumberField = keyof typeof X_STREAM_NUMBERS;

export interface XStreamSettings {
  mode: XSourceMode;
  query: string;
  numbers: Record<XStreamNumberField, number>;
  reconnect: ReconnectSettings;
  recovery: boolean;
  overflow: Overflow;
  /** tweet.fields, user.fields, expansions as query parameters. */
  params: Record<string, string>;
  /** Field names X does not list (warned about, still sent). */
  unknownFields: string[];
}

export interface SettingsProblem {
  /** A message key of the node's catalogue (errors.*) and its values. */
  key: string;
  values: Record<string, string | number>;
}

/** A whole number in [min, max] from a config field, the default when blank, NaN otherwise. */
export function wholeNumber(value: unknown, fallback: number, min = 0, max = Infinity): number {
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) return fallback;
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  return Number.isFinite(n) && n >= min && n <= max ? Math.round(n) : NaN;
}

/** The node's config as XSource settings, or the first problem found. */
export function parseXStreamSettings(config: Record<string, unknown>): { settings: XStreamSettings } | { problem: SettingsProblem } {
  const mode = (X_SOURCE_MODES as string[]).includes(config.mode as string) ? (config.mode as XSourceMode) : 'filtered';
  const numbers = {} as Record<XStreamNumberField, number>;
  for (const [field, [fallback, min, max]] of Object.entries(X_STREAM_NUMBERS) as Array<[XStreamNumberField, readonly [number, number, number]]>) {
    numbers[field] = wholeNumber(config[field], fallback, min, max);
    if (Number.isNaN(numbers[field])) {
      return { problem: { key: 'errors.range', values: { field, value: String(config[field]), min, max: Number.isFinite(max) ? max : '∞' } } };
    }
  }
  const reconnect = { ...X_RECONNECT_DEFAULTS };
  for (const k of Object.keys(X_RECONNECT_DEFAULTS) as Array<keyof ReconnectSettings>) {
    const v = wholeNumber(config[k], X_RECONNECT_DEFAULTS[k], 0, 86_400_000);
    if (Number.isNaN(v)) return { problem: { key: 'errors.range', values: { field: k, value: String(config[k]), min: 0, max: 86_400_000 } } };
    reconnect[k] = v;
  }
  const query = typeof config.query === 'string' ? config.query.trim() : '';
  if (mode === 'search' && !query) return { problem: { key: 'errors.noQuery', values: {} } };
  const fields = {
    tweetFields: fieldList(config.tweetFields ?? DEFAULT_TWEET_FIELDS),
    userFields: fieldList(config.userFields ?? DEFAULT_USER_FIELDS),
    expansions: fieldList(config.expansions ?? DEFAULT_EXPANSIONS),
  };
  return {
    settings: {
      mode,
      query,
      numbers,
      reconnect,
      recovery: config.recovery !== false && config.recovery !== 'false',
      overflow: config.overflow === 'pause' ? 'pause' : 'drop',
      params: fieldParams(fields),
      unknownFields: unknownFields(fields),
    },
  };
}
