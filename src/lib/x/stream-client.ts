// One X stream (filtered or sample), owned end to end: the HTTP request, the framing, the stall
// watchdog and the reconnect loop (twitter-api-v2's autoReconnect and parser are not used: it
// reconnects without delay, retries 401/403 and misreads a "\r\n" arriving as its own chunk).
import * as http from 'node:http';
import * as https from 'node:https';
import * as zlib from 'node:zlib';
import { systemClock, type Clock } from '../common/clock';
import { boundedDelay } from '../common/timers';
import { DEFAULT_STALL_TIMEOUT_MS, type XRecoveryMeans } from './access';
import { LineFramer, type FrameEvent } from './framing';
import { failureKindOf, ReconnectPolicy, type FailureKind, type ReconnectDecision } from './reconnect-policy';
import { XApiError, XNetworkError } from './x-client';

export type StreamEndpoint = 'filtered' | 'sample';

export const STREAM_PATHS: Record<StreamEndpoint, string> = {
  filtered: '/2/tweets/search/stream',
  sample: '/2/tweets/sample/stream',
};

/** A record with a post: { data, includes?, matching_rules?, errors? }. */
export interface StreamPost {
  data: { id: string; author_id?: string; [k: string]: unknown };
  includes?: Record<string, unknown>;
  matching_rules?: Array<{ id: string; tag?: string }>;
  errors?: unknown[];
  /** Set by the source on posts read again to fill a gap. */
  recovered?: XRecoveryMeans;
}

export interface StreamProblem {
  title?: string;
  detail?: string;
  disconnect_type?: string;
  type?: string;
  [k: string]: unknown;
}

export interface StreamRequester {
  streamRequest(path: string, params: Record<string, string>): Promise<{ url: URL; headers: http.OutgoingHttpHeaders; agent: http.Agent }>;
}

export interface StreamHandlers {
  /** A post, in stream order. */
  post(record: StreamPost, bytes: number): void;
  keepAlive?(): void;
  /** A line that is not JSON, or JSON that is neither a post nor an error object. */
  malformed?(text: string, reason: string): void;
  /** An in-stream error object; `disconnect`: X is ending the stream (operational-disconnect and kin). */
  notice?(errors: StreamProblem[], disconnect: boolean): void;
  connecting?(attempt: number): void;
  /** HTTP 200: the stream is established. */
  connected?(): void;
  /** An established stream ended (dropped, stalled, ended by X, disconnect notice). */
  disconnected?(reason: string): void;
  /** A failure that will be retried after decision.delayMs. */
  retrying?(err: Error, decision: ReconnectDecision): void;
  /** An answer no retry can turn good (401, 403, 404, ..., or a 4xx repeated): stopped for good. */
  fatal?(err: XApiError): void;
  /** oneShot: the connection is over (err: it failed or was cut before X ended it). */
  ended?(err?: Error): void;
  /** Bytes read (after decompression). */
  bytes?(n: number): void;
}

export interface StreamClientOptions {
  requester: StreamRequester;
  endpoint: StreamEndpoint;
  /** tweet.fields, user.fields, expansions, ... */
  params: Record<string, string>;
  /** backfill_minutes (1-5) asked for on every reconnect (not the first connect); 0: none. */
  backfillMinutes?: number;
  /** Extra query parameters for each connection attempt (reconnect: not the first one). */
  connectParams?(reconnect: boolean): Record<string, string>;
  /** One connection only (a Recovery request): no reconnect; `ended` says how it ended. */
  oneShot?: boolean;
  policy?: ReconnectPolicy;
  /** No byte (post or keep-alive) for this long: drop and reconnect (default DEFAULT_STALL_TIMEOUT_MS: 90 s, reasoned in access.ts). */
  stallTimeoutMs?: number;
  /** No response headers for this long: a network error (default 10 s). */
  connectTimeoutMs?: number;
  maxLineBytes?: number;
  clock?: Clock;
  handlers: StreamHandlers;
}

/** The body of an error answer is read up to this many bytes. */
const MAX_ERROR_BODY = 64 * 1024;
/** close() waits at most this long for the socket to be gone. */
const CLOSE_WAIT_MS = 2000;

interface Attempt {
  seq: number;
  req?: http.ClientRequest;
  res?: http.IncomingMessage;
  body?: NodeJS.ReadableStream & { pause(): void; resume(): void; destroy(err?: Error): void };
  established: boolean;
  /** A first keep-alive, post or notice arrived: it really is a stream (not a proxy's page). */
  verified: boolean;
  finished: boolean;
  connectTimer?: unknown;
  stallTimer?: unknown;
  lastByteAt: number;
  emit?: (e: FrameEvent) => boolean;
  socketClosed: Promise<void>;
  markSocketClosed: () => void;
}

export function isDisconnectProblem(e: StreamProblem): boolean {
  return (
    typeof e.disconnect_type === 'string' ||
    e.title === 'operational-disconnect' ||
    (typeof e.type === 'string' && e.type.endsWith('/operational-disconnect'))
  );
}


export class StreamClient {
  readonly policy: ReconnectPolicy;
  private readonly clock: Clock;
  private readonly stallTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly framer: LineFramer;
  private readonly h: StreamHandlers;
  private current?: Attempt;
  private seq = 0;
  private retryTimer?: unknown;
  private everConnected = false;
  private closed = false;
  private stopped = false;
  private paused = false;
  /** Connection attempts so far (the first one included). */
  attempts = 0;

  constructor(private readonly o: StreamClientOptions) {
    this.clock = o.clock ?? systemClock;
    this.policy = o.policy ?? new ReconnectPolicy({}, this.clock);
    this.stallTimeoutMs = o.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
    this.connectTimeoutMs = o.connectTimeoutMs ?? 10_000;
    this.framer = new LineFramer({ maxLineBytes: o.maxLineBytes });
    this.h = o.handlers;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  start(): void {
    if (this.closed || this.current || this.retryTimer !== undefined) return;
    this.stopped = false;
    void this.connect();
  }

  /** Stops reading (TCP backpressure); the stall watchdog waits meanwhile. */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.current?.body?.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    const a = this.current;
    if (!a || a.finished) return;
    a.lastByteAt = this.clock.now();
    // Lines of chunks already read come first; they may pause us again.
    if (a.emit) this.framer.resume(a.emit);
    if (!this.paused) a.body?.resume();
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Ends the connection (resolves once its socket is closed) and never reconnects. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer !== undefined) {
      this.clock.clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
    const a = this.current;
    if (!a) return;
    this.teardown(a);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([a.socketClosed, new Promise<void>((r) => (timer = setTimeout(r, boundedDelay(CLOSE_WAIT_MS))))]);
    if (timer) clearTimeout(timer);
  }

  private async connect(): Promise<void> {
    this.retryTimer = undefined;
    if (this.closed) return;
    const attempt = ++this.attempts;
    this.policy.attemptStarted();
    let markSocketClosed!: () => void;
    const a: Attempt = {
      seq: ++this.seq,
      established: false,
      verified: false,
      finished: false,
      lastByteAt: this.clock.now(),
      socketClosed: new Promise<void>((r) => (markSocketClosed = r)),
      markSocketClosed: () => markSocketClosed(),
    };
    this.current = a;
    this.h.connecting?.(attempt);
    const params = { ...this.o.params };
    if (this.o.backfillMinutes && this.everConnected) params.backfill_minutes = String(this.o.backfillMinutes);
    Object.assign(params, this.o.connectParams?.(this.everConnected));
    let opts;
    try {
      opts = await this.o.requester.streamRequest(STREAM_PATHS[this.o.endpoint], params);
    } catch (err) {
      a.markSocketClosed();
      // The token exchange failed: bad credentials stop, anything else is retried.
      this.finish(a, failureKindOf(err), err as Error);
      return;
    }
    if (this.closed || a.finished) {
      a.markSocketClosed();
      return;
    }
    const req = (opts.url.protocol === 'http:' ? http : https).request(opts.url, { method: 'GET', headers: opts.headers, agent: opts.agent });
    a.req = req;
    req.on('close', () => a.markSocketClosed());
    a.connectTimer = this.clock.setTimeout(() => {
      a.connectTimer = undefined;
      if (!a.res) this.finish(a, 'network', new XNetworkError(`no answer from X within ${this.connectTimeoutMs} ms`));
    }, this.connectTimeoutMs);
    req.on('error', (err) => {
      if (a.established) this.finish(a, 'dropped', new XNetworkError(`stream connection lost: ${err.message}`, err));
      else this.finish(a, 'network', new XNetworkError(`cannot connect to X: ${err.message}`, err));
    });
    req.on('response', (res) => this.onResponse(a, res));
    req.end();
  }

  private onResponse(a: Attempt, res: http.IncomingMessage): void {
    a.res = res;
    if (a.connectTimer !== undefined) {
      this.clock.clearTimeout(a.connectTimer);
      a.connectTimer = undefined;
    }
    if (a.finished) {
      res.destroy();
      return;
    }
    res.on('error', () => undefined); // 'close' below decides
    const type = String(res.headers['content-type'] ?? '').toLowerCase();
    // A 200 that is not JSON is a proxy's or captive portal's page, not X: an error to back off on.
    if (res.statusCode !== 200 || (type !== '' && !type.includes('json'))) {
      this.readError(a, res);
      return;
    }
    a.established = true;
    this.everConnected = true;
    this.framer.reset();
    let body: Attempt['body'] = res;
    const encoding = String(res.headers['content-encoding'] ?? '').toLowerCase();
    if (encoding === 'gzip' || encoding === 'deflate') {
      const inflate = encoding === 'gzip'
        ? zlib.createGunzip({ flush: zlib.constants.Z_SYNC_FLUSH, finishFlush: zlib.constants.Z_SYNC_FLUSH })
        : zlib.createInflate({ flush: zlib.constants.Z_SYNC_FLUSH, finishFlush: zlib.constants.Z_SYNC_FLUSH });
      inflate.on('error', (err) => this.finish(a, 'dropped', new XNetworkError(`stream decompression failed: ${err.message}`, err)));
      res.pipe(inflate);
      body = inflate;
    }
    a.body = body;
    if (this.paused) body.pause();
    this.h.connected?.();
    // Returns false once paused: the framer holds the rest of the chunk until resume().
    const emit = (a.emit = (e: FrameEvent) => {
      this.onFrame(a, e);
      return !this.paused && !a.finished;
    });
    body.on('data', (chunk: Buffer) => {
      if (a.finished) return;
      a.lastByteAt = this.clock.now();
      this.h.bytes?.(chunk.length);
      this.framer.push(chunk, emit);
      if (this.paused && !a.finished) body.pause();
    });
    const ended = (why: string, clean: boolean) => this.finish(a, 'dropped', new XNetworkError(why), clean ? 'end' : undefined);
    body.on('end', () => ended('X ended the stream', true));
    res.on('close', () => {
      if (!res.complete && body !== res && !a.finished) {
        // gzip: bytes already read may still be in the inflater (zlib works off-thread); let it
        // hand them over before the attempt ends.
        (body as unknown as zlib.Gunzip).flush(zlib.constants.Z_SYNC_FLUSH, () => ended('the stream connection was cut', false));
      } else if (!res.complete) ended('the stream connection was cut', false);
      else if (body === res) ended('X ended the stream', true);
      // gzip: 'end' of the inflater decides.
    });
    this.armStall(a);
  }

  private armStall(a: Attempt): void {
    const check = () => {
      a.stallTimer = undefined;
      if (a.finished) return;
      const now = this.clock.now();
      if (this.paused) a.lastByteAt = now;
      const idle = now - a.lastByteAt;
      if (idle >= this.stallTimeoutMs) {
        this.finish(a, 'dropped', new XNetworkError(`stall: no data or keep-alive for ${Math.round(idle / 100) / 10} s`), 'stall');
        return;
      }
      a.stallTimer = this.clock.setTimeout(check, this.stallTimeoutMs - idle);
    };
    a.stallTimer = this.clock.setTimeout(check, this.stallTimeoutMs);
  }

  private onFrame(a: Attempt, e: FrameEvent): void {
    if (a.finished) return;
    if (!a.verified && e.kind !== 'malformed') {
      // Backoffs start over only once X has really spoken on this connection.
      a.verified = true;
      this.policy.connected();
    }
    switch (e.kind) {
      case 'keep-alive':
        this.h.keepAlive?.();
        return;
      case 'malformed':
        this.h.malformed?.(e.text, e.reason);
        return;
      case 'record': {
        const v = e.value as Record<string, unknown> | null;
        if (v && typeof v === 'object' && !Array.isArray(v)) {
          const data = v.data as Record<string, unknown> | undefined;
          if (data && typeof data === 'object' && typeof data.id === 'string') {
            this.h.post(v as unknown as StreamPost, e.bytes);
            return;
          }
          if (Array.isArray(v.errors) && v.errors.length) {
            const errors = v.errors.filter((x) => x && typeof x === 'object') as StreamProblem[];
            const disconnect = errors.some(isDisconnectProblem);
            this.h.notice?.(errors, disconnect);
            if (disconnect) {
              const first = errors.find(isDisconnectProblem)!;
              this.finish(a, 'dropped', new XNetworkError(`X disconnected the stream: ${first.disconnect_type ?? first.title}${first.detail ? ` (${first.detail})` : ''}`), 'notice');
            }
            return;
          }
        }
        this.h.malformed?.(JSON.stringify(v).slice(0, 120), 'neither a post nor an error object');
        return;
      }
    }
  }

  private readError(a: Attempt, res: http.IncomingMessage): void {
    const parts: Buffer[] = [];
    let size = 0;
    const status = res.statusCode ?? 0;
    const done = () => {
      if (a.finished) return;
      const text = Buffer.concat(parts).toString('utf8');
      // Summarised by XApiError: X's problem fields, or a page's title, never the page.
      let err = new XApiError(status, text, res.headers, 'stream connection', this.clock.now());
      if (status === 200) {
        const page = err.title;
        err = new XApiError(502, { title: `a 200 answer without a stream (${String(res.headers['content-type'] ?? 'no content-type')})`, detail: page }, res.headers, 'stream connection', this.clock.now());
      }
      this.finish(a, failureKindOf(err), err);
    };
    res.on('data', (c: Buffer) => {
      if (size < MAX_ERROR_BODY) parts.push(c);
      size += c.length;
    });
    res.on('end', done);
    res.on('close', done);
    // An error answer whose body never ends is still an error answer.
    a.stallTimer = this.clock.setTimeout(done, this.connectTimeoutMs);
  }

  private teardown(a: Attempt): void {
    a.finished = true;
    if (a.connectTimer !== undefined) this.clock.clearTimeout(a.connectTimer);
    if (a.stallTimer !== undefined) this.clock.clearTimeout(a.stallTimer);
    a.connectTimer = a.stallTimer = undefined;
    a.body?.destroy();
    a.res?.destroy();
    if (a.req) a.req.destroy();
    else a.markSocketClosed();
    if (this.current === a) this.current = undefined;
  }

  private finish(a: Attempt, kind: FailureKind | 'fatal', err: Error, reason?: 'stall' | 'notice' | 'end'): void {
    if (a.finished) return;
    const wasEstablished = a.established;
    this.teardown(a);
    this.framer.reset();
    if (this.closed || this.stopped) return;
    if (wasEstablished) this.h.disconnected?.(reason === 'stall' ? 'stall' : reason === 'notice' ? 'disconnect-notice' : err.message);
    // A 200 that ended before X said anything was no stream: back off as for an error answer.
    if (kind === 'dropped' && wasEstablished && !a.verified) kind = 'http';
    if (this.o.oneShot) {
      this.stopped = true;
      this.h.ended?.(reason === 'end' ? undefined : err);
      return;
    }
    const decision = kind === 'fatal' ? undefined : this.policy.next(kind, { resetAtMs: err instanceof XApiError ? err.retryNotBeforeMs : undefined });
    if (!decision || decision.giveUp) {
      this.stopped = true;
      this.h.fatal?.(err as XApiError);
      return;
    }
    this.h.retrying?.(err, decision);
    this.retryTimer = this.clock.setTimeout(() => void this.connect(), decision.delayMs);
  }
}
