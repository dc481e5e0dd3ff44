// The X API as this package uses it: a base URL (https://api.x.com, a proxy, or the emulator),
// app-only authentication (a bearer token, or an API key + secret exchanged for one), REST
// requests (JSON over node's http/https, x-http.ts), and what a streaming request needs (we own
// the stream).
import * as http from 'node:http';
import * as https from 'node:https';
import { STATUS_CODES } from 'node:http';
import { normaliseBaseUrl, type XCredentialsProblem } from './credentials';
import { parseJson } from './json-ids';
import { parseRateLimitReset } from './rate-limit-reset';
import { httpCall, problemSummary, summariseErrorBody, type ErrorBodySummary, type HttpAnswer, type HttpTransportError } from './x-http';

export { parseJson } from './json-ids';
export { parseRateLimitReset, type RateLimitReset } from './rate-limit-reset';
export { summariseErrorBody, type ErrorBodySummary } from './x-http';

const USER_AGENT = 'streamsafe-node-red-twitter-kafka';

// ---------------------------------------------------------------------------------------------
// Errors

/**
 * How a caller should treat an error answer:
 * - 'fatal': retrying the same request will not help; stop and tell the user.
 * - 'rateLimited': wait, at least until `retryNotBeforeMs` when there is one.
 * - 'clientError': X refused this request; retry a bounded number of times (the cause can be
 *   transient, e.g. a rule change racing a connect), then stop.
 * - 'server': X (or a proxy in front of it) failed; retry with backoff, without limit.
 */
export type XRetryClass = 'fatal' | 'rateLimited' | 'clientError' | 'server';

/**
 * The retry class of an HTTP status.
 * - 401 / 403: the credentials are wrong or revoked, or the app is not enrolled for this
 *   product / access level (X's 403 client-not-enrolled names a registration URL): the same
 *   request gets the same answer until the user changes the app. hbc counts them among its
 *   bounded 4xx retries; we stop at once, as `fatal` always has.
 * - 404 / 406 / 413 / 416: Twitter's own streaming client (hbc, HttpConstants.FATAL_CODES) stops
 *   on these without retrying: 404 the endpoint does not exist (wrong base URL or path), 406 a
 *   parameter it will not accept, 413 the parameter list is too long, 416 a range (count /
 *   backfill) out of bounds. The same request gets the same answer.
 * - 429 (and 420, the old "Enhance Your Calm"): rate limited, including usage-capped answers
 *   and TooManyConnections; X's docs say to back off and retry after x-rate-limit-reset.
 * - other 4xx (400, 409 RuleConfigurationIssue, ...): hbc retries these a bounded number of
 *   times before giving up; so should we. 3xx (a redirect we do not follow) is treated alike.
 * - 5xx: X's docs ask for exponential backoff and retry; hbc retries them without limit.
 */
export function retryClassOf(status: number): XRetryClass {
  if (status === 401 || status === 403 || status === 404 || status === 406 || status === 413 || status === 416) return 'fatal';
  if (status === 429 || status === 420) return 'rateLimited';
  if (status >= 500) return 'server';
  return 'clientError';
}

/**
 * An answer from X other than 2xx. `title` is X's problem title (for a non-JSON page, its title
 * or first words). The message is one short line: `X <what> failed: HTTP <status> <title>: <detail>`.
 */
export class XApiError extends Error {
  readonly status: number;
  readonly title: string;
  readonly detail?: string;
  /** The problem's `type` URI. */
  readonly problemType?: string;
  /** `connection_issue` of a streaming problem (TooManyConnections, RuleConfigurationIssue). */
  readonly connectionIssue?: string;
  /** x-rate-limit-reset as epoch ms, when sent (sanitised: parseRateLimitReset). */
  readonly rateLimitResetMs?: number;
  /** What parseRateLimitReset did to the header (taken as ms, in the past, capped), for the log. */
  readonly rateLimitResetNote?: string;
  /** x-rate-limit-remaining, when sent. */
  readonly rateLimitRemaining?: number;
  /** X's parsed JSON; for a non-JSON answer { contentType, text } (a short summary, never the page). */
  readonly body: unknown;
  /** The answer's media type, when sent. */
  readonly contentType?: string;
  /**
   * @param body X's parsed JSON body, or the raw text of the answer (summarised with
   *   summariseErrorBody and the content-type of `headers`), or a summary from summariseErrorBody.
   * @param nowMs the time the answer came (for a reset in the past or absurdly far ahead).
   */
  constructor(status: number, body: unknown, headers: http.IncomingHttpHeaders = {}, what = 'request', nowMs: number = Date.now()) {
    const summary: Omit<ErrorBodySummary, 'json'> & { json: boolean } =
      typeof body === 'string'
        ? summariseErrorBody(status, headers['content-type'], body)
        : isSummary(body)
          ? body
          : { ...problemSummary(status, body && typeof body === 'object' ? (body as Record<string, unknown>) : {}), json: true, body };
    const statusText = STATUS_CODES[status] ?? 'Error';
    let message: string;
    if (summary.json) {
      message = `X ${what} failed: HTTP ${status} ${summary.title}${summary.detail && summary.detail !== summary.title ? `: ${summary.detail}` : ''}`;
    } else {
      const said = summary.title !== statusText ? `: ${summary.title}` : '';
      message = `X ${what} failed: HTTP ${status} ${statusText}${said}${summary.contentType ? ` (${summary.contentType})` : ''}`;
    }
    super(message);
    this.name = 'XApiError';
    this.status = status;
    this.title = summary.title;
    this.detail = summary.detail;
    this.problemType = summary.type;
    this.body = summary.body;
    if (summary.contentType) this.contentType = summary.contentType;
    const p = summary.json && summary.body && typeof summary.body === 'object' ? (summary.body as Record<string, unknown>) : {};
    this.connectionIssue = str(p.connection_issue);
    const reset = parseRateLimitReset(headerValue(headers['x-rate-limit-reset']), nowMs);
    if (reset.atMs !== undefined) this.rateLimitResetMs = reset.atMs;
    if (reset.note !== undefined) this.rateLimitResetNote = reset.note;
    const remainingHeader = headerValue(headers['x-rate-limit-remaining']);
    const remaining = Number(remainingHeader);
    if (remainingHeader !== undefined && remainingHeader.trim() !== '' && Number.isFinite(remaining)) this.rateLimitRemaining = remaining;
  }

  /** An error from a whole answer (status, headers, raw text). */
  static fromAnswer(answer: { status: number; headers: http.IncomingHttpHeaders; text: string }, what = 'request', nowMs: number = Date.now()): XApiError {
    return new XApiError(answer.status, answer.text, answer.headers, what, nowMs);
  }

  /**
   * A 429 for a usage cap (problem type .../usage-capped): the app's post or request cap for
   * the period is spent. x-rate-limit-remaining can be > 0 then (the request window is not
   * what ran out): retry not before the reset all the same.
   */
  get usageCapped(): boolean {
    return this.status === 429 && this.problemType !== undefined && /\/usage-capped$/.test(this.problemType);
  }

  /**
   * For a 429: the time before which no retry can succeed, x-rate-limit-reset, when the request
   * window is used up (remaining 0 or not said) or a usage cap is reached. A 429 with requests
   * left in the window (X's TooManyConnections) is about the connection slot, not the window:
   * no floor then.
   */
  get retryNotBeforeMs(): number | undefined {
    if (this.status !== 429 || this.rateLimitResetMs === undefined) return undefined;
    if (this.usageCapped) return this.rateLimitResetMs;
    return this.rateLimitRemaining === undefined || this.rateLimitRemaining <= 0 ? this.rateLimitResetMs : undefined;
  }

  /** 401 / 403: the credentials will not do; retrying will not help. */
  get fatal(): boolean {
    return this.status === 401 || this.status === 403;
  }

  /** How to retry (retryClassOf): fatal, rateLimited, clientError (bounded), server. */
  get retryClass(): XRetryClass {
    return retryClassOf(this.status);
  }
}

function isSummary(v: unknown): v is ErrorBodySummary {
  return !!v && typeof v === 'object' && typeof (v as ErrorBodySummary).json === 'boolean' && typeof (v as ErrorBodySummary).title === 'string' && 'body' in (v as object);
}

/** No answer from X: connection refused or reset, DNS, timeout, a cut or unreadable response. */
export class XNetworkError extends Error {
  readonly code?: string;
  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'XNetworkError';
    const c = cause as { code?: unknown } | undefined;
    if (c && typeof c.code === 'string') this.code = c.code;
  }
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

// ---------------------------------------------------------------------------------------------
// Authentication

export interface XCredentials {
  bearerToken?: string;
  apiKey?: string;
  apiSecret?: string;
}

function agentFor(baseUrl: string, keepAlive: boolean): http.Agent {
  return baseUrl.startsWith('http:') ? new http.Agent({ keepAlive }) : new https.Agent({ keepAlive });
}

/** One REST exchange: the answer's JSON for a 2xx, XApiError / XNetworkError otherwise. */
async function exchangeJson<T>(
  call: { method: 'GET' | 'POST'; url: URL; headers: http.OutgoingHttpHeaders; body?: string; agent: http.Agent; timeoutMs: number },
  what: string,
  now: () => number,
): Promise<XResponse<T>> {
  let answer: HttpAnswer;
  try {
    answer = await httpCall({
      ...call,
      headers: { accept: 'application/json', 'accept-encoding': 'gzip', 'user-agent': USER_AGENT, ...call.headers },
    });
  } catch (err) {
    const e = err as HttpTransportError;
    throw new XNetworkError(`X ${what} failed: ${e.message}`, e);
  }
  if (answer.status < 200 || answer.status >= 300) throw XApiError.fromAnswer(answer, what, now());
  if (answer.text.trim() === '') return { data: undefined as T, headers: answer.headers };
  try {
    return { data: parseJson(answer.text) as T, headers: answer.headers };
  } catch (err) {
    // A 2xx that is not JSON: a captive portal or a proxy's page, not X.
    const s = summariseErrorBody(answer.status, answer.headers['content-type'], answer.text);
    throw new XNetworkError(`X ${what} failed: HTTP ${answer.status} but the answer is not JSON: ${s.title}${s.contentType ? ` (${s.contentType})` : ''}`, err);
  }
}

/**
 * The app-only bearer token: the one given, or one exchanged for the API key + secret
 * (POST /oauth2/token, grant_type=client_credentials), fetched once and shared.
 */
export class BearerSource {
  private pending?: Promise<string>;
  constructor(private readonly baseUrl: string, private readonly creds: XCredentials, private readonly timeoutMs = 15_000) {
    if (!creds.bearerToken && !(creds.apiKey && creds.apiSecret)) throw new TypeError('X credentials need a bearer token, or an API key and secret');
  }

  get exchanges(): boolean {
    return !this.creds.bearerToken;
  }

  token(): Promise<string> {
    if (this.creds.bearerToken) return Promise.resolve(this.creds.bearerToken);
    this.pending ??= this.exchange().catch((err) => {
      this.pending = undefined; // the next caller tries again
      throw err;
    });
    return this.pending;
  }

  private async exchange(): Promise<string> {
    const base = normaliseBaseUrl(this.baseUrl);
    const agent = agentFor(base, false);
    try {
      // X's application-only auth: key and secret each URL-encoded (RFC 1738), joined by ':',
      // base64 in a Basic header; the body grant_type=client_credentials, form-encoded.
      const basic = Buffer.from(`${encodeURIComponent(this.creds.apiKey!)}:${encodeURIComponent(this.creds.apiSecret!)}`).toString('base64');
      const res = await exchangeJson<{ access_token?: unknown; token_type?: unknown }>(
        {
          method: 'POST',
          url: new URL(`${base}/oauth2/token`),
          headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8' },
          body: 'grant_type=client_credentials',
          agent,
          timeoutMs: this.timeoutMs,
        },
        'token exchange',
        Date.now,
      );
      const token = res.data?.access_token;
      if (typeof token !== 'string' || token === '') throw new XApiError(502, { title: 'no access_token in the token response' }, {}, 'token exchange');
      return token;
    } finally {
      agent.destroy();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Client

export interface XResponse<T = any> {
  data: T;
  headers: http.IncomingHttpHeaders;
}

export interface XClientOptions {
  baseUrl: string;
  bearer: BearerSource;
  /** REST request timeout: no answer, or no byte of it, for this long (ms, default 15 s). */
  timeoutMs?: number;
  /** The clock for XApiError's reset sanity checks (tests). */
  now?: () => number;
}

/** One user's connection to X: REST on its own keep-alive agent, and stream requests. */
export class XClient {
  readonly baseUrl: string;
  private readonly bearer: BearerSource;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private readonly restAgent: http.Agent;
  /** Streams never share a socket with REST requests. */
  readonly streamAgent: http.Agent;
  private closed = false;

  constructor(o: XClientOptions) {
    this.baseUrl = normaliseBaseUrl(o.baseUrl);
    this.bearer = o.bearer;
    this.timeoutMs = o.timeoutMs ?? 15_000;
    this.now = o.now ?? Date.now;
    this.restAgent = agentFor(this.baseUrl, true);
    this.streamAgent = agentFor(this.baseUrl, false);
  }

  token(): Promise<string> {
    return this.bearer.token();
  }

  /** GET base + path (path begins with /2/...); empty and undefined query values are left out. */
  async get<T = any>(path: string, query: Record<string, string | number | undefined> = {}, what = `GET ${path}`): Promise<XResponse<T>> {
    this.checkOpen();
    const token = await this.bearer.token();
    this.checkOpen();
    return exchangeJson<T>(
      { method: 'GET', url: this.url(path, query), headers: { authorization: `Bearer ${token}` }, agent: this.restAgent, timeoutMs: this.timeoutMs },
      what,
      this.now,
    );
  }

  /** POST a JSON body to base + path (no body when `body` is undefined). */
  async post<T = any>(path: string, body: unknown, query: Record<string, string> = {}, what = `POST ${path}`): Promise<XResponse<T>> {
    this.checkOpen();
    const token = await this.bearer.token();
    this.checkOpen();
    const json = body === undefined ? undefined : JSON.stringify(body);
    return exchangeJson<T>(
      {
        method: 'POST',
        url: this.url(path, query),
        headers: { authorization: `Bearer ${token}`, ...(json !== undefined ? { 'content-type': 'application/json' } : {}), 'content-length': Buffer.byteLength(json ?? '') },
        body: json,
        agent: this.restAgent,
        timeoutMs: this.timeoutMs,
      },
      what,
      this.now,
    );
  }

  /** What an owned streaming GET needs. */
  async streamRequest(path: string, params: Record<string, string>): Promise<{ url: URL; headers: http.OutgoingHttpHeaders; agent: http.Agent }> {
    this.checkOpen();
    const token = await this.bearer.token();
    const url = new URL(`${this.baseUrl}${path}`);
    for (const [k, v] of Object.entries(params)) if (v !== '') url.searchParams.set(k, v);
    return {
      url,
      agent: this.streamAgent,
      headers: { authorization: `Bearer ${token}`, 'user-agent': USER_AGENT, 'accept-encoding': 'gzip' },
    };
  }

  /** Ends every socket of this client; later calls fail. */
  close(): void {
    this.closed = true;
    this.restAgent.destroy();
    this.streamAgent.destroy();
  }

  private url(path: string, query: Record<string, string | number | undefined>): URL {
    const url = new URL(`${this.baseUrl}${path}`);
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') url.searchParams.set(k, String(v));
    return url;
  }

  private checkOpen(): void {
    if (this.closed) throw new XNetworkError('the X client is closed');
  }
}

/** What the X credentials config node offers the nodes that use it. */
export interface XCredentialsProvider {
  readonly baseUrl: string;
  /** The X access level the user says the app has (the credentials node's setting), if given. */
  readonly accessLevel?: string;
  /** Why the settings are unusable, if they are (in the runtime's language). */
  readonly settingsError?: string;
  /** The first of those reasons as a problem, so a stream node can say it in its own catalogue (account.<code>). */
  readonly settingsProblem?: XCredentialsProblem;
  /** A client of its own for one user (close it when done); throws with settingsError. */
  createClient(): XClient;
}
