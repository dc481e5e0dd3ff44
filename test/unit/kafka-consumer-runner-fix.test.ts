// kafkajs 2.2.4 hangs the process when a consumer stops while its fetchers are rebuilt
// (kafkajs-runner-fix.ts). The race runs in a child process with kafkajs's own FetchManager:
// without the fix it spins (killed after a bound), with it the fetch manager ends and timers fire.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { RunnerStoppedError, fixKafkajsRunner, kafkajsRunner } from '../../src/lib/kafka/consumer/kafkajs-runner-fix';

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
});
