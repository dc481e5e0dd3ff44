// The Produce request (versions 3 to 8: record batches, magic 2) and its
// response, read per partition. kafkajs's own parser throws on the first
// partition error and drops the rest of the answer; here every partition's
// outcome, the broker's error message and the per-record errors of v8
// (KIP-467) reach the sender.

import { encodeProduceRequestBody, type ProduceRequestBody } from './record-batch';
import { ApiKey, encoderHolding, type KafkajsProtocolRequest } from './kafkajs';
import { WireReader } from './wire';

/** The highest Produce version written here (v9 is the first flexible one). */
export const PRODUCE_MAX_VERSION = 8;
export const PRODUCE_MIN_VERSION = 3;

export interface RecordErrorInfo {
  /** index of the record in its batch */
  batchIndex: number;
  message: string | null;
}

export interface PartitionProduceResponse {
  topic: string;
  partition: number;
  errorCode: number;
  /** offset of the batch's first record, -1 when none */
  baseOffset: bigint;
  /** the broker's append time for LogAppendTime topics, else -1 */
  logAppendTimeMs: bigint;
  logStartOffset: bigint;
  recordErrors: RecordErrorInfo[];
  errorMessage: string | null;
}

export interface ProduceResponse {
  partitions: PartitionProduceResponse[];
  throttleTimeMs: number;
}

export function decodeProduceResponse(payload: Buffer, version: number): ProduceResponse {
  const r = new WireReader(payload);
  const partitions: PartitionProduceResponse[] = [];
  r.array((t) => {
    const topic = t.string() ?? '';
    t.array((p) => {
      const partition = p.int32();
      const errorCode = p.int16();
      const baseOffset = p.int64();
      const logAppendTimeMs = version >= 2 ? p.int64() : -1n;
      const logStartOffset = version >= 5 ? p.int64() : -1n;
      let recordErrors: RecordErrorInfo[] = [];
      let errorMessage: string | null = null;
      if (version >= 8) {
        recordErrors = p.array((e) => ({ batchIndex: e.int32(), message: e.string() }));
        errorMessage = p.string();
      }
      partitions.push({ topic, partition, errorCode, baseOffset, logAppendTimeMs, logStartOffset, recordErrors, errorMessage });
    });
  });
  const throttleTimeMs = version >= 1 ? r.int32() : 0;
  return { partitions, throttleTimeMs };
}

/**
 * A Produce request for kafkajs's connection to frame and send. With acks 0
 * the broker sends no answer: kafkajs then resolves once it wrote the bytes.
 * `requestTimeoutMs` is how long the connection waits for the answer.
 */
export function produceRequest(version: number, body: ProduceRequestBody, requestTimeoutMs: number): KafkajsProtocolRequest {
  // Written now, so that every request of a broker reaches kafkajs's queue in
  // the order the sender made them (encode() returns at once, for all alike).
  const encoder = encoderHolding(encodeProduceRequestBody(body));
  const expectResponse = body.acks !== 0;
  return {
    request: {
      apiKey: ApiKey.Produce,
      apiVersion: version,
      apiName: 'Produce',
      encode: () => encoder,
      expectResponse: () => expectResponse,
    },
    response: {
      decode: async (payload: Buffer) => {
        const decoded = decodeProduceResponse(payload, version);
        // kafkajs throttles the connection by this field (KIP-219: the client waits from v6 on).
        return Object.assign(decoded, { clientSideThrottleTime: version >= 6 ? decoded.throttleTimeMs : 0 });
      },
      parse: async (decoded: unknown) => decoded,
    },
    requestTimeout: requestTimeoutMs,
    logResponseError: false,
  };
}
