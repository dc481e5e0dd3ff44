// Two real Node-RED runtimes in one consumer group, one SIGKILLed mid-flow.
//
// Each runtime runs: consumer → record (appends topic/partition/offset/key/value to a file,
// synchronously, before the msg goes on) → commit. Records are produced while both consume;
// runtime A is SIGKILLed while records still arrive; the committed offsets of the group are
// read from Kafka right after the kill (A can commit nothing more, and B cannot take A's
// partitions before the session timeout). Kafka's own ConsoleConsumer then reads the topic.
//
// Asserted: partitions split between the two (both receive); nothing Kafka holds is missing
// from the union of what the two flows saw (same key and value); no record seen twice is below
// the offsets committed at the kill; on A's partitions exactly what A delivered past its commits
// comes again, on B's own (kept by B through the rebalance when A is evicted) nothing comes
// again; everything below A's committed offsets went through A's flow (commits follow the flow);
// per partition each stream is contiguous and increasing (never a step back or a skip ahead); B
// resumes A's partitions exactly at the committed offset; B's commits reach the end of every
// partition.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { getTestKafka } from '../support/kafka';
import { consoleConsume } from '../support/kafka/console-consumer';
import { createTopic, uniqueTopic } from '../support/node-red';
import {
  committedOffsets,
  connectProducer,
  consumerFlow,
  countLines,
  describeGroup,
  endOffsets,
  orderBreaks,
  produceKeyed,
  readDelivered,
  startRuntime,
  waitFor,
  waitForCommitsAt,
  waitForGroup,
  type Delivered,
  type Runtime,
} from '../support/consumer-runtime';

const env = (name: string, fallback: number) => Number(process.env[`STREAMSAFE_GROUP_${name}`] ?? fallback);
/** Records produced in all (STREAMSAFE_GROUP_RECORDS), over PRODUCE_MS, into PARTITIONS partitions. */
const RECORDS = env('RECORDS', 30_000);
const PARTITIONS = env('PARTITIONS', 8);
const PRODUCE_MS = env('PRODUCE_MS', 15_000);
const SESSION_TIMEOUT_MS = 10_000;

const runtimes: Runtime[] = [];
let work: string;
before(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'streamsafe-consumer-group-'));
});
after(async () => {
  for (const r of runtimes) await r.stop({ removeDir: true });
  if (process.env.STREAMSAFE_KEEP_CONSUMER_FILES !== '1') fs.rmSync(work, { recursive: true, force: true });
});

describe('consumer group: two Node-RED runtimes, one SIGKILLed mid-flow', () => {
  it('splits the partitions, the survivor takes over, nothing lost, redeliveries only past the committed offsets, order kept', async (t) => {
    const { brokers } = await getTestKafka();
    const topic = uniqueTopic('cgroup');
    const groupId = `g-${topic}`;
    await createTopic(brokers, topic, PARTITIONS);
    const files = { A: path.join(work, 'a.rec'), B: path.join(work, 'b.rec') };
    const flow = (file: string) =>
      consumerFlow({
        brokers,
        topics: topic,
        groupId,
        recordFile: file,
        consumer: { sessionTimeoutMs: SESSION_TIMEOUT_MS, heartbeatIntervalMs: 1000, maxOutstanding: 100, commitMode: 'atLeastOnce' },
      });
    const [A, B] = await Promise.all([startRuntime('A', flow(files.A)), startRuntime('B', flow(files.B))]);
    runtimes.push(A, B);
    const t0 = Date.now();

    // Both in the group, each with some partitions, before any record exists.
    const members = await waitForGroup(brokers, groupId, topic, 2, 60_000);
    const assigned = members.flatMap((m) => m.partitions).sort((x, y) => x - y);
    assert.deepEqual(assigned, [...Array(PARTITIONS).keys()], `every partition assigned once: ${JSON.stringify(members)}`);

    // Produce evenly over PRODUCE_MS while both consume.
    const producer = await connectProducer(brokers);
    let produced = 0;
    const producing = (async () => {
      const start = Date.now();
      while (produced < RECORDS) {
        const due = Math.min(RECORDS, Math.ceil((RECORDS * (Date.now() - start + 200)) / PRODUCE_MS));
        if (due > produced) {
          await produceKeyed(producer, topic, produced, due);
          produced = due;
        }
        await sleep(100);
      }
    })();

    // Mid-flow: both have delivered records, records still arriving.
    await waitFor('both runtimes delivering', () => countLines(files.A) > RECORDS / 10 && countLines(files.B) > RECORDS / 10, 60_000);
    const beforeKill = await describeGroup(brokers, groupId, topic);
    const aSeen = new Set(readDelivered(files.A).map((d) => d.partition));
    const bSeen = new Set(readDelivered(files.B).map((d) => d.partition));
    await A.kill();
    const killedAt = Date.now();
    const committedAtKill = await committedOffsets(brokers, groupId, topic);
    const readAt = Date.now() - killedAt;
    const producedAtKill = produced;
    assert.ok(readAt < SESSION_TIMEOUT_MS - 2000, `committed offsets read ${readAt} ms after the kill, before B can take over`);

    // Which partitions A held: the assignment of the member whose partitions A's file shows.
    const aMember = beforeKill.members.find((m) => m.partitions.some((p) => aSeen.has(p)));
    const bMember = beforeKill.members.find((m) => m !== aMember);
    assert.ok(aMember && bMember, `two members before the kill: ${JSON.stringify(beforeKill)}`);
    const aParts = new Set(aMember.partitions);
    const bParts = new Set(bMember.partitions);
    for (const p of aSeen) assert.ok(aParts.has(p), `A delivered partition ${p}, assigned to it`);
    for (const p of bSeen) assert.ok(bParts.has(p), `B delivered partition ${p}, assigned to it`);

    await producing;
    await producer.disconnect();
    const ends = await endOffsets(brokers, topic);
    const total = [...ends.values()].reduce((a, b) => a + b, 0);
    assert.equal(total, RECORDS, 'the topic holds every produced record');

    // B alone finishes every partition (after the session timeout evicts A).
    const coveredAll = () => {
      const seen = new Map<number, Set<number>>();
      for (const d of [...readDelivered(files.A), ...readDelivered(files.B)]) {
        if (!seen.has(d.partition)) seen.set(d.partition, new Set());
        seen.get(d.partition)!.add(d.offset);
      }
      return [...ends].every(([p, end]) => (seen.get(p)?.size ?? 0) >= end);
    };
    await waitFor('every record delivered by A or B', coveredAll, 90_000, 500);
    const tookOverAfter = (() => {
      const firstB = readDelivered(files.B).find((d) => aParts.has(d.partition));
      return firstB ? firstB.at - killedAt : NaN;
    })();
    // B commits up to the end of every partition once its flow finished them.
    const committedEnd = await waitForCommitsAt(brokers, groupId, topic, ends);

    // The independent reader: what Kafka holds.
    const stored = await consoleConsume(brokers, topic, { expected: 'all', timeoutMs: 120_000 });
    assert.equal(stored.length, RECORDS);

    const a = readDelivered(files.A);
    const b = readDelivered(files.B);
    const byPosition = new Map<string, Delivered[]>();
    for (const d of [...a, ...b]) {
      const k = `${d.partition}/${d.offset}`;
      if (!byPosition.has(k)) byPosition.set(k, []);
      byPosition.get(k)!.push(d);
    }
    // Nothing lost, nothing altered.
    const lost = stored.filter((s) => !byPosition.has(`${s.partition}/${s.offset}`));
    assert.equal(lost.length, 0, `lost: ${JSON.stringify(lost.slice(0, 5))}`);
    const altered = stored.filter((s) => byPosition.get(`${s.partition}/${s.offset}`)!.some((d) => d.key !== s.key || d.value !== s.value || d.topic !== topic));
    assert.equal(altered.length, 0, `delivered with other key/value: ${JSON.stringify(altered.slice(0, 5))}`);
    const storedKeys = new Set(stored.map((s) => `${s.partition}/${s.offset}`));
    const unknown = [...byPosition.keys()].filter((k) => !storedKeys.has(k));
    assert.equal(unknown.length, 0, `delivered but not in Kafka: ${unknown.slice(0, 5)}`);

    // Redeliveries: only of records not committed at the kill. A's partitions: B starts at A's
    // committed offset, so exactly what A delivered past it comes again. B's own partitions:
    // B keeps them through the rebalance of A's eviction and reads on after its last msg sent,
    // so none of their records comes again.
    const committedBelow = (p: number) => Math.max(0, committedAtKill.get(p) ?? -1);
    const redelivered = [...byPosition.values()].filter((ds) => ds.length > 1).map((ds) => ds[0]);
    const belowCommit = redelivered.filter((d) => d.offset < committedBelow(d.partition));
    assert.equal(belowCommit.length, 0, `redelivered although committed at the kill: ${JSON.stringify(belowCommit.slice(0, 5))}; committed at kill ${JSON.stringify([...committedAtKill])}`);
    const redeliveredOf = (p: number) => redelivered.filter((d) => d.partition === p).length;
    for (const p of bParts) assert.equal(redeliveredOf(p), 0, `B's own partition ${p}: ${redeliveredOf(p)} redelivered (B kept it through the rebalance)`);
    // A never delivers a record twice (no rebalance in A while records flow).
    const aKeys = a.map((d) => `${d.partition}/${d.offset}`);
    assert.equal(new Set(aKeys).size, aKeys.length, 'A delivered a record twice');

    // Commits follow the flow: everything below A's committed offsets went through A's recorder.
    const aByPartition = new Map<number, Set<number>>();
    for (const d of a) {
      if (!aByPartition.has(d.partition)) aByPartition.set(d.partition, new Set());
      aByPartition.get(d.partition)!.add(d.offset);
    }
    for (const p of aParts) {
      const c = committedBelow(p);
      for (let o = 0; o < c; o++) assert.ok(aByPartition.get(p)?.has(o), `partition ${p}: offset ${o} committed (${c}) but never reached A's flow`);
    }

    // Order: per partition, each runtime's stream is increasing and contiguous: nothing steps back
    // or skips ahead. B resumes A's partitions at the offset committed at the kill.
    assert.deepEqual(orderBreaks(a), [], 'A: per-partition offsets contiguous and increasing');
    const bBreaks = orderBreaks(b);
    const skips = bBreaks.filter((x) => x.got > x.after + 1);
    assert.deepEqual(skips, [], 'B: no partition skips ahead');
    const stepsBack = bBreaks.filter((x) => x.got <= x.after);
    assert.deepEqual(stepsBack, [], 'B: no partition steps back');
    for (const p of aParts) {
      const firstB = b.find((d) => d.partition === p);
      assert.ok(firstB, `B took over partition ${p}`);
      assert.equal(firstB.offset, committedBelow(p), `B resumes partition ${p} at the offset committed at the kill`);
    }
    for (const p of bParts) assert.ok(!aByPartition.has(p), `A never delivered B's partition ${p}`);

    const aUncommitted = [...aParts].reduce((n, p) => n + [...(aByPartition.get(p) ?? [])].filter((o) => o >= committedBelow(p)).length, 0);
    const aRedelivered = [...aParts].reduce((n, p) => n + redeliveredOf(p), 0);
    t.diagnostic(
      `${RECORDS} records, ${PARTITIONS} partitions; A [${[...aParts].join(',')}] B [${[...bParts].join(',')}]; ` +
        `A SIGKILLed at ${((killedAt - t0) / 1000).toFixed(1)} s after ${a.length} deliveries (${producedAtKill} produced); ` +
        `committed at kill ${JSON.stringify(Object.fromEntries(committedAtKill))}; ` +
        `A delivered ${aUncommitted} records past its commits, ${aRedelivered} of A's partitions redelivered; ` +
        `${redelivered.length - aRedelivered} of B's own partitions redelivered (${stepsBack.length} steps back: ${JSON.stringify(stepsBack)}); B delivered ${b.length}; ` +
        `B's first record of A's partitions ${(tookOverAfter / 1000).toFixed(1)} s after the kill; final commits ${JSON.stringify(Object.fromEntries(committedEnd))}`,
    );
    assert.equal(aRedelivered, aUncommitted, "exactly the records A delivered past its commits are redelivered on A's partitions");
    assert.ok(B.alive(), 'B still running');
  });
});
