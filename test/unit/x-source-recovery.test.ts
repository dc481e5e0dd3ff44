// Gap recovery of XSource against the X emulator, on a compressed clock shared by both (X's
// minutes in real seconds): after a drop followed by refused reconnects, every post the emulator
// made that matches the rules reaches the flow exactly once — through backfill_minutes sized to
// the gap, Recovery (start_time/end_time) or recent search, as the access level allows — and a
// gap no means reaches is reported with its bounds.
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startXEmulator, type XEmulator } from '../support/x-emulator';
import { sleep, until } from '../support/x-emulator/testing';
import { scaledClock, type Clock } from '../../src/lib/common/clock';
import type { XRecoveryMeans as RecoveryMeans } from '../../src/lib/x/access';
import { compareIds } from '../../src/lib/x/post-ids';
import { BearerSource, XClient } from '../../src/lib/x/x-client';
import { XSource, type XPostMessage, type XSourceEvent, type XSourceMode } from '../../src/lib/x/x-source';

/** Emulated seconds per real second. */
const SCALE = 20;
const RULE = 'the OR a OR lang:ja';

let emu: XEmulator;
let clock: Clock;
const open: Array<{ source: XSource; client: XClient }> = [];

before(async () => {
  const origin = Date.now();
  emu = await startXEmulator({ postsPerSecond: 20, keepAliveMs: 20_000, rateLimits: false, timeScale: SCALE, timeOrigin: origin, maxConnectionsPerToken: 3 });
  clock = scaledClock(SCALE, origin);
});
afterEach(async () => {
  for (const { source, client } of open.splice(0)) {
    await source.close();
    client.close();
  }
  emu.faults.clear();
  emu.deleteAllRules();
  emu.setRate(20);
});
after(async () => {
  await emu.stop();
});

function run(mode: XSourceMode, means: RecoveryMeans[], extra: Record<string, unknown> = {}) {
  const client = new XClient({ baseUrl: emu.url, bearer: new BearerSource(emu.url, { bearerToken: emu.bearerToken }) });
  const got: XPostMessage[] = [];
  const events: XSourceEvent[] = [];
  const source = new XSource({
    mode,
    client,
    params: { 'tweet.fields': 'author_id,created_at', expansions: 'author_id' },
    rules: mode === 'filtered' ? [{ value: RULE, tag: 'most' }] : undefined,
    recoveryMeans: means,
    // Reconnect rules in emulated ms: 503s back off 5 s, 10 s, 20 s (X's rule).
    reconnect: { minReconnectIntervalMs: 1000, httpInitialMs: 5000, networkStepMs: 250 },
    clock,
    deliver: (msgs) => void got.push(...msgs),
    event: (e) => void events.push(e),
    ...extra,
  });
  open.push({ source, client });
  source.start();
  return { source, client, got, events };
}

/** Ids of posts created after `firstId` (inclusive) that match RULE, by the emulator's own search. */
async function expectedIds(client: XClient, firstId: string, mode: XSourceMode): Promise<string[]> {
  if (mode === 'sample') {
    const first = emu.seqOf(firstId);
    const ids: string[] = [];
    for (let s = first; s < emu.head; s++) ids.push(emu.idOf(s));
    return ids;
  }
  const ids: string[] = [firstId];
  let token: string | undefined;
  do {
    const res = await client.get('/2/tweets/search/recent', { query: RULE, since_id: firstId, max_results: 100, next_token: token });
    for (const d of res.data.data ?? []) ids.push(d.id);
    token = res.data.meta?.next_token;
  } while (token);
  return ids.sort(compareIds);
}

async function dropWithOutage(r: ReturnType<typeof run>, refusals: number): Promise<void> {
  await until('posts before the drop', () => r.got.length >= 20, 10_000);
  emu.faults.unavailable(refusals, { endpoint: 'stream' });
  emu.faults.drop({});
  await until('the reconnect after the gap', () => r.events.some((e) => e.type === 'gap'), 20_000);
}

async function settle(r: ReturnType<typeof run>, kind: 'recovered' | 'gap'): Promise<void> {
  await until(kind, () => r.events.some((e) => e.type === kind), 30_000);
  emu.setRate(0);
  await sleep(800); // the last posts written reach the client
  await until('the queue drained', () => r.source.snapshot().queued === 0, 5_000);
}

function assertExactlyOnce(got: XPostMessage[], expected: string[]): void {
  const ids = got.map((m) => m.payload.id);
  const dups = ids.filter((id, i) => ids.indexOf(id) !== i);
  assert.deepEqual(dups, [], 'no post twice');
  const have = new Set(ids);
  const missing = expected.filter((id) => !have.has(id));
  assert.deepEqual(missing.slice(0, 5), [], `${missing.length} of ${expected.length} posts missing`);
  const extra = ids.filter((id) => !expected.includes(id));
  assert.deepEqual(extra.slice(0, 5), [], 'no post outside the rules');
}

describe('gap recovery', () => {
  it('pay-per-use: recent search with since_id fills a 35 s outage exactly', async () => {
    const r = run('filtered', ['search']);
    await dropWithOutage(r, 3);
    await settle(r, 'recovered');
    const rec = r.events.find((e) => e.type === 'recovered');
    assert.ok(rec && rec.type === 'recovered' && rec.posts > 0, 'posts were recovered');
    assert.equal(r.events.filter((e) => e.type === 'gapLost').length, 0);
    assert.ok(r.got.some((m) => m.recovered === 'search'), 'recovered posts are marked');
    assertExactlyOnce(r.got, await expectedIds(r.client, r.got[0].payload.id, 'filtered'));
  });

  it('Enterprise: backfill_minutes sized to a short gap, duplicates removed', async () => {
    const r = run('filtered', ['backfill', 'recovery', 'search']);
    await dropWithOutage(r, 1);
    await settle(r, 'gap');
    const gap = r.events.find((e) => e.type === 'gap');
    assert.equal(gap?.type === 'gap' && gap.means, 'backfill');
    const reconnect = emu.connections().at(-1)!;
    assert.equal(reconnect.params.backfill_minutes, '1', 'a ~6 s gap asks for 1 minute');
    assert.ok(r.source.snapshot().duplicates > 0, 'the replayed minute was de-duplicated');
    assertExactlyOnce(r.got, await expectedIds(r.client, r.got[0].payload.id, 'filtered'));
  });

  it('Enterprise: a gap over 5 minutes is filled by Recovery (start_time/end_time)', async () => {
    const r = run('filtered', ['backfill', 'recovery', 'search']);
    // 503 ×6: 5+10+20+40+80+160 s of emulated outage (about 16 real seconds at ×20).
    await dropWithOutage(r, 6);
    await settle(r, 'recovered');
    const rec = r.events.find((e) => e.type === 'recovered');
    assert.equal(rec?.type === 'recovered' && rec.means, 'recovery', JSON.stringify(r.events.filter((e) => e.type === 'gapLost' || e.type === 'gap')) + JSON.stringify(emu.requests().filter((q) => q.endpoint === 'filtered').slice(-4)));
    const recovery = emu.connections().find((c) => c.params.start_time !== undefined);
    assert.ok(recovery && recovery.params.end_time, 'a Recovery request with start_time and end_time');
    assertExactlyOnce(r.got, await expectedIds(r.client, r.got[0].payload.id, 'filtered'));
  });

  it('a sample stream below Enterprise reports the exact gap it cannot fill', async () => {
    const r = run('sample', ['search']);
    await dropWithOutage(r, 2);
    const lost = await until('gapLost', () => r.events.find((e) => e.type === 'gapLost'), 10_000);
    assert.ok(lost.type === 'gapLost');
    const before = r.got.length;
    assert.ok(lost.range.toMs - lost.range.fromMs >= 15_000, 'the gap spans the outage (5 s + 10 s of 503s)');
    assert.match(lost.range.reason, /sample stream/);
    assert.ok(before > 0);
  });
});
