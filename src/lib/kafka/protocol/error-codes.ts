// Kafka's protocol error codes, with the Java client's names and the two
// facts the producer decides on: whether sending again may succeed
// (RetriableException in the Java client) and whether the error means the
// client's metadata is out of date (InvalidMetadataException). Codes not
// listed here are taken as the Java client takes unknown codes: not retriable.

import { kafkajsErrorMessage } from './kafkajs';

interface ErrorCodeInfo {
  name: string;
  retriable?: boolean;
  invalidMetadata?: boolean;
  /** our own one-line description; else kafkajs's table is asked */
  text?: string;
}

const CODES: Record<number, ErrorCodeInfo> = {
  [-1]: { name: 'UNKNOWN_SERVER_ERROR', text: 'The broker had an unexpected error handling the request' },
  2: { name: 'CORRUPT_MESSAGE', retriable: true, text: 'The broker found the batch corrupt (CRC or size)' },
  3: { name: 'UNKNOWN_TOPIC_OR_PARTITION', retriable: true, invalidMetadata: true, text: 'The broker does not host this topic-partition' },
  5: { name: 'LEADER_NOT_AVAILABLE', retriable: true, invalidMetadata: true, text: 'The partition has no leader: an election is under way' },
  6: { name: 'NOT_LEADER_OR_FOLLOWER', retriable: true, invalidMetadata: true, text: 'The broker is no longer the leader of this partition' },
  7: { name: 'REQUEST_TIMED_OUT', retriable: true, text: 'The broker timed out waiting for the replicas to acknowledge' },
  8: { name: 'BROKER_NOT_AVAILABLE', text: 'The broker is not available' },
  9: { name: 'REPLICA_NOT_AVAILABLE', retriable: true, invalidMetadata: true, text: 'A replica of the partition is not available' },
  10: { name: 'MESSAGE_TOO_LARGE', text: "The batch is larger than the topic's max.message.bytes" },
  13: { name: 'NETWORK_EXCEPTION', retriable: true, invalidMetadata: true, text: 'The connection closed before the broker answered' },
  14: { name: 'COORDINATOR_LOAD_IN_PROGRESS', retriable: true },
  15: { name: 'COORDINATOR_NOT_AVAILABLE', retriable: true },
  16: { name: 'NOT_COORDINATOR', retriable: true },
  17: { name: 'INVALID_TOPIC_EXCEPTION', text: 'The topic name is not valid' },
  18: { name: 'RECORD_LIST_TOO_LARGE', text: "The batch is larger than the broker's segment size" },
  19: { name: 'NOT_ENOUGH_REPLICAS', retriable: true, text: 'Fewer in-sync replicas than min.insync.replicas: the broker refused the write' },
  20: {
    name: 'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
    retriable: true,
    text: 'The leader wrote the batch but fewer in-sync replicas than min.insync.replicas confirmed it',
  },
  21: { name: 'INVALID_REQUIRED_ACKS', text: 'The broker does not accept this acks setting' },
  29: { name: 'TOPIC_AUTHORIZATION_FAILED', text: 'Not authorized to write to this topic' },
  31: { name: 'CLUSTER_AUTHORIZATION_FAILED', text: 'Not authorized for this cluster operation (an idempotent producer needs IdempotentWrite)' },
  32: { name: 'INVALID_TIMESTAMP', text: "A record's timestamp is outside the range the topic accepts" },
  35: { name: 'UNSUPPORTED_VERSION', text: 'The broker does not support this request version' },
  41: { name: 'NOT_CONTROLLER', retriable: true, invalidMetadata: true },
  42: { name: 'INVALID_REQUEST', text: 'The broker found the request malformed' },
  43: { name: 'UNSUPPORTED_FOR_MESSAGE_FORMAT' },
  44: { name: 'POLICY_VIOLATION', text: "The request violates the broker's policy" },
  45: { name: 'OUT_OF_ORDER_SEQUENCE_NUMBER', text: 'The broker received an out of order sequence number' },
  46: { name: 'DUPLICATE_SEQUENCE_NUMBER', text: 'The broker already has a batch with this sequence number' },
  47: { name: 'INVALID_PRODUCER_EPOCH', text: "The producer's epoch is older than the broker's" },
  49: { name: 'INVALID_PRODUCER_ID_MAPPING' },
  51: { name: 'CONCURRENT_TRANSACTIONS', retriable: true },
  53: { name: 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED' },
  56: { name: 'KAFKA_STORAGE_ERROR', retriable: true, invalidMetadata: true, text: 'The broker could not write to its disk' },
  58: { name: 'SASL_AUTHENTICATION_FAILED' },
  59: { name: 'UNKNOWN_PRODUCER_ID', text: 'The broker no longer knows this producer id' },
  74: { name: 'FENCED_LEADER_EPOCH', retriable: true, invalidMetadata: true },
  75: { name: 'UNKNOWN_LEADER_EPOCH', retriable: true },
  76: { name: 'UNSUPPORTED_COMPRESSION_TYPE', text: 'The broker does not accept this compression type for the topic' },
  87: { name: 'INVALID_RECORD', text: 'The broker refused a record of the batch' },
  89: { name: 'THROTTLING_QUOTA_EXCEEDED', retriable: true },
  90: { name: 'PRODUCER_FENCED', text: 'Another producer with the same id fenced this one' },
};

export const ErrorCode = {
  NONE: 0,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  LEADER_NOT_AVAILABLE: 5,
  NOT_LEADER_OR_FOLLOWER: 6,
  REQUEST_TIMED_OUT: 7,
  MESSAGE_TOO_LARGE: 10,
  NETWORK_EXCEPTION: 13,
  INVALID_TOPIC_EXCEPTION: 17,
  RECORD_LIST_TOO_LARGE: 18,
  NOT_ENOUGH_REPLICAS_AFTER_APPEND: 20,
  TOPIC_AUTHORIZATION_FAILED: 29,
  CLUSTER_AUTHORIZATION_FAILED: 31,
  INVALID_TIMESTAMP: 32,
  UNSUPPORTED_VERSION: 35,
  OUT_OF_ORDER_SEQUENCE_NUMBER: 45,
  DUPLICATE_SEQUENCE_NUMBER: 46,
  INVALID_PRODUCER_EPOCH: 47,
  UNKNOWN_PRODUCER_ID: 59,
  INVALID_RECORD: 87,
  PRODUCER_FENCED: 90,
} as const;

/** The Java client's name of an error code ("UNKNOWN_ERROR_CODE_123" when we do not know it). */
export function errorName(code: number): string {
  return CODES[code]?.name ?? `UNKNOWN_ERROR_CODE_${code}`;
}

export function isRetriableCode(code: number): boolean {
  return CODES[code]?.retriable === true;
}

export function isInvalidMetadataCode(code: number): boolean {
  return CODES[code]?.invalidMetadata === true;
}

/**
 * An error code the broker answered with, as an Error: `name` is
 * KafkaProtocolError, `type` the Java name (as kafkajs's errors carry it),
 * `code` the number. The broker's own message, when it sent one, is kept.
 */
export class KafkaProtocolError extends Error {
  readonly type: string;
  readonly code: number;
  readonly retriable: boolean;
  constructor(code: number, brokerMessage?: string | null, context?: string) {
    const info = CODES[code];
    const text = info?.text ?? kafkajsErrorMessage(code) ?? 'Unknown error code';
    const detail = brokerMessage ? `${text} (broker: ${brokerMessage})` : text;
    super(`${errorName(code)}: ${detail}${context ? ` [${context}]` : ''}`);
    this.name = 'KafkaProtocolError';
    this.type = errorName(code);
    this.code = code;
    this.retriable = isRetriableCode(code);
  }
}
