// A fix for kafkajs 2.2.4's consumer runner (the last release; the project is unmaintained),
// applied once when the consumer engine loads.
//
// The bug: when a broker goes away, kafkajs's FetchManager stops its per-broker fetchers and
// creates new ones ("Rebalancing fetchers..."). If consumer.disconnect() (a close or redeploy of
// the node, or our restart after a crash) stops the runner in that moment, the new fetchers are
// never stopped: each calls Runner.fetch, which returns [] at once because the runner is not
// running, and the fetcher loops. The loop only awaits settled promises, so it never yields to
// the event loop: the whole Node-RED process hangs at 100 % CPU (seen in the consumer chaos test:
// a deploy during a broker outage never answered). Other tight loops of this family were fixed
// upstream (kafkajs #1384, #1402); this one was not.
//
// The fix: Runner.fetch on a runner that is not running throws instead of returning []. The
// fetcher then ends, its FetchManager.start rejects, and the runner's retry finds the runner
// stopped and ends too, as it does after any stop.

/* eslint-disable @typescript-eslint/no-require-imports */

/** What a fetch of a stopped runner throws; ends the fetcher that asked. */
export class RunnerStoppedError extends Error {
  constructor() {
    super('the consumer is stopping: no more fetches');
    this.name = 'RunnerStoppedError';
  }
}

const FIXED: unique symbol = Symbol.for('streamsafe.kafkajs.runnerFetchStopped') as never;

interface RunnerPrototype {
  fetch(this: { running: boolean }, nodeId: number): Promise<unknown[]>;
  [FIXED]?: true;
}

/** The kafkajs Runner class the consumers use (for the fix and its test). */
export function kafkajsRunner(): { prototype: RunnerPrototype } {
  return require('kafkajs/src/consumer/runner') as { prototype: RunnerPrototype };
}

/** Applies the fix once per process; true when Runner.fetch is (now) guarded. */
export function fixKafkajsRunner(): boolean {
  const proto = kafkajsRunner().prototype;
  if (proto[FIXED]) return true;
  const original = proto.fetch;
  if (typeof original !== 'function') return false;
  proto.fetch = function (this: { running: boolean }, nodeId: number) {
    if (!this.running) return Promise.reject(new RunnerStoppedError());
    return original.call(this, nodeId);
  };
  proto[FIXED] = true;
  return true;
}
