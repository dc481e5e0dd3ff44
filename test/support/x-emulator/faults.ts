// Fault descriptions, shared by the TypeScript API (emulator.faults.*) and the HTTP control
// endpoint (POST /__control/faults takes the same objects as JSON).

/** Which stream connections a stream fault may hit. */
export type StreamSelector = 'filtered' | 'sample' | 'stream';
/** Which requests a connect-time fault answers. */
export type RequestSelector = 'filtered' | 'sample' | 'stream' | 'rules' | 'search' | 'token' | 'any';

export interface StreamFaultCommon {
  /** Default 'stream' (either stream endpoint). */
  endpoint?: StreamSelector;
  /** Only connections opened with this bearer token. */
  token?: string;
  /** Only this connection (see emulator.connections). */
  connectionId?: number;
  /** Fire once this many more posts have been written to matching connections (counted from arming; default 0: at once). */
  afterPosts?: number;
  /** Fire no earlier than this many ms after arming. */
  afterMs?: number;
  /** Fire this many times (default 1; Infinity = every afterPosts posts for ever). Re-arms after each. */
  times?: number;
}

export type StreamFaultSpec = StreamFaultCommon &
  (
    | {
        /** Destroy the socket mid-stream (no terminating chunk): the client sees the connection end abruptly. */
        type: 'drop';
        /** Write the first half of one more record before dropping (that post is lost). */
        midRecord?: boolean;
        /** Send a TCP RST instead of a FIN (data still in flight may be lost: not counted as emitted). */
        reset?: boolean;
        /** Keep the token's connection slot busy this long after the drop, as X sometimes does: reconnects get 429 TooManyConnections. */
        holdSlotMs?: number;
      }
    | {
        /** Send nothing at all (no posts, no keep-alives) for `ms` (default: until the client goes away). */
        type: 'stall';
        ms?: number;
        /** After the stall, skip the posts created meanwhile instead of sending the backlog. */
        skipBacklog?: boolean;
      }
    | {
        /**
         * Write the next `records` records in pieces, each piece its own HTTP chunk:
         *   'crlf'  the JSON, then "\r\n" alone (a client that takes a lone "\r\n" chunk for a keep-alive breaks)
         *   'mid'   cut at `offsets` (bytes) or at one seeded random byte offset (may fall inside a UTF-8 sequence)
         *   'bytes' cut every `pieceBytes` bytes (default 7)
         */
        type: 'split';
        mode?: 'crlf' | 'mid' | 'bytes';
        records?: number;
        offsets?: number[];
        pieceBytes?: number;
        /** Prefer a cut inside a multi-byte UTF-8 character ('mid' without offsets). */
        insideUtf8?: boolean;
        /** Pause between pieces (default 0: pieces still arrive as separate chunks). */
        gapMs?: number;
      }
    | {
        /** Write X's operational-disconnect error object, then end the response. */
        type: 'operational-disconnect';
        /** Which `disconnect_type` the error carries (default 'OperationalDisconnect'); see DISCONNECT_TYPES. */
        disconnectType?: DisconnectType;
      }
    | {
        /**
         * Fires right after the next heartbeat is written: from then on nothing at all (no posts,
         * no keep-alive) until the following heartbeat, which comes `ms` late (a gap of
         * keepAliveMs + ms after the previous one); the posts held back follow it.
         */
        type: 'late-heartbeat';
        ms: number;
      }
    | {
        /** The next record is preceded by a UTF-8 byte order mark (EF BB BF); it still counts as emitted. */
        type: 'bom';
      }
    | {
        /** Write one line that is not valid JSON (default: a truncated record), then go on streaming. */
        type: 'malformed';
        line?: string;
      }
  );

export interface ConnectFaultCommon {
  /** Default 'stream'. */
  endpoint?: RequestSelector;
  token?: string;
  /** How many matching requests get this answer (default 1). */
  count?: number;
  /** Armed only this many ms after injection. */
  afterMs?: number;
}

export type ConnectFaultSpec = ConnectFaultCommon &
  (
    | {
        /**
         * Answer with this status and X's body for it: 401 Unauthorized, 403 client-not-enrolled,
         * 409 RuleConfigurationIssue, 429 Too Many Requests (with x-rate-limit-reset), 503, ...
         */
        type: 'status';
        status: number;
        /** For 429: seconds until x-rate-limit-reset (default 60). */
        resetInSec?: number;
        /** For 429: answer with the TooManyConnections problem instead of the usage one. */
        tooManyConnections?: boolean;
        /**
         * Replace the body. A string is sent as it is (with `contentType`, default
         * 'text/plain; charset=utf-8'); anything else as JSON.
         */
        body?: unknown;
        /** Content type of the answer (e.g. 'text/html; charset=utf-8' for a proxy's error page). */
        contentType?: string;
        /** Answer with a proxy-like HTML error page for the status (content-type text/html) instead of X's JSON. */
        html?: boolean;
        /** Headers added to (and overriding) the emulator's, e.g. any x-rate-limit-reset value. */
        headers?: Record<string, string>;
      }
    | {
        /**
         * Answer 200 with content-type text/html and a proxy-like page (a captive portal or a
         * load balancer's page), then close the connection: no stream. `body` replaces the page.
         */
        type: 'html-ok';
        body?: string;
      }
    | {
        /**
         * 429 with X's usage-cap problem (`title: UsageCapExceeded`, `type: .../usage-capped`,
         * `period`, `scope`) while x-rate-limit-remaining stays > 0: the app's monthly (or daily)
         * cap is used up, not its 15-minute window. Default endpoint 'any'.
         */
        type: 'usage-capped';
        period?: 'Daily' | 'Monthly';
        scope?: 'Account' | 'Product';
      }
    | {
        /** Accept the request and never answer; after `ms` (if given) destroy the socket. */
        type: 'hang';
        ms?: number;
      }
  );

export type FaultSpec = StreamFaultSpec | ConnectFaultSpec;

export const STREAM_FAULTS = new Set(['drop', 'stall', 'split', 'operational-disconnect', 'malformed', 'late-heartbeat', 'bom']);
export const CONNECT_FAULTS = new Set(['status', 'hang', 'html-ok', 'usage-capped']);

/**
 * The `disconnect_type` values X lists for its operational-disconnect problem (the enum of
 * OperationalDisconnectProblem in X's OpenAPI spec, v2.159 as kept in xdevplatform/xdk; the
 * newer spec 2.167 no longer describes the in-stream problem, and X's docs only show
 * UpstreamOperationalDisconnect).
 */
export const DISCONNECT_TYPES = [
  'OperationalDisconnect',
  'UpstreamOperationalDisconnect',
  'ForceDisconnect',
  'UpstreamUncleanDisconnect',
  'SlowReader',
  'InternalError',
  'ClientApplicationStateDegraded',
  'InvalidRules',
] as const;
export type DisconnectType = (typeof DISCONNECT_TYPES)[number];

export function isStreamFault(f: FaultSpec): f is StreamFaultSpec {
  return STREAM_FAULTS.has(f.type);
}

/** A fault waiting or done. */
export interface ArmedFault {
  id: number;
  spec: FaultSpec;
  armedAt: number;
  /** Not before this time (epoch ms). */
  dueAt: number;
  /** Posts counted towards afterPosts since the last firing. */
  counted: number;
  /** Times fired (stream faults) or requests answered (connect faults). */
  fired: number;
  /** Fired the number of times asked for, or cleared. */
  done: boolean;
}

export interface FiredFault {
  faultId: number;
  type: FaultSpec['type'];
  at: number;
  connectionId?: number;
  requestSeq?: number;
  detail?: string;
}

/** Checks a fault object from JSON; returns a message when it is unusable. */
export function checkFaultSpec(f: unknown): string | undefined {
  if (!f || typeof f !== 'object') return 'a fault must be an object';
  const spec = f as Record<string, unknown>;
  const type = spec.type;
  if (typeof type !== 'string' || (!STREAM_FAULTS.has(type) && !CONNECT_FAULTS.has(type))) {
    return `unknown fault type ${JSON.stringify(type)}; one of ${[...STREAM_FAULTS, ...CONNECT_FAULTS].join(', ')}`;
  }
  const num = (k: string, min = 0): string | undefined => {
    const v = spec[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || Number.isNaN(v) || v < min) return `${k} must be a number >= ${min}`;
    return undefined;
  };
  for (const k of ['afterPosts', 'afterMs', 'times', 'ms', 'count', 'holdSlotMs', 'records', 'pieceBytes', 'gapMs', 'resetInSec']) {
    const m = num(k, k === 'times' || k === 'count' || k === 'records' || k === 'pieceBytes' ? 1 : 0);
    if (m) return m;
  }
  if (type === 'status') {
    const s = spec.status;
    if (typeof s !== 'number' || !Number.isInteger(s) || s < 400 || s > 599) return 'status must be an HTTP error status (400-599)';
  }
  if (type === 'usage-capped' && spec.period !== undefined && spec.period !== 'Daily' && spec.period !== 'Monthly') return "period must be 'Daily' or 'Monthly'";
  if (type === 'usage-capped' && spec.scope !== undefined && spec.scope !== 'Account' && spec.scope !== 'Product') return "scope must be 'Account' or 'Product'";
  if (type === 'late-heartbeat' && (typeof spec.ms !== 'number' || !(spec.ms >= 0))) return 'late-heartbeat needs ms >= 0';
  if (type === 'operational-disconnect' && spec.disconnectType !== undefined && !(DISCONNECT_TYPES as readonly unknown[]).includes(spec.disconnectType)) {
    return `disconnectType must be one of ${DISCONNECT_TYPES.join(', ')}`;
  }
  if (type === 'status' && spec.contentType !== undefined && typeof spec.contentType !== 'string') return 'contentType must be a string';
  if (type === 'html-ok' && spec.body !== undefined && typeof spec.body !== 'string') return 'html-ok body must be a string';
  if (type === 'split' && spec.mode !== undefined && !['crlf', 'mid', 'bytes'].includes(spec.mode as string)) {
    return "split mode must be 'crlf', 'mid' or 'bytes'";
  }
  if (spec.offsets !== undefined && (!Array.isArray(spec.offsets) || spec.offsets.some((o) => typeof o !== 'number' || o < 1))) {
    return 'offsets must be an array of byte offsets >= 1';
  }
  return undefined;
}
