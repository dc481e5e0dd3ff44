// Filtered-stream rules: the plan (pure), then sync and validation against the X emulator over
// real HTTP through twitter-api-v2.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startXEmulator, type XEmulator } from '../support/x-emulator';
import { normaliseRules } from '../../src/lib/x/rule-list';
import { planRulesSync, syncRules, validateRules, XRulesError, type XRule } from '../../src/lib/x/rules-sync';
import { BearerSource, XApiError, XClient } from '../../src/lib/x/x-client';

describe('normaliseRules', () => {
  it('drops empty rows, trims, and flags tag-only rows and repeated values', () => {
    const { rules, problems } = normaliseRules([
      { value: ' kafka ', tag: ' k ' },
      { value: '', tag: '' },
      { value: '', tag: 'orphan' },
      { value: 'kafka', tag: 'again' },
      { value: 'node-red' },
      null,
    ]);
    assert.deepEqual(rules, [{ value: 'kafka', tag: 'k' }, { value: 'node-red' }]);
    assert.deepEqual(problems.map((p) => [p.index, p.messages[0]]), [
      [2, 'the rule has a tag but no value'],
      [3, 'the same rule as #1'],
    ]);
  });
});

describe('planRulesSync', () => {
  const owned: XRule[] = [
    { id: '1', value: 'a', tag: 'x' },
    { id: '2', value: 'b' },
    { id: '3', value: 'c', tag: 'old' },
    { id: '9', value: 'gone' }, // deleted at X meanwhile
  ];
  const existing: XRule[] = [
    { id: '1', value: 'a', tag: 'x' },
    { id: '2', value: 'b' },
    { id: '3', value: 'c', tag: 'old' },
    { id: '4', value: 'theirs' },
    { id: '5', value: 'shared', tag: 'portal' },
  ];

  it('deletes only its own unlisted rules, re-adds a changed tag, adds what is missing, leaves the rest alone', () => {
    const plan = planRulesSync([{ value: 'a', tag: 'x' }, { value: 'c', tag: 'new' }, { value: 'shared', tag: 'mine' }, { value: 'd' }], existing, owned);
    assert.deepEqual(plan.keep.map((r) => r.id), ['1']);
    assert.deepEqual(plan.remove.map((r) => r.id), ['2', '3']);
    assert.deepEqual(plan.add, [{ value: 'c', tag: 'new' }, { value: 'd' }]);
    assert.deepEqual(plan.foreign.map((f) => f.existing.id), ['5']);
  });

  it('with nothing owned, touches nothing that exists', () => {
    const plan = planRulesSync([], existing, []);
    assert.deepEqual(plan, { add: [], remove: [], keep: [], foreign: [] });
  });
});

describe('rules against the X emulator', () => {
  let emu: XEmulator;
  let client: XClient;
  before(async () => {
    emu = await startXEmulator({ postsPerSecond: 0, rateLimits: false });
    client = new XClient({ baseUrl: emu.url, bearer: new BearerSource(emu.url, { bearerToken: emu.bearerToken }) });
  });
  after(async () => {
    client.close();
    await emu.stop();
  });

  it('syncs: adds, keeps, deletes its own, never touches foreign rules', async () => {
    emu.deleteAllRules();
    const [portal] = emu.addRules([{ value: 'from:XDevelopers', tag: 'portal' }]);
    let saved: XRule[] = [];
    const save = (o: XRule[]) => void (saved = o);

    const r1 = await syncRules(client, [{ value: 'kafka', tag: 'k' }, { value: 'node-red' }], [], save);
    assert.equal(r1.added.length, 2);
    assert.deepEqual(saved.map((r) => r.value).sort(), ['kafka', 'node-red']);
    assert.deepEqual(emu.rules().map((r) => r.value).sort(), ['from:XDevelopers', 'kafka', 'node-red']);

    // Same list again: nothing changes.
    const again = await syncRules(client, [{ value: 'kafka', tag: 'k' }, { value: 'node-red' }], saved, save);
    assert.equal(again.added.length + again.removed.length, 0);
    assert.equal(again.kept.length, 2);

    // node-red removed, kafka's tag changed, the portal's rule listed too.
    const r2 = await syncRules(client, [{ value: 'kafka', tag: 'k2' }, { value: 'from:XDevelopers', tag: 'mine' }], saved, save);
    assert.deepEqual(r2.removed.map((r) => r.value).sort(), ['kafka', 'node-red']);
    assert.deepEqual(r2.added.map((r) => [r.value, r.tag]), [['kafka', 'k2']]);
    assert.deepEqual(r2.foreign.map((f) => f.existing.id), [portal.id]);
    assert.deepEqual(saved.map((r) => [r.value, r.tag]), [['kafka', 'k2']]);
    assert.deepEqual(emu.rules().map((r) => [r.value, r.tag]).sort(), [['from:XDevelopers', 'portal'], ['kafka', 'k2']]);

    // An empty list deletes only what this node created.
    await syncRules(client, [], saved, save);
    assert.deepEqual(emu.rules().map((r) => r.id), [portal.id]);
    assert.deepEqual(saved, []);
  });

  it('forgets owned rules that were deleted at X meanwhile', async () => {
    emu.deleteAllRules();
    let saved: XRule[] = [];
    await syncRules(client, [{ value: 'a' }], [], (o) => void (saved = o));
    emu.deleteAllRules();
    const r = await syncRules(client, [{ value: 'b' }], saved, (o) => void (saved = o));
    assert.equal(r.removed.length, 0);
    assert.deepEqual(saved.map((x) => x.value), ['b']);
  });

  it('names each rule X refuses, and adds none of the list (X is all or nothing)', async () => {
    emu.deleteAllRules();
    const err = await syncRules(client, [{ value: 'kafka' }, { value: 'kafka (' }, { value: '(a OR b' }], [], () => undefined).then(
      () => assert.fail('should refuse'),
      (e) => e,
    );
    assert.ok(err instanceof XRulesError, String(err));
    assert.deepEqual(err.problems.map((p: { index: number; value: string }) => [p.index, p.value]), [[1, 'kafka ('], [2, '(a OR b']]);
    assert.match(err.problems[0].messages[0], /Empty group/);
    assert.equal(emu.rules().length, 0);
  });

  it('validate: local problems, X\'s syntax errors, kept, foreign and valid rules, and nothing changes at X', async () => {
    emu.deleteAllRules();
    const [mine] = emu.addRules([{ value: 'kept-rule' }]);
    emu.addRules([{ value: 'portal-rule', tag: 'p' }]);
    const before = emu.rules();
    const rows = [
      { value: 'kafka lang:en', tag: 'k' },
      { value: 'kafka (' },
      { value: '', tag: '' },
      { value: 'kept-rule' },
      { value: 'portal-rule', tag: 'other' },
      { value: 'kafka lang:en' },
      { value: 'x'.repeat(2049) }, // one over the emulator's default (Enterprise) rule length, 2,048
    ];
    const results = await validateRules(client, rows, [mine]);
    const byIndex = Object.fromEntries(results.map((r) => [r.index, r]));
    assert.equal(byIndex[0].verdict, 'valid');
    assert.equal(byIndex[1].verdict, 'invalid');
    assert.match(byIndex[1].messages.join(), /Empty group/);
    assert.equal(byIndex[2], undefined);
    assert.equal(byIndex[3].verdict, 'kept');
    assert.equal(byIndex[4].verdict, 'exists');
    assert.match(byIndex[4].messages.join(), /not created by this node.*tag is "p"/);
    assert.equal(byIndex[5].verdict, 'invalid');
    assert.match(byIndex[5].messages.join(), /same rule as #1/);
    assert.equal(byIndex[6].verdict, 'invalid');
    assert.match(byIndex[6].messages.join(), /too long/);
    assert.deepEqual(emu.rules(), before);
    const posts = emu.requests('rules.post');
    assert.ok(posts.length >= 1);
  });

  it('a bad token is an XApiError 401', async () => {
    const bad = new XClient({ baseUrl: emu.url, bearer: new BearerSource(emu.url, { bearerToken: 'nope' }) });
    try {
      await assert.rejects(syncRules(bad, [{ value: 'a' }], [], () => undefined), (e: unknown) => e instanceof XApiError && e.status === 401 && e.fatal);
    } finally {
      bad.close();
    }
  });

  it('exchanges an API key + secret for the bearer token once, and refuses wrong keys with 403', async () => {
    const key = emu.apiKeys[0];
    const source = new BearerSource(emu.url, { apiKey: key.key, apiSecret: key.secret });
    const before = emu.requests('token').length;
    const [a, b] = await Promise.all([source.token(), source.token()]);
    assert.equal(a, key.bearerToken);
    assert.equal(b, a);
    assert.equal(emu.requests('token').length - before, 1);
    const wrong = new BearerSource(emu.url, { apiKey: key.key, apiSecret: 'wrong' });
    await assert.rejects(wrong.token(), (e: unknown) => e instanceof XApiError && e.status === 403 && e.fatal);
  });
});
