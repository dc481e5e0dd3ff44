// A cluster partly available: one of three brokers stops and the partition it
// alone held (replication factor 1) has no leader. The producer node keeps
// writing the other partitions, and its status is not green: it says how many
// partitions are down, how many records wait and for how long. The broker back,
// every held record is written once and the status is green again.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startKafka, type KafkaHandle } from '../support/kafka';
import { partitionLeaders } from '../support/kafka/admin';
import { collect, createTopic, getNode, helper, loadFlow, producerFlow, readTopic, uniqueTopic, unloadFlow, waitForStatus } from '../support/node-red';

let kafka: KafkaHandle;

before(async () => {
  kafka = await startKafka({ mode: 'cluster', name: 'partial' });
  helper.settings({ streamsafeKafkaProducer: { statusIntervalMs: 250, logSummaryIntervalMs: 1000 } });
  await new Promise<void>((resolve) => helper.startServer(resolve));
});
after(async () => {
  await unloadFlow();
  helper.settings({});
  await new Promise<void>((resolve) => helper.stopServer(resolve));
  await kafka?.stop();
});

describe('kafka producer node on a partly available cluster', () => {
  it('a partition without leader: yellow while the others are written, with what waits there; all written once it is back', async () => {
    const topic = uniqueTopic('partial');
    await createTopic(kafka.brokers, topic, 3, [], 1);
    await loadFlow(producerFlow({
      brokers: kafka.brokers,
      producer: { topic, deliveryTimeoutMs: '120000', lingerMs: '0' },
      broker: { connectionTimeout: '1000', requestTimeout: '5000' },
    }));
    const out = collect('out');
    const caught = collect('caught');
    await waitForStatus('p1', /^connected/, 60000);
    const p1 = getNode('p1');
    const leaders = await partitionLeaders(kafka.brokers, topic);
    const victim = leaders[0] - 1; // node ids are index + 1
    const down = [0, 1, 2].filter((p) => leaders[p] === leaders[0]);
    const up = [0, 1, 2].filter((p) => leaders[p] !== leaders[0]);
    assert.ok(up.length > 0, `leaders ${leaders}: one broker leads every partition`);
    await kafka.stopBroker(victim);
    try {
      for (let i = 0; i < 90; i++) p1.receive({ payload: `v${i}`, partition: i % 3 });
      const held = 30 * down.length;
      const status = await waitForStatus('p1', new RegExp(`^partitions down: ${down.length} · ${held} held · [\\d.]+% buffer · oldest \\d+s$`), 60000);
      const calls = (p1.status as { args: Array<[{ fill?: string }]> }).args;
      assert.equal(calls[calls.length - 1][0].fill, 'yellow', status);
      await out.next(90 - held, 30000);
      assert.deepEqual([...new Set(out.msgs.map((m) => m.kafka.partition))].sort(), up);
      assert.equal(caught.msgs.length, 0);
    } finally {
      await kafka.startBroker(victim);
    }
    await out.next(90, 90000);
    assert.equal(caught.msgs.length, 0);
    await waitForStatus('p1', /msg\/s/, 10000);
    const calls = (p1.status as { args: Array<[{ fill?: string }]> }).args;
    assert.equal(calls[calls.length - 1][0].fill, 'green');
    const read = await readTopic(kafka.brokers, topic, 90, 60000);
    assert.equal(new Set(read.map((r) => r.value!.toString())).size, 90, 'each record once');
    await unloadFlow();
  });
});
