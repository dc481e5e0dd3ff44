// A kafkajs custom partitioner with the Java producer's rules:
//  - a message with an explicit partition keeps it;
//  - a keyed message goes to BuiltInPartitioner.partitionForKey(keyBytes, numPartitions),
//    over ALL partitions of the topic, available or not (as Java does);
//  - a message without key goes to an available partition (leader >= 0), chosen by
//    chooseUnkeyedPartition (round-robin for now; sticky partitioning, KIP-794, later).
// The choice is written back to message.partition, so a retry of the same
// message object (and offset bookkeeping afterwards) sees the same partition.

import type { ICustomPartitioner, Message, PartitionerArgs, PartitionMetadata } from 'kafkajs';
import { murmur2, murmur2String, toPositive } from './murmur2';

/** Per-topic state of the partitioner. */
export interface PartitionerState {
  /** Round-robin counter for messages without key (Java's RoundRobinPartitioner counter). */
  counter: number;
}

/** A fresh per-topic state; the round-robin counter starts at `counter` (default 0). */
export function createPartitionerState(counter = 0): PartitionerState {
  return { counter };
}

/**
 * murmur2 of the key bytes kafkajs puts on the wire: a Buffer as is, anything
 * else as the UTF-8 of String(key) (kafkajs's Encoder.writeVarIntBytes). The
 * producer hands kafkajs Buffer keys, so in practice this is murmur2(buffer).
 */
export function hashMessageKey(key: unknown): number {
  if (Buffer.isBuffer(key)) return murmur2(key);
  if (typeof key === 'string') return murmur2String(key);
  return murmur2String(String(key));
}

/**
 * Partition for a message without key: round-robin over the partitions that
 * have a leader, or over all partitions when none has (Java's
 * RoundRobinPartitioner). Kept apart so that sticky partitioning (KIP-794)
 * can replace it without touching the keyed path.
 */
export function chooseUnkeyedPartition(partitionMetadata: readonly PartitionMetadata[], state: PartitionerState): number {
  const next = state.counter;
  state.counter = (next + 1) | 0;
  let available = 0;
  for (const p of partitionMetadata) if (p.leader >= 0) available++;
  if (available === 0) return toPositive(next) % partitionMetadata.length;
  let index = toPositive(next) % available;
  for (const p of partitionMetadata) {
    if (p.leader >= 0) {
      if (index === 0) return p.partitionId;
      index--;
    }
  }
  /* c8 ignore next */
  throw new Error('unreachable');
}

/**
 * The partition for one message; does not modify the message (createPartitioner does).
 * Throws a RangeError when the topic has no partitions in its metadata.
 */
export function choosePartition(
  message: Pick<Message, 'key' | 'partition'>,
  partitionMetadata: readonly PartitionMetadata[],
  state: PartitionerState,
): number {
  if (message.partition !== null && message.partition !== undefined) return message.partition;
  const numPartitions = partitionMetadata.length;
  if (numPartitions === 0) throw new RangeError('the topic has no partitions in its metadata');
  const key: unknown = message.key;
  if (key !== null && key !== undefined) return toPositive(hashMessageKey(key)) % numPartitions;
  return chooseUnkeyedPartition(partitionMetadata, state);
}

/**
 * kafkajs `createPartitioner`: Java-identical keyed partitioning; stores the
 * choice on the message. Each topic's round-robin counter starts at a random
 * value (as kafkajs's own partitioner does), so that many producers do not all
 * begin on the same partition.
 */
export const createPartitioner: ICustomPartitioner = () => {
  const states = new Map<string, PartitionerState>();
  return ({ topic, partitionMetadata, message }: PartitionerArgs): number => {
    let state = states.get(topic);
    if (state === undefined) {
      state = createPartitionerState(Math.floor(Math.random() * 0x7fffffff));
      states.set(topic, state);
    }
    const partition = choosePartition(message, partitionMetadata, state);
    message.partition = partition;
    return partition;
  };
};
