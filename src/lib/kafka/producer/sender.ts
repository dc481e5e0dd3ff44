// Sends what the accumulator holds, as the Java client's Sender: per broker,
// one Produce request at a time carries the first ready batch of each of the
// partitions that broker leads (up to max.request.size), with at most
// max.in.flight requests per broker. Each partition of the answer settles on
// its own: written batches are acknowledged, a retriable error sends that
// batch alone again after a backoff (refreshing metadata when the leader
// moved), a batch too large is split, records the broker refused one by one
// fail alone, anything else fails that batch only. This is the one retry
// layer: delivery.timeout.ms ends all retrying of a batch, and a batch that
// failed is never sent again.
//
// The sender also keeps the cluster metadata current and, for the idempotent
// producer, gets the producer id and applies epoch bumps before draining.

import { exponentialBackoff, type BackoffPolicy } from '../../common/backoff';
import type { Clock } from '../../common/clock';
import { boundedDelay } from '../../common/timers';
import { producerClosed, ProducerError } from '../errors';
import { ErrorCode, isInvalidMetadataCode, isRetriableCode, KafkaProtocolError } from '../protocol/error-codes';
import type { InitProducerIdResponse } from '../protocol/init-producer-id';
import type { BrokerInfo, MetadataResponse } from '../protocol/metadata';
import { isRequestTimeout } from '../protocol/network';
import type { PartitionProduceResponse, ProduceResponse } from '../protocol/produce';
import { producerStateOf, withProducerState, type EncodedBatch, type ProducerState } from '../protocol/record-batch';
import { oldestOf, type RecordAccumulator } from './accumulator';
import type { ClusterMetadata } from './cluster-metadata';
import type { IdempotenceManager } from './idempotence';
import { ProducerBatch, tpKey } from './producer-batch';

/** What the sender needs from the network (protocol/transport.ts; a fake one in unit tests). */
export interface SenderTransport {
  isReady(node: number): boolean;
  /** starts connecting (no-op while connecting or in backoff) */
  connect(node: number): void;
  /** ms until a connect to the node may start */
  connectDelay(node: number): number;
  /** a ready node for metadata and InitProducerId; undefined (and a connect started) when none is */
  leastLoadedNode(): number | undefined;
  /** ms until leastLoadedNode could start another connect */
  nextConnectDelay(): number;
  setNodes(brokers: BrokerInfo[]): void;
  /** "host:port (node n)" */
  describe(node: number): string;
  /** resolves with the answer, or undefined with acks 0; rejects when the request failed as a whole */
  produce(node: number, request: ProduceCall): Promise<ProduceResponse | undefined>;
  metadata(node: number, topics: string[]): Promise<MetadataResponse>;
  initProducerId(node: number): Promise<InitProducerIdResponse>;
  /** closes the node's connection, failing its requests in flight (after a request timeout) */
  abort(node: number, err: Error): void;
}

export interface ProduceCall {
  acks: number;
  timeoutMs: number;
  topics: Array<{ topic: string; partitions: Array<{ partition: number; batch: Buffer }> }>;
}

/** Writes a batch's records (compressing them) under a producer state. */
export type BatchEncoder = (batch: ProducerBatch, state: ProducerState) => Promise<EncodedBatch>;

export interface SenderOptions {
  acks: number;
  /** max.in.flight.requests.per.connection */
  maxInFlight: number;
  maxRequestSize: number;
  requestTimeoutMs: number;
  retries: number;
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
  deliveryTimeoutMs: number;
}

export interface SenderEvents {
  /** a request was answered (or, with acks 0, written) */
  onRequestDone?(node: number, latencyMs: number, records: number): void;
  /** a batch was written by the broker */
  onBatchWritten?(batch: ProducerBatch): void;
  /** a batch goes out for the first time: its size on the wire, and before compression */
  onBatchEncoded?(batch: ProducerBatch, wireBytes: number, uncompressedBytes: number): void;
  /** a batch will be sent again */
  onRetry?(batch: ProducerBatch, err: Error): void;
  /** a node could not be reached, or its connection dropped */
  onNodeFailed?(node: number, err: Error): void;
  /** the cluster answered (metadata, or a request) */
  onReachable?(): void;
  /** nothing can work any more (authorization of the idempotent producer, or unsupported broker) */
  onFatal?(err: Error): void;
  /** a bug of ours surfaced while handling an answer (logged; the records concerned fail at their deadline) */
  onInternalError?(err: Error): void;
}

/** Request-level failures that leave the broker's outcome unknown: the batch may be in the log. */
const AMBIGUOUS_CODES = new Set<number>([ErrorCode.REQUEST_TIMED_OUT, ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND, ErrorCode.NETWORK_EXCEPTION]);

interface InFlightRequest {
  node: number;
  batches: ProducerBatch[];
  sentAt: number;
}

export class Sender {
  private readonly inFlightPerNode = new Map<number, number>();
  private readonly requests = new Set<InFlightRequest>();
  /** per node, the last request handed to the transport: requests reach it in drain order */
  private readonly handoff = new Map<number, Promise<unknown>>();
  private readonly backoff: BackoffPolicy;
  private metadataInFlight = false;
  private initInFlight = false;
  private initRetryAt = 0;
  private initFailures = 0;
  private timer: unknown;
  private timerAt = Infinity;
  private runQueued = false;
  private stopped = false;
  private fatalError: Error | undefined;
  private idleWaiters: Array<() => void> = [];
  /** no Produce request goes out while set (metadata and the producer id still do): see hold() */
  private held = false;
  /** the close waiting for the queues to empty (see shortenClose) */
  private flushWait: { deadline: number; timer: unknown; finish(idle: boolean): void } | undefined;
  /** brokers whose last connection or request failed, and that have not answered since */
  private readonly down = new Set<number>();

  constructor(
    private readonly acc: RecordAccumulator,
    private readonly metadata: ClusterMetadata,
    private readonly transport: SenderTransport,
    private readonly encode: BatchEncoder,
    private readonly opts: SenderOptions,
    private readonly clock: Clock,
    private readonly idempotence?: IdempotenceManager,
    private readonly events: SenderEvents = {},
  ) {
    this.backoff = exponentialBackoff({ initialMs: opts.retryBackoffMs, maxMs: opts.retryBackoffMaxMs, jitter: 0.2 });
  }

  get inFlightRequests(): number {
    return this.requests.size;
  }

  get fatal(): Error | undefined {
    return this.fatalError;
  }

  /** Whether the broker's last connection or request failed and it has not answered since. */
  isDown(node: number): boolean {
    return this.down.has(node);
  }

  /** When the oldest record in a request in flight was taken (Infinity: none). */
  oldestInFlight(): number {
    let oldest = Infinity;
    for (const r of this.requests) for (const b of r.batches) oldest = Math.min(oldest, oldestOf(b.records));
    return oldest;
  }

  /**
   * Sends no Produce request until release(): records are taken and wait (and
   * expire at delivery.timeout.ms) while another producer sends what it held
   * for the same partitions first, so that per-partition order holds.
   */
  hold(): void {
    this.held = true;
  }

  release(): void {
    if (!this.held) return;
    this.held = false;
    this.wake();
  }

  get holding(): boolean {
    return this.held;
  }

  /** Coalesces wake-ups from many appends and answers into one pass. */
  wake(): void {
    if (this.runQueued || this.stopped) return;
    this.runQueued = true;
    queueMicrotask(() => {
      this.runQueued = false;
      this.run();
    });
  }

  /** A node's connection changed: look again; note the error on its partitions. */
  nodeFailed(node: number, err: Error): void {
    this.down.add(node);
    this.acc.noteNodeError(node, err);
    this.metadata.requestUpdate();
    this.events.onNodeFailed?.(node, err);
    this.wake();
  }

  private run(): void {
    if (this.stopped) return;
    const now = this.clock.now();
    let wait = Infinity;
    this.expire(now);
    if (this.fatalError) return this.finishPass(now, wait);
    const idem = this.idempotence;
    if (idem) {
      idem.maybeResolveSequences();
      if (idem.bumpEpochIfNeeded()) wait = Math.min(wait, this.maybeInitProducerId(now));
    }
    if ((!idem || idem.hasProducerId()) && !this.held) wait = Math.min(wait, this.sendReady(now));
    wait = Math.min(wait, this.maybeUpdateMetadata(now));
    this.finishPass(now, wait);
  }

  private finishPass(now: number, wait: number): void {
    wait = Math.min(wait, this.acc.nextExpiryMs(now));
    this.schedule(now, wait);
    if (this.requests.size === 0 && this.acc.isEmpty()) for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Drains and sends for every ready broker; returns ms until something lingering becomes ready. */
  private sendReady(now: number): number {
    let wait = Infinity;
    // A few rounds: each takes one request per broker, so a backlog fills the in-flight window.
    for (let round = 0; round < Math.max(1, this.opts.maxInFlight); round++) {
      const check = this.acc.ready(now);
      // Every round: a batch that became a queue's head in a later round (still lingering) needs its timer too.
      wait = Math.min(wait, check.nextReadyCheckMs);
      if (round === 0 && check.unknownLeaderTopics.size) this.metadata.requestUpdate();
      let sent = false;
      for (const node of check.readyNodes) {
        if (!this.transport.isReady(node)) {
          this.transport.connect(node);
          const delay = this.transport.connectDelay(node);
          if (delay > 0) wait = Math.min(wait, delay);
          continue;
        }
        if ((this.inFlightPerNode.get(node) ?? 0) >= this.opts.maxInFlight) continue;
        const batches = this.acc.drain(
          node,
          check.queuesByNode.get(node) ?? [],
          this.opts.maxRequestSize,
          now,
          this.idempotence,
          // Without idempotence only max.in.flight 1 keeps order under retries (Java: guaranteeMessageOrder).
          !this.idempotence && this.opts.maxInFlight === 1,
        );
        if (!batches.length) continue;
        this.send(node, batches, now);
        sent = true;
      }
      if (!sent) break;
    }
    return wait;
  }

  /** The batch's bytes: written (and compressed) at its first send, resent as they are. */
  private wire(batch: ProducerBatch): Promise<Buffer> {
    const state: ProducerState = { producerId: batch.producerId, producerEpoch: batch.producerEpoch, baseSequence: batch.baseSequence };
    const w = batch.wire;
    if (w) {
      const sent = producerStateOf(w.bytes);
      // Only an epoch bump changes a resent batch: the same records under a new header (and CRC).
      if (sent.producerId !== state.producerId || sent.producerEpoch !== state.producerEpoch || sent.baseSequence !== state.baseSequence) {
        w.bytes = withProducerState(w.bytes, state);
      }
      return Promise.resolve(w.bytes);
    }
    return this.encode(batch, state).then((encoded) => {
      this.events.onBatchEncoded?.(batch, encoded.bytes.length, encoded.uncompressedBytes);
      this.acc.observeCompression(batch.topic, encoded.uncompressedBytes, encoded.recordsBytes);
      batch.wire = encoded;
      return encoded.bytes;
    });
  }

  private send(node: number, batches: ProducerBatch[], now: number): void {
    for (const b of batches) {
      b.attempts++;
      b.lastAttemptAt = now;
      b.inFlight = true;
    }
    const request: InFlightRequest = { node, batches, sentAt: now };
    this.requests.add(request);
    this.inFlightPerNode.set(node, (this.inFlightPerNode.get(node) ?? 0) + 1);
    const encoded = Promise.all(batches.map((b) => this.wire(b)));
    const previous = this.handoff.get(node) ?? Promise.resolve();
    // Handed over in drain order even when one request compresses longer than the next.
    const handedOver = Promise.all([encoded, previous]).then(([bytes]) => ({ answer: this.transport.produce(node, this.call(batches, bytes)) }));
    this.handoff.set(node, handedOver.then(noop, noop));
    handedOver
      .then(
        ({ answer }) =>
          answer.then(
            (response) => this.answered(request, response),
            (err: Error) => this.requestFailed(request, err),
          ),
        // Writing the batches failed (a codec): they were never sent.
        (err: Error) => this.encodingFailed(request, err),
      )
      .catch((err: Error) => this.events.onInternalError?.(err))
      .finally(() => {
        this.requests.delete(request);
        this.inFlightPerNode.set(node, (this.inFlightPerNode.get(node) ?? 1) - 1);
        this.wake();
      });
  }

  private call(batches: ProducerBatch[], bytes: Buffer[]): ProduceCall {
    const byTopic = new Map<string, Array<{ partition: number; batch: Buffer }>>();
    batches.forEach((b, i) => {
      let list = byTopic.get(b.topic);
      if (!list) byTopic.set(b.topic, (list = []));
      list.push({ partition: b.partition, batch: bytes[i] });
    });
    return {
      acks: this.opts.acks,
      timeoutMs: this.opts.requestTimeoutMs,
      topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
    };
  }

  // ---- answers -----------------------------------------------------------------------------

  private answered(request: InFlightRequest, response: ProduceResponse | undefined): void {
    const now = this.clock.now();
    let records = 0;
    for (const b of request.batches) records += b.count;
    this.events.onRequestDone?.(request.node, now - request.sentAt, records);
    this.down.delete(request.node);
    this.events.onReachable?.();
    if (this.stopped) return;
    if (!response) {
      // acks 0: written to the socket is all there is to know.
      for (const b of request.batches) this.succeed(b, null, -1n, false);
      return;
    }
    const byPartition = new Map<string, PartitionProduceResponse>();
    for (const p of response.partitions) byPartition.set(tpKey(p.topic, p.partition), p);
    for (const b of request.batches) {
      const answer = byPartition.get(tpKey(b.topic, b.partition));
      if (answer) this.complete(b, answer, now);
      else {
        // Never taken for success: the broker said nothing of this partition.
        const err = new KafkaProtocolError(ErrorCode.NETWORK_EXCEPTION, `no answer for ${b.topic}-${b.partition} in the Produce response`);
        this.retryOrFail(b, ErrorCode.NETWORK_EXCEPTION, err, -1n, now);
      }
    }
  }

  private requestFailed(request: InFlightRequest, err: Error): void {
    const now = this.clock.now();
    if (this.stopped) return;
    const timedOut = isRequestTimeout(err);
    const cause = new KafkaProtocolError(
      ErrorCode.NETWORK_EXCEPTION,
      `${timedOut ? 'no answer within request.timeout.ms' : err.message} from ${this.transport.describe(request.node)}`,
    );
    // As the Java client: a timed out request closes its connection, failing the others in flight on it;
    // their batches are sent again in sequence order once it is back.
    if (timedOut) this.transport.abort(request.node, cause);
    this.down.add(request.node);
    this.metadata.requestUpdate();
    for (const b of request.batches) this.retryOrFail(b, ErrorCode.NETWORK_EXCEPTION, cause, -1n, now);
  }

  private encodingFailed(request: InFlightRequest, err: Error): void {
    if (this.stopped) return;
    const error = new ProducerError('EncodingError', `Could not write the record batch: ${err.message}`, false, err);
    for (const b of request.batches) this.fail(b, error);
  }

  /** One partition's answer (Java: Sender.completeBatch). */
  private complete(b: ProducerBatch, answer: PartitionProduceResponse, now: number): void {
    const code = answer.errorCode;
    if (code === ErrorCode.NONE) {
      this.succeed(b, answer.baseOffset, answer.logAppendTimeMs);
      return;
    }
    const err = new KafkaProtocolError(code, answer.errorMessage, `${b.topic}-${b.partition}`);
    if ((code === ErrorCode.MESSAGE_TOO_LARGE || code === ErrorCode.RECORD_LIST_TOO_LARGE) && b.count > 1 && !this.expired(b, now)) {
      b.lastError = err;
      this.acc.noteError(b.topic, b.partition, err);
      this.acc.unmute(b.topic, b.partition);
      this.acc.splitAndReenqueue(b, now, this.idempotence);
      this.events.onRetry?.(b, err);
      return;
    }
    if (answer.recordErrors.length > 0) {
      this.recordErrors(b, answer, err, now);
      return;
    }
    this.retryOrFail(b, code, err, answer.logStartOffset, now);
  }

  /**
   * The broker refused some records of the batch by index (KIP-467) and wrote
   * none of it: those records fail with their own reason, the others go
   * again, in the batch's place.
   */
  private recordErrors(b: ProducerBatch, answer: PartitionProduceResponse, err: KafkaProtocolError, now: number): void {
    const bad = new Map<number, string | null>();
    for (const e of answer.recordErrors) bad.set(e.batchIndex, e.message);
    const rest = new ProducerBatch(b.topic, b.partition, b.createdAt);
    b.records.forEach((p, i) => {
      if (p.settled) return;
      if (bad.has(i)) {
        const reason = bad.get(i) ?? answer.errorMessage;
        this.acc.settle(p, new KafkaProtocolError(err.code, reason, `${b.topic}-${b.partition}`));
      } else {
        rest.records.push(p);
        rest.recordBytes += p.record.sizeInBytes;
      }
    });
    b.done = true;
    b.inFlight = false;
    this.acc.unmute(b.topic, b.partition);
    if (!rest.count) {
      this.idempotence?.onFailed(b);
      return;
    }
    rest.closed = true;
    rest.attempts = b.attempts;
    rest.lastError = err;
    if (b.hasSequence && this.idempotence) {
      // The rest takes the batch's place in the sequence; the numbers after it are renumbered (epoch bump).
      rest.setProducerState(b.producerId, b.producerEpoch, b.baseSequence, b.sequenceReset);
      this.idempotence.replaceInFlight(b, [rest]);
      this.idempotence.renumber(b.topic, b.partition, b.baseSequence);
    }
    this.acc.reenqueue(rest, now, 0);
    this.events.onRetry?.(rest, err);
  }

  private expired(b: ProducerBatch, now: number): boolean {
    return now >= b.createdAt + this.opts.deliveryTimeoutMs;
  }

  private canRetry(b: ProducerBatch, code: number, logStartOffset: bigint, now: number): boolean {
    if (this.expired(b, now) || b.attempts > this.opts.retries || this.stopped) return false;
    return this.idempotence ? this.idempotence.canRetry(b, code, logStartOffset) : isRetriableCode(code);
  }

  private retryOrFail(b: ProducerBatch, code: number, err: Error, logStartOffset: bigint, now: number): void {
    b.lastError = err;
    // Once an attempt may have reached the log, the batch may be there whatever later attempts say.
    if (AMBIGUOUS_CODES.has(code)) b.mayBeWritten = true;
    this.acc.noteError(b.topic, b.partition, err);
    this.acc.unmute(b.topic, b.partition);
    if (isInvalidMetadataCode(code)) this.metadata.requestUpdate();
    if (this.canRetry(b, code, logStartOffset, now)) {
      b.inFlight = false;
      this.acc.reenqueue(b, now, this.backoff.delay(b.attempts));
      this.events.onRetry?.(b, err);
      return;
    }
    if (code === ErrorCode.DUPLICATE_SEQUENCE_NUMBER) {
      // Written before; the broker no longer has its offset (Java completes it without one).
      this.succeed(b, null, -1n);
      return;
    }
    if (this.expired(b, now)) {
      this.fail(b, this.acc.timeoutError(b, now));
      return;
    }
    // The broker answered with an error it will keep giving.
    this.fail(b, err);
  }

  private succeed(b: ProducerBatch, baseOffset: bigint | null, logAppendTimeMs: bigint, acknowledged = true): void {
    this.idempotence?.onSuccess(b);
    this.acc.unmute(b.topic, b.partition);
    this.acc.complete(b, baseOffset, logAppendTimeMs, acknowledged);
    this.events.onBatchWritten?.(b);
  }

  /**
   * A batch fails for good. If no attempt can have reached the log, its
   * sequence numbers are free again (the ones after it are renumbered);
   * otherwise it may be there, and the partition's sequence is unresolved
   * until the batches after it settle.
   */
  private fail(b: ProducerBatch, err: Error): void {
    this.acc.unmute(b.topic, b.partition);
    if (this.idempotence) {
      if (b.mayBeWritten) this.idempotence.markUnresolved(b);
      else this.idempotence.onFailed(b);
    }
    this.acc.failBatch(b, err);
  }

  /** Fails batches past delivery.timeout.ms that wait in the queues (in flight ones settle on their answer). */
  private expire(now: number): void {
    for (const b of this.acc.expiredBatches(now)) this.fail(b, this.acc.timeoutError(b, now));
    this.acc.expireWaiting(now);
  }

  // ---- metadata and producer id ----------------------------------------------------------------

  /** Sends a metadata request when one is due; returns ms until the next may be. */
  private maybeUpdateMetadata(now: number): number {
    if (this.metadataInFlight) return Infinity;
    const due = this.metadata.timeToNextUpdate(now);
    if (due > 0) return due;
    const node = this.transport.leastLoadedNode();
    if (node === undefined) return this.transport.nextConnectDelay() || Infinity;
    const topics = this.metadata.topicsToFetch(now, (t) => this.acc.holds(t));
    const request = this.metadata.attempt(now);
    this.metadataInFlight = true;
    this.transport
      .metadata(node, topics)
      .then(
        (answer) => {
          if (this.stopped) return;
          this.down.delete(node);
          this.metadata.update(answer, this.clock.now(), request);
          this.transport.setNodes(answer.brokers);
          for (const t of answer.topics) {
            for (const p of t.partitions) {
              if (p.leader < 0) this.acc.noteError(t.topic, p.partition, new KafkaProtocolError(p.errorCode || ErrorCode.LEADER_NOT_AVAILABLE, null, `${t.topic}-${p.partition} has no leader`));
            }
          }
          this.acc.placeWaiting();
          this.events.onReachable?.();
        },
        (err: Error) => {
          this.metadata.failed(this.clock.now());
          this.down.add(node);
          this.events.onNodeFailed?.(node, err);
        },
      )
      .finally(() => {
        this.metadataInFlight = false;
        this.wake();
      });
    return Infinity;
  }

  /** Asks a broker for a producer id; returns ms until the next try may go. */
  private maybeInitProducerId(now: number): number {
    const idem = this.idempotence!;
    if (this.initInFlight) return Infinity;
    if (now < this.initRetryAt) return this.initRetryAt - now;
    const node = this.transport.leastLoadedNode();
    if (node === undefined) return this.transport.nextConnectDelay() || Infinity;
    this.initInFlight = true;
    this.transport
      .initProducerId(node)
      .then(
        (answer) => {
          if (answer.errorCode === ErrorCode.NONE) {
            idem.setProducerIdAndEpoch(answer.producerId, answer.producerEpoch);
            this.initFailures = 0;
            return;
          }
          const err = new KafkaProtocolError(answer.errorCode, null, 'InitProducerId');
          if (!isRetriableCode(answer.errorCode)) {
            this.setFatal(err);
            return;
          }
          this.initFailed();
        },
        (err: Error) => {
          this.initFailed();
          this.down.add(node);
          this.events.onNodeFailed?.(node, err);
        },
      )
      .finally(() => {
        this.initInFlight = false;
        this.wake();
      });
    return Infinity;
  }

  /** InitProducerId failed but may succeed later: try again after the backoff. */
  private initFailed(): void {
    this.initFailures++;
    this.initRetryAt = this.clock.now() + this.backoff.delay(this.initFailures);
  }

  /** Nothing can be sent any more: every record held fails with `err`, and so will new ones. */
  setFatal(err: Error): void {
    if (this.fatalError) return;
    this.fatalError = err;
    this.acc.abortAll(() => err);
    this.events.onFatal?.(err);
    this.wake();
  }

  // ---- timing, flush, close ---------------------------------------------------------------------

  private schedule(now: number, waitMs: number): void {
    if (!Number.isFinite(waitMs)) return;
    const at = now + Math.max(1, waitMs);
    if (this.timer !== undefined && this.timerAt <= at) return;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.run();
    }, boundedDelay(at - now));
  }

  /** Resolves once nothing is queued or in flight. */
  idle(): Promise<void> {
    if (this.requests.size === 0 && this.acc.isEmpty()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Sends what is held for up to timeoutMs, then stops and fails whatever is
   * left, saying whether each record may have been written. Returns how many failed.
   */
  async close(timeoutMs: number, reason: string, beforeAbort?: () => void): Promise<number> {
    this.acc.close();
    this.acc.beginFlush();
    this.wake();
    if (timeoutMs > 0) await this.waitIdle(timeoutMs);
    beforeAbort?.();
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    let failed = this.acc.abortAll(() => producerClosed(`${reason} before the record could be sent: it was not written to Kafka`));
    for (const r of this.requests) {
      for (const b of r.batches) {
        for (const p of b.records) {
          if (p.settled) continue;
          failed++;
          this.acc.settle(
            p,
            producerClosed(`${reason} while the record was being sent to ${b.topic}-${b.partition}: the broker may or may not have written it`),
          );
        }
      }
    }
    for (const w of this.idleWaiters.splice(0)) w();
    return failed;
  }

  private waitIdle(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      let done = false;
      const wait = {
        deadline: this.clock.now() + timeoutMs,
        timer: undefined as unknown,
        finish: (idle: boolean) => {
          if (done) return;
          done = true;
          this.clock.clearTimeout(wait.timer);
          if (this.flushWait === wait) this.flushWait = undefined;
          resolve(idle);
        },
      };
      wait.timer = this.clock.setTimeout(() => wait.finish(false), boundedDelay(timeoutMs));
      this.flushWait = wait;
      void this.idle().then(() => wait.finish(true));
    });
  }

  /** A close flushing now gives up after at most `ms` more (0: at once). */
  shortenClose(ms: number): void {
    const w = this.flushWait;
    if (!w) return;
    const now = this.clock.now();
    if (now + ms >= w.deadline) return;
    this.clock.clearTimeout(w.timer);
    if (ms <= 0) {
      w.finish(false);
      return;
    }
    w.deadline = now + ms;
    w.timer = this.clock.setTimeout(() => w.finish(false), boundedDelay(ms));
  }
}

function noop(): void {}
