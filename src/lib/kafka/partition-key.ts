// The partition key node's logic, without Node-RED: computes, before anything
// is sent, the partition a keyed record lands on (the Java client's
// toPositive(murmur2(keyBytes)) % numPartitions) and writes it to msg.partition,
// with the key in msg.key, so that a flow can route or tag by partition and the
// producer node sends exactly there.
//
// What comes from Node-RED is handed in: the key reader (msg/flow/global/JSONata),
// the translation function, the status, warn and error sinks, the broker's
// TopicMetadataCache, and a clock for the status throttle.
import { systemClock, type Clock } from '../common/clock';
import { localStatus, msg as message, renderMessage, type Fill, type NodeStatus, type StatusMessage, type StatusText, type StatusValue } from '../common/status-message';
import { KeyError, keyForm } from './key';
import { murmur2Key, toPositive } from './murmur2';
import { readPartitionKeySettings, type PartitionKeyConfig, type PartitionKeySettings } from './partition-key-settings';
import { topicNameProblem } from './record';
import { DEFAULT_METADATA_MAX_AGE_MS, type TopicMetadataCache } from './topic-metadata';

/** Status updates at most this often: a busy flow would otherwise flood the editor. */
export const STATUS_INTERVAL_MS = 250;

/** A msg this node cannot place (no key with "fail", a key without bytes, no topic, bad settings, closed). */
export class PartitionKeyError extends Error {
  /** The reason as a message of the node's catalogue, when it is one of ours (the status shows it in the editor's language). */
  readonly reason?: StatusMessage;
  constructor(message: string, cause?: unknown, reason?: StatusMessage) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'PartitionKeyError';
    this.reason = reason;
  }
}

/** Translates a key of the node's catalogue (below `streamsafe-partition-key.`). */
export type Translate = (key: string, subs?: Record<string, string | number>) => string;

/** The msg properties this reads or writes; any others pass through untouched. */
export interface PartitionKeyMsg {
  topic?: unknown;
  key?: unknown;
  partition?: unknown;
  murmur2?: unknown;
  refreshPartitions?: unknown;
  [property: string]: unknown;
}

/** Reads the key of a msg; calls back synchronously or later (e.g. JSONata), or throws. */
export type KeyReader = (msg: PartitionKeyMsg, callback: (err: Error | null, value?: unknown) => void) => void;

/** Checks the editor's settings (partition-key-settings.ts); throws PartitionKeyError with the first problem, translated. */
export function partitionKeySettings(config: PartitionKeyConfig, t: Translate): PartitionKeySettings {
  const r = readPartitionKeySettings(config, DEFAULT_METADATA_MAX_AGE_MS);
  if ('problems' in r) {
    const first = r.problems[0].message;
    throw new PartitionKeyError(renderMessage(first, t), undefined, first);
  }
  return r.settings;
}

/** The status of a node that does not start: red, with the short reason. */
export function invalidStatus(reason: StatusValue, t: Translate): NodeStatus {
  return localStatus('red', 'dot', message('status.invalid', { reason }), t);
}

/** Walks a parsed property path (Node-RED's normalisePropertyExpression) from msg; a missing parent gives undefined. */
export function readPath(msg: PartitionKeyMsg, path: ReadonlyArray<string | number>): unknown {
  let v: unknown = msg;
  for (let i = 0; i < path.length; i++) {
    if (v === null || v === undefined) return undefined;
    v = (v as Record<string | number, unknown>)[path[i]];
  }
  return v;
}

export interface KeyPartitionerOptions {
  settings: PartitionKeySettings;
  readKey: KeyReader;
  t: Translate;
  /** node.status: a status made by common/status-message's localStatus, or {} to clear it. */
  status(status: NodeStatus): void;
  warn(text: string): void;
  /** failures outside any msg's handling (not expected) */
  error(err: unknown): void;
  /** where counts come from with partitions from the broker; required then */
  metadata?: TopicMetadataCache;
  clock?: Clock;
}

type Send = (msg: PartitionKeyMsg) => void;
type Done = (err?: Error) => void;

interface Job {
  msg: PartitionKeyMsg;
  send: Send;
  done: Done;
}

/** Key as it goes on in msg.key (its bytes by key.ts's rule are what is hashed) and its murmur2. */
interface Keyed {
  key: string | Buffer | number;
  hash: number;
}

/** Places msgs by key, one at a time and in the order they came. */
export class KeyPartitioner {
  private readonly settings: PartitionKeySettings;
  private readonly label: string;
  private readonly readKey: KeyReader;
  private readonly t: Translate;
  private readonly sink: KeyPartitionerOptions['status'];
  private readonly warn: KeyPartitionerOptions['warn'];
  private readonly error: KeyPartitionerOptions['error'];
  private readonly metadata: TopicMetadataCache | undefined;
  private readonly clock: Clock;

  private closed = false;
  // Status: the last partition is made into a message only when shown (at most every STATUS_INTERVAL_MS).
  private wantFill: Fill = 'green';
  private wantText: StatusText | null = null; // null: the last partition
  private lastPartition = 0;
  private lastCount = 0;
  /** The topic whose partition count placed the last msg; null: the fixed count. */
  private lastTopic: string | null = null;
  private shownFill = '';
  private shownText = '';
  private shownAt = -Infinity;
  private statusTimer: unknown;

  /** The count each topic had when last used, to warn when it changes. */
  private readonly lastCounts = new Map<string, number>();

  // Order: msgs leave in the order they came, also when one waits for the
  // partition count (or an async key expression); the others queue behind it.
  private readonly queue: Job[] = [];
  private busy = false;

  constructor(options: KeyPartitionerOptions) {
    this.settings = options.settings;
    this.label = options.settings.key.label;
    this.readKey = options.readKey;
    this.t = options.t;
    this.sink = options.status;
    this.warn = options.warn;
    this.error = options.error;
    this.clock = options.clock ?? systemClock;
    const partitions = options.settings.partitions;
    if (partitions.from === 'broker') {
      if (!options.metadata) throw new TypeError('partitions from the broker need a TopicMetadataCache');
      this.metadata = options.metadata;
    }
    this.sink(localStatus('grey', 'ring', partitions.from === 'broker' ? message('status.readyBroker') : message('status.readyFixed', { count: partitions.count }), this.t));
  }

  /** A PartitionKeyError saying `key` of the catalogue (translated by t; the status shows it again in the editor's language). */
  private problem(key: string, values?: Record<string, string | number>, cause?: unknown): PartitionKeyError {
    const reason = message(key, values);
    return new PartitionKeyError(renderMessage(reason, this.t), cause, reason);
  }

  /** Takes one msg; send and done are called once it is placed (maybe before this returns). */
  receive(msg: PartitionKeyMsg, send: Send, done: Done): void {
    if (this.closed) {
      done(this.problem('errors.closed'));
      return;
    }
    this.queue.push({ msg, send, done });
    if (!this.busy) this.pump();
  }

  /** Fails the msgs still queued, stops status updates and clears the status. A lookup under way fails its msg when it ends. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.statusTimer !== undefined) this.clock.clearTimeout(this.statusTimer);
    this.statusTimer = undefined;
    for (const job of this.queue.splice(0)) job.done(this.problem('errors.closed'));
    this.sink({});
  }

  // ---- order ---------------------------------------------------------------

  private pump(): void {
    while (!this.busy && this.queue.length > 0) {
      const job = this.queue.shift()!;
      this.busy = true;
      let sync = true;
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        this.busy = false;
        // A synchronous finish lets the loop go on; a later one restarts it.
        if (!sync) this.pump();
      };
      try {
        this.handle(job, finish);
      } catch (e) {
        // Not expected; the msg still ends, and the queue goes on.
        if (!finished) {
          job.done(e as Error);
          finish();
        } else this.error(e);
      }
      sync = false;
    }
  }

  // ---- one msg ---------------------------------------------------------------

  /** Handles one msg; calls finish() once it has sent or failed it (maybe synchronously). */
  private handle(job: Job, finish: () => void): void {
    const msg = job.msg;
    let refresh = false;
    if (msg.refreshPartitions !== undefined) {
      refresh = msg.refreshPartitions === true;
      delete msg.refreshPartitions;
    }
    let called = false;
    const onKey = (err: Error | null, value?: unknown) => {
      if (called) return; // a reader that calls back twice must not send a msg twice
      called = true;
      if (err) {
        this.fail(job, this.problem('errors.keyEvaluate', { key: this.label, reason: err.message }, err));
        return finish();
      }
      let k: Keyed | null;
      try {
        k = this.keyed(value);
      } catch (e) {
        this.fail(job, e as Error);
        return finish();
      }
      if (k === null) {
        this.withoutKey(job, value === null ? 'null' : 'missing');
        return finish();
      }
      const partitions = this.settings.partitions;
      if (partitions.from === 'fixed') {
        this.deliver(job, k, partitions.count, null);
        return finish();
      }
      let topic = partitions.topic;
      if (!topic) {
        if (typeof msg.topic !== 'string' || msg.topic === '') {
          this.fail(job, this.problem('errors.noTopic'));
          return finish();
        }
        topic = msg.topic;
        const problem = topicNameProblem(topic);
        if (problem) {
          this.fail(job, new PartitionKeyError(problem));
          return finish();
        }
      }
      this.placeByBroker(job, k, topic, partitions.maxAgeMs, refresh, finish);
    };
    try {
      this.readKey(msg, onKey);
    } catch (e) {
      // A reader may throw instead of calling back; a throw from our own callback goes on up.
      if (called) throw e;
      onKey(e as Error);
    }
  }

  private placeByBroker(job: Job, k: Keyed, topic: string, maxAgeMs: number, refresh: boolean, finish: () => void): void {
    const metadata = this.metadata!;
    const cached = refresh ? undefined : metadata.cachedPartitionCount(topic, maxAgeMs);
    if (cached !== undefined) {
      this.noteCount(topic, cached);
      this.deliver(job, k, cached, topic);
      return finish();
    }
    if (!this.lastCounts.has(topic)) this.setStatus('yellow', message('status.reading', { topic }));
    metadata
      .partitionCount(topic, { maxAgeMs, refresh })
      .then(
        (count) => {
          if (this.closed) return this.fail(job, this.problem('errors.closed'));
          this.noteCount(topic, count);
          this.deliver(job, k, count, topic);
        },
        (e: Error) => this.fail(job, e),
      )
      .then(finish, (e: unknown) => {
        this.error(e);
        finish();
      });
  }

  /** The key's form in msg.key and its hash, null for no key; throws PartitionKeyError for a key without bytes. */
  private keyed(value: unknown): Keyed | null {
    let form: string | Buffer | null;
    try {
      form = keyForm(value, this.label);
    } catch (e) {
      throw e instanceof KeyError ? this.keyError(e) : e;
    }
    if (form === null) return null;
    // A number stays a number in msg.key: the producer writes the same decimal text.
    const key = typeof value === 'number' ? value : form;
    return { key, hash: murmur2Key(form) };
  }

  private keyError(e: KeyError): PartitionKeyError {
    const key = this.label;
    switch (e.problem) {
      case 'number':
        return this.problem('errors.keyNumber', { key, value: e.detail }, e);
      case 'json':
        return this.problem('errors.keyJson', { key, reason: e.detail }, e);
      case 'type':
        return this.problem('errors.keyUnsupported', { key, type: e.detail }, e);
    }
  }

  /** `topic`: whose partition count it was; null for the fixed count. */
  private deliver(job: Job, k: Keyed, count: number, topic: string | null): void {
    const msg = job.msg;
    const partition = toPositive(k.hash) % count;
    msg.partition = partition;
    msg.key = k.key;
    if (this.settings.outputHash) msg.murmur2 = k.hash;
    this.lastPartition = partition;
    this.lastCount = count;
    this.lastTopic = topic;
    this.setStatus('green', null);
    job.send(msg);
    job.done();
  }

  private withoutKey(job: Job, value: 'null' | 'missing'): void {
    if (!this.settings.passWithoutKey) {
      this.fail(job, this.problem('errors.noKey', { key: this.label, value }));
      return;
    }
    const msg = job.msg;
    delete msg.partition;
    delete msg.key;
    if (this.settings.outputHash) delete msg.murmur2;
    this.setStatus('grey', message('status.noKey'));
    job.send(msg);
    job.done();
  }

  private fail(job: Job, err: Error): void {
    this.setStatus('red', message('status.failed', { reason: err instanceof PartitionKeyError && err.reason ? err.reason : err.message }));
    job.done(err);
  }

  // ---- partition counts --------------------------------------------------------

  private noteCount(topic: string, count: number): void {
    const previous = this.lastCounts.get(topic);
    if (previous === count) return;
    this.lastCounts.set(topic, count);
    if (previous !== undefined) this.warn(this.t('warn.countChanged', { topic, count, previous }));
  }

  // ---- status ----------------------------------------------------------------

  private setStatus(fill: Fill, text: StatusText | null): void {
    this.wantFill = fill;
    this.wantText = text;
    if (this.statusTimer !== undefined || this.closed) return;
    const wait = this.shownAt + STATUS_INTERVAL_MS - this.clock.now();
    if (wait <= 0) this.renderStatus();
    else this.statusTimer = this.clock.setTimeout(() => this.renderStatus(), wait);
  }

  private renderStatus(): void {
    this.statusTimer = undefined;
    if (this.closed) return;
    this.shownAt = this.clock.now();
    const text =
      this.wantText ??
      (this.lastTopic === null
        ? message('status.partitionFixed', { partition: this.lastPartition, count: this.lastCount })
        : message('status.partitionOf', { partition: this.lastPartition, count: this.lastCount, topic: this.lastTopic }));
    const status = localStatus(this.wantFill, 'dot', text, this.t);
    if (status.text === this.shownText && this.wantFill === this.shownFill) return;
    this.shownText = status.text ?? '';
    this.shownFill = this.wantFill;
    this.sink(status);
  }
}
