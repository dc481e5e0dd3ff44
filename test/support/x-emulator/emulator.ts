// The X API v2 emulator: an HTTP server on 127.0.0.1 speaking the filtered stream, sample
// stream, stream rules, recent search and app-only token endpoints, with fault injection.
// See README.md in this directory for the protocol details and the control endpoint.
import { EventEmitter } from 'node:events';
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import type { Writable } from 'node:stream';
import { scaledClock, type Clock } from '../../../src/lib/common/clock';
import { Firehose } from './firehose';
import { flushedGzip } from './gzip-out';
import * as streamProblems from './stream-problems';
import {
  checkFaultSpec,
  isStreamFault,
  type ArmedFault,
  type ConnectFaultSpec,
  type FaultSpec,
  type FiredFault,
  type RequestSelector,
  type StreamFaultSpec,
} from './faults';
import {
  PostGenerator,
  RecordSerializer,
  type FieldSelection,
  type Post,
} from './posts';
import * as problems from './problems';
import { compileQuery, MatchView, RuleSyntaxError, type Matcher } from './rules';
import * as xspec from './spec-params';
import { SeqLog } from './seqlog';
import { snowflakeAt } from './timeline';

// ---------------------------------------------------------------------------------------------
// Public types

export type StreamKind = 'filtered' | 'sample';
export type EndpointName = 'filtered' | 'sample' | 'rules.get' | 'rules.post' | 'search' | 'token' | 'control' | 'unknown';

export interface ApiKey {
  key: string;
  secret: string;
  /** The app-only bearer token POST /oauth2/token hands out for this key (default: derived). */
  bearerToken?: string;
}

export interface XEmulatorOptions extends xspec.RestSpecOptions {
  /** Port on 127.0.0.1 (default 0: a free one). */
  port?: number;
  /** Seed of everything generated (default 1). */
  seed?: number;
  /** Posts created per second (default 50). Infinity: as fast as stream clients read. 0: none. */
  postsPerSecond?: number;
  /** Keep-alive ("\r\n") period (default 20000, as X). */
  keepAliveMs?: number;
  /**
   * 'interval' (default): a keep-alive every keepAliveMs whatever else is sent, X's heartbeat.
   * 'idle': only after keepAliveMs without any bytes.
   */
  keepAliveMode?: 'interval' | 'idle';
  /**
   * Each heartbeat gap is drawn (seeded) from [keepAliveMs − jitter, keepAliveMs]: never above
   * keepAliveMs, as X promises a keep-alive "at least every 20 seconds" (default 0: exactly
   * keepAliveMs).
   */
  keepAliveJitterMs?: number;
  /**
   * Emulated time runs this many times faster than the wall clock (default 1): emu.now() =
   * timeOrigin + (Date.now() − timeOrigin) × timeScale. Post times and ids, posts per second,
   * keep-alives, rate-limit windows, backfill and recovery windows, the slow-client limit and
   * every fault delay are in emulated time. `scaledClock(timeScale, timeOrigin)` from
   * src/lib/common/clock.ts keeps the same time.
   */
  timeScale?: number;
  /** Epoch ms where emulated and wall time agree (default: when the emulator is created). */
  timeOrigin?: number;
  /**
   * Answer streams gzip-compressed when the client accepts gzip (default true, as X does; a
   * client that does not ask gets identity). A post counts as emitted once the compressed bytes
   * that carry it are flushed to the socket; split faults cut the uncompressed bytes (the client
   * sees whatever chunks its gunzip produces).
   */
  compression?: boolean;
  /** Valid app-only bearer tokens, one app each (default: one, derived from the seed). */
  bearerTokens?: string[];
  /** Consumer key/secret pairs for POST /oauth2/token (default: one pair for the first token's app). */
  apiKeys?: ApiKey[];
  /** Author pool size (default 1000). */
  authors?: number;
  /** Posts that exist before the start, for recent search (default 1000) ... */
  historyPosts?: number;
  /** ... spread over this long before the start (default 6 days). */
  historySpanMs?: number;
  /**
   * Requests allowed per 15-minute window, per app and endpoint. Defaults are X's published
   * per-app figures for the app's access level (spec-params.ts ACCESS): filtered 50, sample 50,
   * rules.get 450, rules.post 100, search 450 (Basic: 60). `false`: never limit (the headers are
   * still sent).
   */
  rateLimits?: Partial<Record<'filtered' | 'sample' | 'rules.get' | 'rules.post' | 'search', number>> | false;
  /** Concurrent connections per app and stream endpoint (default 1, as X). */
  maxConnectionsPerToken?: number;
  /** Rules per app (default: the app's access level's, 25,000 for Enterprise). */
  maxRules?: number;
  /** Longest rule (default: the access level's, 2,048 for Enterprise). Recent-search queries: `searchQueryLength`. */
  maxRuleLength?: number;
  /** Longest recent-search query (default: the access level's, 4,096 for Enterprise, 512 otherwise). */
  searchQueryLength?: number;
  /** Rate mode: drop a client this far behind the firehose, in ms of posts (default 60000). */
  slowClientMs?: number;
  /** Keep the seqs of every emitted post (default true). */
  record?: boolean;
  /** Generation/write tick (default 10 ms). */
  tickMs?: number;
  /** Most posts per write (default 2000). */
  maxBatchPosts?: number;
  /** Request log entries kept (default 10000). */
  requestLogSize?: number;
  /** Most posts replayed for backfill_minutes (default 100000). */
  maxBackfillPosts?: number;
  /** Most posts a recent-search request looks at (default 1000000). */
  searchScanLimit?: number;
}

export interface StreamConnectionInfo {
  id: number;
  endpoint: StreamKind;
  token: string;
  /** The request's query parameters. */
  params: Record<string, string>;
  openedAt: number;
  closedAt?: number;
  /** 'client' (the client went away), 'drop', 'reset', 'operational-disconnect', 'slow-client', 'stopped'. */
  closeReason?: string;
  /** Posts flushed to the socket (the client has them unless it drops them). */
  emitted: number;
  keepAlives: number;
  bytes: number;
  firstId?: string;
  lastId?: string;
  active: boolean;
}

export interface RequestLogEntry {
  seq: number;
  at: number;
  method: string;
  path: string;
  endpoint: EndpointName;
  /** 0 while no answer was sent (a hang). */
  status: number;
  token?: string;
  connectionId?: number;
  /** Id of the fault that answered, if one did. */
  faultId?: number;
}

export interface EmulatorStats {
  url: string;
  postsPerSecond: number;
  /** Posts created since the start (history excluded). */
  postsCreated: number;
  /** Posts flushed to stream clients, all connections. */
  postsEmitted: number;
  keepAlives: number;
  bytesWritten: number;
  connectAttempts: number;
  connects: number;
  activeConnections: number;
  requests: Record<string, number>;
  statuses: Record<string, number>;
  faultsPending: number;
  faultsFired: number;
}

export interface StoredRule {
  id: string;
  value: string;
  tag?: string;
}

// ---------------------------------------------------------------------------------------------
// Internals

interface RuleEntry extends StoredRule {
  match: Matcher;
  /** `{"id":"..","tag":".."}` for matching_rules. */
  json: string;
}

interface App {
  name: string;
  token: string;
  rules: RuleEntry[];
  active: Record<StreamKind, Set<Conn>>;
  heldUntil: Record<StreamKind, number>;
  windows: Map<string, { resetAt: number; remaining: number }>;
}

interface Conn {
  id: number;
  kind: StreamKind;
  app: App;
  token: string;
  params: Record<string, string>;
  req: http.IncomingMessage;
  res: http.ServerResponse;
  /** Where stream bytes go: res, or a gzip stream piped into it. */
  out: Writable;
  gzip: boolean;
  socket: Socket;
  serializer: RecordSerializer;
  cursor: number;
  openedAt: number;
  closedAt?: number;
  closeReason?: string;
  closed: boolean;
  emitted: number;
  keepAlives: number;
  bytes: number;
  lastWriteAt: number;
  lastKeepAliveAt: number;
  log: SeqLog | null;
  firstSeq?: number;
  lastSeq?: number;
  inflight: number;
  needDrain: boolean;
  /** A split record's pieces are being written with gaps. */
  busy: boolean;
  /** Being closed by the emulator (drop, operational disconnect, slow client). */
  ending: boolean;
  onIdle?: () => void;
  stalledUntil: number;
  skipBacklog: boolean;
  split: { spec: Extract<StreamFaultSpec, { type: 'split' }>; remaining: number } | null;
  holdSlotMs: number;
  immediateScheduled: boolean;
  /** Emulated time the next heartbeat is due (interval mode). */
  nextKeepAliveAt: number;
  /** Wall-clock timer for that heartbeat. */
  keepAliveTimer?: unknown;
  /** Seeded draws of heartbeat gaps. */
  jitterState: number;
  /** A late-heartbeat fault holds everything until the heartbeat at nextKeepAliveAt. */
  lateHeartbeat: boolean;
  /** The next record is preceded by a BOM. */
  bomNext: boolean;
  /** Posts at or after this seq are live (earlier ones: backfill or recovery replay, not lag). */
  liveFrom: number;
  /** Recovery (start_time/end_time): the connection ends once every post up to endMs went out. */
  recoveryEndMs?: number;
  /** Opened with start_time (a Recovery connection). */
  recovery: boolean;
}

const WINDOW_SEC = 900;
const STREAM_PARAMS = ['tweet.fields', 'expansions', 'media.fields', 'poll.fields', 'place.fields', 'user.fields', 'backfill_minutes'];
/** The filtered stream also takes Recovery's start_time/end_time (X's spec); the 1% sample stream does not. */
const FILTERED_STREAM_PARAMS = [...STREAM_PARAMS, 'start_time', 'end_time'];
/** How far back Recovery reaches (X's "Recovery and redundancy" page: up to 24 hours). */
const RECOVERY_WINDOW_MS = 24 * 3600_000;
/** Concurrent Recovery connections per app on the filtered stream (same page: 2 recovery jobs). */
const MAX_RECOVERY_CONNECTIONS = 2;
const SEARCH_PARAMS = [
  'query', 'start_time', 'end_time', 'since_id', 'until_id', 'max_results', 'next_token', 'pagination_token',
  'sort_order', 'tweet.fields', 'post.fields', 'expansions', 'media.fields', 'poll.fields', 'place.fields', 'user.fields',
];
const NEXT_TOKEN_PREFIX = 'b26v89c19zqg8o3f';
const RELEVANCY_TOKEN_PREFIX = 'b26v89c19zqg8o3r';
const SEVEN_DAYS = 7 * 86400_000;

function sentNow(): string {
  return new Date().toISOString();
}

function readBody(req: http.IncomingMessage, limit = 1 << 20): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new Error('body too large'));
        req.destroy();
      } else parts.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

function derivedToken(seed: number, i: number): string {
  const h = createHash('sha256').update(`x-emulator:${seed}:${i}`).digest('base64url').slice(0, 40);
  return `AAAAAAAAAAAAAAAAAAAAA${h}`;
}

// ---------------------------------------------------------------------------------------------

/** Fault injection, as methods. Every method returns the armed fault's id. */
export class FaultController {
  constructor(private readonly emu: XEmulator) {}

  /** Arms one fault or several (the objects POST /__control/faults takes). */
  inject(spec: FaultSpec): number;
  inject(specs: FaultSpec[]): number[];
  inject(spec: FaultSpec | FaultSpec[]): number | number[] {
    return this.emu._inject(spec);
  }

  /** Destroys the socket of a stream mid-stream. */
  drop(opts: Omit<Extract<StreamFaultSpec, { type: 'drop' }>, 'type'> = {}): number {
    return this.inject({ ...opts, type: 'drop' });
  }

  /** Sends nothing (not even keep-alives) for `ms` (undefined: until the client leaves). */
  stall(ms?: number, opts: Omit<Extract<StreamFaultSpec, { type: 'stall' }>, 'type' | 'ms'> = {}): number {
    return this.inject({ ...opts, type: 'stall', ms });
  }

  /** Writes the next record(s) in pieces. */
  split(opts: Omit<Extract<StreamFaultSpec, { type: 'split' }>, 'type'> = {}): number {
    return this.inject({ ...opts, type: 'split' });
  }

  operationalDisconnect(opts: Omit<Extract<StreamFaultSpec, { type: 'operational-disconnect' }>, 'type'> = {}): number {
    return this.inject({ ...opts, type: 'operational-disconnect' });
  }

  malformed(opts: Omit<Extract<StreamFaultSpec, { type: 'malformed' }>, 'type'> = {}): number {
    return this.inject({ ...opts, type: 'malformed' });
  }

  /**
   * After the next heartbeat, nothing at all until the following one, which comes `ms` late
   * (a gap of keepAliveMs + ms); then the posts held back.
   */
  lateHeartbeat(opts: Omit<Extract<StreamFaultSpec, { type: 'late-heartbeat' }>, 'type'>): number {
    return this.inject({ ...opts, type: 'late-heartbeat' });
  }

  /** The next record is preceded by a UTF-8 BOM (EF BB BF). */
  bom(opts: Omit<Extract<StreamFaultSpec, { type: 'bom' }>, 'type'> = {}): number {
    return this.inject({ ...opts, type: 'bom' });
  }

  /** The next `count` stream connects get 200 text/html (a proxy's page), then the connection closes. */
  htmlOk(opts: Omit<Extract<ConnectFaultSpec, { type: 'html-ok' }>, 'type'> = {}): number {
    return this.inject({ ...opts, type: 'html-ok' });
  }

  /** The next `count` matching requests (default: stream connects) get `status`. */
  reject(status: number, opts: Omit<Extract<ConnectFaultSpec, { type: 'status' }>, 'type' | 'status'> = {}): number {
    return this.inject({ ...opts, type: 'status', status });
  }

  /** 429 Too Many Requests with x-rate-limit-reset `resetInSec` from now. */
  tooManyRequests(count = 1, resetInSec = 60, opts: { endpoint?: RequestSelector; token?: string } = {}): number {
    return this.reject(429, { ...opts, count, resetInSec });
  }

  /**
   * 429 UsageCapExceeded (`type` .../usage-capped, `period`, `scope`) for the next `count`
   * requests (default: any endpoint), with x-rate-limit-remaining > 0.
   */
  usageCapped(count = 1, opts: { endpoint?: RequestSelector; token?: string; period?: 'Daily' | 'Monthly'; scope?: 'Account' | 'Product' } = {}): number {
    return this.inject({ ...opts, count, type: 'usage-capped' });
  }

  /** 429 with the TooManyConnections problem. */
  tooManyConnections(count = 1, opts: { endpoint?: RequestSelector; token?: string } = {}): number {
    return this.reject(429, { ...opts, count, tooManyConnections: true });
  }

  unavailable(count = 1, opts: { endpoint?: RequestSelector; token?: string } = {}): number {
    return this.reject(503, { ...opts, count });
  }

  unauthorized(count = 1, opts: { endpoint?: RequestSelector; token?: string } = {}): number {
    return this.reject(401, { ...opts, count });
  }

  /** 403 client-not-enrolled. */
  forbidden(count = 1, opts: { endpoint?: RequestSelector; token?: string } = {}): number {
    return this.reject(403, { ...opts, count });
  }

  /** Accepts the next `count` requests and never answers (destroying them after `ms`, if given). */
  hang(opts: Omit<Extract<ConnectFaultSpec, { type: 'hang' }>, 'type'> = {}): number {
    return this.inject({ ...opts, type: 'hang' });
  }

  /** Faults armed and not yet used up. */
  pending(): ArmedFault[] {
    return this.emu._faults.filter((f) => !f.done).map((f) => ({ ...f }));
  }

  /** Every firing so far, oldest first. */
  fired(faultId?: number): FiredFault[] {
    return this.emu._fired.filter((f) => faultId === undefined || f.faultId === faultId);
  }

  /** Resolves when fault `id` has fired (at least `times` times). */
  waitFired(id: number, times = 1, timeoutMs = 10_000): Promise<FiredFault[]> {
    return this.emu.waitFor(() => (this.fired(id).length >= times ? this.fired(id) : undefined), timeoutMs, `fault ${id} to fire ${times}x`);
  }

  /** Disarms everything pending. */
  clear(): void {
    for (const f of this.emu._faults) f.done = true;
  }
}

export class XEmulator extends EventEmitter {
  readonly seed: number;
  readonly bearerTokens: string[];
  readonly apiKeys: ApiKey[];
  readonly faults: FaultController;
  /** Emulated seconds per wall-clock second (option timeScale). */
  readonly timeScale: number;
  /** Epoch ms where emulated and wall time agree (option timeOrigin). */
  readonly timeOrigin: number;
  /** The emulator's clock: scaledClock(timeScale, timeOrigin). */
  readonly clock: Clock;
  url = '';
  port = 0;

  /** @internal */ _faults: ArmedFault[] = [];
  /** @internal */ _fired: FiredFault[] = [];

  private readonly opts: Required<
    Omit<XEmulatorOptions, 'port' | 'bearerTokens' | 'apiKeys' | 'rateLimits' | 'maxRules' | 'maxRuleLength' | 'searchQueryLength' | keyof xspec.RestSpecOptions>
  >;
  /** Explicit rate limits (the rest come from the app's access level). */
  private readonly limits: Partial<Record<string, number>>;
  /** The REST side's options as given (access levels, limits, problemHost, numericRuleIds). */
  private readonly rest: XEmulatorOptions;
  private numericRuleIds: boolean;
  private readonly enforceLimits: boolean;
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly firehose: Firehose;
  private readonly gen: PostGenerator;
  private readonly apps = new Map<string, App>(); // token -> app
  private readonly keyToApp = new Map<string, { secret: string; app: App }>();
  private readonly conns = new Set<Conn>();
  private readonly allConns: Conn[] = [];
  private readonly serializers = new Map<string, RecordSerializer>();
  private readonly reqLog: RequestLogEntry[] = [];
  private readonly reqCounts: Record<string, number> = {};
  private readonly statusCounts: Record<string, number> = {};
  private readonly hanging = new Set<http.ServerResponse>();
  private readonly timers = new Set<unknown>();
  private readonly defaultSerializer: RecordSerializer;
  private ticker?: NodeJS.Timeout;
  private reqSeq = 0;
  private connSeq = 0;
  private faultSeq = 0;
  private ruleSeq = 0;
  private lastRuleId = 0n;
  private connectAttempts = 0;
  private connects = 0;
  private totalEmitted = 0;
  private totalKeepAlives = 0;
  private totalBytes = 0;
  private stopped = false;

  constructor(options: XEmulatorOptions = {}) {
    super();
    this.timeScale = options.timeScale ?? 1;
    this.timeOrigin = options.timeOrigin ?? Date.now();
    this.clock = scaledClock(this.timeScale, this.timeOrigin);
    const now = this.now();
    this.seed = (options.seed ?? 1) >>> 0;
    this.opts = {
      seed: this.seed,
      postsPerSecond: options.postsPerSecond ?? 50,
      keepAliveMs: options.keepAliveMs ?? 20_000,
      keepAliveMode: options.keepAliveMode ?? 'interval',
      keepAliveJitterMs: Math.max(0, Math.min(options.keepAliveJitterMs ?? 0, options.keepAliveMs ?? 20_000)),
      timeScale: this.timeScale,
      timeOrigin: this.timeOrigin,
      compression: options.compression ?? true,
      authors: options.authors ?? 1000,
      historyPosts: options.historyPosts ?? 1000,
      historySpanMs: options.historySpanMs ?? 6 * 86400_000,
      maxConnectionsPerToken: options.maxConnectionsPerToken ?? 1,
      slowClientMs: options.slowClientMs ?? 60_000,
      record: options.record ?? true,
      tickMs: options.tickMs ?? 10,
      maxBatchPosts: options.maxBatchPosts ?? 2000,
      requestLogSize: options.requestLogSize ?? 10_000,
      maxBackfillPosts: options.maxBackfillPosts ?? 100_000,
      searchScanLimit: options.searchScanLimit ?? 1_000_000,
    };
    this.enforceLimits = options.rateLimits !== false;
    this.limits = { ...(options.rateLimits || {}) };
    this.rest = { ...options, tokenAccess: { ...options.tokenAccess } };
    this.numericRuleIds = !!options.numericRuleIds;
    this.firehose = new Firehose({
      rate: this.opts.postsPerSecond,
      history: this.opts.historyPosts,
      historySpanMs: this.opts.historySpanMs,
      now,
    });
    this.gen = new PostGenerator({ seed: this.seed, authors: Math.max(1, this.opts.authors) }, this.firehose.timeline);
    this.defaultSerializer = this.serializerFor({ tweetFields: new Set(), userFields: new Set(), expansions: new Set() });

    this.bearerTokens = options.bearerTokens?.length ? [...options.bearerTokens] : [derivedToken(this.seed, 0)];
    this.bearerTokens.forEach((t, i) => this.appFor(t, `app-${i + 1}`));
    const keys = options.apiKeys ?? [{ key: `emulator-key-${this.seed}`, secret: `emulator-secret-${this.seed}`, bearerToken: this.bearerTokens[0] }];
    this.apiKeys = keys.map((k, i) => ({ ...k, bearerToken: k.bearerToken ?? derivedToken(this.seed, 1000 + i) }));
    this.apiKeys.forEach((k, i) => this.keyToApp.set(k.key, { secret: k.secret, app: this.appFor(k.bearerToken!, `key-app-${i + 1}`) }));

    this.faults = new FaultController(this);
    this.server = http.createServer((req, res) => this.onRequest(req, res));
    this.server.requestTimeout = 0;
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.setNoDelay(true);
      s.once('close', () => this.sockets.delete(s));
    });
  }

  private appFor(token: string, name: string): App {
    let app = this.apps.get(token);
    if (!app) {
      app = {
        name,
        token,
        rules: [],
        active: { filtered: new Set(), sample: new Set() },
        heldUntil: { filtered: 0, sample: 0 },
        windows: new Map(),
      };
      this.apps.set(token, app);
    }
    return app;
  }

  /** The first bearer token. */
  get bearerToken(): string {
    return this.bearerTokens[0];
  }

  get postsPerSecond(): number {
    return this.firehose.rate;
  }

  /** Emulated time, epoch ms: timeOrigin + (Date.now() − timeOrigin) × timeScale. */
  now(): number {
    return this.clock.now();
  }

  /** @internal */
  async _listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
    this.url = `http://127.0.0.1:${this.port}`;
    this.ticker = setInterval(() => this.tick(), this.opts.tickMs);
    this.ticker.unref();
  }

  /** Closes every connection and the server. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.ticker) clearInterval(this.ticker);
    for (const t of this.timers) this.clock.clearTimeout(t);
    for (const c of [...this.conns]) {
      c.closeReason ??= 'stopped';
      c.socket.destroy();
      this.onConnClosed(c);
    }
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Changes the firehose rate (posts/s; Infinity: as fast as clients read; 0: pause). */
  setRate(postsPerSecond: number): void {
    this.firehose.setRate(postsPerSecond, this.now());
    for (const c of this.conns) this.pump(c);
  }

  // -------------------------------------------------------------------------------------------
  // Bookkeeping for tests

  stats(): EmulatorStats {
    return {
      url: this.url,
      postsPerSecond: this.firehose.rate,
      postsCreated: this.firehose.head - this.firehose.historyCount,
      postsEmitted: this.totalEmitted,
      keepAlives: this.totalKeepAlives,
      bytesWritten: this.totalBytes,
      connectAttempts: this.connectAttempts,
      connects: this.connects,
      activeConnections: this.conns.size,
      requests: { ...this.reqCounts },
      statuses: { ...this.statusCounts },
      faultsPending: this._faults.filter((f) => !f.done).length,
      faultsFired: this._fired.length,
    };
  }

  /** Every stream connection so far (oldest first), or only the open ones. */
  connections(opts: { active?: boolean } = {}): StreamConnectionInfo[] {
    return this.allConns.filter((c) => !opts.active || !c.closed).map((c) => this.connInfo(c));
  }

  private connInfo(c: Conn): StreamConnectionInfo {
    return {
      id: c.id,
      endpoint: c.kind,
      token: c.token,
      params: { ...c.params },
      openedAt: c.openedAt,
      closedAt: c.closedAt,
      closeReason: c.closeReason,
      emitted: c.emitted,
      keepAlives: c.keepAlives,
      bytes: c.bytes,
      firstId: c.firstSeq === undefined ? undefined : this.firehose.timeline.idOf(c.firstSeq),
      lastId: c.lastSeq === undefined ? undefined : this.firehose.timeline.idOf(c.lastSeq),
      active: !c.closed,
    };
  }

  /** Requests so far (the last `requestLogSize`), optionally of one endpoint. */
  requests(endpoint?: EndpointName): RequestLogEntry[] {
    return this.reqLog.filter((r) => !endpoint || r.endpoint === endpoint).map((r) => ({ ...r }));
  }

  /** Posts emitted (flushed to a stream client): on one connection, or on all of them. */
  emittedCount(connectionId?: number): number {
    if (connectionId === undefined) return this.totalEmitted;
    return this.allConns.find((c) => c.id === connectionId)?.emitted ?? 0;
  }

  /** Seqs of the posts emitted, connection by connection, each in order (needs `record`). */
  emittedSeqs(connectionId?: number): number[] {
    const out: number[] = [];
    for (const c of this.allConns) {
      if (connectionId !== undefined && c.id !== connectionId) continue;
      if (!c.log) throw new Error('emitted posts are not recorded (record: false)');
      for (const s of c.log) out.push(s);
    }
    return out;
  }

  /** Ids of the posts emitted, connection by connection, each in order (needs `record`). */
  emittedIds(connectionId?: number): string[] {
    return this.emittedSeqs(connectionId).map((s) => this.firehose.timeline.idOf(s));
  }

  /** Whether post `id` went to some stream client (or to connection `connectionId`). */
  wasEmitted(id: string, connectionId?: number): boolean {
    const seq = this.firehose.timeline.seqOfId(id);
    if (seq < 0) return false;
    return this.allConns.some((c) => (connectionId === undefined || c.id === connectionId) && !!c.log?.has(seq));
  }

  /** Posts created so far (history included): seqs [0, head). */
  get head(): number {
    return this.firehose.head;
  }

  /** The seq of post `id`, or -1 when the emulator never created it. */
  seqOf(id: string): number {
    return this.firehose.timeline.seqOfId(id);
  }

  idOf(seq: number): string {
    this.checkSeq(seq);
    return this.firehose.timeline.idOf(seq);
  }

  private checkSeq(seq: number): void {
    if (!Number.isInteger(seq) || seq < 0 || seq >= this.firehose.head) throw new RangeError(`no post ${seq} (posts 0..${this.firehose.head - 1} exist)`);
  }

  /** The generated post `seq` (or id), as the generator holds it. */
  post(seqOrId: number | string): Post {
    const seq = typeof seqOrId === 'string' ? this.seqOf(seqOrId) : seqOrId;
    this.checkSeq(seq);
    return this.gen.post(seq);
  }

  /**
   * Post `seq` (or id) as a stream record carries it (data + includes), for the given fields
   * (as query parameters: { 'tweet.fields': 'created_at,lang', expansions: 'author_id' }).
   */
  postObject(
    seqOrId: number | string,
    params: Record<string, string> = {},
  ): { data: Record<string, unknown>; includes?: Record<string, unknown>; errors?: Array<Record<string, unknown>> } {
    const o = this.serializerFor(this.fieldsOf(params)).object(this.post(seqOrId));
    if (o.errors) o.errors = JSON.parse(this.streamJsonText(JSON.stringify(o.errors))) as Array<Record<string, unknown>>;
    return o;
  }

  /** The rules of an app (default: the first token's). */
  rules(token = this.bearerToken): StoredRule[] {
    return this.appOrThrow(token).rules.map(({ id, value, tag }) => (tag === undefined ? { id, value } : { id, value, tag }));
  }

  /** Adds rules directly (no HTTP, no rate limit); throws on invalid ones. */
  addRules(rules: Array<{ value: string; tag?: string }>, token = this.bearerToken): StoredRule[] {
    const app = this.appOrThrow(token);
    const out: StoredRule[] = [];
    for (const r of rules) {
      const match = compileQuery(r.value, this.ruleLimits(token).maxRuleLength);
      const entry = this.makeRule(r.value, r.tag, match);
      app.rules.push(entry);
      out.push({ id: entry.id, value: entry.value, ...(entry.tag === undefined ? {} : { tag: entry.tag }) });
    }
    return out;
  }

  deleteAllRules(token = this.bearerToken): void {
    this.appOrThrow(token).rules = [];
  }

  private appOrThrow(token: string): App {
    const app = this.apps.get(token);
    if (!app) throw new Error('unknown bearer token');
    return app;
  }

  // REST-side limits of an app's access level (spec-params.ts), explicit options first.

  /** The access level of the app behind `token` (option `access`, per token `tokenAccess`). */
  accessLevel(token: string | undefined): xspec.AccessLevel {
    return xspec.accessOf(this.rest, token);
  }

  private ruleLimits(token: string | undefined): { maxRules: number; maxRuleLength: number; searchQueryLength: number } {
    const level = xspec.ACCESS[this.accessLevel(token)];
    return {
      maxRules: this.rest.maxRules ?? level.maxRules,
      maxRuleLength: this.rest.maxRuleLength ?? level.maxRuleLength,
      searchQueryLength: this.rest.searchQueryLength ?? this.rest.maxRuleLength ?? level.searchQueryLength,
    };
  }

  private limitFor(token: string | undefined, endpoint: EndpointName): number {
    return this.limits[endpoint] ?? xspec.ACCESS[this.accessLevel(token)].rates[endpoint as xspec.RateLimited] ?? 450;
  }

  /**
   * Rule ids as bare JSON numbers (true) or strings (false, X's spec) from now on, in rules
   * responses and in matching_rules of stream records.
   */
  setNumericRuleIds(on: boolean): void {
    this.numericRuleIds = on;
    for (const app of this.apps.values()) for (const r of app.rules) r.json = this.matchingRuleJson(r.id, r.tag);
  }

  private matchingRuleJson(id: string, tag: string | undefined): string {
    const idJson = this.numericRuleIds ? id : `"${id}"`;
    return tag === undefined ? `{"id":${idJson}}` : `{"id":${idJson},"tag":${JSON.stringify(tag)}}`;
  }

  /** Polls `fn` every 5 ms until it returns something other than undefined/false. */
  async waitFor<T>(fn: () => T | undefined | false, timeoutMs = 10_000, what = 'condition'): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = fn();
      if (v !== undefined && v !== false) return v;
      if (Date.now() > deadline) throw new Error(`x-emulator: timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Resolves with the next stream connection opened (and accepted). */
  nextConnection(timeoutMs = 10_000): Promise<StreamConnectionInfo> {
    const known = this.allConns.length;
    return this.waitFor(() => (this.allConns.length > known ? this.connInfo(this.allConns[known]) : undefined), timeoutMs, 'a stream connection');
  }

  // -------------------------------------------------------------------------------------------
  // Faults

  /** @internal */
  _inject(spec: FaultSpec | FaultSpec[]): number | number[] {
    if (Array.isArray(spec)) return spec.map((s) => this._inject(s) as number);
    const problem = checkFaultSpec(spec);
    if (problem) throw new TypeError(`x-emulator: bad fault: ${problem}`);
    const now = this.now();
    const f: ArmedFault = { id: ++this.faultSeq, spec: { ...spec }, armedAt: now, dueAt: now + (spec.afterMs ?? 0), counted: 0, fired: 0, done: false };
    this._faults.push(f);
    if (isStreamFault(spec)) {
      if (spec.afterMs) this.later(spec.afterMs, () => this.conns.forEach((c) => this.pump(c)));
      for (const c of this.conns) this.pump(c);
    }
    return f.id;
  }

  /** Runs fn after `ms` of emulated time (or of wall time with `real`). */
  private later(ms: number, fn: () => void, real = false): void {
    const run = (): void => {
      this.timers.delete(t);
      fn();
    };
    const t = real ? this.clock.setTimeout(run, ms * this.timeScale) : this.clock.setTimeout(run, ms);
    this.timers.add(t);
  }

  private streamFaultApplies(f: ArmedFault, c: Conn): boolean {
    const s = f.spec as StreamFaultSpec;
    if (s.connectionId !== undefined && s.connectionId !== c.id) return false;
    if (s.token !== undefined && s.token !== c.token) return false;
    const ep = s.endpoint ?? 'stream';
    return ep === 'stream' || ep === c.kind;
  }

  /** Posts this connection may write before a stream fault is due (Infinity: none waiting). */
  private postsUntilFault(c: Conn): number {
    let limit = Infinity;
    for (const f of this._faults) {
      if (f.done || !isStreamFault(f.spec) || !this.streamFaultApplies(f, c)) continue;
      const left = (f.spec.afterPosts ?? 0) - f.counted;
      if (left > 0 && left < limit) limit = left;
    }
    return limit;
  }

  private countPosts(c: Conn, n: number): void {
    for (const f of this._faults) {
      if (f.done || !isStreamFault(f.spec) || !this.streamFaultApplies(f, c)) continue;
      if ((f.spec.afterPosts ?? 0) > f.counted) f.counted += n;
    }
  }

  /** A stream fault due on c: late-heartbeat ones only right after a heartbeat (`atHeartbeat`), the others only between writes. */
  private dueStreamFault(c: Conn, now: number, atHeartbeat = false): ArmedFault | undefined {
    for (const f of this._faults) {
      if (f.done || !isStreamFault(f.spec) || !this.streamFaultApplies(f, c)) continue;
      if ((f.spec.type === 'late-heartbeat') !== atHeartbeat) continue;
      if (now >= f.dueAt && f.counted >= (f.spec.afterPosts ?? 0)) return f;
    }
    return undefined;
  }

  private markFired(f: ArmedFault, rec: Omit<FiredFault, 'faultId' | 'type' | 'at'>): void {
    const now = this.now();
    f.fired++;
    f.counted = 0;
    const times = isStreamFault(f.spec) ? (f.spec.times ?? 1) : ((f.spec as ConnectFaultSpec).count ?? 1);
    if (f.fired >= times) f.done = true;
    else if (isStreamFault(f.spec)) f.dueAt = now + (f.spec.afterMs ?? 0);
    const fired: FiredFault = { faultId: f.id, type: f.spec.type, at: now, ...rec };
    this._fired.push(fired);
    this.emit('fault', fired);
  }

  private fireStreamFault(f: ArmedFault, c: Conn): void {
    const spec = f.spec as StreamFaultSpec;
    const now = this.now();
    this.markFired(f, { connectionId: c.id });
    switch (spec.type) {
      case 'drop': {
        c.ending = true;
        c.closeReason = spec.reset ? 'reset' : 'drop';
        c.holdSlotMs = spec.holdSlotMs ?? 0;
        if (spec.midRecord) {
          if (c.cursor >= this.firehose.head) this.firehose.forceOne(now);
          const seq = c.cursor++;
          const rec = Buffer.from(this.recordFor(c, seq, true), 'utf8');
          this.rawWrite(c, rec.subarray(0, Math.max(1, Math.floor(rec.length / 2))));
        }
        this.whenFlushed(c, () => {
          if (spec.reset) c.socket.resetAndDestroy();
          else c.socket.destroy();
        });
        return;
      }
      case 'stall':
        c.stalledUntil = spec.ms === undefined ? Infinity : now + spec.ms;
        c.skipBacklog = !!spec.skipBacklog;
        if (spec.ms !== undefined) this.later(spec.ms + 1, () => this.pump(c));
        return;
      case 'split':
        c.split = { spec, remaining: spec.records ?? 1 };
        return;
      case 'operational-disconnect':
        // X writes the problem, then ends the response (a clean end of the chunked body).
        c.ending = true;
        c.closeReason = 'operational-disconnect';
        this.rawWrite(c, this.streamJson(streamProblems.disconnectProblem(spec.disconnectType)) + '\r\n');
        c.out.end();
        return;
      case 'bom':
        c.bomNext = true;
        return;
      case 'late-heartbeat':
        // Fired right after a heartbeat (see keepAlive): silence until the late one.
        c.lateHeartbeat = true;
        c.nextKeepAliveAt = c.lastKeepAliveAt + this.opts.keepAliveMs + spec.ms;
        c.stalledUntil = c.nextKeepAliveAt;
        c.skipBacklog = false;
        this.scheduleKeepAlive(c);
        return;
      case 'malformed':
        this.rawWrite(c, (spec.line ?? '{"data":{"id":"1","text":"this record was cut sh') + '\r\n');
        return;
    }
  }

  /** Runs fn once every write so far has been flushed (or after 1 s, whatever happens first). */
  private whenFlushed(c: Conn, fn: () => void): void {
    let done = false;
    const once = (): void => {
      if (done) return;
      done = true;
      fn();
    };
    if (c.inflight === 0) return once();
    c.onIdle = once;
    this.later(1000, once, true);
  }

  /** Connect-time fault for this request, if one is armed. */
  private connectFault(endpoint: EndpointName, token: string | undefined): ArmedFault | undefined {
    const now = this.now();
    for (const f of this._faults) {
      if (f.done || isStreamFault(f.spec) || now < f.dueAt) continue;
      const s = f.spec as ConnectFaultSpec;
      if (s.token !== undefined && s.token !== token) continue;
      const sel = s.endpoint ?? (s.type === 'usage-capped' ? 'any' : 'stream');
      const hit =
        sel === 'any' ||
        sel === endpoint ||
        (sel === 'stream' && (endpoint === 'filtered' || endpoint === 'sample')) ||
        (sel === 'rules' && (endpoint === 'rules.get' || endpoint === 'rules.post'));
      if (hit) return f;
    }
    return undefined;
  }

  // -------------------------------------------------------------------------------------------
  // Streaming

  private tick(): void {
    const now = this.now();
    this.firehose.advance(now);
    const unlimited = this.firehose.unlimited;
    const maxLag = (this.firehose.rate * this.opts.slowClientMs) / 1000;
    for (const c of this.conns) {
      if (c.closed || c.ending) continue;
      // Lag counts live posts only: a backfill or recovery replay is not the client's fault.
      const lag = this.firehose.head - Math.max(c.cursor, c.liveFrom);
      if (!unlimited && this.firehose.rate > 0 && c.stalledUntil <= now && lag > Math.max(maxLag, this.opts.maxBatchPosts)) {
        this.slowClient(c);
        continue;
      }
      // Posts first: after a long event-loop pause an 'idle' keep-alive is only due if there
      // was nothing to send.
      this.pump(c);
      this.maybeKeepAlive(c, now);
    }
  }

  /** The next heartbeat gap: keepAliveMs, or seeded in [keepAliveMs − jitter, keepAliveMs]. */
  private keepAliveGap(c: Conn): number {
    const jitter = this.opts.keepAliveJitterMs;
    if (jitter <= 0) return this.opts.keepAliveMs;
    let x = c.jitterState;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    c.jitterState = x >>> 0 || 1;
    return this.opts.keepAliveMs - Math.floor((c.jitterState / 4294967296) * (jitter + 1));
  }

  /** Writes the heartbeat if it is due ('interval': at nextKeepAliveAt; 'idle': a gap after the last write). */
  private maybeKeepAlive(c: Conn, now: number): void {
    if (c.closed || c.ending || c.busy || c.stalledUntil > now) return;
    const due = this.opts.keepAliveMode === 'idle' ? c.lastWriteAt + (c.nextKeepAliveAt - c.lastKeepAliveAt) : c.nextKeepAliveAt;
    if (now >= due) this.keepAlive(c, now);
  }

  private keepAlive(c: Conn, now: number): void {
    c.lastKeepAliveAt = now;
    c.keepAlives++;
    this.totalKeepAlives++;
    this.rawWrite(c, '\r\n');
    c.nextKeepAliveAt = now + this.keepAliveGap(c);
    const late = this.dueStreamFault(c, now, true);
    if (late) this.fireStreamFault(late, c);
    else this.scheduleKeepAlive(c);
  }

  /** A timer for the next 'interval' heartbeat, so it is not late by up to a tick (× timeScale). */
  private scheduleKeepAlive(c: Conn): void {
    if (c.keepAliveTimer !== undefined) this.clock.clearTimeout(c.keepAliveTimer);
    c.keepAliveTimer = undefined;
    if (this.opts.keepAliveMode !== 'interval' || c.closed) return;
    const fire = (): void => {
      c.keepAliveTimer = undefined;
      if (c.closed) return;
      const now = this.now();
      if (now < c.nextKeepAliveAt) return this.scheduleKeepAlive(c);
      this.pump(c);
      this.maybeKeepAlive(c, now);
    };
    c.keepAliveTimer = this.clock.setTimeout(fire, Math.max(1 / this.timeScale, c.nextKeepAliveAt - this.now()));
  }

  private slowClient(c: Conn): void {
    c.ending = true;
    c.closeReason = 'slow-client';
    this.rawWrite(c, this.streamJson(problems.slowClientDisconnect(this.firehose.head - c.cursor)) + '\r\n');
    c.out.end();
    this.later(1000, () => c.socket.destroy(), true);
  }

  /** Writes bytes that carry no post (keep-alives, errors, malformed lines, split pieces). */
  private rawWrite(c: Conn, data: string | Buffer, cb?: (err?: Error | null) => void): void {
    if (c.closed || c.out.writableEnded || c.out.destroyed || c.res.destroyed) {
      cb?.(new Error('stream closed'));
      return;
    }
    c.lastWriteAt = this.now();
    // Encode once (the socket would otherwise encode the string, and counting its bytes first
    // would walk it a second time).
    if (typeof data === 'string' && data.length > 64) data = Buffer.from(data, 'utf8');
    const n = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    c.bytes += n;
    this.totalBytes += n;
    c.inflight++;
    const ok = c.out.write(data, (err?: Error | null) => {
      c.inflight--;
      cb?.(err);
      if (c.inflight === 0 && c.onIdle) {
        const f = c.onIdle;
        c.onIdle = undefined;
        f();
      }
    });
    if (!ok) c.needDrain = true;
  }

  private writePosts(c: Conn, text: string, seqs: number[]): void {
    this.rawWrite(c, text, (err) => {
      if (err) return;
      this.flushed(c, seqs);
    });
  }

  private flushed(c: Conn, seqs: number[]): void {
    c.emitted += seqs.length;
    this.totalEmitted += seqs.length;
    c.firstSeq ??= seqs[0];
    c.lastSeq = seqs[seqs.length - 1];
    c.log?.addAll(seqs);
  }

  /** `{...}\r\n` of post `seq` for connection c; '' if a filtered stream's rules miss it (unless force). */
  private recordFor(c: Conn, seq: number, force = false, entry?: number): string {
    const p = this.gen.post(seq, entry);
    let mr = '';
    if (c.kind === 'filtered') {
      const mv = new MatchView(p, this.gen);
      for (const r of c.app.rules) if (r.match(mv)) mr += (mr ? ',' : '') + r.json;
      if (!mr && !force) return '';
      mr = `,"matching_rules":[${mr}]`;
    }
    let errors = c.serializer.errors(p);
    if (errors) errors = this.streamJsonText(errors);
    return `{"data":${c.serializer.data(p)}${c.serializer.includes(p)}${errors}${mr}}\r\n`;
  }

  /** JSON of an in-stream problem, on the problem host the options ask for. */
  private streamJson(body: unknown): string {
    return this.streamJsonText(JSON.stringify(body));
  }

  private streamJsonText(json: string): string {
    return xspec.withProblemHost(json, this.rest.problemHost ?? 'api.twitter.com');
  }

  private pump(c: Conn): void {
    if (c.closed || c.busy || c.ending || c.needDrain) return;
    let now = this.now();
    if (c.stalledUntil > now) return;
    if (c.stalledUntil) {
      c.stalledUntil = 0;
      if (c.skipBacklog) c.cursor = Math.max(c.cursor, this.firehose.head);
      if (c.lateHeartbeat) {
        // The late heartbeat first, then the posts held back.
        c.lateHeartbeat = false;
        this.keepAlive(c, now);
        if (c.stalledUntil > now) return;
      }
    }
    const unlimited = this.firehose.unlimited;
    const tl = this.firehose.timeline;
    let rounds = 0;
    while (!c.closed && !c.busy && !c.ending && !c.needDrain) {
      const f = this.dueStreamFault(c, now);
      if (f) {
        this.fireStreamFault(f, c);
        if (c.stalledUntil > now) return;
        continue;
      }
      if (unlimited) this.firehose.demand(c.cursor + this.opts.maxBatchPosts, now);
      let head = this.firehose.head;
      if (c.recoveryEndMs !== undefined) {
        // Recovery with end_time: posts created up to end_time, then the connection ends.
        head = Math.min(head, tl.seqAtOrAfterMs(c.recoveryEndMs + 1));
        if (c.cursor >= head && now > c.recoveryEndMs) {
          this.firehose.advance(now);
          if (c.cursor >= tl.seqAtOrAfterMs(c.recoveryEndMs + 1)) return this.endRecovery(c);
          continue;
        }
      }
      if (c.cursor >= head) return;
      const end = Math.min(head, c.cursor + this.opts.maxBatchPosts);
      const limit = this.postsUntilFault(c);
      if (c.split) {
        this.writeSplitRecord(c, end);
      } else {
        let entry = tl.entryOf(c.cursor);
        let entryEnd = tl.entryEndSeq(entry);
        let text = '';
        const seqs: number[] = [];
        let seq = c.cursor;
        for (; seq < end && seqs.length < limit; seq++) {
          while (seq >= entryEnd) entryEnd = tl.entryEndSeq(++entry);
          const rec = this.recordFor(c, seq, false, entry);
          if (!rec) continue;
          if (c.bomNext) {
            c.bomNext = false;
            text += '\uFEFF';
          }
          text += rec;
          seqs.push(seq);
        }
        c.cursor = seq;
        if (seqs.length) {
          this.writePosts(c, text, seqs);
          this.countPosts(c, seqs.length);
        }
      }
      if (unlimited && ++rounds >= 4) {
        if (!c.needDrain) this.schedulePump(c);
        return;
      }
      now = this.now();
    }
  }

  /** Recovery reached end_time: every post up to it went out; the response ends cleanly. */
  private endRecovery(c: Conn): void {
    c.ending = true;
    c.closeReason = 'recovery-complete';
    c.out.end();
  }

  private schedulePump(c: Conn): void {
    if (c.immediateScheduled || c.closed) return;
    c.immediateScheduled = true;
    setImmediate(() => {
      c.immediateScheduled = false;
      this.pump(c);
    });
  }

  private writeSplitRecord(c: Conn, end: number): void {
    const split = c.split!;
    let seq = c.cursor;
    let rec = '';
    for (; seq < end; seq++) {
      rec = this.recordFor(c, seq);
      if (rec) break;
    }
    if (!rec) {
      c.cursor = end;
      return;
    }
    c.cursor = seq + 1;
    if (--split.remaining <= 0) c.split = null;
    if (c.bomNext) {
      c.bomNext = false;
      this.rawWrite(c, '\uFEFF');
    }
    const spec = split.spec;
    const buf = Buffer.from(rec, 'utf8');
    const cuts = splitOffsets(buf, spec, this.seed, seq);
    const pieces: Buffer[] = [];
    let at = 0;
    for (const cut of cuts) {
      pieces.push(buf.subarray(at, cut));
      at = cut;
    }
    pieces.push(buf.subarray(at));
    this.countPosts(c, 1);
    const gap = spec.gapMs ?? 0;
    const done = (err?: Error | null): void => {
      if (!err) this.flushed(c, [seq]);
    };
    if (gap <= 0) {
      pieces.forEach((p, i) => this.rawWrite(c, p, i === pieces.length - 1 ? done : undefined));
      return;
    }
    c.busy = true;
    let i = 0;
    const next = (): void => {
      if (c.closed) return;
      const last = i === pieces.length - 1;
      this.rawWrite(c, pieces[i++], last ? done : undefined);
      if (last) {
        c.busy = false;
        this.pump(c);
      } else this.later(gap, next);
    };
    next();
  }

  private onConnClosed(c: Conn): void {
    if (c.closed) return;
    c.closed = true;
    c.closedAt = this.now();
    c.closeReason ??= 'client';
    if (c.keepAliveTimer !== undefined) this.clock.clearTimeout(c.keepAliveTimer);
    this.conns.delete(c);
    c.app.active[c.kind].delete(c);
    if (c.gzip) c.out.destroy();
    if (c.holdSlotMs > 0) c.app.heldUntil[c.kind] = Math.max(c.app.heldUntil[c.kind], c.closedAt + c.holdSlotMs);
    this.emit('disconnect', this.connInfo(c));
  }

  // -------------------------------------------------------------------------------------------
  // HTTP

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    let endpoint: EndpointName = 'unknown';
    if (path === '/2/tweets/search/stream' && method === 'GET') endpoint = 'filtered';
    else if (path === '/2/tweets/sample/stream' && method === 'GET') endpoint = 'sample';
    else if (path === '/2/tweets/search/stream/rules' && method === 'GET') endpoint = 'rules.get';
    else if (path === '/2/tweets/search/stream/rules' && method === 'POST') endpoint = 'rules.post';
    else if (path === '/2/tweets/search/recent' && method === 'GET') endpoint = 'search';
    else if (path === '/oauth2/token' && method === 'POST') endpoint = 'token';
    else if (path.startsWith('/__control')) endpoint = 'control';

    const entry: RequestLogEntry = { seq: ++this.reqSeq, at: this.now(), method, path, endpoint, status: 0 };
    if (endpoint !== 'control') {
      this.reqLog.push(entry);
      if (this.reqLog.length > this.opts.requestLogSize) this.reqLog.splice(0, this.reqLog.length - this.opts.requestLogSize);
      this.reqCounts[endpoint] = (this.reqCounts[endpoint] ?? 0) + 1;
    }
    const fail = (err: unknown): void => {
      if (!res.headersSent) this.send(res, entry, 500, problems.genericProblem(500), {}, true);
      else res.destroy(err instanceof Error ? err : undefined);
    };
    try {
      const p = this.route(endpoint, req, res, url, entry);
      if (p) p.catch(fail);
    } catch (err) {
      fail(err);
    }
  }

  private route(endpoint: EndpointName, req: http.IncomingMessage, res: http.ServerResponse, url: URL, entry: RequestLogEntry): Promise<void> | void {
    if (endpoint === 'control') return this.control(req, res, url, entry);
    const auth = req.headers.authorization ?? '';
    const bearer = /^Bearer\s+(.+)$/i.exec(auth)?.[1]?.trim();
    if (bearer) entry.token = bearer;

    const fault = endpoint === 'unknown' ? undefined : this.connectFault(endpoint, bearer);
    if (fault) {
      entry.faultId = fault.id;
      if (endpoint === 'filtered' || endpoint === 'sample') this.connectAttempts++;
      return this.answerWithFault(fault, req, res, entry);
    }
    if (endpoint === 'unknown') return this.send(res, entry, 404, problems.notFound(), {}, true);
    if (endpoint === 'token') return this.token(req, res, entry);

    const app = bearer ? this.apps.get(bearer) : undefined;
    if (endpoint === 'filtered' || endpoint === 'sample') this.connectAttempts++;
    if (!app) return this.send(res, entry, 401, problems.unauthorized(), {}, true);
    if ((endpoint === 'rules.get' || endpoint === 'rules.post') && !xspec.ACCESS[this.accessLevel(app.token)].filteredStream) {
      // Legacy Basic (and Free) have no filtered stream (about-x-api access table): its rules
      // endpoints answer 403 client-forbidden, as for an app without the access level.
      return this.send(res, entry, 403, problems.clientNotEnrolled(), {}, true);
    }
    const rl = this.consumeRate(app, endpoint);
    if (rl.limited) return this.send(res, entry, 429, problems.genericProblem(429), rl.headers, true);

    switch (endpoint) {
      case 'filtered':
      case 'sample':
        return this.openStream(endpoint, app, req, res, url, entry, rl.headers);
      case 'rules.get':
        return this.rulesGet(app, res, url, entry, rl.headers);
      case 'rules.post':
        return this.rulesPost(app, req, res, url, entry, rl.headers);
      case 'search':
        return this.search(res, url, entry, rl.headers);
    }
  }

  private send(res: http.ServerResponse, entry: RequestLogEntry, status: number, body: unknown, headers: Record<string, string> = {}, problem = false): void {
    let json = body === undefined ? '' : xspec.withProblemHost(JSON.stringify(body), this.rest.problemHost ?? 'api.twitter.com');
    if (this.numericRuleIds && (entry.endpoint === 'rules.get' || entry.endpoint === 'rules.post')) json = xspec.bareRuleIds(json);
    entry.status = status;
    this.statusCounts[status] = (this.statusCounts[status] ?? 0) + 1;
    res.writeHead(status, {
      'content-type': problem ? 'application/problem+json' : 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(json)),
      'cache-control': 'no-cache, no-store, max-age=0',
      ...headers,
    });
    res.end(json);
    this.emit('request', { ...entry });
  }

  private consumeRate(app: App, endpoint: EndpointName): { limited: boolean; headers: Record<string, string> } {
    const limit = this.limitFor(app.token, endpoint);
    const nowSec = Math.floor(this.now() / 1000);
    let w = app.windows.get(endpoint);
    if (!w || nowSec >= w.resetAt) {
      w = { resetAt: nowSec + WINDOW_SEC, remaining: limit };
      app.windows.set(endpoint, w);
    }
    const limited = this.enforceLimits && w.remaining <= 0;
    if (!limited && w.remaining > 0) w.remaining--;
    return {
      limited,
      headers: {
        'x-rate-limit-limit': String(limit),
        'x-rate-limit-remaining': String(w.remaining),
        'x-rate-limit-reset': String(w.resetAt),
      },
    };
  }

  private answerWithFault(f: ArmedFault, req: http.IncomingMessage, res: http.ServerResponse, entry: RequestLogEntry): void {
    const spec = f.spec as ConnectFaultSpec;
    this.markFired(f, { requestSeq: entry.seq, detail: `${entry.method} ${entry.path}` });
    req.resume();
    if (spec.type === 'usage-capped') return this.answerUsageCapped(spec, entry, res);
    if (spec.type === 'hang') {
      this.hanging.add(res);
      res.on('close', () => this.hanging.delete(res));
      if (spec.ms !== undefined) this.later(spec.ms, () => res.socket?.destroy());
      return;
    }
    if (spec.type === 'html-ok') {
      // A proxy or captive portal answering in X's place: 200, HTML, then the connection closes.
      return this.sendRaw(res, entry, 200, spec.body ?? streamProblems.proxyHtml(200), 'text/html; charset=utf-8', { connection: 'close' });
    }
    const status = spec.status;
    const headers: Record<string, string> = { ...(spec.headers ?? {}) };
    if (spec.html || typeof spec.body === 'string') {
      const text = typeof spec.body === 'string' ? spec.body : streamProblems.proxyHtml(status);
      if (status === 429) headers['x-rate-limit-reset'] ??= String(Math.floor(this.now() / 1000) + (spec.resetInSec ?? 60));
      return this.sendRaw(res, entry, status, text, spec.contentType ?? (spec.html ? 'text/html; charset=utf-8' : 'text/plain; charset=utf-8'), headers);
    }
    let body = spec.body;
    if (status === 429) {
      const reset = Math.floor(this.now() / 1000) + (spec.resetInSec ?? 60);
      headers['x-rate-limit-limit'] ??= String(this.limitFor(entry.token, entry.endpoint));
      headers['x-rate-limit-remaining'] ??= '0';
      headers['x-rate-limit-reset'] ??= String(reset);
      body ??= spec.tooManyConnections ? problems.tooManyConnections() : problems.genericProblem(429);
    }
    body ??= problems.problemForStatus(status);
    this.send(res, entry, status, body, headers, true);
  }

  /**
   * 429 UsageCapExceeded: the cap, not the 15-minute window, so the rate-limit headers show the
   * window as it is (remaining > 0; the request is not counted against it).
   */
  private answerUsageCapped(f: Extract<ConnectFaultSpec, { type: 'usage-capped' }>, entry: RequestLogEntry, res: http.ServerResponse): void {
    const app = entry.token ? this.apps.get(entry.token) : undefined;
    const headers: Record<string, string> = {};
    if (app && entry.endpoint !== 'token' && entry.endpoint !== 'unknown' && entry.endpoint !== 'control') {
      const limit = this.limitFor(app.token, entry.endpoint);
      const nowSec = Math.floor(this.now() / 1000);
      const w = app.windows.get(entry.endpoint);
      const live = w && nowSec < w.resetAt;
      headers['x-rate-limit-limit'] = String(limit);
      headers['x-rate-limit-remaining'] = String(live ? Math.max(1, w.remaining) : limit);
      headers['x-rate-limit-reset'] = String(live ? w.resetAt : nowSec + WINDOW_SEC);
    }
    const level = this.accessLevel(entry.token);
    const extra = { account_id: 1000000000 + (this.seed % 1000), product_name: level === 'basic' || level === 'pro' ? `standard-${level}` : level };
    this.send(res, entry, 429, problems.usageCapped(f.period, f.scope, extra), headers, true);
  }

  private fieldsOf(params: Record<string, string> | URLSearchParams): FieldSelection {
    const get = (k: string): string | undefined => (params instanceof URLSearchParams ? (params.get(k) ?? undefined) : params[k]);
    const set = (k: string): Set<string> => new Set((get(k) ?? '').split(',').map((s) => s.trim()).filter(Boolean));
    // Recent search's Post vocabulary (post.fields) selects the same fields under its names.
    const tweetFields = set('tweet.fields');
    for (const f of set('post.fields')) tweetFields.add(f);
    return {
      tweetFields,
      userFields: set('user.fields'),
      expansions: set('expansions'),
      mediaFields: set('media.fields'),
      pollFields: set('poll.fields'),
      placeFields: set('place.fields'),
    };
  }

  /** An answer that is not JSON (a proxy's HTML page, a plain-text body). */
  private sendRaw(res: http.ServerResponse, entry: RequestLogEntry, status: number, text: string, contentType: string, headers: Record<string, string> = {}): void {
    entry.status = status;
    this.statusCounts[status] = (this.statusCounts[status] ?? 0) + 1;
    res.writeHead(status, { 'content-type': contentType, 'content-length': String(Buffer.byteLength(text)), ...headers });
    res.end(text);
    this.emit('request', { ...entry });
  }

  private serializerFor(fields: FieldSelection): RecordSerializer {
    const key = [fields.tweetFields, fields.userFields, fields.expansions, fields.mediaFields, fields.pollFields, fields.placeFields]
      .map((f) => [...(f ?? [])].sort().join(','))
      .join('|');
    let s = this.serializers.get(key);
    if (!s) {
      s = new RecordSerializer(this.gen, fields);
      this.serializers.set(key, s);
    }
    return s;
  }

  /**
   * X's checks of query parameters (spec-params.ts): unknown names, field values not in the
   * endpoint's lists or repeated, and on the REST endpoints the typed ones (booleans, ranges,
   * patterns, mutually exclusive pairs): a 400 invalid-request listing every problem.
   */
  private checkParams(url: URL, allowed: string[]): problems.Problem | undefined {
    const path = url.pathname.replace(/\/+$/, '');
    const params = url.searchParams;
    const rest: 'rules.get' | 'rules.post' | 'search' | undefined =
      path === '/2/tweets/search/recent' ? 'search' : path.endsWith('/stream/rules') ? (allowed.includes('dry_run') ? 'rules.post' : 'rules.get') : undefined;
    const errors = xspec.checkNamesAndLists(params, allowed, xspec.fieldLists(rest === 'search' ? 'search' : 'stream', params));
    if (rest) errors.push(...xspec.checkTyped(rest, params));
    return xspec.invalid(errors);
  }

  private openStream(kind: StreamKind, app: App, req: http.IncomingMessage, res: http.ServerResponse, url: URL, entry: RequestLogEntry, rlHeaders: Record<string, string>): void {
    // Access levels (X's docs: the sample streams, backfill_minutes and Recovery are Enterprise
    // only; legacy Basic has no filtered stream). X answers an app without the access an
    // endpoint or feature needs with 403 client-forbidden, reason client-not-enrolled
    // (ClientForbiddenProblem in its OpenAPI spec; docs' response-codes page: "App not enrolled
    // or lacks required access").
    const level = this.accessLevel(app.token);
    const enterprise = level === 'enterprise';
    if ((kind === 'sample' && !enterprise) || (kind === 'filtered' && !xspec.ACCESS[level].filteredStream)) {
      return this.send(res, entry, 403, problems.clientNotEnrolled(), rlHeaders, true);
    }
    const bad = this.checkParams(url, kind === 'filtered' ? FILTERED_STREAM_PARAMS : STREAM_PARAMS);
    if (bad) return this.send(res, entry, 400, bad, rlHeaders, true);
    let backfill = 0;
    const bf = url.searchParams.get('backfill_minutes');
    if (bf !== null) {
      backfill = Number(bf);
      if (!/^\d+$/.test(bf) || backfill > 5) {
        return this.send(
          res,
          entry,
          400,
          problems.invalidRequest([{ parameters: { backfill_minutes: [bf] }, message: `The \`backfill_minutes\` query parameter value [${bf}] is not between 0 and 5` }]),
          rlHeaders,
          true,
        );
      }
    }
    const now = this.now();
    const recovery = this.recoveryWindow(url.searchParams, now);
    if ('problem' in recovery) return this.send(res, entry, 400, recovery.problem, rlHeaders, true);
    if (!enterprise && (backfill > 0 || recovery.startMs !== undefined)) {
      return this.send(res, entry, 403, problems.clientNotEnrolled(), rlHeaders, true);
    }
    const isRecovery = recovery.startMs !== undefined;
    const open = [...app.active[kind]].filter((x) => x.recovery === isRecovery).length;
    if (open >= (isRecovery ? MAX_RECOVERY_CONNECTIONS : this.opts.maxConnectionsPerToken) || (!isRecovery && app.heldUntil[kind] > now)) {
      return this.send(res, entry, 429, problems.tooManyConnections(), rlHeaders, true);
    }
    if (kind === 'filtered' && app.rules.length === 0) return this.send(res, entry, 409, problems.noRules(), rlHeaders, true);

    const params: Record<string, string> = {};
    for (const [k, v] of url.searchParams) params[k] = v;
    this.firehose.advance(now);
    const head = this.firehose.head;
    const tl = this.firehose.timeline;
    let cursor = head;
    if (backfill > 0) cursor = Math.max(tl.seqAtOrAfterMs(now - backfill * 60_000), head - this.opts.maxBackfillPosts, 0);
    // With both, the replay starts at the earlier of the two (X's spec does not make them exclusive).
    if (isRecovery) cursor = Math.min(cursor, tl.seqAtOrAfterMs(recovery.startMs!));
    const gzip = this.opts.compression && /\bgzip\b/i.test(String(req.headers['accept-encoding'] ?? ''));
    const out: Writable = gzip ? flushedGzip(res) : res;
    const c: Conn = {
      id: ++this.connSeq,
      kind,
      app,
      token: app.token,
      params,
      req,
      res,
      out,
      gzip,
      socket: req.socket,
      serializer: this.serializerFor(this.fieldsOf(url.searchParams)),
      cursor,
      openedAt: now,
      closed: false,
      emitted: 0,
      keepAlives: 0,
      bytes: 0,
      lastWriteAt: now,
      lastKeepAliveAt: now,
      log: this.opts.record ? new SeqLog() : null,
      inflight: 0,
      needDrain: false,
      busy: false,
      ending: false,
      stalledUntil: 0,
      skipBacklog: false,
      split: null,
      holdSlotMs: 0,
      immediateScheduled: false,
      nextKeepAliveAt: now,
      jitterState: ((this.seed * 0x9e3779b1) ^ Math.imul(this.connSeq + 1, 0x85ebca6b)) >>> 0 || 1,
      lateHeartbeat: false,
      bomNext: false,
      liveFrom: head,
      recoveryEndMs: recovery.endMs,
      recovery: isRecovery,
    };
    c.nextKeepAliveAt = now + this.keepAliveGap(c);
    entry.connectionId = c.id;
    entry.status = 200;
    this.statusCounts[200] = (this.statusCounts[200] ?? 0) + 1;
    this.connects++;
    this.conns.add(c);
    this.allConns.push(c);
    app.active[kind].add(c);
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-cache, no-store, max-age=0',
      'x-connection-hash': randomBytes(32).toString('hex'),
      ...(gzip ? { 'content-encoding': 'gzip' } : {}),
      ...rlHeaders,
    });
    res.flushHeaders();
    if (gzip) out.on('error', () => undefined);
    out.on('drain', () => {
      c.needDrain = false;
      // Not synchronously: a fast reader on another core makes every write complete at once,
      // and drain -> write -> drain would then never let the event loop run timers or I/O.
      this.schedulePump(c);
    });
    res.on('close', () => this.onConnClosed(c));
    res.on('error', () => undefined);
    req.socket.on('error', () => undefined);
    this.emit('request', { ...entry });
    this.emit('connect', this.connInfo(c));
    this.scheduleKeepAlive(c);
    this.pump(c);
  }

  /**
   * Recovery's start_time/end_time (filtered stream, RFC 3339 as X's spec types them): start
   * within the last 24 hours and not in the future, end after start. end_time alone is refused
   * (X's docs always give both; emulator's choice). Without end_time the replay goes on live.
   */
  private recoveryWindow(p: URLSearchParams, now: number): { startMs?: number; endMs?: number } | { problem: problems.Problem } {
    const bad = (name: string, message: string): { problem: problems.Problem } => ({
      problem: problems.invalidRequest([{ parameters: { [name]: [p.get(name) ?? ''] }, message }]),
    });
    const parse = (name: string): number | undefined | null => {
      const v = p.get(name);
      if (v === null) return undefined;
      const t = Date.parse(v);
      return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(v) && !Number.isNaN(t) ? t : null;
    };
    const startMs = parse('start_time');
    const endMs = parse('end_time');
    for (const [name, v] of [['start_time', startMs], ['end_time', endMs]] as const) {
      if (v === null) return bad(name, `The \`${name}\` query parameter value [${p.get(name)}] is not a valid RFC 3339 date-time (YYYY-MM-DDTHH:mm:ssZ)`);
    }
    if (startMs === undefined) {
      if (endMs !== undefined) return bad('end_time', "Invalid 'end_time'. 'end_time' needs a 'start_time'");
      return {};
    }
    if (startMs! < now - RECOVERY_WINDOW_MS) {
      return bad('start_time', `Invalid 'start_time':'${p.get('start_time')}'. 'start_time' must be on or after ${new Date(now - RECOVERY_WINDOW_MS).toISOString()}`);
    }
    if (startMs! > now) return bad('start_time', `Invalid 'start_time':'${p.get('start_time')}'. 'start_time' must be before ${new Date(now).toISOString()}`);
    if (endMs !== undefined && endMs! <= startMs!) return bad('end_time', "Invalid 'end_time'. 'end_time' must be later than 'start_time'");
    return { startMs: startMs!, endMs: endMs ?? undefined };
  }

  private rulesGet(app: App, res: http.ServerResponse, url: URL, entry: RequestLogEntry, rl: Record<string, string>): void {
    const bad = this.checkParams(url, ['ids', 'max_results', 'pagination_token']);
    if (bad) return this.send(res, entry, 400, bad, rl, true);
    const p = url.searchParams;
    const ids = p.get('ids');
    const wanted = ids ? new Set(ids.split(',').map((s) => s.trim())) : undefined;
    const matching = app.rules.filter((r) => !wanted || wanted.has(r.id));
    // Pages of max_results (spec: 1-1000, default 1000) in creation order; a page's
    // meta.next_token names the first rule of the next one (16 base32hex characters).
    const pageSize = p.has('max_results') ? Number(p.get('max_results')) : 1000;
    let from = 0;
    const token = p.get('pagination_token');
    if (token !== null) {
      const start = xspec.rulesPageStart(token);
      if (start === undefined) {
        return this.send(res, entry, 400, problems.invalidRequest([{ parameters: { pagination_token: [token] }, message: `The pagination token [${token}] is invalid` }]), rl, true);
      }
      // The rule it names, or (if that one was deleted since) the first one created after it.
      from = matching.findIndex((r) => BigInt(r.id) >= start);
      if (from < 0) from = matching.length;
    }
    const page = matching.slice(from, from + pageSize).map(({ id, value, tag }) => (tag === undefined ? { id, value } : { id, value, tag }));
    const body: Record<string, unknown> = {};
    if (page.length) body.data = page;
    const meta: Record<string, unknown> = { sent: sentNow(), result_count: page.length };
    if (from + pageSize < matching.length) meta.next_token = xspec.rulesPageToken(matching[from + pageSize].id);
    body.meta = meta;
    this.send(res, entry, 200, body, rl);
  }

  private makeRule(value: string, tag: string | undefined, match: Matcher): RuleEntry {
    // Snowflake-like, strictly increasing (rules pages are cut by id), 19 digits today.
    const next = snowflakeAt(Date.now()) + BigInt(++this.ruleSeq % 4096);
    this.lastRuleId = next > this.lastRuleId ? next : this.lastRuleId + 1n;
    const id = this.lastRuleId.toString();
    return { id, value, tag, match, json: this.matchingRuleJson(id, tag) };
  }

  private async rulesPost(app: App, req: http.IncomingMessage, res: http.ServerResponse, url: URL, entry: RequestLogEntry, rl: Record<string, string>): Promise<void> {
    const bad = this.checkParams(url, ['dry_run', 'delete_all']);
    if (bad) return this.send(res, entry, 400, bad, rl, true);
    const raw = await readBody(req);
    const dryRun = url.searchParams.get('dry_run') === 'true';
    const deleteAll = url.searchParams.get('delete_all') === 'true';
    let body: Record<string, unknown> = {};
    if (raw.trim()) {
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch (err) {
        return this.send(res, entry, 400, problems.invalidRequest([{ message: `Request body is not valid JSON: ${(err as Error).message}` }]), rl, true);
      }
    }
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      return this.send(res, entry, 400, problems.invalidRequest([{ message: 'Request body must be a JSON object' }]), rl, true);
    }
    const hasAdd = 'add' in body;
    const hasDelete = 'delete' in body;
    if (deleteAll) {
      if (hasAdd || hasDelete) {
        return this.send(res, entry, 400, problems.invalidRequest([{ message: 'delete_all must be specified with no other parameters (no add or delete in the body)' }]), rl, true);
      }
      const n = app.rules.length;
      if (!dryRun) app.rules = [];
      return this.send(res, entry, 200, { meta: { sent: sentNow(), summary: { deleted: n, not_deleted: 0 } } }, rl);
    }
    if (hasAdd === hasDelete) {
      return this.send(res, entry, 400, problems.invalidRequest([{ message: 'The request body must contain exactly one of `add` or `delete`' }]), rl, true);
    }
    if (hasDelete) return this.deleteRules(app, body.delete, dryRun, res, entry, rl);
    return this.addRules_(app, body.add, dryRun, res, entry, rl);
  }

  private deleteRules(app: App, del: unknown, dryRun: boolean, res: http.ServerResponse, entry: RequestLogEntry, rl: Record<string, string>): void {
    const d = del as { ids?: unknown; values?: unknown } | null;
    const ids = d && Array.isArray(d.ids) ? d.ids : undefined;
    const values = d && Array.isArray(d.values) ? d.values : undefined;
    if ((!ids && !values) || (ids ?? values)!.length === 0 || (ids ?? values)!.some((v) => typeof v !== 'string')) {
      return this.send(res, entry, 400, problems.invalidRequest([{ message: '`delete` needs a non-empty `ids` (or `values`) array of strings' }]), rl, true);
    }
    const errors: problems.Problem[] = [];
    const keep = new Set(app.rules);
    let deleted = 0;
    for (const key of (ids ?? values) as string[]) {
      const r = app.rules.find((x) => keep.has(x) && (ids ? x.id === key : x.value === key));
      if (r) {
        keep.delete(r);
        deleted++;
      } else errors.push(problems.ruleNotFound(key));
    }
    if (!dryRun) app.rules = app.rules.filter((r) => keep.has(r));
    const out: Record<string, unknown> = { meta: { sent: sentNow(), summary: { deleted, not_deleted: errors.length } } };
    if (errors.length) out.errors = errors;
    this.send(res, entry, 200, out, rl);
  }

  private addRules_(app: App, add: unknown, dryRun: boolean, res: http.ServerResponse, entry: RequestLogEntry, rl: Record<string, string>): void {
    if (!Array.isArray(add) || add.length === 0) {
      return this.send(res, entry, 400, problems.invalidRequest([{ message: '`add` must be a non-empty array of {value, tag} objects' }]), rl, true);
    }
    const invalid: problems.Problem[] = [];
    const duplicates: problems.Problem[] = [];
    const fresh: RuleEntry[] = [];
    const seen = new Map(app.rules.map((r) => [r.value, r.id]));
    const { maxRules, maxRuleLength } = this.ruleLimits(app.token);
    for (const item of add as unknown[]) {
      const obj = (item && typeof item === 'object' ? item : {}) as { value?: unknown; tag?: unknown };
      if (obj.tag !== undefined && typeof obj.tag !== 'string') {
        invalid.push(problems.invalidRule(obj.value, ['tag must be a string']));
        continue;
      }
      let match: Matcher;
      try {
        match = compileQuery(obj.value, maxRuleLength);
      } catch (err) {
        if (!(err instanceof RuleSyntaxError)) throw err;
        invalid.push(problems.invalidRule(obj.value ?? '', err.details));
        continue;
      }
      const value = obj.value as string;
      const existing = seen.get(value);
      if (existing !== undefined) {
        duplicates.push(problems.duplicateRule(value, existing));
        continue;
      }
      const rule = this.makeRule(value, obj.tag as string | undefined, match);
      seen.set(value, rule.id);
      fresh.push(rule);
    }
    const total = add.length;
    const notValid = invalid.length + duplicates.length;
    if (invalid.length) {
      return this.send(
        res,
        entry,
        400,
        { meta: { sent: sentNow(), summary: { created: 0, not_created: total, valid: total - notValid, invalid: notValid } }, errors: [...invalid, ...duplicates] },
        rl,
        true,
      );
    }
    if (app.rules.length + fresh.length > maxRules) {
      return this.send(
        res,
        entry,
        400,
        { meta: { sent: sentNow(), summary: { created: 0, not_created: total, valid: fresh.length, invalid: notValid } }, errors: [problems.ruleCap(maxRules)] },
        rl,
        true,
      );
    }
    if (!dryRun) app.rules = [...app.rules, ...fresh];
    const out: Record<string, unknown> = {};
    if (fresh.length) out.data = fresh.map(({ value, tag, id }) => (tag === undefined ? { value, id } : { value, tag, id }));
    out.meta = { sent: sentNow(), summary: { created: fresh.length, not_created: duplicates.length, valid: fresh.length, invalid: duplicates.length } };
    if (duplicates.length) out.errors = duplicates;
    this.send(res, entry, fresh.length ? 201 : 200, out, rl);
  }

  private search(res: http.ServerResponse, url: URL, entry: RequestLogEntry, rl: Record<string, string>): void {
    const bad = this.checkParams(url, SEARCH_PARAMS);
    if (bad) return this.send(res, entry, 400, bad, rl, true);
    const p = url.searchParams;
    const err = (parameter: string, message: string): void =>
      this.send(res, entry, 400, problems.invalidRequest([{ parameters: { [parameter]: [p.get(parameter) ?? ''] }, message }]), rl, true);
    const query = p.get('query');
    if (query === null || query.trim() === '') return err('query', 'The `query` query parameter can not be empty');
    let match: Matcher;
    try {
      match = compileQuery(query, this.ruleLimits(entry.token).searchQueryLength);
    } catch (e) {
      if (!(e instanceof RuleSyntaxError)) throw e;
      return this.send(res, entry, 400, problems.invalidRequest([{ parameters: { query: [query] }, message: `There were errors processing your request: ${e.details.join('; ')}` }]), rl, true);
    }
    const maxResultsRaw = p.get('max_results');
    const maxResults = maxResultsRaw === null ? 10 : Number(maxResultsRaw);
    if (!Number.isInteger(maxResults) || maxResults < 10 || maxResults > 100) {
      return err('max_results', `The \`max_results\` query parameter value [${maxResultsRaw}] is not between 10 and 100`);
    }
    const now = this.now();
    const tl = this.firehose.timeline;
    this.firehose.advance(now);
    let lower = tl.seqAtOrAfterMs(now - SEVEN_DAYS);
    let upper = this.firehose.head;
    const idParam = (name: string): bigint | undefined | null => {
      const v = p.get(name);
      if (v === null) return undefined;
      if (!/^\d{1,19}$/.test(v)) {
        err(name, `The \`${name}\` query parameter value [${v}] does not match ^[0-9]{1,19}$`);
        return null;
      }
      return BigInt(v);
    };
    const timeParam = (name: string): number | undefined | null => {
      const v = p.get(name);
      if (v === null) return undefined;
      const t = Date.parse(v);
      if (Number.isNaN(t) || !/^\d{4}-\d{2}-\d{2}T/.test(v)) {
        err(name, `The \`${name}\` query parameter value [${v}] is not a valid RFC 3339 date-time (YYYY-MM-DDTHH:mm:ssZ)`);
        return null;
      }
      return t;
    };
    const since = idParam('since_id');
    if (since === null) return;
    const until = idParam('until_id');
    if (until === null) return;
    const start = timeParam('start_time');
    if (start === null) return;
    const endT = timeParam('end_time');
    if (endT === null) return;
    if (start !== undefined) {
      if (start < now - SEVEN_DAYS) {
        return err('start_time', `Invalid 'start_time':'${p.get('start_time')}'. 'start_time' must be on or after ${new Date(now - SEVEN_DAYS).toISOString()}`);
      }
      lower = Math.max(lower, tl.seqAtOrAfterMs(start));
    }
    if (endT !== undefined) {
      if (start !== undefined && endT <= start) return err('end_time', "Invalid 'end_time'. 'end_time' must be later than 'start_time'");
      upper = Math.min(upper, tl.seqAtOrAfterMs(endT));
    }
    if (since !== undefined) lower = Math.max(lower, tl.seqAfterId(since));
    if (until !== undefined) upper = Math.min(upper, tl.seqAfterId(until - 1n));
    const relevancy = p.get('sort_order') === 'relevancy';
    const token = p.get('next_token') ?? p.get('pagination_token');
    let offset = 0;
    if (token !== null) {
      const prefix = relevancy ? RELEVANCY_TOKEN_PREFIX : NEXT_TOKEN_PREFIX;
      const body = token.startsWith(prefix) ? token.slice(prefix.length) : '';
      // recency: the seq the next page starts below (base 36); relevancy: that seq in 10 base-36
      // digits (it fixes the result set the ranking is over), then the rank the next page starts at.
      const [u, o] = relevancy ? [body.slice(0, 10), body.slice(10)] : [body, '0'];
      const n = /^[0-9a-z]+$/.test(u) ? parseInt(u, 36) : NaN;
      offset = /^[0-9a-z]+$/.test(o) ? parseInt(o, 36) : NaN;
      if (!Number.isInteger(n) || n < 0 || !Number.isInteger(offset) || offset < 0) {
        return err(p.has('next_token') ? 'next_token' : 'pagination_token', `The pagination token [${token}] is invalid`);
      }
      upper = Math.min(upper, n);
    }

    const ser = this.serializerFor(this.fieldsOf(p));
    const postVocabulary = xspec.postVocabulary(p);
    let found: Post[] = [];
    let nextToken: string | undefined;
    let scanned = 0;
    let seq = upper - 1;
    if (!relevancy) {
      // Newest first (sort_order=recency, the default).
      let nextUpper: number | undefined;
      for (; seq >= lower && scanned < this.opts.searchScanLimit; seq--, scanned++) {
        const post = this.gen.post(seq);
        if (!match(new MatchView(post, this.gen))) continue;
        if (found.length === maxResults) {
          nextUpper = seq + 1; // there is at least one more: the next page starts here
          break;
        }
        found.push(post);
      }
      if (nextUpper === undefined && seq >= lower && scanned >= this.opts.searchScanLimit) nextUpper = seq + 1;
      if (nextUpper !== undefined) nextToken = NEXT_TOKEN_PREFIX + nextUpper.toString(36);
    } else {
      // sort_order=relevancy: X does not say how it ranks; here every match of the window is
      // ranked by xspec.relevancyScore (engagement), newest first among equals, and paged by rank.
      const all: Post[] = [];
      for (; seq >= lower && scanned < this.opts.searchScanLimit; seq--, scanned++) {
        const post = this.gen.post(seq);
        if (match(new MatchView(post, this.gen))) all.push(post);
      }
      const score = new Map(all.map((x) => [x, xspec.relevancyScore(x.publicMetrics)]));
      all.sort((a, b) => score.get(b)! - score.get(a)! || (BigInt(b.id) > BigInt(a.id) ? 1 : -1));
      found = all.slice(offset, offset + maxResults);
      if (offset + maxResults < all.length) nextToken = `${RELEVANCY_TOKEN_PREFIX}${upper.toString(36).padStart(10, '0')}${(offset + maxResults).toString(36)}`;
    }
    const body: Record<string, unknown> = {};
    if (found.length) {
      // The Post vocabulary (post.fields given) renames the post's keys as X does.
      const dataJson = (x: Post): string => {
        const d = ser.data(x);
        return postVocabulary ? d.replace('"edit_history_tweet_ids":', '"edit_history_post_ids":') : d;
      };
      body.data = found.map((x) => JSON.parse(dataJson(x)));
      const users: string[] = [];
      const seenUsers = new Set<string>();
      for (const x of found) {
        const inc = ser.includes(x);
        if (!inc) continue;
        const parsed = JSON.parse(`{${inc.slice(1)}}`) as { includes: { users?: Array<{ id: string }> } };
        for (const u of parsed.includes.users ?? []) {
          if (seenUsers.has(u.id)) continue;
          seenUsers.add(u.id);
          users.push(JSON.stringify(u));
        }
      }
      if (users.length) body.includes = { users: users.map((u) => JSON.parse(u)) };
    }
    const meta: Record<string, unknown> = {};
    if (found.length) {
      // newest_id / oldest_id: the extremes of the page (for relevancy, not its first and last).
      const ids = found.map((x) => BigInt(x.id));
      meta.newest_id = ids.reduce((a, b) => (b > a ? b : a)).toString();
      meta.oldest_id = ids.reduce((a, b) => (b < a ? b : a)).toString();
    }
    meta.result_count = found.length;
    if (nextToken !== undefined) meta.next_token = nextToken;
    body.meta = meta;
    this.send(res, entry, 200, body, rl);
  }

  private async token(req: http.IncomingMessage, res: http.ServerResponse, entry: RequestLogEntry): Promise<void> {
    const raw = await readBody(req);
    const auth = req.headers.authorization ?? '';
    const basic = /^Basic\s+(.+)$/i.exec(auth)?.[1];
    let key = '';
    let secret = '';
    if (basic) {
      const decoded = Buffer.from(basic, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon >= 0) {
        key = decodeURIComponent(decoded.slice(0, colon));
        secret = decodeURIComponent(decoded.slice(colon + 1));
      }
    }
    const known = this.keyToApp.get(key);
    if (!known || known.secret !== secret) return this.send(res, entry, 403, problems.badCredentials());
    const form = new URLSearchParams(raw);
    let grant = form.get('grant_type');
    if (grant === null && raw.trim().startsWith('{')) {
      try {
        grant = (JSON.parse(raw) as { grant_type?: string }).grant_type ?? null;
      } catch {
        grant = null;
      }
    }
    if (grant !== 'client_credentials') {
      return this.send(res, entry, 403, { errors: [{ code: 170, label: 'forbidden_missing_parameter', message: 'Missing required parameter: grant_type' }] });
    }
    entry.token = known.app.token;
    this.send(res, entry, 200, { token_type: 'bearer', access_token: known.app.token });
  }

  // -------------------------------------------------------------------------------------------
  // Control endpoint (no auth: the server only listens on 127.0.0.1)

  private async control(req: http.IncomingMessage, res: http.ServerResponse, url: URL, entry: RequestLogEntry): Promise<void> {
    const path = url.pathname.replace(/\/+$/, '');
    const method = req.method ?? 'GET';
    const raw = method === 'POST' || method === 'PUT' ? await readBody(req) : '';
    let body: unknown;
    if (raw.trim()) {
      try {
        body = JSON.parse(raw);
      } catch (err) {
        return this.send(res, entry, 400, { error: `body is not JSON: ${(err as Error).message}` });
      }
    }
    const ok = (v: unknown): void => this.send(res, entry, 200, v);
    const bad = (msg: string, status = 400): void => this.send(res, entry, status, { error: msg });
    const q = url.searchParams;
    switch (`${method} ${path}`) {
      case 'GET /__control':
      case 'GET /__control/info':
        return ok({
          url: this.url,
          bearerToken: this.bearerToken,
          bearerTokens: this.bearerTokens,
          apiKeys: this.apiKeys,
          seed: this.seed,
          postsPerSecond: rateOut(this.firehose.rate),
          keepAliveMs: this.opts.keepAliveMs,
          keepAliveJitterMs: this.opts.keepAliveJitterMs,
          compression: this.opts.compression,
          timeScale: this.timeScale,
          timeOrigin: this.timeOrigin,
          now: this.now(),
        });
      case 'GET /__control/stats':
        return ok({ ...this.stats(), postsPerSecond: rateOut(this.firehose.rate) });
      case 'GET /__control/connections':
        return ok({ connections: this.connections({ active: q.get('active') === 'true' }) });
      case 'GET /__control/requests': {
        const since = Number(q.get('since') ?? 0);
        const ep = q.get('endpoint') as EndpointName | null;
        return ok({ requests: this.requests(ep ?? undefined).filter((r) => r.seq > since) });
      }
      case 'GET /__control/faults':
        return ok({ pending: this.faults.pending(), fired: this.faults.fired() });
      case 'POST /__control/faults': {
        const specs = Array.isArray(body) ? body : [body];
        for (const s of specs) {
          const problem = checkFaultSpec(s);
          if (problem) return bad(problem);
        }
        const ids = specs.map((s) => this._inject(s as FaultSpec) as number);
        return ok({ ids });
      }
      case 'DELETE /__control/faults':
        this.faults.clear();
        return ok({ cleared: true });
      case 'POST /__control/rate': {
        const r = (body as { postsPerSecond?: unknown } | undefined)?.postsPerSecond;
        const rate = r === 'max' || r === 'Infinity' || r === null ? Infinity : Number(r);
        if (!(rate >= 0)) return bad('postsPerSecond must be a number >= 0, or "max"');
        this.setRate(rate);
        return ok({ postsPerSecond: rateOut(rate) });
      }
      case 'GET /__control/emitted': {
        const conn = q.get('connection');
        const id = conn === null ? undefined : Number(conn);
        const out: Record<string, unknown> = { count: this.emittedCount(id) };
        if (q.get('ids') === 'true') out.ids = this.emittedIds(id);
        return ok(out);
      }
      case 'GET /__control/post': {
        const key = q.get('id') ?? q.get('seq');
        if (key === null) return bad('give ?id= or ?seq=');
        try {
          const params: Record<string, string> = {};
          for (const k of ['tweet.fields', 'user.fields', 'expansions', 'media.fields', 'poll.fields', 'place.fields']) if (q.has(k)) params[k] = q.get(k)!;
          return ok(this.postObject(q.has('id') ? key : Number(key), params));
        } catch (err) {
          return bad((err as Error).message, 404);
        }
      }
      case 'GET /__control/rules':
        return ok({ rules: this.rules(q.get('token') ?? this.bearerToken) });
      default:
        return bad(`no control endpoint ${method} ${path}`, 404);
    }
  }
}

function rateOut(rate: number): number | 'max' {
  return rate === Infinity ? 'max' : rate;
}

/** Byte offsets where a split record is cut. */
function splitOffsets(buf: Buffer, spec: Extract<StreamFaultSpec, { type: 'split' }>, seed: number, seq: number): number[] {
  const len = buf.length; // includes the trailing \r\n
  const mode = spec.mode ?? 'mid';
  if (mode === 'crlf') return [len - 2];
  if (mode === 'bytes') {
    const step = spec.pieceBytes ?? 7;
    const out: number[] = [];
    for (let at = step; at < len; at += step) out.push(at);
    return out;
  }
  if (spec.offsets?.length) return [...new Set(spec.offsets.filter((o) => o > 0 && o < len))].sort((a, b) => a - b);
  let h = Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) ^ Math.imul(seq | 0, 0x85ebca6b);
  h = (h ^ (h >>> 15)) >>> 0;
  if (spec.insideUtf8) {
    const inside: number[] = [];
    for (let i = 1; i < len - 2; i++) if ((buf[i] & 0xc0) === 0x80) inside.push(i);
    if (inside.length) return [inside[h % inside.length]];
  }
  return [1 + (h % Math.max(1, len - 3))];
}

/** Starts an emulator on 127.0.0.1 and resolves once it listens. */
export async function startXEmulator(opts: XEmulatorOptions = {}): Promise<XEmulator> {
  const emu = new XEmulator(opts);
  await emu._listen(opts.port ?? 0);
  return emu;
}
