// Reading the cluster's state from tests while brokers are killed, restarted or busy: one rule
// for the answers that asking again cures. kafkajs's admin does not retry all of them (its
// fetchTopicOffsets gives up on LEADER_NOT_AVAILABLE during a leader election; its createTopics
// waitForLeaders on a busy broker's brief UNKNOWN_TOPIC_OR_PARTITION after a creation).
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel, type Admin, type PartitionMetadata } from 'kafkajs';

export function adminClient(brokers: string[]): Admin {
  return new Kafka({ clientId: 'test-admin', brokers, logLevel: logLevel.NOTHING }).admin();
}

/** A kafkajs error that asking again can cure, also when kafkajs's retrier wrapped it. */
export function isRetriable(e: unknown): boolean {
  for (let err = e as { retriable?: boolean; name?: string; cause?: unknown; originalError?: unknown } | undefined; err; err = (err.cause ?? err.originalError) as typeof err) {
    if (err.retriable || err.name === 'KafkaJSNumberOfRetriesExceeded' || err.name === 'KafkaJSConnectionError') return true;
  }
  return false;
}

/**
 * Runs `read` with a connected admin client, again with a new one while the answer is
 * retriable (a leader election, a coordinator moving, a broker that does not know a new topic
 * yet, a seed broker that is down), for up to `timeoutMs`.
 */
export async function readCluster<T>(brokers: string[], read: (a: Admin) => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const a = adminClient(brokers);
    try {
      await a.connect();
      return await read(a);
    } catch (e) {
      if (!isRetriable(e) || Date.now() > deadline) throw e;
    } finally {
      await a.disconnect().catch(() => {});
    }
    await sleep(250);
  }
}

const allLed = (parts: PartitionMetadata[]): boolean => parts.every((p) => p.leader >= 0);

/**
 * The topic's partitions (sorted by id) once `ready` holds for them, by default once every
 * partition has a leader; asks again every 250 ms for up to `timeoutMs`.
 */
export async function waitForPartitions(
  brokers: string[],
  topic: string,
  ready: (parts: PartitionMetadata[]) => boolean = allLed,
  timeoutMs = 30_000,
): Promise<PartitionMetadata[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const md = await readCluster(brokers, (a) => a.fetchTopicMetadata({ topics: [topic] }), Math.max(0, deadline - Date.now()));
    const parts = [...md.topics[0].partitions].sort((a, b) => a.partitionId - b.partitionId);
    if (parts.length > 0 && ready(parts)) return parts;
    if (Date.now() > deadline) throw new Error(`topic ${topic}: partitions not as waited for after ${timeoutMs} ms: ${JSON.stringify(parts)}`);
    await sleep(250);
  }
}

/** The node id leading each partition of a topic (index = partition id), once every partition has one. */
export async function partitionLeaders(brokers: string[], topic: string): Promise<number[]> {
  return (await waitForPartitions(brokers, topic)).map((p) => p.leader);
}
