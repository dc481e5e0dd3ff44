// Producer options with the Java client's names, defaults, presets and checks.
// The Node-RED editor stores every field as a string; parseProducerOptions
// turns that into numbers and booleans, validateProducerOptions refuses what
// the Java client's ProducerConfig would refuse.

import { COMPRESSION_NAMES as COMPRESSIONS, type CompressionName } from '../codecs';

export type AcksSetting = 'all' | '1' | '0';

export interface ProducerOptions {
  /** acks */
  acks: AcksSetting;
  /** enable.idempotence */
  idempotence: boolean;
  /** retries */
  retries: number;
  /** retry.backoff.ms */
  retryBackoffMs: number;
  /** retry.backoff.max.ms */
  retryBackoffMaxMs: number;
  /** request.timeout.ms */
  requestTimeoutMs: number;
  /** delivery.timeout.ms */
  deliveryTimeoutMs: number;
  /** max.in.flight.requests.per.connection */
  maxInFlight: number;
  /** compression.type */
  compression: CompressionName;
  /** linger.ms */
  lingerMs: number;
  /** batch.size (bytes) */
  batchSize: number;
  /** buffer.memory (bytes) */
  bufferMemory: number;
  /** max.block.ms */
  maxBlockMs: number;
  /** max.request.size (bytes) */
  maxRequestSize: number;
}

export const MAX_RETRIES = 2147483647;

/** The Java client's defaults (Kafka 4.0). */
export const JAVA_DEFAULTS: Readonly<ProducerOptions> = Object.freeze({
  acks: 'all',
  idempotence: true,
  retries: MAX_RETRIES,
  retryBackoffMs: 100,
  retryBackoffMaxMs: 1000,
  requestTimeoutMs: 30000,
  deliveryTimeoutMs: 120000,
  maxInFlight: 5,
  compression: 'none',
  lingerMs: 5,
  batchSize: 16384,
  bufferMemory: 33554432,
  maxBlockMs: 60000,
  maxRequestSize: 1048576,
});

export type PresetName = 'safe' | 'throughput' | 'fireAndForget' | 'custom';

/** Fields each preset sets; the rest keep their current values. */
export const PRESETS: Readonly<Record<Exclude<PresetName, 'custom'>, Partial<ProducerOptions>>> = Object.freeze({
  // The seed's safe producer: acks=all, idempotence, retries=MAX_INT, max in-flight 5.
  safe: { acks: 'all', idempotence: true, retries: MAX_RETRIES, maxInFlight: 5, compression: 'none', lingerMs: 5, batchSize: 16384 },
  // Safe, plus bigger batches compressed with lz4.
  throughput: { acks: 'all', idempotence: true, retries: MAX_RETRIES, maxInFlight: 5, compression: 'lz4', lingerMs: 20, batchSize: 32768 },
  // No acknowledgement, no retry: for metrics or logs where a loss is acceptable.
  fireAndForget: { acks: '0', idempotence: false, retries: 0, maxInFlight: 5, compression: 'none', lingerMs: 5, batchSize: 16384 },
});

/** The default options: the Safe preset over the Java defaults. */
export function defaultProducerOptions(): ProducerOptions {
  return { ...JAVA_DEFAULTS, ...PRESETS.safe };
}

const NUMBER_FIELDS: ReadonlyArray<keyof ProducerOptions> = [
  'retries', 'retryBackoffMs', 'retryBackoffMaxMs', 'requestTimeoutMs', 'deliveryTimeoutMs', 'maxInFlight',
  'lingerMs', 'batchSize', 'bufferMemory', 'maxBlockMs', 'maxRequestSize',
];

/** Java config names, for messages and the README. */
export const JAVA_NAMES: Readonly<Record<keyof ProducerOptions, string>> = Object.freeze({
  acks: 'acks',
  idempotence: 'enable.idempotence',
  retries: 'retries',
  retryBackoffMs: 'retry.backoff.ms',
  retryBackoffMaxMs: 'retry.backoff.max.ms',
  requestTimeoutMs: 'request.timeout.ms',
  deliveryTimeoutMs: 'delivery.timeout.ms',
  maxInFlight: 'max.in.flight.requests.per.connection',
  compression: 'compression.type',
  lingerMs: 'linger.ms',
  batchSize: 'batch.size',
  bufferMemory: 'buffer.memory',
  maxBlockMs: 'max.block.ms',
  maxRequestSize: 'max.request.size',
});

/**
 * One problem of a configuration: the Java client's text (log, Catch) and a
 * short form for the node's status, as a message key under the node's
 * "status.problem" section with its values ("invalid: acks must be all for idempotence").
 */
export interface ConfigProblem {
  text: string;
  short: { key: string; values?: Record<string, string | number> };
}

const problem = (text: string, key: string, values?: Record<string, string | number>): ConfigProblem => ({
  text,
  short: values ? { key: `status.problem.${key}`, values } : { key: `status.problem.${key}` },
});

export class ProducerConfigError extends Error {
  readonly problems: string[];
  constructor(readonly details: ConfigProblem[]) {
    super(`Invalid producer configuration: ${details.map((d) => d.text).join('; ')}`);
    this.name = 'ProducerConfigError';
    this.problems = details.map((d) => d.text);
  }
}

/**
 * Reads options as the editor stores them (strings, possibly blank). Blank or
 * missing fields take the default; anything unreadable is reported, not guessed.
 */
export function parseProducerOptions(raw: Record<string, unknown>): ProducerOptions {
  const problems: ConfigProblem[] = [];
  const out = defaultProducerOptions();
  const preset = raw.preset;
  if (typeof preset === 'string' && preset !== 'custom' && preset !== '') {
    if (!(preset in PRESETS)) problems.push(problem(`unknown preset "${preset}"`, 'preset', { value: preset }));
  }
  for (const field of NUMBER_FIELDS) {
    const v = raw[field];
    if (v === undefined || v === null || v === '') continue;
    const n = typeof v === 'number' ? v : Number(String(v).trim());
    if (!Number.isFinite(n) || !Number.isInteger(n)) {
      problems.push(problem(`${JAVA_NAMES[field]} must be a whole number, got "${String(v)}"`, 'wholeNumber', { name: JAVA_NAMES[field] }));
      continue;
    }
    (out as unknown as Record<string, number>)[field] = n;
  }
  if (raw.acks !== undefined && raw.acks !== '') {
    const a = String(raw.acks).trim().toLowerCase();
    if (a === 'all' || a === '-1') out.acks = 'all';
    else if (a === '1' || a === '0') out.acks = a;
    else problems.push(problem(`acks must be 0, 1 or all, got "${String(raw.acks)}"`, 'acks'));
  }
  if (raw.idempotence !== undefined && raw.idempotence !== '') {
    out.idempotence = raw.idempotence === true || raw.idempotence === 'true';
  }
  if (raw.compression !== undefined && raw.compression !== '') {
    const c = String(raw.compression).trim().toLowerCase();
    if ((COMPRESSIONS as readonly string[]).includes(c)) out.compression = c as CompressionName;
    else {
      problems.push(
        problem(`compression.type must be one of ${COMPRESSIONS.join(', ')}, got "${String(raw.compression)}"`, 'compression', { value: String(raw.compression) }),
      );
    }
  }
  if (problems.length) throw new ProducerConfigError(problems);
  return out;
}

/** The checks the Java client's ProducerConfig makes; an empty list means valid. */
export function validateProducerOptions(o: ProducerOptions): string[] {
  return configProblems(o).map((p) => p.text);
}

/** validateProducerOptions with each problem's short form for the status. */
export function configProblems(o: ProducerOptions): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const atLeast = (field: keyof ProducerOptions, min: number) => {
    const v = o[field] as number;
    if (!(v >= min)) problems.push(problem(`${JAVA_NAMES[field]} must be at least ${min}, got ${v}`, 'atLeast', { name: JAVA_NAMES[field], min }));
  };
  atLeast('retries', 0);
  atLeast('retryBackoffMs', 0);
  atLeast('retryBackoffMaxMs', 0);
  atLeast('requestTimeoutMs', 1);
  atLeast('deliveryTimeoutMs', 1);
  atLeast('maxInFlight', 1);
  atLeast('lingerMs', 0);
  atLeast('batchSize', 0);
  atLeast('bufferMemory', 1024);
  atLeast('maxBlockMs', 0);
  atLeast('maxRequestSize', 1);
  if (o.retries > MAX_RETRIES) problems.push(problem(`retries must be at most ${MAX_RETRIES}`, 'atMost', { name: 'retries', max: MAX_RETRIES }));
  if (o.retryBackoffMaxMs < o.retryBackoffMs) {
    problems.push(problem(`retry.backoff.max.ms (${o.retryBackoffMaxMs}) must be at least retry.backoff.ms (${o.retryBackoffMs})`, 'backoffMax'));
  }
  if (o.idempotence) {
    // Same reasons as the Java client gives.
    if (o.acks !== 'all') {
      problems.push(problem('Must set acks to all in order to use the idempotent producer. Otherwise we cannot guarantee idempotence', 'idempotenceAcks'));
    }
    if (o.retries <= 0) problems.push(problem('Must set retries to non-zero when using the idempotent producer', 'idempotenceRetries'));
    if (o.maxInFlight > 5) {
      problems.push(problem('Must set max.in.flight.requests.per.connection to at most 5 to use the idempotent producer', 'idempotenceInFlight'));
    }
  }
  if (o.deliveryTimeoutMs < o.lingerMs + o.requestTimeoutMs) {
    problems.push(
      problem(
        `delivery.timeout.ms (${o.deliveryTimeoutMs}) should be equal to or larger than linger.ms + request.timeout.ms (${o.lingerMs + o.requestTimeoutMs})`,
        'deliveryTimeout',
      ),
    );
  }
  return problems;
}

/** Parses and validates; throws ProducerConfigError listing every problem. */
export function producerOptionsFrom(raw: Record<string, unknown>): ProducerOptions {
  const o = parseProducerOptions(raw);
  const problems = configProblems(o);
  if (problems.length) throw new ProducerConfigError(problems);
  return o;
}

export function acksNumber(acks: AcksSetting): -1 | 0 | 1 {
  return acks === 'all' ? -1 : acks === '1' ? 1 : 0;
}

/**
 * kafkajs retries a failed request on its own. Its count is bounded here by
 * what fits in delivery.timeout.ms, so no retry loop outlives the deadline by
 * much, as in the Java client where delivery.timeout.ms bounds retries.
 * kafkajs insists on at least one retry for the idempotent producer.
 */
export function kafkajsRetries(o: ProducerOptions): number {
  const fit = Math.ceil(o.deliveryTimeoutMs / Math.max(1, o.retryBackoffMs)) + 1;
  const n = Math.min(o.retries, fit);
  return o.idempotence ? Math.max(1, n) : n;
}
