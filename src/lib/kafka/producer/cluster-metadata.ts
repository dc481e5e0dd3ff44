// What the producer knows of the cluster, as the Java client's Metadata: the
// brokers, and for each topic in use its partitions with their leaders. An
// update is asked for when a topic is new, a leader is unknown or an answer
// says the metadata is stale; otherwise every metadata.max.age.ms. Failed
// updates back off (retry.backoff.ms up to retry.backoff.max.ms). A
// partition's leader epoch guards against going back to older metadata from
// a broker that has not caught up.

import { exponentialBackoff, type BackoffPolicy } from '../../common/backoff';
import { ErrorCode } from '../protocol/error-codes';
import type { BrokerInfo, MetadataResponse, PartitionInfo } from '../protocol/metadata';

export interface TopicMetadataState {
  /** the topic's error in the last answer (0: none) */
  errorCode: number;
  /** by partition number; empty while unknown */
  partitions: PartitionInfo[];
  /** when records last used it */
  lastUsedAt: number;
}

export interface ClusterMetadataOptions {
  /** metadata.max.age.ms */
  maxAgeMs?: number;
  /** metadata.max.idle.ms: topics unused for this long are no longer asked about */
  maxIdleMs?: number;
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
}

export class ClusterMetadata {
  private readonly topics = new Map<string, TopicMetadataState>();
  brokers: BrokerInfo[] = [];
  clusterId: string | null = null;
  /** metadata requests started so far; each is numbered by this count */
  requestsStarted = 0;
  /** the number of the latest request whose answer was taken */
  lastAnsweredRequest = 0;
  private updateRequested = true;
  private lastAttemptAt = -Infinity;
  private lastSuccessAt = -Infinity;
  private failures = 0;
  private readonly backoff: BackoffPolicy;
  private readonly maxAgeMs: number;
  private readonly maxIdleMs: number;

  constructor(private readonly options: ClusterMetadataOptions) {
    this.maxAgeMs = options.maxAgeMs ?? 300_000;
    this.maxIdleMs = options.maxIdleMs ?? 300_000;
    this.backoff = exponentialBackoff({ initialMs: options.retryBackoffMs, maxMs: options.retryBackoffMaxMs, jitter: 0.2 });
  }

  /** The topic's state, marking it in use; a topic seen for the first time asks for an update. */
  use(topic: string, now: number): TopicMetadataState {
    let t = this.topics.get(topic);
    if (!t) {
      t = { errorCode: ErrorCode.NONE, partitions: [], lastUsedAt: now };
      this.topics.set(topic, t);
      this.updateRequested = true;
    }
    t.lastUsedAt = now;
    return t;
  }

  get(topic: string): TopicMetadataState | undefined {
    return this.topics.get(topic);
  }

  /** The leader's node id, or -1 when there is none or the partition is unknown. */
  leader(topic: string, partition: number): number {
    return this.topics.get(topic)?.partitions[partition]?.leader ?? -1;
  }

  partitionCount(topic: string): number | undefined {
    const n = this.topics.get(topic)?.partitions.length;
    return n ? n : undefined;
  }

  requestUpdate(): void {
    this.updateRequested = true;
  }

  get updatePending(): boolean {
    return this.updateRequested;
  }

  /** Milliseconds until an update should be sent (0: now). */
  timeToNextUpdate(now: number): number {
    const backoff = this.failures > 0 ? this.backoff.delay(this.failures) : this.options.retryBackoffMs;
    const notBefore = this.lastAttemptAt + backoff;
    if (this.updateRequested) return Math.max(0, notBefore - now);
    return Math.max(0, this.lastSuccessAt + this.maxAgeMs - now, notBefore - now);
  }

  /** The topics to ask about; topics idle for metadata.max.idle.ms are dropped unless `inUse` says otherwise. */
  topicsToFetch(now: number, inUse: (topic: string) => boolean): string[] {
    for (const [name, t] of this.topics) {
      if (now - t.lastUsedAt > this.maxIdleMs && !inUse(name)) this.topics.delete(name);
    }
    return [...this.topics.keys()];
  }

  /** An update is being sent now; returns its number (for update()). */
  attempt(now: number): number {
    this.lastAttemptAt = now;
    this.updateRequested = false;
    return ++this.requestsStarted;
  }

  /** The update failed (no broker answered): ask again after the backoff. */
  failed(now: number): void {
    this.lastAttemptAt = now;
    this.failures++;
    this.updateRequested = true;
  }

  /** Takes the answer to request number `request`. */
  update(answer: MetadataResponse, now: number, request: number): void {
    this.lastSuccessAt = now;
    this.lastAttemptAt = now;
    this.failures = 0;
    this.lastAnsweredRequest = Math.max(this.lastAnsweredRequest, request);
    if (answer.brokers.length) this.brokers = answer.brokers;
    this.clusterId = answer.clusterId;
    for (const topic of answer.topics) {
      const t = this.topics.get(topic.topic);
      if (!t) continue; // not ours (any more)
      t.errorCode = topic.errorCode;
      if (topic.errorCode !== ErrorCode.NONE && topic.partitions.length === 0) {
        // Being created, not yet visible, or refused: keep asking while records wait for it.
        if (topic.errorCode === ErrorCode.LEADER_NOT_AVAILABLE || topic.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) {
          this.updateRequested = true;
        }
        continue;
      }
      const next: PartitionInfo[] = [];
      for (const p of topic.partitions) next[p.partition] = p;
      for (let i = 0; i < next.length; i++) {
        const old = t.partitions[i];
        const fresh = next[i];
        if (!fresh) {
          // A partition missing from the answer: keep what we had (partitions are never removed).
          if (old) next[i] = old;
          this.updateRequested = true;
          continue;
        }
        if (old && old.leaderEpoch >= 0 && fresh.leaderEpoch >= 0 && fresh.leaderEpoch < old.leaderEpoch) {
          // This broker's view is older than one we already had.
          next[i] = old;
          this.updateRequested = true;
        } else if (fresh.leader < 0) this.updateRequested = true;
      }
      // Partitions are never removed: a smaller count is a stale answer.
      for (let i = next.length; i < t.partitions.length; i++) next[i] = t.partitions[i];
      t.partitions = next;
    }
  }
}
