// The X stream node's settings, from the editor's strings to what XSource takes, checked here
// once (as the producer's options are in kafka/config): every number, the mode, query, rules and
// backfill against the account's access level, and the fields asked for. Problems come back per
// field as messages of the node's catalogue, so the node says them in the user's language and the
// editor marks the very field with the very rule: this file is browser-safe and the editor runs it
// (src/lib/editor/x.ts, bundled by scripts/editor-bundle.js).
import { msg, type StatusMessage } from '../common/status-message';
import { backfillProblem, checkRulesForAccess, DEFAULT_STALL_TIMEOUT_MS, MAX_BACKFILL_MINUTES, modeProblem, queryProblem } from './access';
import { DEFAULT_EXPANSIONS, DEFAULT_TWEET_FIELDS, DEFAULT_USER_FIELDS, fieldList, fieldParams, unknownFields } from './fields';
import { X_RECONNECT_DEFAULTS, X_RECONNECT_RANGE, type ReconnectSettings } from './reconnect-settings';
import { normaliseRules } from './rule-list';
import type { Overflow, XSourceMode } from './x-source';

export const X_SOURCE_MODES: readonly XSourceMode[] = ['filtered', 'sample', 'search'];
export const X_OVERFLOW: readonly Overflow[] = ['drop', 'pause'];

/** [default, minimum, maximum] of each numeric field of the node. */
export const X_STREAM_NUMBERS = {
  pollInterval: [60, 1, Infinity],
  maxPages: [10, 1, Infinity],
  maxResults: [100, 10, 100],
  lookbackMinutes: [0, 0, 7 * 24 * 60],
  backfillMinutes: [0, 0, MAX_BACKFILL_MINUTES],
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

/** What is wrong with one field: the field (a config property) and why, as a message (errors.*, access.*). */
export interface XStreamProblem {
  field: string;
  message: StatusMessage;
}

/** A whole number in [min, max] from a config field, the default when blank, NaN otherwise. */
export function wholeNumber(value: unknown, fallback: number, min = 0, max = Infinity): number {
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) return fallback;
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  return Number.isFinite(n) && n >= min && n <= max ? Math.round(n) : NaN;
}

/** The range problem of a number field, named by its label (label.<field>). */
function rangeProblem(field: string, value: unknown, min: number, max: number): XStreamProblem {
  return { field, message: msg('errors.range', { field: msg(`label.${field}`), value: String(value), min, max: Number.isFinite(max) ? max : '∞' }) };
}

/** The mode of a config: blank (an old flow) is the filtered stream; undefined for an unknown one. */
function modeOf(config: Record<string, unknown>): XSourceMode | undefined {
  const m = config.mode;
  if (m === undefined || m === null || m === '') return 'filtered';
  return (X_SOURCE_MODES as readonly unknown[]).includes(m) ? (m as XSourceMode) : undefined;
}

/**
 * Every problem of the node's settings, field by field, in the order of the dialog. The access
 * level's rules (mode, rules, query length, backfill) are checked when `accessLevel` is given (the
 * account's level, or undefined when no account is known: nothing checked against a level).
 * Unknown field names are not a problem here (X may know names this package does not yet):
 * fieldWarnings lists them.
 */
export function xStreamProblems(config: Record<string, unknown>, accessLevel?: unknown): XStreamProblem[] {
  const out: XStreamProblem[] = [];
  const withLevel = accessLevel !== undefined;
  const mode = modeOf(config);
  if (!mode) out.push({ field: 'mode', message: msg('errors.mode', { value: String(config.mode) }) });
  else if (withLevel) {
    const p = modeProblem(mode, accessLevel);
    if (p) out.push({ field: 'mode', message: p });
  }
  if (mode === 'filtered') {
    const { rules, problems } = normaliseRules(config.rules);
    for (const p of problems) {
      const reason = p.code === 'duplicate' ? msg('errors.ruleDuplicate', { first: (p.first ?? 0) + 1 }) : msg('errors.ruleTagOnly');
      out.push({ field: 'rules', message: msg('errors.rule', { index: p.index + 1, reason }) });
    }
    if (withLevel) {
      for (const p of checkRulesForAccess(rules, accessLevel)) out.push({ field: 'rules', message: p.messages[0] });
    }
  }
  if (mode === 'search') {
    const query = typeof config.query === 'string' ? config.query.trim() : '';
    if (!query) out.push({ field: 'query', message: msg('errors.noQuery') });
    else if (withLevel) {
      const p = queryProblem(query, accessLevel);
      if (p) out.push({ field: 'query', message: p });
    }
  }
  for (const [field, [fallback, min, max]] of Object.entries(X_STREAM_NUMBERS) as Array<[XStreamNumberField, readonly [number, number, number]]>) {
    const n = wholeNumber(config[field], fallback, min, max);
    if (Number.isNaN(n)) out.push(rangeProblem(field, config[field], min, max));
    else if (field === 'backfillMinutes' && withLevel && mode !== 'search') {
      const p = backfillProblem(n, accessLevel);
      if (p) out.push({ field, message: p });
    }
  }
  if (config.overflow !== undefined && config.overflow !== null && config.overflow !== '' && !(X_OVERFLOW as readonly unknown[]).includes(config.overflow)) {
    out.push({ field: 'overflow', message: msg('errors.overflow', { value: String(config.overflow) }) });
  }
  const [min, max] = X_RECONNECT_RANGE;
  for (const k of Object.keys(X_RECONNECT_DEFAULTS) as Array<keyof ReconnectSettings>) {
    if (Number.isNaN(wholeNumber(config[k], X_RECONNECT_DEFAULTS[k], min, max))) out.push(rangeProblem(k, config[k], min, max));
  }
  return out;
}

/** The field lists asked for (tweet.fields, user.fields, expansions), defaults for a node without them. */
function fieldsOf(config: Record<string, unknown>) {
  return {
    tweetFields: fieldList(config.tweetFields ?? DEFAULT_TWEET_FIELDS),
    userFields: fieldList(config.userFields ?? DEFAULT_USER_FIELDS),
    expansions: fieldList(config.expansions ?? DEFAULT_EXPANSIONS),
  };
}

/** Names in the field lists that X does not list, per config field ("tweetFields" → ["foo"]): warned about, still sent. */
export function fieldWarnings(config: Record<string, unknown>): Partial<Record<'tweetFields' | 'userFields' | 'expansions', string[]>> {
  const out: Partial<Record<'tweetFields' | 'userFields' | 'expansions', string[]>> = {};
  const f = fieldsOf(config);
  for (const field of ['tweetFields', 'userFields', 'expansions'] as const) {
    const names = unknownFields({ tweetFields: '', userFields: '', expansions: '', [field]: f[field] }).map((s) => s.slice(s.indexOf(': ') + 2));
    if (names.length) out[field] = names;
  }
  return out;
}

/** The node's config as XSource settings, or its problems (xStreamProblems, the level's rules included). */
export function parseXStreamSettings(config: Record<string, unknown>, accessLevel?: unknown): { settings: XStreamSettings } | { problems: XStreamProblem[] } {
  const problems = xStreamProblems(config, accessLevel);
  if (problems.length) return { problems };
  const numbers = {} as Record<XStreamNumberField, number>;
  for (const [field, [fallback, min, max]] of Object.entries(X_STREAM_NUMBERS) as Array<[XStreamNumberField, readonly [number, number, number]]>) {
    numbers[field] = wholeNumber(config[field], fallback, min, max);
  }
  const reconnect = { ...X_RECONNECT_DEFAULTS };
  const [min, max] = X_RECONNECT_RANGE;
  for (const k of Object.keys(X_RECONNECT_DEFAULTS) as Array<keyof ReconnectSettings>) reconnect[k] = wholeNumber(config[k], X_RECONNECT_DEFAULTS[k], min, max);
  const fields = fieldsOf(config);
  return {
    settings: {
      mode: modeOf(config)!,
      query: typeof config.query === 'string' ? config.query.trim() : '',
      numbers,
      reconnect,
      recovery: config.recovery !== false && config.recovery !== 'false',
      overflow: config.overflow === 'pause' ? 'pause' : 'drop',
      params: fieldParams(fields),
      unknownFields: unknownFields(fields),
    },
  };
}
