// TLS with a private CA through the core tls-config node, and SASL
// SCRAM-SHA-512 credentials, against a real SASL_SSL listener.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startKafka, type SaslSslKafkaHandle } from '../support/kafka';
import { collect, commitNode, consumerNode, getNode, helper, loadFlow, producerFlow, readTopic, tlsNode, uniqueTopic, unloadFlow, waitForStatus } from '../support/node-red';

let kafka: SaslSslKafkaHandle;

before(async () => {
  kafka = await startKafka({ mode: 'sasl-ssl', name: 'security' });
  await new Promise<void>((resolve) => helper.startServer(resolve));
});
after(async () => {
  await unloadFlow();
  await new Promise<void>((resolve) => helper.stopServer(resolve));
  await kafka?.stop();
});

function secureFlow(topic: string, extraNodes: unknown[] = []) {
  return producerFlow({
    brokers: kafka.saslBrokers,
    broker: { usetls: true, tls: 'tls1', saslMechanism: 'scram-sha-512' },
    producer: { topic },
    extraNodes: [{ id: 'tls1', type: 'tls-config', z: '', ca: kafka.ssl.caFile, cert: '', key: '', verifyservercert: true }, ...extraNodes],
  });
}

describe('kafka broker config node security', () => {
  it('produces over SASL_SSL with SCRAM-SHA-512 and the CA from a tls-config node', async () => {
    const topic = uniqueTopic('secure');
    await loadFlow(secureFlow(topic), { b1: { username: kafka.sasl.username, password: kafka.sasl.password } }, [tlsNode]);
    const out = collect('out');
    await waitForStatus('p1', /^connected/, 60000);
    getNode('p1').receive({ payload: 'over tls', key: 'k' });
    const [m] = await out.next(1);
    assert.equal(m.kafka.offset, '0');
    const read = await readTopic(kafka.saslBrokers, topic, 1, 30000, {
      ssl: { ca: [kafka.ssl.caPem] },
      sasl: { mechanism: 'scram-sha-512', username: kafka.sasl.username, password: kafka.sasl.password },
    });
    assert.equal(read[0].value!.toString(), 'over tls');
    await unloadFlow();
  });

  it('the consumer node reads over SASL_SSL through the same broker node, and commits', async () => {
    const topic = uniqueTopic('secure-read');
    const groupId = `g-${topic}`;
    const consumer = [
      { id: 'k1', type: 'streamsafe-kafka-consumer', z: 'tab', broker: 'b1', topics: topic, groupId, start: 'earliest', wires: [['got', 'cm']] },
      { id: 'got', type: 'helper', z: 'tab' },
      { id: 'cm', type: 'streamsafe-kafka-commit', z: 'tab', wires: [[]] },
    ];
    await loadFlow(secureFlow(topic, consumer), { b1: { username: kafka.sasl.username, password: kafka.sasl.password } }, [tlsNode, consumerNode, commitNode]);
    await waitForStatus('p1', /^connected/, 60000);
    const got = collect('got');
    for (let i = 0; i < 3; i++) getNode('p1').receive({ payload: `secure ${i}`, key: 'k' });
    const msgs = await got.next(3, 60000).catch((e: Error) => {
      const spy = getNode('k1').status as { args?: Array<[{ text?: string }]>; thisValues?: Array<{ id: string }> };
      const mine = (spy.args ?? []).filter((_, i) => spy.thisValues?.[i]?.id === 'k1').map((a) => a[0]?.text);
      throw new Error(`${e.message}; k1 statuses: ${JSON.stringify(mine.slice(-6))}`);
    });
    assert.deepEqual(msgs.map((m) => m.payload), ['secure 0', 'secure 1', 'secure 2']);
    assert.deepEqual(msgs.map((m) => m.offset), ['0', '1', '2']);
    // Committed through the SASL_SSL connection: the group's offset reaches 3.
    const { Kafka } = await import('kafkajs');
    const admin = new Kafka({ brokers: kafka.saslBrokers, ssl: { ca: [kafka.ssl.caPem] }, sasl: { mechanism: 'scram-sha-512', username: kafka.sasl.username, password: kafka.sasl.password }, logLevel: 0 }).admin();
    await admin.connect();
    try {
      const deadline = Date.now() + 20000;
      let offset: string | undefined;
      while (Date.now() < deadline) {
        offset = (await admin.fetchOffsets({ groupId, topics: [topic] }))[0].partitions.find((p) => p.partition === 0)?.offset;
        if (offset === '3') break;
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(offset, '3', 'committed offset of partition 0');
    } finally {
      await admin.disconnect();
    }
    await unloadFlow();
  });

  it('credentials stay out of the flow JSON', async () => {
    const topic = uniqueTopic('creds');
    await loadFlow(secureFlow(topic), { b1: { username: kafka.sasl.username, password: kafka.sasl.password } }, [tlsNode]);
    const b1 = getNode('b1');
    assert.equal(b1.credentials.password, kafka.sasl.password);
    const flowJson = JSON.stringify(secureFlow(topic));
    assert.ok(!flowJson.includes(kafka.sasl.password));
    await unloadFlow();
  });

  it('a wrong password gives a clear error, no crash and no reconnect loop', async () => {
    const topic = uniqueTopic('wrongpw');
    await loadFlow(secureFlow(topic), { b1: { username: kafka.sasl.username, password: 'not-the-password' } }, [tlsNode]);
    const caught = collect('caught');
    const status = await waitForStatus('p1', /^error/, 60000);
    assert.match(status, /SASL|[Aa]uthentication/);
    const p1 = getNode('p1');
    const calls = p1.status.args.length;
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(p1.status.args.length, calls, 'no further connection attempts change the status');
    p1.receive({ payload: 'x' });
    const [c] = await caught.next(1);
    assert.match(c.error.message, /Authentication failed/);
    await unloadFlow();
  });

  it('without the CA, TLS verification fails with a clear error instead of connecting', async () => {
    const topic = uniqueTopic('noca');
    const flow = producerFlow({
      brokers: kafka.saslBrokers,
      broker: { usetls: true, tls: '', saslMechanism: 'scram-sha-512', connectionTimeout: '2000' },
      producer: { topic, deliveryTimeoutMs: '40000' },
    });
    await loadFlow(flow, { b1: { username: kafka.sasl.username, password: kafka.sasl.password } });
    const status = await waitForStatus('p1', /^disconnected/, 60000);
    assert.match(status, /certificate|self.signed|unable to verify/i);
    await unloadFlow();
  });
});
