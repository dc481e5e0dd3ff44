// A Kafka record → the msg a consumer node sends: payload, key and headers decoded as set,
// the record's metadata on the msg and in msg.kafka, and the hidden finish token.
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
  for (const [name, v] of Object.entries(h)) {
    if (v === undefined) continue;
    // kafkajs gives a header repeated under one name as an array, and a header without a value as null.
    if (Array.isArray(v)) out[name] = v.map((x) => headerValue(x, format));
    else out[name] = headerValue(v, format);
  }
  return out;
}

/** The msg for one record; `token` is set by the caller (it depends on the partition's generation). */
export function recordToMsg(m: KafkaMessage, topic: string, partition: number, s: Pick<ConsumerSettings, 'payloadFormat' | 'keyFormat' | 'headersFormat' | 'groupId'>): ConsumedMsg {
  const key = bytes(m.key, s.keyFormat);
  const headers = headersOf(m.headers, s.headersFormat);
  const timestamp = Number(m.timestamp);
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
  const kafka: KafkaMeta = { topic, partition, offset: m.offset, timestamp, key, headers, groupId: s.groupId };
  const out: ConsumedMsg = { payload, key, topic, partition, offset: m.offset, timestamp, headers, kafka };
  if (parseError) out.parseError = parseError;
  return out;
}
