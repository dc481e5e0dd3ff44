// The consumer's at-least-once promise under repeated faults, checked against Kafka's own
// ConsoleConsumer: on a 3-broker cluster (RF 3, min.insync.replicas 2) a consumer in a real
// node-red process reads a topic that is being written, while brokers are SIGKILLed one after
// another (the group coordinator first and last), the flow is redeployed while a broker is down,
// and the node-red process itself is SIGKILLed and started again. Msgs finish out of order (a
// function node holds each one 0-20 ms before the commit node), so the commits follow gaps.
//
// Asserted: every record Kafka holds reached a flow, with its key and value; no partition skips
// ahead in what the flows saw; nothing at or past an offset the group had committed comes again
// (a redelivery is only of a record not yet committed: the group's commits are polled all along);
// the group's commits reach the end of every partition; the last runtime is alive, its status not
// red, and neither runtime logged an unhandled or internal error.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startKafka, type KafkaHandle } from '../support/kafka';
import { adminClient } from '../support/kafka/admin';
import { consoleConsume } from '../support/kafka/console-consumer';
import { createTopic, uniqueTopic } from '../support/node-red';
import {
  checkDelivered,
  connectProducer,
  consumerFlow,
  endOffsets,
  groupCoordinatorIndex,
  produceSteadily,
  readDelivered,
  readJsonLines,
  startRuntime,
  waitFor,
  waitForCommitsAt,
  waitForGroup,
  type Runtime,
} from '../support/consumer-runtime';

const env = (name: string, fallback: number) => Number(process.env[`STREAMSAFE_CONSUMER_CHAOS_${name}`] ?? fallback);
/** Rounds of kill, DOWN_MS down, restart, UP_MS up (STREAMSAFE_CONSUMER_CHAOS_ROUNDS/_DOWN_MS/_UP_MS for a longer run). */
const ROUNDS = Math.max(4, env('ROUNDS', 4));
const DOWN_MS = env('DOWN_MS', 4000);
const UP_MS = env('UP_MS', 4000);
/** Records per second written while the rounds run. */
const RATE = env('RATE', 600);
const PARTITIONS = 6;

let kafka: KafkaHandle;
const runtimes: Runtime[] = [];
/** Set when the test ends (also by a failure): the load generator and the poller stop. */
let finished = false;
/** Clients to disconnect at the end, whatever happened. */
const clients: Array<{ disconnect(): Promise<void> }> = [];
let work: string;
before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'streamsafe-consumer-chaos-'));
  kafka = await startKafka({ mode: 'cluster', name: 'consumer-chaos' });
});
after(async () => {
  finished = true;
  await Promise.all(clients.map((c) => c.disconnect().catch(() => {})));
  for (const r of runtimes) {
    await r.stop({ removeDir: true });
    if (process.env.STREAMSAFE_KEEP_CONSUMER_FILES === '1') fs.writeFileSync(path.join(work, `${r.name}.log`), r.log());
  }
  await kafka?.stop();
  if (process.env.STREAMSAFE_KEEP_CONSUMER_FILES !== '1') fs.rmSync(work, { recursive: true, force: true });
});

describe('consumer under repeated faults: brokers killed one after another, a redeploy, the runtime killed', () => {
  it('every stored record reaches the flow, none skipped, nothing committed comes again, commits reach the end', async (t) => {
    const brokers = kafka.brokers;
    const topic = uniqueTopic('cchaos');
    const groupId = `g-${topic}`;
    await createTopic(brokers, topic, PARTITIONS, [{ name: 'min.insync.replicas', value: '2' }], 3);
    const files = { delivered: path.join(work, 'delivered'), status: path.join(work, 'status') };
    const flow = consumerFlow({
      brokers,
      topics: topic,
      groupId,
      recordFile: files.delivered,
      statusFile: files.status,
      consumer: { sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1000, maxOutstanding: 50, commitMode: 'atLeastOnce' },
      between: [
        {
          id: 'jitter',
          type: 'function',
          name: 'finish out of order',
          func: 'setTimeout(() => node.send(msg), Math.random() * 20); return null;',
          outputs: 1,
          wires: [['commit']],
        },
      ],
    });
    let runtime = await startRuntime('chaos-1', flow);
    runtimes.push(runtime);
    await waitForGroup(brokers, groupId, topic, 1, 60_000);

    // The group's commits, polled: [time the answer came, offsets]. A commit seen at time c
    // covers records the flow finished; none of them may come to a flow after c.
    const commitsSeen: Array<{ at: number; offsets: Map<number, number> }> = [];
    const poller = adminClient(brokers);
    await poller.connect();
    clients.push(poller);
    let polling = true;
    const pollingDone = (async () => {
      while (polling && !finished) {
        try {
          const res = await poller.fetchOffsets({ groupId, topics: [topic] });
          const at = Date.now();
          commitsSeen.push({ at, offsets: new Map((res[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)])) });
        } catch {
          // the coordinator is away: the next poll asks again
        }
        await sleep(300);
      }
    })();

    // A kafkajs producer (acks=all) writes RATE records/s until the rounds are over.
    const producer = await connectProducer(brokers);
    clients.push(producer);
    let producingUntil = Infinity;
    const load = produceSteadily(producer, topic, {
      due: (elapsed) => Math.floor((elapsed * RATE) / 1000),
      stop: () => Date.now() >= producingUntil,
      abandoned: () => finished,
      giveUpMs: (ROUNDS + 4) * (DOWN_MS + UP_MS) + 60_000,
    });
    const t0 = load.startedAt;

    // The rounds. Victims: the coordinator, then the brokers in turn, the coordinator again last.
    const events: string[] = [];
    const note = (what: string) => events.push(`${((Date.now() - t0) / 1000).toFixed(1)} s ${what}`);
    await sleep(2000);
    let victim = groupCoordinatorIndex(kafka.logFile, groupId) ?? 0;
    for (let round = 0; round < ROUNDS; round++) {
      if (round === ROUNDS - 1) victim = groupCoordinatorIndex(kafka.logFile, groupId) ?? victim;
      await kafka.killBroker(victim);
      note(`node-${victim + 1} killed`);
      if (round === 1) {
        // A redeploy while a broker is down: the consumer node closes (commits what finished) and a new one starts.
        await sleep(DOWN_MS / 2);
        const status = await runtime.deploy(flow);
        note(`redeployed (HTTP ${status})`);
        assert.equal(status, 204, 'the full deploy is taken');
        await sleep(DOWN_MS / 2);
      } else {
        await sleep(DOWN_MS);
      }
      await kafka.startBroker(victim);
      note(`node-${victim + 1} back`);
      if (round === 2) {
        // The process dies mid-flow: no close, no last commit. A new one joins the group.
        await sleep(UP_MS / 2);
        await runtime.kill();
        note('node-red SIGKILLed');
        runtime = await startRuntime('chaos-2', flow);
        runtimes.push(runtime);
        note('node-red started again');
        await sleep(UP_MS / 2);
      } else {
        await sleep(UP_MS);
      }
      victim = (victim + 1) % brokers.length;
    }
    producingUntil = Date.now();
    await load.done;
    await producer.disconnect();

    // Everything Kafka holds, read by Kafka's own consumer, must reach the flow.
    const ends = await endOffsets(brokers, topic);
    const stored = await consoleConsume(brokers, topic, { expected: 'all', timeoutMs: 120_000 });
    await waitFor(
      'every stored record delivered',
      () => {
        const seen = new Set(readDelivered(files.delivered).map((d) => `${d.partition}/${d.offset}`));
        return stored.every((s) => seen.has(`${s.partition}/${s.offset}`));
      },
      120_000,
      500,
    ).catch((e: Error) => {
      const seen = new Set(readDelivered(files.delivered).map((d) => `${d.partition}/${d.offset}`));
      const missing = stored.filter((s) => !seen.has(`${s.partition}/${s.offset}`));
      throw new Error(`${e.message}: ${missing.length} of ${stored.length} missing, e.g. ${JSON.stringify(missing.slice(0, 5))}; events ${events.join(', ')}`);
    });
    const committedEnd = await waitForCommitsAt(brokers, groupId, topic, ends);
    polling = false;
    await pollingDone;
    await poller.disconnect();

    const delivered = readDelivered(files.delivered);
    const { lost, altered, redelivered, skips, stepsBack } = checkDelivered(stored, delivered);
    // A delivery after a commit was seen, of an offset below it: a committed record came again.
    const committedAgain: Array<{ partition: number; offset: number; at: number; committed: number; seenAt: number }> = [];
    let c = 0;
    const highest = new Map<number, { offset: number; seenAt: number }>();
    for (const d of [...delivered].sort((a, b) => a.at - b.at)) {
      for (; c < commitsSeen.length && commitsSeen[c].at < d.at; c++) {
        for (const [p, o] of commitsSeen[c].offsets) if (o > (highest.get(p)?.offset ?? -1)) highest.set(p, { offset: o, seenAt: commitsSeen[c].at });
      }
      const h = highest.get(d.partition);
      if (h && d.offset < h.offset) committedAgain.push({ partition: d.partition, offset: d.offset, at: d.at, committed: h.offset, seenAt: h.seenAt });
    }
    const statuses = readJsonLines<{ t: number; fill?: string; text?: string }>(files.status);
    const lastStatus = statuses[statuses.length - 1];
    const logs = runtimes.map((r) => r.log());
    const unhandled = logs.flatMap((l) => l.split('\n').filter((line) => /unhandled|uncaught|Internal error/i.test(line)));

    t.diagnostic(
      `${events.join(', ')}; sent ${load.sent} (${load.failedSends} failed sends, sent again), stored ${stored.length}; ` +
        `delivered ${delivered.length} (redelivered ${redelivered}, steps back ${stepsBack}); ` +
        `${commitsSeen.length} commit polls; final commits ${JSON.stringify(Object.fromEntries(committedEnd))}; last status ${lastStatus?.fill}:"${lastStatus?.text}"`,
    );
    // kafkajs (the load generator) may report records sent that Kafka does not hold; most must be there.
    assert.ok(stored.length >= load.sent / 2, `Kafka holds ${stored.length} of ${load.sent} sent`);
    assert.equal(lost.length, 0, `lost: ${JSON.stringify(lost.slice(0, 5))}`);
    assert.equal(altered.length, 0, `altered: ${JSON.stringify(altered.slice(0, 5))}`);
    assert.equal(skips.length, 0, `a partition skipped ahead: ${JSON.stringify(skips.slice(0, 5))}`);
    assert.equal(committedAgain.length, 0, `committed records came again: ${JSON.stringify(committedAgain.slice(0, 5))}`);
    assert.deepEqual(unhandled, [], 'no unhandled or internal error in a runtime log');
    assert.ok(runtime.alive(), 'node-red alive');
    assert.notEqual(lastStatus?.fill, 'red', `last status: ${JSON.stringify(lastStatus)}`);
  });
});
