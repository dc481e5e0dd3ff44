// The X client's own HTTP (no twitter-api-v2): REST against the X emulator (rules, recent
// search, the bearer-token exchange), and against a tiny local server for what the emulator
// does not do: gzip, a silent server (bounded timeout), a proxy's HTML 503, a bare 19-digit id,
// odd x-rate-limit-reset values. Plus the pure parts: parseJson, parseRateLimitReset,
// summariseErrorBody, retry classes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as zlib from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { startXEmulator, type XEmulator } from '../support/x-emulator';
import { BearerSource, XApiError, XClient, XNetworkError, retryClassOf, type XRetryClass } from '../../src/lib/x/x-client';
import { parseJson, quoteBareIds } from '../../src/lib/x/json-ids';
import { MAX_RATE_LIMIT_WINDOW_MS, parseRateLimitReset } from '../../src/lib/x/rate-limit-reset';
import { summariseErrorBody } from '../../src/lib/x/x-http';
import { MAX_TIMER_DELAY_MS } from '../../src/lib/common/timers';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

/** A local HTTP server whose answer each test sets; records the requests it saw. */
async function localServer(): Promise<{ url: string; handle(h: Handler): void; seen: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string; port: number }[]; close(): Promise<void> }> {
  let handler: Handler = (_req, res) => res.end('{}');
  const seen: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string; port: number }[] = [];
  const sockets = new Set<import('node:net').Socket>();
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = Buffer.concat(parts).toString('utf8');
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body, port: req.socket.remotePort! });
      handler(req, res, body);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    handle: (h) => void (handler = h),
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('XClient REST against the X emulator', () => {
  let emu: XEmulator;
  let client: XClient;
  before(async () => {
    emu = await startXEmulator({ postsPerSecond: 0, rateLimits: false, historyPosts: 300 });
    client = new XClient({ baseUrl: emu.url, bearer: new BearerSource(emu.url, { bearerToken: emu.bearerToken }) });
  });
  after(async () => {
    client.close();
    await emu.stop();
  });

  it('POSTs and GETs rules; rate-limit headers come back', async () => {
    emu.deleteAllRules();
    const add = await client.post('/2/tweets/search/stream/rules', { add: [{ value: 'kafka', tag: 'k' }, { value: 'node-red' }] }, {}, 'rules add');
    assert.equal(add.data.meta.summary.created, 2);
    assert.equal(typeof add.data.data[0].id, 'string');
    const list = await client.get('/2/tweets/search/stream/rules', { ids: undefined, max_results: 1000 });
    assert.deepEqual(list.data.data.map((r: { value: string }) => r.value).sort(), ['kafka', 'node-red']);
    assert.ok(list.headers['x-rate-limit-limit'] !== undefined);
    const dry = await client.post('/2/tweets/search/stream/rules', { add: [{ value: 'dry' }] }, { dry_run: 'true' });
    assert.equal(dry.data.meta.summary.created, 1);
    assert.equal(emu.rules().length, 2, 'dry_run changed nothing');
    const del = await client.post('/2/tweets/search/stream/rules', { delete: { ids: add.data.data.map((r: { id: string }) => r.id) } });
    assert.equal(del.data.meta.summary.deleted, 2);
    const requests = emu.requests();
    assert.ok(requests.length >= 4);
  });

  it('recent search with a query and paging parameters', async () => {
    const res = await client.get('/2/tweets/search/recent', { query: 'the OR a OR lang:ja', max_results: 10, 'tweet.fields': 'author_id' }, 'recent search');
    assert.equal(res.data.data.length, 10);
    assert.ok(res.data.meta.next_token);
    const next = await client.get('/2/tweets/search/recent', { query: 'the OR a OR lang:ja', max_results: 10, next_token: res.data.meta.next_token });
    assert.ok(BigInt(next.data.data[0].id) < BigInt(res.data.data[9].id));
  });

  it('an invalid rule is an XApiError 400 with X\'s problem, class clientError', async () => {
    await assert.rejects(client.post('/2/tweets/search/stream/rules', { add: [{ value: '(unbalanced' }] }, {}, 'rules add'), (e: unknown) => {
      assert.ok(e instanceof XApiError);
      assert.equal(e.status, 400);
      assert.equal(e.retryClass, 'clientError');
      assert.equal(e.fatal, false);
      assert.match(e.message, /^X rules add failed: HTTP 400 /);
      assert.ok(!e.message.includes('\n'));
      return true;
    });
  });

  it('exchanges an API key + secret for the bearer token (once); wrong keys: 403 fatal', async () => {
    const key = emu.apiKeys[0];
    const source = new BearerSource(emu.url, { apiKey: key.key, apiSecret: key.secret });
    const before = emu.requests('token').length;
    const [a, b] = await Promise.all([source.token(), source.token()]);
    assert.equal(a, key.bearerToken);
    assert.equal(b, a);
    assert.equal(emu.requests('token').length - before, 1);
    const withKeys = new XClient({ baseUrl: emu.url, bearer: source });
    try {
      const res = await withKeys.get('/2/tweets/search/stream/rules');
      assert.ok(res.data.meta);
    } finally {
      withKeys.close();
    }
    const wrong = new BearerSource(emu.url, { apiKey: key.key, apiSecret: 'wrong' });
    await assert.rejects(wrong.token(), (e: unknown) => e instanceof XApiError && e.status === 403 && e.fatal && e.retryClass === 'fatal' && /token exchange/.test(e.message));
  });

  it('a bad bearer token: XApiError 401, fatal', async () => {
    const bad = new XClient({ baseUrl: emu.url, bearer: new BearerSource(emu.url, { bearerToken: 'nope' }) });
    try {
      await assert.rejects(bad.get('/2/tweets/search/stream/rules'), (e: unknown) => e instanceof XApiError && e.status === 401 && e.fatal && e.title === 'Unauthorized');
    } finally {
      bad.close();
    }
  });

  it('a closed client refuses', async () => {
    const c = new XClient({ baseUrl: emu.url, bearer: new BearerSource(emu.url, { bearerToken: emu.bearerToken }) });
    c.close();
    await assert.rejects(c.get('/2/tweets/search/stream/rules'), XNetworkError);
  });
});

describe('XClient REST against a local server', () => {
  let srv: Awaited<ReturnType<typeof localServer>>;
  before(async () => {
    srv = await localServer();
  });
  after(async () => {
    await srv.close();
  });
  const clientFor = (o: { timeoutMs?: number; now?: () => number } = {}) => new XClient({ baseUrl: srv.url, bearer: new BearerSource(srv.url, { bearerToken: 'T' }), ...o });

  it('sends the bearer token, User-Agent, accept-encoding gzip; JSON POST body; undoes gzip', async () => {
    const payload = { data: [{ id: '1', value: 'x'.repeat(5000) }], meta: { result_count: 1 } };
    srv.handle((req, res) => {
      const gz = zlib.gzipSync(JSON.stringify(payload));
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': gz.length });
      res.end(gz);
    });
    const c = clientFor();
    try {
      const got = await c.post('/2/x', { add: [{ value: 'a' }] }, { dry_run: 'true' });
      assert.deepEqual(got.data, payload);
      const seen = srv.seen.at(-1)!;
      assert.equal(seen.method, 'POST');
      assert.equal(seen.url, '/2/x?dry_run=true');
      assert.equal(seen.headers.authorization, 'Bearer T');
      assert.equal(seen.headers['user-agent'], 'streamsafe-node-red-twitter-kafka');
      assert.match(String(seen.headers['accept-encoding']), /gzip/);
      assert.equal(seen.headers['content-type'], 'application/json');
      assert.deepEqual(JSON.parse(seen.body), { add: [{ value: 'a' }] });
      // Keep-alive: a second request goes over the same socket.
      const g = await c.get('/2/y', { a: 1, b: undefined, c: '' });
      assert.deepEqual(g.data, payload);
      assert.equal(srv.seen.at(-1)!.url, '/2/y?a=1');
      assert.equal(srv.seen.at(-1)!.port, seen.port, 'the same socket');
    } finally {
      c.close();
    }
  });

  it('a server that never answers: XNetworkError ETIMEDOUT after the timeout; one that stalls mid-body too', async () => {
    srv.handle(() => undefined); // never answers
    const c = clientFor({ timeoutMs: 150 });
    try {
      const t0 = Date.now();
      await assert.rejects(c.get('/2/slow', {}, 'rules lookup'), (e: unknown) => e instanceof XNetworkError && e.code === 'ETIMEDOUT' && /^X rules lookup failed: no answer in 150 ms/.test(e.message));
      const took = Date.now() - t0;
      assert.ok(took >= 140 && took < 2000, `took ${took} ms`);
      srv.handle((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"data":'); // then silence
      });
      await assert.rejects(c.get('/2/stall'), (e: unknown) => e instanceof XNetworkError && e.code === 'ETIMEDOUT' && /stalled/.test(e.message));
    } finally {
      c.close();
    }
  });

  it('an absurd timeout is bounded (no 1 ms timer from Node\'s overflow)', async () => {
    srv.handle((_req, res) => setTimeout(() => res.end('{"ok":true}'), 50));
    const c = clientFor({ timeoutMs: 40 * 24 * 3600 * 1000 }); // 40 days > 2^31-1 ms
    try {
      const got = await c.get('/2/ok');
      assert.deepEqual(got.data, { ok: true });
    } finally {
      c.close();
    }
    assert.ok(MAX_TIMER_DELAY_MS < 40 * 24 * 3600 * 1000);
  });

  it('a proxy\'s HTML 503 is summarised: one short line, no markup, class server', async () => {
    const page = `<!DOCTYPE html>\n<html><head><title>503 Service Temporarily Unavailable</title><style>body{color:red}</style></head>\n<body>\n<center><h1>503 Service Temporarily Unavailable</h1></center>\n<hr><center>nginx</center>\n${'<p>padding</p>'.repeat(500)}</body></html>`;
    srv.handle((_req, res) => {
      res.writeHead(503, { 'content-type': 'text/html; charset=utf-8' });
      res.end(page);
    });
    const c = clientFor();
    try {
      await assert.rejects(c.get('/2/tweets/search/stream/rules', {}, 'rules lookup'), (e: unknown) => {
        assert.ok(e instanceof XApiError);
        assert.equal(e.message, 'X rules lookup failed: HTTP 503 Service Unavailable: 503 Service Temporarily Unavailable (text/html)');
        assert.ok(!e.message.includes('<'));
        assert.ok(e.message.length < 160, e.message);
        assert.equal(e.title, '503 Service Temporarily Unavailable');
        assert.equal(e.contentType, 'text/html');
        assert.equal(e.retryClass, 'server');
        assert.ok(JSON.stringify(e.body).length < 300, 'the page is not kept');
        assert.ok(!JSON.stringify(e.body).includes('<'));
        return true;
      });
    } finally {
      c.close();
    }
  });

  it('a JSON problem is parsed: title, detail, type; 429 with reset in seconds → retryNotBeforeMs', async () => {
    const now = 1_760_000_000_000;
    srv.handle((_req, res) => {
      res.writeHead(429, { 'content-type': 'application/problem+json', 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': String(now / 1000 + 300) });
      res.end(JSON.stringify({ title: 'Too Many Requests', detail: 'Too Many Requests', type: 'about:blank', status: 429 }));
    });
    const c = clientFor({ now: () => now });
    try {
      await assert.rejects(c.get('/2/tweets/search/recent', { query: 'x' }, 'recent search'), (e: unknown) => {
        assert.ok(e instanceof XApiError);
        assert.equal(e.message, 'X recent search failed: HTTP 429 Too Many Requests');
        assert.equal(e.problemType, 'about:blank');
        assert.equal(e.rateLimitRemaining, 0);
        assert.equal(e.rateLimitResetMs, now + 300_000);
        assert.equal(e.retryNotBeforeMs, now + 300_000);
        assert.equal(e.retryClass, 'rateLimited');
        assert.equal(e.usageCapped, false);
        return true;
      });
      // usage-capped with requests left in the window: still no retry before the reset.
      srv.handle((_req, res) => {
        res.writeHead(429, { 'content-type': 'application/json', 'x-rate-limit-remaining': '299', 'x-rate-limit-reset': String(now / 1000 + 600) });
        res.end(JSON.stringify({ title: 'UsageCapExceeded', detail: 'Usage cap exceeded: Monthly product cap', type: 'https://api.x.com/2/problems/usage-capped', period: 'Monthly', scope: 'Product' }));
      });
      await assert.rejects(c.get('/2/tweets/search/recent', { query: 'x' }), (e: unknown) => {
        assert.ok(e instanceof XApiError);
        assert.equal(e.usageCapped, true);
        assert.equal(e.retryNotBeforeMs, now + 600_000);
        assert.equal(e.detail, 'Usage cap exceeded: Monthly product cap');
        assert.match(e.message, /HTTP 429 UsageCapExceeded: Usage cap exceeded: Monthly product cap$/);
        return true;
      });
      // TooManyConnections (remaining > 0, not usage-capped): no floor.
      srv.handle((_req, res) => {
        res.writeHead(429, { 'content-type': 'application/json', 'x-rate-limit-remaining': '49', 'x-rate-limit-reset': String(now / 1000 + 600) });
        res.end(JSON.stringify({ title: 'ConnectionException', detail: 'This stream is currently at the maximum allowed connection limit.', connection_issue: 'TooManyConnections', type: 'https://api.twitter.com/2/problems/streaming-connection' }));
      });
      await assert.rejects(c.get('/2/x'), (e: unknown) => e instanceof XApiError && e.retryNotBeforeMs === undefined && e.connectionIssue === 'TooManyConnections');
      // X's v1-style errors[] array.
      srv.handle((_req, res) => {
        res.writeHead(403, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ code: 99, label: 'authenticity_token_error', message: 'Unable to verify your credentials' }] }));
      });
      await assert.rejects(c.get('/2/x', {}, 'token exchange'), (e: unknown) => e instanceof XApiError && e.message === 'X token exchange failed: HTTP 403 Unable to verify your credentials' && e.fatal);
    } finally {
      c.close();
    }
  });

  it('a 19-digit id sent as a bare JSON number stays exact', async () => {
    srv.handle((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"data":[{"id":1790123456789012345,"value":"kafka","author_id": 1234567890123456789}],"meta":{"sent":"x","result_count":1,"ids":[1790123456789012347, 17]}}');
    });
    const c = clientFor();
    try {
      const got = await c.get('/2/tweets/search/stream/rules');
      assert.equal(got.data.data[0].id, '1790123456789012345');
      assert.equal(got.data.data[0].author_id, '1234567890123456789');
      assert.deepEqual(got.data.meta.ids, ['1790123456789012347', 17]);
      assert.equal(got.data.meta.result_count, 1);
    } finally {
      c.close();
    }
  });

  it('a 200 that is not JSON (a captive portal) is an XNetworkError with a summary', async () => {
    srv.handle((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html><head><title>Log in to the Wi-Fi</title></head><body>…</body></html>');
    });
    const c = clientFor();
    try {
      await assert.rejects(c.get('/2/x', {}, 'rules lookup'), (e: unknown) => e instanceof XNetworkError && e.message === 'X rules lookup failed: HTTP 200 but the answer is not JSON: Log in to the Wi-Fi (text/html)');
    } finally {
      c.close();
    }
  });

  it('a token exchange sends Basic auth (URL-encoded key and secret) and a form body', async () => {
    srv.handle((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"token_type":"bearer","access_token":"AAAA%2FBBB"}');
    });
    const token = await new BearerSource(srv.url, { apiKey: 'key+1', apiSecret: 's/ecret' }).token();
    assert.equal(token, 'AAAA%2FBBB');
    const seen = srv.seen.at(-1)!;
    assert.equal(seen.method, 'POST');
    assert.equal(seen.url, '/oauth2/token');
    assert.equal(seen.headers.authorization, `Basic ${Buffer.from('key%2B1:s%2Fecret').toString('base64')}`);
    assert.match(String(seen.headers['content-type']), /^application\/x-www-form-urlencoded/);
    assert.equal(seen.body, 'grant_type=client_credentials');
    srv.handle((_req, res) => res.end('{"token_type":"bearer"}'));
    await assert.rejects(new BearerSource(srv.url, { apiKey: 'k', apiSecret: 's' }).token(), (e: unknown) => e instanceof XApiError && /no access_token/.test(e.message));
  });

  it('connection refused: XNetworkError with the code', async () => {
    const dead = await localServer();
    const url = dead.url;
    await dead.close();
    const c = new XClient({ baseUrl: url, bearer: new BearerSource(url, { bearerToken: 'T' }) });
    try {
      await assert.rejects(c.get('/2/x', {}, 'rules lookup'), (e: unknown) => e instanceof XNetworkError && e.code === 'ECONNREFUSED' && /^X rules lookup failed: /.test(e.message));
    } finally {
      c.close();
    }
  });
});

describe('parseJson', () => {
  it('quotes bare 16+-digit ids of id / *_id / ids / *_ids only, never inside strings', () => {
    const text = '{"id":1790123456789012345,"count":12345678901234567890,"text":"id:1790123456789012345, \\"id\\":1790123456789012345","in_reply_to_user_id":  1234567890123456789,"edit_history_tweet_ids":[1790123456789012345,1790123456789012346],"nested":{"ids":[[1]],"x":{"id":1790123456789012345.5}},"neg_id":-1790123456789012345,"small_id":123}';
    const v = parseJson(text);
    assert.equal(v.id, '1790123456789012345');
    assert.equal(typeof v.count, 'number', 'not an id field');
    assert.equal(v.text, 'id:1790123456789012345, "id":1790123456789012345');
    assert.equal(v.in_reply_to_user_id, '1234567890123456789');
    assert.deepEqual(v.edit_history_tweet_ids, ['1790123456789012345', '1790123456789012346']);
    assert.equal(typeof v.nested.x.id, 'number', 'not an integer');
    assert.equal(typeof v.neg_id, 'number');
    assert.equal(v.small_id, 123);
  });
  it('keys with escapes, arrays of objects, and plain bodies unchanged', () => {
    assert.equal(JSON.parse(quoteBareIds('{"\\u0069d":1790123456789012345}')).id, '1790123456789012345');
    assert.equal(parseJson('{"ids" : [ 1790123456789012345 ,1790123456789012346]}').ids[1], '1790123456789012346');
    assert.deepEqual(parseJson('[{"id":1790123456789012345},{"id":"1"}]'), [{ id: '1790123456789012345' }, { id: '1' }]);
    const plain = '{"data":{"id":"1790123456789012345","text":"hi"}}';
    assert.equal(quoteBareIds(plain), plain);
    assert.deepEqual(parseJson(plain), JSON.parse(plain));
    assert.throws(() => parseJson('{"id":1790123456789012345'), SyntaxError);
  });
});

describe('parseRateLimitReset', () => {
  const now = 1_760_000_000_000;
  it('seconds, milliseconds, past, 40 days ahead, garbage', () => {
    assert.deepEqual(parseRateLimitReset(String(now / 1000 + 900), now), { atMs: now + 900_000 });
    assert.deepEqual(parseRateLimitReset([String(now / 1000 + 60)], now), { atMs: now + 60_000 });
    const ms = parseRateLimitReset(String(now + 5000), now);
    assert.equal(ms.atMs, now + 5000);
    assert.match(ms.note!, /milliseconds/);
    const past = parseRateLimitReset(String(now / 1000 - 120), now);
    assert.equal(past.atMs, now);
    assert.match(past.note!, /120 s in the past/);
    const far = parseRateLimitReset(String(now / 1000 + 40 * 86400), now);
    assert.equal(far.atMs, now + MAX_RATE_LIMIT_WINDOW_MS);
    assert.match(far.note!, /40 days ahead; capped at 24 h/);
    // A daily window (23 h ahead) is honest: kept.
    assert.deepEqual(parseRateLimitReset(String(now / 1000 + 23 * 3600), now), { atMs: now + 23 * 3600_000 });
    for (const junk of ['soon', '', '-5', 'NaN', '1e9', '0']) assert.equal(parseRateLimitReset(junk, now).atMs, undefined, junk);
    assert.deepEqual(parseRateLimitReset(undefined, now), {});
  });
  it('XApiError uses it with its clock', () => {
    const e = new XApiError(429, { title: 'Too Many Requests' }, { 'x-rate-limit-reset': String(now / 1000 + 40 * 86400), 'x-rate-limit-remaining': '0' }, 'rules add', now);
    assert.equal(e.rateLimitResetMs, now + MAX_RATE_LIMIT_WINDOW_MS);
    assert.match(e.rateLimitResetNote!, /capped/);
    assert.equal(e.retryNotBeforeMs, now + MAX_RATE_LIMIT_WINDOW_MS);
    const junk = new XApiError(429, { title: 'Too Many Requests' }, { 'x-rate-limit-reset': 'soon' }, 'x', now);
    assert.equal(junk.rateLimitResetMs, undefined);
    assert.equal(junk.retryNotBeforeMs, undefined);
  });
});

describe('summariseErrorBody', () => {
  it('JSON problems, errors[], HTML without a title, plain text, empty', () => {
    const p = summariseErrorBody(401, 'application/problem+json', '{"title":"Unauthorized","type":"about:blank","status":401,"detail":"Unauthorized"}');
    assert.equal(p.title, 'Unauthorized');
    assert.equal(p.detail, 'Unauthorized');
    assert.equal(new XApiError(401, p, {}, 'rules lookup').message, 'X rules lookup failed: HTTP 401 Unauthorized', 'a detail that repeats the title is left out');
    assert.equal(p.type, 'about:blank');
    assert.equal(p.json, true);
    const e = summariseErrorBody(400, 'application/json', '{"errors":[{"title":"Invalid Request","detail":"bad rule","type":"https://api.x.com/2/problems/invalid-request"}]}');
    assert.deepEqual([e.title, e.detail, e.type], ['Invalid Request', 'bad rule', 'https://api.x.com/2/problems/invalid-request']);
    const h = summariseErrorBody(502, 'text/html', '<html><body><h2>Bad   Gateway</h2>\n<p>The upstream &amp; its friend &lt;x&gt; failed.</p></body></html>');
    assert.equal(h.title, 'Bad Gateway');
    assert.ok(!JSON.stringify(h.body).includes('<'));
    const t = summariseErrorBody(503, 'text/plain', `upstream connect error or disconnect/reset before headers. reset reason: connection termination ${'x'.repeat(300)}`);
    assert.ok(t.title.startsWith('upstream connect error'));
    assert.ok(t.title.length <= 100);
    const cut = summariseErrorBody(502, undefined, '<html><body>oops <scr');
    assert.equal(cut.title, 'oops');
    const empty = summariseErrorBody(503, undefined, '');
    assert.equal(empty.title, 'Service Unavailable');
    assert.equal(new XApiError(503, '', {}, 'stream connection').message, 'X stream connection failed: HTTP 503 Service Unavailable');
    // The raw text given to XApiError is summarised with the content-type of the headers.
    const fromText = new XApiError(502, '<html><title>502 Bad Gateway</title></html>', { 'content-type': 'text/html' }, 'stream connection');
    assert.equal(fromText.message, 'X stream connection failed: HTTP 502 Bad Gateway: 502 Bad Gateway (text/html)');
    // A JSON body sent as text/html (it happens) is still read as JSON.
    assert.equal(summariseErrorBody(429, 'text/html', '{"title":"Too Many Requests"}').title, 'Too Many Requests');
  });
});

describe('retryClass', () => {
  it('maps statuses as hbc and X\'s docs do', () => {
    const table: [number, XRetryClass][] = [
      [400, 'clientError'],
      [401, 'fatal'],
      [403, 'fatal'],
      [404, 'fatal'],
      [406, 'fatal'],
      [409, 'clientError'],
      [410, 'clientError'],
      [413, 'fatal'],
      [416, 'fatal'],
      [420, 'rateLimited'],
      [422, 'clientError'],
      [429, 'rateLimited'],
      [500, 'server'],
      [502, 'server'],
      [503, 'server'],
      [504, 'server'],
      [302, 'clientError'],
    ];
    for (const [status, cls] of table) {
      assert.equal(retryClassOf(status), cls, String(status));
      assert.equal(new XApiError(status, {}).retryClass, cls, String(status));
    }
    assert.equal(new XApiError(404, {}).fatal, false, '`fatal` stays 401/403 only');
    assert.equal(new XApiError(403, {}).fatal, true);
  });
});
