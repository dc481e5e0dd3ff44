// Recent-search polling against the X emulator: since_id from the first page's newest_id,
// next_token paging, the cursor committed only after the posts left, a restart that neither
// re-emits nor skips.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startXEmulator, type XEmulator } from '../support/x-emulator';
import { includesFor, RecentSearchPoller, type SearchCursor } from '../../src/lib/x/recent-search';
import type { StreamPost } from '../../src/lib/x/stream-client';
import { BearerSource, XApiError, XClient } from '../../src/lib/x/x-client';

const QUERY = 'the OR a OR lang:ja OR lang:ko OR lang:es';
const PARAMS = { 'tweet.fields': 'author_id,created_at', expansions: 'author_id' };

/** Every post id the emulator matches for QUERY since `startTime` (a reference search, paged to the end). */
async function allIds(client: XClient, startTime: string): Promise<string[]> {
  const ids: string[] = [];
  let token: string | undefined;
  for (let i = 0; i < 1000; i++) {
    const res = await client.get('/2/tweets/search/recent', { query: QUERY, start_time: startTime, max_results: 100, next_token: token });
    for (const d of res.data.data ?? []) ids.push(d.id);
    token = res.data.meta?.next_token;
    if (!token) break;
  }
  return ids.reverse();
}

function memoryStore() {
  let cursor: SearchCursor | undefined;
  return {
    get: () => cursor,
    set: (c: SearchCursor) => void (cursor = JSON.parse(JSON.stringify(c))),
    peek: () => cursor,
  };
}

interface Run {
  poller: RecentSearchPoller;
  got: StreamPost[];
  polls: Array<{ posts: number; more: boolean }>;
  fatal: XApiError[];
  retries: number[];
}

function run(client: XClient, store: ReturnType<typeof memoryStore>, extra: Partial<ConstructorParameters<typeof RecentSearchPoller>[0]> = {}): Run {
  const r: Run = { got: [], polls: [], fatal: [], retries: [] } as unknown as Run;
  r.poller = new RecentSearchPoller({
    client,
    query: QUERY,
    params: PARAMS,
    intervalMs: 100,
    lookbackMinutes: 10,
    store,
    policy: undefined,
    handlers: {
      posts: async (records) => void r.got.push(...records),
      polled: (info) => r.polls.push({ posts: info.posts, more: info.more }),
      fatal: (e) => r.fatal.push(e),
      retrying: (_e, d) => r.retries.push(d.delayMs),
    },
    ...extra,
  });
  return r;
}

async function until(fn: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('recent search polling against the X emulator', () => {
  let emu: XEmulator;
  let client: XClient;
  before(async () => {
    // 3000 posts over the last hour (~50 a minute), and a few new ones every second.
    emu = await startXEmulator({ postsPerSecond: 5, historyPosts: 3000, historySpanMs: 3600_000, rateLimits: false });
    client = new XClient({ baseUrl: emu.url, bearer: new BearerSource(emu.url, { bearerToken: emu.bearerToken }) });
  });
  after(async () => {
    client.close();
    await emu.stop();
  });

  it('pages with next_token, sends oldest first, then only newer posts (since_id); each post once', async () => {
    const store = memoryStore();
    const r = run(client, store, { maxPages: 100, maxResults: 10 });
    r.poller.start();
    await until(() => r.polls.length >= 3);
    await r.poller.close();
    const ids = r.got.map((p) => p.data.id);
    assert.equal(new Set(ids).size, ids.length, 'no post twice');
    assert.ok(r.polls[0].posts > 50, `first poll found ${r.polls[0].posts}`);
    // Oldest first: ids (snowflakes) increase.
    for (let i = 1; i < ids.length; i++) assert.ok(BigInt(ids[i]) > BigInt(ids[i - 1]), `order at ${i}`);
    // The cursor is the newest post sent.
    assert.equal(store.peek()?.sinceId, ids[ids.length - 1]);
    // Every matching post since the first poll's start_time, none missing.
    const reference = await allIds(client, new Date(Date.now() - 10 * 60_000 - 60_000).toISOString());
    const upTo = reference.filter((id) => BigInt(id) <= BigInt(ids[ids.length - 1]) && BigInt(id) >= BigInt(ids[0]));
    assert.deepEqual(ids, upTo);
    // Includes: the author of each post.
    const p = r.got[0];
    assert.equal((p.includes?.users as Array<{ id: string }>)[0].id, p.data.author_id);
  });

  it('stops a long poll at maxPages and fetches the rest at once in the next poll, losing nothing', async () => {
    const store = memoryStore();
    const r = run(client, store, { maxPages: 2, maxResults: 10, intervalMs: 60_000 });
    const t0 = new Date(Date.now() - 10 * 60_000).toISOString();
    r.poller.start();
    // The first poll sees ~500 posts: 2 pages of 10 per poll, then the rest right away.
    await until(() => r.polls.some((p) => !p.more), 20_000);
    await r.poller.close();
    assert.ok(r.polls.length > 5, `${r.polls.length} polls`);
    assert.ok(r.polls.slice(0, -1).every((p) => p.more));
    const ids = r.got.map((p) => p.data.id);
    assert.equal(new Set(ids).size, ids.length);
    const reference = new Set(await allIds(client, t0));
    const newest = store.peek()!.sinceId!;
    for (const id of reference) if (BigInt(id) <= BigInt(newest)) assert.ok(ids.includes(id), `post ${id} missing`);
  });

  it('a restart with the saved cursor neither re-emits nor skips', async () => {
    const store = memoryStore();
    const r1 = run(client, store, { maxPages: 100 });
    r1.poller.start();
    await until(() => r1.polls.length >= 1);
    await r1.poller.close();
    const seen = new Set(r1.got.map((p) => p.data.id));
    const lastBefore = store.peek()!.sinceId!;
    await new Promise((res) => setTimeout(res, 1500)); // new posts meanwhile
    const r2 = run(client, store, { maxPages: 100 });
    r2.poller.start();
    await until(() => r2.polls.length >= 1);
    await r2.poller.close();
    assert.ok(r2.got.length > 0, 'new posts after the restart');
    for (const p of r2.got) {
      assert.ok(!seen.has(p.data.id), `re-emitted ${p.data.id}`);
      assert.ok(BigInt(p.data.id) > BigInt(lastBefore));
    }
    const reference = await allIds(client, new Date(Date.now() - 60_000).toISOString());
    const newest = BigInt(store.peek()!.sinceId!);
    const expected = reference.filter((id) => BigInt(id) > BigInt(lastBefore) && BigInt(id) <= newest);
    assert.deepEqual(r2.got.map((p) => p.data.id), expected);
  });

  it('commits no cursor for posts that never reached the flow (closed meanwhile): they come again', async () => {
    const store = memoryStore();
    store.set({ startTime: new Date(Date.now() - 2 * 60_000).toISOString() });
    let handedOver = 0;
    const poller = new RecentSearchPoller({
      client,
      query: QUERY,
      params: PARAMS,
      intervalMs: 100,
      store,
      handlers: { posts: (records) => ((handedOver += records.length), new Promise<void>(() => undefined)) },
    });
    poller.start();
    await until(() => handedOver > 0);
    const closing = poller.close();
    // close() waits for the poll under way; the flow never took the posts, so nothing resolves it:
    // the node releases it when it clears its queue. Here, give up waiting.
    await Promise.race([closing, new Promise((res) => setTimeout(res, 200))]);
    assert.equal(store.peek()?.sinceId, undefined);
    assert.ok(store.peek()?.startTime);
  });

  it('401 is fatal (no retry); 503 and 429 are retried with their backoffs, 429 not before x-rate-limit-reset', async () => {
    const store = memoryStore();
    emu.faults.reject(503, { endpoint: 'search', count: 1 });
    emu.faults.tooManyRequests(1, 2, { endpoint: 'search' });
    const { ReconnectPolicy } = await import('../../src/lib/x/reconnect-policy');
    const r = run(client, store, { policy: new ReconnectPolicy({ httpInitialMs: 50, rateLimitInitialMs: 100 }), maxPages: 100 });
    const t0 = Date.now();
    r.poller.start();
    await until(() => r.polls.length >= 1, 10_000);
    await r.poller.close();
    assert.equal(r.retries.length, 2);
    assert.equal(r.retries[0], 50);
    assert.ok(r.retries[1] >= 1000 - 50, `429 wait ${r.retries[1]} ms honours the reset`);
    assert.ok(Date.now() - t0 >= 1000);

    emu.faults.unauthorized(1, { endpoint: 'search' });
    const r2 = run(client, memoryStore());
    r2.poller.start();
    await until(() => r2.fatal.length === 1);
    await new Promise((res) => setTimeout(res, 300));
    await r2.poller.close();
    assert.equal(r2.fatal[0].status, 401);
    assert.equal(r2.retries.length, 0);
    assert.equal(r2.polls.length, 0);
  });
});

describe('includesFor', () => {
  it('picks the objects one post refers to', () => {
    const page = {
      users: [{ id: '1', username: 'alice' }, { id: '2', username: 'bob' }, { id: '3', username: 'carol' }],
      tweets: [{ id: '100' }, { id: '101' }],
      media: [{ media_key: 'm1' }, { media_key: 'm2' }],
      places: [{ id: 'p1' }],
    };
    const post = {
      id: '200',
      author_id: '1',
      entities: { mentions: [{ username: 'Carol' }] },
      referenced_tweets: [{ type: 'quoted', id: '101' }],
      attachments: { media_keys: ['m2'] },
    };
    assert.deepEqual(includesFor(post, page), {
      users: [{ id: '1', username: 'alice' }, { id: '3', username: 'carol' }],
      tweets: [{ id: '101' }],
      media: [{ media_key: 'm2' }],
    });
    assert.equal(includesFor({ id: '1' }, page), undefined);
    assert.equal(includesFor(post, undefined), undefined);
  });
});
