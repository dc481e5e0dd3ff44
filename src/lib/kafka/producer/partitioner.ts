// Picks each record's partition when it is appended, as the Java producer
// does, so records can be batched per partition:
//  - an explicit partition is kept (and checked once the topic is known);
//  - a keyed record goes to toPositive(murmur2(key)) % numPartitions;
//  - a record without key sticks to one available partition until batch.size
//    bytes went there, then moves to another (KIP-794, Kafka 3.3+), instead of
//    kafkajs's record-by-record round robin that makes tiny batches.
// The partition counts come from the metadata kafkajs hands its partitioner on
// every send, so they follow the topic when it grows. Until a topic has been
// seen once, its records wait unassigned and the kafkajs partitioner places
// them with the same rules.

import type { ICustomPartitioner, PartitionMetadata } from 'kafkajs';
import { murmur2, toPositive } from '../murmur2';
import { RecordError } from '../record';

interface TopicPartitions {
  count: number;
  /** partitions with a leader; all of them when none has */
  available: number[];
  sticky: number;
  stickyBytes: number;
  /** the metadata array last learnt from: kafkajs hands the same one until it refreshes */
  seen?: readonly PartitionMetadata[];
}

export class PartitionAssigner {
  private topics = new Map<string, TopicPartitions>();

  constructor(
    /** batch.size: bytes a sticky partition takes before the next one */
    private readonly stickyBatchSize: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** The partition count last seen for a topic, if any. */
  partitionCount(topic: string): number | undefined {
    return this.topics.get(topic)?.count;
  }

  /** Takes the topic's current partitions from metadata. */
  learn(topic: string, partitionMetadata: readonly PartitionMetadata[]): void {
    const count = partitionMetadata.length;
    if (!count) return;
    const known = this.topics.get(topic);
    if (known && known.seen === partitionMetadata) return;
    const withLeader = partitionMetadata.filter((p) => p.leader >= 0).map((p) => p.partitionId).sort((a, b) => a - b);
    const available = withLeader.length ? withLeader : partitionMetadata.map((p) => p.partitionId).sort((a, b) => a - b);
    const t = known;
    if (!t) {
      this.topics.set(topic, { count, available, sticky: this.pick(available, -1), stickyBytes: 0, seen: partitionMetadata });
      return;
    }
    t.seen = partitionMetadata;
    // Partitions are never removed: a smaller count is stale metadata.
    t.count = Math.max(t.count, count);
    t.available = available;
    if (!available.includes(t.sticky)) {
      t.sticky = this.pick(available, t.sticky);
      t.stickyBytes = 0;
    }
  }

  private pick(available: number[], not: number): number {
    if (available.length === 1) return available[0];
    for (;;) {
      const p = available[Math.floor(this.random() * available.length)];
      if (p !== not) return p;
    }
  }

  /**
   * A fresher count from elsewhere (an admin metadata request): the topic
   * grew. kafkajs's own metadata catches up when its partitioner meets a
   * partition it does not know yet (see kafkajsPartitioner).
   */
  raiseCount(topic: string, count: number): void {
    const t = this.topics.get(topic);
    if (t) t.count = Math.max(t.count, count);
  }

  /**
   * The record's partition, or undefined while the topic's metadata is not
   * known. `bytes` counts towards the sticky partition's batch.
   */
  assign(topic: string, key: Uint8Array | null, explicit: number | undefined, bytes: number): number | undefined {
    const t = this.topics.get(topic);
    if (explicit !== undefined) {
      if (t && explicit >= t.count) {
        throw new RecordError(`Invalid partition given with record: ${explicit} is not in the range [0...${t.count}) of topic "${topic}"`);
      }
      return explicit;
    }
    if (!t) return undefined;
    if (key) return toPositive(murmur2(key)) % t.count;
    const p = t.sticky;
    t.stickyBytes += bytes;
    if (t.stickyBytes >= this.stickyBatchSize) {
      t.sticky = this.pick(t.available, p);
      t.stickyBytes = 0;
    }
    return p;
  }

  /**
   * kafkajs partitioner for records sent before their topic was known: learns
   * the metadata, applies the same rules, and writes the choice back onto the
   * message so a retry keeps it.
   */
  kafkajsPartitioner(): ICustomPartitioner {
    return () => ({ topic, partitionMetadata, message }) => {
      this.learn(topic, partitionMetadata);
      const explicit = message.partition ?? undefined;
      if (explicit !== undefined && (explicit < 0 || explicit >= partitionMetadata.length)) {
        if (explicit >= 0 && explicit < (this.partitionCount(topic) ?? 0)) {
          // We know the topic grew; kafkajs's metadata is behind. This error
          // type makes kafkajs refresh its metadata and try again.
          throw staleMetadata(topic, explicit, partitionMetadata.length);
        }
        throw new RecordError(
          `Invalid partition given with record: ${explicit} is not in the range [0...${partitionMetadata.length}) of topic "${topic}"`,
        );
      }
      const key = message.key == null ? null : Buffer.isBuffer(message.key) ? message.key : Buffer.from(String(message.key));
      const size = (message.value ? message.value.length : 0) + (key ? key.length : 0);
      const p = this.assign(topic, key, explicit, size)!;
      message.partition = p;
      return p;
    };
  }
}

function staleMetadata(topic: string, partition: number, known: number): Error {
  const e = new Error(`Metadata for topic "${topic}" lists ${known} partitions, not yet partition ${partition}: refreshing`) as Error & {
    type: string;
    retriable: boolean;
  };
  e.name = 'KafkaJSProtocolError';
  e.type = 'UNKNOWN_TOPIC_OR_PARTITION';
  e.retriable = true;
  return e;
}
