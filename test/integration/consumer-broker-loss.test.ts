// A broker of a 3-broker cluster SIGKILLed (and restarted) while a consumer in a real
// node-red process reads a topic that is still being written (RF 3, min.insync.replicas 2).
// The broker killed is the group's coordinator (found in the broker log), which also leads
// some of the topic's partitions: the consumer must find a new coordinator and new leaders.
//
// Asserted: deliveries go on while the broker is down (from GRACE_MS after the kill to the
// restart, at least a quarter of what is produced meanwhile is delivered); every record Kafka holds (read back
// by Kafka's own ConsoleConsumer) reached the flow, with its key and value; no partition skips ahead in the flow's stream
// (a step back is a redelivery from the committed offset, counted); the group's commits
// reach the end of every partition; while commits fail the status says so (yellow, not green);
// the runtime is still alive and its status not red.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startKafka, type KafkaHandle } from '../support/kafka';
import { consoleConsume } from '../support/kafka/console-consumer';
import { createTopic, uniqueTopic } from '../support/node-red';
import {
  connectProducer,
  consumerFlow,
  countLines,
  endOffsets,
  groupCoordinatorIndex,
  produceSteadily,
  checkDelivered,
  readDelivered,
  readJsonLines,
  startRuntime,
  waitFor,
  waitForCommitsAt,
  waitForGroup,
  type Runtime,
} from '../support/consumer-runtime';

const env = (name: string, fallback: number) => Number(process.env[`STREAMSAFE_BROKER_LOSS_${name}`] ?? fallback);
/** Records produced over PRODUCE_MS; the broker is killed KILL_AT_MS after the start and restarted DOWN_MS later. */
const RECORDS = env('RECORDS', 20_000);
const PRODUCE_MS = env('PRODUCE_MS', 25_000);
const KILL_AT_MS = env('KILL_AT_MS', 6_000);
const DOWN_MS = env('DOWN_MS', 10_000);
const PARTITIONS = 6;
/**
 * Time a client may need to notice the loss and move on: the cluster declares a broker dead
 * after broker.session.timeout.ms (3 s in the test support), elects new leaders, and the
 * consumer finds the new coordinator. From then until the restart the consumer must keep
 * up with at least a quarter of what is produced (STREAMSAFE_BROKER_LOSS_GRACE_MS). Alone on the
 * machine it keeps up with 75-90 %; under the full suite's load (2 cores, another test beside it)
 * 37 % was seen. A stalled consumer delivers nothing, or a few records (10 in 10 s were seen before
 * the fix this guards).
 */
const GRACE_MS = env('GRACE_MS', 5_000);

let kafka: KafkaHandle;
let runtime: Runtime | undefined;
let work: string;
before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'streamsafe-consumer-broker-loss-'));
  kafka = await startKafka({ mode: 'cluster', name: 'consumer-loss' });
});
after(async () => {
  await runtime?.stop({ removeDir: true });
  if (runtime && process.env.STREAMSAFE_KEEP_CONSUMER_FILES === '1') fs.writeFileSync(path.join(work, 'runtime.log'), runtime.log());
  await kafka?.stop();
  if (process.env.STREAMSAFE_KEEP_CONSUMER_FILES !== '1') fs.rmSync(work, { recursive: true, force: true });
});

describe('consumer: a broker of the 3-broker cluster lost while consuming', () => {
  it('the group coordinator (and leader of some partitions) SIGKILLed and restarted: consumption goes on, nothing lost', async (t) => {
    const brokers = kafka.brokers;
    const topic = uniqueTopic('closs');
    const groupId = `g-${topic}`;
    await createTopic(brokers, topic, PARTITIONS, [{ name: 'min.insync.replicas', value: '2' }], 3);
    const files = { delivered: path.join(work, 'delivered'), status: path.join(work, 'status') };
    runtime = await startRuntime(
      'loss',
      consumerFlow({
        brokers,
        topics: topic,
        groupId,
        recordFile: files.delivered,
        statusFile: files.status,
        consumer: { sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1000, commitMode: 'atLeastOnce' },
      }),
    );
    await waitForGroup(brokers, groupId, topic, 1, 60_000);
    const victim = groupCoordinatorIndex(kafka.logFile, groupId) ?? 0;

    // A kafkajs producer (acks=all, not idempotent: after a failed send an idempotent kafkajs
    // producer keeps failing) writes RECORDS evenly over PRODUCE_MS.
    const producer = await connectProducer(brokers);
    const load = produceSteadily(producer, topic, {
      due: (elapsed) => Math.min(RECORDS, Math.ceil((RECORDS * (elapsed + 100)) / PRODUCE_MS)),
      stop: (sent) => sent >= RECORDS,
      giveUpMs: PRODUCE_MS + 60_000,
    });
    const { acked, startedAt: t0 } = load;

    await sleep(Math.max(0, KILL_AT_MS - (Date.now() - t0)));
    const deliveredBeforeKill = countLines(files.delivered);
    assert.ok(deliveredBeforeKill > 0, 'the flow delivers before the kill');
    await kafka.killBroker(victim);
    const killedAt = Date.now();
    await sleep(DOWN_MS);
    const downUntil = Date.now();
    const deliveredWhileDown = readDelivered(files.delivered).filter((d) => d.at > killedAt && d.at <= downUntil).length;
    const deliveredAfterGrace = readDelivered(files.delivered).filter((d) => d.at > killedAt + GRACE_MS && d.at <= downUntil).length;
    const producedAfterGrace = [...acked.values()].filter((at) => at > killedAt + GRACE_MS && at <= downUntil).length;
    await kafka.startBroker(victim);
    const restartedAt = Date.now();
    await load.done;
    await producer.disconnect();
    assert.equal(acked.size, RECORDS, 'every record acknowledged in the end');

    // Everything Kafka holds, read by Kafka's own consumer.
    const ends = await endOffsets(brokers, topic);
    const stored = await consoleConsume(brokers, topic, { expected: 'all', timeoutMs: 120_000 });
    const storedValues = new Set(stored.map((s) => s.value));
    const ackedMissing = [...acked.keys()].filter((v) => !storedValues.has(v));
    // Not asserted: the load generator is kafkajs's producer, whose send() can resolve without a
    // partition whose leader moved during the request (docs/facts: the reason this package has
    // its own producer engine). The proof is about the consumer: what Kafka holds must reach the flow.

    // The flow gets every stored record.
    await waitFor(
      'every stored record delivered',
      () => {
        const seen = new Set(readDelivered(files.delivered).map((d) => `${d.partition}/${d.offset}`));
        return stored.every((s) => seen.has(`${s.partition}/${s.offset}`));
      },
      90_000,
      500,
    );
    const doneAt = Date.now();
    const delivered = readDelivered(files.delivered);
    const { lost, altered, redelivered, skips, stepsBack } = checkDelivered(stored, delivered);
    const committedEnd = await waitForCommitsAt(brokers, groupId, topic, ends).catch((e: Error) => {
      const log = runtime!.log().split('\n').filter((l) => /streamsafe-kafka-consumer/.test(l)).slice(-12).join('\n');
      throw new Error(`${e.message}; last status ${JSON.stringify(readJsonLines(files.status).slice(-2))}; consumer log:\n${log}`);
    });
    const statuses = readJsonLines<{ t: number; fill?: string; text?: string }>(files.status);
    const lastStatus = statuses[statuses.length - 1];
    const consumerLog = runtime.log().split('\n').filter((l) => /\[(warn|error)\] \[streamsafe-kafka-consumer/.test(l));
    t.diagnostic(`consumer warnings/errors in the runtime log (${consumerLog.length}): ${consumerLog.slice(0, 6).join(' | ').slice(0, 1500)}`);

    t.diagnostic(
      `killed node-${victim + 1} (group coordinator) at ${((killedAt - t0) / 1000).toFixed(1)} s for ${DOWN_MS / 1000} s; ` +
        `sent ${RECORDS}, acked ${acked.size} (${load.failedSends} failed sends, sent again; ${ackedMissing.length} 'acknowledged' by kafkajs but not stored), stored ${stored.length}; delivered ${delivered.length} ` +
        `(${deliveredBeforeKill} before the kill, ${deliveredWhileDown} while down, ${deliveredAfterGrace} from ${GRACE_MS / 1000} s after the kill to the restart while ${producedAfterGrace} were acknowledged; redelivered ${redelivered}, steps back ${stepsBack}); ` +
        `all delivered ${((doneAt - restartedAt) / 1000).toFixed(1)} s after the restart; ` +
        `statuses during the outage: ${JSON.stringify([...new Set(statuses.filter((s) => s.t >= killedAt && s.t <= restartedAt + 5000).map((s) => `${s.fill}:${s.text}`))].slice(0, 8))}; ` +
        `last status ${lastStatus?.fill}:"${lastStatus?.text}"; final commits ${JSON.stringify(Object.fromEntries(committedEnd))}`,
    );
    assert.equal(lost.length, 0, `lost: ${JSON.stringify(lost.slice(0, 5))}`);
    assert.equal(altered.length, 0, `altered: ${JSON.stringify(altered.slice(0, 5))}`);
    assert.equal(skips.length, 0, `a partition skipped ahead: ${JSON.stringify(skips.slice(0, 5))}`);
    assert.ok(
      deliveredAfterGrace >= producedAfterGrace / 4,
      `consumption goes on while the broker is down: ${deliveredAfterGrace} delivered from ${GRACE_MS / 1000} s after the kill to the restart, ${producedAfterGrace} acknowledged meanwhile`,
    );
    // A status never says green while finished offsets cannot be committed.
    const commitFailures = consumerLog.filter((l) => /Could not commit offsets/.test(l)).length;
    if (commitFailures > 0) {
      assert.ok(
        statuses.some((s) => s.fill === 'yellow' && /commits failing/.test(s.text ?? '')),
        `commits failed (${commitFailures} log lines) but no status said so: ${JSON.stringify([...new Set(statuses.map((s) => `${s.fill}:${s.text}`))].slice(0, 12))}`,
      );
    }
    assert.ok(runtime.alive(), 'node-red alive');
    assert.notEqual(lastStatus?.fill, 'red', `last status: ${JSON.stringify(lastStatus)}`);
  });
});
