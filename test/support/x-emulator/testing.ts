// Helpers shared by the emulator's own tests: one emulator per test, waiting, and a plain HTTP
// client (agent-less, so every request is its own connection) that reads an answer whole.
import * as http from 'node:http';
import { startXEmulator, type XEmulator, type XEmulatorOptions } from './index';

export async function withEmulator(opts: XEmulatorOptions, fn: (emu: XEmulator) => Promise<void>): Promise<void> {
  const emu = await startXEmulator(opts);
  try {
    await fn(emu);
  } finally {
    await emu.stop();
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function until<T>(what: string, fn: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The answer as JSON (undefined when it is not, or for a stream). */
  body: any;
  text: string;
}

/**
 * One request with the emulator's bearer token (or `token`; null: none). A 200 stream is read
 * until `untilText` matches (or only its head without it), then closed.
 */
export function request(
  emu: XEmulator,
  method: string,
  urlPath: string,
  opts: { token?: string | null; body?: unknown; headers?: Record<string, string>; untilText?: RegExp } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...opts.headers };
    const token = opts.token === undefined ? emu.bearerToken : opts.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    const payload = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    if (payload !== undefined) headers['content-type'] ??= 'application/json';
    const req = http.request(`${emu.url}${urlPath}`, { method, headers, agent: false }, (res) => {
      const isStream = res.statusCode === 200 && /\/stream$/.test(urlPath.split('?')[0]) && /json/.test(String(res.headers['content-type']));
      const parts: Buffer[] = [];
      let settled = false;
      const done = (): void => {
        if (settled) return;
        settled = true;
        const text = Buffer.concat(parts).toString('utf8');
        let body: unknown;
        try {
          body = text && !isStream ? JSON.parse(text) : undefined;
        } catch {
          body = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text });
      };
      if (isStream && !opts.untilText) {
        res.destroy();
        return done();
      }
      res.on('data', (c: Buffer) => {
        parts.push(c);
        if (isStream && opts.untilText?.test(Buffer.concat(parts).toString('utf8'))) {
          res.destroy();
          done();
        }
      });
      res.on('end', done);
      res.on('error', () => undefined);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** GET with the emulator's bearer token (or `token`; null: none). */
export const get = (emu: XEmulator, urlPath: string, token: string | null = emu.bearerToken): Promise<HttpResult> => request(emu, 'GET', urlPath, { token });
