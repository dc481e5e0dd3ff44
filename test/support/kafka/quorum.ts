// The KRaft controller quorum as Kafka's own MetadataQuorumCommand reports it: which node
// is the active controller (the quorum leader), which nodes vote and which only observe.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KafkaHandle } from './cluster';
import { javaRun } from './java';

export const METADATA_QUORUM_CLASS = 'org.apache.kafka.tools.MetadataQuorumCommand';

/** What `describe --status` says, by node id (not index); id lists sorted. */
export interface QuorumStatus {
  leaderId: number;
  leaderEpoch: number;
  highWatermark: number;
  voters: number[];
  observers: number[];
}

/** The parts of a handle the quorum helpers use. */
export type QuorumHandle = Pick<KafkaHandle, 'controllers' | 'controllerAddresses' | 'nodeIds' | 'isRunning'>;

export interface QuorumOptions {
  /** Give up after this long (default 60 s). */
  timeoutMs?: number;
}

function field(text: string, name: string): string {
  const m = new RegExp(`^${name}:[ \\t]*(.*)$`, 'm').exec(text);
  if (!m) throw new Error(`no ${name} in MetadataQuorumCommand output:\n${text}`);
  return m[1].trim();
}

function ids(json: string, name: string): number[] {
  let list: unknown;
  try {
    list = JSON.parse(json);
  } catch {
    throw new Error(`${name} is not JSON: ${json}`);
  }
  if (!Array.isArray(list)) throw new Error(`${name} is not a list: ${json}`);
  return list.map((entry: { id?: unknown }) => {
    if (typeof entry?.id !== 'number') throw new Error(`${name} entry without id: ${json}`);
    return entry.id;
  });
}

/** Parses the output of `MetadataQuorumCommand ... describe --status`. */
export function parseQuorumStatus(text: string): QuorumStatus {
  const num = (name: string): number => {
    const v = Number(field(text, name));
    if (!Number.isInteger(v)) throw new Error(`${name} is not a number in:\n${text}`);
    return v;
  };
  return {
    leaderId: num('LeaderId'),
    leaderEpoch: num('LeaderEpoch'),
    highWatermark: num('HighWatermark'),
    // Sorted: the tool prints observers in no fixed order.
    voters: ids(field(text, 'CurrentVoters'), 'CurrentVoters').sort((a, b) => a - b),
    observers: ids(field(text, 'CurrentObservers'), 'CurrentObservers').sort((a, b) => a - b),
  };
}

/**
 * Asks the running controllers (CONTROLLER listener, --bootstrap-controller) for the quorum
 * status. The command's admin client routes DescribeQuorum to the quorum leader, so the
 * answer is the leader's own view. One attempt; activeController retries.
 */
export async function describeQuorum(handle: QuorumHandle, opts: QuorumOptions = {}): Promise<QuorumStatus> {
  const running = handle.controllers
    .map((index, i) => ({ index, address: handle.controllerAddresses[i] }))
    .filter((c) => handle.isRunning(c.index));
  if (running.length === 0) throw new Error('no controller is running');
  const timeoutMs = opts.timeoutMs ?? 60_000;
  // Short admin timeouts: a controller that is mid-election or just killed should fail the
  // attempt quickly rather than hang for the client's default 60 s.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'streamsafe-quorum-'));
  try {
    const config = path.join(dir, 'admin.properties');
    fs.writeFileSync(config, 'request.timeout.ms=3000\ndefault.api.timeout.ms=5000\n');
    const out = await javaRun(
      METADATA_QUORUM_CLASS,
      ['--bootstrap-controller', running.map((c) => c.address).join(','), '--command-config', config, 'describe', '--status'],
      { timeoutMs, jvmArgs: ['-XX:TieredStopAtLevel=1'] },
    );
    return parseQuorumStatus(out.stdout);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Index (into handle.brokers) of the active controller, i.e. the KRaft quorum leader.
 * Retries until a running controller leads: right after the leader is killed the quorum
 * needs a few seconds (fetch + election timeouts) to elect another one.
 */
export async function activeController(handle: QuorumHandle, opts: QuorumOptions = {}): Promise<number> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`no active controller within ${timeoutMs} ms (${last})`);
    try {
      // Each attempt gets at least 10 s: a JVM start alone takes seconds on 2 busy cores.
      const status = await describeQuorum(handle, { timeoutMs: Math.max(10_000, Math.min(left, 30_000)) });
      const index = handle.nodeIds.indexOf(status.leaderId);
      if (index >= 0 && handle.controllers.includes(index) && handle.isRunning(index)) return index;
      last = `LeaderId ${status.leaderId} (epoch ${status.leaderEpoch}) is not a running controller`;
    } catch (err) {
      last = (err as Error).message.split('\n').slice(-3).join(' | ');
    }
    await sleep(500);
  }
}
