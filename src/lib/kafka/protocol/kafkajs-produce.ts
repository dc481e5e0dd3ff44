// Lets kafkajs send our records in the Produce request record-batch.ts writes,
// instead of encoding them itself. kafkajs keeps every other job: connections,
// metadata, SASL/TLS, the idempotent producer's id, epoch and sequence numbers,
// its request queue and the decoding of the answer.
//
// How: kafkajs picks a Produce request version per broker through
// `requests.Produce.protocol({ version })` on every send. That one function is
// wrapped: a request whose messages are ours (they carry OUR_MESSAGE) gets
// record-batch.ts's encode(); any other request (another node's, or anything
// kafkajs sends for someone else sharing this kafkajs copy) is left untouched.

import type { Message } from 'kafkajs';
import { encodeProduceRequest, type BatchRecord, type Compress } from './record-batch';

/** Marks a kafkajs message built by this package (a plain property: it survives kafkajs's grouping). */
export const OUR_MESSAGE = Symbol.for('streamsafe.message');

/** A kafkajs message carrying what record-batch.ts needs, ready to encode. */
export interface OurMessage extends Message {
  [OUR_MESSAGE]: BatchRecord;
}

export function ourMessage(m: Message, record: BatchRecord): OurMessage {
  (m as OurMessage)[OUR_MESSAGE] = record;
  return m as OurMessage;
}

interface KafkajsPartitionData {
  partition: number;
  firstSequence?: number;
  messages: Array<Message & { [OUR_MESSAGE]?: BatchRecord }>;
}
interface KafkajsProduceArgs {
  acks: number;
  timeout: number;
  compression?: number;
  transactionalId?: string | null;
  producerId?: unknown;
  producerEpoch?: number;
  topicData: Array<{ topic: string; partitions: KafkajsPartitionData[] }>;
}
type Versioned = (args: KafkajsProduceArgs) => { request: { apiVersion: number; encode: () => Promise<unknown> } };

const INSTALLED = Symbol.for('streamsafe.kafkajsProduce');
/** the kafkajs version whose Produce request and encoder record-batch.ts matches byte for byte */
export const TESTED_KAFKAJS = '2.2.4';

function isOurs(args: KafkajsProduceArgs): boolean {
  for (const t of args.topicData) for (const p of t.partitions) for (const m of p.messages) if (!m[OUR_MESSAGE]) return false;
  return args.topicData.length > 0;
}

/** kafkajs's producer id as it passes it (a decimal string from InitProducerId, a number, a Long, a bigint) as a bigint. */
function toBigInt(v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(v);
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
  if (v && typeof v === 'object' && typeof (v as { value?: unknown }).value === 'bigint') return (v as { value: bigint }).value;
  return -1n;
}

/**
 * Wraps the Produce request of the kafkajs copy this package loads. Idempotent:
 * a second call (or a second copy of this module) finds it installed.
 */
export function installProduceEncoder(): boolean {
  /* eslint-disable @typescript-eslint/no-require-imports */
  // Only onto the kafkajs whose internals this was written and tested against; any
  // other version keeps its own encoder (slower, equally correct).
  if ((require('kafkajs/package.json') as { version: string }).version !== TESTED_KAFKAJS) return false;
  const { lookupCodec } = require('kafkajs/src/protocol/message/compression') as {
    lookupCodec(type: number): { compress(encoder: { buffer: Buffer }): Promise<Buffer> };
  };
  const produce = require('kafkajs/src/protocol/requests/produce') as { protocol: (o: { version: number }) => Versioned } & Record<symbol, boolean>;
  if (produce[INSTALLED]) return true;
  const Encoder = require('kafkajs/src/protocol/encoder') as new (size?: number) => { buf: Buffer; offset: number };
  /* eslint-enable @typescript-eslint/no-require-imports */
  // The codecs registered in kafkajs (codecs.ts), which report sizes to the compression observer.
  const compress: Compress = (type, records) => lookupCodec(type).compress({ buffer: records });
  const original = produce.protocol;
  produce.protocol = (o: { version: number }) => {
    const build = original(o);
    // Versions 3 to 8 share one request body (record batches, magic 2); older ones are kafkajs's alone.
    if (o.version < 3) return build;
    return (args: KafkajsProduceArgs) => {
      const built = build(args);
      if (!isOurs(args)) return built;
      built.request.encode = async () => {
        const bytes = await encodeProduceRequest(
          {
            transactionalId: args.transactionalId ?? null,
            acks: args.acks,
            timeout: args.timeout,
            compression: args.compression ?? 0,
            producerId: toBigInt(args.producerId),
            producerEpoch: args.producerEpoch ?? 0,
            topics: args.topicData.map((t) => ({
              topic: t.topic,
              partitions: t.partitions.map((p) => ({
                partition: p.partition,
                firstSequence: p.firstSequence,
                records: p.messages.map((m) => m[OUR_MESSAGE] as BatchRecord),
              })),
            })),
          },
          compress,
        );
        // kafkajs frames the request around an Encoder: hand it one holding our bytes.
        const e = new Encoder(0);
        e.buf = bytes;
        e.offset = bytes.length;
        return e;
      };
      return built;
    };
  };
  Object.defineProperty(produce, INSTALLED, { value: true });
  return true;
}
