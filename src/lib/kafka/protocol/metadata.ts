// The Metadata request (versions 4 to 8) and its response, read without
// throwing on partition errors (kafkajs's parser throws on the first one, so
// one partition without a leader would hide the leaders of all the others).
// Version 7 adds each partition's leader epoch, which tells fresh metadata
// from stale.

import { ApiKey, encoderHolding, type KafkajsProtocolRequest } from './kafkajs';
import { WireReader, WireWriter } from './wire';

export const METADATA_MIN_VERSION = 4;
/** v9 is the first flexible version */
export const METADATA_MAX_VERSION = 8;

export interface BrokerInfo {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

export interface PartitionInfo {
  errorCode: number;
  partition: number;
  /** -1: no leader */
  leader: number;
  /** -1 when the broker does not say (before v7) */
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  offlineReplicas: number[];
}

export interface TopicInfo {
  errorCode: number;
  topic: string;
  partitions: PartitionInfo[];
}

export interface MetadataResponse {
  brokers: BrokerInfo[];
  clusterId: string | null;
  controllerId: number;
  topics: TopicInfo[];
}

export function decodeMetadataResponse(payload: Buffer, version: number): MetadataResponse {
  const r = new WireReader(payload);
  r.int32(); // throttle time
  const brokers = r.array((b) => ({ nodeId: b.int32(), host: b.string() ?? '', port: b.int32(), rack: b.string() }));
  const clusterId = r.string();
  const controllerId = r.int32();
  const topics = r.array((t) => {
    const errorCode = t.int16();
    const topic = t.string() ?? '';
    t.boolean(); // is_internal
    const partitions = t.array((p) => {
      const part: PartitionInfo = {
        errorCode: p.int16(),
        partition: p.int32(),
        leader: p.int32(),
        leaderEpoch: version >= 7 ? p.int32() : -1,
        replicas: p.array((x) => x.int32()),
        isr: p.array((x) => x.int32()),
        offlineReplicas: version >= 5 ? p.array((x) => x.int32()) : [],
      };
      return part;
    });
    if (version >= 8) t.int32(); // topic authorized operations
    return { errorCode, topic, partitions };
  });
  return { brokers, clusterId, controllerId, topics };
}

/** Metadata of `topics` (which the broker creates if it may and allowAutoTopicCreation is set). */
export function metadataRequest(version: number, topics: string[], allowAutoTopicCreation: boolean): KafkajsProtocolRequest {
  let size = 4 + 1;
  for (const t of topics) size += WireWriter.stringSize(t);
  if (version >= 8) size += 2;
  const w = new WireWriter(size).int32(topics.length);
  for (const t of topics) w.string(t);
  w.boolean(allowAutoTopicCreation);
  if (version >= 8) w.boolean(false).boolean(false);
  const encoder = encoderHolding(w.done());
  return {
    request: { apiKey: ApiKey.Metadata, apiVersion: version, apiName: 'Metadata', encode: () => encoder },
    response: { decode: async (payload: Buffer) => decodeMetadataResponse(payload, version), parse: async (d: unknown) => d },
    logResponseError: false,
  };
}
