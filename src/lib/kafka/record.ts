// The message contract: how a Node-RED msg becomes a Kafka record. Anything
// that cannot be carried faithfully is refused with a RecordError that says
// what was wrong, never coerced or dropped.
import { RecordError } from './errors';
import { keyForm } from './key';

export interface ProducerRecord {
  topic: string;
  /**
   * The value: bytes, or text that the batch encoder writes as UTF-8 straight
   * into the batch (no Buffer per record); null is a tombstone.
   */
  value: Buffer | string | null;
  /** UTF-8 bytes of the value (0 for a tombstone) */
  valueLength: number;
  /** The key, bytes or text (UTF-8), as key.ts reads msg.key; null: no key. */
  key: Buffer | string | null;
  /** UTF-8 bytes of the key (0 without key) */
  keyLength: number;
  partition?: number;
  headers?: Record<string, Buffer>;
  /** epoch ms (CreateTime) */
  timestamp: number;
  /** approximate bytes the record takes in a batch, for batch.size */
  sizeInBytes: number;
  /**
   * bytes held for it until it is acknowledged, for buffer.memory: the record,
   * plus the msg's own text or object the node keeps to send on (a Buffer
   * payload is the record's value itself)
   */
  memoryBytes: number;
}

// RecordError lives in errors.ts so that key.ts can throw it without importing this file back.
export { RecordError };

const LEGAL_TOPIC = /^[a-zA-Z0-9._-]+$/;
export const MAX_TOPIC_LENGTH = 249;

/** Kafka's own topic name rules (org.apache.kafka.common.internals.Topic.validate). */
export function topicNameProblem(topic: string): string | undefined {
  if (topic.length === 0) return 'Topic name is empty';
  if (topic === '.' || topic === '..') return `Topic name cannot be "." or ".."`;
  if (topic.length > MAX_TOPIC_LENGTH) {
    return `Topic name is illegal, it can't be longer than ${MAX_TOPIC_LENGTH} characters, topic name: ${topic}`;
  }
  if (!LEGAL_TOPIC.test(topic)) {
    return `Topic name "${topic}" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'`;
  }
  return undefined;
}

/**
 * The value's form: a Buffer as is, a string as it is (sent as UTF-8), an
 * object or array as its JSON text, a number or boolean as its text, null as
 * a tombstone.
 */
export function valueForm(payload: unknown): Buffer | string | null {
  if (payload === null) return null;
  if (Buffer.isBuffer(payload)) return payload;
  if (payload instanceof Uint8Array) return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  switch (typeof payload) {
    case 'string':
      return payload;
    case 'number':
      if (!Number.isFinite(payload)) throw new RecordError(`msg.payload is the number ${payload}, which has no text form Kafka consumers can read`);
      return String(payload);
    case 'boolean':
      return String(payload);
    case 'undefined':
      throw new RecordError('msg.payload is missing: set it, or set it to null to send a tombstone');
    case 'object': {
      let json: string | undefined;
      try {
        json = JSON.stringify(payload);
      } catch (e) {
        throw new RecordError(`msg.payload could not be turned into JSON: ${(e as Error).message}`);
      }
      if (json === undefined) throw new RecordError('msg.payload could not be turned into JSON');
      return json;
    }
    default:
      throw new RecordError(`msg.payload of type ${typeof payload} is not supported: use a Buffer, string, object, array, number, boolean or null`);
  }
}

/** The bytes of a value or key form: a Buffer's length, a string's UTF-8 length. */
export function formLength(form: Buffer | string | null): number {
  return form === null ? 0 : typeof form === 'string' ? Buffer.byteLength(form, 'utf8') : form.length;
}

export function headersToRecord(headers: unknown): Record<string, Buffer> | undefined {
  if (headers === null || headers === undefined) return undefined;
  if (typeof headers !== 'object' || Array.isArray(headers) || Buffer.isBuffer(headers)) {
    throw new RecordError('msg.headers must be an object whose values are strings or Buffers');
  }
  const out: Record<string, Buffer> = {};
  for (const [name, v] of Object.entries(headers as Record<string, unknown>)) {
    if (typeof v === 'string') out[name] = Buffer.from(v, 'utf8');
    else if (Buffer.isBuffer(v)) out[name] = v;
    else {
      const kind = v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
      throw new RecordError(`msg.headers["${name}"] is of type ${kind}: header values must be strings or Buffers`);
    }
  }
  return out;
}

function partitionOf(partition: unknown): number | undefined {
  if (partition === undefined || partition === null || partition === '') return undefined;
  const n = typeof partition === 'string' ? Number(partition) : partition;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 2147483647) {
    throw new RecordError(`msg.partition must be a whole number of 0 or more, got ${JSON.stringify(partition)}`);
  }
  return n;
}

/** The latest time a JavaScript Date can hold (ms after the epoch); later timestamps cannot be shown or compared as dates. */
export const MAX_TIMESTAMP_MS = 8.64e15;

function shownTimestamp(ts: unknown): string {
  if (ts instanceof Date) return Number.isNaN(ts.getTime()) ? 'an invalid Date' : `a Date of ${ts.getTime()} ms`;
  // String(): JSON would show NaN as null and cannot write a bigint.
  if (typeof ts === 'number' || typeof ts === 'bigint') return String(ts);
  if (typeof ts === 'string') return JSON.stringify(ts);
  const kind = Array.isArray(ts) ? 'array' : typeof ts;
  return `${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind}`;
}

function timestampOf(ts: unknown, now: number): number {
  if (ts === undefined || ts === null || ts === '') return now;
  const n = ts instanceof Date ? ts.getTime() : typeof ts === 'string' && /^\d+$/.test(ts) ? Number(ts) : ts;
  // An invalid Date gives NaN; a time past the Date range would fail later, far from its msg, with a RangeError.
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > MAX_TIMESTAMP_MS) {
    throw new RecordError(`msg.timestamp must be epoch milliseconds, a whole number from 0 to ${MAX_TIMESTAMP_MS} (JavaScript's latest Date), or a Date, got ${shownTimestamp(ts)}`);
  }
  return n;
}

// Per-record overhead in a v2 batch (attributes, varints, offsets) is at most ~21 bytes, headers ~ a few more.
const RECORD_OVERHEAD = 21;

export interface RecordInput {
  topic?: unknown;
  payload?: unknown;
  key?: unknown;
  partition?: unknown;
  headers?: unknown;
  timestamp?: unknown;
}

/**
 * Builds a record from a msg. `fixedTopic` is the node's topic; when blank,
 * msg.topic is used. Throws RecordError with a clear message on bad input.
 */
export function toProducerRecord(msg: RecordInput, fixedTopic: string | undefined, now = Date.now()): ProducerRecord {
  let topic: string;
  if (fixedTopic) topic = fixedTopic;
  else if (typeof msg.topic === 'string' && msg.topic !== '') topic = msg.topic;
  else if (msg.topic === undefined || msg.topic === null || msg.topic === '') {
    throw new RecordError('No topic: set one in the node, or send msg.topic');
  } else throw new RecordError(`msg.topic must be a string, got ${typeof msg.topic}`);
  const problem = topicNameProblem(topic);
  if (problem) throw new RecordError(problem);

  const value = valueForm(msg.payload);
  const key = keyForm(msg.key, 'msg.key');
  const headers = headersToRecord(msg.headers);
  const valueLength = formLength(value);
  const keyLength = formLength(key);
  let size = RECORD_OVERHEAD + valueLength + keyLength;
  if (headers) for (const [k, v] of Object.entries(headers)) size += Buffer.byteLength(k) + v.length + 2;
  // The msg is kept until its record settles: a string or Buffer payload is the value itself;
  // an object, number or boolean payload is held beside its text (about as large).
  const payload = msg.payload;
  const retained = value !== null && typeof payload !== 'string' && !(payload instanceof Uint8Array) ? valueLength : 0;
  return {
    topic,
    value,
    valueLength,
    key,
    keyLength,
    partition: partitionOf(msg.partition),
    headers,
    timestamp: timestampOf(msg.timestamp, now),
    sizeInBytes: size,
    memoryBytes: size + retained,
  };
}
