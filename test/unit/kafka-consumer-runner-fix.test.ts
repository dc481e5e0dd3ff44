// The kafkajs 2.2.4 runner fixes (kafkajs-runner-fix.ts). A consumer stopped while its fetchers
// are rebuilt hangs the process: the race runs in a child process with kafkajs's own
// FetchManager; without the fix it spins (killed after a bound), with it the fetch manager ends
// and timers fire. A heartbeat that cannot reach the coordinator no longer stops the fetchers:
// the coordinator is looked up again; answers of a coordinator still throw.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { RunnerStoppedError, coordinatorUnreachable, fixKafkajsRunner, kafkajsRunner } from '../../src/lib/kafka/consumer/kafkajs-runner-fix';

const script = path.join(__dirname, '..', 'support', 'kafkajs-fetcher-race.ts');
const race = (fix: boolean) =>
  spawnSync(process.execPath, ['--import', 'tsx', script, ...(fix ? ['--fix'] : [])], { encoding: 'utf8', timeout: 5000, killSignal: 'SIGKILL' });

describe('kafkajs runner fix', () => {
  it('without it, a runner stopped while the fetchers are rebuilt spins: no timer fires, the process must be killed', () => {
    const r = race(false);
    assert.equal(r.signal, 'SIGKILL', `exited by itself: ${r.status} ${r.stdout}`);
    assert.doesNotMatch(r.stdout, /timer|ended/);
  });

  it('with it, the fetch manager ends (RunnerStoppedError) and the event loop goes on', () => {
    const r = race(true);
    assert.equal(r.signal, null, 'not killed');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /ended: RunnerStoppedError/);
    assert.match(r.stdout, /timer/);
  });

  it('is applied once; a running runner fetches as before', async () => {
    assert.equal(fixKafkajsRunner(), true);
    const fetch = kafkajsRunner().prototype.fetch;
    assert.equal(fixKafkajsRunner(), true);
    assert.equal(kafkajsRunner().prototype.fetch, fetch, 'not wrapped twice');
    await assert.rejects(fetch.call({ running: false } as never, 1), RunnerStoppedError);
    const asked: number[] = [];
    const running = {
      running: true,
      logger: { debug() {} },
      instrumentationEmitter: { emit() {} },
      consumerGroup: { fetch: async (n: number) => (asked.push(n), ['batch']) },
      heartbeat: async () => {},
    };
    assert.deepEqual(await fetch.call(running as never, 3), ['batch']);
    assert.deepEqual(asked, [3]);
  });

  it('a heartbeat that cannot reach the coordinator resolves, looks the coordinator up again once, and is due again after an interval', async () => {
    fixKafkajsRunner();
    const heartbeat = kafkajsRunner().prototype.heartbeat;
    const lost = Object.assign(new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9092'), { name: 'KafkaJSConnectionError', code: 'ECONNREFUSED' });
    let lookups = 0;
    const next = { nodeId: 2 };
    const group = {
      groupId: 'g',
      lastRequest: 0,
      coordinator: { nodeId: 1 },
      offsetManager: { coordinator: { nodeId: 1 } },
      heartbeat: async () => {
        throw lost;
      },
      cluster: {
        findGroupCoordinator: async () => {
          lookups++;
          await new Promise((r) => setTimeout(r, 20));
          return next;
        },
      },
    };
    const debug: string[] = [];
    const runner = { running: true, consumerGroup: group, heartbeatInterval: 3000, logger: { debug: (m: string) => void debug.push(m) }, autoCommitOffsets: async () => {} };
    const before = Date.now();
    await heartbeat.call(runner as never);
    await heartbeat.call(runner as never);
    assert.ok(group.lastRequest >= before, 'next heartbeat due after an interval');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(lookups, 1, 'one lookup at a time');
    assert.equal(group.coordinator, next);
    assert.equal(group.offsetManager.coordinator, next, 'commits go to the new coordinator too');
    assert.match(debug[0], /could not reach the group coordinator/);
  });

  it('a coordinator answer (rebalance, unknown member) and other errors still throw', async () => {
    fixKafkajsRunner();
    const heartbeat = kafkajsRunner().prototype.heartbeat;
    for (const err of [
      Object.assign(new Error('The group is rebalancing'), { name: 'KafkaJSProtocolError', type: 'REBALANCE_IN_PROGRESS' }),
      Object.assign(new Error('This is not the correct coordinator'), { name: 'KafkaJSProtocolError', type: 'NOT_COORDINATOR_FOR_GROUP' }),
      Object.assign(new Error('The coordinator is not aware of this member'), { name: 'KafkaJSProtocolError', type: 'UNKNOWN_MEMBER_ID' }),
      new TypeError('a bug'),
    ]) {
      const runner = {
        running: true,
        heartbeatInterval: 3000,
        logger: { debug() {} },
        autoCommitOffsets: async () => {},
        consumerGroup: { groupId: 'g', lastRequest: 0, heartbeat: async () => Promise.reject(err), cluster: { findGroupCoordinator: async () => assert.fail('no lookup') } },
      };
      await assert.rejects(heartbeat.call(runner as never), err);
    }
    assert.equal(coordinatorUnreachable({ name: 'KafkaJSNumberOfRetriesExceeded', originalError: { name: 'KafkaJSConnectionError' } }), true);
    assert.equal(coordinatorUnreachable({ name: 'KafkaJSProtocolError', type: 'COORDINATOR_LOAD_IN_PROGRESS' }), true);
  });
});
