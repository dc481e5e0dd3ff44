// Toxiproxy (a TCP proxy that injects faults) for the benchmarks: network delay on loopback
// without `tc netem`, which these kernels lack. The server is built once with `go install`
// (Go module proxy) into the cache, started on a free port, driven through its HTTP API
// (https://github.com/Shopify/toxiproxy#http-api) and stopped.
//
//   const tp = await startToxiproxy();
//   const p = await tp.createProxy('broker-1', '127.0.0.1:9093');   // listens on a free port
//   await tp.setLatency(p.name, 1);                                  // +1 ms each way
//   await tp.stop();
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { cacheDir } from '../../test/support/kafka';
import { trackChild } from '../../test/support/kafka/cleanup';
import { freePorts } from '../../test/support/kafka/ports';

const execFileP = promisify(execFile);

/** Pinned: the newest version the Go module proxy serves for this module path. */
export const TOXIPROXY_VERSION = 'v2.5.0';
const MODULE = 'github.com/Shopify/toxiproxy/v2/cmd/server';

export interface ToxiproxyProxy {
  name: string;
  /** 'host:port' the proxy listens on: what clients connect to */
  listen: string;
  /** 'host:port' it forwards to */
  upstream: string;
}

/** Bytes a proxy moved since the server started (its -proxy-metrics counters). */
export interface ProxyBytes {
  /** client → server */
  upstream: number;
  /** server → client */
  downstream: number;
}

export interface Toxiproxy {
  /** 'http://127.0.0.1:port' of the API */
  api: string;
  /** the server's pid, for its CPU time */
  pid: number;
  version: string;
  createProxy(name: string, upstream: string): Promise<ToxiproxyProxy>;
  /** Sets the `latency` toxic of both directions of a proxy to `ms` (0: no delay). */
  setLatency(proxy: string, ms: number): Promise<void>;
  /** Bytes each proxy forwarded, by proxy name. */
  bytes(): Promise<Record<string, ProxyBytes>>;
  stop(): Promise<void>;
}

/**
 * The toxiproxy-server binary: $STREAMSAFE_TOXIPROXY if set, else built once into
 * <cache>/toxiproxy/<version>/ (reused while it is there).
 */
export async function toxiproxyBinary(log: (text: string) => void = () => {}): Promise<string> {
  if (process.env.STREAMSAFE_TOXIPROXY) return process.env.STREAMSAFE_TOXIPROXY;
  const dir = path.join(cacheDir(), 'toxiproxy', TOXIPROXY_VERSION);
  const bin = path.join(dir, 'toxiproxy-server');
  if (fs.existsSync(bin)) return bin;
  // go install names the binary after the package directory ("server"); build into a
  // private dir and rename, so a concurrent or interrupted build never leaves half a file.
  const tmp = `${dir}.${process.pid}.tmp`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  log(`building toxiproxy-server ${TOXIPROXY_VERSION} with go install into ${dir}`);
  try {
    await execFileP('go', ['install', `${MODULE}@${TOXIPROXY_VERSION}`], {
      env: { ...process.env, GOBIN: tmp, CGO_ENABLED: '0' },
      timeout: 600_000,
      maxBuffer: 16 << 20,
    });
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT') throw new Error('toxiproxy: `go` is not on PATH (needed once to build toxiproxy-server; or set STREAMSAFE_TOXIPROXY to a binary)');
    throw new Error(`toxiproxy: go install ${MODULE}@${TOXIPROXY_VERSION} failed: ${(err.stderr ?? err.message).trim().split('\n').slice(-5).join('\n')}`);
  }
  fs.mkdirSync(dir, { recursive: true });
  fs.renameSync(path.join(tmp, 'server'), bin);
  fs.rmSync(tmp, { recursive: true, force: true });
  return bin;
}

async function request<T>(api: string, method: string, route: string, body?: object): Promise<T> {
  const res = await fetch(`${api}${route}`, {
    method,
    headers: body ? { 'content-type': 'application/json' } : undefined,
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`toxiproxy ${method} ${route}: HTTP ${res.status} ${text.trim()}`);
  return (res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text) as T;
}

/** Sums toxiproxy_proxy_{sent}_bytes_total by proxy and direction from the Prometheus text. */
function parseBytes(metrics: string): Record<string, ProxyBytes> {
  const out: Record<string, ProxyBytes> = {};
  // What left the proxy in each direction: the bytes that crossed the delay.
  const re = /^toxiproxy_proxy_sent_bytes_total\{([^}]*)\}\s+(\S+)$/gm;
  for (let m; (m = re.exec(metrics)); ) {
    const labels = Object.fromEntries([...m[1].matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    const p = (out[labels.proxy] ??= { upstream: 0, downstream: 0 });
    if (labels.direction === 'upstream' || labels.direction === 'downstream') p[labels.direction] += Number(m[2]);
  }
  return out;
}

/**
 * Kills `pid` once this process is gone, even after a SIGKILL that skips every exit hook
 * (the brokers have StreamsafeLauncher for that; a Go binary has nothing of the kind).
 */
function watchdog(pid: number): void {
  const sh = spawn('sh', ['-c', 'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done; kill "$2" 2>/dev/null', 'toxiproxy-watchdog', String(process.pid), String(pid)], {
    detached: true,
    stdio: 'ignore',
  });
  sh.unref();
}

/** Starts toxiproxy-server on a free 127.0.0.1 port; resolves once its API answers. */
export async function startToxiproxy(opts: { logFile?: string; log?: (text: string) => void } = {}): Promise<Toxiproxy> {
  const bin = await toxiproxyBinary(opts.log);
  // A port taken between picking and binding makes the server exit: pick another.
  for (let attempt = 1; ; attempt++) {
    const [port] = await freePorts(1);
    const api = `http://127.0.0.1:${port}`;
    const out = opts.logFile ? fs.openSync(opts.logFile, 'a') : 'ignore';
    let child: ChildProcess;
    try {
      // LOG_LEVEL=warn: at info it logs every client connection.
      child = spawn(bin, ['-host', '127.0.0.1', '-port', String(port), '-proxy-metrics'], {
        stdio: ['ignore', out, out],
        env: { ...process.env, LOG_LEVEL: process.env.TOXIPROXY_LOG_LEVEL ?? 'warn' },
      });
    } finally {
      if (typeof out === 'number') fs.closeSync(out);
    }
    trackChild(child);
    const exited = new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    });
    if (child.pid) watchdog(child.pid);
    const running = () => child.exitCode === null && child.signalCode === null;
    const deadline = Date.now() + 15_000;
    let version: string | undefined;
    while (running() && Date.now() < deadline) {
      try {
        version = String(await request<string>(api, 'GET', '/version')).trim();
        break;
      } catch {
        await sleep(100);
      }
    }
    if (version === undefined) {
      child.kill('SIGKILL');
      await exited;
      if (attempt < 3) continue;
      throw new Error(`toxiproxy-server did not answer on ${api} (see ${opts.logFile ?? 'its log'})`);
    }
    const stop = async () => {
      if (!running()) return;
      child.kill('SIGTERM'); // it exits at once on SIGTERM
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    };
    return {
      api,
      pid: child.pid!,
      // A `go install` build reports "git": name the version it was built from.
      version: version === 'git' || !version ? TOXIPROXY_VERSION : version,
      async createProxy(name, upstream) {
        // Port 0: toxiproxy binds a free port and answers with it.
        const p = await request<ToxiproxyProxy>(api, 'POST', '/proxies', { name, listen: '127.0.0.1:0', upstream, enabled: true });
        return { name: p.name, listen: p.listen, upstream: p.upstream };
      },
      async setLatency(proxy, ms) {
        if (!Number.isInteger(ms) || ms < 0) throw new Error(`toxiproxy latency must be whole milliseconds >= 0, got ${ms}`);
        const existing = await request<Array<{ name: string }>>(api, 'GET', `/proxies/${encodeURIComponent(proxy)}/toxics`);
        for (const stream of ['upstream', 'downstream'] as const) {
          const name = `latency_${stream}`;
          const route = `/proxies/${encodeURIComponent(proxy)}/toxics`;
          const has = existing.some((t) => t.name === name);
          if (ms === 0) {
            if (has) await request(api, 'DELETE', `${route}/${name}`);
          } else if (has) {
            await request(api, 'POST', `${route}/${name}`, { attributes: { latency: ms, jitter: 0 } });
          } else {
            await request(api, 'POST', route, { name, type: 'latency', stream, toxicity: 1, attributes: { latency: ms, jitter: 0 } });
          }
        }
      },
      async bytes() {
        return parseBytes(await request<string>(api, 'GET', '/metrics'));
      },
      stop,
    };
  }
}
