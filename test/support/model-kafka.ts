// An in-memory Kafka cluster for the producer engine's unit tests. It
// implements the sender's SenderTransport and behaves, for a producer, as
// brokers do:
//  - connections take a tick to open and fail while their broker is down; a
//    broker reads a connection's requests one at a time (it answers one before
//    it reads the next), and the client gives up on an answer after its
//    request timeout (KafkaJSRequestTimeoutError, as kafkajs names it);
//  - partitions have replicas, a leader and a leader epoch; acks=all is
//    refused below min.insync.replicas; a killed broker's partitions fail
//    over to a live replica; Metadata and InitProducerId are answered from
//    this state;
//  - Produce: each record batch is decoded from the bytes the engine wrote
//    (CRC checked), validated (size, timestamps, keys of compacted topics:
//    record_errors by index), checked against the producer state the broker
//    keeps per producer id and partition (epoch, last 5 batches: a resend is
//    answered with its first offset; out of order, new epoch not at 0,
//    unknown producer) and appended to the partition's log.
// Faults are injected per partition (an error code, written or not, a
// partition left out of the answer, records refused by index) or per
// request (the connection dropped before the broker reads it, the answer
// lost after it wrote); leaders move, producer state is lost, brokers die
// and come back, answers are held. Everything runs on a SimClock.

import type { Clock } from '../../src/lib/common/clock';
import { ManualClock } from '../../src/lib/common/clock';
import { ErrorCode } from '../../src/lib/kafka/protocol/error-codes';
import type { InitProducerIdResponse } from '../../src/lib/kafka/protocol/init-producer-id';
import type { BrokerInfo, MetadataResponse, PartitionInfo } from '../../src/lib/kafka/protocol/metadata';
import type { PartitionProduceResponse, ProduceResponse, RecordErrorInfo } from '../../src/lib/kafka/protocol/produce';
import type { ProduceCall, SenderTransport } from '../../src/lib/kafka/producer/sender';
import type { StoredRecord } from './delivery-audit';

/* eslint-disable-next-line @typescript-eslint/no-require-imports */
const kafkajsCrc32C = require('kafkajs/src/protocol/recordBatch/crc32C') as (b: Buffer) => number;

// ---- a clock that can say when its next timer is due ------------------------------------------

/** A ManualClock that knows its next due timer, so a test can jump over idle time. */
export class SimClock extends ManualClock implements Clock {
  private readonly due = new Map<unknown, number>();

  override setTimeout(fn: () => void, ms: number): unknown {
    const at = this.now() + Math.max(0, ms);
    const id: unknown = super.setTimeout(() => {
      this.due.delete(id);
      fn();
    }, ms);
    this.due.set(id, at);
    return id;
  }

  override clearTimeout(handle: unknown): void {
    this.due.delete(handle);
    super.clearTimeout(handle);
  }

  /** When the next timer fires (undefined: none is set). */
  nextDue(): number | undefined {
    let next: number | undefined;
    for (const at of this.due.values()) if (next === undefined || at < next) next = at;
    return next;
  }
}

// ---- record batches (magic 2, uncompressed), read back from the bytes -------------------------

export interface DecodedRecord {
  key: Buffer | null;
  value: Buffer | null;
  timestamp: number;
  headers: Array<[string, Buffer | null]>;
}

export interface DecodedBatch {
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  attributes: number;
  lastOffsetDelta: number;
  records: DecodedRecord[];
  /** the whole batch as sent */
  bytes: Buffer;
}

class Reader {
  at = 0;
  constructor(private readonly buf: Buffer) {}
  int8(): number {
    return this.buf.readInt8(this.at++);
  }
  uvarint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.buf[this.at++];
      if (b === undefined) throw new Error('varint runs past the end of the batch');
      result += (b & 0x7f) * mul;
      if (!(b & 0x80)) return result;
      mul *= 128;
    }
    throw new Error('varint longer than 10 bytes');
  }
  varint(): number {
    const z = this.uvarint();
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }
  bytes(): Buffer | null {
    const n = this.varint();
    if (n < 0) return null;
    if (this.at + n > this.buf.length) throw new Error('field runs past the end of the batch');
    const out = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return Buffer.from(out);
  }
  get left(): number {
    return this.buf.length - this.at;
  }
}

/** Reads one uncompressed magic-2 record batch; throws on anything a broker would call corrupt. */
export function decodeRecordBatch(bytes: Buffer): DecodedBatch {
  if (bytes.length < 61) throw new Error(`batch of ${bytes.length} bytes is shorter than its header`);
  const length = bytes.readInt32BE(8);
  if (length + 12 !== bytes.length) {
    throw new Error(`batch length field says ${length + 12} bytes, the partition entry holds ${bytes.length} (more than one batch, or a cut one)`);
  }
  if (bytes[16] !== 2) throw new Error(`magic ${bytes[16]}, expected 2`);
  const crc = bytes.readUInt32BE(17);
  const computed = kafkajsCrc32C(bytes.subarray(21));
  if (crc !== computed) throw new Error(`CRC ${crc} does not match the bytes (${computed})`);
  const attributes = bytes.readInt16BE(21);
  if ((attributes & 0x07) !== 0) throw new Error(`the model reads uncompressed batches only (codec ${attributes & 0x07})`);
  const lastOffsetDelta = bytes.readInt32BE(23);
  const firstTimestamp = Number(bytes.readBigInt64BE(27));
  const producerId = bytes.readBigInt64BE(43);
  const producerEpoch = bytes.readInt16BE(51);
  const baseSequence = bytes.readInt32BE(53);
  const count = bytes.readInt32BE(57);
  if (count < 1) throw new Error(`a batch of ${count} records`);
  if (lastOffsetDelta !== count - 1) throw new Error(`lastOffsetDelta ${lastOffsetDelta} for ${count} records`);
  const r = new Reader(bytes.subarray(61));
  const records: DecodedRecord[] = [];
  for (let i = 0; i < count; i++) {
    const size = r.varint();
    const start = r.at;
    r.int8(); // attributes
    const timestamp = firstTimestamp + r.varint();
    const offsetDelta = r.varint();
    if (offsetDelta !== i) throw new Error(`record ${i} has offset delta ${offsetDelta}`);
    const key = r.bytes();
    const value = r.bytes();
    const headers: Array<[string, Buffer | null]> = [];
    const nh = r.varint();
    for (let h = 0; h < nh; h++) {
      const name = r.bytes();
      headers.push([name ? name.toString('utf8') : '', r.bytes()]);
    }
    if (r.at - start !== size) throw new Error(`record ${i} says ${size} bytes, holds ${r.at - start}`);
    records.push({ key, value, timestamp, headers });
  }
  if (r.left !== 0) throw new Error(`${r.left} bytes after the last record`);
  return { producerId, producerEpoch, baseSequence, attributes, lastOffsetDelta, records, bytes };
}

// ---- the cluster --------------------------------------------------------------------------------

export interface ModelTopicSpec {
  name: string;
  partitions: number;
  /** replicas per partition (default: min(3, brokers)) */
  replicationFactor?: number;
  /** min.insync.replicas (default 1) */
  minInsync?: number;
  /** max.message.bytes: larger batches are refused with MESSAGE_TOO_LARGE (default 1048588) */
  maxMessageBytes?: number;
  /** cleanup.policy=compact: records without a key are refused (INVALID_RECORD) */
  compacted?: boolean;
  /** log.message.timestamp.after.max.ms (default 1 h): later timestamps are refused (INVALID_TIMESTAMP) */
  timestampAfterMaxMs?: number;
  /** the leader of each partition (default: round robin over the brokers) */
  leaders?: number[];
}

export interface ModelOptions {
  brokers: number[];
  topics: ModelTopicSpec[];
  /** one-way time of an answer (default 1 ms) */
  latencyMs?: number;
  /** time a connect takes (default 1 ms) */
  connectMs?: number;
  /** a killed broker's partitions get new leaders after this (default 0: at once); -1: never on their own */
  failoverMs?: number;
  /** how long the client waits for a Metadata or InitProducerId answer (Produce: the request's own timeout) */
  requestTimeoutMs?: number;
}

export interface LogEntry {
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: number;
  producerId: bigint;
  producerEpoch: number;
  /** the record's own sequence number (-1 without idempotence) */
  sequence: number;
  /** the request that wrote it */
  requestId: number;
  writtenAt: number;
}

interface CachedBatch {
  firstSeq: number;
  lastSeq: number;
  firstOffset: number;
}

interface ProducerStateEntry {
  epoch: number;
  /** the last 5 batches written, oldest first (Kafka's ProducerStateEntry) */
  batches: CachedBatch[];
}

interface ModelPartition {
  topic: string;
  partition: number;
  replicas: number[];
  leader: number;
  leaderEpoch: number;
  log: LogEntry[];
  logStartOffset: number;
  producers: Map<bigint, ProducerStateEntry>;
}

interface ModelTopic {
  spec: Required<Omit<ModelTopicSpec, 'leaders'>>;
  partitions: ModelPartition[];
  writeDenied: boolean;
}

/** What the model did with one partition of a Produce request. */
export interface SeenBatch {
  topic: string;
  partition: number;
  batch?: DecodedBatch;
  errorCode: number;
  /** the offset answered (-1 on errors) */
  baseOffset: number;
  /** appended to the log by this request */
  written: boolean;
  /** a resend the broker recognised (answered with the first write's offset) */
  duplicate: boolean;
  recordErrors: RecordErrorInfo[];
  /** left out of the answer by a fault */
  omitted: boolean;
}

/**
 * pending: sent, not settled; answered; no-answer (acks 0, or the client's
 * request timeout passed); lost (the connection closed after the broker read
 * it); unread (the connection closed before the broker read it); dropped (a
 * dropBeforeWrite fault); failed (no connection to send it on).
 */
export type RequestOutcome = 'pending' | 'answered' | 'no-answer' | 'lost' | 'unread' | 'dropped' | 'failed';

export interface SeenRequest {
  id: number;
  node: number;
  /** when the client sent it */
  at: number;
  /** when the broker read it (requests on one connection are read one at a time) */
  readAt?: number;
  acks: number;
  /** "topic-partition" of each batch it carries, as sent */
  carries: string[];
  /** what the broker did with each partition, once read */
  batches: SeenBatch[];
  outcome: RequestOutcome;
}

export type RequestFaultKind =
  /** the connection drops before the broker reads the request: nothing written, the request fails */
  | 'dropBeforeWrite'
  /** the broker writes, the answer is lost: the request times out (KafkaJSRequestTimeoutError) */
  | 'loseAnswer';

export interface PartitionFault {
  topic: string;
  partition?: number;
  /** the error answered for the partition */
  code: number;
  /** written before the error is answered (REQUEST_TIMED_OUT, NOT_ENOUGH_REPLICAS_AFTER_APPEND) */
  afterWrite?: boolean;
  /** left out of the answer instead (code unused); `afterWrite` says whether it was written */
  omit?: boolean;
  /** refuse only these record indexes (record_errors); the batch is not written */
  recordIndexes?: number[];
  message?: string;
  /** only batches this says yes to */
  match?: (batch: DecodedBatch) => boolean;
  /** how many more batches it applies to */
  times: number;
  /** how many it applied to so far */
  used: number;
}

export interface RequestFault {
  kind: RequestFaultKind;
  node?: number;
  /** only requests carrying this topic (and partition) */
  topic?: string;
  partition?: number;
  times: number;
  used: number;
}

interface Pending {
  node: number;
  done: boolean;
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer?: unknown;
  request?: SeenRequest;
}

/** What the broker does with a request when it reads it. */
interface Work {
  pending: Pending;
  expectAnswer: boolean;
  /** the answer, or 'lost' (never sent: the connection stays busy), or 'closed' (the connection closed) */
  run(): { answer: unknown } | 'lost' | 'closed';
}

interface Connection {
  state: 'down' | 'connecting' | 'ready';
  generation: number;
  failures: number;
  reconnectAt: number;
  /** requests sent, not settled (the client's view) */
  pending: Set<Pending>;
  /** requests the broker has not read yet: it reads the next once it sent the answer to the last (a muted channel) */
  unread: Work[];
  busy: boolean;
}

interface SenderHooks {
  wake(): void;
  nodeFailed(node: number, err: Error): void;
}

function namedError(name: string, message: string): Error {
  const e = new Error(message);
  e.name = name;
  return e;
}

export class ModelKafka implements SenderTransport {
  readonly requests: SeenRequest[] = [];
  /** things the engine sent that no broker would take (bad CRC, two batches in one partition entry, ...) */
  readonly violations: string[] = [];
  /** per node, the most Produce requests in flight at once (Metadata and InitProducerId are not counted) */
  readonly maxInFlight = new Map<number, number>();
  readonly partitionFaults: PartitionFault[] = [];
  readonly requestFaults: RequestFault[] = [];
  /** producer ids handed out */
  readonly producerIds: bigint[] = [];
  /** errors the next InitProducerId requests get, in order */
  readonly initFaults: Array<{ code: number; times: number }> = [];
  metadataRequests = 0;
  /** connections the client closed itself (after a request timeout) */
  readonly aborts: Array<{ node: number; at: number; error: Error }> = [];

  private readonly topics = new Map<string, ModelTopic>();
  private readonly alive = new Map<number, boolean>();
  private readonly connections = new Map<number, Connection>();
  private readonly held = new Map<number, Array<() => void>>();
  private readonly latencyMs: number;
  private readonly connectMs: number;
  private readonly failoverMs: number;
  private readonly requestTimeoutMs: number;
  private hooks: SenderHooks | undefined;
  private nextProducerId = 4000n;
  private nextRequestId = 1;
  private rotation = 0;
  knownNodes: BrokerInfo[] = [];

  constructor(
    private readonly clock: SimClock,
    options: ModelOptions,
  ) {
    this.latencyMs = options.latencyMs ?? 1;
    this.connectMs = options.connectMs ?? 1;
    this.failoverMs = options.failoverMs ?? 0;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    for (const id of options.brokers) {
      this.alive.set(id, true);
      this.connections.set(id, { state: 'down', generation: 0, failures: 0, reconnectAt: 0, pending: new Set(), unread: [], busy: false });
    }
    for (const t of options.topics) this.createTopic(t);
  }

  createTopic(t: ModelTopicSpec): void {
    const brokers = [...this.alive.keys()];
    const rf = Math.min(t.replicationFactor ?? 3, brokers.length);
    const spec: ModelTopic['spec'] = {
      name: t.name,
      partitions: t.partitions,
      replicationFactor: rf,
      minInsync: t.minInsync ?? 1,
      maxMessageBytes: t.maxMessageBytes ?? 1_048_588,
      compacted: t.compacted ?? false,
      timestampAfterMaxMs: t.timestampAfterMaxMs ?? 3_600_000,
    };
    const partitions: ModelPartition[] = [];
    for (let p = 0; p < t.partitions; p++) {
      const leader = t.leaders?.[p] ?? brokers[p % brokers.length];
      const start = brokers.indexOf(leader);
      const replicas = Array.from({ length: rf }, (_, i) => brokers[(start + i) % brokers.length]);
      partitions.push({ topic: t.name, partition: p, replicas, leader, leaderEpoch: 0, log: [], logStartOffset: 0, producers: new Map() });
    }
    this.topics.set(t.name, { spec, partitions, writeDenied: false });
  }

  /** The sender to wake when a connection opens, and to tell when one fails (the network's events). */
  attach(hooks: SenderHooks): void {
    this.hooks = hooks;
  }

  // ---- SenderTransport: connections ----------------------------------------------------------

  isReady(node: number): boolean {
    return this.connections.get(node)?.state === 'ready';
  }

  connect(node: number): void {
    const c = this.connections.get(node);
    if (!c || c.state !== 'down' || this.clock.now() < c.reconnectAt) return;
    this.startConnect(node, c);
  }

  private startConnect(node: number, c: Connection): void {
    c.state = 'connecting';
    const generation = ++c.generation;
    this.clock.setTimeout(() => {
      if (c.generation !== generation || c.state !== 'connecting') return;
      if (this.alive.get(node)) {
        c.state = 'ready';
        c.failures = 0;
        this.hooks?.wake();
      } else {
        c.state = 'down';
        c.failures++;
        c.reconnectAt = this.clock.now() + Math.min(1000, 50 * 2 ** (c.failures - 1));
        this.hooks?.nodeFailed(node, namedError('KafkaJSConnectionError', `Connection error: connect ECONNREFUSED ${this.describe(node)}`));
      }
    }, this.connectMs);
  }

  connectDelay(node: number): number {
    const c = this.connections.get(node);
    if (!c || c.state !== 'down') return 0;
    return Math.max(0, c.reconnectAt - this.clock.now());
  }

  leastLoadedNode(): number | undefined {
    let best: number | undefined;
    for (const [node, c] of this.connections) {
      if (c.state === 'ready' && (best === undefined || c.pending.size < this.connections.get(best)!.pending.size)) best = node;
    }
    if (best !== undefined) return best;
    const all = [...this.connections.entries()];
    if (all.some(([, c]) => c.state === 'connecting')) return undefined;
    const now = this.clock.now();
    for (let i = 0; i < all.length; i++) {
      const [node, c] = all[(this.rotation + i) % all.length];
      if (c.state === 'down' && now >= c.reconnectAt) {
        this.rotation = (this.rotation + i + 1) % all.length;
        this.startConnect(node, c);
        return undefined;
      }
    }
    return undefined;
  }

  nextConnectDelay(): number {
    let best = Infinity;
    for (const c of this.connections.values()) {
      if (c.state !== 'down') return 0;
      best = Math.min(best, Math.max(0, c.reconnectAt - this.clock.now()));
    }
    return best === Infinity ? 0 : best;
  }

  setNodes(brokers: BrokerInfo[]): void {
    this.knownNodes = brokers;
  }

  describe(node: number): string {
    return `broker-${node}:9092 (node ${node})`;
  }

  abort(node: number, err: Error): void {
    this.aborts.push({ node, at: this.clock.now(), error: err });
    this.closeConnection(node, err);
  }

  /** Closes a node's connection: requests on it fail with `err` (the broker keeps what it wrote). */
  private closeConnection(node: number, err: Error): void {
    const c = this.connections.get(node);
    if (!c || c.state === 'down') return;
    c.state = 'down';
    c.generation++;
    c.reconnectAt = this.clock.now() + (c.failures > 0 ? Math.min(1000, 50 * 2 ** c.failures) : 0);
    for (const w of c.unread) if (w.pending.request) w.pending.request.outcome = 'unread';
    c.unread = [];
    c.busy = false;
    const pending = [...c.pending];
    c.pending.clear();
    this.held.delete(node);
    for (const p of pending) {
      if (p.done) continue;
      p.done = true;
      if (p.timer !== undefined) this.clock.clearTimeout(p.timer);
      if (p.request && p.request.outcome === 'pending') p.request.outcome = 'lost';
      p.reject(err);
    }
    this.hooks?.nodeFailed(node, err);
  }

  // ---- requests ------------------------------------------------------------------------------

  /**
   * Sends a request on the node's connection: the broker reads it in its turn
   * (`run`), and its answer reaches the client after the latency. Rejects at
   * once without a ready connection, and after `timeoutMs` without an answer
   * (the client's request timeout, as kafkajs keeps it).
   */
  private send<T>(node: number, api: string, timeoutMs: number, expectAnswer: boolean, run: Work['run'], request?: SeenRequest): Promise<T> {
    const c = this.connections.get(node);
    if (!c || c.state !== 'ready') return Promise.reject(namedError('KafkaConnectionError', `Not connected to ${this.describe(node)}`));
    let pending!: Pending;
    const promise = new Promise<T>((resolve, reject) => {
      pending = { node, done: false, resolve: resolve as (v: unknown) => void, reject, request };
    });
    if (expectAnswer) {
      c.pending.add(pending);
      if (request) {
        const n = [...c.pending].filter((p) => p.request).length;
        if (n > (this.maxInFlight.get(node) ?? 0)) this.maxInFlight.set(node, n);
      }
      pending.timer = this.clock.setTimeout(() => {
        if (pending.done) return;
        pending.done = true;
        c.pending.delete(pending);
        if (request && request.outcome === 'pending') request.outcome = 'no-answer';
        pending.reject(namedError('KafkaJSRequestTimeoutError', `Request ${api} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
    } else {
      // acks 0: written to the socket is all the client learns.
      pending.done = true;
      if (request) request.outcome = 'no-answer';
      pending.resolve(undefined);
    }
    c.unread.push({ pending, expectAnswer, run });
    this.readNext(node);
    return promise;
  }

  /** The broker reads the connection's next request, unless it still owes the answer to the last one. */
  private readNext(node: number): void {
    const c = this.connections.get(node)!;
    while (!c.busy && c.state === 'ready' && c.unread.length) {
      const work = c.unread.shift()!;
      const generation = c.generation;
      c.busy = true;
      const result = work.run();
      if (result === 'closed' || c.generation !== generation) return;
      if (!work.expectAnswer) {
        c.busy = false;
        continue;
      }
      if (result === 'lost') return; // busy until the client gives up and closes the connection
      const respond = () => {
        if (c.generation !== generation) return;
        c.busy = false;
        const p = work.pending;
        this.clock.setTimeout(() => {
          if (p.done) return;
          p.done = true;
          this.clock.clearTimeout(p.timer);
          c.pending.delete(p);
          if (p.request) p.request.outcome = 'answered';
          p.resolve(result.answer);
        }, this.latencyMs);
        this.readNext(node);
      };
      const held = this.held.get(node);
      if (held) held.push(respond);
      else respond();
    }
  }

  metadata(node: number, topics: string[]): Promise<MetadataResponse> {
    return this.send(node, 'Metadata', this.requestTimeoutMs, true, () => {
      this.metadataRequests++;
      return { answer: this.metadataAnswer(topics) };
    });
  }

  initProducerId(node: number): Promise<InitProducerIdResponse> {
    return this.send(node, 'InitProducerId', this.requestTimeoutMs, true, () => {
      const fault = this.initFaults[0];
      if (fault) {
        if (--fault.times <= 0) this.initFaults.shift();
        return { answer: { errorCode: fault.code, producerId: -1n, producerEpoch: -1, throttleTimeMs: 0 } };
      }
      const producerId = this.nextProducerId++;
      this.producerIds.push(producerId);
      return { answer: { errorCode: ErrorCode.NONE, producerId, producerEpoch: 0, throttleTimeMs: 0 } };
    });
  }

  produce(node: number, call: ProduceCall): Promise<ProduceResponse | undefined> {
    const request: SeenRequest = {
      id: this.nextRequestId++,
      node,
      at: this.clock.now(),
      acks: call.acks,
      carries: call.topics.flatMap((t) => t.partitions.map((p) => `${t.topic}-${p.partition}`)),
      batches: [],
      outcome: 'pending',
    };
    this.requests.push(request);
    if (!this.isReady(node)) request.outcome = 'failed';
    return this.send<ProduceResponse | undefined>(node, 'Produce', call.timeoutMs, call.acks !== 0, () => this.handleProduce(node, call, request), request);
  }

  private handleProduce(node: number, call: ProduceCall, request: SeenRequest): { answer: ProduceResponse } | 'lost' | 'closed' {
    request.readAt = this.clock.now();
    const fault = this.takeRequestFault(node, call);
    if (fault === 'dropBeforeWrite') {
      request.outcome = 'dropped';
      this.closeConnection(node, namedError('KafkaJSConnectionClosedError', `Closed connection to ${this.describe(node)}`));
      return 'closed';
    }
    const partitions: PartitionProduceResponse[] = [];
    const seenKeys = new Set<string>();
    for (const t of call.topics) {
      for (const p of t.partitions) {
        const key = `${t.topic}-${p.partition}`;
        if (seenKeys.has(key)) this.violations.push(`request ${request.id}: ${key} twice in one request`);
        seenKeys.add(key);
        const seen = this.append(node, request, t.topic, p.partition, p.batch, call.acks);
        request.batches.push(seen);
        if (!seen.omitted) {
          partitions.push({
            topic: t.topic,
            partition: p.partition,
            errorCode: seen.errorCode,
            baseOffset: BigInt(seen.baseOffset),
            logAppendTimeMs: -1n,
            logStartOffset: this.logStartOffsetFor(t.topic, p.partition, seen.errorCode),
            recordErrors: seen.recordErrors,
            errorMessage: seen.errorCode ? `model: ${seen.errorCode}` : null,
          });
        }
      }
    }
    if (fault === 'loseAnswer') return 'lost';
    return { answer: { partitions, throttleTimeMs: 0 } };
  }

  private logStartOffsetFor(topic: string, partition: number, code: number): bigint {
    if (code === ErrorCode.NOT_LEADER_OR_FOLLOWER || code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) return -1n;
    const p = this.topics.get(topic)?.partitions[partition];
    return p ? BigInt(p.logStartOffset) : -1n;
  }

  private takeRequestFault(node: number, call: ProduceCall): RequestFaultKind | undefined {
    for (let i = 0; i < this.requestFaults.length; i++) {
      const f = this.requestFaults[i];
      if (f.node !== undefined && f.node !== node) continue;
      if (f.topic !== undefined) {
        const t = call.topics.find((x) => x.topic === f.topic);
        if (!t || (f.partition !== undefined && !t.partitions.some((p) => p.partition === f.partition))) continue;
      }
      f.used++;
      if (--f.times <= 0) this.requestFaults.splice(i, 1);
      return f.kind;
    }
    return undefined;
  }

  private takePartitionFault(topic: string, partition: number, batch: DecodedBatch, duplicate: boolean): PartitionFault | undefined {
    for (let i = 0; i < this.partitionFaults.length; i++) {
      const f = this.partitionFaults[i];
      if (f.topic !== topic || (f.partition !== undefined && f.partition !== partition)) continue;
      if (f.match && !f.match(batch)) continue;
      // A resend of a batch already in the log waits for nothing more (its replication is done once a
      // later batch was acknowledged): faults that strike after the write pass it by.
      if (f.afterWrite && duplicate) continue;
      f.used++;
      if (--f.times <= 0) this.partitionFaults.splice(i, 1);
      return f;
    }
    return undefined;
  }

  /** One partition of a Produce request, as the leader handles it. */
  private append(node: number, request: SeenRequest, topic: string, partition: number, bytes: Buffer, acks: number): SeenBatch {
    const seen: SeenBatch = { topic, partition, errorCode: 0, baseOffset: -1, written: false, duplicate: false, recordErrors: [], omitted: false };
    const fail = (code: number): SeenBatch => {
      seen.errorCode = code;
      return seen;
    };
    try {
      seen.batch = decodeRecordBatch(bytes);
    } catch (e) {
      this.violations.push(`request ${request.id} ${topic}-${partition}: ${(e as Error).message}`);
      return fail(2 /* CORRUPT_MESSAGE */);
    }
    const batch = seen.batch;
    const t = this.topics.get(topic);
    const p = t?.partitions[partition];
    if (!t || !p) return fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    if (t.writeDenied) return fail(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    if (p.leader !== node) return fail(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    if (acks !== -1 && acks !== 0 && acks !== 1) return fail(21 /* INVALID_REQUIRED_ACKS */);

    const fault = this.takePartitionFault(topic, partition, batch, this.cachedBatch(p, batch) !== undefined);
    if (fault && !fault.afterWrite && !fault.omit && !fault.recordIndexes) return fail(fault.code);
    if (fault?.omit && !fault.afterWrite) {
      seen.omitted = true;
      return seen;
    }

    if (acks === -1 && this.isr(p).length < t.spec.minInsync) return fail(19 /* NOT_ENOUGH_REPLICAS */);
    if (bytes.length > t.spec.maxMessageBytes) return fail(ErrorCode.MESSAGE_TOO_LARGE);

    // Record validation (LogValidator): the whole batch is refused, naming the records.
    const now = this.clock.now();
    let code = 0;
    batch.records.forEach((r, i) => {
      if (fault?.recordIndexes?.includes(i)) {
        code ||= fault.code;
        seen.recordErrors.push({ batchIndex: i, message: fault.message ?? `record ${i} refused` });
      } else if (t.spec.compacted && r.key === null) {
        code ||= ErrorCode.INVALID_RECORD;
        seen.recordErrors.push({ batchIndex: i, message: 'Compacted topic cannot accept message without key in topic partition' });
      } else if (r.timestamp - now > t.spec.timestampAfterMaxMs) {
        code ||= ErrorCode.INVALID_TIMESTAMP;
        seen.recordErrors.push({ batchIndex: i, message: `Timestamp ${r.timestamp} of message with offset ${i} is out of range` });
      }
    });
    if (code) return fail(code);

    // The producer state (idempotence): duplicates, epochs, sequence order.
    const count = batch.records.length;
    const lastSeq = batch.baseSequence + count - 1;
    if (batch.producerId >= 0n) {
      const state = p.producers.get(batch.producerId);
      if (!state) {
        if (batch.baseSequence !== 0) return fail(ErrorCode.UNKNOWN_PRODUCER_ID);
      } else if (batch.producerEpoch < state.epoch) {
        return fail(ErrorCode.INVALID_PRODUCER_EPOCH);
      } else if (batch.producerEpoch > state.epoch) {
        if (batch.baseSequence !== 0) return fail(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
      } else {
        const dup = this.cachedBatch(p, batch);
        if (dup) {
          seen.duplicate = true;
          seen.baseOffset = dup.firstOffset;
          return this.afterWrite(seen, fault);
        }
        const last = state.batches[state.batches.length - 1];
        if (!last || batch.baseSequence !== last.lastSeq + 1) return fail(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
      }
    }

    const base = p.log.length;
    batch.records.forEach((r, i) => {
      p.log.push({
        offset: base + i,
        key: r.key,
        value: r.value,
        timestamp: r.timestamp,
        producerId: batch.producerId,
        producerEpoch: batch.producerEpoch,
        sequence: batch.producerId >= 0n ? batch.baseSequence + i : -1,
        requestId: request.id,
        writtenAt: now,
      });
    });
    seen.written = true;
    seen.baseOffset = base;
    if (batch.producerId >= 0n) {
      const state = p.producers.get(batch.producerId);
      const cached = { firstSeq: batch.baseSequence, lastSeq, firstOffset: base };
      if (!state || batch.producerEpoch !== state.epoch) p.producers.set(batch.producerId, { epoch: batch.producerEpoch, batches: [cached] });
      else {
        state.batches.push(cached);
        if (state.batches.length > 5) state.batches.shift();
      }
    }
    return this.afterWrite(seen, fault);
  }

  /** A fault that strikes once the batch is in the log: the answer says otherwise, or nothing. */
  private afterWrite(seen: SeenBatch, fault: PartitionFault | undefined): SeenBatch {
    if (fault?.afterWrite) {
      if (fault.omit) seen.omitted = true;
      else {
        seen.errorCode = fault.code;
        seen.baseOffset = -1;
      }
    }
    return seen;
  }

  /** The broker's record of this very batch (same producer, epoch and sequences), if still among the last 5. */
  private cachedBatch(p: ModelPartition, batch: DecodedBatch): CachedBatch | undefined {
    const state = batch.producerId >= 0n ? p.producers.get(batch.producerId) : undefined;
    if (!state || state.epoch !== batch.producerEpoch) return undefined;
    const lastSeq = batch.baseSequence + batch.records.length - 1;
    return state.batches.find((b) => b.firstSeq === batch.baseSequence && b.lastSeq === lastSeq);
  }

  private isr(p: ModelPartition): number[] {
    return p.replicas.filter((r) => this.alive.get(r));
  }

  private metadataAnswer(topics: string[]): MetadataResponse {
    const brokers: BrokerInfo[] = [...this.alive.entries()]
      .filter(([, up]) => up)
      .map(([nodeId]) => ({ nodeId, host: `broker-${nodeId}`, port: 9092, rack: null }));
    return {
      brokers,
      clusterId: 'model-cluster',
      controllerId: brokers[0]?.nodeId ?? -1,
      topics: topics.map((name) => {
        const t = this.topics.get(name);
        if (!t) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, topic: name, partitions: [] };
        return {
          errorCode: ErrorCode.NONE,
          topic: name,
          partitions: t.partitions.map(
            (p): PartitionInfo => ({
              errorCode: p.leader < 0 ? ErrorCode.LEADER_NOT_AVAILABLE : ErrorCode.NONE,
              partition: p.partition,
              leader: p.leader,
              leaderEpoch: p.leaderEpoch,
              replicas: [...p.replicas],
              isr: this.isr(p),
              offlineReplicas: p.replicas.filter((r) => !this.alive.get(r)),
            }),
          ),
        };
      }),
    };
  }

  // ---- faults ----------------------------------------------------------------------------------

  /** Answers the partition's next batches with `code` (not written unless afterWrite). */
  failPartition(
    topic: string,
    partition: number | undefined,
    code: number,
    opts: { times?: number; afterWrite?: boolean; match?: (b: DecodedBatch) => boolean; message?: string } = {},
  ): PartitionFault {
    const f: PartitionFault = { topic, partition, code, afterWrite: opts.afterWrite, match: opts.match, message: opts.message, times: opts.times ?? 1, used: 0 };
    this.partitionFaults.push(f);
    return f;
  }

  /** Leaves the partition out of the next answers (written or not). */
  omitPartition(topic: string, partition: number, opts: { times?: number; written?: boolean } = {}): PartitionFault {
    const f: PartitionFault = { topic, partition, code: 0, omit: true, afterWrite: opts.written ?? true, times: opts.times ?? 1, used: 0 };
    this.partitionFaults.push(f);
    return f;
  }

  /** Refuses records by index in the partition's next batch (record_errors; the batch is not written). */
  refuseRecords(topic: string, partition: number, indexes: number[], code: number, opts: { times?: number; match?: (b: DecodedBatch) => boolean; message?: string } = {}): PartitionFault {
    const f: PartitionFault = { topic, partition, code, recordIndexes: indexes, match: opts.match, message: opts.message, times: opts.times ?? 1, used: 0 };
    this.partitionFaults.push(f);
    return f;
  }

  failRequest(kind: RequestFaultKind, opts: { node?: number; topic?: string; partition?: number; times?: number } = {}): RequestFault {
    const f: RequestFault = { kind, node: opts.node, topic: opts.topic, partition: opts.partition, times: opts.times ?? 1, used: 0 };
    this.requestFaults.push(f);
    return f;
  }

  /** Answers the next InitProducerId requests with `code` (e.g. CLUSTER_AUTHORIZATION_FAILED without IdempotentWrite). */
  failInitProducerId(code: number, times = 1): void {
    this.initFaults.push({ code, times });
  }

  /** Takes back one fault before it ran out. */
  removeFault(f: PartitionFault | RequestFault): void {
    const pi = this.partitionFaults.indexOf(f as PartitionFault);
    if (pi >= 0) this.partitionFaults.splice(pi, 1);
    const ri = this.requestFaults.indexOf(f as RequestFault);
    if (ri >= 0) this.requestFaults.splice(ri, 1);
  }

  clearFaults(): void {
    this.partitionFaults.length = 0;
    this.requestFaults.length = 0;
  }

  /** Writes to the topic are refused (Describe allowed, Write denied). */
  denyWrite(topic: string, denied = true): void {
    this.topic(topic).writeDenied = denied;
  }

  /** Leadership moves (a reassignment or preferred leader election): the leader epoch grows. */
  moveLeader(topic: string, partition: number, node: number): void {
    const p = this.topic(topic).partitions[partition];
    if (!p.replicas.includes(node)) p.replicas.push(node);
    p.leader = node;
    p.leaderEpoch++;
  }

  /** The broker forgets this partition's producer state (as when retention removed all its batches). */
  loseProducerState(topic: string, partition: number): void {
    this.topic(topic).partitions[partition].producers.clear();
  }

  /** The broker stops: its connections drop; its partitions get a new leader from the live replicas. */
  kill(node: number): void {
    if (!this.alive.get(node)) return;
    this.alive.set(node, false);
    // A connect under way fails too (closeConnection cancels it).
    this.closeConnection(node, namedError('KafkaJSConnectionClosedError', `Closed connection to ${this.describe(node)}`));
    if (this.failoverMs === 0) this.failover(node);
    else if (this.failoverMs > 0) this.clock.setTimeout(() => this.failover(node), this.failoverMs);
  }

  private failover(node: number): void {
    if (this.alive.get(node)) return;
    for (const t of this.topics.values()) {
      for (const p of t.partitions) {
        if (p.leader !== node) continue;
        p.leader = this.isr(p)[0] ?? -1;
        p.leaderEpoch++;
      }
    }
  }

  /** The broker comes back; partitions without a leader elect it. */
  restart(node: number): void {
    if (this.alive.get(node)) return;
    this.alive.set(node, true);
    const c = this.connections.get(node)!;
    c.reconnectAt = 0;
    for (const t of this.topics.values()) {
      for (const p of t.partitions) {
        if (p.leader < 0 && p.replicas.includes(node)) {
          p.leader = node;
          p.leaderEpoch++;
        }
      }
    }
    this.hooks?.wake();
  }

  isAlive(node: number): boolean {
    return this.alive.get(node) === true;
  }

  /**
   * The node's next answer waits until release(), and so does every request
   * behind it on the connection (Kafka reads a connection's next request only
   * once it answered the last); the client's request timeouts still run.
   */
  hold(node: number): void {
    if (!this.held.has(node)) this.held.set(node, []);
  }

  release(node: number): void {
    const queue = this.held.get(node);
    this.held.delete(node);
    for (const deliver of queue ?? []) deliver();
  }

  // ---- reading the cluster -------------------------------------------------------------------

  private topic(name: string): ModelTopic {
    const t = this.topics.get(name);
    if (!t) throw new Error(`no topic ${name} in the model`);
    return t;
  }

  log(topic: string, partition: number): readonly LogEntry[] {
    return this.topic(topic).partitions[partition].log;
  }

  leader(topic: string, partition: number): number {
    return this.topic(topic).partitions[partition].leader;
  }

  replicas(topic: string, partition: number): readonly number[] {
    return this.topic(topic).partitions[partition].replicas;
  }

  partitionCount(topic: string): number {
    return this.topic(topic).partitions.length;
  }

  /** Every record of the topic, as a reader would find it (for auditDelivery). */
  stored(topic: string): StoredRecord[] {
    const out: StoredRecord[] = [];
    for (const p of this.topic(topic).partitions) {
      for (const e of p.log) {
        out.push({ partition: p.partition, offset: String(e.offset), key: e.key ? e.key.toString('utf8') : null, value: e.value ? e.value.toString('utf8') : null });
      }
    }
    return out;
  }

  /** The batches the model saw for a partition, in arrival order. */
  batchesFor(topic: string, partition: number): Array<SeenBatch & { request: SeenRequest }> {
    const out: Array<SeenBatch & { request: SeenRequest }> = [];
    for (const r of this.requests) for (const b of r.batches) if (b.topic === topic && b.partition === partition) out.push({ ...b, request: r });
    return out;
  }

  /** Requests to a node, or all. */
  requestsTo(node?: number): SeenRequest[] {
    return node === undefined ? this.requests : this.requests.filter((r) => r.node === node);
  }

  /** Produce requests not yet settled on a node's connection. */
  inFlight(node: number): number {
    return [...(this.connections.get(node)?.pending ?? [])].filter((p) => p.request).length;
  }
}
