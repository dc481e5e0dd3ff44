// The owned stream client, against the X emulator and a small gzip server: framing over real
// HTTP, backfill only on reconnects, connect timeout, pause without a false stall, close.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as zlib from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { startXEmulator, type XEmulator } from '../support/x-emulator';
import { ReconnectPolicy } from '../../src/lib/x/reconnect-policy';
import { StreamClient, type StreamHandlers, type StreamPost } from '../../src/lib/x/stream-client';
import { BearerSource, XClient } from '../../src/lib/x/x-client';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(fn: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

function recorder() {
  const r = { posts: [] as StreamPost[], events: [] as string[], keepAlives: 0, malformed: 0 };
  const handlers: StreamHandlers = {
    post: (p) => void r.posts.push(p),
    keepAlive: () => void r.keepAlives++,
    malformed: () => void r.malformed++,
    connecting: (n) => void r.events.push(`connecting ${n}`),
    connected: () => void r.events.push('connected'),
    disconnected: (why) => void r.events.push(`disconnected ${why}`),
    retrying: (e, d) => void r.events.push(`retrying ${d.kind} ${d.delayMs}`),
    fatal: (e) => void r.events.push(`fatal ${e.status}`),
    notice: (_e, d) => void r.events.push(`notice ${d}`),
  };
  return { r, handlers };
}

describe('StreamClient against the X emulator', () => {
  let emu: XEmulator;
  let client: XClient;
  before(async () => {
    emu = await startXEmulator({ postsPerSecond: 300, keepAliveMs: 100, rateLimits: false, maxConnectionsPerToken: 5 });
    client = new XClient({ baseUrl: emu.url, bearer: new BearerSource(emu.url, { bearerToken: emu.bearerToken }) });
  });
  after(async () => {
    client.close();
    await emu.stop();
  });

  it('asks for backfill_minutes on reconnects only, and reads keep-alives', async () => {
    const { r, handlers } = recorder();
    const s = new StreamClient({ requester: client, endpoint: 'sample', params: { 'tweet.fields': 'author_id' }, backfillMinutes: 2, handlers, policy: new ReconnectPolicy({ minReconnectIntervalMs: 100 }) });
    const first = emu.nextConnection();
    s.start();
    const c1 = await first;
    assert.equal(c1.params.backfill_minutes, undefined);
    await sleep(300);
    const second = emu.nextConnection();
    emu.faults.drop({ connectionId: c1.id });
    const c2 = await second;
    assert.equal(c2.params.backfill_minutes, '2');
    assert.equal(c2.params['tweet.fields'], 'author_id');
    await s.close();
    assert.ok(r.keepAlives >= 1 || r.posts.length > 0);
    assert.deepEqual(r.events.slice(0, 4), ['connecting 1', 'connected', `disconnected the stream connection was cut`, 'retrying dropped 0']);
  });

  it('an unanswered connect is a network error after connectTimeoutMs, retried linearly', async () => {
    const { r, handlers } = recorder();
    emu.faults.hang({ count: 2 });
    const s = new StreamClient({ requester: client, endpoint: 'sample', params: {}, connectTimeoutMs: 200, handlers, policy: new ReconnectPolicy({ networkStepMs: 50 }) });
    s.start();
    await until(() => r.events.includes('connected'), 5000, 'connected');
    await s.close();
    assert.deepEqual(r.events.filter((e) => e.startsWith('retrying')), ['retrying network 50', 'retrying network 100']);
  });

  it('pausing holds the stream back without a false stall; resuming reads on', async () => {
    const { r, handlers } = recorder();
    const s = new StreamClient({ requester: client, endpoint: 'sample', params: {}, stallTimeoutMs: 200, handlers });
    s.start();
    await until(() => r.posts.length > 10, 5000, 'posts');
    s.pause();
    await sleep(50);
    const held = r.posts.length;
    await sleep(600);
    assert.ok(r.posts.length - held < 200, 'paused: few posts (only what was already read)');
    assert.ok(!r.events.some((e) => e.startsWith('disconnected')), r.events.join());
    s.resume();
    await until(() => r.posts.length > held + 200, 5000, 'posts after resume');
    await s.close();
  });

  it('close() ends the connection before it resolves and nothing reconnects', async () => {
    const { r, handlers } = recorder();
    const s = new StreamClient({ requester: client, endpoint: 'sample', params: {}, handlers, policy: new ReconnectPolicy({ minReconnectIntervalMs: 0 }) });
    const next = emu.nextConnection();
    s.start();
    const c = await next;
    await until(() => r.posts.length > 0, 5000, 'posts');
    await s.close();
    await emu.waitFor(() => !emu.connections().find((x) => x.id === c.id)!.active, 1000, 'server sees the close');
    const attempts = emu.stats().connectAttempts;
    await sleep(300);
    assert.equal(emu.stats().connectAttempts, attempts);
    assert.ok(!r.events.some((e) => e.startsWith('retrying')), r.events.join());
  });
});

describe('StreamClient with a gzip stream', () => {
  let server: http.Server;
  let url: string;
  const post = (id: number) => `${JSON.stringify({ data: { id: String(id), text: `post ${id} ✓` } })}\r\n`;
  before(async () => {
    server = http.createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      const gz = zlib.createGzip();
      gz.pipe(res);
      let i = 0;
      const timer = setInterval(() => {
        gz.write(i % 3 === 0 ? '\r\n' : post(i));
        gz.flush(zlib.constants.Z_SYNC_FLUSH);
        if (++i === 30) {
          clearInterval(timer);
          gz.end();
        }
      }, 2);
      req.on('close', () => clearInterval(timer));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('inflates gzip and frames the result; X ending the stream is a drop', async () => {
    const client = new XClient({ baseUrl: url, bearer: new BearerSource(url, { bearerToken: 't' }) });
    const { r, handlers } = recorder();
    const s = new StreamClient({ requester: client, endpoint: 'sample', params: {}, handlers, policy: new ReconnectPolicy({ minReconnectIntervalMs: 60_000 }) });
    s.start();
    await until(() => r.events.some((e) => e.startsWith('retrying')), 5000, 'end of stream');
    await s.close();
    client.close();
    assert.deepEqual(r.posts.map((p) => p.data.id), Array.from({ length: 30 }, (_, i) => i).filter((i) => i % 3 !== 0).map(String));
    assert.equal(r.keepAlives, 10);
    assert.equal(r.posts[1].data.text, 'post 2 ✓');
    assert.ok(r.events.includes('disconnected X ended the stream'), r.events.join());
  });
});

describe('StreamClient against answers that are not a stream', () => {
  let server: http.Server;
  let url: string;
  /** What the next requests get, in order; then a healthy stream. */
  let script: Array<(res: http.ServerResponse) => void> = [];
  let requests = 0;
  const stream = (res: http.ServerResponse) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    // A BOM before the first record; then a keep-alive; then held open.
    res.write(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`${JSON.stringify({ data: { id: '7', text: 'bom' } })}\r\n\r\n`)]));
  };
  before(async () => {
    server = http.createServer((_req, res) => {
      requests++;
      (script.shift() ?? stream)(res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const proxyPage = (res: http.ServerResponse) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<html><head><title>Captive portal</title></head><body>sign in</body></html>');
  };
  const jsonThenClose = (res: http.ServerResponse) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end();
  };

  it('a 200 proxy page or a 200 that closes at once backs off as an error, and backoffs start over only once X speaks', async () => {
    script = [proxyPage, jsonThenClose, proxyPage];
    requests = 0;
    const client = new XClient({ baseUrl: url, bearer: new BearerSource(url, { bearerToken: 't' }) });
    const { r, handlers } = recorder();
    const policy = new ReconnectPolicy({ httpInitialMs: 20, minReconnectIntervalMs: 0 });
    const s = new StreamClient({ requester: client, endpoint: 'filtered', params: {}, handlers, policy });
    s.start();
    await until(() => r.posts.length === 1, 5000, 'the post after the BOM');
    await s.close();
    client.close();
    assert.deepEqual(r.events.filter((e) => e.startsWith('retrying')), ['retrying http 20', 'retrying http 40', 'retrying http 80']);
    assert.equal(r.posts[0].data.text, 'bom', 'a BOM before a record is not a malformed line');
    assert.equal(r.malformed, 0);
    assert.equal(policy.count('http'), 0, 'the real stream started the backoff over');
    assert.equal(requests, 4);
  });

  it('a 400 is retried maxClientErrorRetries times, then stops; a 404 stops at once', async () => {
    const bad = (status: number) => (res: http.ServerResponse) => {
      res.writeHead(status, { 'content-type': 'application/problem+json' });
      res.end(JSON.stringify({ title: 'Invalid Request', detail: 'nope', type: 'https://api.x.com/2/problems/invalid-request' }));
    };
    script = [bad(400), bad(400), bad(400), bad(400), bad(400)];
    const client = new XClient({ baseUrl: url, bearer: new BearerSource(url, { bearerToken: 't' }) });
    const { r, handlers } = recorder();
    const s = new StreamClient({ requester: client, endpoint: 'filtered', params: {}, handlers, policy: new ReconnectPolicy({ httpInitialMs: 10, maxClientErrorRetries: 3 }) });
    s.start();
    await until(() => r.events.some((e) => e.startsWith('fatal')), 5000, 'stopped');
    assert.deepEqual(r.events.filter((e) => /^(retrying|fatal)/.test(e)), ['retrying clientError 10', 'retrying clientError 20', 'retrying clientError 40', 'fatal 400']);
    await s.close();

    script = [bad(404)];
    const two = recorder();
    const s2 = new StreamClient({ requester: client, endpoint: 'filtered', params: {}, handlers: two.handlers });
    s2.start();
    await until(() => two.r.events.some((e) => e.startsWith('fatal')), 5000, 'stopped');
    assert.deepEqual(two.r.events.filter((e) => /^(retrying|fatal)/.test(e)), ['fatal 404']);
    await s2.close();
    client.close();
    script = [];
  });
});
