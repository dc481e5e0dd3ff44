// The consumer node reconnects by itself after its (only) broker is restarted: records written
// before, during and after the outage all reach the flow, and the group's offsets end at the end.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startKafka, type KafkaHandle } from '../support/kafka';
import { collect, commitNode, consumerNode, createTopic, getNode, helper, kafkaClient, loadFlow, uniqueTopic, unloadFlow } from '../support/node-red';

let kafka: KafkaHandle;

before(async () => {
  kafka = await startKafka({ mode: 'single', name: 'consumer-restart' });
  helper.settings({ streamsafeKafkaConsumer: { statusIntervalMs: 200, commitIntervalMs: 200, lagIntervalMs: 500, restartMinMs: 500, restartMaxMs: 2000 } });
  await new Promise<void>((resolve) => helper.startServer(resolve));
});
after(async () => {
  await unloadFlow();
  helper.settings({});
  await new Promise<void>((resolve) => helper.stopServer(resolve));
  await kafka?.stop();
});

async function waitFor(ok: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`${what} not met in ${timeoutMs} ms`);
    await sleep(100);
  }
}

function statusTexts(id: string): string[] {
  const spy = getNode(id).status as { args?: Array<[{ text?: string }]>; thisValues?: Array<{ id: string }> };
  return (spy.args ?? []).filter((_, i) => spy.thisValues?.[i]?.id === id).map((a) => a[0]?.text ?? '');
}

async function produce(topic: string, values: string[]): Promise<void> {
  const producer = kafkaClient(kafka.brokers, { retry: { retries: 20 } }).producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    await producer.send({ topic, messages: values.map((value) => ({ value })) });
  } finally {
    await producer.disconnect();
  }
}

describe('kafka consumer node, broker restart', () => {
  it('reconnects after the broker restarts; nothing is lost, offsets end at the end', async () => {
    const topic = uniqueTopic('restart');
    const groupId = uniqueTopic('g-restart');
    await createTopic(kafka.brokers, topic, 2);
    await produce(topic, Array.from({ length: 10 }, (_, i) => `a${i}`));
    await loadFlow(
      [
        { id: 'tab', type: 'tab', label: 'test' },
        { id: 'b1', type: 'streamsafe-kafka-broker', z: '', brokers: kafka.brokers.join(','), clientId: 'test', saslMechanism: 'none', connectionTimeout: '3000', requestTimeout: '10000' },
        { id: 'k1', type: 'streamsafe-kafka-consumer', z: 'tab', broker: 'b1', topics: topic, groupId, start: 'earliest', sessionTimeoutMs: '10000', heartbeatIntervalMs: '1000', wires: [['got', 'cm']] },
        { id: 'got', type: 'helper', z: 'tab' },
        { id: 'cm', type: 'streamsafe-kafka-commit', z: 'tab', wires: [[]] },
      ],
      {},
      [consumerNode, commitNode],
    );
    const got = collect('got');
    const values = () => new Set(got.msgs.filter((m) => m.topic === topic).map((m) => m.payload));
    await waitFor(() => values().size === 10, 30000, 'first 10 records');
    await kafka.stopBroker(0);
    await sleep(3000);
    await kafka.startBroker(0);
    await produce(topic, Array.from({ length: 10 }, (_, i) => `b${i}`));
    await waitFor(() => values().size === 20, 120000, `all 20 records after the restart (have ${values().size})`);
    const admin = kafkaClient(kafka.brokers).admin();
    await admin.connect();
    try {
      await waitFor(
        async () => (await admin.fetchOffsets({ groupId, topics: [topic] }))[0].partitions.reduce((a, p) => a + Number(p.offset), 0) === 20,
        30000,
        'offsets committed to the end',
      );
    } finally {
      await admin.disconnect();
    }
    const texts = statusTexts('k1');
    assert.ok(texts.some((t) => /^(error|connecting|rebalancing)/.test(t)), `the outage showed in the status: ${[...new Set(texts)].join(' | ')}`);
    assert.match(texts[texts.length - 1], /partitions/);
  });
});
