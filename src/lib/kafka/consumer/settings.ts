// The consumer node's settings, checked once for the runtime and the editor alike: this file is
// browser-safe (bundled by scripts/editor-bundle.js through src/lib/editor/consumer.ts). Problems
// come back per field as messages of the node's catalogue (errors.*).
import { msg, type StatusMessage } from '../../common/status-message';
import { topicNameProblem } from '../record';

export const TOPICS_TYPES = ['list', 'regex'] as const;
export const START_FROM = ['earliest', 'latest', 'timestamp'] as const;
export const PAYLOAD_FORMATS = ['text', 'json', 'buffer'] as const;
export const BYTES_FORMATS = ['text', 'buffer'] as const;
export const COMMIT_MODES = ['atLeastOnce', 'periodic', 'none'] as const;
export const FINISH_ON = ['commitNode', 'producerAck'] as const;

export type StartFrom = (typeof START_FROM)[number];
export type PayloadFormat = (typeof PAYLOAD_FORMATS)[number];
export type BytesFormat = (typeof BYTES_FORMATS)[number];
export type CommitMode = (typeof COMMIT_MODES)[number];
export type FinishOn = (typeof FINISH_ON)[number];

export const DEFAULTS = {
  maxOutstanding: 100,
  autoCommitIntervalMs: 5000,
  sessionTimeoutMs: 30000,
  heartbeatIntervalMs: 3000,
} as const;
/** Limits: kafka's default group.min/max.session.timeout.ms; more outstanding msgs than this is no bound. */
export const LIMITS = {
  maxOutstanding: [1, 100000],
  autoCommitIntervalMs: [100, 3600000],
  sessionTimeoutMs: [6000, 1800000],
  heartbeatIntervalMs: [100, 600000],
} as const;

/** The editor's settings as Node-RED hands them over (strings, numbers or booleans). */
export interface ConsumerConfig {
  broker?: unknown;
  topics?: unknown;
  topicsType?: unknown;
  groupId?: unknown;
  start?: unknown;
  startTimestamp?: unknown;
  payloadFormat?: unknown;
  keyFormat?: unknown;
  headersFormat?: unknown;
  maxOutstanding?: unknown;
  commitMode?: unknown;
  autoCommitIntervalMs?: unknown;
  finishOn?: unknown;
  sessionTimeoutMs?: unknown;
  heartbeatIntervalMs?: unknown;
}

export interface ConsumerSettings {
  /** Topic names (topicsType list), or empty with `topicsRegex`. */
  topics: string[];
  /** A JavaScript regular expression source (topicsType regex). */
  topicsRegex?: string;
  groupId: string;
  start: StartFrom;
  /** epoch ms, with start 'timestamp' */
  startTimestamp?: number;
  payloadFormat: PayloadFormat;
  keyFormat: BytesFormat;
  headersFormat: BytesFormat;
  maxOutstanding: number;
  commitMode: CommitMode;
  autoCommitIntervalMs: number;
  finishOn: FinishOn;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
}

export interface ConsumerProblem {
  field: keyof ConsumerConfig;
  message: StatusMessage;
}

/** Thrown by consumerSettingsFrom, with every problem. */
export class ConsumerConfigError extends Error {
  constructor(readonly problems: ConsumerProblem[]) {
    super(problems.map((p) => `${p.field}: ${p.message.key}`).join('; '));
    this.name = 'ConsumerConfigError';
  }
}

const blank = (v: unknown) => v === '' || v === undefined || v === null || (typeof v === 'string' && v.trim() === '');

function oneOf<T extends string>(value: unknown, allowed: readonly T[], fallback: T): T | undefined {
  if (blank(value)) return fallback;
  return typeof value === 'string' && (allowed as readonly string[]).includes(value) ? (value as T) : undefined;
}

/** A whole number in [min, max] (digits only), `fallback` when blank, NaN otherwise. */
function whole(value: unknown, fallback: number, [min, max]: readonly [number, number]): number {
  if (blank(value)) return fallback;
  const n = typeof value === 'number' ? value : /^\s*\d+\s*$/.test(String(value)) ? Number(value) : NaN;
  return Number.isSafeInteger(n) && n >= min && n <= max ? n : NaN;
}

/** The topic list as typed: comma-separated, blanks dropped. */
export function topicList(value: unknown): string[] {
  if (typeof value !== 'string') return [];
  return value
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
}

/** A start timestamp: epoch ms (digits) or an ISO date; NaN when neither. */
export function parseTimestamp(value: unknown): number {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : NaN;
  if (typeof value !== 'string' || value.trim() === '') return NaN;
  const s = value.trim();
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    return Number.isSafeInteger(n) ? n : NaN;
  }
  // An ISO 8601 date (a date alone, or with a time); Date.parse accepts more, so the form is checked first.
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(s)) return NaN;
  const t = Date.parse(s);
  return Number.isFinite(t) && t >= 0 ? t : NaN;
}

/** Why a regular expression source does not compile, or undefined. */
export function regexProblem(source: string): string | undefined {
  try {
    new RegExp(source);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Every problem of the settings, field by field, in the order of the dialog. */
export function consumerProblems(config: ConsumerConfig): ConsumerProblem[] {
  const out: ConsumerProblem[] = [];
  const push = (field: keyof ConsumerConfig, key: string, values?: Record<string, string | number>) => out.push({ field, message: msg(key, values) });
  if (blank(config.broker) || config.broker === '_ADD_') push('broker', 'errors.noBroker');
  const topicsType = oneOf(config.topicsType, TOPICS_TYPES, 'list');
  if (!topicsType) push('topicsType', 'errors.topicsType', { value: String(config.topicsType) });
  const rawTopics = typeof config.topics === 'string' ? config.topics.trim() : '';
  if (rawTopics === '') push('topics', 'errors.noTopics');
  else if (topicsType === 'list') {
    for (const t of topicList(rawTopics)) {
      const p = topicNameProblem(t);
      if (p) {
        push('topics', 'errors.topic', { reason: p });
        break;
      }
    }
  } else if (topicsType === 'regex') {
    const p = regexProblem(rawTopics);
    if (p) push('topics', 'errors.regex', { reason: p });
  }
  if (typeof config.groupId !== 'string' || config.groupId.trim() === '') push('groupId', 'errors.noGroupId');
  const start = oneOf(config.start, START_FROM, 'latest');
  if (!start) push('start', 'errors.start', { value: String(config.start) });
  if (start === 'timestamp' && Number.isNaN(parseTimestamp(config.startTimestamp))) push('startTimestamp', 'errors.startTimestamp', { value: String(config.startTimestamp ?? '') });
  if (!oneOf(config.payloadFormat, PAYLOAD_FORMATS, 'text')) push('payloadFormat', 'errors.payloadFormat', { value: String(config.payloadFormat) });
  if (!oneOf(config.keyFormat, BYTES_FORMATS, 'text')) push('keyFormat', 'errors.keyFormat', { value: String(config.keyFormat) });
  if (!oneOf(config.headersFormat, BYTES_FORMATS, 'text')) push('headersFormat', 'errors.headersFormat', { value: String(config.headersFormat) });
  const range = (field: keyof typeof LIMITS) => ({ value: String(config[field] ?? ''), min: LIMITS[field][0], max: LIMITS[field][1] });
  if (Number.isNaN(whole(config.maxOutstanding, DEFAULTS.maxOutstanding, LIMITS.maxOutstanding))) push('maxOutstanding', 'errors.maxOutstanding', range('maxOutstanding'));
  const mode = oneOf(config.commitMode, COMMIT_MODES, 'atLeastOnce');
  if (!mode) push('commitMode', 'errors.commitMode', { value: String(config.commitMode) });
  if (mode === 'periodic' && Number.isNaN(whole(config.autoCommitIntervalMs, DEFAULTS.autoCommitIntervalMs, LIMITS.autoCommitIntervalMs))) {
    push('autoCommitIntervalMs', 'errors.autoCommitIntervalMs', range('autoCommitIntervalMs'));
  }
  if (!oneOf(config.finishOn, FINISH_ON, 'commitNode')) push('finishOn', 'errors.finishOn', { value: String(config.finishOn) });
  const session = whole(config.sessionTimeoutMs, DEFAULTS.sessionTimeoutMs, LIMITS.sessionTimeoutMs);
  if (Number.isNaN(session)) push('sessionTimeoutMs', 'errors.sessionTimeoutMs', range('sessionTimeoutMs'));
  const heartbeat = whole(config.heartbeatIntervalMs, DEFAULTS.heartbeatIntervalMs, LIMITS.heartbeatIntervalMs);
  if (Number.isNaN(heartbeat)) push('heartbeatIntervalMs', 'errors.heartbeatIntervalMs', range('heartbeatIntervalMs'));
  else if (!Number.isNaN(session) && heartbeat >= session) push('heartbeatIntervalMs', 'errors.heartbeatVsSession', { heartbeat, session });
  return out;
}

/** The settings, or a ConsumerConfigError with every problem. */
export function consumerSettingsFrom(config: ConsumerConfig): ConsumerSettings {
  const problems = consumerProblems(config);
  if (problems.length) throw new ConsumerConfigError(problems);
  const topicsType = oneOf(config.topicsType, TOPICS_TYPES, 'list');
  const raw = String(config.topics).trim();
  const start = oneOf(config.start, START_FROM, 'latest')!;
  return {
    topics: topicsType === 'list' ? [...new Set(topicList(raw))] : [],
    topicsRegex: topicsType === 'regex' ? raw : undefined,
    groupId: String(config.groupId).trim(),
    start,
    startTimestamp: start === 'timestamp' ? parseTimestamp(config.startTimestamp) : undefined,
    payloadFormat: oneOf(config.payloadFormat, PAYLOAD_FORMATS, 'text')!,
    keyFormat: oneOf(config.keyFormat, BYTES_FORMATS, 'text')!,
    headersFormat: oneOf(config.headersFormat, BYTES_FORMATS, 'text')!,
    maxOutstanding: whole(config.maxOutstanding, DEFAULTS.maxOutstanding, LIMITS.maxOutstanding),
    commitMode: oneOf(config.commitMode, COMMIT_MODES, 'atLeastOnce')!,
    autoCommitIntervalMs: whole(config.autoCommitIntervalMs, DEFAULTS.autoCommitIntervalMs, LIMITS.autoCommitIntervalMs) || DEFAULTS.autoCommitIntervalMs,
    finishOn: oneOf(config.finishOn, FINISH_ON, 'commitNode')!,
    sessionTimeoutMs: whole(config.sessionTimeoutMs, DEFAULTS.sessionTimeoutMs, LIMITS.sessionTimeoutMs),
    heartbeatIntervalMs: whole(config.heartbeatIntervalMs, DEFAULTS.heartbeatIntervalMs, LIMITS.heartbeatIntervalMs),
  };
}
