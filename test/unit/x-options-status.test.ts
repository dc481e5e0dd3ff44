// The X stream node's settings parsing (lib/x/options) and its event → status mapping
// (lib/x/status), both pure.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseXStreamSettings, wholeNumber } from '../../src/lib/x/options';
import { clip, outcomeOf, span, STATUS_MAX_CHARS } from '../../src/lib/x/status';
import { DEFAULT_STALL_TIMEOUT_MS } from '../../src/lib/x/access';
import { XApiError, XNetworkError } from '../../src/lib/x/x-client';
import { XRulesError } from '../../src/lib/x/rules-sync';

const t = (key: string, v: Record<string, string | number> = {}) => `${key}${Object.keys(v).length ? ` ${JSON.stringify(v)}` : ''}`;
const ctx = { posts: () => '12', polls: () => 0, queueSize: 100 };

describe('parseXStreamSettings', () => {
  it('takes the defaults for blank fields', () => {
    const r = parseXStreamSettings({ mode: 'filtered' });
    assert.ok('settings' in r);
    assert.equal(r.settings.numbers.stallTimeoutMs, DEFAULT_STALL_TIMEOUT_MS);
    assert.equal(r.settings.recovery, true);
    assert.equal(r.settings.reconnect.maxClientErrorRetries, 3);
    assert.equal(r.settings.params.expansions, 'author_id');
  });
  it('names the field and the range of a bad number', () => {
    for (const [field, value] of [['backfillMinutes', '6'], ['maxResults', '101'], ['stallTimeoutMs', 'soon'], ['queueSize', '0'], ['httpMaxMs', '-1']]) {
      const r = parseXStreamSettings({ mode: 'filtered', [field]: value });
      assert.ok('problem' in r, field);
      assert.equal(r.problem.key, 'errors.range');
      assert.equal(r.problem.values.field, field);
    }
  });
  it('needs a query to search, and reads recovery off', () => {
    const r = parseXStreamSettings({ mode: 'search', query: '  ' });
    assert.ok('problem' in r && r.problem.key === 'errors.noQuery');
    const off = parseXStreamSettings({ mode: 'filtered', recovery: false });
    assert.ok('settings' in off && off.settings.recovery === false);
  });
  it('wholeNumber', () => {
    assert.equal(wholeNumber('', 5), 5);
    assert.equal(wholeNumber('2.4', 5), 2);
    assert.ok(Number.isNaN(wholeNumber('1e400', 5)));
    assert.equal(wholeNumber(' ', 5), 5);
    assert.ok(Number.isNaN(wholeNumber(true, 5)));
  });
});

describe('outcomeOf', () => {
  it('a retry shows a short reason, never an error body, and warns on attempts 1, 2, 4', () => {
    const err = new XApiError(503, { title: 'Service Unavailable', detail: 'x'.repeat(500) });
    const o = outcomeOf({ type: 'retrying', error: err, decision: { kind: 'http', attempt: 4, delayMs: 40_000 } }, t, ctx);
    assert.equal(o.status?.fill, 'red');
    assert.ok(o.status!.text!.length <= STATUS_MAX_CHARS);
    assert.equal(o.warn?.length, 1);
    const o3 = outcomeOf({ type: 'retrying', error: new XNetworkError('refused'), decision: { kind: 'network', attempt: 3, delayMs: 750 } }, t, ctx);
    assert.equal(o3.warn, undefined);
    const dropped = outcomeOf({ type: 'retrying', error: new XNetworkError('cut'), decision: { kind: 'dropped', attempt: 1, delayMs: 0 } }, t, ctx);
    assert.equal(dropped.status?.fill, 'yellow');
  });
  it('stopped: red with the error for Catch nodes', () => {
    const err = new XRulesError('bad', [{ index: 0, value: 'a (', messages: ['unbalanced'] }]);
    const o = outcomeOf({ type: 'stopped', error: err }, t, ctx);
    assert.equal(o.status?.fill, 'red');
    assert.equal(o.error, err);
    assert.match(o.status!.text!, /status.rulesInvalid/);
  });
  it('a gap that could not be filled: a yellow status and a warning with its bounds', () => {
    const o = outcomeOf({ type: 'gapLost', range: { fromMs: 0, toMs: 600_000, reason: 'no means' } }, t, ctx);
    assert.equal(o.status?.fill, 'yellow');
    assert.match(o.warn![0], /"span":"10 min"/);
    assert.match(o.warn![0], /1970-01-01T00:00:00.000Z/);
  });
  it('connected, polled, gap, recovered', () => {
    assert.equal(outcomeOf({ type: 'connected' }, t, ctx).status?.fill, 'green');
    assert.match(outcomeOf({ type: 'polled', posts: 3, pages: 1, more: false, cursor: {} }, t, ctx).status!.text!, /"total":"12"/);
    const gap = { fromMs: 0, toMs: 65_000 };
    assert.match(outcomeOf({ type: 'gap', gap, means: 'backfill' }, t, ctx).log![0], /1 min 5 s/);
    assert.match(outcomeOf({ type: 'recovered', gap, means: 'search', posts: 9, requests: 2 }, t, ctx).log![0], /"posts":9/);
  });
  it('clip and span', () => {
    assert.equal(clip('x'.repeat(100)).length, STATUS_MAX_CHARS);
    assert.equal(span(3_723_000), '1 h 2 min');
    assert.equal(span(42_000), '42 s');
  });
});
