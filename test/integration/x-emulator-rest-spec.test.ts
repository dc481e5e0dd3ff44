// The emulator's REST side against X's published OpenAPI spec (2.167) and docs: field lists,
// strict booleans, rules pagination, recent-search parameters, access-level limits, the usage
// cap, problem hosts and rule ids. Sources are named in test/support/x-emulator/spec-params.ts
// and in the README's "REST behaviour" table.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type XEmulator, type XEmulatorOptions } from '../support/x-emulator';
import * as spec from '../support/x-emulator/spec-params';
import { request, withEmulator, type HttpResult } from '../support/x-emulator/testing';

const messages = (r: HttpResult): string => (r.body?.errors ?? []).map((e: { message?: string }) => e.message).join('\n');

function assertInvalidRequest(r: HttpResult, re: RegExp, what: string): void {
  assert.equal(r.status, 400, what);
  assert.equal(r.body.title, 'Invalid Request', what);
  assert.equal(r.body.detail, 'One or more parameters to your request was invalid.', what);
  assert.equal(r.body.type, 'https://api.twitter.com/2/problems/invalid-request', what);
  assert.match(messages(r), re, what);
}

describe('x-emulator REST side: the spec', () => {
  test('field lists: each endpoint takes exactly its spec values; unknown or repeated values are a 400', async () => {
    await withEmulator({ historyPosts: 200 }, async (emu) => {
      // Streams: the Tweet vocabulary of spec 2.167, including its newest values.
      const stream = (q: string) => request(emu, 'GET', `/2/tweets/sample/stream?${q}`);
      for (const [name, list] of [
        ['tweet.fields', spec.TWEET_FIELDS],
        ['expansions', spec.TWEET_EXPANSIONS],
        ['user.fields', spec.TWEET_USER_FIELDS],
        ['media.fields', spec.MEDIA_FIELDS],
        ['poll.fields', spec.POLL_FIELDS],
        ['place.fields', spec.PLACE_FIELDS],
      ] as const) {
        assert.equal((await stream(`${name}=${list.join(',')}`)).status, 200, `every ${name} value on the sample stream`);
        const bad = await stream(`${name}=${list[0]},nope`);
        assertInvalidRequest(bad, new RegExp(`The \`${name.replace('.', '\\.')}\` query parameter value \\[nope\\] is not one of \\[${list.join(',')}\\]`), name);
      }
      for (const v of ['suggested_source_links', 'paid_partnership', 'matched_media_notes', 'note_request_suggestions']) assert.ok(spec.TWEET_FIELDS.includes(v), v);
      assert.ok(spec.TWEET_USER_FIELDS.includes('confirmed_email'));
      assertInvalidRequest(await stream('expansions=referenced_posts'), /value \[referenced_posts\] is not one of/, 'Post vocabulary is not the stream\'s');

      // uniqueItems: a value twice is refused (both streams and search).
      assertInvalidRequest(await stream('tweet.fields=id,lang,id'), /The `tweet\.fields` query parameter value \[id\] is repeated/, 'repeat on a stream');
      const search = (q: string) => request(emu, 'GET', `/2/tweets/search/recent?query=the&${q}`);
      assertInvalidRequest(await search('user.fields=name,name'), /The `user\.fields` query parameter value \[name\] is repeated/, 'repeat on search');

      // Recent search: spec 2.167 lists post.fields; tweet.fields (docs, spec 2.166) still works.
      const tweetMode = await search(`tweet.fields=${spec.TWEET_FIELDS.join(',')}&expansions=author_id&user.fields=${spec.TWEET_USER_FIELDS.join(',')}`);
      assert.equal(tweetMode.status, 200);
      assert.ok(tweetMode.body.data[0].edit_history_tweet_ids, 'Tweet vocabulary in, Tweet vocabulary out');
      const postMode = await search(`post.fields=${spec.POST_FIELDS.join(',')}&expansions=${spec.POST_EXPANSIONS.join(',')}&user.fields=${spec.POST_USER_FIELDS.join(',')}`);
      assert.equal(postMode.status, 200, messages(postMode));
      assert.ok(postMode.body.data[0].edit_history_post_ids, 'Post vocabulary in, Post vocabulary out');
      assert.equal(postMode.body.data[0].edit_history_tweet_ids, undefined);
      assert.ok(postMode.body.includes.users.length > 0, 'author_id is in both expansion lists');
      assertInvalidRequest(await search('post.fields=author_id'), new RegExp(`value \\[author_id\\] is not one of \\[${spec.POST_FIELDS.join(',')}\\]`), 'author_id is no Post field');
      assertInvalidRequest(await search('post.fields=id&user.fields=pinned_tweet_id'), new RegExp(`is not one of \\[${spec.POST_USER_FIELDS.join(',')}\\]`), 'Post-vocabulary user fields');
      assert.equal((await search('expansions=referenced_posts')).status, 200, 'expansions of either vocabulary are accepted on search');
      assertInvalidRequest(await search('expansions=nope'), new RegExp(`is not one of \\[${spec.TWEET_EXPANSIONS.join(',')}\\]`), 'the 400 lists the Tweet vocabulary without post.fields');
    });
  });

  test('booleans: dry_run and delete_all take only "true" or "false"; dry_run=yes is a 400 and creates nothing', async () => {
    await withEmulator({}, async (emu) => {
      const post = (q: string, body: unknown) => request(emu, 'POST', `/2/tweets/search/stream/rules${q}`, { body });
      const yes = await post('?dry_run=yes', { add: [{ value: 'kafka' }] });
      assertInvalidRequest(yes, /The `dry_run` query parameter value \[yes\] is not one of \[true,false\]/, 'dry_run=yes');
      assert.deepEqual(emu.rules(), [], 'no rule created');
      for (const v of ['1', 'TRUE', '']) assertInvalidRequest(await post(`?dry_run=${v}`, { add: [{ value: 'kafka' }] }), /dry_run/, `dry_run=${v}`);
      assert.deepEqual(emu.rules(), []);

      assert.equal((await post('?dry_run=true', { add: [{ value: 'kafka' }] })).status, 201);
      assert.deepEqual(emu.rules(), [], 'dry_run=true validates only');
      assert.equal((await post('?dry_run=false', { add: [{ value: 'kafka' }] })).status, 201);
      assert.equal(emu.rules().length, 1, 'dry_run=false commits');

      assertInvalidRequest(await post('?delete_all=1', {}), /The `delete_all` query parameter value \[1\] is not one of \[true,false\]/, 'delete_all=1');
      assert.equal(emu.rules().length, 1, 'nothing deleted');
      const del = await post('?delete_all=true', {});
      assert.equal(del.status, 200);
      assert.deepEqual(del.body.meta.summary, { deleted: 1, not_deleted: 0 });
    });
  });

  test('rules GET: max_results pages with a 16-character next_token, meta.sent/result_count, ids filter', async () => {
    await withEmulator({}, async (emu) => {
      const added = emu.addRules(Array.from({ length: 25 }, (_, i) => ({ value: `kafka${i}`, tag: `t${i}` })));
      const get = (q: string) => request(emu, 'GET', `/2/tweets/search/stream/rules${q}`);

      const all = await get('');
      assert.equal(all.body.meta.result_count, 25, 'default max_results is 1000');
      assert.equal(all.body.meta.next_token, undefined);
      assert.ok(!Number.isNaN(Date.parse(all.body.meta.sent)));

      const seen: string[] = [];
      const sizes: number[] = [];
      let token: string | undefined;
      do {
        const page = await get(`?max_results=10${token ? `&pagination_token=${token}` : ''}`);
        assert.equal(page.status, 200, messages(page));
        sizes.push(page.body.meta.result_count);
        assert.equal(page.body.data.length, page.body.meta.result_count);
        for (const r of page.body.data) seen.push(r.id);
        token = page.body.meta.next_token;
        if (token) assert.match(token, /^[0-9A-V]{16}$/);
      } while (token);
      assert.deepEqual(sizes, [10, 10, 5]);
      assert.deepEqual(seen, added.map((r) => r.id), 'every rule once, in creation order');

      // A page token still works after the rule it names was deleted.
      const first = await get('?max_results=10');
      const nextId = added[10].id;
      await request(emu, 'POST', '/2/tweets/search/stream/rules', { body: { delete: { ids: [nextId] } } });
      const second = await get(`?max_results=10&pagination_token=${first.body.meta.next_token}`);
      assert.deepEqual(second.body.data.map((r: { id: string }) => r.id), added.slice(11, 21).map((r) => r.id));

      const some = await get(`?ids=${added[3].id},${added[4].id},${added[20].id}&max_results=2`);
      assert.deepEqual(some.body.data.map((r: { id: string }) => r.id), [added[3].id, added[4].id]);
      assert.ok(some.body.meta.next_token);
      const rest = await get(`?ids=${added[3].id},${added[4].id},${added[20].id}&max_results=2&pagination_token=${some.body.meta.next_token}`);
      assert.deepEqual(rest.body.data, [{ id: added[20].id, value: 'kafka20', tag: 't20' }]);

      for (const [q, re] of [
        ['?max_results=0', /The `max_results` query parameter value \[0\] is not between 1 and 1000/],
        ['?max_results=1001', /not between 1 and 1000/],
        ['?max_results=ten', /not between 1 and 1000/],
        ['?pagination_token=abc', /pagination_token/],
        ['?pagination_token=WWWWWWWWWWWWWWWW', /pagination token \[WWWWWWWWWWWWWWWW\] is invalid/],
        ['?ids=12x', /The `ids` query parameter value \[12x\] does not match \^\[0-9\]\{1,19\}\$/],
        [`?ids=${Array.from({ length: 1001 }, (_, i) => i + 1).join(',')}`, /at most 1000/],
      ] as const) {
        assertInvalidRequest(await get(q), re, q.slice(0, 40));
      }
    });
  });

  test('recent search: exclusive pairs refused (spec 2.167), sort_order recency|relevancy, max_results 10-100', async () => {
    // No live posts: the searches below must see the same history each time.
    await withEmulator({ historyPosts: 3000, seed: 5, postsPerSecond: 0 }, async (emu) => {
      const search = (q: string) => request(emu, 'GET', `/2/tweets/search/recent?query=the&${q}`);
      const recent = await search('max_results=10');
      const someId = recent.body.data[5].id;
      const t = new Date(Date.now() - 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');
      for (const [q, pair] of [
        [`since_id=${someId}&start_time=${t}`, /`start_time` and `since_id`/],
        [`until_id=${someId}&end_time=${t}`, /`end_time` and `until_id`/],
        ['next_token=b26v89c19zqg8o3f1&pagination_token=b26v89c19zqg8o3f1', /`pagination_token` and `next_token`/],
      ] as const) {
        assertInvalidRequest(await search(q), new RegExp(`At most one of the ${pair.source}`), q);
      }
      assert.equal((await search(`since_id=${someId}&end_time=${new Date().toISOString()}`)).status, 200, 'since_id with end_time is fine');
      assertInvalidRequest(await search('sort_order=newest'), /The `sort_order` query parameter value \[newest\] is not one of \[recency,relevancy\]/, 'sort_order');
      for (const m of ['9', '101']) assertInvalidRequest(await search(`max_results=${m}`), /is not between 10 and 100/, `max_results=${m}`);

      const collect = async (order: string): Promise<Array<{ id: string; score: number }>> => {
        const out: Array<{ id: string; score: number }> = [];
        let token: string | undefined;
        let pages = 0;
        do {
          const r = await search(`sort_order=${order}&max_results=100&tweet.fields=public_metrics${token ? `&next_token=${token}` : ''}`);
          assert.equal(r.status, 200, messages(r));
          for (const d of r.body.data ?? []) out.push({ id: d.id, score: spec.relevancyScore(d.public_metrics) });
          token = r.body.meta.next_token;
        } while (token && ++pages < 100);
        return out;
      };
      const byRecency = await collect('recency');
      const byRelevancy = await collect('relevancy');
      assert.ok(byRecency.length > 150, `enough matches (${byRecency.length}) for several pages`);
      assert.deepEqual(new Set(byRelevancy.map((x) => x.id)), new Set(byRecency.map((x) => x.id)), 'the same posts');
      assert.equal(new Set(byRelevancy.map((x) => x.id)).size, byRelevancy.length, 'no post twice across pages');
      assert.notDeepEqual(byRelevancy.map((x) => x.id), byRecency.map((x) => x.id), 'another order');
      assert.ok(byRelevancy.every((x, i) => i === 0 || x.score <= byRelevancy[i - 1].score), 'engagement first');
      assert.ok(byRecency.every((x, i) => i === 0 || BigInt(x.id) < BigInt(byRecency[i - 1].id)), 'recency: newest first');
      assert.deepEqual((await collect('relevancy')).map((x) => x.id), byRelevancy.map((x) => x.id), 'deterministic');
    });
  });

  test('access levels: rule length, rule count and query length caps, rate limits, Basic without filtered stream', async () => {
    const ppu = 'ppu-token-000000000000000000000000000000000';
    const basic = 'basic-token-00000000000000000000000000000000';
    await withEmulator({ bearerTokens: ['ent-token-0000000000000000000000000000000000', ppu, basic], tokenAccess: { [ppu]: 'pay-per-use', [basic]: 'basic' } }, async (emu) => {
      assert.equal(emu.accessLevel(emu.bearerToken), 'enterprise', 'default');
      const addRule = (value: string, token: string) => request(emu, 'POST', '/2/tweets/search/stream/rules?dry_run=true', { token, body: { add: [{ value }] } });
      const long = (n: number) => `kafka ${'z'.repeat(n - 6)}`;
      for (const [token, max] of [
        [emu.bearerToken, 2048],
        [ppu, 1024],
      ] as const) {
        assert.equal((await addRule(long(max), token)).status, 201, `${max} characters`);
        const over = await addRule(long(max + 1), token);
        assert.equal(over.status, 400);
        assert.equal(over.body.errors[0].type, 'https://api.twitter.com/2/problems/invalid-rules');
        assert.match(over.body.errors[0].details.join(), new RegExp(`too long.*${max}`));
      }

      // Rule count: 1,000 (pay-per-use) and 25,000 (Enterprise) per app.
      for (const [token, cap] of [
        [ppu, 1000],
        [emu.bearerToken, 25_000],
      ] as const) {
        emu.addRules(Array.from({ length: cap - 1 }, (_, i) => ({ value: `r${i}` })), token);
        assert.equal((await request(emu, 'POST', '/2/tweets/search/stream/rules', { token, body: { add: [{ value: 'last' }] } })).status, 201);
        const over = await request(emu, 'POST', '/2/tweets/search/stream/rules', { token, body: { add: [{ value: 'one-more' }] } });
        assert.equal(over.status, 400);
        assert.equal(over.body.errors[0].type, 'https://api.twitter.com/2/problems/rule-cap');
        assert.match(over.body.errors[0].detail, new RegExp(`${cap} rules`));
        assert.equal(emu.rules(token).length, cap);
      }

      // Recent-search query length: 512 below Enterprise, 4,096 for Enterprise.
      const q = (n: number, token: string) => request(emu, 'GET', `/2/tweets/search/recent?query=${encodeURIComponent(long(n))}`, { token });
      assert.equal((await q(512, ppu)).status, 200);
      assertInvalidRequest(await q(513, ppu), /too long.*512/, 'pay-per-use 513');
      assert.equal((await q(4096, emu.bearerToken)).status, 200);
      assertInvalidRequest(await q(4097, emu.bearerToken), /too long.*4096/, 'enterprise 4097');

      // Published per-app rate limits (Basic search 60 from the legacy table).
      const limit = async (method: string, p: string, token: string) => (await request(emu, method, p, { token, body: method === 'POST' ? { add: [{ value: 'x' }] } : undefined })).headers['x-rate-limit-limit'];
      assert.equal(await limit('GET', '/2/tweets/search/stream/rules', ppu), '450');
      assert.equal(await limit('POST', '/2/tweets/search/stream/rules?dry_run=true', ppu), '100');
      assert.equal(await limit('GET', '/2/tweets/search/recent?query=kafka', ppu), '450');
      assert.equal(await limit('GET', '/2/tweets/search/recent?query=kafka', basic), '60');
      assert.equal(await limit('GET', '/2/tweets/search/stream', ppu), '50');

      // Legacy Basic has no filtered stream: its rules endpoints are 403 client-forbidden.
      const forbidden = await request(emu, 'GET', '/2/tweets/search/stream/rules', { token: basic });
      assert.equal(forbidden.status, 403);
      assert.equal(forbidden.body.type, 'https://api.twitter.com/2/problems/client-forbidden');
      assert.equal(forbidden.body.reason, 'client-not-enrolled');
    });
  });

  test('rules POST rate limit: the 101st in a window is 429 with x-rate-limit-remaining 0', async () => {
    await withEmulator({ access: 'pay-per-use' } as XEmulatorOptions, async (emu) => {
      for (let i = 0; i < 100; i++) {
        const r = await request(emu, 'POST', '/2/tweets/search/stream/rules?dry_run=true', { body: { add: [{ value: `k${i}` }] } });
        assert.equal(r.status, 201);
        assert.equal(r.headers['x-rate-limit-remaining'], String(99 - i));
      }
      const r = await request(emu, 'POST', '/2/tweets/search/stream/rules?dry_run=true', { body: { add: [{ value: 'k' }] } });
      assert.equal(r.status, 429);
      assert.equal(r.headers['x-rate-limit-remaining'], '0');
      assert.equal((await request(emu, 'GET', '/2/tweets/search/stream/rules')).status, 200, 'GET has its own window');
    });
  });

  test('usage-capped fault: 429 UsageCapExceeded (period, scope) while x-rate-limit-remaining > 0', async () => {
    await withEmulator({ access: 'basic' } as XEmulatorOptions, async (emu) => {
      assert.equal((await request(emu, 'GET', '/2/tweets/search/recent?query=kafka')).status, 200);
      const id = emu.faults.usageCapped(1);
      const r = await request(emu, 'GET', '/2/tweets/search/recent?query=kafka');
      assert.equal(r.status, 429);
      assert.ok(Number(r.headers['x-rate-limit-remaining']) > 0, 'not the 15-minute window');
      assert.equal(r.headers['x-rate-limit-remaining'], '59', 'and the capped request does not count');
      assert.equal(r.body.title, 'UsageCapExceeded');
      assert.equal(r.body.type, 'https://api.twitter.com/2/problems/usage-capped');
      assert.equal(r.body.detail, 'Usage cap exceeded: Monthly product cap');
      assert.equal(r.body.period, 'Monthly');
      assert.equal(r.body.scope, 'Product');
      assert.equal(r.body.product_name, 'standard-basic');
      assert.equal(typeof r.body.account_id, 'number');
      assert.equal(emu.faults.fired(id).length, 1);
      assert.equal((await request(emu, 'GET', '/2/tweets/search/recent?query=kafka')).status, 200, 'count 1: the next one passes');

      // Over the control endpoint, limited to one endpoint, a daily account cap.
      const ctl = await request(emu, 'POST', '/__control/faults', { token: null, body: { type: 'usage-capped', endpoint: 'search', period: 'Daily', scope: 'Account', count: 2 } });
      assert.equal(ctl.status, 200);
      const daily = await request(emu, 'GET', '/2/tweets/search/recent?query=kafka');
      assert.equal(daily.status, 429);
      assert.equal(daily.body.detail, 'Usage cap exceeded: Daily account cap');
      assert.equal(daily.body.scope, 'Account');
      const bad = await request(emu, 'POST', '/__control/faults', { token: null, body: { type: 'usage-capped', period: 'Weekly' } });
      assert.equal(bad.status, 400);
    });
  });

  test("problemHost: every problem type is https://api.x.com/2/problems/... when asked (default api.twitter.com)", async () => {
    const basic = 'basic-token-00000000000000000000000000000000';
    await withEmulator({ problemHost: 'api.x.com', bearerTokens: ['t-00000000000000000000000000000000000000000', basic], tokenAccess: { [basic]: 'basic' } }, async (emu) => {
      const types: string[] = [];
      const take = (r: HttpResult): void => {
        for (const e of [r.body, ...(r.body.errors ?? [])]) if (typeof e?.type === 'string') types.push(e.type);
      };
      take(await request(emu, 'GET', '/2/tweets/search/stream')); // 409 streaming-connection
      take(await request(emu, 'GET', '/2/tweets/search/recent?query=kafka&max_results=5')); // invalid-request
      take(await request(emu, 'POST', '/2/tweets/search/stream/rules', { body: { add: [{ value: '(kafka' }] } })); // invalid-rules
      emu.addRules([{ value: 'kafka' }]);
      take(await request(emu, 'POST', '/2/tweets/search/stream/rules', { body: { add: [{ value: 'kafka' }, { value: 'coffee' }] } })); // duplicate-rules
      take(await request(emu, 'GET', '/2/tweets/search/stream/rules', { token: basic })); // client-forbidden
      emu.faults.usageCapped(1);
      take(await request(emu, 'GET', '/2/tweets/search/stream/rules')); // usage-capped
      emu.faults.tooManyConnections(1);
      take(await request(emu, 'GET', '/2/tweets/search/stream')); // streaming-connection
      assert.deepEqual(
        [...new Set(types)].sort(),
        ['client-forbidden', 'duplicate-rules', 'invalid-request', 'invalid-rules', 'streaming-connection', 'usage-capped'].map((t) => `https://api.x.com/2/problems/${t}`),
      );
    });
    await withEmulator({}, async (emu) => {
      const r = await request(emu, 'GET', '/2/tweets/search/recent?query=kafka&max_results=5');
      assert.equal(r.body.type, 'https://api.twitter.com/2/problems/invalid-request');
    });
  });

  test('rule ids: strings of up to 19 digits (spec); numericRuleIds writes bare 19-digit numbers in rules responses and matching_rules', async () => {
    await withEmulator({}, async (emu) => {
      const r = await request(emu, 'POST', '/2/tweets/search/stream/rules', { body: { add: [{ value: 'the', tag: 't' }] } });
      const id: string = r.body.data[0].id;
      assert.equal(typeof id, 'string');
      assert.match(id, /^[0-9]{1,19}$/);
      const got = await request(emu, 'GET', '/2/tweets/search/stream/rules');
      assert.equal(got.body.data[0].id, id);
    });
    await withEmulator({ numericRuleIds: true, postsPerSecond: 200 }, async (emu) => {
      const r = await request(emu, 'POST', '/2/tweets/search/stream/rules', { body: { add: [{ value: 'the', tag: 't' }, { value: 'a' }] } });
      assert.equal(r.status, 201);
      const [exact] = emu.rules().map((x) => x.id);
      assert.match(exact, /^\d{19}$/, 'snowflake-like ids have 19 digits');
      assert.match(r.text, new RegExp(`"id":${exact}[,}]`), 'a bare number on the wire');
      assert.equal(typeof r.body.data[0].id, 'number');
      assert.ok(!Number.isSafeInteger(r.body.data[0].id), 'beyond 2^53: JSON.parse cannot keep it exact');
      const dup = await request(emu, 'POST', '/2/tweets/search/stream/rules', { body: { add: [{ value: 'the' }] } });
      assert.match(dup.text, new RegExp(`"id":${exact}[,}]`), 'the duplicate-rules error carries it too');
      const got = await request(emu, 'GET', '/2/tweets/search/stream/rules');
      assert.match(got.text, new RegExp(`^\\{"data":\\[\\{"id":${exact},"value":"the","tag":"t"\\}`));

      const stream = await request(emu, 'GET', '/2/tweets/search/stream', { untilText: /"matching_rules":\[[^\]]*\]/ });
      assert.match(stream.text, /"matching_rules":\[\{"id":\d{19}[,}]/, 'matching_rules ids are bare numbers');
      assert.doesNotMatch(stream.text, /"matching_rules":\[\{"id":"/);

      emu.setNumericRuleIds(false);
      const back = await request(emu, 'GET', '/2/tweets/search/stream/rules');
      assert.equal(back.body.data[0].id, exact, 'strings again');
      await new Promise((res) => setTimeout(res, 50));
      const stream2 = await request(emu, 'GET', '/2/tweets/search/stream', { untilText: /"matching_rules":\[[^\]]*\]/ });
      assert.match(stream2.text, /"matching_rules":\[\{"id":"\d{19}"/);
    });
  });
});
