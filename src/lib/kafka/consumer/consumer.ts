// The consumer node's engine: a kafkajs group consumer (eachBatch, offsets resolved as msgs
// are sent, commits of our own) with backpressure and at-least-once commits that follow the
// flow. Plain TypeScript: the node (src/nodes/kafka-consumer) is thin glue around it.
//
// - Backpressure: at most maxOutstanding msgs sent and not finished. At the limit eachBatch
//   waits (no more msgs sent, so kafkajs fetches no further for this consumer), calling
//   heartbeat() while it waits: kafkajs 2.2.4 only heartbeats between batches otherwise, and
//   a slow flow would be thrown out of the group again and again.
// - At least once: the offset committed for a partition is the one after the last msg of the
//   unbroken run of finished msgs (tracker.ts), committed at most every commitIntervalMs from
//   the batch loop and while waiting, when asked (control msg), when a rebalance starts
//   (before the partitions are given up) and on close.
// - periodic / none: a msg counts as finished once sent; periodic lets kafkajs commit what was
//   sent every autoCommitIntervalMs (a crash loses what was sent but not yet processed), none
//   never commits (the group's offsets stay where they were).
// - A crash kafkajs does not restart itself from (it restarts only on retriable errors) is
//   restarted here with a bounded backoff; msgs still in the flow then are counted as orphaned.
import type { Admin, Consumer, ConsumerConfig, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { boundedDelay } from '../../common/timers';
import type { FinishAnswer, FinishSource } from './finish-registry';
import { fixKafkajsRunner } from './kafkajs-runner-fix';
import { recordToMsg, type ConsumedMsg } from './message';
import type { ConsumerSettings } from './settings';
import { OffsetTracker, tpKey, type ConsumedToken, type OffsetCommit, type TopicPartition } from './tracker';

export type ConsumerState = 'connecting' | 'rebalancing' | 'consuming' | 'error' | 'stopped';

export interface ConsumerHooks {
  /** Sends one msg (synchronously: node.send). */
  deliver(msg: ConsumedMsg): void;
  onState?(state: ConsumerState, detail?: string): void;
  /** Partitions given up while `orphaned` of their msgs were still in the flow. */
  onRevoked?(revoked: TopicPartition[], orphaned: number): void;
  /** Something went wrong that the node should report (a commit failed, a lag lookup failed...). */
  onProblem?(kind: 'commit' | 'lag' | 'start' | 'crash' | 'leave' | 'internal', err: Error): void;
  /** Debug notes. */
  onInfo?(text: string): void;
}

export interface ConsumerTimings {
  /** at most one commit of finished offsets this often (atLeastOnce) */
  commitIntervalMs: number;
  /** how often the lag is looked up */
  lagIntervalMs: number;
  /** restart backoff after a crash kafkajs does not restart from */
  restartMinMs: number;
  restartMaxMs: number;
  /** the longest a close waits for the last commit and the disconnect */
  closeMaxMs: number;
}

export const DEFAULT_CONSUMER_TIMINGS: ConsumerTimings = {
  commitIntervalMs: 1000,
  lagIntervalMs: 5000,
  restartMinMs: 1000,
  restartMaxMs: 30000,
  closeMaxMs: 10000,
};

/** A control msg asked for something that cannot be done; the reason is a catalogue key + values. */
export class ConsumerControlError extends Error {
  constructor(
    readonly code: string,
    readonly values: Record<string, string | number> = {},
    text?: string,
  ) {
    super(text ?? code);
    this.name = 'ConsumerControlError';
  }
}

export interface ConsumerSnapshot {
  state: ConsumerState;
  detail?: string;
  assigned: number;
  outstanding: number;
  held: number;
  orphaned: number;
  late: number;
  /** records behind the end of the assigned partitions, when known */
  lag?: number;
  /** msgs sent per second over the last status interval */
  sent: number;
  committed: number;
  paused: boolean;
  waiting: boolean;
  parseErrors: number;
  /** commits have failed since this time (ms), until one succeeds; with the last reason */
  commitFailing?: { since: number; reason: string };
}

/** The window of msgs held for ordering (finished behind an unfinished one) is bounded too. */
const heldLimit = (max: number) => Math.max(1000, max * 100);

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), boundedDelay(ms));
    timer.unref?.();
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

// kafkajs 2.2.4 can hang the process when a consumer stops while it rebuilds its fetchers.
fixKafkajsRunner();

export class KafkaConsumerEngine {
  readonly tracker = new OffsetTracker();
  private consumer?: Consumer;
  private admin?: Admin;
  private state: ConsumerState = 'connecting';
  private detail?: string;
  private closing = false;
  private restartTimer?: NodeJS.Timeout;
  private restartDelay: number;
  private lagTimer?: NodeJS.Timeout;
  private commitTimer?: NodeJS.Timeout;
  private lagBusy = false;
  private lag?: number;
  private sentTotal = 0;
  private sentAtSnapshot = 0;
  private snapshotAt = Date.now();
  private committedTotal = 0;
  private parseErrors = 0;
  private lastCommitAt = 0;
  private committing?: Promise<OffsetCommit[]>;
  private commitFailing?: { since: number; reason: string };
  /** whole-node pause by control msg (topics: undefined = all) */
  private userPaused = new Map<string, Set<number> | 'all'>();
  private wake?: () => void;
  private waiting = false;
  /** our own heartbeats pause until then after one failed (not a rebalance answer) */
  private heartbeatQuietUntil = 0;
  private runs = 0;

  constructor(
    private readonly kafka: Pick<Kafka, 'consumer' | 'admin'>,
    readonly settings: ConsumerSettings,
    readonly nodeId: string,
    private readonly hooks: ConsumerHooks,
    readonly timings: ConsumerTimings = DEFAULT_CONSUMER_TIMINGS,
  ) {
    this.restartDelay = timings.restartMinMs;
  }

  /** At the limit, the sender is woken when outstanding msgs fall to this many. */
  private get lowWater(): number {
    return Math.floor(this.settings.maxOutstanding / 2);
  }

  get tracksFinishing(): boolean {
    return this.settings.commitMode === 'atLeastOnce';
  }

  private setState(state: ConsumerState, detail?: string): void {
    this.state = state;
    this.detail = detail;
    this.hooks.onState?.(state, detail);
  }

  start(): void {
    void this.run().catch((e) => this.crashed(e as Error, 'start'));
    this.lagTimer = setInterval(() => void this.refreshLag(), boundedDelay(this.timings.lagIntervalMs));
    this.lagTimer.unref?.();
    // Finished offsets are committed from the batch loop and also on this timer: once the
    // partitions are read to the end no batch comes, and msgs finishing then must commit too.
    if (this.tracksFinishing) {
      this.commitTimer = setInterval(() => {
        if (this.state === 'consuming') void this.commitFinished(false).catch(() => {});
      }, boundedDelay(this.timings.commitIntervalMs));
      this.commitTimer.unref?.();
    }
  }

  private adminClient(): Admin {
    this.admin ??= this.kafka.admin();
    return this.admin;
  }

  private async run(): Promise<void> {
    const run = ++this.runs;
    this.setState('connecting');
    const s = this.settings;
    const config: ConsumerConfig = {
      groupId: s.groupId,
      sessionTimeout: s.sessionTimeoutMs,
      heartbeatInterval: s.heartbeatIntervalMs,
      rebalanceTimeout: Math.max(60000, s.sessionTimeoutMs),
      // Java's fetch.max.wait.ms (kafkajs waits 5 s): a close or redeploy waits for the fetch in
      // progress. (It once stalled consumption while the coordinator was down: each empty fetch
      // made kafkajs heartbeat the dead coordinator and stop every fetcher; kafkajs-runner-fix.ts.)
      maxWaitTimeInMs: 500,
      // kafkajs restarts by itself after retriable errors; crashed() handles the others. While a
      // lost broker is still named leader, every fetch round fails at once and stops all fetchers
      // (kafkajs's FetchManager): with waits growing to 30 s the next round could come after the
      // broker's partitions had moved, and nothing reached the flow for the whole outage (once in
      // CI). Waits stop at Java's retry.backoff.max.ms (1 s); about a minute of them as before.
      retry: { retries: 60, initialRetryTime: 300, maxRetryTime: 1000 },
    };
    const consumer = this.kafka.consumer(config);
    this.consumer = consumer;
    const { GROUP_JOIN, REBALANCING, CRASH, CONNECT, DISCONNECT } = consumer.events;
    consumer.on(GROUP_JOIN, (e) => {
      if (this.consumer !== consumer) return;
      const assignment: TopicPartition[] = [];
      for (const [topic, partitions] of Object.entries(e.payload.memberAssignment ?? {})) {
        for (const partition of partitions as number[]) assignment.push({ topic, partition });
      }
      // Partitions kept through the rebalance read on after the last msg sent (kafkajs would
      // read them again from the committed offset: msgs still in the flow would come twice).
      const { revoked, orphaned, kept } = this.tracker.assign(assignment, true);
      for (const k of kept) {
        if (k.next === undefined) continue;
        try {
          consumer.seek({ topic: k.topic, partition: k.partition, offset: k.next });
        } catch (e) {
          // Read again from the committed offset then, as a new generation.
          this.hooks.onInfo?.(`seek after rebalance: ${(e as Error).message}`);
          this.tracker.restart(k.topic, k.partition);
        }
      }
      if (revoked.length || orphaned) this.hooks.onRevoked?.(revoked, orphaned);
      // Pauses asked for by control msgs hold across rebalances.
      this.applyUserPause();
      this.restartDelay = this.timings.restartMinMs;
      this.setState('consuming');
      void this.refreshLag();
    });
    consumer.on(REBALANCING, () => {
      if (this.consumer !== consumer) return;
      this.setState('rebalancing');
      // Finished offsets go in before the partitions may be given up (the group accepts a commit of the ending generation).
      void this.commitFinished(true).catch(() => {});
    });
    consumer.on(CRASH, (e) => {
      if (this.consumer !== consumer) return;
      const err = e.payload.error as Error;
      if (e.payload.restart) {
        this.setState('error', err.message);
        this.hooks.onProblem?.('crash', err);
        const { orphaned, revoked } = this.tracker.revokeAll();
        if (orphaned) this.hooks.onRevoked?.(revoked, orphaned);
      } else this.crashed(err, 'crash');
    });
    consumer.on(CONNECT, () => {
      if (this.consumer === consumer && this.state === 'error') this.setState('connecting');
    });
    consumer.on(DISCONNECT, () => {
      if (this.consumer === consumer && !this.closing && this.state !== 'error') this.setState('connecting', 'disconnected');
    });
    // A close (or a restart) while connecting: this consumer must not stay connected.
    const superseded = async () => {
      if (!this.closing && run === this.runs) return false;
      await consumer.disconnect().catch(() => {});
      return true;
    };
    await consumer.connect();
    if (await superseded()) return;
    await this.positionByTimestamp();
    if (await superseded()) return;
    const topics: Array<string | RegExp> = s.topicsRegex !== undefined ? [new RegExp(s.topicsRegex)] : s.topics;
    await consumer.subscribe({ topics, fromBeginning: s.start === 'earliest' || s.start === 'timestamp' });
    if (await superseded()) return;
    await consumer.run({
      autoCommit: s.commitMode === 'periodic',
      autoCommitInterval: s.commitMode === 'periodic' ? s.autoCommitIntervalMs : null,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => this.eachBatch(payload, consumer),
    });
  }

  /**
   * start 'timestamp': partitions without a committed offset of the group get the offset of the
   * first record at or after the timestamp, set for the group before it joins. With members of
   * the group already running this cannot be done; those partitions start at the earliest record.
   */
  private async positionByTimestamp(): Promise<void> {
    const s = this.settings;
    if (s.start !== 'timestamp' || s.startTimestamp === undefined) return;
    const admin = this.adminClient();
    await admin.connect();
    let topics = s.topics;
    if (s.topicsRegex !== undefined) {
      const re = new RegExp(s.topicsRegex);
      topics = (await admin.listTopics()).filter((t) => re.test(t));
    }
    if (!topics.length) return;
    const committed = await admin.fetchOffsets({ groupId: s.groupId, topics });
    for (const { topic, partitions } of committed) {
      const missing = partitions.filter((p) => p.offset === '-1').map((p) => p.partition);
      if (!missing.length) continue;
      const at = await admin.fetchTopicOffsetsByTimestamp(topic, s.startTimestamp);
      const ends = await admin.fetchTopicOffsets(topic);
      const set = at
        .filter((p) => missing.includes(p.partition))
        // no record at or after the timestamp: the end of the partition
        .map((p) => ({ partition: p.partition, offset: p.offset === '-1' ? (ends.find((e) => e.partition === p.partition)?.high ?? p.offset) : p.offset }));
      try {
        await admin.setOffsets({ groupId: s.groupId, topic, partitions: set });
      } catch (e) {
        this.hooks.onProblem?.('start', new Error(`cannot start ${topic} at the timestamp (the group has running members?): ${(e as Error).message}`));
      }
    }
  }

  private crashed(err: Error, kind: 'start' | 'crash'): void {
    if (this.closing) return;
    this.setState('error', err.message);
    this.hooks.onProblem?.(kind, err);
    const { orphaned, revoked } = this.tracker.revokeAll();
    if (orphaned) this.hooks.onRevoked?.(revoked, orphaned);
    const old = this.consumer;
    this.consumer = undefined;
    void old?.disconnect().catch(() => {});
    const delay = this.restartDelay;
    this.restartDelay = Math.min(this.timings.restartMaxMs, this.restartDelay * 2);
    this.hooks.onInfo?.(`restarting the consumer in ${delay} ms`);
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      if (!this.closing) void this.run().catch((e) => this.crashed(e as Error, 'start'));
    }, boundedDelay(delay));
    this.restartTimer.unref?.();
  }

  private isUserPaused(topic: string, partition: number): boolean {
    const p = this.userPaused.get(topic) ?? this.userPaused.get('*');
    return p === 'all' || (p instanceof Set && p.has(partition));
  }

  /** Room for one more msg. */
  private hasRoom(): boolean {
    if (!this.tracksFinishing) return true;
    return this.tracker.outstanding < this.settings.maxOutstanding && this.tracker.held() < heldLimit(this.settings.maxOutstanding);
  }

  private async eachBatch(p: EachBatchPayload, consumer: Consumer): Promise<void> {
    const { batch } = p;
    const { topic, partition } = batch;
    const s = this.settings;
    // A stop, a seek (isStale), a pause or a close can only happen while this loop awaits: the
    // conditions are checked at the start and after each await, not per msg. The offset of the
    // last msg sent is resolved before each await (a seek resolves its own offset then, which a
    // later resolve of ours must not overwrite) and at the end.
    const gone = () => !p.isRunning() || p.isStale() || this.closing || this.consumer !== consumer || this.isUserPaused(topic, partition);
    let pending: string | undefined;
    const resolve = () => {
      if (pending !== undefined) p.resolveOffset(pending);
      pending = undefined;
    };
    if (gone()) return;
    let i = 0;
    for (const m of batch.messages as KafkaMessage[]) {
      while (!this.hasRoom()) {
        resolve();
        await this.waitForRoom(p);
        if (gone()) return;
      }
      const generation = this.tracksFinishing ? this.tracker.sent(topic, partition, m.offset) : this.tracker.sentFinished(topic, partition, m.offset);
      if (generation === undefined) break; // not ours (any more): kafkajs hands it to the owner
      const msg = recordToMsg(m, topic, partition, s, { node: this.nodeId, generation, topic, partition, offset: m.offset });
      if (msg.parseError) this.parseErrors++;
      this.sentTotal++;
      try {
        this.hooks.deliver(msg);
      } catch (e) {
        this.hooks.onProblem?.('internal', e as Error);
      }
      pending = m.offset;
      if (++i % 200 === 0) {
        resolve();
        await this.heartbeatOrCommit(p);
        if (gone()) return;
      }
    }
    resolve();
    await this.heartbeatOrCommit(p);
  }

  /**
   * heartbeat() between msgs and while waiting. On REBALANCE_IN_PROGRESS the finished offsets
   * are committed (the coordinator still takes commits of the ending generation) before kafkajs
   * rejoins and the partitions may be given up. On NOT_COORDINATOR, ILLEGAL_GENERATION or
   * UNKNOWN_MEMBER_ID a commit cannot succeed (kafkajs sends it to the coordinator it knew, with
   * the generation that ended) and waiting for it would only hold the batch loop: kafkajs rejoins
   * at once. A coordinator that cannot be reached does not throw here (kafkajs-runner-fix.ts
   * looks it up again and spaces the heartbeats); any other failure is left to kafkajs's own
   * heartbeat after the batch, so the flow is still fed from the partitions whose leaders answer,
   * and our own heartbeats pause for a heartbeat interval instead of failing between every 200
   * msgs. The periodic commit is not awaited here: with the coordinator away it would hold the
   * batch for up to its timeout.
   */
  private async heartbeatOrCommit(p: EachBatchPayload): Promise<void> {
    if (Date.now() >= this.heartbeatQuietUntil) {
      try {
        await p.heartbeat();
      } catch (e) {
        const type = (e as { type?: string }).type;
        if (type === 'REBALANCE_IN_PROGRESS') {
          await this.commitFinished(true).catch(() => {});
          throw e;
        }
        if (type === 'NOT_COORDINATOR_FOR_GROUP' || type === 'ILLEGAL_GENERATION' || type === 'UNKNOWN_MEMBER_ID') throw e;
        this.heartbeatQuietUntil = Date.now() + this.settings.heartbeatIntervalMs;
        this.hooks.onInfo?.(`heartbeat: ${(e as Error).message}`);
      }
    }
    if (p.isRunning()) void this.commitFinished(false).catch(() => {});
    else await this.commitFinished(true).catch(() => {});
  }

  private async waitForRoom(p: EachBatchPayload): Promise<void> {
    this.waiting = true;
    try {
      await this.heartbeatOrCommit(p);
      // The flow may have finished msgs while the heartbeat or a commit was awaited: no one would
      // wake us for those (the wake is set below), so look before waiting.
      if (this.hasRoom() && this.tracker.outstanding <= this.lowWater) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, boundedDelay(Math.min(1000, this.settings.heartbeatIntervalMs)));
        timer.unref?.();
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.wake = done;
      });
    } finally {
      this.wake = undefined;
      this.waiting = false;
    }
  }

  /** A msg the flow finished (its token), from a commit node or the producer's acknowledgement. */
  finish(token: ConsumedToken, source: FinishSource): FinishAnswer {
    if (!this.tracksFinishing) return 'ignored';
    if (source === 'producerAck' && this.settings.finishOn !== 'producerAck') return 'ignored';
    const r = this.tracker.finish(token);
    // Sending resumes in bursts: woken once half the limit is free, not at every finish (each
    // wake costs a heartbeat check and a promise; the wait also polls for any room every second).
    if (r.outcome === 'ok' && this.wake && this.tracker.outstanding <= this.lowWater) this.wake();
    return r.outcome;
  }

  /**
   * Commits the finished offsets not yet committed: at most once per commitIntervalMs unless
   * `now`; one commit at a time. Returns what was committed.
   */
  async commitFinished(now: boolean): Promise<OffsetCommit[]> {
    if (!this.tracksFinishing || !this.consumer) return [];
    if (this.committing) {
      if (!now) return [];
      await this.committing.catch(() => {});
    }
    if (!now && Date.now() - this.lastCommitAt < this.timings.commitIntervalMs) return [];
    const commits = this.tracker.committable();
    if (!commits.length) {
      this.commitFailing = undefined; // nothing left to commit (a later commit took it, or the partitions moved)
      return [];
    }
    const consumer = this.consumer;
    const generations = this.tracker.generationsOf(commits);
    this.lastCommitAt = Date.now();
    const job = (async () => {
      try {
        await withTimeout(consumer.commitOffsets(commits), Math.max(5000, this.settings.sessionTimeoutMs), 'committing offsets');
      } catch (e) {
        this.commitFailing = { since: this.commitFailing?.since ?? Date.now(), reason: (e as Error).message };
        this.hooks.onProblem?.('commit', e as Error);
        throw e;
      }
      this.commitFailing = undefined;
      this.tracker.committed(commits, generations);
      this.committedTotal += commits.length;
      return commits;
    })();
    this.committing = job;
    try {
      return await job;
    } finally {
      if (this.committing === job) this.committing = undefined;
    }
  }

  // ---- control ----

  private tpsOf(topic?: string, partitions?: number[]): Array<{ topic: string; partitions?: number[] }> {
    const owned = this.tracker.owned();
    const topics = topic !== undefined ? [topic] : [...new Set([...owned.map((p) => p.topic), ...this.settings.topics])];
    return topics.map((t) => (partitions ? { topic: t, partitions } : { topic: t }));
  }

  private applyUserPause(): void {
    const c = this.consumer;
    if (!c) return;
    for (const [topic, p] of this.userPaused) {
      const targets = topic === '*' ? this.tpsOf() : [{ topic }];
      for (const t of targets) this.safely(() => c.pause([p === 'all' ? { topic: t.topic } : { topic: t.topic, partitions: [...p] }]));
    }
  }

  /** kafkajs throws when the group is not set up yet: the pause is applied again at the next join. */
  private safely(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.hooks.onInfo?.(`pause/resume: ${(e as Error).message}`);
    }
  }

  /** A pause or resume of a topic this node does not read is refused (it would do nothing). */
  private checkSubscribed(topic: string | undefined): void {
    if (topic === undefined) return;
    const s = this.settings;
    const reads = s.topicsRegex !== undefined ? new RegExp(s.topicsRegex).test(topic) : s.topics.includes(topic);
    if (!reads) throw new ConsumerControlError('notSubscribed', { topic, topics: s.topicsRegex !== undefined ? `/${s.topicsRegex}/` : s.topics.join(', ') });
  }

  /** Stops fetching (all topics, a topic, or some of its partitions) until resume. */
  pause(topic?: string, partitions?: number[]): void {
    this.checkSubscribed(topic);
    const key = topic ?? '*';
    if (partitions === undefined) this.userPaused.set(key, 'all');
    else {
      const cur = this.userPaused.get(key);
      if (cur !== 'all') this.userPaused.set(key, new Set([...(cur ?? []), ...partitions]));
    }
    if (topic === undefined) for (const k of [...this.userPaused.keys()]) if (k !== '*') this.userPaused.delete(k);
    const c = this.consumer;
    if (c) this.safely(() => c.pause(this.tpsOf(topic, partitions)));
  }

  resume(topic?: string, partitions?: number[]): void {
    this.checkSubscribed(topic);
    if (topic === undefined) this.userPaused.clear();
    else if (partitions === undefined) this.userPaused.delete(topic);
    else {
      const cur = this.userPaused.get(topic);
      if (cur instanceof Set) {
        for (const p of partitions) cur.delete(p);
        if (!cur.size) this.userPaused.delete(topic);
      } else this.userPaused.delete(topic);
    }
    const c = this.consumer;
    if (c) this.safely(() => c.resume(this.tpsOf(topic, partitions)));
    this.wake?.();
  }

  get paused(): boolean {
    return this.userPaused.size > 0;
  }

  /**
   * Reads a partition (or every owned partition of a topic, with partition undefined) again from
   * an offset, or from the first record at or after a timestamp. Msgs of the partition still in
   * the flow no longer count for commits.
   */
  async seek(topic: string, partition: number | undefined, to: { offset: string } | { timestamp: number } | { edge: 'earliest' | 'latest' }): Promise<Array<{ partition: number; offset: string }>> {
    const consumer = this.consumer;
    if (!consumer || this.state === 'connecting' || this.state === 'error') throw new ConsumerControlError('notRunning');
    const owned = this.tracker.owned().filter((p) => p.topic === topic && (partition === undefined || p.partition === partition));
    if (!owned.length) {
      throw partition === undefined
        ? new ConsumerControlError('notAssignedTopic', { topic })
        : new ConsumerControlError('notAssigned', { topic, partition });
    }
    let targets: Array<{ partition: number; offset: string }>;
    if ('offset' in to) targets = owned.map((p) => ({ partition: p.partition, offset: to.offset }));
    else if ('edge' in to) {
      // The partition's first or next-to-be-written offset, looked up (not kafkajs's special offsets).
      const admin = this.adminClient();
      await admin.connect();
      const ends = await admin.fetchTopicOffsets(topic);
      targets = owned.map((p) => {
        const e = ends.find((x) => x.partition === p.partition);
        if (!e) throw new ConsumerControlError('notAssigned', { topic, partition: p.partition });
        return { partition: p.partition, offset: to.edge === 'earliest' ? e.low : e.high };
      });
    } else {
      const admin = this.adminClient();
      await admin.connect();
      const at = await admin.fetchTopicOffsetsByTimestamp(topic, to.timestamp);
      const ends = await admin.fetchTopicOffsets(topic);
      targets = owned.map((p) => {
        const o = at.find((x) => x.partition === p.partition)?.offset ?? '-1';
        return { partition: p.partition, offset: o === '-1' ? (ends.find((e) => e.partition === p.partition)?.high ?? '-1') : o };
      });
    }
    for (const t of targets) {
      consumer.seek({ topic, partition: t.partition, offset: t.offset });
      this.tracker.restart(topic, t.partition);
    }
    this.wake?.();
    return targets;
  }

  /** Commits the finished offsets now (a control msg). */
  commitNow(): Promise<OffsetCommit[]> {
    if (!this.tracksFinishing) return Promise.reject(new ConsumerControlError('commitMode', { mode: this.settings.commitMode }));
    if (!this.consumer || this.state !== 'consuming') return Promise.reject(new ConsumerControlError('notRunning'));
    return this.commitFinished(true);
  }

  // ---- status ----

  private async refreshLag(): Promise<void> {
    if (this.lagBusy || this.closing || this.state !== 'consuming') return;
    const owned = this.tracker.owned();
    if (!owned.length) {
      this.lag = 0;
      return;
    }
    this.lagBusy = true;
    try {
      const admin = this.adminClient();
      await withTimeout(admin.connect(), 10000, 'connecting the admin client');
      const topics = [...new Set(owned.map((p) => p.topic))];
      const committed = await withTimeout(admin.fetchOffsets({ groupId: this.settings.groupId, topics }), 10000, 'reading the group offsets');
      let lag = 0;
      for (const topic of topics) {
        const ends = await withTimeout(admin.fetchTopicOffsets(topic), 10000, 'reading the topic offsets');
        for (const e of ends) {
          if (!this.tracker.owns(topic, e.partition)) continue;
          const c = committed.find((x) => x.topic === topic)?.partitions.find((x) => x.partition === e.partition)?.offset;
          const pos = this.tracker.position(topic, e.partition) ?? (c !== undefined && c !== '-1' ? BigInt(c) : this.settings.start === 'latest' ? BigInt(e.high) : BigInt(e.low));
          const behind = BigInt(e.high) - pos;
          if (behind > 0n) lag += Number(behind);
        }
      }
      this.lag = lag;
    } catch (e) {
      this.lag = undefined;
      this.hooks.onProblem?.('lag', e as Error);
    } finally {
      this.lagBusy = false;
    }
  }

  snapshot(): ConsumerSnapshot {
    const now = Date.now();
    const seconds = Math.max(0.001, (now - this.snapshotAt) / 1000);
    const rate = (this.sentTotal - this.sentAtSnapshot) / seconds;
    this.sentAtSnapshot = this.sentTotal;
    this.snapshotAt = now;
    return {
      state: this.state,
      detail: this.detail,
      assigned: this.tracker.owned().length,
      outstanding: this.tracksFinishing ? this.tracker.outstanding : 0,
      held: this.tracker.held(),
      orphaned: this.tracker.orphaned,
      late: this.tracker.late,
      lag: this.lag,
      sent: rate,
      committed: this.committedTotal,
      paused: this.paused,
      // Waiting for the flow, not for a heartbeat answer after room came back.
      waiting: this.waiting && !this.hasRoom(),
      parseErrors: this.parseErrors,
      commitFailing: this.commitFailing,
    };
  }

  get total(): { sent: number; parseErrors: number } {
    return { sent: this.sentTotal, parseErrors: this.parseErrors };
  }

  /** Commits what is finished (bounded), leaves the group, stops. Never rejects. */
  async close(): Promise<{ orphaned: number }> {
    if (this.closing) return { orphaned: 0 };
    this.closing = true;
    clearTimeout(this.restartTimer);
    clearInterval(this.lagTimer);
    clearInterval(this.commitTimer);
    this.wake?.();
    const deadline = Date.now() + this.timings.closeMaxMs;
    const left = () => Math.max(100, deadline - Date.now());
    const consumer = this.consumer;
    if (consumer && this.tracksFinishing) {
      try {
        // At most 60 % of the bound: leaving the group needs the rest (with the coordinator
        // away a commit can take all of it, and a member that did not leave holds its
        // partitions from the others for a session timeout).
        await withTimeout(this.commitFinished(true), Math.min(left(), this.timings.closeMaxMs * 0.6), 'the last commit');
      } catch {
        /* reported through onProblem */
      }
    }
    const orphaned = this.tracker.outstanding;
    this.tracker.revokeAll();
    if (consumer) await withTimeout(consumer.disconnect(), left(), 'leaving the group').catch((e) => this.hooks.onProblem?.('leave', e as Error));
    this.consumer = undefined;
    if (this.admin) await withTimeout(this.admin.disconnect(), left(), 'closing the admin client').catch(() => {});
    this.setState('stopped');
    return { orphaned };
  }
}

export { tpKey };
