import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Message, PartitionMetadata } from 'kafkajs';
import {
  chooseUnkeyedPartition,
  choosePartition,
  createPartitioner,
  createPartitionerState,
  hashMessageKey,
} from '../../src/lib/partitioner';
import { murmur2, partitionForKey } from '../../src/lib/murmur2';

/** Fake metadata: partition ids 0..n-1; `down` lists partitions without a leader. */
function metadata(n: number, down: number[] = []): PartitionMetadata[] {
  return Array.from({ length: n }, (_, partitionId) => ({
    partitionErrorCode: down.includes(partitionId) ? 5 : 0,
    partitionId,
    leader: down.includes(partitionId) ? -1 : partitionId % 3,
    replicas: [0, 1, 2],
    isr: down.includes(partitionId) ? [] : [0, 1, 2],
  }));
}

const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

test('an explicit partition is kept, even 0 and even with a key', () => {
  const state = createPartitionerState();
  assert.equal(choosePartition({ key: 'foobar', partition: 0 }, metadata(12), state), 0);
  assert.equal(choosePartition({ key: null, partition: 5 }, metadata(12), state), 5);
  assert.equal(choosePartition({ partition: 11 }, metadata(12, [11]), state), 11);
  assert.equal(state.counter, 0, 'the round-robin counter is untouched');
});

test('a keyed message goes to partitionForKey over ALL partitions (values from the Java client)', () => {
  const state = createPartitionerState();
  // Java: partitionForKey("foobar", 12) = 6, ("21", 12) = 0, ("21", 7) = 3, ("안녕하세요", 100) = 72.
  assert.equal(choosePartition({ key: utf8('foobar') }, metadata(12), state), 6);
  assert.equal(choosePartition({ key: 'foobar' }, metadata(12), state), 6);
  assert.equal(choosePartition({ key: utf8('21') }, metadata(12), state), 0);
  assert.equal(choosePartition({ key: utf8('21') }, metadata(7), state), 3);
  assert.equal(choosePartition({ key: '안녕하세요' }, metadata(100), state), 72);
  // Empty key is a key ("" hashes to 275646681 -> 81 of 100), not "no key".
  assert.equal(choosePartition({ key: '' }, metadata(100), state), 81);
  assert.equal(choosePartition({ key: Buffer.alloc(0) }, metadata(100), state), 81);
  // Partitions without a leader still count, and may be chosen: Java does the same for keyed records.
  assert.equal(choosePartition({ key: utf8('foobar') }, metadata(12, [6]), state), 6);
  assert.equal(choosePartition({ key: utf8('foobar') }, metadata(12, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]), state), 6);
  assert.equal(state.counter, 0);
});

test('keyed partitions agree with partitionForKey for many keys and counts', () => {
  const state = createPartitionerState();
  for (let i = 0; i < 500; i++) {
    const key = utf8(`user-${i * 7919}`);
    for (const n of [1, 2, 3, 6, 10, 32, 100]) {
      assert.equal(choosePartition({ key }, metadata(n), state), partitionForKey(key, n));
    }
  }
});

test('key bytes follow what kafkajs puts on the wire', () => {
  assert.equal(hashMessageKey(utf8('foobar')), -790332482);
  assert.equal(hashMessageKey('foobar'), -790332482);
  // kafkajs writes a non-Buffer key as String(key).
  assert.equal(hashMessageKey(42), murmur2(utf8('42')));
  const u8 = Uint8Array.from([1, 2, 3]);
  assert.equal(hashMessageKey(u8), murmur2(utf8('1,2,3')));
});

test('messages without key go round-robin over the partitions that have a leader', () => {
  const meta = metadata(6, [1, 4]);
  const state = createPartitionerState();
  const seen = Array.from({ length: 8 }, () => choosePartition({ key: null }, meta, state));
  assert.deepEqual(seen, [0, 2, 3, 5, 0, 2, 3, 5]);
  const state2 = createPartitionerState();
  assert.deepEqual(
    Array.from({ length: 4 }, () => choosePartition({ value: 'v' } as Message, metadata(3), state2)),
    [0, 1, 2, 0],
  );
  assert.equal(state2.counter, 4);
});

test('messages without key fall back to all partitions when none has a leader', () => {
  const state = createPartitionerState();
  const seen = Array.from({ length: 5 }, () => chooseUnkeyedPartition(metadata(3, [0, 1, 2]), state));
  assert.deepEqual(seen, [0, 1, 2, 0, 1]);
});

test('the round-robin counter wraps like a Java int and stays non-negative through toPositive', () => {
  const state = createPartitionerState(0x7fffffff);
  const meta = metadata(5);
  assert.equal(chooseUnkeyedPartition(meta, state), 0x7fffffff % 5);
  assert.equal(state.counter, -0x80000000);
  assert.equal(chooseUnkeyedPartition(meta, state), 0); // toPositive(MIN_VALUE) = 0
  assert.equal(chooseUnkeyedPartition(meta, state), 1);
});

test('a topic without partitions is refused, not answered with NaN', () => {
  assert.throws(() => choosePartition({ key: 'k' }, [], createPartitionerState()), RangeError);
  assert.throws(() => choosePartition({ key: null }, [], createPartitionerState()), RangeError);
});

test('choosePartition does not modify the message', () => {
  const message: Message = { key: 'foobar', value: 'v' };
  choosePartition(message, metadata(12), createPartitionerState());
  assert.equal(message.partition, undefined);
});

test('createPartitioner stores its choice on the message, so a retry reuses it', () => {
  const partitioner = createPartitioner();
  const keyed: Message = { key: utf8('foobar'), value: 'v' };
  assert.equal(partitioner({ topic: 't', partitionMetadata: metadata(12), message: keyed }), 6);
  assert.equal(keyed.partition, 6);

  const unkeyed: Message = { key: null, value: 'v' };
  const first = partitioner({ topic: 't', partitionMetadata: metadata(12), message: unkeyed });
  assert.equal(unkeyed.partition, first);
  // Retries (the same message object) keep that partition, though round-robin moves on
  // and though the metadata changed in between.
  for (let i = 0; i < 5; i++) {
    assert.equal(partitioner({ topic: 't', partitionMetadata: metadata(12), message: unkeyed }), first);
    assert.equal(partitioner({ topic: 't', partitionMetadata: metadata(24), message: unkeyed }), first);
  }
  // The keyed message keeps its partition too, even if the partition count grew meanwhile.
  assert.equal(partitioner({ topic: 't', partitionMetadata: metadata(24), message: keyed }), 6);
});

test('createPartitioner keeps a round-robin counter per topic over available partitions', () => {
  const partitioner = createPartitioner();
  const meta = metadata(4, [2]);
  const send = (topic: string): number => partitioner({ topic, partitionMetadata: meta, message: { key: null, value: 'v' } });
  const a = Array.from({ length: 6 }, () => send('a'));
  const b = Array.from({ length: 3 }, () => send('b'));
  for (const p of [...a, ...b]) assert.ok([0, 1, 3].includes(p), String(p));
  // Consecutive picks of one topic walk the available partitions in order (from a random start).
  const order = [0, 1, 3];
  for (let i = 1; i < a.length; i++) assert.equal(a[i], order[(order.indexOf(a[i - 1]) + 1) % 3]);
  for (let i = 1; i < b.length; i++) assert.equal(b[i], order[(order.indexOf(b[i - 1]) + 1) % 3]);
});
