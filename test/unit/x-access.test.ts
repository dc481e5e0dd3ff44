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
  describeAccess,
  isAccessLevel,
  MAX_BACKFILL_MINUTES,
  modeProblem,
  RECOVERY_REACH_MS,
  recoveryOptions,
  ruleLength,
  X_ACCESS,
  X_STREAM_KEEPALIVE_MS,
  type XAccessLevel,
} from '../../src/lib/x/access';

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
    assert.match(problems[0].messages[0], /1,000 rules/);
    assert.match(problems[0].messages[0], /Pay-per-use/);
    assert.match(problems[0].messages[0], /rule 1,001 of 1,002/);
  });

  it('a rule too long: the length, the limit and the level', () => {
    const problems = checkRulesForAccess([{ value: 'ok' }, { value: 'x'.repeat(1025) }], 'pro');
    assert.equal(problems.length, 1);
    assert.equal(problems[0].index, 1);
    assert.match(problems[0].messages[0], /1,025 characters/);
    assert.match(problems[0].messages[0], /at most 1,024/);
    assert.match(problems[0].messages[0], /Pro/);
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
  });
});

describe('modeProblem / backfillProblem', () => {
  it('sample needs Enterprise', () => {
    for (const level of ['pay-per-use', 'basic', 'pro'] as XAccessLevel[]) {
      const why = modeProblem('sample', level);
      assert.ok(why, level);
      assert.match(why!, /sample stream needs Enterprise/);
      assert.ok(why!.includes(X_ACCESS[level].label), why);
    }
    assert.equal(modeProblem('sample', 'enterprise'), undefined);
  });
  it('filtered is refused on Basic only', () => {
    assert.match(modeProblem('filtered', 'basic')!, /filtered stream is not part of Basic/);
    for (const level of ['pay-per-use', 'pro', 'enterprise'] as XAccessLevel[]) assert.equal(modeProblem('filtered', level), undefined, level);
  });
  it('recent search is open on every level', () => {
    for (const level of ACCESS_LEVELS) assert.equal(modeProblem('search', level), undefined, level);
  });
  it('a manual backfill needs Enterprise and at most 5 minutes', () => {
    assert.equal(backfillProblem(0, 'pay-per-use'), undefined);
    assert.match(backfillProblem(2, 'pay-per-use')!, /needs Enterprise/);
    assert.match(backfillProblem(1, 'pro')!, /Pro/);
    assert.equal(backfillProblem(5, 'enterprise'), undefined);
    assert.match(backfillProblem(6, 'enterprise')!, /at most 5 minutes/);
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

describe('describeAccess', () => {
  it('one line with the figures', () => {
    const line = describeAccess('pay-per-use');
    assert.match(line, /^Pay-per-use: 1 connection, 1,000 rules of ≤ 1,024 characters, /);
    assert.match(line, /connects 50 \/ 15 min/);
    assert.match(line, /recent search 450 \/ 15 min, queries ≤ 512 characters/);
    assert.match(line, /without sample stream, backfill, Recovery/);
    assert.match(describeAccess('enterprise'), /^Enterprise: 2 connections, 25,000\+ rules of ≤ 2,048 characters, connects by contract/);
    assert.match(describeAccess('basic'), /^Basic: no filtered stream, recent search 60 \/ 15 min/);
  });
});
