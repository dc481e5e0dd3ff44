// Partition counts of topics, read from the broker through a kafkajs admin
// client and cached per topic, as the Java producer keeps its metadata:
//
//  - a count is kept for metadata.max.age.ms (default 5 minutes); after that the
//    next lookup still answers at once with the count it has and refreshes it in
//    the background (the Java producer also goes on with the metadata it has
//    while it asks for newer);
//  - refresh(topic) asks the broker again now, e.g. on demand or when a record
//    revealed that the topic has more partitions (observePartitionCount);
//  - concurrent lookups of one topic share one request;
//  - an unknown topic fails with UnknownTopicError, and any failure is remembered
//    for retryBackoffMs, so a flood of lookups does not become a flood of requests;
//  - nothing this cache starts can end in an unhandled rejection;
//  - close() disconnects the admin client; lookups after it fail.
//
// The admin never creates topics (kafkajs admin clients send
// allowAutoTopicCreation=false), so asking about a topic is harmless.

import { boundedDelay } from '../common/timers';
import { rootCause } from './errors';
import { topicNameProblem } from './record';

/** Java's metadata.max.age.ms default. */
export const DEFAULT_METADATA_MAX_AGE_MS = 300_000;
/** How long a failed lookup is answered from memory before the broker is asked again. */
export const DEFAULT_RETRY_BACKOFF_MS = 1_000;
/** Topics remembered at most (idle ones are forgotten beyond this). */
const MAX_TOPICS = 10_000;
/** close() waits at most this long for the admin client to disconnect. */
const CLOSE_TIMEOUT_MS = 5_000;

/** The part of a kafkajs Admin this cache uses. */
export interface MetadataAdmin {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  fetchTopicMetadata(options: { topics: string[] }): Promise<{ topics: Array<{ name: string; partitions: readonly unknown[] }> }>;
}

export interface TopicMetadataOptions {
  /** How long a partition count is taken as current (Java: metadata.max.age.ms). Default 300000. */
  metadataMaxAgeMs?: number;
  /** After a failed lookup, answer with the same error for this long. Default 1000. */
  retryBackoffMs?: number;
  /** The clock, for tests. */
  now?: () => number;
  /** Called when a topic's count is read and differs from the one known before (previous undefined on first read). */
  onChange?: (topic: string, count: number, previous: number | undefined) => void;
  /** Called when a request fails, also one a lookup waits for (which gets the error too). */
  onError?: (topic: string, err: Error) => void;
}

export interface LookupOptions {
  /** Overrides the cache's metadata max age for this lookup. */
  maxAgeMs?: number;
  /** Ask the broker now, whatever the cache holds. */
  refresh?: boolean;
}

/** The topic does not exist on the broker (or this client may not see it). */
export class UnknownTopicError extends Error {
  readonly topic: string;
  constructor(topic: string, cause?: unknown) {
    super(`Topic "${topic}" does not exist on the Kafka broker: create it, or check the name`, cause === undefined ? undefined : { cause });
    this.name = 'UnknownTopicError';
    this.topic = topic;
  }
}

/** The partition count could not be read (broker unreachable, not authorised, closed, ...). */
export class TopicMetadataError extends Error {
  readonly topic: string;
  constructor(topic: string, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'TopicMetadataError';
    this.topic = topic;
  }
}

interface Entry {
  /** Last count read; undefined until the first successful read (or after the topic vanished). */
  count: number | undefined;
  /** When `count` was read. */
  fetchedAt: number;
  /** The request under way, if any. */
  inflight: Promise<number> | undefined;
  /** Whether `inflight` has gone to the broker (before that, a refresh can still join it). */
  inflightSent: boolean;
  /** A forced refresh waiting for `inflight` to finish, shared by concurrent refresh() calls. */
  queued: Promise<number> | undefined;
  /** The last failure and when it happened, answered again for retryBackoffMs. */
  error: Error | undefined;
  failedAt: number;
}

const noop = (): void => {};

/**
 * The partition count of `topic` from a metadata answer, or an UnknownTopicError.
 * A topic that exists always has at least one partition.
 */
function countFrom(topic: string, answer: Awaited<ReturnType<MetadataAdmin['fetchTopicMetadata']>>): number {
  const found = answer.topics.find((t) => t.name === topic);
  if (!found || found.partitions.length === 0) throw new UnknownTopicError(topic);
  return found.partitions.length;
}

/** A kafkajs failure as one of our errors, with the broker's reason in the message. */
function describeFailure(topic: string, err: unknown): Error {
  if (err instanceof UnknownTopicError || err instanceof TopicMetadataError) return err;
  const root = rootCause(err) as { name?: string; type?: string; message?: string } | undefined;
  const type = root?.type ?? (err as { type?: string })?.type;
  if (type === 'UNKNOWN_TOPIC_OR_PARTITION') return new UnknownTopicError(topic, err);
  const reason = root?.message ?? (err as Error)?.message ?? String(err);
  return new TopicMetadataError(topic, `Cannot read the partition count of topic "${topic}" from the Kafka broker: ${reason}`, err);
}

export class TopicMetadataCache {
  private readonly entries = new Map<string, Entry>();
  private readonly createAdmin: () => MetadataAdmin;
  private readonly maxAgeMs: number;
  private readonly retryBackoffMs: number;
  private readonly now: () => number;
  private readonly onChange?: TopicMetadataOptions['onChange'];
  private readonly onError?: TopicMetadataOptions['onError'];
  private connecting: Promise<MetadataAdmin> | undefined;
  private closed = false;
  /** Metadata requests sent to the broker so far (for tests and diagnostics). */
  requests = 0;

  /**
   * `createAdmin` is called on the first lookup (and again after a failed connect),
   * e.g. `() => kafka.admin()`. It may throw: the lookup then fails with its message.
   */
  constructor(createAdmin: () => MetadataAdmin, options: TopicMetadataOptions = {}) {
    this.createAdmin = createAdmin;
    this.maxAgeMs = options.metadataMaxAgeMs ?? DEFAULT_METADATA_MAX_AGE_MS;
    this.retryBackoffMs = options.retryBackoffMs ?? DEFAULT_RETRY_BACKOFF_MS;
    this.now = options.now ?? Date.now;
    this.onChange = options.onChange;
    this.onError = options.onError;
    if (!(this.maxAgeMs >= 0)) throw new RangeError(`metadataMaxAgeMs must be 0 or more, got ${options.metadataMaxAgeMs}`);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * The count held for `topic`, without waiting: undefined when none is known yet
   * (call partitionCount). A count older than the max age is still returned, and
   * a refresh starts in the background.
   */
  cachedPartitionCount(topic: string, maxAgeMs = this.maxAgeMs): number | undefined {
    const entry = this.entries.get(topic);
    if (entry === undefined || entry.count === undefined) return undefined;
    if (this.now() - entry.fetchedAt >= maxAgeMs) this.refreshInBackground(topic, entry);
    return entry.count;
  }

  /** The partition count of `topic`, from the cache when known (see cachedPartitionCount), else from the broker. */
  partitionCount(topic: string, options: LookupOptions = {}): Promise<number> {
    if (this.closed) return Promise.reject(this.closedError(topic));
    if (options.refresh) return this.refresh(topic);
    const cached = this.cachedPartitionCount(topic, options.maxAgeMs ?? this.maxAgeMs);
    if (cached !== undefined) return Promise.resolve(cached);
    const entry = this.entry(topic);
    if (entry.inflight) return entry.inflight;
    if (entry.error && this.now() - entry.failedAt < this.retryBackoffMs) return Promise.reject(entry.error);
    return this.fetch(topic, entry);
  }

  /**
   * Reads the count from the broker with a request that starts after this call
   * (one already under way may predate a change, so it is waited for, then
   * asked again). Concurrent calls share the request.
   */
  refresh(topic: string): Promise<number> {
    if (this.closed) return Promise.reject(this.closedError(topic));
    const entry = this.entry(topic);
    if (!entry.inflight) return this.fetch(topic, entry);
    if (!entry.inflightSent) return entry.inflight; // not asked yet: its answer is new enough
    if (!entry.queued) {
      const queued = entry.inflight.then(noop, noop).then(() => {
        entry.queued = undefined;
        if (this.closed) throw this.closedError(topic);
        return entry.inflight ?? this.fetch(topic, entry);
      });
      queued.catch(noop);
      entry.queued = queued;
    }
    return entry.queued;
  }

  /**
   * Tells the cache that `topic` has at least `count` partitions (e.g. a record
   * was written to partition count - 1). When that is more than it knows, it
   * refreshes in the background.
   */
  observePartitionCount(topic: string, count: number): void {
    if (this.closed) return;
    const entry = this.entries.get(topic);
    if (entry && entry.count !== undefined && count > entry.count) {
      this.refresh(topic).catch(noop); // failures go to onError through fetch
    }
  }

  /** Forgets a topic's count; the next lookup asks the broker. */
  invalidate(topic: string): void {
    const entry = this.entries.get(topic);
    if (entry) {
      entry.count = undefined;
      entry.error = undefined;
    }
  }

  /** Disconnects the admin client; lookups under way and later ones fail with TopicMetadataError. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const connecting = this.connecting;
    this.connecting = undefined;
    this.entries.clear();
    if (!connecting) return;
    // Disconnect once connected (a connect under way is let finish, or its socket would stay open).
    const disconnected = connecting.then((admin) => admin.disconnect()).catch(noop);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      disconnected,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, boundedDelay(CLOSE_TIMEOUT_MS));
        timer.unref?.();
      }),
    ]);
    clearTimeout(timer);
  }

  // -------------------------------------------------------------------------

  private entry(topic: string): Entry {
    let entry = this.entries.get(topic);
    if (entry === undefined) {
      if (this.entries.size >= MAX_TOPICS) {
        // Many topics from msg.topic (typos included): forget the idle ones.
        for (const [name, e] of this.entries) if (!e.inflight && !e.queued) this.entries.delete(name);
      }
      entry = { count: undefined, fetchedAt: 0, inflight: undefined, inflightSent: false, queued: undefined, error: undefined, failedAt: 0 };
      this.entries.set(topic, entry);
    }
    return entry;
  }

  private closedError(topic: string): TopicMetadataError {
    return new TopicMetadataError(topic, `Cannot read the partition count of topic "${topic}": the Kafka broker connection is closed`);
  }

  private refreshInBackground(topic: string, entry: Entry): void {
    if (this.closed || entry.inflight) return;
    if (entry.error && this.now() - entry.failedAt < this.retryBackoffMs) return;
    this.fetch(topic, entry).catch(noop); // failures go to onError through fetch
  }

  private connectedAdmin(): Promise<MetadataAdmin> {
    if (this.closed) return Promise.reject(new Error('closed'));
    if (!this.connecting) {
      const connecting = (async () => {
        const admin = this.createAdmin();
        try {
          await admin.connect();
        } catch (e) {
          admin.disconnect().catch(noop);
          throw e;
        }
        return admin;
      })();
      this.connecting = connecting;
      // A failed connect is tried again by the next request.
      connecting.catch(() => {
        if (this.connecting === connecting) this.connecting = undefined;
      });
    }
    return this.connecting;
  }

  private fetch(topic: string, entry: Entry): Promise<number> {
    const problem = topicNameProblem(topic);
    if (problem) return Promise.reject(new TopicMetadataError(topic, problem));
    const request = (async () => {
      const admin = await this.connectedAdmin();
      if (this.closed) throw this.closedError(topic);
      entry.inflightSent = true;
      this.requests++;
      return countFrom(topic, await admin.fetchTopicMetadata({ topics: [topic] }));
    })();
    const settled = request.then(
      (count) => {
        if (entry.inflight === settled) entry.inflight = undefined;
        if (this.closed) throw this.closedError(topic); // lookups under way at close() fail too
        const previous = entry.count;
        entry.count = count;
        entry.fetchedAt = this.now();
        entry.error = undefined;
        if (previous !== count) this.safely(() => this.onChange?.(topic, count, previous));
        return count;
      },
      (err: unknown) => {
        if (entry.inflight === settled) entry.inflight = undefined;
        const error = this.closed ? this.closedError(topic) : describeFailure(topic, err);
        if (!this.closed) {
          entry.error = error;
          entry.failedAt = this.now();
          // A topic that is gone has no count any more; other failures keep the last one.
          if (error instanceof UnknownTopicError) entry.count = undefined;
          this.safely(() => this.onError?.(topic, error));
        }
        throw error;
      },
    );
    settled.catch(noop); // callers see the rejection; an unobserved background refresh must not be "unhandled"
    entry.inflight = settled;
    entry.inflightSent = false;
    return settled;
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch {
      // a listener's mistake must not break the cache
    }
  }
}
