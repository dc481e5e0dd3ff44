// The X API v2 emulator (test/support/x-emulator) over real HTTP: through twitter-api-v2, the
// client the nodes use, and through raw http where the framing itself is the point.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as http from 'node:http';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { ApiResponseError, ETwitterStreamEvent, TwitterApi, type TweetStream, type TweetV2SingleStreamResult } from 'twitter-api-v2';
import {
  startXEmulator,
  snowflakeTime,
  StreamRecordReader,
  type StreamEvent,
  type XEmulator,
} from '../support/x-emulator';
import { emulatorClient, emulatorSettings } from '../support/x-emulator/client';
import { request, sleep, until, withEmulator } from '../support/x-emulator/testing';

// ---------------------------------------------------------------------------------------------
// Helpers

/** A raw stream client that keeps every chunk and decodes records byte-exactly. */
interface RawStream {
  status: number;
  headers: http.IncomingHttpHeaders;
  chunks: Buffer[];
  chunkTimes: number[];
  events: StreamEvent[];
  records: any[];
  /** Resolves when the response ends or errors: 'end' (clean), or the error's code/message. */
  closed: Promise<string>;
  body: () => any;
  close: () => void;
}

function rawStream(emu: XEmulator, urlPath: string, token: string = emu.bearerToken): Promise<RawStream> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${emu.url}${urlPath}`, { headers: { authorization: `Bearer ${token}` }, agent: false });
    req.once('error', reject);
    req.once('response', (res) => {
      const reader = new StreamRecordReader();
      const s: RawStream = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        chunks: [],
        chunkTimes: [],
        events: [],
        records: [],
        closed: undefined as unknown as Promise<string>,
        body: () => JSON.parse(Buffer.concat(s.chunks).toString('utf8')),
        close: () => req.destroy(),
      };
      s.closed = new Promise((done) => {
        let settled = false;
        const finish = (why: string): void => {
          if (!settled) {
            settled = true;
            done(why);
          }
        };
        res.on('end', () => finish('end'));
        res.on('error', (err: NodeJS.ErrnoException) => finish(err.code ?? err.message));
        res.on('aborted', () => finish('aborted'));
        req.on('error', (err: NodeJS.ErrnoException) => finish(err.code ?? err.message));
        res.on('close', () => finish(res.complete ? 'end' : 'aborted'));
      });
      res.on('data', (c: Buffer) => {
        s.chunks.push(c);
        s.chunkTimes.push(Date.now());
        for (const e of reader.push(c)) {
          s.events.push(e);
          if (e.kind === 'record') s.records.push(e.json);
        }
      });
      req.off('error', reject);
      req.on('error', () => undefined);
      resolve(s);
    });
  });
}

type Received = { posts: TweetV2SingleStreamResult[]; keepAlives: number; parseErrors: unknown[]; dataErrors: unknown[] };

function collect(stream: TweetStream): Received {
  const r: Received = { posts: [], keepAlives: 0, parseErrors: [], dataErrors: [] };
  stream.on(ETwitterStreamEvent.Data, (d) => r.posts.push(d));
  stream.on(ETwitterStreamEvent.DataKeepAlive, () => r.keepAlives++);
  stream.on(ETwitterStreamEvent.TweetParseError, (e) => r.parseErrors.push(e));
  stream.on(ETwitterStreamEvent.DataError, (e) => r.dataErrors.push(e));
  return r;
}

/** Pauses the firehose and waits until the client has every post the emulator flushed. */
async function drain(emu: XEmulator, received: () => number, connectionId?: number): Promise<void> {
  emu.setRate(0);
  await until('the client to catch up', () => received() >= emu.emittedCount(connectionId));
}

const isIncreasing = (ids: string[]): boolean => ids.every((id, i) => i === 0 || BigInt(id) > BigInt(ids[i - 1]));

// ---------------------------------------------------------------------------------------------

describe('x-emulator: streams', () => {
  test('sample stream through twitter-api-v2: every post once, in order, as generated, with expansions', async () => {
    await withEmulator({ postsPerSecond: 2000, seed: 42 }, async (emu) => {
      const params = { 'tweet.fields': 'author_id,created_at,lang,public_metrics', expansions: 'author_id', 'user.fields': 'username,name,verified' };
      const client = emulatorClient(emu);
      const stream = await client.v2.sampleStream({
        'tweet.fields': ['author_id', 'created_at', 'lang', 'public_metrics'],
        expansions: ['author_id'],
        'user.fields': ['username', 'name', 'verified'],
      });
      const got = collect(stream);
      await until('300 posts', () => got.posts.length >= 300);
      const [conn] = emu.connections();
      await drain(emu, () => got.posts.length, conn.id);
      stream.close();

      const ids = got.posts.map((p) => p.data.id);
      assert.deepEqual(ids, emu.emittedIds(conn.id), 'the client got exactly the posts the emulator emitted, in order');
      assert.ok(isIncreasing(ids), 'ids increase');
      assert.equal(new Set(ids).size, ids.length);
      for (const p of got.posts.slice(0, 50)) {
        assert.deepEqual(p, emu.postObject(p.data.id, params), 'a post is exactly what the generator regenerates');
        assert.equal(p.includes?.users?.[0]?.id, p.data.author_id);
        assert.equal((p as { matching_rules?: unknown }).matching_rules, undefined, 'no matching_rules on the sample stream');
        // created_at (second precision) is the id's snowflake time
        assert.equal(Date.parse(p.data.created_at!), Math.floor(snowflakeTime(p.data.id) / 1000) * 1000);
        assert.deepEqual(p.data.edit_history_tweet_ids, [p.data.id]);
      }
      const langs = new Set(got.posts.map((p) => p.data.lang));
      for (const l of ['en', 'ja', 'ko']) assert.ok(langs.has(l), `posts in ${l}`);
      assert.ok(got.posts.some((p) => /\p{Extended_Pictographic}/u.test(p.data.text)), 'posts with emoji');
      assert.ok(got.posts.some((p) => /[\uac00-\ud7af]/.test(p.data.text)), 'Korean posts');
      assert.ok(got.posts.some((p) => /[\u3040-\u30ff]/.test(p.data.text)), 'Japanese posts');
    });
  });

  test('raw framing: chunked JSON lines separated by \\r\\n, keep-alives are a lone "\\r\\n" chunk, X headers', async () => {
    await withEmulator({ postsPerSecond: 500, keepAliveMs: 100 }, async (emu) => {
      const s = await rawStream(emu, '/2/tweets/sample/stream');
      assert.equal(s.status, 200);
      assert.equal(s.headers['transfer-encoding'], 'chunked');
      assert.match(String(s.headers['content-type']), /^application\/json/);
      assert.equal(s.headers['x-rate-limit-limit'], '50');
      assert.equal(s.headers['x-rate-limit-remaining'], '49');
      assert.ok(Number(s.headers['x-rate-limit-reset']) > Date.now() / 1000);
      await until('records', () => s.records.length >= 20);
      emu.setRate(0);
      await until('keep-alives', () => s.events.filter((e) => e.kind === 'keep-alive').length >= 2, 3000);
      s.close();
      const all = Buffer.concat(s.chunks).toString('utf8');
      assert.ok(all.endsWith('\r\n'));
      for (const line of all.split('\r\n').slice(0, -1)) {
        if (line) assert.doesNotThrow(() => JSON.parse(line));
      }
      const keepAliveChunks = s.chunks.filter((c) => c.toString() === '\r\n');
      assert.ok(keepAliveChunks.length >= 2, 'keep-alives arrive as their own chunks');
      assert.ok(s.chunks.every((c) => c.toString() === '\r\n' || c.toString().endsWith('}\r\n')), 'post chunks end on a record boundary');
    });
  });

  test('keep-alives arrive through twitter-api-v2 at the configured interval while no posts flow', async () => {
    await withEmulator({ postsPerSecond: 0, keepAliveMs: 80 }, async (emu) => {
      const stream = await emulatorClient(emu).v2.sampleStream();
      const got = collect(stream);
      const t0 = Date.now();
      await until('5 keep-alives', () => got.keepAlives >= 5, 3000);
      const elapsed = Date.now() - t0;
      stream.close();
      assert.ok(elapsed >= 4 * 80 - 20, `5 keep-alives took ${elapsed} ms`);
      assert.equal(got.posts.length, 0);
      assert.ok(emu.stats().keepAlives >= 5);
    });
  });

  test("keep-alives: X's 20 s heartbeat ('interval', also while posts flow) or only when idle", async () => {
    for (const mode of ['interval', 'idle'] as const) {
      await withEmulator({ postsPerSecond: 500, keepAliveMs: 100, keepAliveMode: mode }, async (emu) => {
        const s = await rawStream(emu, '/2/tweets/sample/stream');
        await sleep(450);
        s.close();
        const keepAlives = s.events.filter((e) => e.kind === 'keep-alive').length;
        assert.ok(s.records.length > 100);
        if (mode === 'interval') assert.ok(keepAlives >= 3, `${keepAlives} keep-alives among posts`);
        else assert.equal(keepAlives, 0, 'no keep-alive while posts flow');
      });
    }
  });

  test('gzip when asked for (compression: true), through twitter-api-v2 and raw', async () => {
    await withEmulator({ postsPerSecond: 1000, compression: true, keepAliveMs: 50 }, async (emu) => {
      const stream = await emulatorClient(emu, undefined, { compression: 'gzip' }).v2.sampleStream();
      const got = collect(stream);
      await until('posts and keep-alives', () => got.posts.length > 200 && got.keepAlives > 0);
      const [conn] = emu.connections();
      await drain(emu, () => got.posts.length, conn.id);
      stream.close();
      assert.deepEqual(got.posts.map((p) => p.data.id), emu.emittedIds(conn.id));
      emu.setRate(100);
      const raw = await rawStream(emu, '/2/tweets/sample/stream');
      await until('bytes', () => raw.chunks.length > 0);
      raw.close();
      assert.equal(raw.headers['content-encoding'], undefined, 'identity unless gzip is accepted');
    });
  });

  test('the rate is honoured and can be changed; posts exist whether or not anyone listens', async () => {
    await withEmulator({ postsPerSecond: 1000, historyPosts: 0 }, async (emu) => {
      const s = await rawStream(emu, '/2/tweets/sample/stream');
      const t0 = Date.now();
      await sleep(600);
      const n = s.records.length;
      const secs = (Date.now() - t0) / 1000;
      assert.ok(n > 1000 * secs * 0.4 && n < 1000 * secs * 1.2 + 100, `${n} posts in ${secs}s at 1000/s`);
      emu.setRate(0);
      await sleep(50);
      const frozen = s.records.length;
      await sleep(150);
      assert.ok(s.records.length - frozen <= 20, 'rate 0 stops the flow');
      s.close();
      const created = emu.stats().postsCreated;
      emu.setRate(5000);
      await sleep(100);
      assert.ok(emu.stats().postsCreated - created >= 200, 'posts are created with no client connected');
    });
  });

  test('one connection per token: a second concurrent connect gets 429 TooManyConnections; other tokens have their own slot', async () => {
    await withEmulator({ postsPerSecond: 10, bearerTokens: ['token-a', 'token-b'] }, async (emu) => {
      const first = await rawStream(emu, '/2/tweets/sample/stream', 'token-a');
      assert.equal(first.status, 200);
      const second = await request(emu, 'GET', '/2/tweets/sample/stream', { token: 'token-a' });
      assert.equal(second.status, 429);
      assert.deepEqual(second.body, {
        title: 'ConnectionException',
        detail: 'This stream is currently at the maximum allowed connection limit.',
        connection_issue: 'TooManyConnections',
        type: 'https://api.twitter.com/2/problems/streaming-connection',
      });
      assert.ok(second.headers['x-rate-limit-reset']);
      const other = await rawStream(emu, '/2/tweets/sample/stream', 'token-b');
      assert.equal(other.status, 200, 'another app connects');
      // through twitter-api-v2 the 429 is an ApiResponseError carrying X's body
      await assert.rejects(emulatorClient(emu.url, 'token-a').v2.sampleStream(), (err: ApiResponseError) => {
        assert.equal(err.code, 429);
        assert.equal((err.data as unknown as Record<string, unknown>).connection_issue, 'TooManyConnections');
        return true;
      });
      first.close();
      await until('slot freed', () => emu.connections({ active: true }).every((c) => c.token !== 'token-a'));
      const again = await rawStream(emu, '/2/tweets/sample/stream', 'token-a');
      assert.equal(again.status, 200, 'reconnect after the first went away');
      again.close();
      other.close();
      assert.equal(emu.stats().connects, 3);
      assert.equal(emu.stats().connectAttempts, 5);
    });
  });

  test('auth: no or unknown bearer token is 401 with X problem body; query parameters are checked', async () => {
    await withEmulator({ postsPerSecond: 0 }, async (emu) => {
      for (const token of [null, 'nope']) {
        const r = await request(emu, 'GET', '/2/tweets/sample/stream', { token });
        assert.equal(r.status, 401);
        assert.deepEqual(r.body, { title: 'Unauthorized', type: 'about:blank', status: 401, detail: 'Unauthorized' });
      }
      const bad = await request(emu, 'GET', '/2/tweets/sample/stream?tweet.fields=lang,bogus&foo=1');
      assert.equal(bad.status, 400);
      assert.equal(bad.body.title, 'Invalid Request');
      assert.equal(bad.body.type, 'https://api.twitter.com/2/problems/invalid-request');
      const messages = bad.body.errors.map((e: { message: string }) => e.message).join('\n');
      assert.match(messages, /The `tweet\.fields` query parameter value \[bogus\] is not one of/);
      assert.match(messages, /The query parameter \[foo\] is not one of/);
      const backfill = await request(emu, 'GET', '/2/tweets/sample/stream?backfill_minutes=9');
      assert.equal(backfill.status, 400);
      assert.equal((await request(emu, 'GET', '/2/nothing/here')).status, 404);
    });
  });

  test('stream rate limit: the 4th connect in a window of 3 is 429 with x-rate-limit-remaining 0', async () => {
    await withEmulator({ postsPerSecond: 0, rateLimits: { sample: 3 } }, async (emu) => {
      for (let i = 0; i < 3; i++) {
        const s = await rawStream(emu, '/2/tweets/sample/stream');
        assert.equal(s.status, 200);
        assert.equal(s.headers['x-rate-limit-remaining'], String(2 - i));
        s.close();
        await until('closed', () => emu.connections({ active: true }).length === 0);
      }
      const r = await request(emu, 'GET', '/2/tweets/sample/stream');
      assert.equal(r.status, 429);
      assert.equal(r.headers['x-rate-limit-remaining'], '0');
      assert.deepEqual(r.body, { title: 'Too Many Requests', type: 'about:blank', status: 429, detail: 'Too Many Requests' });
    });
  });

  test('backfill_minutes replays recent posts before the live ones', async () => {
    await withEmulator({ postsPerSecond: 1000 }, async (emu) => {
      await sleep(200);
      const head = emu.head;
      const s = await rawStream(emu, '/2/tweets/sample/stream?backfill_minutes=1');
      await until('posts', () => s.records.length >= 300);
      s.close();
      const ids: string[] = s.records.map((r) => r.data.id);
      assert.ok(isIncreasing(ids));
      assert.ok(emu.seqOf(ids[0]) < head - 100, 'the first posts are from before the connect');
      const plain = await rawStream(emu, '/2/tweets/sample/stream');
      await until('posts', () => plain.records.length >= 1);
      plain.close();
    });
  });

  test('same seed, same posts; another seed, other posts', async () => {
    const a = await startXEmulator({ seed: 7, postsPerSecond: 0 });
    const b = await startXEmulator({ seed: 7, postsPerSecond: 0 });
    const c = await startXEmulator({ seed: 8, postsPerSecond: 0 });
    try {
      const view = (e: XEmulator, seq: number): unknown => {
        const p = e.post(seq);
        return [p.text, p.lang, p.author.id, p.author.username, p.author.name, p.publicMetrics];
      };
      for (let seq = 0; seq < 200; seq++) assert.deepEqual(view(a, seq), view(b, seq));
      let same = 0;
      for (let seq = 0; seq < 200; seq++) if (JSON.stringify(view(a, seq)) === JSON.stringify(view(c, seq))) same++;
      assert.ok(same < 10);
    } finally {
      await Promise.all([a.stop(), b.stop(), c.stop()]);
    }
  });
});

describe('x-emulator: rules and the filtered stream', () => {
  test('rules CRUD through twitter-api-v2: add, list, dry_run, duplicate, invalid, delete, delete_all', async () => {
    await withEmulator({ postsPerSecond: 0 }, async (emu) => {
      const v2 = emulatorClient(emu).v2;
      const empty = await v2.streamRules();
      assert.equal(empty.meta.result_count, 0);
      assert.equal(empty.data, undefined);
      assert.ok(!Number.isNaN(Date.parse((empty.meta as unknown as { sent: string }).sent)));

      const added = await v2.updateStreamRules({ add: [{ value: 'kafka OR #kafka', tag: 'kafka' }, { value: 'from:someone -is:retweet' }] });
      assert.equal(added.data.length, 2);
      assert.deepEqual(added.meta.summary, { created: 2, not_created: 0, valid: 2, invalid: 0 });
      assert.match(added.data[0].id, /^\d{19}$/);
      assert.equal(added.data[0].tag, 'kafka');

      const listed = await v2.streamRules();
      assert.equal(listed.meta.result_count, 2);
      assert.deepEqual(listed.data.map((r) => r.value), ['kafka OR #kafka', 'from:someone -is:retweet']);
      const one = await v2.streamRules({ ids: added.data[1].id });
      assert.deepEqual(one.data, [{ id: added.data[1].id, value: 'from:someone -is:retweet' }]);

      const dry = await v2.updateStreamRules({ add: [{ value: 'coffee', tag: 'c' }] }, { dry_run: true });
      assert.equal(dry.meta.summary.created, 1);
      assert.equal((await v2.streamRules()).meta.result_count, 2, 'dry_run changes nothing');

      const dup = await v2.updateStreamRules({ add: [{ value: 'kafka OR #kafka' }, { value: 'coffee' }] });
      assert.deepEqual(dup.meta.summary, { created: 1, not_created: 1, valid: 1, invalid: 1 });
      assert.deepEqual(dup.errors, [{ value: 'kafka OR #kafka', id: added.data[0].id, title: 'DuplicateRule', type: 'https://api.twitter.com/2/problems/duplicate-rules' }]);

      // 2,049: one over Enterprise's 2,048 (the default access level; X's filtered-stream docs).
      for (const value of ['(kafka OR coffee', '', 'x'.repeat(2049), 'kafka OR', '-coffee', 'lang:ko', 'foo:bar kafka', '"unterminated']) {
        const r = await request(emu, 'POST', '/2/tweets/search/stream/rules', { body: { add: [{ value }, { value: 'fine' }] } });
        assert.equal(r.status, 400, `rule ${JSON.stringify(value.slice(0, 20))} is refused`);
        assert.deepEqual(r.body.meta.summary, { created: 0, not_created: 2, valid: 1, invalid: 1 });
        const [e] = r.body.errors;
        assert.equal(e.value, value);
        assert.equal(e.title, 'UnprocessableEntity');
        assert.equal(e.type, 'https://api.twitter.com/2/problems/invalid-rules');
        assert.ok(Array.isArray(e.details) && e.details.length > 0 && typeof e.details[0] === 'string');
      }
      assert.equal((await v2.streamRules()).meta.result_count, 3, 'a request with an invalid rule creates none');

      const del = await v2.updateStreamRules({ delete: { ids: [added.data[1].id, '1234567890123456789'] } });
      assert.deepEqual(del.meta.summary, { deleted: 1, not_deleted: 1 });
      assert.equal(del.errors?.[0].value, '1234567890123456789');
      const dryDelete = await v2.updateStreamRules({ delete: { ids: [added.data[0].id] } }, { dry_run: true });
      assert.deepEqual(dryDelete.meta.summary, { deleted: 1, not_deleted: 0 });
      assert.equal((await v2.streamRules()).meta.result_count, 2);

      const all = await request(emu, 'POST', '/2/tweets/search/stream/rules?delete_all=true', { body: {} });
      assert.equal(all.status, 200);
      assert.deepEqual(all.body.meta.summary, { deleted: 2, not_deleted: 0 });
      assert.equal((await v2.streamRules()).meta.result_count, 0);
      const both = await request(emu, 'POST', '/2/tweets/search/stream/rules', { body: { add: [{ value: 'a' }], delete: { ids: ['1'] } } });
      assert.equal(both.status, 400);
      assert.equal(both.body.type, 'https://api.twitter.com/2/problems/invalid-request');
    });
  });

  test('filtered stream with no rules is 409 RuleConfigurationIssue', async () => {
    await withEmulator({ postsPerSecond: 100 }, async (emu) => {
      const r = await request(emu, 'GET', '/2/tweets/search/stream');
      assert.equal(r.status, 409);
      assert.deepEqual(r.body, {
        title: 'ConnectionException',
        detail: 'You must define rules using the POST /2/tweets/search/stream/rules endpoint before connecting to filtered stream.',
        connection_issue: 'RuleConfigurationIssue',
        type: 'https://api.twitter.com/2/problems/streaming-connection',
      });
      await assert.rejects(emulatorClient(emu).v2.searchStream(), (err: ApiResponseError) => err.code === 409);
    });
  });

  test('filtered stream delivers exactly the posts the rules match, with matching_rules', async () => {
    await withEmulator({ postsPerSecond: 3000, seed: 3 }, async (emu) => {
      const v2 = emulatorClient(emu).v2;
      const someone = emu.post(0).author.username;
      const rules = await v2.updateStreamRules({
        add: [
          { value: '#kafka OR 카프카', tag: 'kafka' },
          { value: `from:${someone}`, tag: 'someone' },
          { value: '"the new release" -lang:es', tag: 'release' },
          { value: '(커피 OR コーヒー OR coffee) lang:ko' },
        ],
      });
      const idOf = (tag: string | undefined): string => rules.data.find((r) => r.tag === tag)!.id;
      const expected = (seq: number): string[] => {
        const p = emu.post(seq);
        const lower = p.text.toLowerCase();
        const out: string[] = [];
        if (p.hashtags.some((h) => h.toLowerCase() === 'kafka') || p.text.includes('카프카')) out.push(idOf('kafka'));
        if (p.author.username === someone) out.push(idOf('someone'));
        if (lower.includes('the new release') && p.lang !== 'es') out.push(idOf('release'));
        if (/커피|コーヒー|\bcoffee\b/.test(lower) && p.lang === 'ko') out.push(idOf(undefined));
        return out;
      };
      const stream = await v2.searchStream({ 'tweet.fields': ['lang', 'author_id'] });
      const got = collect(stream);
      await until('100 matches', () => got.posts.length >= 100, 8000);
      const [conn] = emu.connections();
      await drain(emu, () => got.posts.length, conn.id);
      stream.close();
      const seqs = got.posts.map((p) => emu.seqOf(p.data.id));
      assert.deepEqual(got.posts.map((p) => p.data.id), emu.emittedIds(conn.id));
      for (const p of got.posts) {
        assert.deepEqual(p.matching_rules.map((r) => r.id), expected(emu.seqOf(p.data.id)), `matching_rules of ${p.data.text}`);
        for (const r of p.matching_rules) assert.equal(r.tag, rules.data.find((x) => x.id === r.id)!.tag);
      }
      // and nothing that matches was left out
      for (let seq = seqs[0]; seq <= seqs[seqs.length - 1]; seq++) {
        if (expected(seq).length) assert.ok(seqs.includes(seq), `post ${seq} matches a rule and was sent`);
      }
      assert.ok(new Set(got.posts.flatMap((p) => p.matching_rules.map((r) => r.tag))).size >= 3, 'several rules matched');
    });
  });

  test('rules take effect on an open filtered stream', async () => {
    await withEmulator({ postsPerSecond: 2000 }, async (emu) => {
      const [rule] = emu.addRules([{ value: 'lang:ja kafka', tag: 'nothing-yet' }]);
      const s = await rawStream(emu, '/2/tweets/search/stream?tweet.fields=lang');
      const v2 = emulatorClient(emu).v2;
      await v2.updateStreamRules({ add: [{ value: 'lang:ko 오늘은', tag: 'ko' }] });
      await until('Korean matches', () => s.records.filter((r) => r.matching_rules[0].tag === 'ko').length >= 5);
      await v2.updateStreamRules({ delete: { ids: [rule.id] } });
      s.close();
      for (const r of s.records) {
        assert.equal(r.matching_rules.length, 1);
        assert.equal(r.matching_rules[0].tag, 'ko');
        assert.equal(r.data.lang, 'ko');
        assert.ok(r.data.text.includes('오늘은'));
      }
    });
  });
});

describe('x-emulator: recent search', () => {
  test('pagination with next_token, newest first, since_id/until_id, meta', async () => {
    await withEmulator({ postsPerSecond: 0, historyPosts: 2000, seed: 11 }, async (emu) => {
      const v2 = emulatorClient(emu).v2;
      const page1 = await v2.get('tweets/search/recent', { query: 'kafka', max_results: 25 });
      assert.equal(page1.meta.result_count, 25);
      assert.equal(page1.data.length, 25);
      assert.equal(page1.meta.newest_id, page1.data[0].id);
      assert.equal(page1.meta.oldest_id, page1.data[24].id);
      assert.ok(page1.meta.next_token);
      const ids: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const page = await v2.get('tweets/search/recent', { query: 'kafka', max_results: 20, ...(token ? { next_token: token } : {}) });
        for (const t of page.data ?? []) ids.push(t.id);
        token = page.meta.next_token;
        pages++;
      } while (token && pages < 50);
      assert.equal(token, undefined, 'the last page has no next_token');
      assert.equal(new Set(ids).size, ids.length, 'no post twice across pages');
      assert.ok(ids.every((id, i) => i === 0 || BigInt(id) < BigInt(ids[i - 1])), 'newest first');
      const expectedCount = Array.from({ length: 2000 }, (_, seq) => emu.post(seq)).filter((p) => /(^|[^\p{L}\p{N}_])kafka([^\p{L}\p{N}_]|$)/iu.test(p.text)).length;
      assert.equal(ids.length, expectedCount, 'every matching post, once');
      assert.equal(pages, Math.ceil(ids.length / 20), 'full pages until the last');

      // paginator of twitter-api-v2 follows next_token the same way
      const paginator = await v2.search('kafka', { max_results: 100 });
      await paginator.fetchLast(1000);
      assert.deepEqual(paginator.tweets.map((t) => t.id), ids);

      const since = ids[10];
      const newer = await v2.get('tweets/search/recent', { query: 'kafka', since_id: since, max_results: 100 });
      assert.deepEqual(newer.data.map((t: { id: string }) => t.id), ids.slice(0, 10));
      const older = await v2.get('tweets/search/recent', { query: 'kafka', until_id: ids[5], max_results: 10 });
      assert.deepEqual(older.data.map((t: { id: string }) => t.id), ids.slice(6, 16));

      const none = await v2.get('tweets/search/recent', { query: 'zzzznotaword' });
      assert.deepEqual(none.meta, { result_count: 0 });
      assert.equal(none.data, undefined);

      const withUsers = await v2.get('tweets/search/recent', { query: 'kafka', expansions: 'author_id', 'tweet.fields': 'author_id' });
      const authorIds = new Set(withUsers.data.map((t: { author_id: string }) => t.author_id));
      assert.deepEqual(new Set(withUsers.includes.users.map((u: { id: string }) => u.id)), authorIds);
    });
  });

  test('search sees live posts and refuses bad parameters', async () => {
    await withEmulator({ postsPerSecond: 2000, historyPosts: 0 }, async (emu) => {
      await sleep(300);
      const r = await request(emu, 'GET', '/2/tweets/search/recent?query=the&max_results=10');
      assert.equal(r.status, 200);
      assert.ok(snowflakeTime(r.body.meta.newest_id) > Date.now() - 2000);
      for (const [q, re] of [
        ['query=kafka&max_results=5', /not between 10 and 100/],
        ['query=kafka&max_results=101', /not between 10 and 100/],
        ['max_results=10', /can not be empty/],
        ['query=(kafka', /parentheses/],
        ['query=kafka&since_id=abc', /since_id/],
        ['query=kafka&start_time=2001-01-01T00:00:00Z', /start_time/],
        ['query=kafka&next_token=garbage', /pagination token/],
      ] as const) {
        const bad = await request(emu, 'GET', `/2/tweets/search/recent?${q}`);
        assert.equal(bad.status, 400, q);
        assert.equal(bad.body.type, 'https://api.twitter.com/2/problems/invalid-request');
        assert.match(bad.body.errors[0].message, re, q);
      }
      assert.equal(r.headers['x-rate-limit-limit'], '450');
    });
  });
});

describe('x-emulator: app-only token', () => {
  test('appLogin() with consumer keys gets the bearer token; wrong keys are refused', async () => {
    await withEmulator({ postsPerSecond: 0, apiKeys: [{ key: 'ck', secret: 'cs/+=' }] }, async (emu) => {
      const appOnly = await new TwitterApi({ appKey: 'ck', appSecret: 'cs/+=' }, emulatorSettings(emu.url)).appLogin();
      const rules = await appOnly.v2.streamRules();
      assert.equal(rules.meta.result_count, 0);
      assert.equal(emu.requests('rules.get')[0].token, emu.apiKeys[0].bearerToken);
      await assert.rejects(new TwitterApi({ appKey: 'ck', appSecret: 'wrong' }, emulatorSettings(emu.url)).appLogin(), (err: ApiResponseError) => {
        assert.equal(err.code, 403);
        assert.equal((err.data as unknown as { errors: Array<{ code: number }> }).errors[0].code, 99);
        return true;
      });
      const noGrant = await request(emu, 'POST', '/oauth2/token', {
        token: null,
        headers: { authorization: `Basic ${Buffer.from('ck:cs%2F%2B%3D').toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=password',
      });
      assert.equal(noGrant.status, 403);
    });
  });
});

describe('x-emulator: faults', () => {
  test('drop after N posts: the client sees the connection end abruptly, having every emitted post and only those', async () => {
    await withEmulator({ postsPerSecond: 3000 }, async (emu) => {
      // Armed before connecting, it waits for the connection and counts its posts from the first.
      const id = emu.faults.drop({ afterPosts: 250 });
      const stream = await emulatorClient(emu).v2.sampleStream();
      const got = collect(stream);
      const errors: unknown[] = [];
      stream.on(ETwitterStreamEvent.ConnectionError, (e) => errors.push(e));
      const closed = new Promise((r) => stream.on(ETwitterStreamEvent.ConnectionClosed, r));
      await closed;
      const [conn] = emu.connections();
      assert.equal(conn.closeReason, 'drop');
      assert.equal(conn.emitted, 250);
      assert.deepEqual(got.posts.map((p) => p.data.id), emu.emittedIds(conn.id), 'every emitted post arrived once');
      assert.equal(errors.length, 1, 'twitter-api-v2 saw a connection error');
      assert.equal(emu.faults.fired(id)[0].connectionId, conn.id);
    });
  });

  test('drop mid-record leaves half a record on the wire; drop with reset is ECONNRESET', async () => {
    await withEmulator({ postsPerSecond: 1000 }, async (emu) => {
      emu.faults.drop({ afterPosts: 20, midRecord: true });
      const s = await rawStream(emu, '/2/tweets/sample/stream');
      assert.equal(await s.closed, 'aborted');
      const text = Buffer.concat(s.chunks).toString('utf8');
      assert.ok(!text.endsWith('\r\n'), 'the last record is cut');
      assert.equal(s.records.length, 20);
      assert.equal(emu.emittedCount(), 20, 'the cut post does not count as emitted');

      const r = await rawStream(emu, '/2/tweets/sample/stream');
      await until('posts', () => r.records.length > 5);
      emu.faults.drop({ reset: true });
      assert.equal(await r.closed, 'ECONNRESET');
      assert.equal(emu.connections()[1].closeReason, 'reset');
    });
  });

  test('drop with holdSlotMs: reconnects get 429 TooManyConnections until the slot frees; twitter-api-v2 reconnects after', async () => {
    await withEmulator({ postsPerSecond: 500 }, async (emu) => {
      const stream = await emulatorClient(emu).v2.sampleStream({ autoConnect: false });
      const got = collect(stream);
      const reconnected = new Promise((r) => stream.on(ETwitterStreamEvent.Reconnected, r));
      await stream.connect({ autoReconnect: true, autoReconnectRetries: 20, nextRetryTimeout: () => 50 });
      await until('posts', () => got.posts.length > 10);
      emu.faults.drop({ holdSlotMs: 300 });
      await reconnected;
      stream.close();
      const attempts = emu.requests('sample');
      const refused = attempts.filter((a) => a.status === 429);
      assert.ok(refused.length >= 2, `${refused.length} connects refused while the slot was held`);
      const lastRefused = refused[refused.length - 1].at;
      const dropAt = emu.connections()[0].closedAt!;
      assert.ok(lastRefused - dropAt < 350, 'refusals only while the slot was held');
      assert.equal(attempts[attempts.length - 1].status, 200);
      assert.ok(attempts[attempts.length - 1].at - dropAt >= 290, 'accepted once the hold ended');
    });
  });

  test('stall: nothing at all (no keep-alives) for the stall, then the backlog', async () => {
    await withEmulator({ postsPerSecond: 500, keepAliveMs: 50 }, async (emu) => {
      const s = await rawStream(emu, '/2/tweets/sample/stream');
      await until('posts', () => s.records.length > 10);
      const before = s.records.length;
      const id = emu.faults.stall(400);
      const [fired] = await emu.faults.waitFired(id);
      const bytes = (): number => emu.connections()[0].bytes;
      const atStall = bytes();
      await sleep(250);
      assert.equal(bytes(), atStall, 'not a byte during the stall: no posts, no keep-alives (keepAliveMs 50)');
      await until('data again', () => bytes() > atStall, 3000);
      assert.ok(Date.now() - fired.at >= 395, `bytes again ${Date.now() - fired.at} ms after the stall began`);
      await until('backlog', () => s.records.length > before + 150, 3000);
      s.close();
      const ids = s.records.map((r) => r.data.id);
      assert.ok(isIncreasing(ids), 'the backlog comes in order with nothing lost');
      assert.equal(emu.seqOf(ids[ids.length - 1]) - emu.seqOf(ids[0]) + 1, ids.length);
    });
  });

  test('stall for ever: twitter-api-v2 keepAliveTimeout notices and reconnects', async () => {
    await withEmulator({ postsPerSecond: 200, keepAliveMs: 50 }, async (emu) => {
      const stream = await emulatorClient(emu).v2.sampleStream({ autoConnect: false });
      collect(stream);
      let lost = 0;
      stream.on(ETwitterStreamEvent.ConnectionLost, () => lost++);
      const reconnected = new Promise((r) => stream.on(ETwitterStreamEvent.Reconnected, r));
      await stream.connect({ autoReconnect: true, keepAliveTimeout: 300, nextRetryTimeout: () => 20 });
      await sleep(100);
      emu.faults.stall();
      await reconnected;
      stream.close();
      assert.equal(lost, 1);
      const conns = emu.connections();
      assert.equal(conns.length, 2);
      assert.equal(conns[0].closeReason, 'client', 'the client gave up on the stalled connection');
    });
  });

  test('429/503/401/403 for the next N connects, and twitter-api-v2 retrying through them (timing from the request log)', async () => {
    await withEmulator({ postsPerSecond: 100 }, async (emu) => {
      emu.faults.tooManyRequests(2, 30);
      emu.faults.unavailable(1);
      const stream = await emulatorClient(emu).v2.sampleStream({ autoConnect: false });
      const got = collect(stream);
      const delays = [40, 80, 160, 320];
      await stream.connect({ autoReconnect: true, autoReconnectRetries: 10, nextRetryTimeout: (n) => delays[Math.min(n, delays.length) - 1] });
      await until('posts', () => got.posts.length > 0);
      stream.close();
      const log = emu.requests('sample');
      assert.deepEqual(log.map((r) => r.status), [429, 429, 503, 200]);
      const gaps = log.slice(1).map((r, i) => r.at - log[i].at);
      assert.ok(gaps[0] >= 35 && gaps[1] >= 75 && gaps[2] >= 155, `retry gaps ${gaps.join(',')} ms follow nextRetryTimeout (40, 80, 160)`);

      emu.faults.tooManyRequests(1, 30);
      const r429 = await request(emu, 'GET', '/2/tweets/sample/stream');
      assert.equal(r429.status, 429);
      assert.equal(r429.headers['x-rate-limit-remaining'], '0');
      const reset = Number(r429.headers['x-rate-limit-reset']);
      assert.ok(reset >= Math.floor(Date.now() / 1000) + 28 && reset <= Math.floor(Date.now() / 1000) + 31);

      emu.faults.unauthorized(1);
      const r401 = await request(emu, 'GET', '/2/tweets/sample/stream');
      assert.deepEqual([r401.status, r401.body], [401, { title: 'Unauthorized', type: 'about:blank', status: 401, detail: 'Unauthorized' }]);
      emu.faults.forbidden(1);
      const r403 = await request(emu, 'GET', '/2/tweets/sample/stream');
      assert.equal(r403.status, 403);
      assert.equal(r403.body.reason, 'client-not-enrolled');
      assert.equal(r403.body.type, 'https://api.twitter.com/2/problems/client-forbidden');
      emu.faults.unavailable(1);
      const r503 = await request(emu, 'GET', '/2/tweets/sample/stream');
      assert.equal(r503.status, 503);
      emu.faults.reject(500, { endpoint: 'rules' });
      assert.equal((await request(emu, 'GET', '/2/tweets/search/stream/rules')).status, 500);
      assert.equal((await request(emu, 'GET', '/2/tweets/search/stream/rules')).status, 200, 'a fault is used up');
    });
  });

  test('split "\\r\\n" into its own chunk: the bytes are right; twitter-api-v2 1.29 mistakes it for a keep-alive and loses posts', async () => {
    await withEmulator({ postsPerSecond: 1000, keepAliveMs: 60_000 }, async (emu) => {
      const s = await rawStream(emu, '/2/tweets/sample/stream');
      await until('posts', () => s.records.length > 5);
      const base = s.records.length;
      const id = emu.faults.split({ mode: 'crlf', records: 3 });
      await emu.faults.waitFired(id);
      await until('more posts', () => s.records.length > base + 60);
      s.close();
      const lone = s.chunks.findIndex((c) => c.toString() === '\r\n');
      assert.ok(lone > 0, 'a lone \\r\\n chunk');
      assert.ok(s.chunks[lone - 1].toString().endsWith('}') && !s.chunks[lone - 1].toString().endsWith('\r\n'), 'after a record with no terminator');
      assert.equal(s.events.filter((e) => e.kind === 'malformed').length, 0, 'a byte-exact reader loses nothing');
      assert.equal(s.events.filter((e) => e.kind === 'keep-alive').length, 0);

      // The same fault through twitter-api-v2: its lone-"\r\n" keep-alive check swallows the terminators.
      const emu2 = emu;
      emu2.setRate(1000);
      const stream = await emulatorClient(emu2).v2.sampleStream();
      const got = collect(stream);
      await until('posts', () => got.posts.length > 5);
      const base2 = got.posts.length;
      emu2.faults.split({ mode: 'crlf', records: 2 });
      await until('more posts', () => got.posts.length > base2 + 60);
      const connId = emu2.connections({ active: true })[0].id;
      emu2.setRate(0);
      // The two split records and the record after them are glued into one unparseable line.
      await until('the rest', () => got.posts.length === emu2.emittedCount(connId) - 3);
      stream.close();
      assert.equal(got.keepAlives, 2, 'the two lone terminators were taken for keep-alives');
      assert.equal(got.parseErrors.length, 1, 'and the glued records failed to parse');
    });
  });

  test('split inside a UTF-8 character: whole for a byte-exact reader, U+FFFD through twitter-api-v2 1.29', async () => {
    await withEmulator({ postsPerSecond: 1000, seed: 5 }, async (emu) => {
      const s = await rawStream(emu, '/2/tweets/sample/stream');
      await until('posts', () => s.records.length > 5);
      const base = s.records.length;
      const id = emu.faults.split({ mode: 'mid', insideUtf8: true, records: 20 });
      await emu.faults.waitFired(id);
      await until('more posts', () => s.records.length > base + 80);
      s.close();
      const cutInside = s.chunks.filter((c) => c.length > 0 && (c[0] & 0xc0) === 0x80);
      assert.ok(cutInside.length >= 5, 'chunks begin in the middle of a UTF-8 sequence');
      assert.ok(s.records.every((r) => !r.data.text.includes('\ufffd')), 'a byte-exact reader sees whole characters');
      assert.equal(s.events.filter((e) => e.kind === 'malformed').length, 0);
      const ids = s.records.map((r) => r.data.id);
      assert.deepEqual(ids, emu.emittedIds().slice(0, ids.length));

      const v2stream = await emulatorClient(emu).v2.sampleStream();
      const got = collect(v2stream);
      await until('posts', () => got.posts.length > 5);
      const base2 = got.posts.length;
      emu.faults.split({ mode: 'mid', insideUtf8: true, records: 10 });
      await until('more posts', () => got.posts.length > base2 + 60);
      v2stream.close();
      assert.ok(got.posts.some((p) => p.data.text.includes('\ufffd')), 'twitter-api-v2 decodes each chunk alone');
    });
  });

  test('split into small pieces with gaps: records arrive whole after reassembly', async () => {
    await withEmulator({ postsPerSecond: 200 }, async (emu) => {
      const s = await rawStream(emu, '/2/tweets/sample/stream');
      await until('posts', () => s.records.length > 2);
      const base = s.records.length;
      const id = emu.faults.split({ mode: 'bytes', pieceBytes: 16, gapMs: 2, records: 2 });
      await emu.faults.waitFired(id);
      await until('posts', () => s.records.length > base + 20);
      s.close();
      assert.ok(s.chunks.filter((c) => c.length === 16).length >= 10, 'many 16-byte chunks');
      assert.equal(s.events.filter((e) => e.kind === 'malformed').length, 0);
      assert.ok(isIncreasing(s.records.map((r) => r.data.id)));
    });
  });

  test('operational disconnect: the error object, then a clean end; twitter-api-v2 reports a data error', async () => {
    await withEmulator({ postsPerSecond: 500 }, async (emu) => {
      emu.faults.operationalDisconnect({ afterPosts: 30 });
      const s = await rawStream(emu, '/2/tweets/sample/stream');
      assert.equal(await s.closed, 'end', 'the response ends with its terminating chunk');
      assert.equal(s.records.length, 31);
      assert.deepEqual(s.records[30], {
        errors: [
          {
            title: 'operational-disconnect',
            disconnect_type: 'OperationalDisconnect',
            detail: 'This stream has been disconnected for operational reasons.',
            type: 'https://api.twitter.com/2/problems/operational-disconnect',
          },
        ],
      });
      assert.equal(emu.connections()[0].closeReason, 'operational-disconnect');

      emu.faults.operationalDisconnect({ afterPosts: 5 });
      const stream = await emulatorClient(emu).v2.sampleStream();
      const got = collect(stream);
      const closed = new Promise((r) => stream.on(ETwitterStreamEvent.ConnectionClosed, r));
      await closed;
      assert.equal(got.posts.length, 5);
      assert.equal((got.dataErrors[0] as { errors: Array<{ disconnect_type: string }> }).errors[0].disconnect_type, 'OperationalDisconnect');
    });
  });

  test('malformed line: a parse error, and the stream goes on', async () => {
    await withEmulator({ postsPerSecond: 500 }, async (emu) => {
      const stream = await emulatorClient(emu).v2.sampleStream();
      const got = collect(stream);
      const base = got.posts.length;
      emu.faults.malformed({ afterPosts: 10 });
      await until('posts after the bad line', () => got.posts.length > base + 30);
      stream.close();
      assert.equal(got.parseErrors.length, 1);
      assert.deepEqual(got.posts.map((p) => p.data.id), emu.emittedIds().slice(0, got.posts.length));
    });
  });

  test('scheduled and repeated faults: every N posts, per endpoint and token', async () => {
    await withEmulator({ postsPerSecond: 2000, bearerTokens: ['t1', 't2'] }, async (emu) => {
      emu.addRules([{ value: 'the OR a OR lang:ja OR lang:ko' }], 't1');
      // Armed before any connection: it waits for the first sample-stream connection.
      const id = emu.faults.malformed({ endpoint: 'sample', afterPosts: 50, times: 3, line: 'not json' });
      const a = await rawStream(emu, '/2/tweets/search/stream', 't1');
      const b = await rawStream(emu, '/2/tweets/sample/stream', 't2');
      await emu.faults.waitFired(id, 3);
      await until('posts after', () => b.events.filter((e) => e.kind === 'malformed').length === 3);
      a.close();
      b.close();
      assert.equal(a.events.filter((e) => e.kind === 'malformed').length, 0, 'not on the filtered stream');
      const kinds = b.events.filter((e) => e.kind !== 'keep-alive').map((e) => e.kind);
      const positions = kinds.flatMap((k, i) => (k === 'malformed' ? [i] : []));
      assert.deepEqual(positions, [50, 101, 152], 'after every 50 posts');
      assert.ok(emu.faults.fired(id).every((f) => f.connectionId === emu.connections()[1].id));
    });
  });

  test('hang: the request is never answered, then the socket closes', async () => {
    await withEmulator({ postsPerSecond: 100 }, async (emu) => {
      emu.faults.hang({ ms: 200 });
      const t0 = Date.now();
      await assert.rejects(request(emu, 'GET', '/2/tweets/sample/stream'), /socket hang up|ECONNRESET/);
      assert.ok(Date.now() - t0 >= 190);
      assert.equal(emu.requests('sample')[0].status, 0, 'logged without a status');
    });
  });

  test('HTTP control endpoint: faults, stats, rate, emitted posts', async () => {
    await withEmulator({ postsPerSecond: 1000 }, async (emu) => {
      const info = await request(emu, 'GET', '/__control/info', { token: null });
      assert.equal(info.body.bearerToken, emu.bearerToken);
      const armed = await request(emu, 'POST', '/__control/faults', { token: null, body: [{ type: 'drop', afterPosts: 40 }] });
      assert.equal(armed.status, 200);
      assert.equal(armed.body.ids.length, 1);
      const s = await rawStream(emu, '/2/tweets/sample/stream');
      assert.equal(await s.closed, 'aborted');
      assert.equal(s.records.length, 40);
      const faults = await request(emu, 'GET', '/__control/faults', { token: null });
      assert.equal(faults.body.fired[0].faultId, armed.body.ids[0]);
      const emitted = await request(emu, 'GET', '/__control/emitted?ids=true', { token: null });
      assert.equal(emitted.body.count, 40);
      assert.deepEqual(emitted.body.ids, s.records.map((r) => r.data.id));
      const stats = await request(emu, 'GET', '/__control/stats', { token: null });
      assert.equal(stats.body.connects, 1);
      assert.equal(stats.body.postsEmitted, 40);
      const rate = await request(emu, 'POST', '/__control/rate', { token: null, body: { postsPerSecond: 'max' } });
      assert.equal(rate.body.postsPerSecond, 'max');
      const post = await request(emu, 'GET', `/__control/post?id=${s.records[0].data.id}`, { token: null });
      assert.deepEqual(post.body, s.records[0]);
      const bad = await request(emu, 'POST', '/__control/faults', { token: null, body: { type: 'explode' } });
      assert.equal(bad.status, 400);
      assert.match(bad.body.error, /unknown fault type/);
      const connect = await request(emu, 'POST', '/__control/faults', { token: null, body: { type: 'status', status: 503, count: 2 } });
      assert.equal(connect.status, 200);
      assert.equal((await request(emu, 'GET', '/2/tweets/sample/stream')).status, 503);
      assert.equal((await request(emu, 'DELETE', '/__control/faults', { token: null })).status, 200);
      const ok = await rawStream(emu, '/2/tweets/sample/stream');
      assert.equal(ok.status, 200, 'cleared');
      ok.close();
      assert.equal(emu.requests().filter((r) => r.endpoint === 'control').length, 0, 'control calls are not in the API request log');
    });
  });
});

describe('x-emulator: CLI', () => {
  test('prints its URL and token as JSON and serves the stream', async () => {
    const cli = path.join(__dirname, '..', 'support', 'x-emulator', 'cli.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', cli, '--port', '0', '--rate', '200', '--rule', 'kafka OR the#demo', '--stop-on-stdin-eof'], {
      cwd: path.join(__dirname, '..', '..'),
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        readline.createInterface({ input: child.stdout! }).once('line', resolve);
        child.once('exit', (code) => reject(new Error(`cli exited ${code}`)));
      });
      const info = JSON.parse(line) as { url: string; bearerToken: string; apiKeys: Array<{ key: string }>; controlUrl: string };
      assert.match(info.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(info.controlUrl, `${info.url}/__control`);
      const client = new TwitterApi(info.bearerToken, emulatorSettings(info.url));
      const rules = await client.v2.streamRules();
      assert.deepEqual(rules.data.map((r) => [r.value, r.tag]), [['kafka OR the', 'demo']]);
      const stream = await client.v2.searchStream();
      const got = collect(stream);
      await until('posts', () => got.posts.length >= 3, 5000);
      stream.close();
      assert.equal(got.posts[0].matching_rules[0].tag, 'demo');
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.stdin!.end();
      await Promise.race([exited, sleep(5000).then(() => child.kill('SIGKILL'))]);
    }
  });
});
