// The HTTP under the X client's REST calls: one request with node's http/https on the caller's
// agent, gzip asked for and undone, a bounded "no answer / idle" timeout, a cap on the answer's
// size, and one retry when a kept-alive socket turns out to have been closed by the server.
// Plus summariseErrorBody: what an error answer says, in one short line, whatever it is (X's
// JSON problem, or a proxy's HTML page).
import * as http from 'node:http';
import * as https from 'node:https';
import * as zlib from 'node:zlib';
import { STATUS_CODES } from 'node:http';
import { boundedDelay } from '../common/timers';
import { parseJson } from './json-ids';

export interface HttpCall {
  method: 'GET' | 'POST';
  url: URL;
  headers: http.OutgoingHttpHeaders;
  body?: string | Buffer;
  agent: http.Agent;
  /** No response headers, or no byte of the body, for this long: give up (ms). */
  timeoutMs: number;
  /** The most (decompressed) answer bytes kept (default 16 MiB); more is an error. */
  maxBytes?: number;
}

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The body, decompressed, as UTF-8. */
  text: string;
}

/** Why no answer came: `code` is node's (ECONNREFUSED, ECONNRESET, ...) or ours (below). */
export class HttpTransportError extends Error {
  readonly code: string;
  /** Failed before any answer on a kept-alive socket reused from the pool. */
  reusedSocket?: boolean;
  constructor(message: string, code: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'HttpTransportError';
    this.code = code;
  }
}
/** Our codes: no answer in time; answer too large; answer cut or undecodable. */
export const ETIMEDOUT = 'ETIMEDOUT';
export const ETOOLARGE = 'ETOOLARGE';
export const EBADANSWER = 'EBADANSWER';

export const DEFAULT_MAX_ANSWER_BYTES = 16 * 1024 * 1024;

/** One request and its whole answer (any status). Rejects with HttpTransportError. */
export async function httpCall(call: HttpCall): Promise<HttpAnswer> {
  try {
    return await once(call);
  } catch (err) {
    // A kept-alive socket the server had already closed: the request never reached it. Node's
    // documentation recommends exactly this single retry (http.ClientRequest reusedSocket).
    if (err instanceof HttpTransportError && err.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) return once(call);
    throw err;
  }
}

function once(call: HttpCall): Promise<HttpAnswer> {
  const maxBytes = call.maxBytes ?? DEFAULT_MAX_ANSWER_BYTES;
  const timeoutMs = boundedDelay(call.timeoutMs);
  return new Promise<HttpAnswer>((resolve, reject) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    let gotResponse = false;
    const request = (call.url.protocol === 'https:' ? https : http).request(call.url, {
      method: call.method,
      agent: call.agent,
      headers: call.headers,
    });
    const fail = (err: HttpTransportError) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      if (!gotResponse && request.reusedSocket) err.reusedSocket = true;
      request.destroy();
      reject(err);
    };
    const arm = () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        fail(new HttpTransportError(gotResponse ? `the answer stalled for ${timeoutMs} ms` : `no answer in ${timeoutMs} ms`, ETIMEDOUT));
      }, timeoutMs);
      timer.unref?.();
    };
    arm();
    request.on('error', (err: NodeJS.ErrnoException) => fail(new HttpTransportError(err.message, err.code ?? 'EREQUEST', err)));
    request.on('response', (res) => {
      gotResponse = true;
      arm();
      const encoding = String(res.headers['content-encoding'] ?? '').trim().toLowerCase();
      let decoder: zlib.Gunzip | zlib.Inflate | zlib.BrotliDecompress | undefined;
      if (encoding === 'gzip' || encoding === 'x-gzip') decoder = zlib.createGunzip();
      else if (encoding === 'deflate') decoder = zlib.createInflate();
      else if (encoding === 'br') decoder = zlib.createBrotliDecompress();
      else if (encoding !== '' && encoding !== 'identity') {
        fail(new HttpTransportError(`the answer is in an encoding we did not ask for (${encoding})`, EBADANSWER));
        return;
      }
      const parts: Buffer[] = [];
      let size = 0;
      let ended = false;
      const collect = (chunk: Buffer) => {
        if (settled) return;
        size += chunk.length;
        if (size > maxBytes) {
          fail(new HttpTransportError(`the answer is larger than ${maxBytes} bytes`, ETOOLARGE));
          decoder?.destroy();
          return;
        }
        parts.push(chunk);
      };
      const finish = () => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(parts, size).toString('utf8') });
      };
      if (decoder) {
        decoder.on('data', collect);
        decoder.on('end', finish);
        decoder.on('error', (err) => fail(new HttpTransportError(`the ${encoding} answer does not decompress: ${err.message}`, EBADANSWER, err)));
      }
      res.on('data', (chunk: Buffer) => {
        arm();
        if (decoder) decoder.write(chunk);
        else collect(chunk);
      });
      res.on('end', () => {
        ended = true;
        if (decoder) decoder.end();
        else finish();
      });
      res.on('error', (err: NodeJS.ErrnoException) => fail(new HttpTransportError(`the answer was cut: ${err.message}`, err.code ?? EBADANSWER, err)));
      res.on('close', () => {
        if (!ended) fail(new HttpTransportError('the answer was cut', EBADANSWER));
      });
    });
    request.end(call.body);
  });
}

// ---------------------------------------------------------------------------------------------
// Error answers

export interface ErrorBodySummary {
  /** X's problem title; for a page that is not JSON, its <title> or first heading (or its first words). */
  title: string;
  /** X's problem detail, when sent (a message leaves it out when it only repeats the title). */
  detail?: string;
  /** The problem's `type` URI. */
  type?: string;
  /**
   * What to keep: X's parsed JSON; for anything else { contentType, text } with at most
   * SUMMARY_CHARS characters of text, never the raw page.
   */
  body: unknown;
  /** True when the body was JSON (X's own answer, most likely). */
  json: boolean;
  /** The media type, without parameters ("text/html"), when sent. */
  contentType?: string;
}

/** The most characters of a page's summary. */
export const SUMMARY_CHARS = 100;
/** The most characters of a JSON problem's title or detail kept in a message. */
const MAX_PROBLEM_TEXT = 300;

/**
 * An error answer in a few words: X's JSON problem (`title`, `detail`, `type`, or the first of
 * `errors[]`), or for HTML / text (a proxy's 502/503 page) the <title> or first heading, tags
 * stripped, whitespace collapsed, at most SUMMARY_CHARS characters.
 */
export function summariseErrorBody(status: number, contentType: string | string[] | undefined, text: string | undefined): ErrorBodySummary {
  const ct = mediaType(contentType);
  const statusText = STATUS_CODES[status] ?? 'Error';
  const t = text ?? '';
  const first = firstNonSpace(t);
  if (first === '{' || (ct !== undefined && /[/+]json$/.test(ct))) {
    let parsed: unknown;
    try {
      parsed = parseJson(t);
    } catch {
      parsed = undefined;
    }
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return { ...problemSummary(status, parsed as Record<string, unknown>), json: true, ...(ct ? { contentType: ct } : {}) };
  }
  const page = pageSummary(t);
  if (page.title === '' && page.text === '') return { title: statusText, body: undefined, json: false, ...(ct ? { contentType: ct } : {}) };
  return {
    title: page.title || page.text || statusText,
    body: { contentType: ct ?? '', text: page.text },
    json: false,
    ...(ct ? { contentType: ct } : {}),
  };
}

/** X's problem object: top-level `title`/`detail`/`type`, or the first of `errors[]`. */
export function problemSummary(status: number, p: Record<string, unknown>): { title: string; detail?: string; type?: string; body: unknown } {
  const firstError = Array.isArray(p.errors) && p.errors[0] && typeof p.errors[0] === 'object' ? (p.errors[0] as Record<string, unknown>) : undefined;
  const title = oneLine(str(p.title) ?? str(firstError?.title) ?? str(firstError?.message) ?? STATUS_CODES[status] ?? 'Error', MAX_PROBLEM_TEXT);
  const rawDetail = str(p.detail) ?? str(firstError?.detail) ?? (firstError && str(firstError.message) !== title ? str(firstError.message) : undefined);
  const detail = rawDetail === undefined ? undefined : oneLine(rawDetail, MAX_PROBLEM_TEXT);
  const type = str(p.type) ?? str(firstError?.type);
  return { title, ...(detail !== undefined ? { detail } : {}), ...(type ? { type } : {}), body: p };
}

function pageSummary(text: string): { title: string; text: string } {
  // Only the head of a huge page matters.
  const head = text.length > 65_536 ? text.slice(0, 65_536) : text;
  const titleMatch = /<title[^>]*>([\s\S]*?)<\/title\s*>/i.exec(head) ?? /<h[1-6][^>]*>([\s\S]*?)<\/h[1-6]\s*>/i.exec(head);
  const title = titleMatch ? plain(titleMatch[1]) : '';
  const body = plain(
    head
      .replace(/<head[\s>][\s\S]*?<\/head\s*>/gi, ' ')
      .replace(/<(script|style)[\s>][\s\S]*?<\/\1\s*>/gi, ' ')
      .replace(/<!--[\s\S]*?-->/g, ' '),
  );
  return { title, text: body };
}

/** Tags stripped, a few entities decoded (never to '<' or '>'), whitespace collapsed, capped. */
function plain(html: string): string {
  const s = html
    .replace(/<[^>]*>/g, ' ')
    .replace(/<[^>]*$/, ' ') // a tag cut off at the end
    .replace(/[<>]/g, ' ')
    .replace(/&nbsp;/gi, ' ')
    .replace(/&amp;/gi, '&')
    .replace(/&quot;/gi, '"')
    .replace(/&#39;|&apos;/gi, "'")
    .replace(/&#(\d{1,6});/g, (m, d: string) => {
      const code = Number(d);
      return code > 31 && code !== 60 && code !== 62 && code <= 0x10ffff ? String.fromCodePoint(code) : ' ';
    });
  return oneLine(s, SUMMARY_CHARS);
}

function oneLine(s: string, max: number): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1).trimEnd()}…` : t;
}

function mediaType(v: string | string[] | undefined): string | undefined {
  const raw = Array.isArray(v) ? v[0] : v;
  if (!raw) return undefined;
  const t = raw.split(';')[0].trim().toLowerCase();
  return t === '' ? undefined : t;
}

function firstNonSpace(s: string): string {
  for (let i = 0; i < s.length && i < 1024; i++) {
    const c = s[i];
    if (c !== ' ' && c !== '\t' && c !== '\r' && c !== '\n' && c !== '\ufeff') return c;
  }
  return '';
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}
