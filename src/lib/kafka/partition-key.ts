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
import { KeyError, keyForm } from './key';
import { murmur2Key, toPositive } from './murmur2';
import { topicNameProblem } from './record';
import { DEFAULT_METADATA_MAX_AGE_MS, type TopicMetadataCache } from './topic-metadata';

/** Status updates at most this often: a busy flow would otherwise flood the editor. */
export const STATUS_INTERVAL_MS = 250;
/** Kafka's largest partition count (an int32). */
export const MAX_PARTITIONS = 0x7fffffff;
export const KEY_TYPES: readonly string[] = ['msg', 'flow', 'global', 'jsonata'];

/** A msg this node cannot place (no key with "fail", a key without bytes, no topic, bad settings, closed). */
export class PartitionKeyError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'PartitionKeyError';
  }
}

/** Translates a key of the node's catalogue (below `streamsafe-partition-key.`). */
export type Translate = (key: string, subs?: Record<string, string | number>) => string;

/** A Node-RED node status; {} clears it. */
export interface PartitionKeyStatus {
  fill?: 'green' | 'yellow' | 'red' | 'grey';
  shape?: 'dot' | 'ring';
  text?: string;
}

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

/** The editor's settings as Node-RED hands them over (strings, numbers or booleans). */
export interface PartitionKeyConfig {
  key?: unknown;
  keyType?: unknown;
  nullKey?: unknown;
  partitionsFrom?: unknown;
  partitions?: unknown;
  topic?: unknown;
  metadataMaxAgeMs?: unknown;
  outputHash?: unknown;
}

export interface KeySource {
  /** msg, flow, global or jsonata */
  type: string;
  /** the property path (without a leading "msg.") or the JSONata expression */
  expression: string;
  /** how messages name the key: "msg.payload.id", "flow.author", or the JSONata expression */
  label: string;
}

export type PartitionCountSource =
  | { from: 'fixed'; count: number }
  /** topic '' means msg.topic */
  | { from: 'broker'; topic: string; maxAgeMs: number };

export interface PartitionKeySettings {
  key: KeySource;
  passWithoutKey: boolean;
  outputHash: boolean;
  partitions: PartitionCountSource;
}

function wholeNumber(value: unknown, fallback: number): number {
  if (value === '' || value === undefined || value === null) return fallback;
  const n = typeof value === 'number' ? value : /^\s*\d+\s*$/.test(String(value)) ? Number(value) : NaN;
  return Number.isSafeInteger(n) ? n : NaN;
}

/** Checks the editor's settings; throws PartitionKeyError with the translated reason. */
export function partitionKeySettings(config: PartitionKeyConfig, t: Translate): PartitionKeySettings {
  const type = typeof config.keyType === 'string' && config.keyType !== '' ? config.keyType : 'msg';
  if (!KEY_TYPES.includes(type)) throw new PartitionKeyError(t('errors.keyType', { type }));
  const given = typeof config.key === 'string' ? config.key.trim() : '';
  let expression = given !== '' ? given : type === 'msg' ? 'key' : '';
  if (expression === '') throw new PartitionKeyError(t('errors.keyMissing'));
  if (type === 'msg') expression = expression.replace(/^msg\./, '');
  const label = type === 'jsonata' ? expression : `${type}.${expression}`;

  const passWithoutKey = (config.nullKey || 'pass') !== 'error';
  const outputHash = config.outputHash === true || config.outputHash === 'true';
  let partitions: PartitionCountSource;
  if (config.partitionsFrom === 'broker') {
    const maxAgeMs = wholeNumber(config.metadataMaxAgeMs, DEFAULT_METADATA_MAX_AGE_MS);
    if (!(maxAgeMs >= 0)) throw new PartitionKeyError(t('errors.maxAge', { value: String(config.metadataMaxAgeMs) }));
    const topic = typeof config.topic === 'string' ? config.topic.trim() : '';
    if (topic) {
      const problem = topicNameProblem(topic);
      if (problem) throw new PartitionKeyError(problem);
    }
    partitions = { from: 'broker', topic, maxAgeMs };
  } else {
    const count = wholeNumber(config.partitions, NaN);
    if (!(count >= 1 && count <= MAX_PARTITIONS)) throw new PartitionKeyError(t('errors.partitions', { value: String(config.partitions ?? '') }));
    partitions = { from: 'fixed', count };
  }
  return { key: { type, expression, label }, passWithoutKey, outputHash, partitions };
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
  status(status: PartitionKeyStatus): void;
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

type Fill = NonNullable<PartitionKeyStatus['fill']>;

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
  private readonly fixedSource: string;
  private readonly noKeyText: string;

  private closed = false;
  // Status: the last partition is formatted only when shown (at most every STATUS_INTERVAL_MS).
  private wantFill: Fill = 'green';
  private wantText: string | null = null; // null: the last partition
  private lastPartition = 0;
  private lastCount = 0;
  private lastSource = '';
  private shownFill = '';
  private shownText = '';
  private shownAt = -Infinity;
  private statusTimer: unknown;

  /** The count each topic had when last used, to warn when it changes. */
  private readonly lastCounts = new Map<string, number>();
  /** Translated "broker: <topic>" texts, so a msg does not format one. */
  private readonly sources = new Map<string, string>();

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
    this.fixedSource = this.t('status.fixed');
    this.noKeyText = this.t('status.noKey');
    this.sink({
      fill: 'grey',
      shape: 'ring',
      text: partitions.from === 'broker' ? this.t('status.readyBroker') : this.t('status.readyFixed', { count: partitions.count }),
    });
  }

  /** Takes one msg; send and done are called once it is placed (maybe before this returns). */
  receive(msg: PartitionKeyMsg, send: Send, done: Done): void {
    if (this.closed) {
      done(new PartitionKeyError(this.t('errors.closed')));
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
    for (const job of this.queue.splice(0)) job.done(new PartitionKeyError(this.t('errors.closed')));
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
        this.fail(job, new PartitionKeyError(this.t('errors.keyEvaluate', { key: this.label, reason: err.message }), err));
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
        this.deliver(job, k, partitions.count, this.fixedSource);
        return finish();
      }
      let topic = partitions.topic;
      if (!topic) {
        if (typeof msg.topic !== 'string' || msg.topic === '') {
          this.fail(job, new PartitionKeyError(this.t('errors.noTopic')));
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
      this.deliver(job, k, cached, this.sourceFor(topic));
      return finish();
    }
    if (!this.lastCounts.has(topic)) this.setStatus('yellow', this.t('status.reading', { topic }));
    metadata
      .partitionCount(topic, { maxAgeMs, refresh })
      .then(
        (count) => {
          if (this.closed) return this.fail(job, new PartitionKeyError(this.t('errors.closed')));
          this.noteCount(topic, count);
          this.deliver(job, k, count, this.sourceFor(topic));
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
      throw e instanceof KeyError ? new PartitionKeyError(this.keyErrorText(e), e) : e;
    }
    if (form === null) return null;
    // A number stays a number in msg.key: the producer writes the same decimal text.
    const key = typeof value === 'number' ? value : form;
    return { key, hash: murmur2Key(form) };
  }

  private keyErrorText(e: KeyError): string {
    const key = this.label;
    switch (e.problem) {
      case 'number':
        return this.t('errors.keyNumber', { key, value: e.detail });
      case 'json':
        return this.t('errors.keyJson', { key, reason: e.detail });
      case 'type':
        return this.t('errors.keyUnsupported', { key, type: e.detail });
    }
  }

  private deliver(job: Job, k: Keyed, count: number, source: string): void {
    const msg = job.msg;
    const partition = toPositive(k.hash) % count;
    msg.partition = partition;
    msg.key = k.key;
    if (this.settings.outputHash) msg.murmur2 = k.hash;
    this.lastPartition = partition;
    this.lastCount = count;
    this.lastSource = source;
    this.setStatus('green', null);
    job.send(msg);
    job.done();
  }

  private withoutKey(job: Job, value: 'null' | 'missing'): void {
    if (!this.settings.passWithoutKey) {
      this.fail(job, new PartitionKeyError(this.t('errors.noKey', { key: this.label, value })));
      return;
    }
    const msg = job.msg;
    delete msg.partition;
    delete msg.key;
    if (this.settings.outputHash) delete msg.murmur2;
    this.setStatus('grey', this.noKeyText);
    job.send(msg);
    job.done();
  }

  private fail(job: Job, err: Error): void {
    this.setStatus('red', this.t('status.failed', { reason: err.message.slice(0, 60) }));
    job.done(err);
  }

  // ---- partition counts --------------------------------------------------------

  private noteCount(topic: string, count: number): void {
    const previous = this.lastCounts.get(topic);
    if (previous === count) return;
    this.lastCounts.set(topic, count);
    if (previous !== undefined) this.warn(this.t('warn.countChanged', { topic, count, previous }));
  }

  private sourceFor(topic: string): string {
    let s = this.sources.get(topic);
    if (s === undefined) {
      s = this.t('status.broker', { topic });
      if (this.sources.size > 100) this.sources.clear(); // many topics from msg.topic: keep it small
      this.sources.set(topic, s);
    }
    return s;
  }

  // ---- status ----------------------------------------------------------------

  private setStatus(fill: Fill, text: string | null): void {
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
    const text = this.wantText ?? this.t('status.partition', { partition: this.lastPartition, count: this.lastCount, source: this.lastSource });
    if (text === this.shownText && this.wantFill === this.shownFill) return;
    this.shownText = text;
    this.shownFill = this.wantFill;
    this.sink({ fill: this.wantFill, shape: 'dot', text });
  }
}
