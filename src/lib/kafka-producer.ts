// One producer pipeline: accumulator → sender → a kafkajs producer, with its
// connection kept up by itself. It takes records at once, even before the
// broker is reachable: they wait (bounded by buffer.memory) and are sent when
// it is, or fail at delivery.timeout.ms.

import { CompressionTypes, type ICustomPartitioner, type Kafka, type Message, type Producer } from 'kafkajs';
import { RecordAccumulator, type RecordMetadata } from './accumulator';
import { exponentialBackoff } from './backoff';
import { systemClock, type Clock } from './clock';
import { registerCodecs, compressionType } from './codecs';
import { describeError, isAuthenticationError } from './errors';
import { createPartitioner } from './partitioner';
import { acksNumber, kafkajsRetries, type ProducerOptions } from './producer-config';
import { RecordError, type ProducerRecord } from './record';
import { Sender, type Transport } from './sender';

export type ConnectionState = 'connecting' | 'connected' | 'disconnected' | 'error' | 'closed';

export interface PipelineHooks {
  onState?(state: ConnectionState, detail?: string): void;
}

export interface PipelineCounters {
  sent: number;
  failed: number;
  retries: number;
}

/** Refuses an explicit partition the topic does not have (Java: "Invalid partition given with record"). */
export function checkedPartitioner(inner: ICustomPartitioner): ICustomPartitioner {
  return () => {
    const choose = inner();
    return (args) => {
      const p = args.message.partition;
      if (p !== undefined && p !== null && (p < 0 || p >= args.partitionMetadata.length)) {
        throw new RecordError(
          `Invalid partition given with record: ${p} is not in the range [0...${args.partitionMetadata.length}) of topic "${args.topic}"`,
        );
      }
      return choose(args);
    };
  };
}

/** Sends record lists with one kafkajs sendBatch each and maps the answer back to each record. */
export class KafkajsTransport implements Transport {
  // The kafkajs message of a record is kept, so the partition the partitioner
  // chose stays the same across retries.
  private messages = new WeakMap<ProducerRecord, Message>();

  constructor(
    private readonly producer: Producer,
    private readonly options: ProducerOptions,
    private readonly ready: () => Promise<void>,
  ) {}

  private messageOf(r: ProducerRecord): Message {
    let m = this.messages.get(r);
    if (!m) {
      m = { key: r.key, value: r.value, timestamp: String(r.timestamp) };
      if (r.partition !== undefined) m.partition = r.partition;
      if (r.headers) m.headers = r.headers;
      this.messages.set(r, m);
    }
    return m;
  }

  async send(topic: string, records: ProducerRecord[]): Promise<RecordMetadata[]> {
    await this.ready();
    const messages = records.map((r) => this.messageOf(r));
    const acks = acksNumber(this.options.acks);
    const answer = await this.producer.sendBatch({
      topicMessages: [{ topic, messages }],
      acks,
      timeout: this.options.requestTimeoutMs,
      compression: this.options.compression === 'none' ? CompressionTypes.None : compressionType(this.options.compression),
    });
    const byPartition = new Map<number, { base: bigint; appendTime: number }>();
    for (const a of answer) {
      if (a.baseOffset !== undefined) {
        const t = Number(a.logAppendTime ?? -1);
        byPartition.set(a.partition, { base: BigInt(a.baseOffset), appendTime: t });
      }
    }
    const index = new Map<number, number>();
    return messages.map((m, i) => {
      const partition = m.partition as number;
      const nth = index.get(partition) ?? 0;
      index.set(partition, nth + 1);
      const ack = byPartition.get(partition);
      return {
        topic,
        partition,
        offset: ack && acks !== 0 ? (ack.base + BigInt(nth)).toString() : null,
        // LogAppendTime topics stamp records on the broker; otherwise ours stands.
        timestamp: ack && ack.appendTime >= 0 ? ack.appendTime : records[i].timestamp,
      };
    });
  }
}

export interface PipelineOptions {
  /** reconnect backoff after a failed connect (ms); tests make it short */
  connectBackoffMs?: number;
  connectBackoffMaxMs?: number;
  clock?: Clock;
}

export class ProducerPipeline {
  readonly accumulator: RecordAccumulator;
  readonly sender: Sender;
  readonly counters: PipelineCounters = { sent: 0, failed: 0, retries: 0 };
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
    this.producer = kafka.producer({
      idempotent: options.idempotence,
      maxInFlightRequests: options.maxInFlight,
      createPartitioner: checkedPartitioner(createPartitioner),
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
      },
      clock,
      () => this.sender.wake(),
    );
    const transport = new KafkajsTransport(this.producer, options, () => this.whenReady());
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
        onBatchSent: (batch) => {
          this.counters.sent += batch.records.length;
          this.setState('connected');
        },
        onSendError: (_err, _batch, willRetry) => {
          if (willRetry) this.counters.retries++;
        },
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

  /** Takes one record; settles on acknowledgement or failure. */
  send(record: ProducerRecord): Promise<RecordMetadata> {
    if (this.fatal) return Promise.reject(this.fatal);
    const p = this.accumulator.append(record);
    p.catch(() => this.counters.failed++);
    return p;
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
