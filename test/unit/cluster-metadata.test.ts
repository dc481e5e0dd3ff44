// The producer's view of the cluster: when it asks for metadata, and which
// answers it believes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterMetadata } from '../../src/lib/kafka/producer/cluster-metadata';
import type { MetadataResponse, PartitionInfo } from '../../src/lib/kafka/protocol/metadata';

const part = (partition: number, leader: number, leaderEpoch: number): PartitionInfo => ({
  errorCode: leader < 0 ? 5 : 0, partition, leader, leaderEpoch, replicas: [1, 2, 3], isr: [1, 2, 3], offlineReplicas: [],
});

const answer = (topics: MetadataResponse['topics']): MetadataResponse => ({
  brokers: [{ nodeId: 1, host: 'a', port: 1, rack: null }],
  clusterId: 'c',
  controllerId: 1,
  topics,
});

function fresh(): ClusterMetadata {
  return new ClusterMetadata({ retryBackoffMs: 100, retryBackoffMaxMs: 1000, maxAgeMs: 300_000 });
}

test('a new topic asks for an update; an answer is taken, and the next update is due after metadata.max.age.ms', () => {
  const m = fresh();
  const r0 = m.attempt(0);
  m.update(answer([]), 0, r0);
  assert.equal(m.timeToNextUpdate(1000), 299_000);
  m.use('t', 1000);
  assert.equal(m.updatePending, true);
  assert.equal(m.timeToNextUpdate(1000), 0);
  const r = m.attempt(1000);
  m.update(answer([{ errorCode: 0, topic: 't', partitions: [part(0, 1, 3), part(1, 2, 5)] }]), 1010, r);
  assert.equal(m.partitionCount('t'), 2);
  assert.equal(m.leader('t', 1), 2);
  assert.equal(m.leader('t', 9), -1);
  assert.equal(m.updatePending, false);
  assert.equal(m.lastAnsweredRequest, r);
});

test('failed updates back off exponentially (retry.backoff.ms up to retry.backoff.max.ms)', () => {
  const m = fresh();
  const delays: number[] = [];
  let now = 0;
  for (let i = 0; i < 6; i++) {
    m.attempt(now);
    m.failed(now);
    delays.push(m.timeToNextUpdate(now));
  }
  assert.ok(delays[0] >= 80 && delays[0] <= 120, `first ${delays[0]}`);
  assert.ok(delays[2] >= 320 && delays[2] <= 480, `third ${delays[2]}`);
  assert.ok(delays[5] <= 1000 && delays[5] >= 800, `capped ${delays[5]}`);
  now = 2000;
  assert.equal(m.timeToNextUpdate(now), 0);
});

test('an older leader epoch from a broker that has not caught up is not believed', () => {
  const m = fresh();
  m.use('t', 0);
  m.update(answer([{ errorCode: 0, topic: 't', partitions: [part(0, 2, 7)] }]), 0, m.attempt(0));
  m.update(answer([{ errorCode: 0, topic: 't', partitions: [part(0, 1, 6)] }]), 10, m.attempt(10));
  assert.equal(m.leader('t', 0), 2, 'epoch 6 is older than 7');
  assert.equal(m.updatePending, true, 'and it asks again');
  m.update(answer([{ errorCode: 0, topic: 't', partitions: [part(0, 3, 8)] }]), 20, m.attempt(20));
  assert.equal(m.leader('t', 0), 3);
});

test('a partition without a leader asks for another update; partitions are never taken away', () => {
  const m = fresh();
  m.use('t', 0);
  m.update(answer([{ errorCode: 0, topic: 't', partitions: [part(0, 1, 1), part(1, 1, 1), part(2, 1, 1)] }]), 0, m.attempt(0));
  m.update(answer([{ errorCode: 0, topic: 't', partitions: [part(0, -1, 2), part(1, 1, 1)] }]), 10, m.attempt(10));
  assert.equal(m.leader('t', 0), -1);
  assert.equal(m.partitionCount('t'), 3, 'a smaller count is a stale answer');
  assert.equal(m.updatePending, true);
});

test('a topic being created (LEADER_NOT_AVAILABLE, UNKNOWN_TOPIC_OR_PARTITION) keeps asking; its error is kept', () => {
  const m = fresh();
  m.use('new', 0);
  m.update(answer([{ errorCode: 3, topic: 'new', partitions: [] }]), 0, m.attempt(0));
  assert.equal(m.get('new')?.errorCode, 3);
  assert.equal(m.partitionCount('new'), undefined);
  assert.equal(m.updatePending, true);
});

test('topics idle for metadata.max.idle.ms are no longer asked about, unless records still wait for them', () => {
  const m = new ClusterMetadata({ retryBackoffMs: 100, retryBackoffMaxMs: 1000, maxIdleMs: 1000 });
  m.use('a', 0);
  m.use('b', 0);
  m.use('c', 1500);
  assert.deepEqual(m.topicsToFetch(2000, (t) => t === 'b'), ['b', 'c']);
});
