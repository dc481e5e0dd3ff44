import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exponentialBackoff, linearBackoff } from '../../src/lib/common/backoff';

test('exponential doubles up to the max', () => {
  const b = exponentialBackoff({ initialMs: 100, maxMs: 1000 });
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((n) => b.delay(n)), [100, 200, 400, 800, 1000, 1000]);
});

test('jitter stays within ± the fraction and under the max', () => {
  let r = 0;
  const b = exponentialBackoff({ initialMs: 1000, maxMs: 5000, jitter: 0.2, random: () => r });
  r = 0;
  assert.equal(b.delay(1), 800);
  r = 0.999999;
  assert.equal(b.delay(1), 1200);
  assert.equal(b.delay(10), 5000);
});

test('linear adds a step per attempt up to the max', () => {
  const b = linearBackoff({ stepMs: 250, maxMs: 16000 });
  assert.deepEqual([1, 2, 3, 64, 65, 1000].map((n) => b.delay(n)), [250, 500, 750, 16000, 16000, 16000]);
});
