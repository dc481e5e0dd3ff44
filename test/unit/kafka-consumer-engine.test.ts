// The consumer engine against a stand-in for kafkajs (no broker): backpressure holds the limit,
// sending resumes promptly when the flow finished msgs while a heartbeat or commit was awaited
// (a missed wake once slept a second per commit), and commits follow the finished msgs.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { KafkaConsumerEngine, type ConsumerTimings } from '../../src/lib/kafka/consumer/consumer';
import { TOKEN_PROPERTY } from '../../src/lib/kafka/consumer/finish-registry';
import { consumerSettingsFrom } from '../../src/lib/kafka/consumer/settings';

const EVENTS = { GROUP_JOIN: 'join', REBALANCING: 'rebal', CRASH: 'crash', CONNECT: 'connect', DISCONNECT: 'disconnect' };

/** A kafkajs stand-in: one partition of `count` records, handed over in batches of `batchSize`. */
function fakeKafka(count: number, batchSize: number, heartbeatMs: number) {
  const commits: Array<Array<{ topic: string; partition: number; offset: string }>> = [];
  const control: {
    failCommits: boolean;
    /** commits answer late, and fail (kafkajs asking a coordinator that moved) */
    commitsHang: boolean;
    heartbeat?: () => Promise<void>;
    heartbeats: number;
    /** what eachBatch threw, and when */
    batchError?: { error: Error; at: number };
  } = { failCommits: false, commitsHang: false, heartbeats: 0 };
  const listeners = new Map<string, (e: unknown) => void>();
  let running = true;
  const consumer = {
    events: EVENTS,
    on: (ev: string, fn: (e: unknown) => void) => void listeners.set(ev, fn),
    connect: async () => {},
    subscribe: async () => {},
    disconnect: async () => {
      running = false;
    },
    pause: () => {},
    resume: () => {},
    seek: () => {},
    commitOffsets: async (c: Array<{ topic: string; partition: number; offset: string }>) => {
      await sleep(5);
      if (control.commitsHang) {
        await sleep(3000);
        throw new Error('This is not the correct coordinator for this group');
      }
      if (control.failCommits) throw new Error('The coordinator is not available');
      commits.push(c);
    },
    run: async ({ eachBatch }: { eachBatch: (p: unknown) => Promise<void> }) => {
      listeners.get('join')?.({ payload: { memberAssignment: { t: [0] } } });
      void (async () => {
        let next = 0;
        while (running && next < count) {
          const messages = Array.from({ length: Math.min(batchSize, count - next) }, (_, i) => ({ offset: String(next + i), timestamp: '0', key: null, value: Buffer.from('v'), headers: {} }));
          let resolved = next - 1;
          try {
            await eachBatch({
              batch: { topic: 't', partition: 0, messages },
              resolveOffset: (o: string) => (resolved = Number(o)),
              heartbeat: () => {
                control.heartbeats++;
                return control.heartbeat ? control.heartbeat() : sleep(heartbeatMs);
              },
              isRunning: () => running,
              isStale: () => false,
            });
          } catch (e) {
            control.batchError = { error: e as Error, at: Date.now() };
            return;
          }
          next = resolved + 1;
        }
      })();
    },
  };
  const admin = {
    connect: async () => {},
    disconnect: async () => {},
    fetchOffsets: async () => [{ topic: 't', partitions: [{ partition: 0, offset: '-1' }] }],
    fetchTopicOffsets: async () => [{ partition: 0, offset: String(count), high: String(count), low: '0' }],
  };
  return { kafka: { consumer: () => consumer, admin: () => admin } as never, commits, control };
}

const timings: ConsumerTimings = { commitIntervalMs: 10, lagIntervalMs: 60000, restartMinMs: 100, restartMaxMs: 1000, closeMaxMs: 2000 };

describe('KafkaConsumerEngine (stand-in kafkajs)', () => {
  it('holds maxOutstanding, resumes promptly after finishes during a heartbeat, commits to the end', async () => {
    const { kafka, commits } = fakeKafka(200, 50, 20);
    const settings = consumerSettingsFrom({ broker: 'b', topics: 't', groupId: 'g', maxOutstanding: '10' });
    let outstanding = 0;
    let maxSeen = 0;
    let sent = 0;
    const engine: KafkaConsumerEngine = new KafkaConsumerEngine(kafka, settings, 'n1', {
      deliver: (m) => {
        sent++;
        maxSeen = Math.max(maxSeen, ++outstanding);
        // The flow finishes each msg on the next turn of the event loop (as Node-RED delivers).
        setImmediate(() => {
          outstanding--;
          assert.equal(engine.finish(m[TOKEN_PROPERTY]!, 'commitNode'), 'ok');
        });
      },
    }, timings);
    const started = Date.now();
    engine.start();
    while (sent < 200 && Date.now() - started < 20000) await sleep(10);
    const took = Date.now() - started;
    assert.equal(sent, 200);
    assert.ok(maxSeen <= 10, `at most 10 outstanding (saw ${maxSeen})`);
    // 20 waits at the limit of about one 20 ms heartbeat each; a missed wake costs a second per wait.
    assert.ok(took < 3000, `200 msgs in ${took} ms`);
    await sleep(100);
    await engine.commitNow();
    assert.equal(commits.flat().at(-1)?.offset, '200');
    await engine.close();
  });

  it('commits only up to the first unfinished msg', async () => {
    const { kafka, commits } = fakeKafka(20, 20, 1);
    const settings = consumerSettingsFrom({ broker: 'b', topics: 't', groupId: 'g' });
    const got: Array<{ [TOKEN_PROPERTY]?: unknown; offset: string }> = [];
    const engine = new KafkaConsumerEngine(kafka, settings, 'n2', { deliver: (m) => void got.push(m) }, timings);
    engine.start();
    while (got.length < 20) await sleep(5);
    for (const m of got) if (m.offset !== '7') engine.finish(m[TOKEN_PROPERTY] as never, 'commitNode');
    await engine.commitNow();
    assert.equal(commits.flat().at(-1)?.offset, '7');
    assert.equal(engine.finish(got[7][TOKEN_PROPERTY] as never, 'producerAck'), 'ignored', 'finishOn commitNode: a producer ack does not finish');
    engine.finish(got[7][TOKEN_PROPERTY] as never, 'commitNode');
    await engine.commitNow();
    assert.equal(commits.flat().at(-1)?.offset, '20');
    await engine.close();
  });

  it('says commits are failing from the first failure until one succeeds', async () => {
    const { kafka, commits, control } = fakeKafka(10, 10, 1);
    const settings = consumerSettingsFrom({ broker: 'b', topics: 't', groupId: 'g' });
    const got: Array<{ [TOKEN_PROPERTY]?: unknown }> = [];
    const problems: string[] = [];
    const engine = new KafkaConsumerEngine(kafka, settings, 'n3', { deliver: (m) => void got.push(m), onProblem: (kind) => void problems.push(kind) }, timings);
    engine.start();
    while (got.length < 10) await sleep(5);
    control.failCommits = true;
    for (const m of got.slice(0, 5)) engine.finish(m[TOKEN_PROPERTY] as never, 'commitNode');
    await assert.rejects(engine.commitNow(), /coordinator/);
    const failing = engine.snapshot().commitFailing;
    assert.match(failing?.reason ?? '', /coordinator is not available/);
    assert.ok(problems.includes('commit'));
    await assert.rejects(engine.commitNow());
    assert.equal(engine.snapshot().commitFailing?.since, failing?.since, 'since the first failure');
    control.failCommits = false;
    await engine.commitNow();
    assert.equal(commits.flat().at(-1)?.offset, '5');
    assert.equal(engine.snapshot().commitFailing, undefined);
    await engine.close();
  });

  it('a heartbeat answered NOT_COORDINATOR goes to kafkajs at once: no wait for a commit that cannot succeed', async () => {
    const { kafka, control } = fakeKafka(1000, 1000, 1);
    const settings = consumerSettingsFrom({ broker: 'b', topics: 't', groupId: 'g' });
    const got: Array<{ [TOKEN_PROPERTY]?: unknown }> = [];
    const engine = new KafkaConsumerEngine(kafka, settings, 'n4', { deliver: (m) => void got.push(m) }, timings);
    control.commitsHang = true;
    let asked = 0;
    control.heartbeat = async () => {
      // The first heartbeat (at the limit of 100 outstanding) finishes them and says the coordinator moved.
      if (asked++ === 0) for (const m of got) engine.finish(m[TOKEN_PROPERTY] as never, 'commitNode');
      throw Object.assign(new Error('This is not the correct coordinator for this group'), { type: 'NOT_COORDINATOR_FOR_GROUP' });
    };
    const started = Date.now();
    engine.start();
    while (!control.batchError && Date.now() - started < 5000) await sleep(5);
    assert.equal(control.batchError?.error.message, 'This is not the correct coordinator for this group');
    assert.ok(control.batchError!.at - started < 500, `rethrown after ${control.batchError!.at - started} ms`);
    assert.equal(got.length, 100, 'the batch stopped at the heartbeat');
    await engine.close().catch(() => {});
  });

  it('a heartbeat failing with the coordinator away pauses our own heartbeats for an interval; msgs keep flowing', async () => {
    const { kafka, control } = fakeKafka(5000, 5000, 1);
    const settings = consumerSettingsFrom({ broker: 'b', topics: 't', groupId: 'g', heartbeatIntervalMs: '3000', maxOutstanding: '10000' });
    let sent = 0;
    const engine = new KafkaConsumerEngine(kafka, settings, 'n5', { deliver: () => void sent++ }, timings);
    control.heartbeat = async () => {
      throw new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9092');
    };
    engine.start();
    const started = Date.now();
    while (sent < 5000 && Date.now() - started < 5000) await sleep(5);
    assert.equal(sent, 5000);
    assert.equal(control.batchError, undefined, 'the batch went on');
    // 25 chances (every 200 msgs and at the end); one tried, the rest within the quiet interval.
    assert.equal(control.heartbeats, 1);
    await engine.close().catch(() => {});
  });
});
