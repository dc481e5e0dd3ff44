// The Safe preset's promise under repeated failure, checked by an independent
// reader: on a 3-broker cluster (RF 3, min.insync.replicas 2) a flow sends tens
// of thousands of keyed records while brokers are SIGKILLed one after another
// (the active KRaft controller once) and restarted. Kafka's own console
// consumer then reads the topic, and the delivery audit counts lost,
// duplicated, reordered, failed and failed-but-written records. The same run
// with acks=1 and no idempotence shows what that setting gives up.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startKafka, type KafkaHandle } from '../support/kafka';
import { activeController } from '../support/kafka/quorum';
import { consoleConsume } from '../support/kafka/console-consumer';
import { auditDelivery, auditValue, type DeliveryAudit } from '../support/delivery-audit';
import { partitionLeaders } from '../support/kafka/admin';
import { collect, createTopic, getNode, helper, loadFlow, producerFlow, uniqueTopic, unloadFlow, waitForStatus } from '../support/node-red';

let kafka: KafkaHandle;

before(async () => {
  kafka = await startKafka({ mode: 'cluster', name: 'chaos' });
  await new Promise<void>((resolve) => helper.startServer(resolve));
});
after(async () => {
  await unloadFlow();
  await new Promise<void>((resolve) => helper.stopServer(resolve));
  await kafka?.stop();
});

/**
 * Records in all, sent evenly over the chaos schedule (4 rounds of kill, 3 s
 * down, restart, 3.5 s up): about 1,000 records/s, so that CI's 2 cores
 * finish a run in under a minute. STREAMSAFE_CHAOS_RECORDS sets more.
 */
const env = (name: string, fallback: number) => Number(process.env[`STREAMSAFE_CHAOS_${name}`] ?? fallback);
const TOTAL = env('RECORDS', 32000);
const STREAMS = 48;
const PARTITIONS = 6;
/** The last round kills the active controller. STREAMSAFE_CHAOS_ROUNDS/_DOWN_MS/_UP_MS make a longer run (e.g. 10 / 5000 / 5000). */
const ROUNDS = Math.max(2, env('ROUNDS', 4));
const DOWN_MS = env('DOWN_MS', 3000);
const UP_MS = env('UP_MS', 3500);
const SEND_MS = ROUNDS * (DOWN_MS + UP_MS) + 2000;

interface ChaosRun {
  audit: DeliveryAudit;
  kills: string[];
  tookMs: number;
}

/**
 * Sends TOTAL records through the producer node at RATE while `chaos` kills
 * and restarts brokers; waits for every record's outcome; reads the topic
 * with the console consumer and audits it.
 */
async function runUnderChaos(producer: Record<string, unknown>): Promise<ChaosRun> {
  const topic = uniqueTopic('chaos');
  await createTopic(kafka.brokers, topic, PARTITIONS, [{ name: 'min.insync.replicas', value: '2' }], 3);
  await loadFlow(producerFlow({ brokers: kafka.brokers, producer: { topic, ...producer }, broker: { connectionTimeout: '1000', requestTimeout: '5000' } }));
  const out = collect('out');
  const caught = collect('caught');
  await waitForStatus('p1', /^connected/, 60000);
  const p1 = getNode('p1');
  const started = Date.now();

  // Evenly over SEND_MS: records keep coming while brokers go and come back.
  let sent = 0;
  const seqs = new Array<number>(STREAMS).fill(0);
  const sending = (async () => {
    while (sent < TOTAL) {
      const due = Math.min(TOTAL, Math.ceil((TOTAL * (Date.now() - started)) / SEND_MS));
      for (; sent < due; sent++) {
        const s = sent % STREAMS;
        p1.receive({ payload: auditValue(`k${s}`, seqs[s]++, 200), key: `k${s}` });
      }
      await sleep(10);
    }
  })();

  // Each broker in turn, then the active controller: SIGKILL, DOWN_MS down, restart (it serves), UP_MS up.
  const kills: string[] = [];
  const chaos = (async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const victim = round === ROUNDS - 1 ? await activeController(kafka) : round % 3;
      kills.push(`${round === ROUNDS - 1 ? 'controller ' : ''}node-${victim + 1} at ${((Date.now() - started) / 1000).toFixed(1)} s`);
      await kafka.killBroker(victim);
      await sleep(DOWN_MS);
      await kafka.startBroker(victim);
      await sleep(UP_MS);
    }
  })();
  await Promise.all([sending, chaos]);

  // Every record gets exactly one outcome, within delivery.timeout.ms of its send.
  const deadline = Date.now() + 150000;
  while (out.msgs.length + caught.msgs.length < TOTAL && Date.now() < deadline) await sleep(200);
  const tookMs = Date.now() - started;
  const stored = await consoleConsume(kafka.brokers, topic, { expected: 'all', timeoutMs: 120000 });
  const audit = auditDelivery(
    {
      acked: out.msgs.map((m) => ({ value: m.payload, key: m.key, partition: m.kafka.partition, offset: m.kafka.offset })),
      failed: caught.msgs.map((c) => ({ value: c.payload, key: c.key, error: c.error?.message })),
    },
    stored,
  );
  assert.equal(audit.counts.acked + audit.counts.failed, TOTAL, `every record has one outcome: ${audit.summary}`);
  await unloadFlow();
  return { audit, kills, tookMs };
}

describe('producer under repeated broker failure (independent reader)', () => {
  it('Safe: brokers SIGKILLed again and again, the active controller once: nothing lost, duplicated, reordered or failed', async (t) => {
    const { audit, kills, tookMs } = await runUnderChaos({ preset: 'safe' });
    t.diagnostic(`Safe: ${kills.join(', ')}; ${tookMs} ms; ${audit.summary}`);
    assert.equal(audit.counts.failed, 0, `one broker down must not exhaust delivery.timeout.ms: ${audit.summary}`);
    assert.equal(audit.counts.lost, 0, audit.summary);
    assert.equal(audit.counts.duplicated, 0, audit.summary);
    assert.equal(audit.counts.reordered, 0, audit.summary);
    assert.equal(audit.counts.failedButWritten, 0, audit.summary);
    assert.equal(audit.counts.wrongOffset, 0, audit.summary);
    assert.equal(audit.counts.unknown, 0, audit.summary);
    assert.ok(audit.ok, audit.summary);
    assert.equal(audit.counts.stored, TOTAL);
    assert.equal(kills.length, ROUNDS);
  });

  it('acks=1 without idempotence under the same faults: every record answered, and what it gives up is counted', async (t) => {
    const { audit, kills, tookMs } = await runUnderChaos({ preset: 'custom', acks: '1', idempotence: false, maxInFlight: '5' });
    // With acks=1 a leader acknowledges before its followers copy the record: a leader killed right
    // after may take acknowledged records with it; without idempotence a resend after a lost answer
    // is stored twice. Neither is promised against, so they are reported, not asserted away.
    t.diagnostic(`acks=1: ${kills.join(', ')}; ${tookMs} ms; ${audit.summary}`);
    assert.equal(audit.counts.unknown, 0, audit.summary);
    assert.equal(audit.counts.conflicting, 0, audit.summary);
    assert.equal(audit.counts.failedButWritten, 0, audit.summary);
  });

  it('one linger window over partitions on all three brokers plus one record too large for the topic: that record fails alone, the rest are stored once', async () => {
    const topic = uniqueTopic('toolarge');
    await createTopic(kafka.brokers, topic, 6, [{ name: 'min.insync.replicas', value: '2' }, { name: 'max.message.bytes', value: '4096' }], 3);
    const leaders = new Set(await partitionLeaders(kafka.brokers, topic));
    assert.equal(leaders.size, 3, 'the partitions are led by all three brokers');
    await loadFlow(producerFlow({ brokers: kafka.brokers, producer: { topic, preset: 'safe', lingerMs: '200' } }));
    const out = collect('out');
    const caught = collect('caught');
    await waitForStatus('p1', /^connected/, 60000);
    const p1 = getNode('p1');
    for (let i = 0; i < 300; i++) {
      if (i === 150) p1.receive({ payload: auditValue('big', 0, 6000), key: 'k3', partition: 3 });
      p1.receive({ payload: auditValue(`k${i % 12}`, Math.floor(i / 12)), key: `k${i % 12}`, partition: i % 6 });
    }
    await out.next(300, 30000);
    const [c] = await caught.next(1, 30000);
    assert.match(c.error.message, /MESSAGE_TOO_LARGE/);
    const stored = await consoleConsume(kafka.brokers, topic, { expected: 'all', timeoutMs: 60000 });
    const audit = auditDelivery(
      {
        acked: out.msgs.map((m) => ({ value: m.payload, key: m.key, partition: m.kafka.partition, offset: m.kafka.offset })),
        failed: caught.msgs.map((x) => ({ value: x.payload, key: x.key, error: x.error?.message })),
      },
      stored,
    );
    assert.ok(audit.ok, audit.summary);
    assert.equal(audit.counts.stored, 300);
    assert.equal(audit.counts.failed, 1);
    await unloadFlow();
  });
});

