// One producer pipeline: accumulator → sender → a kafkajs producer, with its
// connection kept up by itself. It takes records at once, even before the
// broker is reachable: they wait (bounded by buffer.memory) and are sent when
// it is, or fail at delivery.timeout.ms.

import { CompressionTypes, type Kafka, type Message, type Producer } from 'kafkajs';
import { RecordAccumulator, type PendingRecord, type RecordMetadata } from './accumulator';
import { exponentialBackoff } from '../../common/backoff';
import { systemClock, type Clock } from '../../common/clock';
import { compressionObserver, compressionType, registerCodecs } from '../codecs';
import { installProduceEncoder, ourMessage } from '../protocol/kafkajs-produce';
import { bufferExhaustedNoStack, describeError, isAuthenticationError } from '../errors';
import { ProducerMetrics, type ProducerMetricsSnapshot } from './metrics';
import { PartitionAssigner } from './partitioner';
import { acksNumber, kafkajsRetries, type ProducerOptions } from './config';
import type { ProducerRecord } from '../record';
import { Sender, type OutgoingBatch, type Transport } from './sender';

export type ConnectionState = 'connecting' | 'connected' | 'disconnected' | 'error' | 'closed';

export interface PipelineHooks {
  onState?(state: ConnectionState, detail?: string): void;
}

/** Sends batches with one kafkajs sendBatch each and maps the answer back to each record. */
export class KafkajsTransport implements Transport {
  constructor(
    private readonly producer: Producer,
    private readonly options: ProducerOptions,
    private readonly ready: () => Promise<void>,
    private readonly onCompressed?: (uncompressed: number, compressed: number) => void,
  ) {
    installProduceEncoder();
  }

  // The kafkajs message of a record is kept on it, so a partition the partitioner
  // chose at send time stays the same across retries. It carries the record for
  // record-batch.ts, which writes the request in kafkajs's place.
  private messageOf(p: PendingRecord): Message {
    let m = p.wire as Message | undefined;
    if (!m) {
      const r = p.record;
      m = { key: r.key, value: r.value, timestamp: String(r.timestamp) };
      if (p.partition !== undefined) m.partition = p.partition;
      if (r.headers) m.headers = r.headers;
      p.wire = ourMessage(m, r);
    }
    return m;
  }

  async send(batches: OutgoingBatch[]): Promise<RecordMetadata[][]> {
    await this.ready();
    const byTopic = new Map<string, Message[]>();
    const messages = batches.map((b) => {
      let list = byTopic.get(b.topic);
      if (!list) byTopic.set(b.topic, (list = []));
      const ms = b.records.map((p) => this.messageOf(p));
      for (const m of ms) list.push(m);
      return ms;
    });
    const acks = acksNumber(this.options.acks);
    const request = {
      topicMessages: [...byTopic].map(([topic, list]) => ({ topic, messages: list })),
      acks,
      timeout: this.options.requestTimeoutMs,
      compression: this.options.compression === 'none' ? CompressionTypes.None : compressionType(this.options.compression),
    };
    const answer = this.onCompressed && this.options.compression !== 'none'
      ? await compressionObserver.run(this.onCompressed, () => this.producer.sendBatch(request))
      : await this.producer.sendBatch(request);
    const acked = new Map<string, { base: string; appendTime: number }>();
    for (const a of answer) {
      if (a.baseOffset !== undefined) acked.set(`${a.topicName}\u0000${a.partition}`, { base: String(a.baseOffset), appendTime: Number(a.logAppendTime ?? -1) });
    }
    // kafkajs groups a topic's messages per partition in the order given, so
    // the n-th message of a partition has offset base + n.
    const nth = new Map<string, number>();
    return batches.map((b, i) =>
      messages[i].map((m, j) => {
        const partition = m.partition as number;
        const key = `${b.topic}\u0000${partition}`;
        const n = nth.get(key) ?? 0;
        nth.set(key, n + 1);
        const ack = acked.get(key);
        // kafkajs leaves out partitions it has no leader for; never take that for success.
        if (!ack && acks !== 0) throw noAcknowledgement(b.topic, partition);
        return {
          topic: b.topic,
          partition,
          offset: ack && acks !== 0 ? offsetPlus(ack.base, n) : null,
          // LogAppendTime topics stamp records on the broker; otherwise ours stands.
          timestamp: ack && ack.appendTime >= 0 ? ack.appendTime : b.records[j].record.timestamp,
        };
      }),
    );
  }
}

/** base + n for an offset in decimal (offsets are int64: a Number while it is exact, a BigInt past that). */
function offsetPlus(base: string, n: number): string {
  const b = Number(base);
  return Number.isSafeInteger(b + n) ? String(b + n) : (BigInt(base) + BigInt(n)).toString();
}

function noAcknowledgement(topic: string, partition: number): Error {
  const e = new Error(`The broker sent no acknowledgement for ${topic}-${partition}`) as Error & { retriable: boolean };
  e.name = 'KafkaJSProtocolError';
  e.retriable = true;
  return e;
}

export interface PipelineOptions {
  /** reconnect backoff after a failed connect (ms); tests make it short */
  connectBackoffMs?: number;
  connectBackoffMaxMs?: number;
  clock?: Clock;
  /** metrics window (ms); the Java client's is 2 × 30 s */
  metricsWindowMs?: number;
  /**
   * Reads a topic's partition count from the broker now (an admin request).
   * Asked when a record names a partition beyond the count the producer
   * knows, before refusing it: the topic may have grown.
   */
  lookupPartitionCount?: (topic: string) => Promise<number>;
}

export class ProducerPipeline {
  readonly accumulator: RecordAccumulator;
  readonly sender: Sender;
  readonly metrics: ProducerMetrics;
  readonly partitions: PartitionAssigner;
  private readonly producer: Producer;
  private state: ConnectionState = 'connecting';
  private connected = false;
  private fatal: Error | undefined;
  private readyWaiters: Array<{ resolve(): void; reject(e: Error): void }> = [];
  private connectTimer: NodeJS.Timeout | undefined;
  private connectAttempts = 0;
  private closing = false;

  constructor(
    kafka: Kafka,
    readonly options: ProducerOptions,
    private readonly hooks: PipelineHooks = {},
    private readonly pipelineOptions: PipelineOptions = {},
  ) {
    const clock = pipelineOptions.clock ?? systemClock;
    this.metrics = new ProducerMetrics(clock, pipelineOptions.metricsWindowMs);
    this.partitions = new PartitionAssigner(Math.max(1, options.batchSize));
    this.producer = kafka.producer({
      idempotent: options.idempotence,
      maxInFlightRequests: options.maxInFlight,
      createPartitioner: this.partitions.kafkajsPartitioner(),
      allowAutoTopicCreation: true,
      retry: {
        // Set explicitly: with `idempotent` kafkajs would otherwise keep its own count.
        retries: kafkajsRetries(options),
        initialRetryTime: Math.max(1, options.retryBackoffMs),
        maxRetryTime: Math.max(1, options.retryBackoffMaxMs),
        multiplier: 2,
        factor: 0.2,
      },
    });
    this.accumulator = new RecordAccumulator(
      {
        batchSize: options.batchSize,
        lingerMs: options.lingerMs,
        bufferMemory: options.bufferMemory,
        maxBlockMs: options.maxBlockMs,
        deliveryTimeoutMs: options.deliveryTimeoutMs,
        maxRequestSize: options.maxRequestSize,
        onRecordFailed: () => this.metrics.recordsFailed(1),
      },
      clock,
      () => this.sender.wake(),
      this.partitions,
    );
    const transport = new KafkajsTransport(this.producer, options, () => this.whenReady(), (u, c) => this.metrics.compressed(u, c));
    this.sender = new Sender(
      this.accumulator,
      transport,
      {
        maxInFlight: options.maxInFlight,
        // Idempotence keeps order in the Java client; max.in.flight 1 does too.
        inOrder: options.idempotence || options.maxInFlight === 1,
        retries: options.retries,
        retryBackoffMs: options.retryBackoffMs,
        retryBackoffMaxMs: options.retryBackoffMaxMs,
        deliveryTimeoutMs: options.deliveryTimeoutMs,
      },
      clock,
      {
        onRequestDone: (batches, records, bytes, latencyMs) => {
          this.metrics.request(records, latencyMs);
          for (const b of batches) this.metrics.batch(b.bytes);
          this.metrics.recordsSent(records, bytes);
          this.setState('connected');
        },
        onRetry: (_err, records) => this.metrics.retried(records),
        onUnreachable: (err) => this.setState('disconnected', describeError(err)),
        onReachable: () => this.setState('connected'),
      },
    );
  }

  get connectionState(): ConnectionState {
    return this.state;
  }

  private setState(state: ConnectionState, detail?: string): void {
    if (this.closing && state !== 'closed') return;
    if (state === this.state && state === 'connected') return;
    this.state = state;
    this.hooks.onState?.(state, detail);
  }

  /** Starts connecting; retries with backoff until connected or closed. */
  start(): void {
    this.setState('connecting');
    void this.connect();
  }

  private async connect(): Promise<void> {
    if (this.closing) return;
    try {
      await registerCodecs();
      await this.producer.connect();
      if (this.closing) return;
      this.connected = true;
      this.connectAttempts = 0;
      this.setState('connected');
      for (const w of this.readyWaiters.splice(0)) w.resolve();
    } catch (err) {
      if (this.closing) return;
      if (isAuthenticationError(err)) {
        // A wrong password will not fix itself: no reconnect loop, every record fails with the reason.
        this.fatal = new Error(`Authentication failed: ${describeError(err)}`);
        this.fatal.name = 'KafkaJSSASLAuthenticationError';
        this.setState('error', describeError(err));
        for (const w of this.readyWaiters.splice(0)) w.reject(this.fatal);
        return;
      }
      this.connectAttempts++;
      this.setState('disconnected', describeError(err));
      const backoff = exponentialBackoff({
        initialMs: this.pipelineOptions.connectBackoffMs ?? 1000,
        maxMs: this.pipelineOptions.connectBackoffMaxMs ?? 10000,
        jitter: 0.2,
      });
      this.connectTimer = setTimeout(() => {
        this.connectTimer = undefined;
        this.setState('connecting');
        void this.connect();
      }, backoff.delay(this.connectAttempts));
    }
  }

  private whenReady(): Promise<void> {
    if (this.fatal) return Promise.reject(this.fatal);
    if (this.connected) return Promise.resolve();
    return new Promise((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
  }

  /**
   * An error when a record would be refused at once whatever it is (the
   * buffer and the line for room are full, or the producer cannot work), so
   * the caller need not build it first: under a flood of msgs during an
   * outage, refused msgs then cost no memory.
   */
  refusal(): Error | undefined {
    if (this.fatal) return this.fatal;
    if (this.accumulator.refusing) {
      this.metrics.recordsFailed(1);
      return bufferExhaustedNoStack(
        `buffer.memory (${this.options.bufferMemory} bytes) is full and the line of msgs waiting for room is too: ` +
          'the broker is not keeping up or cannot be reached',
      );
    }
    return undefined;
  }

  /** Takes one record; settles on acknowledgement or failure. */
  send(record: ProducerRecord): Promise<RecordMetadata> {
    return new Promise((resolve, reject) => this.submit(record, resolve, reject));
  }

  /**
   * send() without a promise: exactly one of the two is called, once; `failed`
   * may be called before this returns.
   */
  submit(record: ProducerRecord, acknowledged: (meta: RecordMetadata) => void, failed: (err: Error) => void): void {
    if (this.fatal) {
      this.metrics.recordsFailed(1);
      failed(this.fatal);
      return;
    }
    const known = this.partitions.partitionCount(record.topic);
    const lookup = this.pipelineOptions.lookupPartitionCount;
    if (lookup && known !== undefined && record.partition !== undefined && record.partition >= known) {
      // As the Java producer does, look again before refusing a partition: the topic may have grown.
      lookup(record.topic).then(
        (count) => {
          this.partitions.raiseCount(record.topic, count);
          this.accumulator.appendWith(record, acknowledged, failed);
        },
        () => this.accumulator.appendWith(record, acknowledged, failed),
      );
      return;
    }
    this.accumulator.appendWith(record, acknowledged, failed);
  }

  /** The Java producer's metrics, now. */
  metricsSnapshot(): ProducerMetricsSnapshot {
    return this.metrics.snapshot(
      { available: this.accumulator.bufferAvailable, total: this.options.bufferMemory },
      this.accumulator.queuedRecords,
      this.sender.inFlightRequests,
    );
  }

  /**
   * Flushes what is held (up to timeoutMs), fails the rest, then disconnects.
   * Resolves with the number of records that had to be failed.
   */
  async close(timeoutMs: number): Promise<number> {
    // Records waiting for a connection that never came fail now rather than at the deadline.
    const flushFor = this.connected ? timeoutMs : Math.min(timeoutMs, 0);
    const closed = this.sender.close(flushFor);
    this.closing = true;
    if (this.connectTimer) clearTimeout(this.connectTimer);
    const { failed } = await closed;
    const err = new Error('The producer closed before it could connect');
    err.name = 'ProducerClosedError';
    for (const w of this.readyWaiters.splice(0)) w.reject(err);
    try {
      await this.producer.disconnect();
    } catch {
      // Already gone: nothing left to release.
    }
    this.state = 'closed';
    this.hooks.onState?.('closed');
    return failed;
  }
}
