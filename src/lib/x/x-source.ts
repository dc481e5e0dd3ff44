// An X source as the node runs it: rules synced, then a stream (filtered or sample) or recent
// search polling, feeding a bounded queue that a drain loop empties into the flow; optional
// de-duplication by post id; hbc-like statistics. No Node-RED in here: the node passes
// callbacks for messages and events.
import { systemClock, type Clock } from '../common/clock';
import { BoundedQueue } from './bounded-queue';
import { GapFilter, IdWindow } from './dedup';
import { backfillMinutesFor, GAP_LEAD_MS, GAP_TAIL_MS, planGap, searchGap, searchPlan, type Gap, type GapPlan, type LostRange } from './gap-recovery';
import type { XRecoveryMeans } from './access';
import { compareIds, snowflakeTimeMs } from './post-ids';
import { RecentSearchPoller, type CursorStore, type SearchCursor } from './recent-search';
import { ReconnectPolicy, type ReconnectDecision } from './reconnect-policy';
import type { ReconnectSettings } from './reconnect-settings';
import { normaliseRules } from './rule-list';
import { listRules, syncRules, XRulesError, type RestClient, type SyncResult, type XRule } from './rules-sync';
import { StreamClient, type StreamPost, type StreamProblem, type StreamRequester } from './stream-client';
import { XStats, type SourceState, type XStatsSnapshot } from './stats';
import { XApiError } from './x-client';

export type XSourceMode = 'filtered' | 'sample' | 'search';
export type Overflow = 'drop' | 'pause';

/** One message per post. */
export interface XPostMessage {
  payload: StreamPost['data'];
  includes?: StreamPost['includes'];
  matching_rules?: StreamPost['matching_rules'];
  errors?: unknown[];
  /** The author id (data.author_id), for the partition key and the producer. */
  key?: string;
  /** Set on posts that filled a gap after a reconnect: how they were read again. */
  recovered?: XRecoveryMeans;
}

export type XSourceEvent =
  | { type: 'syncing' }
  | { type: 'synced'; result: SyncResult }
  | { type: 'connecting'; attempt: number }
  | { type: 'connected' }
  | { type: 'disconnected'; reason: string }
  | { type: 'retrying'; error: Error; decision: ReconnectDecision }
  | { type: 'notice'; errors: StreamProblem[]; disconnect: boolean }
  | { type: 'malformed'; text: string; reason: string; count: number }
  | { type: 'dropped'; count: number }
  | { type: 'polling' }
  | { type: 'polled'; posts: number; pages: number; more: boolean; cursor: SearchCursor }
  /** Stopped for good: 401/403, or rules X refuses. */
  | { type: 'stopped'; error: Error }
  /** A reconnect after a gap: how it is being filled. */
  | { type: 'gap'; gap: Gap; means: XRecoveryMeans | 'none' }
  /** Posts of a gap delivered by recovery (after de-duplication). */
  | { type: 'recovered'; gap: Gap; means: XRecoveryMeans; posts: number; requests: number }
  /** A part of a gap that could not be filled: posts X had then may be missing. */
  | { type: 'gapLost'; range: LostRange };

export interface XSourceOptions {
  mode: XSourceMode;
  client: RestClient & StreamRequester;
  /** tweet.fields, user.fields, expansions as query parameters. */
  params: Record<string, string>;
  /** filtered: the node's rules, and where it keeps the rules it created. */
  rules?: unknown;
  ownedRules?: { get(): Promise<XRule[] | undefined> | XRule[] | undefined; set(rules: XRule[]): Promise<void> | void };
  /** search */
  query?: string;
  pollIntervalMs?: number;
  maxPages?: number;
  /** max_results per page (10-100, default 100). */
  maxResults?: number;
  lookbackMinutes?: number;
  cursorStore?: CursorStore;
  /** streams: a fixed backfill_minutes on every reconnect (a manual override; 0: sized to each gap). */
  backfillMinutes?: number;
  /** Fill gaps after reconnects (default true). */
  recovery?: boolean;
  /** The recovery means the account's access level opens (default: recent search only). */
  recoveryMeans?: readonly XRecoveryMeans[];
  /** Recent search pages of 100 per rule for one gap (default 100). */
  recoveryMaxPages?: number;
  stallTimeoutMs?: number;
  connectTimeoutMs?: number;
  reconnect?: Partial<ReconnectSettings>;
  /** De-duplication window in post ids (0: off). */
  dedupWindow?: number;
  queueSize?: number;
  overflow?: Overflow;
  /** Most posts handed to the flow per event-loop turn (default 1000). */
  drainBatch?: number;
  clock?: Clock;
  /** Hands posts to the flow, in order, up to drainBatch at a time. */
  deliver(msgs: XPostMessage[]): void;
  event?(e: XSourceEvent): void;
}

/** Malformed lines and drops are reported at most this often. */
const REPORT_EVERY_MS = 10_000;

export class XSource {
  readonly stats: XStats;
  readonly queue: BoundedQueue<StreamPost>;
  private readonly dedup?: IdWindow;
  private readonly clock: Clock;
  private readonly policy: ReconnectPolicy;
  private readonly drainBatch: number;
  private readonly overflow: Overflow;
  private stream?: StreamClient;
  private poller?: RecentSearchPoller;
  private drainScheduled = false;
  private closed = false;
  private retryTimer?: unknown;
  private starting?: Promise<void>;
  /** Resolvers waiting for the queue to be empty (search: the cursor is committed after). */
  private drainedWaiters: Array<() => void> = [];
  private lastMalformedReport = -Infinity;
  private malformedSinceReport = 0;
  private lastDropReport = -Infinity;
  private dropsReported = 0;
  /** The newest post id delivered, and when the stream last sent a byte. */
  private newestId?: string;
  private lastDataAt?: number;
  /** A disconnect not yet followed by a connection: where its gap began. */
  private openGap?: { fromMs: number; afterId?: string; backfillMinutes?: number };
  /** On a connection opened with backfill: posts up to this id were delivered before. */
  private replayAfterId?: string;
  private recoveryChain: Promise<void> = Promise.resolve();
  /** Gaps being filled that still wait for the first post of the new connection. */
  private readonly awaitingFirstLive = new Set<GapFilter>();
  private readonly recovering = new Set<StreamClient>();
  private readonly recoveryOn: boolean;
  private readonly means: readonly XRecoveryMeans[];

  constructor(private readonly o: XSourceOptions) {
    this.clock = o.clock ?? systemClock;
    this.stats = new XStats(this.clock);
    this.queue = new BoundedQueue(Math.max(1, Math.floor(o.queueSize ?? 10_000)));
    if (o.dedupWindow && o.dedupWindow > 0) this.dedup = new IdWindow(Math.floor(o.dedupWindow));
    this.policy = new ReconnectPolicy(o.reconnect ?? {}, this.clock);
    this.drainBatch = Math.max(1, Math.floor(o.drainBatch ?? 1000));
    this.overflow = o.overflow ?? 'drop';
    this.recoveryOn = o.recovery !== false && o.mode !== 'search';
    this.means = o.recoveryMeans ?? ['search'];
  }

  get state(): SourceState {
    return this.stats.state;
  }

  snapshot(): XStatsSnapshot {
    const s = this.stats.snapshot(this.queue);
    if (this.dedup) s.duplicates += this.dedup.duplicates;
    return s;
  }

  start(): void {
    if (this.closed || this.starting) return;
    this.starting = this.run();
  }

  private emit(e: XSourceEvent): void {
    this.o.event?.(e);
  }

  private setState(s: SourceState): void {
    if (!this.closed) this.stats.state = s;
  }

  private async run(): Promise<void> {
    if (this.o.mode === 'filtered') {
      const ok = await this.syncRulesWithRetry();
      if (!ok || this.closed) return;
    }
    if (this.o.mode === 'search') this.startPolling();
    else this.startStream();
  }

  // ---- rules --------------------------------------------------------------

  /** Syncs the rules, retrying transient failures; false when stopped (fatal) or closed. */
  private async syncRulesWithRetry(): Promise<boolean> {
    const { rules, problems } = normaliseRules(this.o.rules);
    if (problems.length) {
      this.stop(new XRulesError(`rules refused before sending: ${problems.map((p) => `#${p.index + 1} "${p.value}": ${p.messages.join('; ')}`).join(' | ')}`, problems));
      return false;
    }
    const store = this.o.ownedRules ?? { get: () => [], set: () => undefined };
    for (;;) {
      if (this.closed) return false;
      this.setState('syncing');
      this.emit({ type: 'syncing' });
      this.policy.attemptStarted();
      try {
        const owned = (await store.get()) ?? [];
        const result = await syncRules(this.o.client, rules, owned, (r) => store.set(r));
        if (this.closed) return false;
        this.policy.connected();
        this.emit({ type: 'synced', result });
        return true;
      } catch (err) {
        if (this.closed) return false;
        if (err instanceof XRulesError || (err instanceof XApiError && err.status === 400)) {
          this.stop(err);
          return false;
        }
        const decision = this.policy.afterError(err);
        if (!decision) {
          this.stop(err as Error);
          return false;
        }
        this.noteFailure(err as Error, decision);
        this.setState('waiting');
        this.emit({ type: 'retrying', error: err as Error, decision });
        await new Promise<void>((resolve) => (this.retryTimer = this.clock.setTimeout(resolve, decision.delayMs)));
        this.retryTimer = undefined;
      }
    }
  }

  private noteFailure(err: Error, decision: ReconnectDecision): void {
    this.stats.reconnectAttempts++;
    this.stats.failure(decision.kind, err instanceof XApiError ? err.status : undefined);
    this.stats.lastError = err.message;
  }

  private stop(err: Error): void {
    if (err instanceof XApiError) this.stats.failure('fatal', err.status);
    this.stats.lastError = err.message;
    this.setState('stopped');
    this.emit({ type: 'stopped', error: err });
  }

  // ---- stream -------------------------------------------------------------

  private startStream(): void {
    const stats = this.stats;
    this.stream = new StreamClient({
      requester: this.o.client,
      endpoint: this.o.mode === 'sample' ? 'sample' : 'filtered',
      params: this.o.params,
      backfillMinutes: this.o.backfillMinutes,
      connectParams: () => this.connectParams(),
      policy: this.policy,
      stallTimeoutMs: this.o.stallTimeoutMs,
      connectTimeoutMs: this.o.connectTimeoutMs,
      clock: this.clock,
      handlers: {
        post: (record) => this.accept(record),
        keepAlive: () => {
          stats.keepAlives++;
        },
        bytes: (n) => {
          stats.bytes += n;
          this.lastDataAt = this.clock.now();
        },
        malformed: (text, reason) => {
          stats.malformed++;
          this.malformedSinceReport++;
          const now = this.clock.now();
          if (now - this.lastMalformedReport >= REPORT_EVERY_MS) {
            this.lastMalformedReport = now;
            this.emit({ type: 'malformed', text, reason, count: this.malformedSinceReport });
            this.malformedSinceReport = 0;
          }
        },
        notice: (errors, disconnect) => {
          stats.disconnectNotices++;
          this.emit({ type: 'notice', errors, disconnect });
        },
        connecting: (attempt) => {
          this.setState('connecting');
          this.emit({ type: 'connecting', attempt });
        },
        connected: () => {
          stats.connects++;
          stats.connectedSince = this.clock.now();
          this.lastDataAt = this.clock.now();
          this.setState('connected');
          this.emit({ type: 'connected' });
          this.gapClosed();
        },
        disconnected: (reason) => {
          stats.disconnects++;
          this.gapOpened();
          this.emit({ type: 'disconnected', reason });
        },
        retrying: (err, decision) => {
          this.noteFailure(err, decision);
          this.setState('waiting');
          this.emit({ type: 'retrying', error: err, decision });
        },
        fatal: (err) => this.stop(err),
      },
    });
    this.stream.start();
  }

  /** A post from X: de-duplicated, then queued (or dropped when the queue is full). */
  private accept(record: StreamPost): void {
    this.stats.received++;
    const id = record.data.id;
    if (this.replayAfterId !== undefined && compareIds(id, this.replayAfterId) <= 0) {
      this.stats.duplicates++;
      return;
    }
    if (this.dedup && !this.dedup.firstSeen(id)) return;
    this.noteNewest(id);
    if (this.awaitingFirstLive.size) {
      for (const f of this.awaitingFirstLive) f.beforeId = id;
      this.awaitingFirstLive.clear();
    }
    if (!this.queue.push(record)) {
      const now = this.clock.now();
      if (now - this.lastDropReport >= REPORT_EVERY_MS) {
        this.lastDropReport = now;
        this.emit({ type: 'dropped', count: this.queue.dropped - this.dropsReported });
        this.dropsReported = this.queue.dropped;
      }
      return;
    }
    if (this.overflow === 'pause' && this.stream && this.queue.length >= this.queue.capacity * 0.75) this.stream.pause();
    this.scheduleDrain();
  }

  // ---- gaps ---------------------------------------------------------------

  private noteNewest(id: string): void {
    if (this.newestId === undefined || compareIds(id, this.newestId) > 0) this.newestId = id;
  }

  /** The stream dropped: the gap begins a little before its last byte (posts still in flight). */
  private gapOpened(): void {
    if (!this.recoveryOn || this.closed || this.openGap) return;
    const last = this.lastDataAt ?? this.clock.now();
    const newestAt = this.newestId !== undefined ? snowflakeTimeMs(this.newestId) : undefined;
    const from = Math.min(last, newestAt !== undefined && newestAt > last - 60_000 ? newestAt : last) - GAP_LEAD_MS;
    this.openGap = { fromMs: from, afterId: this.newestId };
  }

  /** Query parameters of the next connection attempt: backfill_minutes sized to the gap. */
  private connectParams(): Record<string, string> {
    const g = this.openGap;
    this.replayAfterId = undefined;
    if (!g) return {};
    if (this.o.backfillMinutes) {
      // A fixed backfill (the node's override) is asked for by the stream client itself.
      g.backfillMinutes = this.o.backfillMinutes;
      this.replayAfterId = g.afterId;
      return {};
    }
    // fromMs already reaches GAP_LEAD_MS back; backfillMinutesFor adds the lead itself.
    g.backfillMinutes = backfillMinutesFor(this.clock.now() - g.fromMs - GAP_LEAD_MS, this.means);
    if (g.backfillMinutes === undefined) return {};
    this.replayAfterId = g.afterId;
    return { backfill_minutes: String(g.backfillMinutes) };
  }

  /** Connected again: the gap's end is known; fill what backfill did not. */
  private gapClosed(): void {
    const g = this.openGap;
    if (!g || this.closed) return;
    this.openGap = undefined;
    const now = this.clock.now();
    const gap: Gap = { fromMs: g.fromMs, toMs: now + GAP_TAIL_MS, afterId: g.afterId };
    if (g.backfillMinutes !== undefined && now - g.backfillMinutes * 60_000 <= g.fromMs) {
      this.emit({ type: 'gap', gap, means: 'backfill' });
      return;
    }
    this.replayAfterId = undefined;
    const plan = planGap(gap, { open: this.means, mode: this.o.mode === 'sample' ? 'sample' : 'filtered', now });
    this.emit({ type: 'gap', gap, means: plan.means });
    if (plan.means === 'none') {
      this.emit({ type: 'gapLost', range: { fromMs: gap.fromMs, toMs: gap.toMs, reason: plan.reason } });
      return;
    }
    const filter = new GapFilter(gap.afterId);
    this.awaitingFirstLive.add(filter);
    this.recoveryChain = this.recoveryChain.then(() => this.recover(gap, plan, filter)).catch((err) => {
      this.emit({ type: 'gapLost', range: { fromMs: gap.fromMs, toMs: gap.toMs, reason: (err as Error).message } });
    });
  }

  /** Fills one gap (gaps are filled one after another). */
  private async recover(gap: Gap, plan: Exclude<GapPlan, { means: 'none' }>, filter: GapFilter): Promise<void> {
    if (this.closed) return;
    if (plan.means === 'recovery') {
      const result = await this.recoveryStream(gap, plan, filter);
      if (result.ok || this.closed) {
        this.emit({ type: 'recovered', gap, means: 'recovery', posts: result.posts, requests: 1 });
        return;
      }
      // Recovery failed: recent search still reaches 7 days back (a filtered stream only).
      if (!(this.o.mode === 'filtered' && this.means.includes('search'))) {
        this.emit({ type: 'gapLost', range: { fromMs: gap.fromMs, toMs: gap.toMs, reason: result.error } });
        return;
      }
      plan = searchPlan(gap);
    }
    const rules = await listRules(this.o.client);
    const res = await searchGap(plan, gap, filter, {
      client: this.o.client,
      rules,
      params: this.o.params,
      maxPages: this.o.recoveryMaxPages,
      reconnect: this.o.reconnect,
      clock: this.clock,
      isClosed: () => this.closed,
    });
    if (this.closed) return;
    const fresh = res.posts.filter((p) => !this.dedup || this.dedup.firstSeen(p.data.id));
    for (const p of fresh) p.recovered = 'search';
    await this.enqueueAll(fresh, false);
    this.emit({ type: 'recovered', gap, means: 'search', posts: fresh.length, requests: res.requests });
    for (const range of res.lost) this.emit({ type: 'gapLost', range });
  }

  /** A Recovery request: the filtered stream with start_time/end_time, read to its end. */
  private async recoveryStream(gap: Gap, plan: Extract<GapPlan, { means: 'recovery' }>, filter: GapFilter): Promise<{ ok: true; posts: number } | { ok: false; error: string; posts: number }> {
    const endMs = Date.parse(plan.endTime);
    // Recovery reads the past: ask once end_time has gone by, so that X ends the response.
    const wait = endMs + 1000 - this.clock.now();
    if (wait > 0) await new Promise<void>((r) => this.clock.setTimeout(r, wait));
    if (this.closed) return { ok: false, error: 'closed', posts: 0 };
    return new Promise((resolve) => {
      let posts = 0;
      const batch: StreamPost[] = [];
      let flushing = Promise.resolve();
      const flush = () => {
        const list = batch.splice(0);
        if (list.length) flushing = flushing.then(() => this.enqueueAll(list, false));
      };
      const done = (r: { ok: true; posts: number } | { ok: false; error: string; posts: number }) => {
        this.recovering.delete(stream);
        flush();
        void flushing.then(() => resolve(r));
      };
      const stream: StreamClient = new StreamClient({
        requester: this.o.client,
        endpoint: 'filtered',
        params: { ...this.o.params, start_time: plan.startTime, end_time: plan.endTime },
        oneShot: true,
        stallTimeoutMs: this.o.stallTimeoutMs,
        connectTimeoutMs: this.o.connectTimeoutMs,
        clock: this.clock,
        handlers: {
          post: (record) => {
            const id = record.data.id;
            const t = snowflakeTimeMs(id);
            if (t !== undefined && t > endMs) {
              // Past end_time: the live stream has these.
              void stream.close().then(() => done({ ok: true, posts }));
              return;
            }
            if (!filter.isNew(id, this.dedup) || (this.dedup && !this.dedup.firstSeen(id))) return;
            record.recovered = 'recovery';
            posts++;
            batch.push(record);
            if (batch.length >= 500) flush();
          },
          ended: (err) => done(err ? { ok: false, error: err.message, posts } : { ok: true, posts }),
          fatal: (err) => done({ ok: false, error: err.message, posts }),
        },
      });
      this.recovering.add(stream);
      stream.start();
    });
  }

  // ---- search -------------------------------------------------------------

  private startPolling(): void {
    const stats = this.stats;
    let memoryCursor: SearchCursor | undefined;
    this.poller = new RecentSearchPoller({
      client: this.o.client,
      query: this.o.query ?? '',
      params: this.o.params,
      intervalMs: this.o.pollIntervalMs ?? 60_000,
      maxPages: this.o.maxPages,
      maxResults: this.o.maxResults,
      lookbackMinutes: this.o.lookbackMinutes,
      store: this.o.cursorStore ?? { get: () => memoryCursor, set: (c) => void (memoryCursor = c) },
      policy: this.policy,
      clock: this.clock,
      handlers: {
        posts: (records) => this.enqueueAll(records),
        polling: () => {
          this.setState('polling');
          this.emit({ type: 'polling' });
        },
        polled: (info) => {
          stats.polls++;
          stats.connectedSince = this.clock.now();
          this.setState('connected');
          this.emit({ type: 'polled', ...info });
        },
        retrying: (err, decision) => {
          this.noteFailure(err, decision);
          this.setState('waiting');
          this.emit({ type: 'retrying', error: err, decision });
        },
        fatal: (err) => this.stop(err),
      },
    });
    this.poller.start();
  }

  /** Search: every post goes in (waiting for room, never dropped); resolves once all have reached the flow. */
  private async enqueueAll(records: StreamPost[], dedup = true): Promise<void> {
    for (const r of records) {
      if (this.closed) return;
      this.stats.received++;
      if (dedup && this.dedup && !this.dedup.firstSeen(r.data.id)) continue;
      this.noteNewest(r.data.id);
      if (this.queue.length >= this.queue.capacity) await this.queue.whenRoom(1);
      if (this.closed) return;
      this.queue.push(r);
      this.scheduleDrain();
    }
    if (this.queue.length === 0 || this.closed) return;
    await new Promise<void>((resolve) => this.drainedWaiters.push(resolve));
  }

  // ---- drain --------------------------------------------------------------

  private scheduleDrain(): void {
    if (this.drainScheduled || this.closed) return;
    this.drainScheduled = true;
    setImmediate(() => this.drain());
  }

  private drain(): void {
    this.drainScheduled = false;
    if (this.closed) return;
    const batch: XPostMessage[] = [];
    try {
      while (batch.length < this.drainBatch) {
        const r = this.queue.shift();
        if (r === undefined) break;
        const msg: XPostMessage = { payload: r.data };
        if (r.includes !== undefined) msg.includes = r.includes;
        if (r.matching_rules !== undefined) msg.matching_rules = r.matching_rules;
        if (r.errors !== undefined) msg.errors = r.errors;
        if (typeof r.data.author_id === 'string') msg.key = r.data.author_id;
        if (r.recovered !== undefined) msg.recovered = r.recovered;
        batch.push(msg);
      }
      if (batch.length) this.o.deliver(batch);
    } finally {
      if (batch.length) this.stats.sent(batch.length);
      if (this.queue.length) this.scheduleDrain();
      else {
        const waiters = this.drainedWaiters;
        this.drainedWaiters = [];
        for (const w of waiters) w();
      }
      if (this.stream?.isPaused && this.queue.length <= this.queue.capacity * 0.25) this.stream.resume();
    }
  }

  /**
   * Deletes the rules this source created (after close(), when its node is deleted); at most
   * `timeoutMs`. Never throws.
   */
  async deleteOwnRules(timeoutMs: number): Promise<{ count: number; error?: Error }> {
    const store = this.o.ownedRules;
    if (!store) return { count: 0 };
    let timer: unknown;
    const work = (async () => {
      const owned = (await store.get()) ?? [];
      if (!owned.length) return { count: 0 };
      const r = await syncRules(this.o.client, [], owned, (o) => store.set(o));
      return { count: r.removed.length };
    })();
    const timeout = new Promise<{ count: number; error: Error }>((resolve) => {
      timer = this.clock.setTimeout(() => resolve({ count: 0, error: new Error(`no answer within ${timeoutMs} ms`) }), timeoutMs);
    });
    try {
      return await Promise.race([work, timeout]);
    } catch (err) {
      return { count: 0, error: err as Error };
    } finally {
      this.clock.clearTimeout(timer);
    }
  }

  /** Ends the connection (before resolving) and stops for good; queued posts are discarded. */
  async close(): Promise<number> {
    this.closed = true;
    if (this.retryTimer !== undefined) this.clock.clearTimeout(this.retryTimer);
    // Both set their closed flag at once; a search poll waiting on the queue is then released
    // (and commits no cursor), and the stream's socket is awaited.
    const closing = Promise.all([this.stream?.close(), this.poller?.close(), ...[...this.recovering].map((s) => s.close())]);
    const discarded = this.queue.clear();
    for (const w of this.drainedWaiters.splice(0)) w();
    await closing;
    this.stats.state = 'closed';
    return discarded;
  }
}
