import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PartitionAssigner } from '../../src/lib/kafka/producer/partitioner';
import { partitionForKey } from '../../src/lib/kafka/murmur2';
import type { PartitionInfo } from '../../src/lib/kafka/protocol/metadata';

/** Partitions 0..n-1 as a metadata answer has them; `down` lists partitions without a leader. */
function partitions(n: number, down: number[] = []): PartitionInfo[] {
  return Array.from({ length: n }, (_, partition) => ({
    errorCode: down.includes(partition) ? 5 : 0,
    partition,
    leader: down.includes(partition) ? -1 : partition % 3,
    leaderEpoch: 0,
    replicas: [0, 1, 2],
    isr: down.includes(partition) ? [] : [0, 1, 2],
    offlineReplicas: [],
  }));
}

const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

test('an explicit partition is kept, even 0, even with a key, even without a leader', () => {
  const a = new PartitionAssigner(1000);
  const p = partitions(12, [11]);
  assert.equal(a.assign('t', p, utf8('foobar'), 0, 10), 0);
  assert.equal(a.assign('t', p, null, 5, 10), 5);
  assert.equal(a.assign('t', p, null, 11, 10), 11);
});

test('a keyed record goes to partitionForKey over ALL partitions (values from the Java client)', () => {
  const a = new PartitionAssigner(1000);
  // Java: partitionForKey("foobar", 12) = 6, ("21", 12) = 0, ("21", 7) = 3, ("안녕하세요", 100) = 72.
  assert.equal(a.assign('t', partitions(12), utf8('foobar'), undefined, 10), 6);
  assert.equal(a.assign('t', partitions(12), utf8('21'), undefined, 10), 0);
  assert.equal(a.assign('t', partitions(7), utf8('21'), undefined, 10), 3);
  assert.equal(a.assign('t', partitions(100), utf8('안녕하세요'), undefined, 10), 72);
  // An empty key is a key ("" hashes to 275646681 -> 81 of 100), not "no key".
  assert.equal(a.assign('t', partitions(100), Buffer.alloc(0), undefined, 10), 81);
  // Partitions without a leader still count, and may be chosen: Java does the same for keyed records.
  assert.equal(a.assign('t', partitions(12, [6]), utf8('foobar'), undefined, 10), 6);
});

test('keyed partitions agree with partitionForKey for many keys and counts', () => {
  const a = new PartitionAssigner(1000);
  for (const n of [1, 2, 3, 6, 10, 32, 100]) {
    const p = partitions(n);
    for (let i = 0; i < 500; i++) {
      const key = utf8(`user-${i * 7919}`);
      assert.equal(a.assign('t', p, key, undefined, 10), partitionForKey(key, n));
    }
  }
});

test('records without key stick to one partition with a leader for batch.size bytes, then move on (KIP-794)', () => {
  const a = new PartitionAssigner(1000);
  const p = partitions(6, [1, 4]);
  const chosen: number[] = [];
  for (let i = 0; i < 100; i++) chosen.push(a.assign('t', p, null, undefined, 100));
  const runs: number[][] = [];
  for (const c of chosen) {
    const last = runs[runs.length - 1];
    if (last && last[0] === c) last.push(c);
    else runs.push([c]);
  }
  assert.ok(runs.every((r) => r.length === 10), runs.map((r) => `${r[0]}×${r.length}`).join(' '));
  assert.ok(chosen.every((c) => c !== 1 && c !== 4), 'only partitions that have a leader');
  assert.ok(new Set(chosen).size > 1, 'it does move on');
});

test('a sticky partition that loses its leader is left at once', () => {
  const a = new PartitionAssigner(1_000_000, () => 0); // always the first choice
  const first = a.assign('t', partitions(4), null, undefined, 10);
  assert.equal(first, 0);
  assert.equal(a.assign('t', partitions(4, [0]), null, undefined, 10), 1);
});

test('without any leader, records without key use all partitions', () => {
  const a = new PartitionAssigner(100);
  const p = partitions(3, [0, 1, 2]);
  const chosen = new Set<number>();
  for (let i = 0; i < 200; i++) chosen.add(a.assign('t', p, null, undefined, 50));
  assert.deepEqual([...chosen].sort(), [0, 1, 2]);
});
