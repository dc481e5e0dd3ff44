// A rebalance while msgs are in the flow: a second member (a plain kafkajs consumer) joins the
// node's group. The node commits its finished offsets before giving partitions up (the periodic
// commit is set to a minute here, so only the rebalance commit can do it), counts and reports
// the msgs of the partitions it gave up, and finishing them later commits nothing (stale).
// The new member reads its partitions from the first unfinished record: nothing lost, and only
// unfinished records come again. The partitions the node keeps are not read again: their msgs
// in the flow still count.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { getTestKafka, type TestKafka } from '../support/kafka';
import { collect, commitNode, consumerNode, createTopic, getNode, helper, kafkaClient, loadFlow, uniqueTopic, unloadFlow } from '../support/node-red';

let kafka: TestKafka;

before(async () => {
  kafka = await getTestKafka();
  helper.settings({ streamsafeKafkaConsumer: { statusIntervalMs: 200, commitIntervalMs: 60000, lagIntervalMs: 1000 } });
  await new Promise<void>((resolve) => helper.startServer(resolve));
});
after(async () => {
  await unloadFlow();
  helper.settings({});
  await new Promise<void>((resolve) => helper.stopServer(resolve));
});

async function waitFor(ok: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`${what} not met in ${timeoutMs} ms`);
    await sleep(100);
  }
}

function statusOf(id: string): string {
  const spy = getNode(id).status as { args?: Array<[{ text?: string }]>; thisValues?: Array<{ id: string }> };
  for (let i = (spy.args?.length ?? 0) - 1; i >= 0; i--) if (spy.thisValues?.[i]?.id === id) return spy.args![i][0]?.text ?? '';
  return '';
}

describe('kafka consumer node, rebalance', () => {
  it('commits finished offsets before giving partitions up; the new member reads from the first unfinished', async () => {
    const topic = uniqueTopic('rebal');
    const groupId = uniqueTopic('g-rebal');
    await createTopic(kafka.brokers, topic, 4);
    const producer = kafkaClient(kafka.brokers).producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: 40 }, (_, i) => ({ partition: i % 4, value: `v${i}` })) });
    await producer.disconnect();

    await loadFlow(
      [
        { id: 'tab', type: 'tab', label: 'test' },
        { id: 'b1', type: 'streamsafe-kafka-broker', z: '', brokers: kafka.brokers.join(','), clientId: 'test', saslMechanism: 'none' },
        { id: 'k1', type: 'streamsafe-kafka-consumer', z: 'tab', broker: 'b1', topics: topic, groupId, start: 'earliest', sessionTimeoutMs: '10000', heartbeatIntervalMs: '500', wires: [['got']] },
        { id: 'got', type: 'helper', z: 'tab' },
        { id: 'cm', type: 'streamsafe-kafka-commit', z: 'tab', wires: [[]] },
      ],
      {},
      [consumerNode, commitNode],
    );
    const got = collect('got');
    const mine = () => got.msgs.filter((m) => m.topic === topic);
    await waitFor(() => mine().length === 40, 30000, '40 records');
    // Offsets 0..4 of every partition finish; 5..9 stay in the flow.
    const early = mine().filter((m) => Number(m.offset) < 5);
    const late = mine().filter((m) => Number(m.offset) >= 5);
    for (const m of early) getNode('cm').receive(m);
    await sleep(300);

    const other = kafkaClient(kafka.brokers).consumer({ groupId, sessionTimeout: 10000, heartbeatInterval: 500 });
    const otherGot: Array<{ partition: number; offset: string }> = [];
    let otherPartitions: number[] = [];
    other.on(other.events.GROUP_JOIN, (e) => (otherPartitions = (e.payload.memberAssignment[topic] ?? []) as number[]));
    await other.connect();
    try {
      await other.subscribe({ topics: [topic], fromBeginning: true });
      await other.run({ autoCommit: false, eachMessage: async ({ partition, message }) => void otherGot.push({ partition, offset: message.offset }) });
      await waitFor(() => otherPartitions.length > 0, 40000, 'the second member got partitions');
      await waitFor(() => otherGot.length >= otherPartitions.length * 5, 20000, `the second member read its partitions (${otherGot.length})`);
      await sleep(500);
      // It read each of its partitions from offset 5: the node committed 0..4 before giving them up.
      for (const p of otherPartitions) {
        const offsets = otherGot.filter((r) => r.partition === p).map((r) => r.offset);
        assert.deepEqual(offsets, ['5', '6', '7', '8', '9'], `partition ${p}: read again from the first unfinished record (got ${offsets.join(',')})`);
      }
      // The node reports the msgs of the partitions it gave up still in the flow; finishing them commits nothing.
      await waitFor(() => /\d+ stale/.test(statusOf('k1')), 10000, `k1 status reports them (${statusOf('k1')})`);
      const admin = kafkaClient(kafka.brokers).admin();
      await admin.connect();
      try {
        for (const m of late.filter((x) => otherPartitions.includes(x.partition))) getNode('cm').receive(m);
        await waitFor(() => /stale/.test(statusOf('cm')), 5000, `commit node: stale (${statusOf('cm')})`);
        await sleep(500);
        const committed = (await admin.fetchOffsets({ groupId, topics: [topic] }))[0].partitions;
        for (const p of otherPartitions) assert.equal(committed.find((x) => x.partition === p)?.offset, '5', `partition ${p}: nothing committed by a stale finish`);
        // The partitions the node kept read on after their last msg sent: none of them came twice,
        // and their msgs still in the flow when the rebalance came finish and commit as before it.
        const kept = [0, 1, 2, 3].filter((p) => !otherPartitions.includes(p));
        assert.ok(kept.length > 0, 'the node kept partitions');
        for (const p of kept) {
          const offsets = mine().filter((m) => m.partition === p).map((m) => m.offset);
          assert.deepEqual(offsets, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'], `kept partition ${p}: each record sent once (got ${offsets.join(',')})`);
        }
        for (const m of late.filter((x) => kept.includes(x.partition))) getNode('cm').receive(m);
        await sleep(300);
        getNode('k1').receive({ action: 'commit' });
        await waitFor(
          async () => {
            const now = (await admin.fetchOffsets({ groupId, topics: [topic] }))[0].partitions;
            return kept.every((p) => now.find((x) => x.partition === p)?.offset === '10');
          },
          10000,
          'kept partitions committed to 10 after their in-flow msgs finished',
        );
      } finally {
        await admin.disconnect();
      }
    } finally {
      await other.disconnect();
    }
  });
});
