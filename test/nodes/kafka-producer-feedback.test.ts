// While the broker is away the user hears about it: the producer node's status
// says how many records it holds, their share of buffer.memory and how long the
// oldest has waited, refreshed as time passes; when they fail at the delivery
// timeout, each reaches Catch, and without Catch the log gets a few summary lines,
// not one per record. A real broker (started here) is stopped under the node.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startKafka, type KafkaHandle } from '../support/kafka';
import { collect, createTopic, getNode, helper, loadFlow, producerFlow, uniqueTopic, unloadFlow, waitForStatus } from '../support/node-red';

let kafka: KafkaHandle;
const SUMMARY_MS = 1000;
const unhandled: unknown[] = [];
const onUnhandled = (e: unknown) => unhandled.push(e);

before(async () => {
  process.on('unhandledRejection', onUnhandled);
  kafka = await startKafka({ mode: 'single', name: 'feedback' });
  helper.settings({ streamsafeKafkaProducer: { statusIntervalMs: 250, logSummaryIntervalMs: SUMMARY_MS } });
  await new Promise<void>((resolve) => helper.startServer(resolve));
});
after(async () => {
  await unloadFlow();
  helper.settings({});
  await new Promise<void>((resolve) => helper.stopServer(resolve));
  await kafka?.stop();
  process.off('unhandledRejection', onUnhandled);
});

type StatusCall = [{ fill?: string; shape?: string; text?: string; i18n?: unknown }];
const statuses = (id: string) => ((getNode(id).status as { args?: StatusCall[] }).args ?? []).map((a) => a[0]);

/** Log entries of node `id` at `level` (the helper's spy on the runtime log). */
function logged(id: string, level: 'ERROR' | 'WARN'): string[] {
  const log = helper.log();
  return log.args.map((a: any[]) => a[0]).filter((e: any) => e && e.id === id && e.level === log[level]).map((e: any) => String(e.msg));
}

/** Records counted by the summarised lines: 1 per first line, N per "N more records failed". */
function counted(lines: string[]): number {
  return lines.reduce((n, l) => n + (/^A record failed/.test(l) ? 1 : Number(/^(\d+) more records failed/.exec(l)?.[1] ?? 0)), 0);
}

const FLOW = (topic: string, withCatch: boolean) => {
  const flow = producerFlow({
    brokers: kafka.brokers,
    producer: { topic, deliveryTimeoutMs: '8000', requestTimeoutMs: '2000', lingerMs: '0', bufferMemory: '1048576' },
    broker: { connectionTimeout: '500', requestTimeout: '2000' },
  }) as Array<{ id: string }>;
  return withCatch ? flow : flow.filter((n) => n.id !== 'c1' && n.id !== 'caught');
};

describe('kafka producer node while the broker is away', () => {
  it('the status shows held records, % of buffer.memory and the oldest age, live; at the delivery timeout all reach Catch, none is logged one by one', async () => {
    const topic = uniqueTopic('away');
    await createTopic(kafka.brokers, topic, 2);
    await loadFlow(FLOW(topic, true));
    const out = collect('out');
    const caught = collect('caught');
    await waitForStatus('p1', /^connected/);
    const p1 = getNode('p1');
    await kafka.stopBroker(0);
    const n = 200;
    try {
      const t0 = Date.now();
      for (let i = 0; i < n; i++) p1.receive({ payload: 'x'.repeat(1000), key: `k${i % 10}` });
      // ~200 KB of 1 MiB: 19-21 %.
      const first = await waitForStatus('p1', /^disconnected · 200 held · (19|20|21)% buffer · oldest \d+s$/, 10000);
      const last = statuses('p1').at(-1)!;
      assert.equal(last.fill, 'red');
      assert.equal(last.shape, 'ring');
      // The editor renders the same status from its message keys, in its own language.
      assert.deepEqual((last.i18n as Array<{ key: string }>).map((m) => m.key), ['status.disconnected', 'status.held', 'status.buffer', 'status.oldest']);
      const age = (s: string) => Number(/oldest (\d+)s$/.exec(s)![1]);
      await sleep(2200);
      const later = await waitForStatus('p1', /^disconnected · 200 held/);
      assert.ok(age(later) >= age(first) + 2, `the age moves on: "${first}" then "${later}"`);
      assert.ok(age(later) <= Math.ceil((Date.now() - t0) / 1000), later);
      assert.equal(out.msgs.length, 0);
      assert.equal(caught.msgs.length, 0, 'nothing fails within the delivery timeout');

      await caught.next(n, 30000);
      assert.ok(caught.msgs.every((c) => /DeliveryTimeoutError/.test(c.error.message)));
      assert.deepEqual(new Set(caught.msgs.map((c) => c.key)).size, 10, 'each failed msg, with its key, reached Catch');
      await sleep(SUMMARY_MS + 500);
      // Catch took every failure: the log has none of them (as Node-RED's own done(err) would).
      assert.deepEqual(logged('p1', 'ERROR').filter((l) => /DeliveryTimeoutError/.test(l)), []);
      // The broker's absence is told once, then summed up, not once per reconnect attempt.
      // (Reasons differ, "connection closed" then "ECONNREFUSED": one first line each.)
      const warnings = logged('p1', 'WARN');
      const firsts = warnings.filter((w) => /^Kafka broker unreachable: /.test(w));
      const repeats = warnings.filter((w) => /^\d+ more times in \d+ s: Kafka broker unreachable/.test(w));
      assert.equal(firsts.length + repeats.length, warnings.length, warnings.join('\n'));
      assert.ok(firsts.length >= 1 && firsts.length <= 3, warnings.join('\n'));
      const attempts = firsts.length + repeats.reduce((n, w) => n + Number(/^(\d+)/.exec(w)![1]), 0);
      // Summaries come after 1, 2, 4, 8... s while the broker stays away.
      assert.ok(repeats.length <= 2 * Math.log2((Date.now() - t0) / SUMMARY_MS + 1) + 2, `${repeats.length} summaries:\n${warnings.join('\n')}`);
      assert.ok(attempts > warnings.length, `${attempts} reconnect failures told in ${warnings.length} lines`);
      // Nothing held any more: the status says so.
      await waitForStatus('p1', /^disconnected: /, 5000);
    } finally {
      await kafka.startBroker(0);
    }
    await unloadFlow();
  });

  it('without a Catch node, 200 failures of one kind make a first line with its key and a summary with the count, not 200 lines', async () => {
    const topic = uniqueTopic('nocatch');
    await createTopic(kafka.brokers, topic, 1);
    await loadFlow(FLOW(topic, false));
    await waitForStatus('p1', /^connected/);
    const p1 = getNode('p1');
    await kafka.stopBroker(0);
    const n = 200;
    try {
      for (let i = 0; i < n; i++) p1.receive({ payload: `v${i}`, key: `key-${i}` });
      await waitForStatus('p1', /^disconnected · 200 held/, 10000);
      // Failing at 8 s; the summary follows within a period.
      const deadline = Date.now() + 30000;
      let lines: string[] = [];
      while (Date.now() < deadline) {
        lines = logged('p1', 'ERROR').filter((l) => /DeliveryTimeoutError/.test(l));
        if (counted(lines) >= n) break;
        await sleep(200);
      }
      assert.equal(counted(lines), n, lines.join('\n'));
      assert.ok(lines.length <= 3, `${lines.length} lines for ${n} failures:\n${lines.join('\n')}`);
      assert.match(lines[0], /^A record failed \(key: key-0\): DeliveryTimeoutError: Expiring 1 record\(s\) for /);
      assert.match(lines[1], /^199 more records failed in \d+ s: DeliveryTimeoutError: .* \(keys: key-1, key-2, key-3, key-4, key-5, …\)$/);
    } finally {
      await kafka.startBroker(0);
    }
    await unloadFlow();
    assert.deepEqual(unhandled, [], 'no unhandled rejection');
  });
});
