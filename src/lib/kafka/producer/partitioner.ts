// Picks each record's partition when it is appended, as the Java producer
// does, so records can be batched per partition:
//  - an explicit partition is kept (the accumulator checks it against the count);
//  - a keyed record goes to toPositive(murmur2(key)) % numPartitions;
//  - a record without key sticks to one partition with a leader until
//    batch.size bytes went there, then moves to another (KIP-794, Kafka 3.3+).

import { murmur2Key, toPositive } from '../murmur2';
import type { PartitionInfo } from '../protocol/metadata';

interface StickyState {
  partition: number;
  bytes: number;
}

export class PartitionAssigner {
  private readonly sticky = new Map<string, StickyState>();

  constructor(
    /** batch.size: bytes a sticky partition takes before the next one */
    private readonly stickyBatchSize: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** The record's partition, for a topic whose partitions are known (`partitions` not empty). */
  assign(topic: string, partitions: readonly PartitionInfo[], key: Uint8Array | string | null, explicit: number | undefined, bytes: number): number {
    if (explicit !== undefined) return explicit;
    // A text key hashes as its UTF-8 bytes, without making them.
    if (key !== null) return toPositive(murmur2Key(key)) % partitions.length;
    let s = this.sticky.get(topic);
    if (!s || !this.usable(partitions, s.partition)) {
      s = { partition: this.pick(partitions, -1), bytes: 0 };
      this.sticky.set(topic, s);
    }
    const p = s.partition;
    s.bytes += bytes;
    if (s.bytes >= this.stickyBatchSize) {
      s.partition = this.pick(partitions, p);
      s.bytes = 0;
    }
    return p;
  }

  private usable(partitions: readonly PartitionInfo[], p: number): boolean {
    const info = partitions[p];
    return !!info && (info.leader >= 0 || !partitions.some((x) => x && x.leader >= 0));
  }

  /** A random partition with a leader (any partition when none has one), other than `not` when there is a choice. */
  private pick(partitions: readonly PartitionInfo[], not: number): number {
    const withLeader: number[] = [];
    for (let i = 0; i < partitions.length; i++) if (partitions[i] && partitions[i].leader >= 0) withLeader.push(i);
    const choices = withLeader.length ? withLeader : partitions.map((_, i) => i);
    if (choices.length === 1) return choices[0];
    for (;;) {
      const p = choices[Math.floor(this.random() * choices.length)];
      if (p !== not) return p;
    }
  }
}
