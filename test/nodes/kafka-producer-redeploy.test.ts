// Deploys never hide a record. Records the producer node holds while the broker is
// away are handed to the node's new instance on a redeploy: every held msg comes
// out of the NEW instance once the broker is back, and Kafka (read by its own
// console consumer) holds each record once, in per-key order. Same settings: the
// new instance adopts the producer (one producer id). Other options: the old
// producer drains first, then the new one sends. Another cluster: the held msgs
// fail to the new instance's Catch. Node removed: they are logged with their keys.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { consoleConsume, dumpLogSegments, startKafka, type KafkaHandle } from '../support/kafka';
import { collect, createTopic, getNode, helper, loadFlow, producerFlow, uniqueTopic, unloadFlow, waitForStatus } from '../support/node-red';

let kafka: KafkaHandle;
const unhandled: unknown[] = [];
const onUnhandled = (e: unknown) => unhandled.push(e);

/**
 * Timers our code (dist/) starts, followed to the end: ours are unref'd, so the
 * event loop's own list would not show one left running.
 */
const ours: Array<{ handle: { _destroyed?: boolean }; stack: string }> = [];
function watchTimers(): void {
  for (const name of ['setTimeout', 'setInterval'] as const) {
    const original = globalThis[name] as (...a: unknown[]) => { _destroyed?: boolean };
    (globalThis as Record<string, unknown>)[name] = function (this: unknown, ...args: unknown[]) {
      const handle = original.apply(this, args);
      const stack = new Error().stack ?? '';
      if (/[\\/]dist[\\/]/.test(stack)) ours.push({ handle, stack });
      return handle;
    };
  }
}
const liveTimers = () => ours.filter((t) => !t.handle._destroyed);

before(async () => {
  process.on('unhandledRejection', onUnhandled);
  watchTimers();
  kafka = await startKafka({ mode: 'single', name: 'redeploy' });
  helper.settings({ streamsafeKafkaProducer: { statusIntervalMs: 250, logSummaryIntervalMs: 1000 } });
  await new Promise<void>((resolve) => helper.startServer(resolve));
});
after(async () => {
  await unloadFlow();
  helper.settings({});
  await new Promise<void>((resolve) => helper.stopServer(resolve));
  await kafka?.stop();
  process.off('unhandledRejection', onUnhandled);
});

type Flow = Array<Record<string, unknown> & { id: string }>;

function flowFor(topic: string, producer: Record<string, unknown> = {}, broker: Record<string, unknown> = {}): Flow {
  return producerFlow({
    brokers: kafka.brokers,
    producer: { topic, deliveryTimeoutMs: '90000', ...producer },
    broker: { connectionTimeout: '500', requestTimeout: '3000', ...broker },
  }) as Flow;
}

/** A deploy as the editor makes it, through the runtime (not a reload of the helper); resolves once the flows started. */
async function redeploy(flow: Flow, type: 'full' | 'nodes'): Promise<void> {
  const started = new Promise<void>((resolve) => helper._events.once('flows:started', () => resolve()));
  await helper._redNodes.setFlows(JSON.parse(JSON.stringify(flow)), null, type);
  await started;
}

/** Every msg a node receives from now on, each time it comes (no de-duplication: exactly-once is asserted). */
function listen(id: string): any[] {
  const got: any[] = [];
  getNode(id).on('input', (m: any) => got.push(m));
  return got;
}

async function until(what: string, done: () => boolean, timeoutMs = 60000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** The instance each msg was sent from (the helper spies on Node.prototype.send). */
function senderOf(payload: string): unknown[] {
  const spy = helper._NodePrototype.send as { args?: unknown[][]; thisValues?: unknown[] };
  const out: unknown[] = [];
  (spy.args ?? []).forEach((args, i) => {
    const msgs = (Array.isArray(args[0]) ? args[0] : [args[0]]).flat();
    if (msgs.some((m: any) => m && m.payload === payload)) out.push(spy.thisValues![i]);
  });
  return out;
}

/** Sends msgs `prefix-0..n-1` keyed k0..k4 to p1 and waits until the node took them all. */
async function sendHeld(prefix: string, n: number): Promise<void> {
  const p1 = getNode('p1');
  let taken = 0;
  p1.on('input', () => taken++);
  for (let i = 0; i < n; i++) p1.receive({ payload: `${prefix}-${i}`, key: `k${i % 5}` });
  await until('msgs taken', () => taken >= n, 10000);
}

/** What Kafka holds, read by its own console consumer: each value once, per key in the order sent. */
async function assertInKafka(topic: string, expected: string[], acked: any[]): Promise<void> {
  const records = await consoleConsume(kafka.brokers, topic, { expected: 'all' });
  const values = records.map((r) => r.value!);
  assert.equal(values.length, expected.length, `records in Kafka: ${values.length}`);
  assert.deepEqual([...values].sort(), [...expected].sort(), 'each record once');
  for (let k = 0; k < 5; k++) {
    const stored = records.filter((r) => r.key === `k${k}`).sort((a, b) => Number(a.offset) - Number(b.offset)).map((r) => r.value);
    assert.deepEqual(stored, expected.filter((_, i) => i % 5 === k), `order of key k${k}`);
  }
  // Each msg.kafka says where its record really is.
  const where = new Map(records.map((r) => [r.value, `${r.partition}/${r.offset}`]));
  for (const m of acked) assert.equal(`${m.kafka.partition}/${m.kafka.offset}`, where.get(m.payload), m.payload);
}

/** Producer ids of the batches in each partition, in log order. */
async function producerIds(topic: string, partitions: number): Promise<number[][]> {
  const out: number[][] = [];
  for (let p = 0; p < partitions; p++) out.push((await dumpLogSegments(kafka.logDirs[0], topic, p, { printData: false })).map((b) => b.producerId));
  return out;
}

function assertOnceEach(got: any[], expected: string[]): void {
  const payloads = got.map((m) => m.payload);
  assert.equal(payloads.length, expected.length, `msgs out: ${payloads.length}`);
  assert.deepEqual([...payloads].sort(), [...expected].sort(), 'each msg once');
  for (const m of got) assert.match(String(m.kafka?.offset), /^\d+$/, `msg.kafka of ${m.payload}`);
}

const names = (prefix: string, n: number) => [...Array(n).keys()].map((i) => `${prefix}-${i}`);

describe('kafka producer node redeployed while it holds records', () => {
  it('full deploy, same settings: the new instance adopts the producer; every held msg leaves the NEW instance once; Kafka has each once, in order, under one producer id', async () => {
    const topic = uniqueTopic('adopt');
    await createTopic(kafka.brokers, topic, 2);
    const flow = flowFor(topic);
    await loadFlow(flow);
    await waitForStatus('p1', /^connected/);
    await kafka.stopBroker(0);
    let oldOut: any[] = [];
    let out: any[] = [];
    let caught: any[] = [];
    try {
      oldOut = listen('out');
      await sendHeld('before', 30);
      await waitForStatus('p1', /^disconnected · 30 held · [\d.]+% buffer · oldest \d+s$/, 10000);
      const oldP1 = getNode('p1');

      await redeploy(flow, 'full');
      const newP1 = getNode('p1');
      assert.notEqual(newP1, oldP1, 'a new instance');
      out = listen('out');
      caught = listen('caught');
      // The new instance reports the records its predecessor took.
      await waitForStatus('p1', /^disconnected · 30 held/, 10000);
      await sendHeld('after', 10);
      await waitForStatus('p1', /^disconnected · 40 held/, 10000);
    } finally {
      await kafka.startBroker(0);
    }
    const expected = [...names('before', 30), ...names('after', 10)];
    await until('40 msgs out', () => out.length >= 40);
    await sleep(500);
    assertOnceEach(out, expected);
    assert.equal(oldOut.length, 0, 'nothing from the stopped flow');
    assert.equal(caught.length, 0);
    for (const v of names('before', 30)) assert.deepEqual(senderOf(v), [getNode('p1')], `${v} sent by the new instance`);
    await assertInKafka(topic, expected, out);
    const ids = await producerIds(topic, 2);
    assert.equal(new Set(ids.flat()).size, 1, `one producer id across the deploy: ${JSON.stringify(ids)}`);
    await unloadFlow();
  });

  it("'nodes' deploy of the producer alone, same options: the same, the msgs leave the new instance", async () => {
    const topic = uniqueTopic('adoptnodes');
    await createTopic(kafka.brokers, topic, 1);
    const flow = flowFor(topic);
    await loadFlow(flow);
    await waitForStatus('p1', /^connected/);
    const out = listen('out');
    await kafka.stopBroker(0);
    try {
      await sendHeld('held', 20);
      const oldP1 = getNode('p1');
      const renamed = flow.map((n) => (n.id === 'p1' ? { ...n, name: 'renamed' } : n));
      await redeploy(renamed, 'nodes');
      assert.notEqual(getNode('p1'), oldP1);
      assert.equal(getNode('p1').name, 'renamed');
    } finally {
      await kafka.startBroker(0);
    }
    await until('20 msgs out', () => out.length >= 20);
    await sleep(500);
    assertOnceEach(out, names('held', 20));
    for (const v of names('held', 20)) assert.deepEqual(senderOf(v), [getNode('p1')], `${v} sent by the new instance`);
    await assertInKafka(topic, names('held', 20), out);
    assert.equal(new Set((await producerIds(topic, 1)).flat()).size, 1);
    await unloadFlow();
  });

  it("other producer options ('nodes' deploy): the old producer sends what it held first, then the new one; each once, per-key order kept", async () => {
    const topic = uniqueTopic('drain');
    await createTopic(kafka.brokers, topic, 2);
    const flow = flowFor(topic);
    await loadFlow(flow);
    await waitForStatus('p1', /^connected/);
    const out = listen('out');
    await kafka.stopBroker(0);
    try {
      await sendHeld('old', 20);
      const changed = flow.map((n) => (n.id === 'p1' ? { ...n, lingerMs: '20', compression: 'gzip' } : n));
      await redeploy(changed, 'nodes');
      await sendHeld('new', 20);
      await sleep(1000);
      assert.equal(out.length, 0);
    } finally {
      await kafka.startBroker(0);
    }
    const expected = [...names('old', 20), ...names('new', 20)];
    await until('40 msgs out', () => out.length >= 40, 90000);
    await sleep(500);
    assertOnceEach(out, expected);
    // Within each key every old record precedes every new one (assertInKafka checks the order sent).
    await assertInKafka(topic, expected, out);
    for (const v of names('old', 20)) assert.deepEqual(senderOf(v), [getNode('p1')], `${v} sent by the new instance`);
    const ids = await producerIds(topic, 2);
    const distinct = [...new Set(ids.flat())];
    assert.equal(distinct.length, 2, `the old producer's id, then the new one's: ${JSON.stringify(ids)}`);
    for (const partition of ids) {
      const firstNew = partition.findIndex((id) => id !== partition[0]);
      if (firstNew >= 0) assert.ok(partition.slice(firstNew).every((id) => id === partition[firstNew]), `no old batch after a new one: ${partition}`);
    }
    await unloadFlow();
  });

  it('a redeploy to another cluster fails the held msgs to the NEW instance\'s Catch, saying they were not written', async () => {
    const topic = uniqueTopic('othercluster');
    await createTopic(kafka.brokers, topic, 1);
    const flow = flowFor(topic);
    await loadFlow(flow);
    await waitForStatus('p1', /^connected/);
    await kafka.stopBroker(0);
    try {
      await sendHeld('held', 10);
      const elsewhere = flow.map((n) => (n.id === 'b1' ? { ...n, brokers: '127.0.0.1:1' } : n));
      const caught = collect('caught');
      const failedHere: any[] = [];
      const started = new Promise<void>((resolve) => helper._events.once('flows:started', () => resolve()));
      // Listen on the new Catch as soon as it exists: the failures come while the flows start.
      const pending = helper._redNodes.setFlows(JSON.parse(JSON.stringify(elsewhere)), null, 'full');
      await pending;
      await started;
      const newCaught = collect('caught');
      await newCaught.next(10, 10000);
      failedHere.push(...newCaught.msgs);
      assert.equal(caught.msgs.length, 0, 'not the stopped flow\'s Catch');
      assert.deepEqual(failedHere.map((m) => m.payload).sort(), names('held', 10).sort());
      for (const m of failedHere) {
        assert.equal(m.error.source.id, 'p1');
        assert.match(m.error.message, /ProducerClosedError: The node was redeployed to send to another Kafka cluster before the record could be sent: it was not written to Kafka/);
      }
    } finally {
      await kafka.startBroker(0);
    }
    await unloadFlow();
  });

  it('removing the node logs the held msgs with their keys, summed up (no instance, no Catch to take them)', async () => {
    const topic = uniqueTopic('removed');
    await createTopic(kafka.brokers, topic, 1);
    const flow = flowFor(topic);
    await loadFlow(flow);
    await waitForStatus('p1', /^connected/);
    await kafka.stopBroker(0);
    try {
      const p1 = getNode('p1');
      let taken = 0;
      p1.on('input', () => taken++);
      for (let i = 0; i < 12; i++) p1.receive({ payload: `v${i}`, key: `key-${i}` });
      await until('taken', () => taken === 12, 10000);
      await redeploy(flow.filter((n) => n.id !== 'p1'), 'full');
      const log = helper.log();
      const lines = log.args
        .map((a: any[]) => a[0])
        .filter((e: any) => e && e.id === 'p1' && e.level === log.ERROR && /ProducerClosedError/.test(String(e.msg)))
        .map((e: any) => String(e.msg));
      assert.equal(lines.length, 2, lines.join('\n'));
      assert.match(lines[0], /^A record failed \(key: key-0\): ProducerClosedError: The node was removed before the record could be sent: it was not written to Kafka/);
      assert.match(lines[1], /^11 more records failed in \d+ s: ProducerClosedError: The node was removed .* \(keys: key-1, key-2, key-3, key-4, key-5, …\)$/);
    } finally {
      await kafka.startBroker(0);
    }
    await unloadFlow();
  });

  it('a redeploy with an invalid configuration: the new instance refuses new msgs, and what the old producer held is still sent and comes out of it', async () => {
    const topic = uniqueTopic('invalid');
    await createTopic(kafka.brokers, topic, 1);
    const flow = flowFor(topic);
    await loadFlow(flow);
    await waitForStatus('p1', /^connected/);
    const out = listen('out');
    await kafka.stopBroker(0);
    let caught: any[] = [];
    try {
      await sendHeld('held', 10);
      await redeploy(flow.map((n) => (n.id === 'p1' ? { ...n, acks: '1', idempotence: true } : n)), 'nodes');
      await waitForStatus('p1', /^invalid: acks must be all for idempotence$/);
      caught = listen('caught');
      getNode('p1').receive({ payload: 'refused' });
      await until('refused to Catch', () => caught.length === 1, 5000);
      assert.match(caught[0].error.message, /Must set acks to all/);
    } finally {
      await kafka.startBroker(0);
    }
    await until('10 msgs out', () => out.length >= 10);
    await sleep(300);
    assertOnceEach(out, names('held', 10));
    assert.equal(caught.length, 1);
    await assertInKafka(topic, names('held', 10), out);
    await unloadFlow();
  });

  it('a full deploy while connected: what lingers is sent during the close, at once, and its msgs leave the new instance', async () => {
    const topic = uniqueTopic('lingering');
    await createTopic(kafka.brokers, topic, 1);
    const flow = flowFor(topic, { lingerMs: '60000', batchSize: '1000000' });
    await loadFlow(flow);
    await waitForStatus('p1', /^connected/);
    const oldOut = listen('out');
    await sendHeld('lingering', 20);
    const started = Date.now();
    await redeploy(flow, 'full');
    assert.ok(Date.now() - started < 5000, 'the close did not wait for linger.ms');
    const out = listen('out');
    await until('20 msgs out', () => out.length >= 20, 20000);
    await sleep(300);
    assertOnceEach(out, names('lingering', 20));
    assert.equal(oldOut.length, 0, 'not into the stopped flow');
    for (const v of names('lingering', 20)) assert.deepEqual(senderOf(v), [getNode('p1')], `${v} sent by the new instance`);
    await assertInKafka(topic, names('lingering', 20), out);
    await unloadFlow();
  });

  it('nothing left behind: no connection, no timer, no unhandled rejection, once the flows are gone', async () => {
    const port = kafka.brokers[0].split(':')[1];
    const connections = () => execFileSync('ss', ['-tnH', 'state', 'established', `( dport = :${port} )`]).toString().trim().split('\n').filter(Boolean).length;
    await unloadFlow();
    await sleep(1500);
    assert.equal(connections(), 0, 'no producer connection left');
    assert.ok(ours.length > 0, 'timers of ours were seen');
    assert.deepEqual(liveTimers().map((t) => t.stack.split('\n').slice(2, 5).join(' | ')), [], 'every timer of ours ended');
    assert.deepEqual(unhandled, []);
  });
});
