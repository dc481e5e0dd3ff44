// 2 of 5 brokers down (the KRaft quorum, 3 controllers, stays up): records of
// partitions that keep min.insync.replicas in-sync replicas go through at
// once; records of partitions that fall below it fail at delivery.timeout.ms
// with NOT_ENOUGH_REPLICAS as the reason and are not written; neither holds
// the other up. Kafka's console consumer reads the topic back.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startKafka, type KafkaHandle } from '../support/kafka';
import { consoleConsume } from '../support/kafka/console-consumer';
import { waitForPartitions } from '../support/kafka/admin';
import { auditDelivery, auditValue } from '../support/delivery-audit';
import { collect, createTopicFrom, getNode, helper, loadFlow, producerFlow, uniqueTopic, unloadFlow, waitForStatus } from '../support/node-red';

let kafka: KafkaHandle;

before(async () => {
  kafka = await startKafka({ mode: 'cluster', name: 'five', brokerCount: 5, controllerCount: 3 });
  await new Promise<void>((resolve) => helper.startServer(resolve));
});
after(async () => {
  await unloadFlow();
  await new Promise<void>((resolve) => helper.stopServer(resolve));
  await kafka?.stop();
});

/** Replicas per partition (node ids); nodes 4 and 5 are the brokers that go down. */
const ASSIGNMENT = [
  [1, 2, 3], // untouched
  [4, 5, 1], // left with node 1 only: below min.insync.replicas
  [4, 1, 2], // loses its leader, keeps 2 in-sync replicas
  [5, 4, 3], // left with node 3 only
  [2, 3, 5], // loses a follower
];
const STARVED = new Set([1, 3]);

/** Waits until every partition's in-sync replicas, as a running broker sees them, pass `ok`. */
async function waitForIsr(topic: string, ok: (isr: number[]) => boolean): Promise<void> {
  const running = kafka.brokers.filter((_, i) => kafka.isRunning(i));
  await waitForPartitions(running, topic, (parts) => parts.every((p) => ok(p.isr)), 60000);
}

describe('producer with 2 of 5 brokers down', () => {
  it('partitions that keep min.insync.replicas go through; the others fail with NOT_ENOUGH_REPLICAS, unwritten, and recover', async (t) => {
    const topic = uniqueTopic('fivebrokers');
    await createTopicFrom(kafka.brokers, {
      topic,
      replicaAssignment: ASSIGNMENT.map((replicas, partition) => ({ partition, replicas })),
      configEntries: [{ name: 'min.insync.replicas', value: '2' }],
    });
    await waitForIsr(topic, (isr) => isr.length === 3); // all replicas in sync

    const deliveryTimeoutMs = 12000;
    await loadFlow(producerFlow({
      brokers: kafka.brokers.slice(0, 3),
      producer: { topic, preset: 'safe', deliveryTimeoutMs: String(deliveryTimeoutMs), requestTimeoutMs: '4000' },
      broker: { connectionTimeout: '1000', requestTimeout: '4000' },
    }));
    const out = collect('out');
    const caught = collect('caught');
    await waitForStatus('p1', /^connected/, 60000);
    const p1 = getNode('p1');

    await Promise.all([kafka.killBroker(3), kafka.killBroker(4)]);
    await waitForIsr(topic, (isr) => !isr.includes(4) && !isr.includes(5));

    const perPartition = 400;
    const sentAt = Date.now();
    for (let i = 0; i < perPartition; i++) {
      for (let p = 0; p < ASSIGNMENT.length; p++) p1.receive({ payload: auditValue(`p${p}`, i, 100), key: `p${p}`, partition: p });
    }
    const healthy = perPartition * (ASSIGNMENT.length - STARVED.size);
    await out.next(healthy, 30000);
    const healthyMs = Date.now() - sentAt;
    assert.ok(healthyMs < deliveryTimeoutMs / 2, `the healthy partitions were held up: ${healthyMs} ms`);
    await caught.next(perPartition * STARVED.size, deliveryTimeoutMs + 20000);
    for (const c of caught.msgs) {
      assert.ok(STARVED.has(c.partition), `only starved partitions fail (got partition ${c.partition})`);
      assert.match(c.error.message, /DeliveryTimeoutError: Expiring \d+ record\(s\) for .*-[13]: .*it was not written\. Last error: NOT_ENOUGH_REPLICAS/);
    }
    t.diagnostic(`healthy partitions acknowledged in ${healthyMs} ms; starved ones failed after ${Date.now() - sentAt} ms: ${caught.msgs[0].error.message.slice(0, 200)}`);

    // Back to five brokers: the starved partitions take records again.
    await Promise.all([kafka.startBroker(3), kafka.startBroker(4)]);
    await waitForIsr(topic, (isr) => isr.length >= 2); // back to 2 or more everywhere
    for (const p of STARVED) for (let i = perPartition; i < perPartition + 50; i++) p1.receive({ payload: auditValue(`p${p}`, i, 100), key: `p${p}`, partition: p });
    await out.next(healthy + 50 * STARVED.size, 60000);

    const stored = await consoleConsume(kafka.brokers, topic, { expected: 'all', timeoutMs: 60000 });
    const audit = auditDelivery(
      {
        acked: out.msgs.map((m) => ({ value: m.payload, key: m.key, partition: m.kafka.partition, offset: m.kafka.offset })),
        failed: caught.msgs.map((c) => ({ value: c.payload, key: c.key, error: c.error.message })),
      },
      stored,
    );
    assert.ok(audit.ok, audit.summary);
    assert.equal(audit.counts.failedButWritten, 0);
    assert.equal(audit.counts.stored, healthy + 50 * STARVED.size);
    await unloadFlow();
  });
});
