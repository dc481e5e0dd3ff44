// The X stream node's settings (lib/x/options: every field's rule, the same the editor runs) and
// its event → status mapping (lib/x/status), both pure. Statuses and reasons are messages:
// rendered here with the real en-US and ko catalogues, as the runtime and a Korean editor do.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { clip, renderMessage, renderStatus, STATUS_MAX_CHARS, type NodeStatus } from '../../src/lib/common/status-message';
import { fieldWarnings, parseXStreamSettings, wholeNumber, xStreamProblems } from '../../src/lib/x/options';
import { invalidStatus, outcomeOf, span, startingStatus, summaryStatus } from '../../src/lib/x/status';
import { DEFAULT_STALL_TIMEOUT_MS } from '../../src/lib/x/access';
import { XApiError, XNetworkError } from '../../src/lib/x/x-client';
import { XRulesError } from '../../src/lib/x/rules-sync';
import { catalogue } from './catalogue';

const en = catalogue('en-US', 'streamsafe-x-stream');
const ko = catalogue('ko', 'streamsafe-x-stream');
const ctx = { posts: () => '12', polls: () => 0, queueSize: 100 };
/** The status as a Korean editor shows it (src/lib/editor/status.ts renders `i18n` the same way). */
const inKorean = (s: NodeStatus | undefined) => renderStatus(s!.i18n!, ko);
const problemsOf = (config: Record<string, unknown>, level?: string) => xStreamProblems(config, level).map((p) => [p.field, renderMessage(p.message, en)]);

describe('parseXStreamSettings', () => {
  it('takes the defaults for blank fields', () => {
    const r = parseXStreamSettings({ mode: 'filtered' });
    assert.ok('settings' in r);
    assert.equal(r.settings.numbers.stallTimeoutMs, DEFAULT_STALL_TIMEOUT_MS);
    assert.equal(r.settings.recovery, true);
    assert.equal(r.settings.reconnect.maxClientErrorRetries, 3);
    assert.equal(r.settings.params.expansions, 'author_id');
    const old = parseXStreamSettings({});
    assert.ok('settings' in old && old.settings.mode === 'filtered', 'a node without a mode is a filtered stream');
  });
  it('names the field (by its label) and the range of a bad number', () => {
    for (const [field, value, text] of [
      ['backfillMinutes', '6', 'Manual backfill must be a whole number from 0 to 5, not "6"'],
      ['maxResults', '101', 'Posts per page must be a whole number from 10 to 100, not "101"'],
      ['stallTimeoutMs', 'soon', 'Stall timeout must be a whole number from 1 to 3600000, not "soon"'],
      ['queueSize', '0', 'Queue size must be a whole number from 1 to 10000000, not "0"'],
      ['httpMaxMs', '-1', 'HTTP errors: up to must be a whole number from 0 to 86400000, not "-1"'],
      ['pollInterval', 'x', 'Poll every must be a whole number from 1 to ∞, not "x"'],
    ]) {
      const r = parseXStreamSettings({ mode: 'filtered', [field]: value });
      assert.ok('problems' in r, field);
      assert.deepEqual(r.problems.map((p) => [p.field, renderMessage(p.message, en)]), [[field, text]]);
    }
    const [p] = xStreamProblems({ stallTimeoutMs: 'soon' });
    assert.equal(renderMessage(p.message, ko), `${ko('label.stallTimeoutMs')} 값은 1~3600000 사이의 정수여야 합니다. 입력값: "soon"`);
  });
  it('needs a query to search, and reads recovery off', () => {
    const r = parseXStreamSettings({ mode: 'search', query: '  ' });
    assert.ok('problems' in r);
    assert.deepEqual(r.problems.map((p) => [p.field, p.message.key]), [['query', 'errors.noQuery']]);
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

describe('xStreamProblems: every field, the editor\'s rules and the runtime\'s', () => {
  it('a valid node has none, with or without an access level', () => {
    assert.deepEqual(problemsOf({ mode: 'filtered', rules: [{ value: 'kafka', tag: 't' }] }), []);
    assert.deepEqual(problemsOf({ mode: 'search', query: 'kafka' }, 'basic'), []);
  });
  it('mode and overflow: only the known values', () => {
    assert.deepEqual(problemsOf({ mode: 'firehose' }), [['mode', 'Unknown mode "firehose": use filtered, sample or search']]);
    assert.deepEqual(problemsOf({ overflow: 'block' }), [['overflow', 'Unknown "when full" setting "block": use drop or pause']]);
    // A node without them (an old flow; a dialog select with nothing chosen gives null): the defaults.
    assert.deepEqual(problemsOf({ mode: null, overflow: null }), []);
  });
  it('rules: a tag without a value, the same rule twice (normaliseRules, as XSource checks them)', () => {
    assert.deepEqual(problemsOf({ mode: 'filtered', rules: [{ value: 'a' }, { value: '', tag: 't' }, { value: ' a ' }, { value: '', tag: '' }] }), [
      ['rules', 'rule 2: it has a tag but no value'],
      ['rules', 'rule 3: the same rule as rule 1'],
    ]);
    assert.deepEqual(problemsOf({ mode: 'search', query: 'q', rules: [{ value: '', tag: 't' }] }), [], 'rules are not read when searching');
  });
  it('the access level: mode, rules, query length and backfill, only when a level is given', () => {
    const many = Array.from({ length: 1001 }, (_v, i) => ({ value: `r${i}` }));
    assert.deepEqual(problemsOf({ mode: 'filtered', rules: many }), []);
    assert.deepEqual(problemsOf({ mode: 'filtered', rules: many }, 'pay-per-use'), [['rules', 'rule 1,001 of 1,001: Pay-per-use allows 1,000 rules']]);
    assert.deepEqual(problemsOf({ mode: 'sample' }, 'pro').map((p) => p[0]), ['mode']);
    assert.deepEqual(problemsOf({ mode: 'search', query: 'q'.repeat(513) }, 'pay-per-use'), [['query', 'The query has 513 characters: Pay-per-use allows at most 512']]);
    assert.deepEqual(problemsOf({ mode: 'sample', backfillMinutes: '2' }, 'enterprise'), []);
    assert.deepEqual(problemsOf({ mode: 'filtered', backfillMinutes: '2' }, 'pro').map((p) => p[0]), ['backfillMinutes']);
    assert.deepEqual(problemsOf({ mode: 'search', query: 'q', backfillMinutes: '2' }, 'pro'), [], 'backfill is a stream setting');
  });
  it('every problem at once, each on its field', () => {
    assert.deepEqual(
      xStreamProblems({ mode: 'search', query: '', maxPages: '0', networkMaxMs: 'x' }).map((p) => p.field),
      ['query', 'maxPages', 'networkMaxMs'],
    );
  });
  it('unknown field names are warnings (X may know them), per field', () => {
    assert.deepEqual(fieldWarnings({ tweetFields: 'author_id,colour', userFields: 'username', expansions: 'author_id,nope' }), { tweetFields: ['colour'], expansions: ['nope'] });
    assert.deepEqual(fieldWarnings({}), {});
    assert.deepEqual(problemsOf({ tweetFields: 'colour' }), []);
  });
});

describe('outcomeOf: statuses as messages', () => {
  it('a retry shows a short reason, never an error body, and warns on attempts 1, 2, 4', () => {
    const err = new XApiError(503, { title: 'Service Unavailable', detail: 'x'.repeat(500) });
    const o = outcomeOf({ type: 'retrying', error: err, decision: { kind: 'http', attempt: 4, delayMs: 40_000 } }, en, ctx);
    assert.equal(o.status?.fill, 'red');
    assert.equal(o.status!.text, 'retry in 40 s: Service Unavailable (HTTP 503)');
    assert.equal(inKorean(o.status), '40초 후 재시도: Service Unavailable (HTTP 503)');
    assert.equal(o.warn?.length, 1);
    const o3 = outcomeOf({ type: 'retrying', error: new XNetworkError('refused'), decision: { kind: 'network', attempt: 3, delayMs: 750 } }, en, ctx);
    assert.equal(o3.warn, undefined);
    const dropped = outcomeOf({ type: 'retrying', error: new XNetworkError('cut'), decision: { kind: 'dropped', attempt: 1, delayMs: 0 } }, en, ctx);
    assert.equal(dropped.status?.fill, 'yellow');
  });
  it('a 409 without rules: the nested reason is translated too', () => {
    const err = new XApiError(409, { title: 'ConnectionException', connection_issue: 'RuleConfigurationIssue' } as never);
    const o = outcomeOf({ type: 'retrying', error: err, decision: { kind: 'clientError', attempt: 1, delayMs: 5000 } }, en, ctx);
    assert.match(o.status!.text!, /^retry in 5 s: no rules at X \(409 /);
    assert.match(inKorean(o.status), /^5초 후 재시도: X에 규칙 없음 \(409 /);
  });
  it('a long error is clipped: no status runs over the nodes beside it', () => {
    const err = new XNetworkError(`getaddrinfo ENOTFOUND ${'very-long-host-name.'.repeat(10)}example`);
    const o = outcomeOf({ type: 'retrying', error: err, decision: { kind: 'network', attempt: 1, delayMs: 250 } }, en, ctx);
    assert.equal(o.status!.text!.length, STATUS_MAX_CHARS);
    assert.ok(o.status!.text!.endsWith('…'));
    assert.equal(inKorean(o.status).length, STATUS_MAX_CHARS);
    const stopped = outcomeOf({ type: 'stopped', error: new Error('y'.repeat(300)) }, en, ctx);
    assert.equal(stopped.status!.text!.length, STATUS_MAX_CHARS);
  });
  it('stopped: red with the error for Catch nodes', () => {
    const err = new XRulesError('bad', [{ index: 0, value: 'a (', messages: ['unbalanced'] }]);
    const o = outcomeOf({ type: 'stopped', error: err }, en, ctx);
    assert.equal(o.status?.fill, 'red');
    assert.equal(o.error, err);
    assert.equal(o.status!.text, '1 rule(s) refused: see the rules');
    assert.equal(inKorean(o.status), '규칙 1개 거부됨: 규칙을 확인하세요');
    assert.deepEqual(o.status!.i18n, { key: 'status.rulesInvalid', values: { count: 1 } });
  });
  it('a gap that could not be filled: a yellow status and a warning with its bounds', () => {
    const o = outcomeOf({ type: 'gapLost', range: { fromMs: 0, toMs: 600_000, reason: 'no means' } }, en, ctx);
    assert.equal(o.status?.fill, 'yellow');
    assert.equal(o.status!.text, 'gap of 10 min not filled');
    assert.match(o.warn![0], /10 min \(1970-01-01T00:00:00.000Z to/);
  });
  it('connected, polled, gap, recovered', () => {
    const c = outcomeOf({ type: 'connected' }, en, ctx).status;
    assert.deepEqual([c?.fill, c?.text, inKorean(c)], ['green', 'connected', '연결됨']);
    assert.equal(outcomeOf({ type: 'polled', posts: 3, pages: 1, more: false, cursor: {} }, en, ctx).status!.text, 'polled: 3 new · 12 posts');
    const gap = { fromMs: 0, toMs: 65_000 };
    assert.match(outcomeOf({ type: 'gap', gap, means: 'backfill' }, en, ctx).log![0], /1 min 5 s/);
    assert.match(outcomeOf({ type: 'recovered', gap, means: 'search', posts: 9, requests: 2 }, en, ctx).log![0], /^9 post\(s\) of a gap/);
  });
  it('the summary, starting and invalid statuses', () => {
    const s = summaryStatus({ postsPerSecond: 1234.5, posts: 56_000, drops: 3, duplicates: 0 }, en);
    assert.equal(s.text, '1235 posts/s · 56.0k posts · 3 dropped');
    assert.equal(inKorean(s), '1235건/s · 총 56.0k건 · 3건 버림');
    assert.equal(startingStatus(en).text, 'starting');
    const bad = invalidStatus({ key: 'account.noToken' }, en);
    assert.deepEqual([bad.fill, bad.text, inKorean(bad)], ['red', 'invalid: X credentials: no bearer token', '잘못된 설정: X 자격 증명: bearer 토큰 없음']);
  });
  it('clip and span', () => {
    assert.equal(clip('x'.repeat(100)).length, STATUS_MAX_CHARS);
    assert.equal(clip('short'), 'short');
    assert.equal(span(3_723_000), '1 h 2 min');
    assert.equal(span(42_000), '42 s');
  });
});
