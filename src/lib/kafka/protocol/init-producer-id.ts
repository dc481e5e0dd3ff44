// InitProducerId (versions 0 and 1), without a transactional id: the
// idempotent producer's id and epoch, from any broker.

import { ApiKey, encoderHolding, type KafkajsProtocolRequest } from './kafkajs';
import { WireReader, WireWriter } from './wire';

export const INIT_PRODUCER_ID_MAX_VERSION = 1;

export interface InitProducerIdResponse {
  errorCode: number;
  producerId: bigint;
  producerEpoch: number;
  throttleTimeMs: number;
}

export function decodeInitProducerIdResponse(payload: Buffer): InitProducerIdResponse {
  const r = new WireReader(payload);
  const throttleTimeMs = r.int32();
  const errorCode = r.int16();
  return { throttleTimeMs, errorCode, producerId: r.int64(), producerEpoch: r.int16() };
}

export function initProducerIdRequest(version: number): KafkajsProtocolRequest {
  // transactional_id null; transaction timeout as the Java idempotent producer sends it
  const body = new WireWriter(2 + 4).string(null).int32(2147483647).done();
  return {
    request: { apiKey: ApiKey.InitProducerId, apiVersion: version, apiName: 'InitProducerId', encode: () => encoderHolding(body) },
    response: { decode: async (payload: Buffer) => decodeInitProducerIdResponse(payload), parse: async (d: unknown) => d },
    logResponseError: false,
  };
}

