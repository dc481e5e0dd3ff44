// The stream side of the X API v2 emulator against X's published docs and OpenAPI spec:
// compressed time, access levels, Recovery, heartbeats, every disconnect_type, client-robustness
// faults (BOM, HTML answers), gzip by default and expansions with partial errors. The table in
// test/support/x-emulator/README.md ("Behaviour → emulator test") names these tests.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import * as zlib from 'node:zlib';
import { scaledClock } from '../../src/lib/common/clock';
import { startXEmulator, snowflakeTime, StreamRecordReader, type StreamEvent, type XEmulator } from '../support/x-emulator';
import { DISCONNECT_TYPES } from '../support/x-emulator/faults';
import { get, sleep, until, withEmulator } from '../support/x-emulator/testing';
import { PostGenerator } from '../support/x-emulator/posts';
import { Timeline } from '../support/x-emulator/timeline';

// ---------------------------------------------------------------------------------------------
// Helpers

interface Stream {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Decoded (gunzipped) chunks as the client's reader sees them, with their arrival times. */
  chunks: Buffer[];
  chunkTimes: number[];
  events: StreamEvent[];
  records: any[];
  keepAliveTimes: number[];
  /** 'end' (a clean end of the body) or why it stopped. */
  closed: Promise<string>;
  text: () => string;
  close: () => void;
}

/** A raw stream client (byte-exact reader); `gzip` sends accept-encoding: gzip and gunzips. */
function openStream(emu: XEmulator, urlPath: string, opts: { token?: string; gzip?: boolean } = {}): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${opts.token ?? emu.bearerToken}` };
    if (opts.gzip) headers['accept-encoding'] = 'gzip';
    const req = http.get(`${emu.url}${urlPath}`, { headers, agent: false });
    req.once('error', reject);
    req.once('response', (res) => {
      const reader = new StreamRecordReader();
      const s: Stream = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        chunks: [],
        chunkTimes: [],
        events: [],
        records: [],
        keepAliveTimes: [],
        closed: undefined as unknown as Promise<string>,
        text: () => Buffer.concat(s.chunks).toString('utf8'),
        close: () => req.destroy(),
      };
      const body = res.headers['content-encoding'] === 'gzip' ? res.pipe(zlib.createGunzip({ finishFlush: zlib.constants.Z_SYNC_FLUSH })) : res;
      s.closed = new Promise((done) => {
        let settled = false;
        const finish = (why: string): void => {
          if (!settled) {
            settled = true;
            done(why);
          }
        };
        body.on('end', () => finish(res.complete ? 'end' : 'aborted'));
        body.on('error', (err: NodeJS.ErrnoException) => finish(err.code ?? err.message));
        // gzip: what the gunzip still holds (zlib works off-thread) is read before the end counts.
        const afterFlush = (why: string): void => {
          if (body === res) finish(why);
          else (body as zlib.Gunzip).flush(zlib.constants.Z_SYNC_FLUSH, () => setImmediate(() => finish(why)));
        };
        res.on('aborted', () => afterFlush('aborted'));
        req.on('error', (err: NodeJS.ErrnoException) => afterFlush(err.code ?? err.message));
        res.on('close', () => setTimeout(() => afterFlush(res.complete ? 'end' : 'aborted'), 50));
      });
      body.on('data', (c: Buffer) => {
        const at = Date.now();
        s.chunks.push(c);
        s.chunkTimes.push(at);
        for (const e of reader.push(c)) {
          s.events.push(e);
          if (e.kind === 'record') s.records.push(e.json);
          else if (e.kind === 'keep-alive') s.keepAliveTimes.push(at);
        }
      });
      req.off('error', reject);
      req.on('error', () => undefined);
      resolve(s);
    });
  });
}

const postRecords = (s: Stream): any[] => s.records.filter((r) => r.data);
const idsOf = (s: Stream): string[] => postRecords(s).map((r) => r.data.id as string);
const isIncreasing = (ids: string[]): boolean => ids.every((id, i) => i === 0 || BigInt(id) > BigInt(ids[i - 1]));
const gaps = (times: number[]): number[] => times.slice(1).map((t, i) => t - times[i]);
const BROAD_RULE = 'the OR a OR lang:ja OR lang:ko OR lang:es OR #kafka';

// ---------------------------------------------------------------------------------------------

describe('x-emulator stream spec: compressed time', () => {
  test('timeScale 60: 2 real seconds are 120 emulated seconds of posts; ids and created_at agree with emu.now()', async () => {
    await withEmulator({ timeScale: 60, postsPerSecond: 50, historyPosts: 0, keepAliveMs: 20_000 }, async (emu) => {
      assert.equal(emu.timeScale, 60);
      const clock = scaledClock(60, emu.timeOrigin);
      assert.ok(Math.abs(clock.now() - emu.now()) < 200, 'scaledClock with the same scale and origin keeps the same time');
      const s = await openStream(emu, '/2/tweets/sample/stream?tweet.fields=created_at');
      const head0 = emu.head;
      const t0 = emu.now();
      const real0 = Date.now();
      await sleep(2000);
      const t1 = emu.now();
      const head1 = emu.head;
      const real = Date.now() - real0;
      assert.ok(Math.abs(t1 - t0 - real * 60) < 200, `emulated time runs 60x (${t1 - t0} emulated ms in ${real} real ms)`);
      const created = head1 - head0;
      const expected = ((t1 - t0) / 1000) * 50;
      assert.ok(Math.abs(created - expected) <= 60, `${created} posts for ${(t1 - t0) / 1000} emulated s at 50/s (expected ~${expected})`);
      assert.ok(created >= 5500, `about 120 emulated seconds of posts: ${created}`);
      emu.setRate(0);
      await until('the client to catch up', () => postRecords(s).length >= emu.emittedCount());
      const recs = postRecords(s);
      assert.ok(recs.length > 5000);
      for (const r of recs) {
        const ms = snowflakeTime(r.data.id);
        assert.equal(r.data.created_at, new Date(Math.floor(ms / 1000) * 1000).toISOString(), 'created_at is the id time, second precision');
        assert.ok(ms >= t0 - 1000 && ms <= emu.now(), 'post times are emulated times');
      }
      const spanSec = (snowflakeTime(recs[recs.length - 1].data.id) - snowflakeTime(recs[0].data.id)) / 1000;
      assert.ok(spanSec > 100 && spanSec < 140, `the posts span ~120 emulated seconds (${spanSec})`);
      // 20 s heartbeats in emulated time: ~one every 333 real ms.
      assert.ok(s.keepAliveTimes.length >= 4 && s.keepAliveTimes.length <= 8, `${s.keepAliveTimes.length} heartbeats in 2 real s`);
      s.close();
    });
  });

  test('timeScale: rate-limit windows and x-rate-limit-reset, backfill window, fault afterMs and the control endpoint use emulated time', async () => {
    await withEmulator({ timeScale: 100, postsPerSecond: 20, historyPosts: 0 }, async (emu) => {
      emu.addRules([{ value: BROAD_RULE }]);
      await sleep(1500); // 150 emulated seconds of posts
      const r = await get(emu, '/2/tweets/search/stream/rules');
      const reset = Number(r.headers['x-rate-limit-reset']);
      assert.ok(Math.abs(reset - (Math.floor(emu.now() / 1000) + 900)) <= 2, 'x-rate-limit-reset is 15 emulated minutes ahead');
      // backfill_minutes=2: 120 emulated seconds back, not 120 real ones (there are only 1.5 real s).
      const s = await openStream(emu, '/2/tweets/search/stream?backfill_minutes=2&tweet.fields=created_at');
      const connectedAt = (await until('the connection', () => emu.connections()[0])).openedAt; // emulated
      await until('the backfill', () => postRecords(s).length > 0 && snowflakeTime(idsOf(s)[0]) < connectedAt - 60_000);
      const first = snowflakeTime(idsOf(s)[0]);
      assert.ok(connectedAt - first <= 120_000 + 1000 && connectedAt - first > 110_000, `backfill reaches ~2 emulated minutes back (${connectedAt - first} ms)`);
      // afterMs 100 emulated seconds = 1 real second.
      const armedReal = Date.now();
      const id = emu.faults.drop({ afterMs: 100_000 });
      await emu.faults.waitFired(id);
      const realMs = Date.now() - armedReal;
      assert.ok(realMs >= 900 && realMs < 2500, `afterMs is emulated (${realMs} real ms for 100 emulated s)`);
      const info = await get(emu, '/__control/info', null);
      assert.equal(info.body.timeScale, 100);
      assert.equal(info.body.timeOrigin, emu.timeOrigin);
      assert.ok(Math.abs(info.body.now - emu.now()) < 1000);
    });
  });
});

describe('x-emulator stream spec: access levels', () => {
  test('sample stream, backfill_minutes and Recovery are Enterprise only: other levels get 403 client-forbidden (client-not-enrolled)', async () => {
    const tokens = { ent: 'token-enterprise', ppu: 'token-ppu', pro: 'token-pro', basic: 'token-basic' };
    await withEmulator(
      {
        bearerTokens: Object.values(tokens),
        tokenAccess: { [tokens.ppu]: 'pay-per-use', [tokens.pro]: 'pro', [tokens.basic]: 'basic' },
        postsPerSecond: 20,
        rateLimits: false,
      },
      async (emu) => {
        for (const t of Object.values(tokens)) if (t !== tokens.basic) emu.addRules([{ value: BROAD_RULE }], t);
        const start = new Date(emu.now() - 60_000).toISOString();
        const forbidden = async (path: string, token: string): Promise<void> => {
          const r = await get(emu, path, token);
          assert.equal(r.status, 403, `${path} with ${token}`);
          assert.match(String(r.headers['content-type']), /application\/problem\+json/);
          assert.equal(r.body.title, 'Client Forbidden');
          assert.equal(r.body.reason, 'client-not-enrolled');
          assert.equal(r.body.required_enrollment, 'Appropriate Level of API Access');
          assert.ok(r.body.registration_url && r.body.client_id && r.body.detail);
          assert.match(r.body.type, /^https:\/\/api\.(twitter|x)\.com\/2\/problems\/client-forbidden$/);
        };
        for (const t of [tokens.ppu, tokens.pro, tokens.basic]) {
          await forbidden('/2/tweets/sample/stream', t);
          await forbidden('/2/tweets/search/stream?backfill_minutes=2', t);
          await forbidden(`/2/tweets/search/stream?start_time=${start}`, t);
        }
        await forbidden('/2/tweets/search/stream', tokens.basic); // legacy Basic: no filtered stream
        // Pay-per-use and Pro have the filtered stream itself.
        for (const t of [tokens.ppu, tokens.pro]) {
          const s = await openStream(emu, '/2/tweets/search/stream', { token: t });
          assert.equal(s.status, 200);
          s.close();
        }
        // Enterprise (the default level) has all of it.
        for (const path of ['/2/tweets/sample/stream?backfill_minutes=1', `/2/tweets/search/stream?backfill_minutes=1`, `/2/tweets/search/stream?start_time=${start}`]) {
          const s = await openStream(emu, path, { token: tokens.ent });
          assert.equal(s.status, 200, path);
          s.close();
          await until('the slot to free', () => emu.connections({ active: true }).length === 0);
        }
        assert.equal(emu.accessLevel(tokens.ent), 'enterprise');
      },
    );
  });
});

describe('x-emulator stream spec: Recovery', () => {
  test('start_time/end_time replay the matching posts of the window, oldest first, then the response ends (recovery-complete)', async () => {
    await withEmulator({ postsPerSecond: 300, historyPosts: 0, keepAliveMs: 200 }, async (emu) => {
      emu.addRules([{ value: BROAD_RULE, tag: 'broad' }]);
      const live = await openStream(emu, '/2/tweets/search/stream');
      await sleep(1500);
      const liveIds = idsOf(live);
      assert.ok(liveIds.length > 200);
      const startMs = snowflakeTime(liveIds[Math.floor(liveIds.length / 4)]);
      const endMs = snowflakeTime(liveIds[Math.floor((liveIds.length * 3) / 4)]);
      const expected = liveIds.filter((id) => snowflakeTime(id) >= startMs && snowflakeTime(id) <= endMs);
      // The live connection stays open: Recovery has its own connection slots.
      const rec = await openStream(emu, `/2/tweets/search/stream?start_time=${new Date(startMs).toISOString()}&end_time=${new Date(endMs).toISOString()}`);
      assert.equal(rec.status, 200);
      assert.equal(await rec.closed, 'end', 'a clean end once the window is replayed');
      const got = idsOf(rec);
      assert.deepEqual(got, expected, 'exactly the matching posts of [start_time, end_time], oldest first');
      assert.ok(postRecords(rec).every((r) => r.matching_rules?.[0]?.tag === 'broad'));
      const info = emu.connections().find((c) => c.params.start_time)!;
      assert.equal(info.closeReason, 'recovery-complete');
      live.close();
    });
  });

  test('start_time alone replays from then and goes on live; the window and parameters are checked as documented', async () => {
    await withEmulator({ postsPerSecond: 200, historyPosts: 0, keepAliveMs: 200, rateLimits: false }, async (emu) => {
      emu.addRules([{ value: BROAD_RULE }]);
      await sleep(1000);
      const startMs = emu.now() - 800;
      const connectAt = emu.now();
      const s = await openStream(emu, `/2/tweets/search/stream?start_time=${new Date(startMs).toISOString()}&backfill_minutes=0`);
      await until('live posts after the replay', () => idsOf(s).some((id) => snowflakeTime(id) > connectAt + 300));
      const ids = idsOf(s);
      assert.ok(isIncreasing(ids));
      assert.ok(snowflakeTime(ids[0]) >= startMs && snowflakeTime(ids[0]) < startMs + 200, 'the replay starts at start_time');
      assert.equal(emu.connections({ active: true }).length, 1, 'still open');
      s.close();

      const bad = async (query: string, param: string, re: RegExp): Promise<void> => {
        const r = await get(emu, `/2/tweets/search/stream?${query}`);
        assert.equal(r.status, 400, query);
        assert.match(r.body.type, /invalid-request$/);
        assert.ok(r.body.errors.some((e: any) => param in e.parameters && re.test(e.message)), `${query}: ${JSON.stringify(r.body.errors)}`);
      };
      const iso = (ms: number): string => new Date(ms).toISOString();
      await bad(`start_time=${iso(emu.now() - 25 * 3600_000)}`, 'start_time', /must be on or after/);
      await bad(`start_time=${iso(emu.now() + 60_000)}`, 'start_time', /must be before/);
      await bad(`start_time=${iso(emu.now() - 60_000)}&end_time=${iso(emu.now() - 120_000)}`, 'end_time', /later than 'start_time'/);
      await bad(`end_time=${iso(emu.now() - 60_000)}`, 'end_time', /needs a 'start_time'/);
      await bad('start_time=yesterday', 'start_time', /RFC 3339/);
      await bad('start_time=2026-01-01', 'start_time', /RFC 3339/);
      // The 1% sample stream has no Recovery (X's spec lists no start_time for it).
      const sample = await get(emu, `/2/tweets/sample/stream?start_time=${iso(emu.now() - 60_000)}`);
      assert.equal(sample.status, 400);
      assert.match(sample.body.errors[0].message, /start_time/);
      // Two concurrent Recovery connections per app beside the live one; a third is 429.
      const from = `/2/tweets/search/stream?start_time=${iso(emu.now() - 60_000)}`;
      const a = await openStream(emu, from);
      const b = await openStream(emu, from);
      const c = await get(emu, from);
      assert.deepEqual([a.status, b.status, c.status], [200, 200, 429]);
      assert.equal(c.body.connection_issue, 'TooManyConnections');
      const liveToo = await openStream(emu, '/2/tweets/search/stream');
      assert.equal(liveToo.status, 200);
      for (const x of [a, b, liveToo]) x.close();
    });
  });
});

describe('x-emulator stream spec: heartbeats', () => {
  test('keepAliveJitterMs: every heartbeat gap is in [keepAliveMs − jitter, keepAliveMs], never above', async () => {
    await withEmulator({ postsPerSecond: 0, keepAliveMs: 200, keepAliveJitterMs: 120 }, async (emu) => {
      const s = await openStream(emu, '/2/tweets/sample/stream');
      await sleep(3000);
      s.close();
      const g = gaps(s.keepAliveTimes);
      assert.ok(g.length >= 12, `${g.length} gaps`);
      for (const x of g) assert.ok(x >= 80 - 25 && x <= 200 + 25, `gap ${x} ms outside [80, 200] (+ scheduling slack)`);
      assert.ok(Math.max(...g) - Math.min(...g) > 40, `gaps vary: ${g.join(',')}`);
      const info = await get(emu, '/__control/info', null);
      assert.equal(info.body.keepAliveJitterMs, 120);
    });
  });

  test('late-heartbeat: after a heartbeat nothing at all, not even posts, until one that is ms late; then the held posts, none lost', async () => {
    await withEmulator({ postsPerSecond: 200, keepAliveMs: 200 }, async (emu) => {
      const s = await openStream(emu, '/2/tweets/sample/stream');
      await sleep(300);
      const id = emu.faults.lateHeartbeat({ ms: 600 });
      await emu.faults.waitFired(id);
      await sleep(1200);
      emu.setRate(0);
      await until('the client to catch up', () => postRecords(s).length >= emu.emittedCount());
      // The longest silence on the wire is a heartbeat-to-heartbeat gap of keepAliveMs + ms.
      const g = gaps(s.chunkTimes);
      const longest = Math.max(...g);
      const at = g.indexOf(longest);
      assert.ok(longest >= 800 - 30 && longest <= 800 + 80, `silence of ${longest} ms, expected ~800`);
      assert.equal(s.chunks[at].toString(), '\r\n', 'the silence starts right after a heartbeat');
      assert.ok(s.chunks[at + 1].toString().startsWith('\r\n'), 'and ends with the late heartbeat');
      const ka = gaps(s.keepAliveTimes);
      assert.ok(ka.some((x) => x >= 770 && x <= 880), `one heartbeat gap is keepAliveMs + 600: ${ka.join(',')}`);
      assert.deepEqual(idsOf(s), emu.emittedIds(), 'the posts held back follow, none lost');
      s.close();
    });
  });
});

describe('x-emulator stream spec: disconnect types', () => {
  test("every documented disconnect_type: X's operational-disconnect problem, then a clean end", async () => {
    await withEmulator({ postsPerSecond: 100, keepAliveMs: 100 }, async (emu) => {
      for (const type of DISCONNECT_TYPES) {
        const s = await openStream(emu, '/2/tweets/sample/stream');
        const conn = await until('the connection', () => emu.connections({ active: true })[0]);
        emu.faults.operationalDisconnect({ afterPosts: 5, disconnectType: type, connectionId: conn.id });
        assert.equal(await s.closed, 'end', type);
        const last = s.records[s.records.length - 1];
        assert.equal(last.errors.length, 1);
        const e = last.errors[0];
        assert.equal(e.title, 'operational-disconnect');
        assert.equal(e.disconnect_type, type);
        assert.equal(typeof e.detail, 'string');
        assert.match(e.type, /^https:\/\/api\.(twitter|x)\.com\/2\/problems\/operational-disconnect$/);
        assert.equal(emu.connections().find((c) => c.id === conn.id)!.closeReason, 'operational-disconnect');
      }
      const docs = (await import('../support/x-emulator/stream-problems')).disconnectProblem('UpstreamOperationalDisconnect');
      assert.equal(docs.errors[0].detail, 'This stream has been disconnected upstream for operational reasons.');
      const r = await new Promise<number>((resolve) => {
        const req = http.request(`${emu.url}/__control/faults`, { method: 'POST', agent: false }, (res) => resolve(res.statusCode ?? 0));
        req.end(JSON.stringify({ type: 'operational-disconnect', disconnectType: 'RuleConfigurationIssue' }));
      });
      assert.equal(r, 400, 'RuleConfigurationIssue is a connection_issue, not a disconnect_type');
    });
  });
});

describe('x-emulator stream spec: client robustness faults', () => {
  test('bom: the next record is preceded by EF BB BF and still counts as emitted', async () => {
    await withEmulator({ postsPerSecond: 200, keepAliveMs: 100 }, async (emu) => {
      const s = await openStream(emu, '/2/tweets/sample/stream');
      const id = emu.faults.bom({ afterPosts: 10 });
      await emu.faults.waitFired(id);
      await sleep(200);
      emu.setRate(0);
      await until('the client to catch up', () => s.text().split('"edit_history_tweet_ids"').length - 1 >= emu.emittedCount());
      const all = Buffer.concat(s.chunks);
      const at = all.indexOf(Buffer.from([0xef, 0xbb, 0xbf]));
      assert.ok(at >= 0, 'a BOM on the wire');
      assert.equal(all.subarray(at + 3, at + 11).toString(), '{"data":', 'right before a record');
      assert.equal(all.indexOf(Buffer.from([0xef, 0xbb, 0xbf]), at + 1), -1, 'only once');
      const bomRecord = s.events.find((e) => e.kind === 'malformed');
      assert.ok(bomRecord && bomRecord.kind === 'malformed');
      const post = JSON.parse(bomRecord.raw.replace(/^\uFEFF/, ''));
      assert.ok(emu.wasEmitted(post.data.id), 'the post behind the BOM counts as emitted');
      const ids = [...idsOf(s), post.data.id].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
      assert.deepEqual(ids, emu.emittedIds());
      s.close();
    });
  });

  test('htmlOk: 200 text/html from a proxy, then the connection closes; no stream, and the request log has it', async () => {
    await withEmulator({ postsPerSecond: 100 }, async (emu) => {
      const id = emu.faults.htmlOk();
      const r = await get(emu, '/2/tweets/sample/stream');
      assert.equal(r.status, 200);
      assert.match(String(r.headers['content-type']), /^text\/html/);
      assert.match(r.text, /<html>/);
      assert.equal(r.headers.connection, 'close');
      assert.equal(emu.connections().length, 0, 'no stream connection');
      const log = emu.requests('sample');
      assert.equal(log.length, 1);
      assert.equal(log[0].status, 200);
      assert.equal(log[0].faultId, id);
      assert.equal(emu.stats().connectAttempts, 1);
    });
  });

  test('reject: 502/503 with an HTML body; 429 with any x-rate-limit-reset (milliseconds, 40 days ahead)', async () => {
    await withEmulator({ postsPerSecond: 0 }, async (emu) => {
      emu.faults.reject(502, { html: true });
      const a = await get(emu, '/2/tweets/sample/stream');
      assert.equal(a.status, 502);
      assert.match(String(a.headers['content-type']), /^text\/html/);
      assert.match(a.text, /502 Bad Gateway/);
      emu.faults.reject(503, { body: '<html><body>upstream connect error</body></html>', contentType: 'text/html' });
      const b = await get(emu, '/2/tweets/sample/stream');
      assert.equal(b.status, 503);
      assert.equal(b.headers['content-type'], 'text/html');
      assert.equal(b.text, '<html><body>upstream connect error</body></html>');
      const inMs = String(Date.now() + 60_000);
      emu.faults.reject(429, { headers: { 'x-rate-limit-reset': inMs } });
      const c = await get(emu, '/2/tweets/sample/stream');
      assert.equal(c.status, 429);
      assert.equal(c.headers['x-rate-limit-reset'], inMs, 'reset in milliseconds, as given');
      emu.faults.tooManyRequests(1, 40 * 86400);
      const d = await get(emu, '/2/tweets/sample/stream');
      assert.ok(Math.abs(Number(d.headers['x-rate-limit-reset']) - (Math.floor(emu.now() / 1000) + 40 * 86400)) <= 2, '40 days ahead');
    });
  });
});

describe('x-emulator stream spec: gzip', () => {
  test('compression is on by default: gzip when the client accepts it, identity otherwise; emitted posts are exactly what the client decompresses', async () => {
    await withEmulator({ postsPerSecond: 2000, keepAliveMs: 50 }, async (emu) => {
      const plain = await openStream(emu, '/2/tweets/sample/stream');
      assert.equal(plain.headers['content-encoding'], undefined);
      plain.close();
      await until('the slot to free', () => emu.connections({ active: true }).length === 0);
      const s = await openStream(emu, '/2/tweets/sample/stream', { gzip: true });
      assert.equal(s.headers['content-encoding'], 'gzip');
      const conn = await until('the connection', () => emu.connections({ active: true })[0]);
      emu.faults.drop({ afterPosts: 3000, connectionId: conn.id });
      assert.notEqual(await s.closed, 'end', 'dropped, not ended');
      assert.ok(s.keepAliveTimes.length > 0, 'keep-alives survive compression');
      assert.equal(idsOf(s).length, emu.emittedCount(conn.id));
      assert.deepEqual(idsOf(s), emu.emittedIds(conn.id), 'every emitted post reached the client through gunzip');
    });
  });
});

describe('x-emulator stream spec: expansions and partial errors', () => {
  const FIELDS =
    'tweet.fields=attachments,author_id,geo,referenced_tweets,in_reply_to_user_id,created_at' +
    '&expansions=author_id,attachments.media_keys,attachments.poll_ids,geo.place_id,referenced_tweets.id,referenced_tweets.id.author_id,in_reply_to_user_id' +
    '&media.fields=type,url,width,height,alt_text,duration_ms,preview_image_url,variants,public_metrics' +
    '&poll.fields=duration_minutes,end_datetime,voting_status&place.fields=country,country_code,geo,name,place_type&user.fields=username';

  test('includes follow the expansions: media, polls, places, referenced posts, users; errors beside data for a deleted or protected referenced post', async () => {
    await withEmulator({ postsPerSecond: 4000, keepAliveMs: 100 }, async (emu) => {
      const s = await openStream(emu, `/2/tweets/sample/stream?${FIELDS}`);
      await until('enough posts', () => postRecords(s).length >= 4000, 10_000);
      emu.setRate(0);
      await until('the client to catch up', () => postRecords(s).length >= emu.emittedCount());
      s.close();
      const recs = postRecords(s);
      const params = Object.fromEntries(new URLSearchParams(FIELDS));
      let media = 0;
      let polls = 0;
      let places = 0;
      let refs = 0;
      let errors = 0;
      for (const r of recs) {
        assert.deepEqual({ ...r }, emu.postObject(r.data.id, params), 'the record is the post as generated');
        const d = r.data;
        const inc = r.includes ?? {};
        if (d.attachments?.media_keys) {
          media++;
          assert.deepEqual(inc.media.map((m: any) => m.media_key), d.attachments.media_keys);
          for (const m of inc.media) {
            assert.match(m.media_key, /^(3|7|16)_\d+$/);
            assert.ok(['photo', 'video', 'animated_gif'].includes(m.type));
            assert.ok(m.width > 0 && m.height > 0);
            if (m.type === 'photo') assert.match(m.url, /^https:\/\/pbs\.twimg\.com\/media\//);
            if (m.type === 'video') assert.ok(m.duration_ms > 0 && m.variants.length === 2 && typeof m.public_metrics.view_count === 'number');
            if (m.type !== 'photo') assert.ok(m.preview_image_url && m.url === undefined);
          }
        }
        if (d.attachments?.poll_ids) {
          polls++;
          const p = inc.polls[0];
          assert.equal(p.id, d.attachments.poll_ids[0]);
          assert.ok(p.options.length >= 2 && p.options.length <= 4);
          p.options.forEach((o: any, i: number) => assert.ok(o.position === i + 1 && o.label.length <= 25 && o.votes >= 0));
          assert.ok([5, 60, 1440, 10080].includes(p.duration_minutes) && p.voting_status === 'open');
          assert.equal(Date.parse(p.end_datetime), Date.parse(d.created_at) + p.duration_minutes * 60_000);
        }
        if (d.geo) {
          places++;
          const pl = inc.places[0];
          assert.equal(pl.id, d.geo.place_id);
          assert.ok(pl.full_name && pl.name && pl.country && /^[A-Z]{2}$/.test(pl.country_code) && pl.place_type);
          assert.equal(pl.geo.type, 'Feature');
          assert.equal(pl.geo.bbox.length, 4);
        }
        if (d.referenced_tweets) {
          refs++;
          const ref = d.referenced_tweets[0];
          assert.ok(['quoted', 'replied_to'].includes(ref.type));
          const included = (inc.tweets ?? []).find((t: any) => t.id === ref.id);
          if (included) {
            assert.equal(r.errors, undefined);
            assert.ok(inc.users.some((u: any) => u.id === included.author_id), 'referenced_tweets.id.author_id brings its author');
          } else {
            errors++;
            assert.equal(r.errors.length, 1);
            const e = r.errors[0];
            assert.equal(e.resource_type, 'tweet');
            assert.equal(e.resource_id, ref.id);
            assert.equal(e.value, ref.id);
            assert.equal(e.parameter, 'referenced_tweets.id');
            assert.ok(
              (e.title === 'Not Found Error' && /\/2\/problems\/resource-not-found$/.test(e.type)) ||
                (e.title === 'Authorization Error' && e.section === 'includes' && /\/2\/problems\/not-authorized-for-resource$/.test(e.type)),
              JSON.stringify(e),
            );
            assert.match(e.detail, new RegExp(`\\[${ref.id}\\]`));
          }
          if (ref.type === 'replied_to') assert.match(d.in_reply_to_user_id, /^\d+$/);
        } else assert.equal(r.errors, undefined);
        assert.ok(inc.users.some((u: any) => u.id === d.author_id), 'author_id brings the author');
      }
      const n = recs.length;
      const share = (k: number): number => k / n;
      assert.ok(share(media) > 0.08 && share(media) < 0.16, `media ${media}/${n}`);
      assert.ok(polls > 10 && share(polls) < 0.04, `polls ${polls}/${n}`);
      assert.ok(share(places) > 0.02 && share(places) < 0.07, `places ${places}/${n}`);
      assert.ok(share(refs) > 0.07 && share(refs) < 0.13, `referenced ${refs}/${n}`);
      assert.ok(errors > 0 && errors < refs / 4, `partial errors ${errors}/${refs}`);
    });
  });

  test('fields not asked stay out; partial errors only with referenced_tweets expansions; extras are deterministic and old posts unchanged', async () => {
    await withEmulator({ postsPerSecond: 0, historyPosts: 3000, seed: 5 }, async (emu) => {
      const seqs = Array.from({ length: 3000 }, (_, i) => i);
      const withRef = seqs.find((q) => emu.postObject(q, { expansions: 'referenced_tweets.id' }).errors)!;
      assert.ok(withRef !== undefined);
      assert.equal(emu.postObject(withRef, {}).errors, undefined, 'no errors without the expansion');
      assert.equal(emu.postObject(withRef, {}).data.referenced_tweets, undefined, 'no referenced_tweets without the field or expansion');
      assert.ok(emu.postObject(withRef, { 'tweet.fields': 'referenced_tweets' }).data.referenced_tweets, 'the field alone');
      const withMedia = seqs.find((q) => emu.postObject(q, { expansions: 'attachments.media_keys' }).includes?.media)!;
      const m = (emu.postObject(withMedia, { expansions: 'attachments.media_keys' }).includes!.media as any[])[0];
      assert.deepEqual(Object.keys(m).sort(), ['media_key', 'type'], 'default media fields: media_key and type');
      const withPlace = seqs.find((q) => emu.postObject(q, { expansions: 'geo.place_id' }).includes?.places)!;
      assert.deepEqual(Object.keys((emu.postObject(withPlace, { expansions: 'geo.place_id' }).includes!.places as any[])[0]).sort(), ['full_name', 'id']);
      const withPoll = seqs.find((q) => emu.postObject(q, { expansions: 'attachments.poll_ids' }).includes?.polls)!;
      assert.deepEqual(Object.keys((emu.postObject(withPoll, { expansions: 'attachments.poll_ids' }).includes!.polls as any[])[0]).sort(), ['id', 'options']);
      const other = await startXEmulator({ postsPerSecond: 0, historyPosts: 3000, seed: 5 });
      try {
        const p = { expansions: 'attachments.media_keys,attachments.poll_ids,geo.place_id,referenced_tweets.id' };
        for (const q of [withRef, withMedia, withPlace, withPoll]) {
          const a = emu.postObject(q, p);
          const b = other.postObject(q, p);
          // Ids carry the creation time (the two emulators started apart): compare the rest.
          assert.deepEqual(JSON.stringify(a).replace(/\d{15,}/g, 'ID'), JSON.stringify(b).replace(/\d{15,}/g, 'ID'), 'same seed, same extras');
        }
      } finally {
        await other.stop();
      }
    });
    // The text, author, language and metrics of every post are what they were before extras
    // existed (fingerprint of seed 1, seqs 0-4999, taken from the generator before the change).
    const tl = new Timeline();
    for (let i = 0; i < 5000; i++) tl.extend(i + 1, 1_700_000_000_000 + i * 7);
    const gen = new PostGenerator({ seed: 1, authors: 1000 }, tl);
    const h = createHash('sha256');
    for (let q = 0; q < 5000; q++) {
      const p = gen.post(q);
      h.update(JSON.stringify([p.id, p.createdAt, p.text, p.lang, p.author.id, p.mentionIdx, p.hasLink, p.hashtags, p.publicMetrics]));
    }
    assert.equal(h.digest('hex'), 'aa73f3b52ead4b2b6ae70a91181abca99aa7d4e685ad7b620af2960017957651');
  });
});
