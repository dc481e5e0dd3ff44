// Run as its own process (a hang must not take the test runner with it):
//   node --import tsx test/support/kafkajs-fetcher-race.ts [--fix]
// kafkajs 2.2.4's real FetchManager and Runner.fetch, with a stand-in consumer group: a broker
// leaves the metadata (the fetchers are rebuilt) and the runner is stopped in that moment, as
// consumer.disconnect() does. Prints "ended: <error name>" once FetchManager.start settles, and
// "timer" when a 50 ms timer fired; without the fix the process spins and prints nothing.
/* eslint-disable @typescript-eslint/no-require-imports */
import { setTimeout as sleep } from 'node:timers/promises';
import { fixKafkajsRunner, kafkajsRunner } from '../../src/lib/kafka/consumer/kafkajs-runner-fix';

if (process.argv.includes('--fix')) fixKafkajsRunner();
const createFetchManager = require('kafkajs/src/consumer/fetchManager') as (o: Record<string, unknown>) => { start(): Promise<void> };
const silent = { debug() {}, info() {}, warn() {}, error() {}, namespace: () => silent };

let nodeIds = [1, 2];
const runner = {
  running: true,
  logger: silent,
  instrumentationEmitter: { emit() {} },
  consumerGroup: {
    // Broker 2's fetch fails as when it went away; broker 1's long poll takes a while.
    fetch: async (nodeId: number) => {
      await sleep(nodeId === 2 ? 10 : 100);
      if (nodeId === 2) {
        nodeIds = [1];
        return [];
      }
      return [];
    },
  },
  heartbeat: async () => {},
  fetch: kafkajsRunner().prototype.fetch as unknown as (nodeId: number) => Promise<unknown[]>,
};
const manager = createFetchManager({
  logger: silent,
  getNodeIds: () => nodeIds,
  fetch: (nodeId: number) => runner.fetch(nodeId),
  handler: async () => {},
  concurrency: 1,
});
// The fetchers are rebuilt after broker 2 left; the runner stops while broker 1's fetch is out.
setTimeout(() => (runner.running = false), 50);
setTimeout(() => console.log('timer'), 300);
manager.start().then(
  () => console.log('ended: none'),
  (e: Error) => console.log(`ended: ${e.name}`),
);
