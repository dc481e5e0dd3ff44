import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PartitionMetadata } from 'kafkajs';
import { PartitionAssigner } from '../../src/lib/kafka/producer/partitioner';
import { partitionForKey } from '../../src/lib/kafka/murmur2';

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

function assigner(n: number, down: number[] = [], batchSize = 1000) {
  const a = new PartitionAssigner(batchSize);
  a.learn('t', metadata(n, down));
  return a;
}

test('unknown topic: no partition yet', () => {
  assert.equal(new PartitionAssigner(1000).assign('t', utf8('k'), undefined, 10), undefined);
});

test('an explicit partition is kept, even 0 and even with a key', () => {
  const a = assigner(12, [11]);
  assert.equal(a.assign('t', utf8('foobar'), 0, 10), 0);
  assert.equal(a.assign('t', null, 5, 10), 5);
  assert.equal(a.assign('t', null, 11, 10), 11, 'even without a leader');
  assert.throws(() => a.assign('t', null, 12, 10), /Invalid partition given with record: 12 is not in the range \[0\.\.\.12\)/);
});

test('a keyed record goes to partitionForKey over ALL partitions (values from the Java client)', () => {
  // Java: partitionForKey("foobar", 12) = 6, ("21", 12) = 0, ("21", 7) = 3, ("안녕하세요", 100) = 72.
  assert.equal(assigner(12).assign('t', utf8('foobar'), undefined, 10), 6);
  assert.equal(assigner(12).assign('t', utf8('21'), undefined, 10), 0);
  assert.equal(assigner(7).assign('t', utf8('21'), undefined, 10), 3);
  assert.equal(assigner(100).assign('t', utf8('안녕하세요'), undefined, 10), 72);
  // An empty key is a key ("" hashes to 275646681 -> 81 of 100), not "no key".
  assert.equal(assigner(100).assign('t', Buffer.alloc(0), undefined, 10), 81);
  // Partitions without a leader still count, and may be chosen: Java does the same for keyed records.
  assert.equal(assigner(12, [6]).assign('t', utf8('foobar'), undefined, 10), 6);
});

test('keyed partitions agree with partitionForKey for many keys and counts', () => {
  for (const n of [1, 2, 3, 6, 10, 32, 100]) {
    const a = assigner(n);
    for (let i = 0; i < 500; i++) {
      const key = utf8(`user-${i * 7919}`);
      assert.equal(a.assign('t', key, undefined, 10), partitionForKey(key, n));
    }
  }
});

test('records without key stick to one partition with a leader for batch.size bytes, then move on', () => {
  const a = assigner(6, [1, 4], 1000);
  const chosen: number[] = [];
  for (let i = 0; i < 100; i++) chosen.push(a.assign('t', null, undefined, 100)!);
  const runs: number[][] = [];
  for (const p of chosen) {
    const last = runs[runs.length - 1];
    if (last && last[0] === p) last.push(p);
    else runs.push([p]);
  }
  assert.ok(runs.every((r) => r.length === 10), runs.map((r) => `${r[0]}×${r.length}`).join(' '));
  assert.ok(chosen.every((p) => p !== 1 && p !== 4), 'only partitions that have a leader');
  assert.ok(new Set(chosen).size > 1, 'it does move on');
});

test('without any leader, records without key use all partitions', () => {
  const a = assigner(3, [0, 1, 2], 100);
  const chosen = new Set<number>();
  for (let i = 0; i < 200; i++) chosen.add(a.assign('t', null, undefined, 50)!);
  assert.deepEqual([...chosen].sort(), [0, 1, 2]);
});

test('the kafkajs partitioner learns the topic, stores its choice on the message, and keeps it on a retry', () => {
  const a = new PartitionAssigner(1000);
  const choose = a.kafkajsPartitioner()();
  const message: { key: Buffer | null; value: Buffer; partition?: number } = { key: utf8('foobar'), value: utf8('v') };
  assert.equal(choose({ topic: 't', partitionMetadata: metadata(12), message }), 6);
  assert.equal(message.partition, 6);
  assert.equal(a.partitionCount('t'), 12);
  assert.equal(choose({ topic: 't', partitionMetadata: metadata(12), message }), 6);
  const unkeyed: { key: null; value: Buffer; partition?: number } = { key: null, value: utf8('v') };
  const p = choose({ topic: 't', partitionMetadata: metadata(12), message: unkeyed });
  assert.equal(unkeyed.partition, p);
});

test('a partition beyond kafkajs\'s metadata: a refresh when we know the topic grew, a RecordError otherwise', () => {
  const a = new PartitionAssigner(1000);
  const choose = a.kafkajsPartitioner()();
  a.learn('t', metadata(4));
  assert.throws(
    () => choose({ topic: 't', partitionMetadata: metadata(4), message: { key: null, value: utf8('v'), partition: 7 } }),
    (e: Error & { type?: string }) => e.name === 'RecordError' && /Invalid partition given with record: 7/.test(e.message),
  );
  a.raiseCount('t', 10);
  assert.throws(
    () => choose({ topic: 't', partitionMetadata: metadata(4), message: { key: null, value: utf8('v'), partition: 7 } }),
    (e: Error & { type?: string; retriable?: boolean }) => e.type === 'UNKNOWN_TOPIC_OR_PARTITION' && e.retriable === true,
    'kafkajs refreshes its metadata on this error type and tries again',
  );
  // Stale metadata never shrinks what we know.
  a.learn('t', metadata(4));
  assert.equal(a.partitionCount('t'), 10);
  assert.equal(choose({ topic: 't', partitionMetadata: metadata(10), message: { key: null, value: utf8('v'), partition: 7 } }), 7);
});
