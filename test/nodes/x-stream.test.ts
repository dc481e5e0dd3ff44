// The X stream and X credentials nodes in a real Node-RED runtime against the X emulator (real
// HTTP; REST through twitter-api-v2, the stream owned by the node): message contract, rules
// sync on deploy and redeploy, validation endpoint, sample and recent-search modes, credentials.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startXEmulator, type XEmulator } from '../support/x-emulator';
import { collect, getNode, helper, unloadFlow } from '../support/node-red';
import { loadXFlow, sleep, statusTexts, until, xFlow } from '../support/x-nodes';

let emu: XEmulator;
const RULES = [{ value: 'the OR a OR lang:ja OR lang:ko OR lang:es', tag: 'most' }, { value: 'kafka OR coffee', tag: 'topic' }];

before(async () => {
  emu = await startXEmulator({ postsPerSecond: 200, keepAliveMs: 200, rateLimits: false, historyPosts: 2000, historySpanMs: 3600_000 });
  await new Promise<void>((resolve) => helper.startServer(resolve));
});
after(async () => {
  await unloadFlow();
  await new Promise<void>((resolve) => helper.stopServer(resolve));
  await emu.stop();
});
beforeEach(() => {
  emu.faults.clear();
  emu.setRate(200);
});

const creds = () => ({ xc: { bearerToken: emu.bearerToken } });

/** Stops the firehose and waits until the flow has every post the emulator wrote. */
async function settle(out: ReturnType<typeof collect>, timeoutMs = 10_000): Promise<string[]> {
  emu.setRate(0);
  await sleep(50);
  await until(() => out.msgs.length >= emu.emittedCount(), timeoutMs, `${emu.emittedCount()} posts (have ${out.msgs.length})`);
  await sleep(100);
  return out.msgs.map((m) => m.payload.id);
}

describe('X stream node: filtered stream', () => {
  it('syncs the rules, then sends one msg per post: payload, includes, matching_rules, key = author id; each post once', async () => {
    emu.deleteAllRules();
    const before = emu.emittedCount();
    await loadXFlow(xFlow({ baseUrl: emu.url, stream: { rules: RULES, statsInterval: '1' } }), creds());
    const out = collect('out');
    const stats = collect('stats');
    await out.next(50, 10_000);
    assert.deepEqual(emu.rules().map((r) => [r.value, r.tag]).sort(), RULES.map((r) => [r.value, r.tag]).sort());
    const m = out.msgs[0];
    assert.equal(typeof m.payload.id, 'string');
    assert.equal(typeof m.payload.text, 'string');
    assert.ok(m.payload.created_at && m.payload.lang && m.payload.public_metrics, JSON.stringify(m.payload));
    assert.equal(m.key, m.payload.author_id);
    assert.equal(m.includes.users[0].id, m.payload.author_id);
    assert.ok(Array.isArray(m.matching_rules) && m.matching_rules.length >= 1);
    const ruleIds = new Set(emu.rules().map((r) => r.id));
    assert.ok(m.matching_rules.every((r: { id: string; tag: string }) => ruleIds.has(r.id) && (r.tag === 'most' || r.tag === 'topic')));
    // The payload is exactly what X sent for these fields.
    assert.deepEqual(m.payload, emu.postObject(m.payload.id, { 'tweet.fields': 'author_id,created_at,lang,public_metrics', expansions: 'author_id' }).data);

    const s = (await stats.next(1, 5000))[0];
    assert.equal(s.topic, 'stats');
    for (const k of ['posts', 'postsPerSecond', 'connects', 'disconnects', 'reconnectAttempts', 'drops', 'malformed', 'keepAlives', 'queued']) {
      assert.ok(k in s.payload, k);
    }
    assert.equal(s.payload.connects, 1);
    assert.match(statusTexts('x1').at(-1)!, /posts\/s · \d/);

    const ids = await settle(out);
    assert.deepEqual(ids, emu.emittedIds().slice(0, ids.length));
    assert.equal(ids.length, emu.emittedCount() - before);
    assert.equal(new Set(ids).size, ids.length);
    const conn = emu.connections().at(-1)!;
    assert.equal(conn.params['tweet.fields'], 'author_id,created_at,lang,public_metrics');
    assert.equal(conn.params.expansions, 'author_id');
    await unloadFlow();
  });

  it('on redeploy deletes only its own unlisted rules and adds new ones; rules it did not create stay', async () => {
    emu.deleteAllRules();
    const [portal] = emu.addRules([{ value: 'from:XDevelopers', tag: 'portal' }]);
    const flow = xFlow({ baseUrl: emu.url, stream: { rules: RULES } });
    const known = emu.connections().length;
    await loadXFlow(flow, creds());
    await until(() => statusTexts('x1').includes('connected') && emu.connections().length > known, 5000, 'connected');
    const firstConn = emu.connections()[known];
    const owned = getNode('x1').context().get('rules');
    assert.deepEqual(owned.map((r: { value: string }) => r.value).sort(), RULES.map((r) => r.value).sort());

    // Redeploy x1 alone with one rule removed, one tag changed and one added.
    const next = flow.map((n: any) => (n.id === 'x1' ? { ...n, rules: [{ value: RULES[0].value, tag: 'renamed' }, { value: 'node-red' }] } : n));
    await helper._redNodes.setFlows(next, null, 'nodes');
    await until(() => emu.rules().some((r) => r.value === 'node-red'), 5000, 'new rule');
    assert.deepEqual(emu.rules().map((r) => [r.value, r.tag]).sort(), [
      ['from:XDevelopers', 'portal'],
      ['node-red', undefined],
      [RULES[0].value, 'renamed'],
    ].sort());
    assert.ok(emu.rules().some((r) => r.id === portal.id));
    // The old connection ended before the new node connected: never two at once.
    await until(() => statusTexts('x1').includes('connected') && emu.connections().length > known + 1, 5000, 'connected again');
    const [old, renewed] = emu.connections().filter((c) => c.id >= firstConn.id);
    assert.ok(old.closedAt! <= renewed.openedAt, `old closed at ${old.closedAt}, new opened at ${renewed.openedAt}`);

    // The node deleted and deployed: its rules go, the portal's stays.
    await helper._redNodes.setFlows(next.filter((n: any) => n.id !== 'x1' && n.id !== 'c1'), null, 'nodes');
    assert.deepEqual(emu.rules().map((r) => r.id), [portal.id]);
    await emu.waitFor(() => emu.connections({ active: true }).length === 0, 500, 'no connection left');
    await unloadFlow();
  });

  it('rules X refuses: red status naming them, an error to Catch with each rule, and no stream', async () => {
    emu.deleteAllRules();
    const attempts = emu.stats().connectAttempts;
    await loadXFlow(xFlow({ baseUrl: emu.url, stream: { rules: [{ value: 'kafka' }, { value: 'kafka (' }] } }), creds());
    const caught = collect('caught');
    const [c] = await caught.next(1, 5000);
    assert.equal(c.error.source.id, 'x1');
    assert.match(c.error.message, /kafka \(.*Empty group/);
    assert.deepEqual(c.payload.rules.map((r: { value: string }) => r.value), ['kafka (']);
    assert.match(statusTexts('x1').at(-1)!, /1 rule\(s\) refused/);
    await sleep(300);
    assert.equal(emu.stats().connectAttempts, attempts);
    assert.equal(emu.rules().length, 0);
    await unloadFlow();
  });

  it('no rules at X: 409 shows "no rules" and is retried with the HTTP backoff', async () => {
    emu.deleteAllRules();
    await loadXFlow(xFlow({ baseUrl: emu.url, stream: { rules: [] } }), creds());
    await until(() => statusTexts('x1').some((s) => /no rules at X \(409 RuleConfigurationIssue\)/.test(s)), 5000, '409 status');
    await until(() => emu.requests('filtered').filter((r) => r.status === 409).length >= 2, 5000, 'a retry');
    const [a, b] = emu.requests('filtered').filter((r) => r.status === 409).slice(-2);
    assert.ok(b.at - a.at >= 190, `retry after ${b.at - a.at} ms (HTTP backoff 200 ms)`);
    // Someone adds a rule: the next retry connects.
    emu.addRules([{ value: 'the' }]);
    await until(() => statusTexts('x1').includes('connected'), 5000, 'connected');
    await unloadFlow();
  });

  it('validate endpoint: dry_run=true, X\'s verdict per rule, nothing changes', async () => {
    emu.deleteAllRules();
    await loadXFlow(xFlow({ baseUrl: emu.url, stream: { rules: [{ value: 'kafka' }] } }), creds());
    await until(() => emu.rules().length === 1, 5000, 'rule added');
    emu.addRules([{ value: 'portal rule', tag: 'p' }]);
    const before = emu.rules();
    const res = await helper
      .request()
      .post('/streamsafe-x-stream/x1/validate')
      .send({ account: 'xc', rules: [{ value: 'kafka' }, { value: 'ok rule', tag: 't' }, { value: 'bad (' }, { value: 'portal rule' }] })
      .expect(200);
    assert.deepEqual(res.body.results.map((r: { index: number; verdict: string }) => [r.index, r.verdict]), [
      [0, 'kept'],
      [1, 'valid'],
      [2, 'invalid'],
      [3, 'exists'],
    ]);
    assert.match(res.body.results[2].messages[0], /Empty group/);
    assert.deepEqual(emu.rules(), before);
    assert.ok(emu.requests('rules.post').some((r) => r.path === '/2/tweets/search/stream/rules'));

    const noAccount = await helper.request().post('/streamsafe-x-stream/x1/validate').send({ account: 'missing', rules: [] }).expect(400);
    assert.match(noAccount.body.error, /Deploy the X credentials node first/);
    await unloadFlow();
  });
});

describe('X stream node: sample stream and recent search', () => {
  it('sample stream: posts without matching_rules, keyed by author', async () => {
    await loadXFlow(xFlow({ baseUrl: emu.url, stream: { mode: 'sample' } }), creds());
    const out = collect('out');
    await out.next(20, 5000);
    assert.equal(out.msgs[0].matching_rules, undefined);
    assert.equal(out.msgs[0].key, out.msgs[0].payload.author_id);
    assert.equal(emu.connections().at(-1)!.endpoint, 'sample');
    await unloadFlow();
  });

  it('recent search: oldest first, since_id cursor in context; a redeploy does not re-emit', async () => {
    const query = 'kafka OR coffee OR the';
    const flow = xFlow({ baseUrl: emu.url, stream: { mode: 'search', query, pollInterval: '1', lookbackMinutes: '5', maxResults: '100' } });
    await loadXFlow(flow, creds());
    const out = collect('out');
    await until(() => statusTexts('x1').some((s) => s.startsWith('polled')), 10_000, 'a poll');
    await sleep(1500); // a second poll
    const saved = getNode('x1').context().get('searchCursor');
    assert.equal(saved.query, query);
    const ids = out.msgs.map((m) => m.payload.id);
    assert.ok(ids.length > 10);
    assert.equal(new Set(ids).size, ids.length);
    for (let i = 1; i < ids.length; i++) assert.ok(BigInt(ids[i]) > BigInt(ids[i - 1]));
    assert.equal(out.msgs[0].key, out.msgs[0].payload.author_id);
    assert.equal(out.msgs[0].includes.users[0].id, out.msgs[0].payload.author_id);
    const search = emu.requests('search');
    assert.ok(search.length >= 2);

    // Redeploy (the node is re-created, its context kept): it goes on from the cursor.
    const count = out.msgs.length;
    const next = flow.map((n: any) => (n.id === 'x1' ? { ...n, name: 'renamed' } : n));
    await helper._redNodes.setFlows(next, null, 'nodes');
    await sleep(2500);
    const after = out.msgs.slice(count).map((m) => m.payload.id);
    for (const id of after) assert.ok(!ids.includes(id), `re-emitted ${id}`);
    const all = out.msgs.map((m) => m.payload.id);
    assert.equal(new Set(all).size, all.length);
    await unloadFlow();
  });
});

describe('X credentials node', () => {
  it('exchanges the API key + secret for a bearer token', async () => {
    emu.deleteAllRules();
    emu.addRules([{ value: 'the' }]);
    const tokens = emu.requests('token').length;
    await loadXFlow(xFlow({ baseUrl: emu.url, account: { authType: 'keys' }, stream: { rules: [{ value: 'the' }] } }), { xc: { apiKey: emu.apiKeys[0].key, apiSecret: emu.apiKeys[0].secret } });
    const out = collect('out');
    await out.next(5, 5000);
    assert.equal(emu.requests('token').length - tokens, 1);
    await unloadFlow();
  });

  it('wrong API secret: stops with a red status and one error to Catch, no retry loop', async () => {
    await loadXFlow(xFlow({ baseUrl: emu.url, account: { authType: 'keys' }, stream: { mode: 'sample' } }), { xc: { apiKey: emu.apiKeys[0].key, apiSecret: 'wrong' } });
    const caught = collect('caught');
    const [c] = await caught.next(1, 5000);
    assert.equal(c.payload.status, 403);
    assert.match(statusTexts('x1').at(-1)!, /^stopped: .*\(HTTP 403\)/);
    const tokens = emu.requests('token').length;
    await sleep(500);
    assert.equal(emu.requests('token').length, tokens);
    assert.equal(caught.msgs.length, 1);
    await unloadFlow();
  });

  it('a missing token or account refuses to start, with the short reason in the status (a message the editor translates)', async () => {
    await loadXFlow(xFlow({ baseUrl: emu.url, stream: { mode: 'sample' } }), {});
    await until(() => statusTexts('x1').includes('invalid: X credentials: no bearer token'), 2000, 'invalid status');
    const last = (getNode('x1').status as any).args.filter((_a: unknown, i: number) => (getNode('x1').status as any).thisValues[i] === getNode('x1')).at(-1)[0];
    assert.equal(last.fill, 'red');
    assert.deepEqual(last.i18n, { key: 'status.invalid', values: { reason: { key: 'account.noToken' } } });
    await unloadFlow();
    await loadXFlow(xFlow({ baseUrl: 'ftp://example', stream: { mode: 'sample' } }), creds());
    await until(() => statusTexts('x1').includes('invalid: X credentials: base URL is not http(s)'), 2000, 'invalid status');
    await unloadFlow();
    await loadXFlow(xFlow({ baseUrl: emu.url, account: { authType: 'keys' }, stream: { mode: 'sample' } }), { xc: { apiKey: 'k' } });
    await until(() => statusTexts('x1').includes('invalid: X credentials: no API key secret'), 2000, 'invalid status');
    await unloadFlow();
    await loadXFlow(xFlow({ baseUrl: emu.url, stream: { mode: 'search', query: '' } }), creds());
    await until(() => statusTexts('x1').includes('invalid: Recent search needs a query'), 2000, 'invalid status');
    await unloadFlow();
    await loadXFlow(xFlow({ baseUrl: emu.url, stream: { mode: 'sample', stallTimeoutMs: 'soon' } }), creds());
    await until(() => statusTexts('x1').some((s) => s.startsWith('invalid: Stall timeout must be a whole number from 1 to')), 2000, 'invalid status');
    assert.ok(statusTexts('x1').every((s) => s.length <= 60), 'clipped');
    await unloadFlow();
  });
});
