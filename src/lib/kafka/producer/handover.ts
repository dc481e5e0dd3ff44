// Redeploys never hide a record. When a producer node closes for a redeploy
// (Node-RED closes it, then starts a new instance with the same node id), it
// first sends what can go now (bounded, only while connected: at most 10 s of
// the 15 s Node-RED gives a close), then the records its producer still holds
// are parked here under the node id, for a bounded time, and the new instance
// claims them:
//
//  - adopt: the new instance sends to the same cluster with the same connection
//    settings and producer options. It takes over the producer itself: the same
//    batches, idempotent producer id, epoch and sequence numbers, so nothing is
//    sent again under another id and per-partition order holds as if no deploy
//    had happened.
//  - drain: same cluster (brokers and security), other options. The old producer
//    keeps sending what it holds, bounded by its delivery.timeout.ms (+ one
//    request.timeout.ms for requests in flight), and the new one takes records
//    but sends none (KafkaProducer.hold) until every old one has settled: per
//    partition, every record of the old producer is written (or failed) before
//    any of the new one.
//  - fail: another cluster (broker list or security differ). The held records
//    fail now ("redeployed to send to another Kafka cluster"), each saying
//    whether it may have been written.
//
// The guarantee: a held record is sent by one producer only, under its producer
// id and sequence numbers, never again by another (so an idempotent broker
// writes it at most once); a redeploy adds no reordering: per partition, the
// records of one producer all go before those of the next (within a producer,
// order is what its settings give: kept with idempotence or max.in.flight 1);
// each record's msg gets exactly one outcome. Outcomes of handed-over records reach the
// instance that runs now: an OutcomeRelay per producer forwards them to it, or
// keeps them in order while no instance runs (between the close and the flows'
// start), bounded by the records held at close. The old msgs' own `done`
// callbacks are not called: their flow is stopped, and its Catch and Complete
// nodes with it. The new instance sends an acknowledged msg on (msg.kafka) and
// reports a failed one with node.error(err, msg), which its Catch nodes get
// (Complete nodes do not see handed-over msgs). Where no instance takes a
// lineage (node removed, flows stopped, or none came within the bound) the
// records are sent if they can be within the close bound, and the rest fail
// and are logged with their keys, summed up (abandon in the node glue).
//
// No Node-RED import: the node glue (src/nodes/kafka-producer) wires it.

import { createHash } from 'node:crypto';
import { systemClock, type Clock } from '../../common/clock';
import { boundedDelay } from '../../common/timers';
import type { ConnectionSettings } from '../protocol/kafkajs';
import type { ProducerOptions } from './config';

/** Fingerprints (sha-256, hex) of what a producer is bound to; secrets never kept in clear. */
export interface EngineIdentity {
  /** broker list (order ignored) and security (TLS settings, SASL mechanism and credentials) */
  cluster: string;
  /** cluster plus client id and connection timeouts */
  connection: string;
  /** the producer options */
  options: string;
}

/** JSON with sorted keys; Buffers and functions by a digest, so TLS material compares by value. */
function stable(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'function') return JSON.stringify(`fn:${digest(String(value))}`);
    if (typeof value === 'bigint') return JSON.stringify(String(value));
    return JSON.stringify(value);
  }
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return JSON.stringify(`bytes:${digest(Buffer.from(value))}`);
  if (Array.isArray(value)) return `[${value.map(stable).join(',')}]`;
  const o = value as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${stable(o[k])}`)
    .join(',')}}`;
}

function digest(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export function engineIdentity(c: ConnectionSettings, options: ProducerOptions): EngineIdentity {
  const cluster = digest(stable({ brokers: [...c.brokers].map((b) => b.trim().toLowerCase()).sort(), ssl: c.ssl ?? null, sasl: c.sasl ?? null }));
  const connection = digest(stable({ cluster, clientId: c.clientId, connectionTimeoutMs: c.connectionTimeoutMs, requestTimeoutMs: c.requestTimeoutMs }));
  return { cluster, connection, options: digest(stable(options)) };
}

function rethrowLater(e: unknown): void {
  queueMicrotask(() => {
    throw e;
  });
}

export type HandoverPlan = 'adopt' | 'drain' | 'fail';

/** What a new instance does with the producer its previous instance left (see the top of this file). */
export function planHandover(previous: EngineIdentity, next: EngineIdentity): HandoverPlan {
  if (previous.cluster !== next.cluster) return 'fail';
  if (previous.connection === next.connection && previous.options === next.options) return 'adopt';
  return 'drain';
}

export interface OutcomeSink<T> {
  acknowledged(item: T): void;
  failed(item: T, err: Error): void;
}

/**
 * Forwards the outcomes of one producer's records to whoever is attached, in
 * the order they happen; keeps them, in order, while nobody is.
 */
export class OutcomeRelay<T> implements OutcomeSink<T> {
  /** @param onError told when a sink throws (the other outcomes still go) */
  constructor(private readonly onError: (err: unknown) => void = rethrowLater) {}

  private target: OutcomeSink<T> | undefined;
  private readonly queue: Array<{ item: T; err?: Error }> = [];
  /** its producer is closed: no outcome will come any more */
  ended = false;

  get buffered(): number {
    return this.queue.length;
  }

  get attached(): boolean {
    return this.target !== undefined;
  }

  /** From now on outcomes go to `sink`; those kept so far go first, in order. */
  attach(sink: OutcomeSink<T>): void {
    this.target = sink;
    while (this.queue.length && this.target === sink) {
      const { item, err } = this.queue.shift()!;
      this.deliver(sink, item, err);
    }
  }

  detach(): void {
    this.target = undefined;
  }

  acknowledged(item: T): void {
    if (this.target) this.deliver(this.target, item);
    else this.queue.push({ item });
  }

  failed(item: T, err: Error): void {
    if (this.target) this.deliver(this.target, item, err);
    else this.queue.push({ item, err });
  }

  private deliver(sink: OutcomeSink<T>, item: T, err?: Error): void {
    try {
      if (err) sink.failed(item, err);
      else sink.acknowledged(item);
    } catch (e) {
      // One sink error must not stop the others (or the producer settling records).
      this.onError(e);
    }
  }
}

/**
 * What a node's instances pass on to each other: the producer in use, those of
 * earlier instances still draining (each with the promise of its close), and
 * the relays that bring their outcomes to the running instance.
 */
export interface Lineage<E, T> {
  identity: EngineIdentity;
  engine: E;
  relay: OutcomeRelay<T>;
  draining: Map<E, { relay: OutcomeRelay<T>; closed: Promise<unknown> }>;
}

/**
 * Forgets the draining producers that are done: closed (relay ended) and with
 * no outcome left to pass on. One still holding outcomes stays until an
 * instance takes them.
 */
export function pruneDrained<E, T>(l: Lineage<E, T>): void {
  for (const [e, d] of l.draining) if (d.relay.ended && d.relay.buffered === 0) l.draining.delete(e);
}

/** Every relay of a lineage: its producer's, then those of the producers still draining. */
export function relaysOf<E, T>(l: Lineage<E, T>): Array<OutcomeRelay<T>> {
  return [l.relay, ...[...l.draining.values()].map((d) => d.relay)];
}

/** Why a parked lineage was given up. */
export type AbandonReason =
  /** the flows were stopped, not redeployed (runtime stop, "stop flows") */
  | 'stopped'
  /** the flows started again without an instance of this node */
  | 'notRedeployed'
  /** no instance claimed it within the registry's bound */
  | 'timeout';

interface Parked<L> {
  lineage: L;
  timer: unknown;
  abandon(lineage: L, why: AbandonReason): void;
}

/** Lineages waiting for their node's next instance, by node id, each for a bounded time. */
export class HandoverRegistry<L> {
  private readonly parked = new Map<string, Parked<L>>();

  constructor(
    private readonly clock: Clock = systemClock,
    /** told when an abandon callback throws */
    private readonly onError: (err: unknown) => void = rethrowLater,
  ) {}

  get size(): number {
    return this.parked.size;
  }

  has(id: string): boolean {
    return this.parked.has(id);
  }

  /**
   * Keeps `lineage` for the next instance of node `id` for up to waitMs, then
   * calls abandon. A lineage already parked under the id is abandoned first.
   */
  park(id: string, lineage: L, waitMs: number, abandon: (lineage: L, why: AbandonReason) => void): void {
    this.give(id, 'timeout');
    const entry: Parked<L> = { lineage, abandon, timer: undefined };
    entry.timer = this.clock.setTimeout(() => {
      if (this.parked.get(id) === entry) this.give(id, 'timeout');
    }, boundedDelay(waitMs));
    this.parked.set(id, entry);
  }

  /** The lineage parked for node `id`, now taken (undefined: none). */
  claim(id: string): L | undefined {
    const entry = this.parked.get(id);
    if (!entry) return undefined;
    this.parked.delete(id);
    this.clock.clearTimeout(entry.timer);
    return entry.lineage;
  }

  /** Gives up every parked lineage (the flows started without them, or were stopped). */
  abandonAll(why: AbandonReason): void {
    for (const id of [...this.parked.keys()]) this.give(id, why);
  }

  private give(id: string, why: AbandonReason): void {
    const entry = this.parked.get(id);
    if (!entry) return;
    this.parked.delete(id);
    this.clock.clearTimeout(entry.timer);
    try {
      entry.abandon(entry.lineage, why);
    } catch (e) {
      this.onError(e);
    }
  }
}
