// X API access levels (lib/x/access.ts): the table as X documents it in 2026, the rule checks
// made before anything is sent to X, the modes and gap-recovery means each level opens, and the
// stall-timeout default.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ACCESS_LEVELS,
  accessLimits,
  backfillProblem,
  checkRulesForAccess,
  DEFAULT_ACCESS_LEVEL,
  DEFAULT_STALL_TIMEOUT_MS,
  accessSummary,
  isAccessLevel,
  MAX_BACKFILL_MINUTES,
  modeProblem,
  queryProblem,
  ruleCountProblem,
  RECOVERY_REACH_MS,
  recoveryOptions,
  ruleLength,
  X_ACCESS,
  X_STREAM_KEEPALIVE_MS,
  type XAccessLevel,
} from '../../src/lib/x/access';
import { renderMessage, type StatusMessage } from '../../src/lib/common/status-message';
import { catalogue } from './catalogue';

// Problems are messages of the X stream's catalogue: rendered here in English and Korean.
const en = catalogue('en-US', 'streamsafe-x-stream');
const ko = catalogue('ko', 'streamsafe-x-stream');
const say = (m: StatusMessage | undefined) => renderMessage(m!, en);

describe('X_ACCESS: the figures X documents', () => {
  it('lists the four levels, pay-per-use first and the default', () => {
    assert.deepEqual([...ACCESS_LEVELS], ['pay-per-use', 'basic', 'pro', 'enterprise']);
    assert.deepEqual(Object.keys(X_ACCESS).sort(), [...ACCESS_LEVELS].sort());
    assert.equal(DEFAULT_ACCESS_LEVEL, 'pay-per-use');
  });

  it('pay-per-use: 1 connection, 1,000 rules of <= 1,024 characters, 50 connects, 100 POST, 450 GET, search 450 / 512', () => {
    const p = X_ACCESS['pay-per-use'];
    assert.equal(p.filteredStream, true);
    assert.equal(p.connections, 1);
    assert.equal(p.maxRules, 1000);
    assert.equal(p.maxRulesByContract, false);
    assert.equal(p.maxRuleLength, 1024);
    assert.equal(p.connectsPer15Min, 50);
    assert.equal(p.rulesPostPer15Min, 100);
    assert.equal(p.rulesGetPer15Min, 450);
    assert.equal(p.searchPer15Min, 450);
    assert.equal(p.searchQueryLength, 512);
    assert.deepEqual([p.sampleStream, p.backfill, p.recovery, p.recentSearch, p.billedPerPost], [false, false, false, true, true]);
  });

  it('Pro: the same stream and rules figures as pay-per-use, billed by subscription', () => {
    const p = X_ACCESS.pro;
    const q = X_ACCESS['pay-per-use'];
    for (const k of ['filteredStream', 'connections', 'maxRules', 'maxRuleLength', 'connectsPer15Min', 'rulesPostPer15Min', 'rulesGetPer15Min', 'searchPer15Min', 'searchQueryLength', 'sampleStream', 'backfill', 'recovery'] as const) {
      assert.equal(p[k], q[k], k);
    }
    assert.equal(p.billedPerPost, false);
  });

  it('Basic: no filtered stream, recent search 60 / 15 min', () => {
    const b = X_ACCESS.basic;
    assert.equal(b.filteredStream, false);
    assert.equal(b.connections, 0);
    assert.equal(b.maxRules, 0);
    assert.equal(b.searchPer15Min, 60);
    assert.equal(b.searchQueryLength, 512);
    assert.equal(b.recentSearch, true);
    assert.equal(b.sampleStream, false);
  });

  it('Enterprise: 2 connections, 25,000+ rules of <= 2,048 characters, 4,096-character queries, rates by contract, every feature', () => {
    const e = X_ACCESS.enterprise;
    assert.equal(e.connections, 2);
    assert.equal(e.maxRules, 25000);
    assert.equal(e.maxRulesByContract, true);
    assert.equal(e.maxRuleLength, 2048);
    assert.equal(e.searchQueryLength, 4096);
    assert.deepEqual([e.connectsPer15Min, e.rulesPostPer15Min, e.rulesGetPer15Min, e.searchPer15Min], [null, null, null, null]);
    assert.deepEqual([e.sampleStream, e.backfill, e.recovery, e.recentSearch], [true, true, true, true]);
  });

  it('is frozen: nobody changes the one copy of the figures', () => {
    assert.ok(Object.isFrozen(X_ACCESS));
    for (const level of ACCESS_LEVELS) assert.ok(Object.isFrozen(X_ACCESS[level]), level);
    try {
      (X_ACCESS['pay-per-use'] as { maxRules: number }).maxRules = 5; // throws in strict code, ignored otherwise
    } catch {
      // frozen
    }
    assert.equal(X_ACCESS['pay-per-use'].maxRules, 1000);
  });

  it('survives JSON (the admin route sends it as is)', () => {
    assert.deepEqual(JSON.parse(JSON.stringify(X_ACCESS)), X_ACCESS);
  });

  it('recovery reach and keep-alive figures', () => {
    assert.equal(RECOVERY_REACH_MS.backfill, 5 * 60_000);
    assert.equal(RECOVERY_REACH_MS.recovery, 24 * 3600_000);
    assert.equal(RECOVERY_REACH_MS.search, 7 * 86400_000);
    assert.equal(MAX_BACKFILL_MINUTES, 5);
    assert.equal(X_STREAM_KEEPALIVE_MS, 20_000);
  });

  it('the stall timeout tolerates several late keep-alives and stays under 2^31 - 1 ms', () => {
    assert.equal(DEFAULT_STALL_TIMEOUT_MS, 90_000);
    assert.ok(DEFAULT_STALL_TIMEOUT_MS >= 4 * X_STREAM_KEEPALIVE_MS);
    assert.ok(DEFAULT_STALL_TIMEOUT_MS < 2 ** 31 - 1);
  });
});

describe('accessLimits / isAccessLevel', () => {
  it('returns the level asked for', () => {
    for (const level of ACCESS_LEVELS) assert.equal(accessLimits(level), X_ACCESS[level]);
  });
  it('anything else is pay-per-use (the default for new apps)', () => {
    for (const v of [undefined, null, '', 'Enterprise', 'free', 42, {}, ['pro']]) {
      assert.equal(accessLimits(v), X_ACCESS['pay-per-use'], String(v));
      assert.equal(isAccessLevel(v), false, String(v));
    }
    assert.equal(isAccessLevel('pro'), true);
  });
});

describe('checkRulesForAccess', () => {
  const rules = (n: number, value = 'kafka') => Array.from({ length: n }, (_v, i) => ({ value: `${value} ${i}` }));

  it('no problems within the limits', () => {
    assert.deepEqual(checkRulesForAccess(rules(1000), 'pay-per-use'), []);
    assert.deepEqual(checkRulesForAccess([{ value: 'x'.repeat(1024) }], 'pro'), []);
    assert.deepEqual(checkRulesForAccess([], 'pay-per-use'), []);
  });

  it('too many rules: every rule past the limit, with the figure and the level', () => {
    const problems = checkRulesForAccess(rules(1002), 'pay-per-use');
    assert.deepEqual(problems.map((p) => p.index), [1000, 1001]);
    assert.equal(problems[0].value, 'kafka 1000');
    assert.equal(problems[0].messages.length, 1);
    assert.equal(say(problems[0].messages[0]), 'rule 1,001 of 1,002: Pay-per-use allows 1,000 rules');
    assert.equal(renderMessage(problems[0].messages[0], ko), '규칙 1,002개 중 1,001번째: Pay-per-use은(는) 규칙 1,000개까지 허용합니다');
  });

  it('a rule too long: the length, the limit and the level', () => {
    const problems = checkRulesForAccess([{ value: 'ok' }, { value: 'x'.repeat(1025) }], 'pro');
    assert.equal(problems.length, 1);
    assert.equal(problems[0].index, 1);
    assert.equal(say(problems[0].messages[0]), '1,025 characters: Pro allows rules of at most 1,024');
  });

  it('counts characters as code points (an emoji is one)', () => {
    const emoji = '\u{1F600}';
    assert.equal(ruleLength(emoji.repeat(3)), 3);
    assert.deepEqual(checkRulesForAccess([{ value: emoji.repeat(1024) }], 'pay-per-use'), []);
    assert.equal(checkRulesForAccess([{ value: emoji.repeat(1025) }], 'pay-per-use').length, 1);
  });

  it('both problems on one rule', () => {
    const list = [...rules(1000), { value: 'y'.repeat(2000) }];
    const problems = checkRulesForAccess(list, 'pay-per-use');
    assert.equal(problems.length, 1);
    assert.equal(problems[0].index, 1000);
    assert.equal(problems[0].messages.length, 2);
  });

  it('Enterprise: 2,048 characters; the rule count is the contract\'s, not checked', () => {
    assert.deepEqual(checkRulesForAccess([{ value: 'x'.repeat(2048) }], 'enterprise'), []);
    assert.equal(checkRulesForAccess([{ value: 'x'.repeat(2049) }], 'enterprise').length, 1);
    assert.deepEqual(checkRulesForAccess(rules(25_001), 'enterprise'), []);
  });

  it('Basic: nothing per rule (modeProblem says the filtered stream is not there)', () => {
    assert.deepEqual(checkRulesForAccess(rules(3), 'basic'), []);
  });

  it('an unknown level is checked as pay-per-use', () => {
    assert.equal(checkRulesForAccess(rules(1001), 'gold').length, 1);
    assert.match(say(checkRulesForAccess(rules(1001), 'gold')[0].messages[0]), /Pay-per-use allows 1,000 rules/);
  });

  it('the list as a whole: one line when there are more rules than the level allows', () => {
    assert.equal(ruleCountProblem(1000, 'pay-per-use'), undefined);
    assert.equal(say(ruleCountProblem(1001, 'pay-per-use')), '1,001 rules: Pay-per-use allows 1,000');
    assert.equal(ruleCountProblem(30_000, 'enterprise'), undefined);
    assert.equal(ruleCountProblem(5, 'basic'), undefined);
  });
});

describe('modeProblem / backfillProblem / queryProblem', () => {
  it('sample needs Enterprise', () => {
    for (const level of ['pay-per-use', 'basic', 'pro'] as XAccessLevel[]) {
      const why = modeProblem('sample', level);
      assert.ok(why, level);
      assert.equal(say(why), `The sample stream needs Enterprise access; ${X_ACCESS[level].label} does not include it. Use the filtered stream (rules) or recent search.`);
    }
    assert.match(renderMessage(modeProblem('sample', 'pro')!, ko), /^Sample stream은 Enterprise 액세스가 필요합니다. Pro에는/);
    assert.equal(modeProblem('sample', 'enterprise'), undefined);
  });
  it('filtered is refused on Basic only', () => {
    assert.match(say(modeProblem('filtered', 'basic')), /^Basic access has no filtered stream/);
    for (const level of ['pay-per-use', 'pro', 'enterprise'] as XAccessLevel[]) assert.equal(modeProblem('filtered', level), undefined, level);
  });
  it('recent search is open on every level', () => {
    for (const level of ACCESS_LEVELS) assert.equal(modeProblem('search', level), undefined, level);
  });
  it('a manual backfill needs Enterprise (its range, 0 to MAX_BACKFILL_MINUTES, is the settings\' rule)', () => {
    assert.equal(backfillProblem(0, 'pay-per-use'), undefined);
    assert.match(say(backfillProblem(2, 'pay-per-use')), /^Backfill needs Enterprise access; Pay-per-use does not include it/);
    assert.match(say(backfillProblem(1, 'pro')), /Pro does not include it/);
    assert.equal(backfillProblem(5, 'enterprise'), undefined);
  });
  it('a recent-search query longer than the level allows (trimmed, code points)', () => {
    assert.equal(queryProblem('q'.repeat(512), 'pay-per-use'), undefined);
    assert.equal(queryProblem(` ${'q'.repeat(512)}  `, 'basic'), undefined);
    assert.equal(say(queryProblem('q'.repeat(513), 'pay-per-use')), 'The query has 513 characters: Pay-per-use allows at most 512');
    assert.equal(queryProblem('\u{1F600}'.repeat(512), 'pro'), undefined);
    assert.equal(queryProblem('q'.repeat(4096), 'enterprise'), undefined);
    assert.ok(queryProblem('q'.repeat(4097), 'enterprise'));
  });
});

describe('recoveryOptions', () => {
  it('Enterprise: backfill, Recovery, then search; every other level: search only', () => {
    assert.deepEqual(recoveryOptions('enterprise'), ['backfill', 'recovery', 'search']);
    assert.deepEqual(recoveryOptions('pay-per-use'), ['search']);
    assert.deepEqual(recoveryOptions('pro'), ['search']);
    assert.deepEqual(recoveryOptions('basic'), ['search']);
    assert.deepEqual(recoveryOptions(undefined), ['search']);
  });
});

describe('accessSummary', () => {
  const line = (level: XAccessLevel, t = en) => {
    const s = accessSummary(level);
    return t('access.line', { level: renderMessage(s.level, t), limits: s.parts.map((p) => renderMessage(p, t)).join('; ') });
  };
  it('one line with the figures, in the editor\'s language', () => {
    assert.equal(
      line('pay-per-use'),
      'Pay-per-use: filtered stream: 1 connection(s), 1,000 rules of ≤ 1,024 characters, connects 50 / 15 min, rule changes 100 / 15 min, rule lists 450 / 15 min; ' +
        'recent search 450 / 15 min, queries ≤ 512 characters; without sample stream, backfill, Recovery; every post read is billed (recoveries too)',
    );
    assert.match(line('enterprise'), /^Enterprise: filtered stream: 2 connection\(s\), 25,000\+ rules of ≤ 2,048 characters, connects by contract/);
    assert.match(line('enterprise'), /with sample stream, backfill, Recovery$/);
    assert.match(line('basic'), /^Basic: no filtered stream; recent search 60 \/ 15 min/);
    assert.match(line('pay-per-use', ko), /^Pay-per-use: filtered stream: 연결 1개, 규칙 1,000개 \(각 1,024자 이하\)/);
  });
});
