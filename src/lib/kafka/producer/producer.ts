// The producer: what the Node-RED node talks to. It takes records at once,
// even before any broker is reachable: they wait (bounded by buffer.memory)
// and are sent when one is, or fail at delivery.timeout.ms. Each record
// settles exactly once, through one of its two callbacks.
//
// From an option in the dialog to the bytes on the wire: config.ts (options,
// presets, checks) → this file (wiring) → accumulator.ts (batches per
// partition) → sender.ts (requests per broker, retries, idempotence.ts) →
// ../protocol/transport.ts (Produce request, record-batch.ts for the bytes)
// → ../protocol/network.ts (connections) → kafkajs (sockets, SASL, TLS).

import { systemClock, type Clock } from '../../common/clock';
import { codecId, compress, ready as codecsReady } from '../codecs';
import { bufferExhaustedNoStack, describeError as describe, producerClosed, recordTooLarge } from '../errors';
import { boundedDelay } from '../../common/timers';
import { checkKafkajsVersion, type ConnectionSettings } from '../protocol/kafkajs';
import { KafkaNetwork } from '../protocol/network';
import { encodeRecordBatch } from '../protocol/record-batch';
import { KafkaTransport } from '../protocol/transport';
import type { ProducerRecord } from '../record';
import { RecordAccumulator } from './accumulator';
import { BufferPool } from './buffer-pool';
import { ClusterMetadata } from './cluster-metadata';
import { acksNumber, type ProducerOptions } from './config';
import { IdempotenceManager } from './idempotence';
import { ProducerMetrics, type ProducerMetricsSnapshot } from './metrics';
import { PartitionAssigner } from './partitioner';
import type { PendingRecord, RecordMetadata } from './producer-batch';
import { Sender, type BatchEncoder, type SenderTransport } from './sender';

export type { RecordMetadata } from './producer-batch';

export type ConnectionState = 'connecting' | 'connected' | 'disconnected' | 'error' | 'closed';

export interface ProducerHooks {
  /** the connection state changed; detail says why (the last error) */
  onState?(state: ConnectionState, detail?: string): void;
  /** a bug surfaced inside the producer (to the log) */
  onInternalError?(err: Error): void;
  /** something the user must know that is not about one record (e.g. an untested kafkajs version) */
  onProblem?(message: string): void;
}

/** What the producer holds now: taken, not yet acknowledged or failed. */
export interface HeldRecords {
  /** records taken and not settled (queued, in flight, waiting for metadata or for buffer room) */
  records: number;
  /** buffer.memory bytes they hold */
  bytes: number;
  /** buffer.memory */
  bufferMemory: number;
  /** ms since the oldest of them was taken (0: none) */
  oldestAgeMs: number;
  /** partitions with queued records whose leader is unknown or unreachable (topics waiting for metadata count one each) */
  unavailablePartitions: number;
  /** Produce requests are held back (see KafkaProducer.hold) */
  holding: boolean;
}

export interface ProducerRuntime {
  clock?: Clock;
  /** metrics window (ms); the Java client's is 2 × 30 s */
  metricsWindowMs?: number;
  /** reconnect.backoff.ms / reconnect.backoff.max.ms (Java defaults 50 / 1000) */
  reconnectBackoffMs?: number;
  reconnectBackoffMaxMs?: number;
  /** metadata.max.age.ms (Java default 5 minutes) */
  metadataMaxAgeMs?: number;
  /** a transport instead of the network (unit tests) */
  transport?: SenderTransport;
}

export interface CloseOptions {
  /**
   * Keep sending for the whole timeout even while no broker is reachable
   * (a producer handed over on a redeploy drains what it holds, bounded by
   * delivery.timeout.ms), and keep the records waiting for buffer room.
   */
  drain?: boolean;
}

export class KafkaProducer {
  readonly metrics: ProducerMetrics;
  readonly metadata: ClusterMetadata;
  readonly pool: BufferPool;
  readonly accumulator: RecordAccumulator;
  readonly sender: Sender;
  readonly idempotence: IdempotenceManager | undefined;
  private readonly network: KafkaNetwork | undefined;
  private readonly transport: SenderTransport;
  private readonly clock: Clock;
  private state: ConnectionState = 'connecting';
  private closing = false;
  private closed: Promise<number> | undefined;
  /** records taken and not settled */
  private heldCount = 0;

  constructor(
    connection: ConnectionSettings,
    readonly options: ProducerOptions,
    private hooks: ProducerHooks = {},
    runtime: ProducerRuntime = {},
  ) {
    const clock = (this.clock = runtime.clock ?? systemClock);
    checkKafkajsVersion((message) => hooks.onProblem?.(message));
    this.metrics = new ProducerMetrics(clock, runtime.metricsWindowMs);
    this.metadata = new ClusterMetadata({
      maxAgeMs: runtime.metadataMaxAgeMs,
      retryBackoffMs: options.retryBackoffMs,
      retryBackoffMaxMs: options.retryBackoffMaxMs,
    });
    this.pool = new BufferPool(options.bufferMemory, options.maxBlockMs, clock);
    const codec = codecId(options.compression);
    this.accumulator = new RecordAccumulator(
      {
        batchSize: options.batchSize,
        lingerMs: options.lingerMs,
        deliveryTimeoutMs: options.deliveryTimeoutMs,
        maxBlockMs: options.maxBlockMs,
        compressed: codec !== 0,
      },
      clock,
      this.pool,
      this.metadata,
      new PartitionAssigner(Math.max(1, options.batchSize)),
      () => this.sender.wake(),
      (ok) => {
        this.heldCount--;
        if (!ok) this.metrics.recordsFailed(1);
      },
    );
    this.idempotence = options.idempotence ? new IdempotenceManager() : undefined;
    let transport = runtime.transport;
    if (!transport) {
      this.network = new KafkaNetwork(connection, {
        clock,
        reconnectBackoffMs: runtime.reconnectBackoffMs,
        reconnectBackoffMaxMs: runtime.reconnectBackoffMaxMs,
        events: {
          onNodeReady: () => this.sender.wake(),
          onNodeFailed: (node, err) => this.sender.nodeFailed(node, err),
          onFatal: (err) => {
            const e = new Error(`Authentication failed: ${describe(err)}`);
            e.name = 'KafkaJSSASLAuthenticationError';
            this.sender.setFatal(e);
          },
        },
      });
      transport = new KafkaTransport(this.network, options.requestTimeoutMs);
    }
    this.transport = transport;
    const encode: BatchEncoder = (batch, state) =>
      encodeRecordBatch(
        batch.records.map((p) => p.record),
        codec,
        state,
        compress,
      );
    this.sender = new Sender(
      this.accumulator,
      this.metadata,
      transport,
      encode,
      {
        acks: acksNumber(options.acks),
        maxInFlight: options.maxInFlight,
        maxRequestSize: options.maxRequestSize,
        requestTimeoutMs: options.requestTimeoutMs,
        retries: options.retries,
        retryBackoffMs: options.retryBackoffMs,
        retryBackoffMaxMs: options.retryBackoffMaxMs,
        deliveryTimeoutMs: options.deliveryTimeoutMs,
      },
      clock,
      this.idempotence,
      {
        onRequestDone: (_node, latencyMs, records) => this.metrics.request(records, latencyMs),
        onBatchWritten: (b) => this.metrics.recordsSent(b.count, b.recordBytes),
        onBatchEncoded: (_b, wire, uncompressed) => {
          this.metrics.batch(wire);
          if (codec !== 0) this.metrics.compressed(uncompressed, wire);
        },
        onRetry: (b) => this.metrics.retried(b.count),
        onReachable: () => this.setState('connected'),
        onNodeFailed: (_node, err) => {
          if (!this.anyNodeReady()) this.setState('disconnected', describe(err));
        },
        onFatal: (err) => this.setState('error', describe(err)),
        onInternalError: (err) => this.hooks.onInternalError?.(err),
      },
    );
  }

  private anyNodeReady(): boolean {
    // Through the transport, so that one given by a test is asked too.
    return this.metadata.brokers.some((b) => this.transport.isReady(b.nodeId));
  }

  get connectionState(): ConnectionState {
    return this.state;
  }

  /** Who hears of state changes and problems from now on (a node taking this producer over). */
  setHooks(hooks: ProducerHooks): void {
    this.hooks = hooks;
  }

  /** Records held now, the buffer bytes they take, and how long the oldest has waited. */
  heldRecords(): HeldRecords {
    const now = this.clock.now();
    const oldest = Math.min(this.accumulator.oldestReceivedAt(), this.sender.oldestInFlight(), this.pool.oldestWaitSince);
    return {
      records: this.heldCount,
      bytes: this.pool.heldBytes,
      bufferMemory: this.options.bufferMemory,
      oldestAgeMs: this.heldCount > 0 && Number.isFinite(oldest) ? Math.max(0, now - oldest) : 0,
      unavailablePartitions: this.accumulator.unavailablePartitions((node) => this.sender.isDown(node)),
      holding: this.sender.holding,
    };
  }

  /** Whether nothing is held (no record taken and unsettled). */
  get idle(): boolean {
    return this.heldCount === 0;
  }

  /**
   * No Produce request goes out until release(); records are still taken
   * (they wait, and expire at delivery.timeout.ms). For a producer that must
   * not overtake another one still sending to the same partitions.
   */
  hold(): void {
    this.sender.hold();
  }

  release(): void {
    this.sender.release();
  }

  private setState(state: ConnectionState, detail?: string): void {
    if (this.closing && state !== 'closed') return;
    // Nothing can be sent any more: an answer still arriving (metadata) does not make it connected again.
    if (this.state === 'error' && this.sender.fatal && state !== 'closed') return;
    if (state === this.state && state === 'connected') return;
    this.state = state;
    this.hooks.onState?.(state, detail);
  }

  /** Starts: loads the codecs, then asks the cluster for metadata (records may come before). */
  start(): void {
    this.setState('connecting');
    codecsReady().then(
      () => this.sender.wake(),
      (err: Error) => this.sender.setFatal(err),
    );
  }

  /**
   * An error when a record would be refused at once whatever it is (the
   * producer cannot work, or buffer.memory and the line for room are full),
   * so the caller need not build it: under a flood of msgs during an outage,
   * refused msgs then cost no memory.
   */
  refusal(): Error | undefined {
    const fatal = this.sender.fatal;
    if (fatal) {
      this.metrics.recordsFailed(1);
      return fatal;
    }
    if (this.pool.refusing) {
      this.metrics.recordsFailed(1);
      return bufferExhaustedNoStack(
        `buffer.memory (${this.options.bufferMemory} bytes) is full and the line of msgs waiting for room is too: ` +
          'the broker is not keeping up or cannot be reached',
      );
    }
    return undefined;
  }

  /**
   * Takes one record: exactly one of the two is called, once, when it is
   * acknowledged or fails; `failed` may be called before this returns.
   */
  submit(record: ProducerRecord, acknowledged: (meta: RecordMetadata) => void, failed: (err: Error) => void): void {
    this.admit({ record, receivedAt: 0, acknowledged, failed });
  }

  /**
   * Takes a record together with its callbacks (the caller's own object, so
   * that a busy flow allocates one object per record, not three). Exactly one
   * of p.acknowledged / p.failed is called, once, maybe before this returns.
   */
  admit(p: PendingRecord): void {
    const refuse = (err: Error) => {
      this.metrics.recordsFailed(1);
      p.failed(err);
    };
    const fatal = this.sender.fatal;
    if (fatal) return refuse(fatal);
    if (this.closing) return refuse(producerClosed('The producer is closed'));
    const { record } = p;
    const size = record.sizeInBytes;
    const memory = record.memoryBytes ?? size;
    if (size > this.options.maxRequestSize) {
      return refuse(
        recordTooLarge(
          `The message is ${size} bytes when serialized which is larger than ${this.options.maxRequestSize}, which is the value of the max.request.size configuration.`,
        ),
      );
    }
    if (memory > this.options.bufferMemory) {
      return refuse(
        recordTooLarge(
          `The message takes ${memory} bytes until it is acknowledged, which is larger than the total memory buffer you have configured with the buffer.memory configuration (${this.options.bufferMemory}).`,
        ),
      );
    }
    p.receivedAt = this.clock.now();
    this.heldCount++;
    this.pool.allocate(
      memory,
      () => this.accumulator.add(p),
      (err) => {
        this.heldCount--;
        refuse(err);
      },
    );
  }

  /** The Java producer's metrics, now, and what is held (records-held, oldest-record-age-ms). */
  metricsSnapshot(): ProducerMetricsSnapshot {
    const held = this.heldRecords();
    return this.metrics.snapshot(
      { available: this.pool.availableBytes, total: this.options.bufferMemory },
      this.accumulator.queuedRecords,
      this.sender.inFlightRequests,
      { records: held.records, oldestAgeMs: held.oldestAgeMs },
    );
  }

  /**
   * Sends what lingers now and resolves true once nothing is held, or false
   * after timeoutMs (what is left stays held; nothing is failed).
   */
  async flush(timeoutMs: number): Promise<boolean> {
    if (this.heldCount === 0) return true;
    this.accumulator.beginFlush();
    try {
      return await this.waitIdle(timeoutMs);
    } finally {
      this.accumulator.endFlush();
    }
  }

  private waitIdle(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      let settled = false;
      const finish = (idle: boolean) => {
        if (settled) return;
        settled = true;
        this.clock.clearTimeout(timer);
        resolve(idle);
      };
      const timer = this.clock.setTimeout(() => finish(false), boundedDelay(timeoutMs));
      void this.sender.idle().then(() => finish(this.heldCount === 0));
    });
  }

  /**
   * Flushes what is held (up to timeoutMs; at once when no broker was ever
   * reached), fails the rest saying `reason` and whether each record may have
   * been written, then closes every connection. Resolves with the number of
   * records that had to be failed.
   */
  async close(timeoutMs: number, reason = 'The producer closed', opts: CloseOptions = {}): Promise<number> {
    // Once: a second close (a node closing while a takeover drains it) waits for the
    // first, and makes it give up flushing sooner when it asks for less time.
    if (this.closed) {
      this.sender.shortenClose(this.state === 'connected' || opts.drain ? timeoutMs : 0);
      return this.closed;
    }
    this.closed = this.closeOnce(timeoutMs, reason, opts);
    return this.closed;
  }

  private async closeOnce(timeoutMs: number, reason: string, opts: CloseOptions): Promise<number> {
    this.closing = true;
    const waiting = producerClosed(`${reason} while the record waited for buffer room: it was not written to Kafka`);
    // Draining keeps the line for buffer room: those records are held too, and get room as others settle.
    if (!opts.drain) this.pool.rejectWaiters(waiting);
    const flushFor = this.state === 'connected' || opts.drain ? timeoutMs : 0;
    const failed = await this.sender.close(flushFor, reason, () => this.pool.rejectWaiters(waiting));
    await this.network?.close();
    this.state = 'closed';
    this.hooks.onState?.('closed');
    return failed;
  }
}
