// The broker goes away under a running flow and comes back: the producer node
// keeps the messages (bounded), shows the state, and resumes by itself with
// every accepted record in the topic exactly once.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { startKafka, type KafkaHandle } from '../support/kafka';
import { collect, createTopic, getNode, helper, loadFlow, producerFlow, readTopic, uniqueTopic, unloadFlow, waitForStatus } from '../support/node-red';

let kafka: KafkaHandle;

before(async () => {
  kafka = await startKafka({ mode: 'single', name: 'outage' });
  await new Promise<void>((resolve) => helper.startServer(resolve));
});
after(async () => {
  await unloadFlow();
  await new Promise<void>((resolve) => helper.stopServer(resolve));
  await kafka?.stop();
});

describe('kafka producer node across a broker outage', () => {
  it('resumes by itself after the broker restarts; no accepted record lost or duplicated', async () => {
    const topic = uniqueTopic('outage');
    await createTopic(kafka.brokers, topic, 3);
    await loadFlow(producerFlow({ brokers: kafka.brokers, producer: { topic, deliveryTimeoutMs: '120000' } }));
    const out = collect('out');
    const caught = collect('caught');
    await waitForStatus('p1', /^connected/);
    const p1 = getNode('p1');
    for (let i = 0; i < 100; i++) p1.receive({ payload: `before-${i}`, key: `k${i % 7}` });
    await out.next(100);

    await kafka.stopBroker(0);
    for (let i = 0; i < 200; i++) p1.receive({ payload: `during-${i}`, key: `k${i % 7}` });
    await waitForStatus('p1', /^disconnected/, 60000);
    assert.equal(out.msgs.length, 100, 'nothing is acknowledged while the broker is down');
    assert.equal(caught.msgs.length, 0, 'nothing fails while within the delivery timeout');

    await kafka.startBroker(0);
    await out.next(300, 90000);
    // Connected again: "connected", or already the green summary the node shows while connected.
    await waitForStatus('p1', /^connected|msg\/s/);
    for (let i = 0; i < 50; i++) p1.receive({ payload: `after-${i}`, key: `k${i % 7}` });
    await out.next(350, 30000);
    assert.equal(caught.msgs.length, 0);

    const read = await readTopic(kafka.brokers, topic, 350, 60000);
    const values = read.map((r) => r.value!.toString());
    assert.equal(new Set(values).size, 350, 'no duplicates');
    // Per key, the order sent is the order stored.
    for (let k = 0; k < 7; k++) {
      const stored = read.filter((r) => r.key!.toString() === `k${k}`).sort((a, b) => Number(a.offset) - Number(b.offset)).map((r) => r.value!.toString());
      const sent = [...Array(100).keys()].filter((i) => i % 7 === k).map((i) => `before-${i}`)
        .concat([...Array(200).keys()].filter((i) => i % 7 === k).map((i) => `during-${i}`))
        .concat([...Array(50).keys()].filter((i) => i % 7 === k).map((i) => `after-${i}`));
      assert.deepEqual(stored, sent, `order of key k${k}`);
    }
    await unloadFlow();
  });

  it('records past the delivery timeout while the broker is down fail to Catch, naming the topic', async () => {
    const topic = uniqueTopic('expire');
    await createTopic(kafka.brokers, topic, 1);
    await loadFlow(producerFlow({
      brokers: kafka.brokers,
      producer: { topic, deliveryTimeoutMs: '3000', requestTimeoutMs: '1000', lingerMs: '0' },
      broker: { connectionTimeout: '500', requestTimeout: '1000' },
    }));
    const out = collect('out');
    const caught = collect('caught');
    await waitForStatus('p1', /^connected/);
    await kafka.stopBroker(0);
    try {
      const started = Date.now();
      getNode('p1').receive({ payload: 'doomed' });
      const [c] = await caught.next(1, 30000);
      const took = Date.now() - started;
      assert.match(c.error.message, /DeliveryTimeoutError: Expiring 1 record\(s\) for/);
      assert.match(c.error.message, new RegExp(topic));
      assert.ok(took >= 2900 && took < 15000, `failed after ${took} ms`);
      assert.equal(out.msgs.length, 0);
    } finally {
      await kafka.startBroker(0);
    }
    await unloadFlow();
  });

  it('a flow deployed while the broker is down connects when it comes up, and sends what it held', async () => {
    const topic = uniqueTopic('late');
    await createTopic(kafka.brokers, topic, 1);
    await kafka.stopBroker(0);
    await loadFlow(producerFlow({ brokers: kafka.brokers, producer: { topic }, broker: { connectionTimeout: '500' } }));
    const out = collect('out');
    for (let i = 0; i < 10; i++) getNode('p1').receive({ payload: `m${i}` });
    await waitForStatus('p1', /^disconnected|^connecting/);
    await kafka.startBroker(0);
    await out.next(10, 90000);
    assert.deepEqual(out.msgs.map((m) => m.kafka.offset), [...Array(10).keys()].map(String));
    await unloadFlow();
  });

  it('closing while the broker is down fails every held record with an error, none vanish', async () => {
    const topic = uniqueTopic('closedown');
    await createTopic(kafka.brokers, topic, 1);
    await loadFlow(producerFlow({
      brokers: kafka.brokers,
      producer: { topic, deliveryTimeoutMs: '6000', requestTimeoutMs: '2000' },
      broker: { connectionTimeout: '500', requestTimeout: '2000' },
    }));
    await waitForStatus('p1', /^connected/);
    await kafka.stopBroker(0);
    try {
      const p1 = getNode('p1');
      let taken = 0;
      p1.on('input', () => taken++);
      for (let i = 0; i < 20; i++) p1.receive({ payload: `held-${i}` });
      while (taken < 20) await new Promise((r) => setTimeout(r, 5));
      // The helper restores its spies before it stops the flow, so record errors on the node itself.
      const errors: unknown[][] = [];
      const nodeError = p1.error;
      p1.error = function (this: unknown, ...args: unknown[]) {
        errors.push(args);
        return nodeError.apply(this, args);
      };
      const started = Date.now();
      await unloadFlow();
      const took = Date.now() - started;
      assert.ok(took < 12000, `close took ${took} ms`);
      // The flows stopped (no redeploy): no instance takes the held records, and the stopped flow's
      // Catch nodes are gone, so each failure is in the log, summed up: the first at once, then a count.
      const lines = errors.map((a) => String(a[0])).filter((l) => /ProducerClosedError|DeliveryTimeoutError/.test(l));
      const counted = lines.reduce((n, l) => n + (/^A record failed/.test(l) ? 1 : Number(/^(\d+) more records failed/.exec(l)?.[1] ?? 0)), 0);
      assert.equal(counted, 20, lines.join('\n'));
      // Records whose delivery timeout passes first fail with DeliveryTimeoutError, the rest when the
      // close bound ends with ProducerClosedError (which comes first is a race of two 6 s timers):
      // at most a first line and a summary of each kind.
      const kinds = new Set(lines.map((l) => /ProducerClosedError|DeliveryTimeoutError/.exec(l)![0]));
      assert.ok(lines.length <= 2 * kinds.size, `${lines.length} log lines for 20 failures:\n${lines.join('\n')}`);
    } finally {
      await kafka.startBroker(0);
    }
  });

  it('flows redeployed while the broker is down leave no connection behind once it is back', async () => {
    // Established TCP connections to the broker's listener, from any process here.
    const port = kafka.brokers[0].split(':')[1];
    const connections = () => execFileSync('ss', ['-tnH', 'state', 'established', `( dport = :${port} )`]).toString().trim().split('\n').filter(Boolean).length;
    const topic = uniqueTopic('redeploy');
    await createTopic(kafka.brokers, topic, 1);
    await kafka.stopBroker(0);
    let caughtClosed = 0;
    try {
      for (let i = 0; i < 3; i++) {
        await loadFlow(producerFlow({ brokers: kafka.brokers, producer: { topic }, broker: { connectionTimeout: '500' } }));
        const p1 = getNode('p1');
        const nodeError = p1.error;
        p1.error = function (this: unknown, ...args: unknown[]) {
          if (/ProducerClosedError: The flow was stopped or redeployed before the record could be sent: it was not written/.test(String(args[0]))) caughtClosed++;
          return nodeError.apply(this, args);
        };
        p1.receive({ payload: `deploy-${i}` });
        await sleep(800); // connects fail and are tried again while the flow runs
      }
    } finally {
      await kafka.startBroker(0);
    }
    const out = collect('out');
    await out.next(1, 60000);
    assert.equal(out.msgs[0].payload, 'deploy-2');
    assert.equal(caughtClosed, 2, 'each stopped flow failed its held record, saying it was not written');
    await sleep(2000);
    const live = connections();
    assert.ok(live >= 1 && live <= 2, `${live} connections for one running producer (its metadata/produce connections)`);
    await unloadFlow();
    await sleep(1000);
    assert.equal(connections(), 0, 'none left once the flow is gone');
  });
});

