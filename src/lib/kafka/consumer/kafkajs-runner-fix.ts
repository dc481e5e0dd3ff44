// Two fixes for kafkajs 2.2.4's consumer runner (the last release; the project is unmaintained),
// applied once when the consumer engine loads. Both were found by the consumer chaos and
// broker-loss tests; each has a unit test on kafkajs's own code.
//
// 1. A stopped runner's fetch. When a broker goes away, kafkajs's FetchManager stops its
//    per-broker fetchers and creates new ones ("Rebalancing fetchers..."). If
//    consumer.disconnect() (a close or redeploy of the node, or our restart after a crash) stops
//    the runner in that moment, the new fetchers are never stopped: each calls Runner.fetch,
//    which returns [] at once because the runner is not running, and the fetcher loops. The loop
//    only awaits settled promises, so it never yields to the event loop: the whole Node-RED
//    process hangs at 100 % CPU (a deploy during a broker outage never answered). Other tight
//    loops of this family were fixed upstream (kafkajs #1384, #1402); this one was not.
//    Fix: Runner.fetch on a runner that is not running throws instead of returning []. The
//    fetcher then ends, its FetchManager.start rejects, and the runner's retry finds the runner
//    stopped and ends too, as it does after any stop.
//
// 2. A heartbeat that cannot reach the group coordinator. kafkajs heartbeats from inside the
//    fetch loop (after an empty fetch, and between batches); when the coordinator's broker is
//    gone the heartbeat throws a connection error, which stops every fetcher, and kafkajs keeps
//    asking the same dead broker (it looks the coordinator up again only when it rejoins the
//    group): no record reached the flow while the coordinator was down (0 in 10 s, with data
//    waiting on the brokers that were up), although only the coordinator was lost.
//    Fix, as the Java client does (the coordinator is marked unknown and looked up again while
//    fetching goes on): such a heartbeat failure no longer stops the fetchers; the coordinator is
//    looked up again in the background (for heartbeats and commits), and the next heartbeat is
//    due after a heartbeat interval. Rebalance answers (REBALANCE_IN_PROGRESS, NOT_COORDINATOR,
//    UNKNOWN_MEMBER_ID, ...) still throw, so kafkajs rejoins as before.

/* eslint-disable @typescript-eslint/no-require-imports */

/** What a fetch of a stopped runner throws; ends the fetcher that asked. */
export class RunnerStoppedError extends Error {
  constructor() {
    super('the consumer is stopping: no more fetches');
    this.name = 'RunnerStoppedError';
  }
}

const FIXED: unique symbol = Symbol.for('streamsafe.kafkajs.runnerFixes') as never;
const FINDING: unique symbol = Symbol.for('streamsafe.kafkajs.findingCoordinator') as never;

interface GroupLike {
  groupId: string;
  lastRequest: number;
  coordinator: unknown;
  offsetManager?: { coordinator: unknown } | null;
  cluster: { findGroupCoordinator(o: { groupId: string }): Promise<unknown> };
  [FINDING]?: Promise<void>;
}

interface RunnerLike {
  running: boolean;
  consumerGroup: GroupLike;
  logger: { debug(message: string, extra?: object): void };
}

interface RunnerPrototype {
  fetch(this: RunnerLike, nodeId: number): Promise<unknown[]>;
  heartbeat(this: RunnerLike): Promise<void>;
  [FIXED]?: true;
}

/** The kafkajs Runner class the consumers use (for the fixes and their tests). */
export function kafkajsRunner(): { prototype: RunnerPrototype } {
  return require('kafkajs/src/consumer/runner') as { prototype: RunnerPrototype };
}

/** Errors that say the coordinator's broker cannot be reached (not an answer from a coordinator). */
export function coordinatorUnreachable(e: unknown): boolean {
  const err = e as { name?: string; type?: string; originalError?: unknown } | undefined;
  if (!err) return false;
  if (err.name === 'KafkaJSNumberOfRetriesExceeded' && err.originalError) return coordinatorUnreachable(err.originalError);
  return (
    err.name === 'KafkaJSConnectionError' ||
    err.name === 'KafkaJSConnectionClosedError' ||
    err.name === 'KafkaJSRequestTimeoutError' ||
    err.name === 'KafkaJSBrokerNotFound' ||
    err.type === 'COORDINATOR_NOT_AVAILABLE' ||
    err.type === 'GROUP_COORDINATOR_NOT_AVAILABLE' ||
    err.type === 'COORDINATOR_LOAD_IN_PROGRESS'
  );
}

/** Looks the group's coordinator up again, once at a time, for heartbeats and commits. */
function findCoordinatorAgain(group: GroupLike, logger: RunnerLike['logger']): void {
  if (group[FINDING]) return;
  group[FINDING] = group.cluster
    .findGroupCoordinator({ groupId: group.groupId })
    .then((coordinator) => {
      group.coordinator = coordinator;
      if (group.offsetManager) group.offsetManager.coordinator = coordinator;
    })
    .catch((e: Error) => logger.debug(`Group coordinator still not found: ${e.message}`))
    .finally(() => {
      group[FINDING] = undefined;
    });
}

/** Applies the fixes once per process; true when Runner.fetch and Runner.heartbeat are (now) fixed. */
export function fixKafkajsRunner(): boolean {
  const proto = kafkajsRunner().prototype;
  if (proto[FIXED]) return true;
  const fetch = proto.fetch;
  const heartbeat = proto.heartbeat;
  if (typeof fetch !== 'function' || typeof heartbeat !== 'function') return false;
  proto.fetch = function (nodeId) {
    if (!this.running) return Promise.reject(new RunnerStoppedError());
    return fetch.call(this, nodeId);
  };
  proto.heartbeat = async function () {
    try {
      await heartbeat.call(this);
    } catch (e) {
      if (!coordinatorUnreachable(e)) throw e;
      const group = this.consumerGroup;
      // kafkajs moves lastRequest only after a heartbeat that succeeded: without this every
      // call would dial the lost broker again.
      group.lastRequest = Date.now();
      this.logger.debug(`Heartbeat could not reach the group coordinator, looking it up again: ${(e as Error).message}`);
      findCoordinatorAgain(group, this.logger);
    }
  };
  proto[FIXED] = true;
  return true;
}
