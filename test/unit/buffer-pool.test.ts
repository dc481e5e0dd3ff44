// buffer.memory: bytes held until records settle, a line of records waiting
// up to max.block.ms for room, and the line itself bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BufferPool } from '../../src/lib/kafka/producer/buffer-pool';
import { ManualClock } from '../../src/lib/common/clock';

/** The error, read fresh (not narrowed by an earlier assertion). */
const errorOf = (r: { err?: Error }): Error | undefined => r.err;

function take(pool: BufferPool, bytes: number): { granted: boolean; err?: Error } {
  const r: { granted: boolean; err?: Error } = { granted: false };
  pool.allocate(bytes, () => (r.granted = true), (err) => (r.err = err));
  return r;
}

test('bytes are granted while there is room; past it records wait, and get room as others settle, first come first served', () => {
  const pool = new BufferPool(1000, 100, new ManualClock());
  for (let i = 0; i < 10; i++) assert.equal(take(pool, 100).granted, true);
  assert.equal(pool.heldBytes, 1000);
  const a = take(pool, 100);
  const b = take(pool, 50);
  assert.equal(a.granted, false);
  assert.equal(pool.waiting, 2);
  assert.equal(pool.exhausted, true, 'batches should go out now rather than linger');
  pool.release(60);
  assert.equal(a.granted, false, '60 bytes free: not enough for the first in line');
  assert.equal(b.granted, false, 'and nobody overtakes it');
  pool.release(40);
  assert.deepEqual([a.granted, b.granted], [true, false]);
  pool.release(50);
  assert.equal(b.granted, true);
  assert.equal(pool.heldBytes, 1000);
});

test('max.block.ms: a record that finds no room in time fails with BufferExhaustedError', () => {
  const clock = new ManualClock();
  const pool = new BufferPool(1000, 100, clock);
  take(pool, 1000);
  const blocked = take(pool, 100);
  clock.advance(99);
  assert.ok(!blocked.granted && !errorOf(blocked));
  clock.advance(1);
  assert.equal(errorOf(blocked)?.name, 'BufferExhaustedError');
  assert.match(errorOf(blocked)!.message, /within the configured max blocking time 100 ms/);
  assert.equal(pool.heldBytes, 1000);
  assert.equal(pool.waiting, 0);
});

test('the line for room is bounded: past it records fail at once, and `refusing` says so before they are built', () => {
  // 2 MiB buffer: the line holds 1 MiB (an eighth of the buffer, at least 1 MiB).
  const clock = new ManualClock();
  const pool = new BufferPool(2 << 20, 100, clock);
  take(pool, 2 << 20);
  const waiting = Array.from({ length: 10 }, () => take(pool, 100_000));
  assert.equal(pool.refusing, false, 'the line still has 48,576 bytes of room');
  const refused = take(pool, 100_000);
  assert.equal(refused.err?.name, 'BufferExhaustedError');
  assert.match(refused.err!.message, /already wait for room/);
  assert.equal(pool.refusing, true, 'the next msg is refused without building its record');
  assert.equal(take(pool, 100).err?.name, 'BufferExhaustedError', 'no small record jumps the full line');
  clock.advance(100); // max.block.ms: the line empties
  assert.ok(waiting.every((w) => w.err?.name === 'BufferExhaustedError'));
  assert.equal(pool.refusing, false);
  const again = take(pool, 100);
  assert.equal(pool.waiting, 1, 'a new record waits in line again');
  clock.advance(100);
  assert.match(again.err!.message, /max blocking time/);
});

test('closing fails everyone still waiting for room', () => {
  const pool = new BufferPool(100, 1000, new ManualClock());
  take(pool, 100);
  const w = take(pool, 10);
  pool.rejectWaiters(new Error('closed'));
  assert.equal(w.err?.message, 'closed');
  assert.equal(pool.waiting, 0);
});
