// Gap recovery decisions: backfill sized to the gap, then Recovery, recent search, or a named
// loss, by gap length and access; post-id order and the per-gap de-duplication.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RECOVERY_REACH_MS } from '../../src/lib/x/access';
import { backfillMinutesFor, GAP_LEAD_MS, GAP_TAIL_MS, planGap } from '../../src/lib/x/gap-recovery';
import { GapFilter, IdWindow } from '../../src/lib/x/dedup';
import { compareIds, firstIdAt, isPostId, snowflakeTimeMs } from '../../src/lib/x/post-ids';

const NOW = Date.parse('2026-11-30T12:00:00Z');
const ALL = ['backfill', 'recovery', 'search'] as const;

describe('post ids', () => {
  it('orders decimal ids numerically and reads the time in a snowflake', () => {
    assert.ok(compareIds('999', '1000') < 0);
    assert.ok(compareIds('1996000000000000001', '1996000000000000000') > 0);
    assert.equal(compareIds('42', '42'), 0);
    const id = firstIdAt(NOW);
    assert.equal(snowflakeTimeMs(id), NOW);
    assert.equal(snowflakeTimeMs('20'), undefined, 'ids before the snowflake era are not times');
    assert.equal(isPostId('12a'), false);
    assert.equal(isPostId('1234567890123456789'), true);
  });
});

describe('backfill_minutes sized to the gap', () => {
  it('asks for the minutes the gap needs (with its lead and tail), not a fixed 5', () => {
    assert.equal(backfillMinutesFor(2_000, ALL), 1, 'a 2 s blip re-reads 1 minute');
    assert.equal(backfillMinutesFor(60_000, ALL), 2);
    assert.equal(backfillMinutesFor(4 * 60_000, ALL), 5);
    assert.equal(backfillMinutesFor(5 * 60_000 - GAP_LEAD_MS - GAP_TAIL_MS, ALL), 5);
    assert.equal(backfillMinutesFor(5 * 60_000, ALL), undefined, 'beyond X\'s 5 minutes: another means');
    assert.equal(backfillMinutesFor(2_000, ['search']), undefined, 'not open below Enterprise');
  });
});

describe('planGap', () => {
  const gap = (ageMs: number) => ({ fromMs: NOW - ageMs, toMs: NOW, afterId: firstIdAt(NOW - ageMs) });

  it('Recovery (start_time/end_time) up to 24 h when open', () => {
    const p = planGap(gap(10 * 60_000), { open: ALL, mode: 'filtered', now: NOW });
    assert.equal(p.means, 'recovery');
    if (p.means !== 'recovery') return;
    assert.ok(Date.parse(p.startTime) <= NOW - 10 * 60_000);
    assert.ok(Date.parse(p.endTime) >= NOW);
  });

  it('recent search from the newest delivered id, else from the gap start', () => {
    const g = gap(30 * 60_000);
    const p = planGap(g, { open: ['search'], mode: 'filtered', now: NOW });
    assert.deepEqual(p, { means: 'search', sinceId: g.afterId, endTime: new Date(Math.floor((NOW + 999) / 1000) * 1000).toISOString() });
    const q = planGap({ ...g, afterId: undefined }, { open: ['search'], mode: 'filtered', now: NOW });
    assert.equal(q.means === 'search' && q.startTime, new Date(g.fromMs).toISOString());
    const r = planGap(gap(RECOVERY_REACH_MS.recovery + 60_000), { open: ALL, mode: 'filtered', now: NOW });
    assert.equal(r.means, 'search', 'older than 24 h: recent search');
  });

  it('names what cannot be filled', () => {
    assert.equal(planGap(gap(8 * 86400_000), { open: ['search'], mode: 'filtered', now: NOW }).means, 'none');
    const s = planGap(gap(60_000), { open: ['search'], mode: 'sample', now: NOW });
    assert.equal(s.means, 'none');
    assert.match(s.means === 'none' ? s.reason : '', /sample stream/);
    assert.equal(planGap(gap(60_000), { open: [], mode: 'filtered', now: NOW }).means, 'none');
  });
});

describe('GapFilter', () => {
  it('lets through posts newer than the gap start, once, and not ones the window holds', () => {
    const w = new IdWindow(10);
    w.firstSeen('105');
    const f = new GapFilter('100');
    assert.equal(f.isNew('99', w), false, 'delivered before the gap');
    assert.equal(f.isNew('100', w), false);
    assert.equal(f.isNew('101', w), true);
    assert.equal(f.isNew('101', w), false, 'read twice during recovery');
    assert.equal(f.isNew('105', w), false, 'already delivered live');
    assert.equal(f.count, 1);
    assert.equal(new GapFilter(undefined).isNew('1'), true);
  });
});
