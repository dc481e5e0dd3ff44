// The partition key node's settings, checked once for the runtime (partition-key.ts) and the
// editor alike: this file is browser-safe (bundled by scripts/editor-bundle.js through
// src/lib/editor/partition-key.ts), so it holds only the rules, not the partitioner. Problems
// come back per field as messages of the node's catalogue (errors.*).
import { msg, type StatusMessage } from '../common/status-message';
import { topicNameProblem } from './record';

/** Kafka's largest partition count (an int32). */
export const MAX_PARTITIONS = 0x7fffffff;
export const KEY_TYPES: readonly string[] = ['msg', 'flow', 'global', 'jsonata'];
export const NULL_KEY_ACTIONS: readonly string[] = ['pass', 'error'];
export const PARTITION_SOURCES: readonly string[] = ['fixed', 'broker'];

/** The editor's settings as Node-RED hands them over (strings, numbers or booleans). */
export interface PartitionKeyConfig {
  key?: unknown;
  keyType?: unknown;
  nullKey?: unknown;
  partitionsFrom?: unknown;
  partitions?: unknown;
  /** The Kafka broker config node's id (partitions from the broker). */
  broker?: unknown;
  topic?: unknown;
  metadataMaxAgeMs?: unknown;
  outputHash?: unknown;
}

export interface KeySource {
  /** msg, flow, global or jsonata */
  type: string;
  /** the property path (without a leading "msg.") or the JSONata expression */
  expression: string;
  /** how messages name the key: "msg.payload.id", "flow.author", or the JSONata expression */
  label: string;
}

export type PartitionCountSource =
  | { from: 'fixed'; count: number }
  /** topic '' means msg.topic */
  | { from: 'broker'; topic: string; maxAgeMs: number };

export interface PartitionKeySettings {
  key: KeySource;
  passWithoutKey: boolean;
  outputHash: boolean;
  partitions: PartitionCountSource;
}

/** What is wrong with one field (a config property), as a message of the node's catalogue. */
export interface PartitionKeyProblem {
  field: keyof PartitionKeyConfig;
  message: StatusMessage;
}

const blank = (v: unknown) => v === '' || v === undefined || v === null;

/** A whole number (digits only) or NaN; `fallback` when blank. */
function wholeNumber(value: unknown, fallback: number): number {
  if (blank(value)) return fallback;
  const n = typeof value === 'number' ? value : /^\s*\d+\s*$/.test(String(value)) ? Number(value) : NaN;
  return Number.isSafeInteger(n) && n >= 0 ? n : NaN;
}

function oneOf(value: unknown, allowed: readonly string[], fallback: string): string | undefined {
  if (blank(value)) return fallback;
  return typeof value === 'string' && allowed.includes(value) ? value : undefined;
}

/** Where the key comes from; undefined for an unknown key type. */
function keySource(config: PartitionKeyConfig): KeySource | undefined {
  const type = oneOf(config.keyType, KEY_TYPES, 'msg');
  if (!type) return undefined;
  const given = typeof config.key === 'string' ? config.key.trim() : '';
  let expression = given !== '' ? given : type === 'msg' ? 'key' : '';
  if (type === 'msg') expression = expression.replace(/^msg\./, '');
  return { type, expression, label: type === 'jsonata' ? expression : `${type}.${expression}` };
}

/**
 * Every problem of the settings, field by field, in the order of the dialog. Fields that only
 * matter for one partition source are checked only for it. The key's syntax (a msg path, a JSONata
 * expression) is Node-RED's to check, where it is parsed.
 */
export function partitionKeyProblems(config: PartitionKeyConfig): PartitionKeyProblem[] {
  const out: PartitionKeyProblem[] = [];
  const key = keySource(config);
  if (!key) out.push({ field: 'keyType', message: msg('errors.keyType', { type: String(config.keyType) }) });
  else if (key.expression === '') out.push({ field: 'key', message: msg('errors.keyMissing') });
  if (!oneOf(config.nullKey, NULL_KEY_ACTIONS, 'pass')) out.push({ field: 'nullKey', message: msg('errors.nullKey', { value: String(config.nullKey) }) });
  const from = oneOf(config.partitionsFrom, PARTITION_SOURCES, 'fixed');
  if (!from) out.push({ field: 'partitionsFrom', message: msg('errors.partitionsFrom', { value: String(config.partitionsFrom) }) });
  if (from === 'fixed') {
    const count = wholeNumber(config.partitions, NaN);
    if (!(count >= 1 && count <= MAX_PARTITIONS)) out.push({ field: 'partitions', message: msg('errors.partitions', { value: String(config.partitions ?? '') }) });
  }
  if (from === 'broker') {
    if (blank(config.broker) || config.broker === '_ADD_') out.push({ field: 'broker', message: msg('errors.noBroker') });
    const topic = typeof config.topic === 'string' ? config.topic.trim() : '';
    const problem = topic ? topicNameProblem(topic) : undefined;
    if (problem) out.push({ field: 'topic', message: msg('errors.topic', { reason: problem }) });
    if (Number.isNaN(wholeNumber(config.metadataMaxAgeMs, 0))) out.push({ field: 'metadataMaxAgeMs', message: msg('errors.maxAge', { value: String(config.metadataMaxAgeMs) }) });
  }
  return out;
}

/** The settings, or the problems (partitionKeyProblems). `defaultMaxAgeMs`: a blank metadata max age. */
export function readPartitionKeySettings(config: PartitionKeyConfig, defaultMaxAgeMs: number): { settings: PartitionKeySettings } | { problems: PartitionKeyProblem[] } {
  const problems = partitionKeyProblems(config);
  if (problems.length) return { problems };
  const partitions: PartitionCountSource =
    config.partitionsFrom === 'broker'
      ? { from: 'broker', topic: typeof config.topic === 'string' ? config.topic.trim() : '', maxAgeMs: wholeNumber(config.metadataMaxAgeMs, defaultMaxAgeMs) }
      : { from: 'fixed', count: wholeNumber(config.partitions, NaN) };
  return {
    settings: {
      key: keySource(config)!,
      passWithoutKey: config.nullKey !== 'error',
      outputHash: config.outputHash === true || config.outputHash === 'true',
      partitions,
    },
  };
}
