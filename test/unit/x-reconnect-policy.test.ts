// X's reconnect rules, on a manual clock.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/lib/common/clock';
import { failureKindOf, ReconnectPolicy } from '../../src/lib/x/reconnect-policy';
import { X_RECONNECT_DEFAULTS } from '../../src/lib/x/reconnect-settings';
import { XApiError, XNetworkError } from '../../src/lib/x/x-client';

describe('ReconnectPolicy (X defaults)', () => {
  it('has X\'s numbers', () => {
    assert.deepEqual({ ...X_RECONNECT_DEFAULTS }, {
      minReconnectIntervalMs: 1000,
      networkStepMs: 250,
      networkMaxMs: 16000,
      httpInitialMs: 5000,
      httpMaxMs: 320000,
      rateLimitInitialMs: 60000,
      rateLimitMaxMs: 960000,
      maxClientErrorRetries: 3,
    });
  });

  it('other 4xx: backed off as 5xx, then given up after maxClientErrorRetries in a row', () => {
    const p = new ReconnectPolicy({}, new ManualClock());
    assert.deepEqual([1, 2, 3].map(() => p.next('clientError').delayMs), [5000, 10000, 20000]);
    assert.equal(p.next('clientError').giveUp, true);
    p.connected();
    assert.equal(p.next('clientError').giveUp, undefined, 'a connection starts the count over');
  });

  it('classifies failures once: final statuses, 429, other 4xx, 5xx, network', () => {
    for (const s of [401, 403, 404, 406, 413, 416]) assert.equal(failureKindOf(new XApiError(s, {})), 'fatal', String(s));
    assert.equal(failureKindOf(new XApiError(429, {})), 'rateLimited');
    for (const s of [400, 409, 422]) assert.equal(failureKindOf(new XApiError(s, {})), 'clientError', String(s));
    for (const s of [500, 502, 503]) assert.equal(failureKindOf(new XApiError(s, {})), 'http', String(s));
    assert.equal(failureKindOf(new XNetworkError('refused')), 'network');
  });

  it('after an established stream drops: at once, but never more than once per second in a row', () => {
    const clock = new ManualClock();
    const p = new ReconnectPolicy({}, clock);
    p.attemptStarted();
    p.connected();
    clock.advance(5000); // a long-lived connection drops
    assert.equal(p.next('dropped').delayMs, 0);
    p.attemptStarted();
    p.connected();
    clock.advance(200); // ... and the new one drops after 200 ms
    assert.equal(p.next('dropped').delayMs, 800);
    clock.advance(800);
    p.attemptStarted();
    p.connected();
    clock.advance(1000);
    assert.equal(p.next('dropped').delayMs, 0);
  });

  it('network errors: linear, +250 ms per attempt, up to 16 s', () => {
    const p = new ReconnectPolicy({}, new ManualClock());
    const delays = Array.from({ length: 70 }, () => p.next('network').delayMs);
    assert.deepEqual(delays.slice(0, 5), [250, 500, 750, 1000, 1250]);
    assert.equal(delays[63], 16000);
    assert.equal(delays[69], 16000);
  });

  it('HTTP errors: exponential from 5 s, doubling, up to 320 s', () => {
    const p = new ReconnectPolicy({}, new ManualClock());
    const delays = Array.from({ length: 9 }, () => p.next('http').delayMs);
    assert.deepEqual(delays, [5000, 10000, 20000, 40000, 80000, 160000, 320000, 320000, 320000]);
  });

  it('HTTP 429: exponential from 60 s, doubling, and never before x-rate-limit-reset', () => {
    const clock = new ManualClock(1_000_000);
    const p = new ReconnectPolicy({}, clock);
    assert.equal(p.next('rateLimited').delayMs, 60000);
    assert.equal(p.next('rateLimited').delayMs, 120000);
    // The reset is later than the backoff: wait for the reset.
    const d = p.next('rateLimited', { resetAtMs: clock.now() + 900_000 });
    assert.equal(d.delayMs, 900000);
    assert.equal(d.notBefore, clock.now() + 900_000);
    // The reset is sooner than the backoff: the backoff wins.
    assert.equal(p.next('rateLimited', { resetAtMs: clock.now() + 1000 }).delayMs, 480000);
    assert.equal(p.next('rateLimited').delayMs, 960000);
    assert.equal(p.next('rateLimited').delayMs, 960000);
  });

  it('HTTP 429 with a reset days ahead: asked again after rateLimitMaxMs, never a timer past 2^31 ms', () => {
    const clock = new ManualClock(1_000_000);
    const p = new ReconnectPolicy({}, clock);
    const d = p.next('rateLimited', { resetAtMs: clock.now() + 40 * 86_400_000 });
    assert.equal(d.delayMs, 960000);
    const small = new ReconnectPolicy({ rateLimitInitialMs: 400, rateLimitMaxMs: 3200 }, clock);
    assert.equal(small.next('rateLimited', { resetAtMs: clock.now() + 3_000_000_000 }).delayMs, 3200);
  });

  it('starts every count over once a connection is established', () => {
    const p = new ReconnectPolicy({}, new ManualClock());
    p.next('network');
    p.next('network');
    p.next('http');
    p.next('rateLimited');
    p.connected();
    assert.equal(p.next('network').delayMs, 250);
    assert.equal(p.next('http').delayMs, 5000);
    assert.equal(p.next('rateLimited').delayMs, 60000);
  });

  it('keeps the counts of different kinds apart', () => {
    const p = new ReconnectPolicy({}, new ManualClock());
    assert.equal(p.next('http').delayMs, 5000);
    assert.equal(p.next('network').delayMs, 250);
    assert.equal(p.next('http').delayMs, 10000);
    assert.equal(p.count('http'), 2);
    assert.equal(p.count('network'), 1);
  });

  it('takes smaller bases for tests; blank or non-numbers keep the defaults', () => {
    const p = new ReconnectPolicy({ httpInitialMs: 100, httpMaxMs: 400, networkStepMs: 10, networkMaxMs: NaN }, new ManualClock());
    assert.deepEqual([1, 2, 3, 4].map(() => p.next('http').delayMs), [100, 200, 400, 400]);
    assert.equal(p.settings.networkMaxMs, 16000);
    assert.equal(p.next('network').delayMs, 10);
  });
});
