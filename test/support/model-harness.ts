// Drives the real producer engine (KafkaProducer) against the in-memory
// cluster of model-kafka.ts on simulated time, and records what the producer
// reported for each record, for auditDelivery.

import { ready as codecsReady } from '../../src/lib/kafka/codecs';
import type { ConnectionSettings } from '../../src/lib/kafka/protocol/kafkajs';
import { defaultProducerOptions, validateProducerOptions, type ProducerOptions } from '../../src/lib/kafka/producer/config';
import { KafkaProducer, type RecordMetadata } from '../../src/lib/kafka/producer/producer';
import { toProducerRecord } from '../../src/lib/kafka/record';
import { auditDelivery, auditValue, type AckedRecord, type DeliveryAudit, type FailedRecord, type ProducerReport } from './delivery-audit';
import { ModelKafka, SimClock, type ModelOptions } from './model-kafka';

/** Unused with a transport given; the producer still wants one. */
const CONNECTION: ConnectionSettings = { brokers: ['model:9092'], clientId: 'model-test', connectionTimeoutMs: 1000, requestTimeoutMs: 30_000 };

/** Lets every promise reaction queued so far run (the engine has no other asynchrony with codec none). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export interface AckedAt extends AckedRecord {
  at: number;
}

export interface FailedAt extends FailedRecord {
  at: number;
  error: Error;
}

/** What the producer said about each record it was given. */
export class DeliveryRecorder {
  readonly acked: AckedAt[] = [];
  readonly failed: FailedAt[] = [];
  /** value → key, for records not settled yet */
  private readonly open = new Map<string, string | null>();
  private readonly seqs = new Map<string, number>();
  sent = 0;

  constructor(
    private readonly producer: KafkaProducer,
    private readonly clock: SimClock,
    readonly topic: string,
  ) {}

  /**
   * Sends the next record of `stream` (its key unless `key` says otherwise);
   * returns its value.
   */
  send(stream: string, opts: { partition?: number; size?: number; timestamp?: number; key?: string | null } = {}): string {
    const seq = this.seqs.get(stream) ?? 0;
    this.seqs.set(stream, seq + 1);
    const value = auditValue(stream, seq, opts.size);
    const key = opts.key === undefined ? stream : opts.key;
    const record = toProducerRecord({ payload: value, key, partition: opts.partition, timestamp: opts.timestamp }, this.topic, this.clock.now());
    this.sent++;
    this.open.set(value, key);
    this.producer.submit(
      record,
      (meta: RecordMetadata) => {
        this.open.delete(value);
        this.acked.push({ value, key, partition: meta.partition, offset: meta.offset, at: this.clock.now() });
      },
      (error: Error) => {
        this.open.delete(value);
        this.failed.push({ value, key, error, at: this.clock.now() });
      },
    );
    return value;
  }

  get settled(): number {
    return this.acked.length + this.failed.length;
  }

  get pending(): number {
    return this.open.size;
  }

  ackOf(value: string): AckedAt | undefined {
    return this.acked.find((a) => a.value === value);
  }

  failureOf(value: string): FailedAt | undefined {
    return this.failed.find((f) => f.value === value);
  }

  report(): ProducerReport {
    return { acked: this.acked, failed: this.failed, pending: [...this.open].map(([value, key]) => ({ value, key })) };
  }

  audit(model: ModelKafka): DeliveryAudit {
    return auditDelivery(this.report(), model.stored(this.topic));
  }
}

export interface Harness {
  clock: SimClock;
  model: ModelKafka;
  producer: KafkaProducer;
  rec: DeliveryRecorder;
  options: ProducerOptions;
  /** bugs the engine reported about itself (onInternalError) */
  internalErrors: Error[];
  states: string[];
  /** runs simulated time for `ms`, jumping over idle stretches */
  runFor(ms: number): Promise<void>;
  /** runs simulated time until `done()` holds; throws after `limitMs` */
  runUntil(done: () => boolean, limitMs: number, what?: string): Promise<void>;
  /** runs until every record sent so far settled */
  drain(limitMs?: number): Promise<void>;
}

export async function harness(model: ModelOptions, overrides: Partial<ProducerOptions> = {}, topic = 't'): Promise<Harness> {
  await codecsReady();
  const clock = new SimClock();
  const m = new ModelKafka(clock, model);
  const options: ProducerOptions = { ...defaultProducerOptions(), ...overrides };
  const problems = validateProducerOptions(options);
  if (problems.length) throw new Error(`test producer options: ${problems.join('; ')}`);
  const internalErrors: Error[] = [];
  const states: string[] = [];
  const producer = new KafkaProducer(
    CONNECTION,
    options,
    { onInternalError: (e) => internalErrors.push(e), onState: (s, d) => states.push(d ? `${s}: ${d}` : s) },
    { clock, transport: m },
  );
  // The network's events, which KafkaProducer wires only for its own network.
  m.attach(producer.sender);
  producer.start();
  const rec = new DeliveryRecorder(producer, clock, topic);

  const step = async (deadline: number): Promise<boolean> => {
    await settle();
    const next = clock.nextDue();
    if (next === undefined || next > deadline) return false;
    clock.advance(Math.max(0, next - clock.now()));
    return true;
  };
  const h: Harness = {
    clock,
    model: m,
    producer,
    rec,
    options,
    internalErrors,
    states,
    async runFor(ms) {
      const end = clock.now() + ms;
      while (await step(end));
      clock.advance(Math.max(0, end - clock.now()));
      await settle();
    },
    async runUntil(done, limitMs, what = 'condition') {
      const end = clock.now() + limitMs;
      for (;;) {
        await settle();
        if (done()) return;
        if (!(await step(end))) {
          if (clock.now() < end && clock.nextDue() === undefined) {
            throw new Error(`${what}: nothing left to happen at ${clock.now()} (${rec.pending} records pending)`);
          }
          clock.advance(Math.max(0, end - clock.now()));
          await settle();
          if (done()) return;
          throw new Error(`${what}: not within ${limitMs} ms of simulated time (${rec.pending} records pending)`);
        }
      }
    },
    drain(limitMs = 600_000) {
      return h.runUntil(() => rec.pending === 0, limitMs, 'every record settled');
    },
  };
  return h;
}
