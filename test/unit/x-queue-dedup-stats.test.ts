// The bounded queue, the de-duplication window and the statistics of the X source.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/lib/common/clock';
import { BoundedQueue } from '../../src/lib/x/bounded-queue';
import { IdWindow } from '../../src/lib/x/dedup';
import { compactNumber, XStats } from '../../src/lib/x/stats';

describe('BoundedQueue', () => {
  it('is FIFO across wrap-around and refuses (counting drops) when full', () => {
    const q = new BoundedQueue<number>(3);
    for (let round = 0; round < 5; round++) {
      assert.ok(q.push(round * 10 + 1));
      assert.ok(q.push(round * 10 + 2));
      assert.ok(q.push(round * 10 + 3));
      assert.equal(q.push(99), false);
      assert.deepEqual([q.shift(), q.shift()], [round * 10 + 1, round * 10 + 2]);
      assert.equal(q.shift(), round * 10 + 3);
      assert.equal(q.shift(), undefined);
    }
    assert.equal(q.dropped, 5);
    assert.equal(q.highWater, 3);
  });

  it('whenRoom resolves once enough items have left, clear() releases everyone', async () => {
    const q = new BoundedQueue<number>(2);
    q.push(1);
    q.push(2);
    let released = false;
    const p = q.whenRoom(1).then(() => (released = true));
    await Promise.resolve();
    assert.equal(released, false);
    q.shift();
    await p;
    assert.equal(released, true);
    q.push(3);
    const w = q.whenRoom(2);
    assert.equal(q.clear(), 2);
    await w;
  });

  it('refuses a capacity below 1', () => {
    assert.throws(() => new BoundedQueue(0), RangeError);
  });
});

describe('IdWindow', () => {
  it('lets an id through once within the window and forgets the oldest beyond it', () => {
    const w = new IdWindow(3);
    assert.deepEqual(['a', 'b', 'a', 'c', 'b'].map((id) => w.firstSeen(id)), [true, true, false, true, false]);
    assert.equal(w.duplicates, 2);
    assert.equal(w.firstSeen('d'), true); // a leaves the window
    assert.equal(w.firstSeen('a'), true);
    assert.equal(w.length, 3);
  });
});

describe('XStats', () => {
  it('computes posts/s over the last 5 s, and over the time there has been right after the start', () => {
    const clock = new ManualClock(0);
    const s = new XStats(clock, 5000, 10);
    clock.advance(1000);
    s.sent(100);
    assert.equal(Math.round(s.postsPerSecond()), 100);
    for (let i = 0; i < 10; i++) {
      clock.advance(500);
      s.sent(50);
    }
    assert.equal(Math.round(s.postsPerSecond()), 100);
    clock.advance(10_000);
    assert.equal(s.postsPerSecond(), 0);
    assert.equal(s.posts, 600);
  });

  it('snapshot carries the counters and the queue figures', () => {
    const s = new XStats(new ManualClock(0));
    s.connects = 2;
    s.failure('http', 503);
    s.failure('http', 503);
    s.failure('network');
    const snap = s.snapshot({ length: 4, dropped: 7, highWater: 9 });
    assert.equal(snap.connects, 2);
    assert.deepEqual(snap.failures, { http: 2, network: 1 });
    assert.deepEqual(snap.httpErrors, { '503': 2 });
    assert.equal(snap.drops, 7);
    assert.equal(snap.queued, 4);
    assert.equal(snap.queueHighWater, 9);
  });

  it('compactNumber', () => {
    assert.deepEqual([0, 12, 2.5, 999, 9999, 12345, 123456, 1234567, 12345678].map(compactNumber), ['0', '12', '2.5', '999', '9999', '12.3k', '123k', '1.23M', '12.3M']);
  });
});
