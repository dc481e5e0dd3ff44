// The Safe preset on a 3-broker cluster (RF 3, min.insync.replicas 2): a
// broker is killed (SIGKILL) under load and restarted; every record the node
// acknowledged is in the topic, exactly once, in per-key order.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startKafka, type KafkaHandle } from '../support/kafka';
import { partitionLeaders } from '../support/kafka/admin';
import { collect, createTopic, getNode, helper, loadFlow, producerFlow, readTopic, uniqueTopic, unloadFlow, waitForStatus } from '../support/node-red';

let kafka: KafkaHandle;

before(async () => {
  kafka = await startKafka({ mode: 'cluster', name: 'durability' });
  await new Promise<void>((resolve) => helper.startServer(resolve));
});
after(async () => {
  await unloadFlow();
  await new Promise<void>((resolve) => helper.stopServer(resolve));
  await kafka?.stop();
});

describe('Safe preset on a 3-broker cluster', () => {
  it('a leader killed mid-stream loses no acknowledged record and duplicates none', async () => {
    const topic = uniqueTopic('durable');
    await createTopic(kafka.brokers, topic, 3, [{ name: 'min.insync.replicas', value: '2' }], 3);
    await loadFlow(producerFlow({ brokers: kafka.brokers, producer: { topic, preset: 'safe' }, broker: { connectionTimeout: '1000', requestTimeout: '5000' } }));
    const out = collect('out');
    const caught = collect('caught');
    await waitForStatus('p1', /^connected/, 60000);
    const p1 = getNode('p1');
    const total = 3000;
    const keys = 11;
    let sent = 0;
    const sendSome = (n: number) => {
      for (let i = 0; i < n; i++, sent++) p1.receive({ payload: `v${sent}`, key: `k${sent % keys}` });
    };
    sendSome(1000);
    await out.next(500, 60000);
    const victim = (await partitionLeaders(kafka.brokers, topic))[0] - 1; // node ids are index + 1
    await kafka.killBroker(victim);
    sendSome(1000);
    await out.next(2000, 120000);
    await kafka.startBroker(victim);
    sendSome(total - 2000);
    await out.next(total, 120000);
    assert.equal(caught.msgs.length, 0, caught.msgs.map((c) => c.error.message).join('\n'));

    const read = await readTopic(kafka.brokers, topic, total, 60000);
    const values = read.map((r) => r.value!.toString());
    assert.equal(new Set(values).size, total, 'every acknowledged record once');
    for (let k = 0; k < keys; k++) {
      const stored = read.filter((r) => r.key!.toString() === `k${k}`).sort((a, b) => Number(a.offset) - Number(b.offset)).map((r) => Number(r.value!.toString().slice(1)));
      assert.deepEqual(stored, [...stored].sort((a, b) => a - b), `order of key k${k}`);
    }
    // Each acknowledged offset is where the record really is.
    const byValue = new Map(read.map((r) => [r.value!.toString(), `${r.partition}/${r.offset}`]));
    for (const m of out.msgs) assert.equal(byValue.get(m.payload), `${m.kafka.partition}/${m.kafka.offset}`);
  });
});
