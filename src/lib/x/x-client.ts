// The X API as this package uses it: a base URL (https://api.x.com, a proxy, or the emulator),
// app-only authentication (a bearer token, or an API key + secret exchanged for one), REST
// requests through twitter-api-v2, and what a streaming request needs (we own the stream).
import * as http from 'node:http';
import * as https from 'node:https';
import { STATUS_CODES } from 'node:http';
import { ApiPartialResponseError, ApiRequestError, ApiResponseError, TwitterApi, type IClientSettings } from 'twitter-api-v2';

export const DEFAULT_BASE_URL = 'https://api.x.com';
const USER_AGENT = 'streamsafe-node-red-twitter-kafka';

/** The base URL without trailing slashes; throws on anything but http(s). */
export function normaliseBaseUrl(value: unknown): string {
  const raw = typeof value === 'string' ? value.trim() : '';
  if (raw === '') return DEFAULT_BASE_URL;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TypeError(`"${raw}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError(`the API base URL must be http(s), not ${url.protocol}`);
  if (url.search || url.hash) throw new TypeError('the API base URL cannot have a query or a fragment');
  if (url.username || url.password) throw new TypeError('the API base URL cannot carry credentials; put them in the credential fields');
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

// ---------------------------------------------------------------------------------------------
// Errors

/** An answer from X other than 2xx. `title` is X's problem title. */
export class XApiError extends Error {
  readonly status: number;
  readonly title: string;
  readonly detail?: string;
  /** The problem's `type` URI. */
  readonly problemType?: string;
  /** `connection_issue` of a streaming problem (TooManyConnections, RuleConfigurationIssue). */
  readonly connectionIssue?: string;
  /** x-rate-limit-reset as epoch ms, when sent. */
  readonly rateLimitResetMs?: number;
  /** x-rate-limit-remaining, when sent. */
  readonly rateLimitRemaining?: number;
  readonly body: unknown;
  constructor(status: number, body: unknown, headers: http.IncomingHttpHeaders = {}, what = 'request') {
    const p = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
    const firstError = Array.isArray(p.errors) && p.errors[0] && typeof p.errors[0] === 'object' ? (p.errors[0] as Record<string, unknown>) : undefined;
    const title = str(p.title) ?? str(firstError?.title) ?? str(firstError?.message) ?? STATUS_CODES[status] ?? 'Error';
    const detail = str(p.detail) ?? str(firstError?.detail) ?? (firstError && str(firstError.message) !== title ? str(firstError.message) : undefined);
    super(`X ${what} failed: HTTP ${status} ${title}${detail && detail !== title ? `: ${detail}` : ''}`);
    this.name = 'XApiError';
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.problemType = str(p.type);
    this.connectionIssue = str(p.connection_issue);
    this.body = body;
    const reset = Number(headerValue(headers['x-rate-limit-reset']));
    if (Number.isFinite(reset) && reset > 0) this.rateLimitResetMs = reset * 1000;
    const remaining = Number(headerValue(headers['x-rate-limit-remaining']));
    if (headerValue(headers['x-rate-limit-remaining']) !== undefined && Number.isFinite(remaining)) this.rateLimitRemaining = remaining;
  }
  /**
   * For a 429: the time before which no retry can succeed, x-rate-limit-reset, when the request
   * window is used up (remaining 0 or not said). A 429 with requests left in the window (X's
   * TooManyConnections) is about the connection slot, not the window: no floor then.
   */
  get retryNotBeforeMs(): number | undefined {
    if (this.status !== 429 || this.rateLimitResetMs === undefined) return undefined;
    return this.rateLimitRemaining === undefined || this.rateLimitRemaining <= 0 ? this.rateLimitResetMs : undefined;
  }
  /** 401 / 403: retrying will not help. */
  get fatal(): boolean {
    return this.status === 401 || this.status === 403;
  }
}

/** No answer from X: connection refused or reset, DNS, timeout, a cut response. */
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

/** twitter-api-v2's errors as ours. */
export function fromLibraryError(err: unknown, what: string): Error {
  if (err instanceof ApiResponseError) return new XApiError(err.code, err.data, err.headers, what);
  if (err instanceof ApiPartialResponseError) return new XNetworkError(`X ${what} failed: ${err.message}`, err.responseError);
  if (err instanceof ApiRequestError) {
    const cause = err.requestError;
    return new XNetworkError(`X ${what} failed: ${cause?.message ?? err.message}`, cause);
  }
  return err instanceof Error ? err : new Error(String(err));
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

function librarySettings(agent: http.Agent): Partial<IClientSettings> {
  // The library builds https requests; an http.Agent makes it speak plain HTTP to an http:// base.
  return { httpAgent: agent, compression: true };
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
    const agent = agentFor(this.baseUrl, false);
    try {
      const basic = new TwitterApi({ username: this.creds.apiKey!, password: this.creds.apiSecret! }, librarySettings(agent));
      let res: { data: { access_token?: unknown; token_type?: unknown } };
      try {
        res = await basic.post(`${this.baseUrl}/oauth2/token`, { grant_type: 'client_credentials' }, { fullResponse: true, forceBodyMode: 'url', timeout: this.timeoutMs });
      } catch (err) {
        throw fromLibraryError(err, 'token exchange');
      }
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
  /** REST request timeout (socket idle), ms (default 15 s). */
  timeoutMs?: number;
}

/** One user's connection to X: REST through twitter-api-v2 on its own agent, and stream requests. */
export class XClient {
  readonly baseUrl: string;
  private readonly bearer: BearerSource;
  private readonly timeoutMs: number;
  private readonly restAgent: http.Agent;
  /** Streams never share a socket with REST requests. */
  readonly streamAgent: http.Agent;
  private rest?: { token: string; api: TwitterApi };
  private closed = false;

  constructor(o: XClientOptions) {
    this.baseUrl = normaliseBaseUrl(o.baseUrl);
    this.bearer = o.bearer;
    this.timeoutMs = o.timeoutMs ?? 15_000;
    this.restAgent = agentFor(this.baseUrl, true);
    this.streamAgent = agentFor(this.baseUrl, false);
  }

  token(): Promise<string> {
    return this.bearer.token();
  }

  private async api(): Promise<TwitterApi> {
    const token = await this.bearer.token();
    if (!this.rest || this.rest.token !== token) this.rest = { token, api: new TwitterApi(token, librarySettings(this.restAgent)) };
    return this.rest.api;
  }

  /** GET base + path (path begins with /2/...). */
  async get<T = any>(path: string, query: Record<string, string | number | undefined> = {}, what = `GET ${path}`): Promise<XResponse<T>> {
    this.checkOpen();
    const api = await this.api();
    const q: Record<string, string> = {};
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') q[k] = String(v);
    try {
      const res = await api.get(`${this.baseUrl}${path}`, q, { fullResponse: true, timeout: this.timeoutMs });
      return { data: res.data as T, headers: res.headers };
    } catch (err) {
      throw fromLibraryError(err, what);
    }
  }

  /** POST a JSON body to base + path. */
  async post<T = any>(path: string, body: unknown, query: Record<string, string> = {}, what = `POST ${path}`): Promise<XResponse<T>> {
    this.checkOpen();
    const api = await this.api();
    let url = `${this.baseUrl}${path}`;
    const qs = new URLSearchParams(query).toString();
    if (qs) url += `?${qs}`;
    try {
      const res = await api.post(url, body as Record<string, unknown>, { fullResponse: true, forceBodyMode: 'json', timeout: this.timeoutMs });
      return { data: res.data as T, headers: res.headers };
    } catch (err) {
      throw fromLibraryError(err, what);
    }
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

  private checkOpen(): void {
    if (this.closed) throw new XNetworkError('the X client is closed');
  }
}

/** What the X credentials config node offers the nodes that use it. */
export interface XCredentialsProvider {
  readonly baseUrl: string;
  /** Why the settings are unusable, if they are. */
  readonly settingsError?: string;
  /** A client of its own for one user (close it when done); throws with settingsError. */
  createClient(): XClient;
}
