// A Kafka record → the msg a consumer node sends: payload, key and headers decoded as set,
// the record's metadata on the msg and in msg.kafka, and the hidden finish token.
import { randomBytes } from 'node:crypto';
import type { IHeaders, KafkaMessage } from 'kafkajs';
import type { BytesFormat, ConsumerSettings } from './settings';
import type { ConsumedToken } from './tracker';
import { TOKEN_PROPERTY } from './finish-registry';

export interface KafkaMeta {
  topic: string;
  partition: number;
  offset: string;
  timestamp: number;
  key: string | Buffer | null;
  headers: Record<string, HeaderValue>;
  groupId: string;
}

/** A header's value; null for a header sent without a value (Kafka allows it: length -1). */
export type HeaderValue = string | Buffer | null | Array<string | Buffer | null>;

export interface ConsumedMsg {
  payload: unknown;
  key: string | Buffer | null;
  topic: string;
  partition: number;
  offset: string;
  timestamp: number;
  headers: Record<string, HeaderValue>;
  kafka: KafkaMeta;
  /** payloadFormat json and a value that is not JSON: payload is the text, this says why */
  parseError?: { name: 'JsonParseError'; message: string };
  _msgid?: string;
  [TOKEN_PROPERTY]?: ConsumedToken;
}

function bytes(b: Buffer | null | undefined, format: BytesFormat): string | Buffer | null {
  if (b === null || b === undefined) return null;
  return format === 'buffer' ? b : b.toString('utf8');
}

function headerValue(v: unknown, format: BytesFormat): string | Buffer | null {
  if (v === null) return null;
  return bytes(Buffer.isBuffer(v) ? v : Buffer.from(String(v)), format);
}

function headersOf(h: IHeaders | undefined, format: BytesFormat): Record<string, HeaderValue> {
  const out: Record<string, HeaderValue> = {};
  if (!h) return out;
  for (const name in h) {
    if (!Object.prototype.hasOwnProperty.call(h, name)) continue;
    const v = h[name];
    if (v === undefined) continue;
    // kafkajs gives a header repeated under one name as an array, and a header without a value as null.
    if (Array.isArray(v)) out[name] = v.map((x) => headerValue(x, format));
    else out[name] = headerValue(v, format);
  }
  return out;
}

// msg._msgid as Node-RED makes it (16 hex digits), made here at a fraction of the cost (Node-RED
// draws 8 random bytes per msg): a random 32-bit prefix drawn at start and a 32-bit count; when
// the count wraps the prefix goes up by one. Unique in the process (for 2^64 msgs) and, across
// restarts, as unlikely to repeat as Node-RED's own random ids. The first 14 digits are made
// once per 256 msgs, the last two looked up.
const HEX2 = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
let idHigh = randomBytes(4).readUInt32BE(0);
let idLow = 0;
let idHead = '';
export function nextMsgId(): string {
  if ((idLow & 0xff) === 0) {
    if (idLow > 0xffffffff) {
      idHigh = (idHigh + 1) >>> 0;
      idLow = 0;
    }
    idHead = idHigh.toString(16).padStart(8, '0') + (idLow >>> 8).toString(16).padStart(6, '0');
  }
  return idHead + HEX2[idLow++ & 0xff];
}

// Record timestamps (int64 ms, a decimal string from kafkajs) as numbers: Number() of such a
// string takes V8's slow path, and records of a batch often share their millisecond.
let lastTsText = '';
let lastTs = 0;
function timestampOf(text: string): number {
  if (text === lastTsText) return lastTs;
  const n = text.length;
  let v = 0;
  if (n === 0 || n > 15) v = Number(text);
  else {
    for (let i = 0; i < n; i++) {
      const d = text.charCodeAt(i) - 48;
      if (d < 0 || d > 9) {
        v = Number(text);
        break;
      }
      v = v * 10 + d;
    }
  }
  lastTsText = text;
  lastTs = v;
  return v;
}

type MsgSettings = Pick<ConsumerSettings, 'payloadFormat' | 'keyFormat' | 'headersFormat' | 'groupId'>;

/**
 * The msg for one record. With `token` (the msg a consumer sends) the msg carries it and its
 * `_msgid`, set as the msg is made (one object shape, no property added later); without, the
 * caller sets what it needs.
 */
export function recordToMsg(m: KafkaMessage, topic: string, partition: number, s: MsgSettings, token?: ConsumedToken): ConsumedMsg {
  const key = bytes(m.key, s.keyFormat);
  const headers = headersOf(m.headers, s.headersFormat);
  const timestamp = typeof m.timestamp === 'string' ? timestampOf(m.timestamp) : Number(m.timestamp);
  const offset = m.offset;
  let payload: unknown = null;
  let parseError: ConsumedMsg['parseError'];
  if (m.value !== null && m.value !== undefined) {
    if (s.payloadFormat === 'buffer') payload = m.value;
    else {
      const text = m.value.toString('utf8');
      payload = text;
      if (s.payloadFormat === 'json') {
        try {
          payload = JSON.parse(text);
        } catch (e) {
          parseError = { name: 'JsonParseError', message: (e as Error).message };
        }
      }
    }
  }
  const kafka: KafkaMeta = { topic, partition, offset, timestamp, key, headers, groupId: s.groupId };
  if (token === undefined) {
    const out: ConsumedMsg = { payload, key, topic, partition, offset, timestamp, headers, kafka };
    if (parseError) out.parseError = parseError;
    return out;
  }
  // The fields in the order they had when the token and _msgid were added after.
  if (parseError) return { payload, key, topic, partition, offset, timestamp, headers, kafka, parseError, [TOKEN_PROPERTY]: token, _msgid: nextMsgId() };
  return { payload, key, topic, partition, offset, timestamp, headers, kafka, [TOKEN_PROPERTY]: token, _msgid: nextMsgId() };
}
