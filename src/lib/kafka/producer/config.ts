// Producer options with the Java client's names, defaults, presets and checks.
// The Node-RED editor stores every field as a string; parseProducerOptions
// turns that into numbers and booleans, validateProducerOptions refuses what
// the Java client's ProducerConfig would refuse.
//
// Every problem is a ProducerProblem: a stable code with its values (which the
// editor translates), the fields it concerns (which the editor marks) and an
// English message (which the runtime reports). The rules live here only: the
// editor runs this file too (src/lib/editor/producer.ts), so it imports
// nothing that needs Node.

import { COMPRESSION_NAMES as COMPRESSIONS, type CompressionName } from '../codecs/names';

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

/** A field of the producer's settings: an option, or the preset that fills some of them. */
export type ProducerField = keyof ProducerOptions | 'preset';

export type ProducerProblemCode =
  /** {value} */
  | 'unknownPreset'
  /** {name, value}: not a whole number */
  | 'notWholeNumber'
  /** {value} */
  | 'badAcks'
  /** {value, allowed} */
  | 'badCompression'
  /** {name, min, value} */
  | 'tooSmall'
  /** {name, max, value} */
  | 'tooLarge'
  /** {acks}: enable.idempotence needs acks=all */
  | 'idempotenceNeedsAcksAll'
  /** {}: enable.idempotence needs retries > 0 */
  | 'idempotenceNeedsRetries'
  /** {max, value}: enable.idempotence allows at most 5 requests in flight */
  | 'idempotenceMaxInFlight'
  /** {max, backoff}: retry.backoff.max.ms < retry.backoff.ms */
  | 'backoffMaxBelowBackoff'
  /** {delivery, linger, request, sum}: delivery.timeout.ms < linger.ms + request.timeout.ms */
  | 'deliveryTimeoutTooShort';

export interface ProducerProblem {
  code: ProducerProblemCode;
  /** The fields whose values make the problem: changing any of them can solve it. */
  fields: readonly ProducerField[];
  values: Readonly<Record<string, string | number>>;
  /** In English, as the runtime reports it. */
  message: string;
}

function problem(code: ProducerProblemCode, fields: readonly ProducerField[], values: Record<string, string | number>, message: string): ProducerProblem {
  return { code, fields, values, message };
}

export class ProducerConfigError extends Error {
  /** The problems as messages, in English. */
  readonly problems: string[];

  constructor(readonly details: readonly ProducerProblem[]) {
    const problems = details.map((p) => p.message);
    super(`Invalid producer configuration: ${problems.join('; ')}`);
    this.name = 'ProducerConfigError';
    this.problems = problems;
  }
}

/** The smallest value of each number option (Java's ProducerConfig ranges; buffer.memory at least 1 KB). */
export const MINIMUMS: Readonly<Record<Exclude<keyof ProducerOptions, 'acks' | 'idempotence' | 'compression'>, number>> = Object.freeze({
  retries: 0,
  retryBackoffMs: 0,
  retryBackoffMaxMs: 0,
  requestTimeoutMs: 1,
  deliveryTimeoutMs: 1,
  maxInFlight: 1,
  lingerMs: 0,
  batchSize: 0,
  bufferMemory: 1024,
  maxBlockMs: 0,
  maxRequestSize: 1,
});

/** enable.idempotence allows at most this many requests in flight per connection. */
export const IDEMPOTENT_MAX_IN_FLIGHT = 5;

/** Decimal digits only, as the Java client reads an int ("1e3" and "0x10" are not numbers there). */
const DECIMAL_INTEGER = /^[+-]?\d+$/;

/**
 * Reads options as the editor stores them (strings, possibly blank). Blank or
 * missing fields take the default; anything unreadable is a problem, not a guess
 * (its field keeps the default in `options`).
 */
export function readProducerOptions(raw: Record<string, unknown>): { options: ProducerOptions; problems: ProducerProblem[] } {
  const problems: ProducerProblem[] = [];
  const out = defaultProducerOptions();
  const preset = raw.preset;
  if (typeof preset === 'string' && preset !== 'custom' && preset !== '') {
    if (!Object.prototype.hasOwnProperty.call(PRESETS, preset)) problems.push(problem('unknownPreset', ['preset'], { value: preset }, `unknown preset "${preset}"`));
  }
  for (const field of NUMBER_FIELDS) {
    const v = raw[field];
    if (v === undefined || v === null) continue;
    const text = typeof v === 'number' ? undefined : String(v).trim();
    if (text === '') continue;
    const n = text === undefined ? (v as number) : DECIMAL_INTEGER.test(text) ? Number(text) : NaN;
    if (!Number.isFinite(n) || !Number.isInteger(n)) {
      problems.push(problem('notWholeNumber', [field], { name: JAVA_NAMES[field], value: String(v) }, `${JAVA_NAMES[field]} must be a whole number, got "${String(v)}"`));
      continue;
    }
    (out as unknown as Record<string, number>)[field] = n;
  }
  if (raw.acks !== undefined && raw.acks !== '') {
    const a = String(raw.acks).trim().toLowerCase();
    if (a === 'all' || a === '-1') out.acks = 'all';
    else if (a === '1' || a === '0') out.acks = a;
    else problems.push(problem('badAcks', ['acks'], { value: String(raw.acks) }, `acks must be 0, 1 or all, got "${String(raw.acks)}"`));
  }
  if (raw.idempotence !== undefined && raw.idempotence !== '') {
    out.idempotence = raw.idempotence === true || raw.idempotence === 'true';
  }
  if (raw.compression !== undefined && raw.compression !== '') {
    const c = String(raw.compression).trim().toLowerCase();
    if ((COMPRESSIONS as readonly string[]).includes(c)) out.compression = c as CompressionName;
    else {
      const allowed = COMPRESSIONS.join(', ');
      problems.push(problem('badCompression', ['compression'], { value: String(raw.compression), allowed }, `compression.type must be one of ${allowed}, got "${String(raw.compression)}"`));
    }
  }
  return { options: out, problems };
}

/**
 * Reads options as the editor stores them; throws ProducerConfigError listing
 * every value it cannot read.
 */
export function parseProducerOptions(raw: Record<string, unknown>): ProducerOptions {
  const { options, problems } = readProducerOptions(raw);
  if (problems.length) throw new ProducerConfigError(problems);
  return options;
}

/** The checks the Java client's ProducerConfig makes, each with the fields it concerns; an empty list means valid. */
export function producerOptionProblems(o: ProducerOptions): ProducerProblem[] {
  const problems: ProducerProblem[] = [];
  for (const field of Object.keys(MINIMUMS) as Array<keyof typeof MINIMUMS>) {
    const v = o[field];
    const min = MINIMUMS[field];
    if (!(v >= min)) problems.push(problem('tooSmall', [field], { name: JAVA_NAMES[field], min, value: v }, `${JAVA_NAMES[field]} must be at least ${min}, got ${v}`));
  }
  if (o.retries > MAX_RETRIES) {
    problems.push(problem('tooLarge', ['retries'], { name: JAVA_NAMES.retries, max: MAX_RETRIES, value: o.retries }, `retries must be at most ${MAX_RETRIES}`));
  }
  if (o.retryBackoffMaxMs < o.retryBackoffMs) {
    problems.push(
      problem(
        'backoffMaxBelowBackoff',
        ['retryBackoffMaxMs', 'retryBackoffMs'],
        { max: o.retryBackoffMaxMs, backoff: o.retryBackoffMs },
        `retry.backoff.max.ms (${o.retryBackoffMaxMs}) must be at least retry.backoff.ms (${o.retryBackoffMs})`,
      ),
    );
  }
  if (o.idempotence) {
    // Same reasons as the Java client gives.
    if (o.acks !== 'all') {
      problems.push(
        problem('idempotenceNeedsAcksAll', ['acks', 'idempotence'], { acks: o.acks }, 'Must set acks to all in order to use the idempotent producer. Otherwise we cannot guarantee idempotence'),
      );
    }
    if (o.retries <= 0) {
      problems.push(problem('idempotenceNeedsRetries', ['retries', 'idempotence'], {}, 'Must set retries to non-zero when using the idempotent producer'));
    }
    if (o.maxInFlight > IDEMPOTENT_MAX_IN_FLIGHT) {
      problems.push(
        problem(
          'idempotenceMaxInFlight',
          ['maxInFlight', 'idempotence'],
          { max: IDEMPOTENT_MAX_IN_FLIGHT, value: o.maxInFlight },
          `Must set max.in.flight.requests.per.connection to at most ${IDEMPOTENT_MAX_IN_FLIGHT} to use the idempotent producer`,
        ),
      );
    }
  }
  if (o.deliveryTimeoutMs < o.lingerMs + o.requestTimeoutMs) {
    const sum = o.lingerMs + o.requestTimeoutMs;
    problems.push(
      problem(
        'deliveryTimeoutTooShort',
        ['deliveryTimeoutMs', 'lingerMs', 'requestTimeoutMs'],
        { delivery: o.deliveryTimeoutMs, linger: o.lingerMs, request: o.requestTimeoutMs, sum },
        `delivery.timeout.ms (${o.deliveryTimeoutMs}) should be equal to or larger than linger.ms + request.timeout.ms (${sum})`,
      ),
    );
  }
  return problems;
}

/** The checks the Java client's ProducerConfig makes, as messages; an empty list means valid. */
export function validateProducerOptions(o: ProducerOptions): string[] {
  return producerOptionProblems(o).map((p) => p.message);
}

/**
 * Every problem of options as the editor stores them: the values that cannot be
 * read, then the rules the others break (a rule involving an unreadable field is
 * left out: its verdict would be about the default, not about the value).
 */
export function producerProblems(raw: Record<string, unknown>): ProducerProblem[] {
  const { options, problems } = readProducerOptions(raw);
  const unreadable = new Set(problems.flatMap((p) => p.fields));
  return [...problems, ...producerOptionProblems(options).filter((p) => !p.fields.some((f) => unreadable.has(f)))];
}

/** Parses and validates; throws ProducerConfigError listing every problem. */
export function producerOptionsFrom(raw: Record<string, unknown>): ProducerOptions {
  const problems = producerProblems(raw);
  if (problems.length) throw new ProducerConfigError(problems);
  return readProducerOptions(raw).options;
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
