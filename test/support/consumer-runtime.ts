// Support for the consumer proof tests: real `node-red` processes that can be SIGKILLed
// and sampled (pid, VmRSS), flows that record every msg to a file before it reaches the
// commit node, and independent looks at Kafka (committed offsets, group members and
// their assignments, the broker log's group generations).
//
// node-red-process.ts hides the child process (no pid, no SIGKILL, stop() removes the user
// dir); the consumer tests need all three, so this file spawns node-red itself with the
// same user dir (scripts/node-red-userdir.js: this repo linked as the package).
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AssignerProtocol, CompressionTypes, Kafka, logLevel, type Producer } from 'kafkajs';
import { readCluster } from './kafka/admin';
import type { ConsoleRecord } from './kafka/console-consumer';
import { freePort } from './kafka/ports';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { prepareUserDir } = require('../../scripts/node-red-userdir');

export interface Runtime {
  name: string;
  pid: number;
  url: string;
  userDir: string;
  child: ChildProcess;
  log(): string;
  /** Resident set size of the node-red process in KiB (/proc/<pid>/status VmRSS); undefined once it exited. */
  rssKb(): number | undefined;
  /** SIGKILL: no close handlers, no LeaveGroup, no last commit. Resolves once the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM (flows close), then SIGKILL after 15 s; keeps the user dir unless removeDir. */
  stop(opts?: { removeDir?: boolean }): Promise<void>;
  alive(): boolean;
  /** GET on the admin API; the HTTP status (0 when the runtime does not answer). */
  get(pathname: string): Promise<{ status: number; body: string }>;
  /** Triggers an inject node through the admin API (POST /inject/:id). */
  inject(id: string): Promise<number>;
  /** Full deploy of `flows` through the admin API (POST /flows); resolves with the HTTP status. */
  deploy(flows: unknown[]): Promise<number>;
}

const started = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/**
 * Gives every flow node (one with a `z`) an x and y: Node-RED treats a node without them as a
 * config node of its tab (created first, and checked for references to other config nodes).
 */
export function placed(flows: unknown[]): unknown[] {
  let i = 0;
  return flows.map((n) => {
    const node = n as Record<string, unknown>;
    if (node && typeof node === 'object' && node.z && node.x === undefined) return { ...node, x: 200 + 200 * (i % 4), y: 60 + 60 * Math.floor(i++ / 4) };
    return node;
  });
}

/** Starts `node-red` with `flows` in a fresh user dir; resolves after "Started flows". */
export async function startRuntime(name: string, flows: unknown[], opts: { timeoutMs?: number } = {}): Promise<Runtime> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  flows = placed(flows);
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), `streamsafe-consumer-${name}-`));
  const port = await freePort();
  const settings = prepareUserDir(userDir, { flows, port, logLevel: process.env.STREAMSAFE_RUNTIME_LOG_LEVEL ?? 'info' });
  let output = '';
  const child = spawn(process.execPath, [require.resolve('node-red/red.js'), '--userDir', userDir, '--settings', settings], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.add(child);
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`node-red ${name} exited (${child.exitCode}):\n${output}`);
    if (/Started flows/.test(output)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`node-red ${name} did not start in ${timeoutMs} ms:\n${output}`);
    }
    await sleep(100);
  }
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    name,
    pid: child.pid!,
    url,
    userDir,
    child,
    log: () => output,
    alive,
    rssKb: () => {
      try {
        const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        return m ? Number(m[1]) : undefined;
      } catch {
        return undefined;
      }
    },
    kill: async () => {
      if (alive()) child.kill('SIGKILL');
      await exited;
      started.delete(child);
    },
    stop: async ({ removeDir = false } = {}) => {
      if (alive()) {
        child.kill('SIGTERM');
        await Promise.race([exited, sleep(15_000)]);
        if (alive()) child.kill('SIGKILL');
        await exited;
      }
      started.delete(child);
      if (removeDir) fs.rmSync(userDir, { recursive: true, force: true });
    },
    get: async (pathname) => {
      try {
        const res = await fetch(url + pathname, { signal: AbortSignal.timeout(5000) });
        return { status: res.status, body: await res.text() };
      } catch {
        return { status: 0, body: '' };
      }
    },
    deploy: async (flows) => {
      const res = await fetch(`${url}/flows`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
        body: JSON.stringify(placed(flows)),
        signal: AbortSignal.timeout(30_000),
      });
      return res.status;
    },
    inject: async (id) => {
      const res = await fetch(`${url}/inject/${id}`, { method: 'POST', signal: AbortSignal.timeout(5000) });
      return res.status;
    },
  };
}

// ---- flow pieces ---------------------------------------------------------------------

/** Field separator of the record files (never in test keys or values). */
const SEP = '\u001f';

/**
 * A function node that appends one line per msg to `file` (synchronously, so a line is on
 * disk before the msg goes on: a msg that reached the commit node was recorded, even if the
 * process is SIGKILLed right after) and passes the msg on unchanged.
 */
export function recorderNode(id: string, z: string, file: string, wires: string[][]): Record<string, unknown> {
  const func = [
    `const k = msg.key == null ? '\\u0015null' : Buffer.isBuffer(msg.key) ? msg.key.toString('utf8') : String(msg.key);`,
    `const v = msg.payload == null ? '\\u0015null' : Buffer.isBuffer(msg.payload) ? msg.payload.toString('utf8') : typeof msg.payload === 'string' ? msg.payload : JSON.stringify(msg.payload);`,
    `fs.appendFileSync(${JSON.stringify(file)}, [msg.topic, msg.partition, msg.offset, k, v, Date.now()].join(${JSON.stringify(SEP)}) + '\\n');`,
    `return msg;`,
  ].join('\n');
  return { id, type: 'function', z, name: 'record', func, outputs: 1, libs: [{ var: 'fs', module: 'fs' }], wires };
}

/** A status node scoped to `scope` whose function appends `<time> <source id> <fill> <shape> <text>` lines to `file`. */
export function statusRecorderNodes(id: string, z: string, scope: string[], file: string): Record<string, unknown>[] {
  const func = `fs.appendFileSync(${JSON.stringify(file)}, JSON.stringify({ t: Date.now(), id: msg.status.source && msg.status.source.id, fill: msg.status.fill, shape: msg.status.shape, text: msg.status.text }) + '\\n'); return null;`;
  return [
    { id, type: 'status', z, scope, wires: [[`${id}-w`]] },
    { id: `${id}-w`, type: 'function', z, name: 'status to file', func, outputs: 1, libs: [{ var: 'fs', module: 'fs' }], wires: [] },
  ];
}

/** A catch node scoped to `scope` whose function appends the error (name, message, source) to `file`. */
export function catchRecorderNodes(id: string, z: string, scope: string[], file: string): Record<string, unknown>[] {
  const func = `const e = msg.error || {}; fs.appendFileSync(${JSON.stringify(file)}, JSON.stringify({ t: Date.now(), id: e.source && e.source.id, name: e.name, message: e.message, code: e.code, action: msg.action, payload: typeof msg.payload === 'object' ? msg.payload : String(msg.payload) }) + '\\n'); return null;`;
  return [
    { id, type: 'catch', z, scope, uncaught: false, wires: [[`${id}-w`]] },
    { id: `${id}-w`, type: 'function', z, name: 'error to file', func, outputs: 1, libs: [{ var: 'fs', module: 'fs' }], wires: [] },
  ];
}

export function brokerConfigNode(id: string, brokers: string[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, type: 'streamsafe-kafka-broker', z: '', brokers: brokers.join(','), clientId: `consumer-test-${id}`, saslMechanism: 'none', ...extra };
}

export interface ConsumerFlowOptions {
  brokers: string[];
  topics: string;
  groupId: string;
  recordFile: string;
  statusFile?: string;
  errorFile?: string;
  consumer?: Record<string, unknown>;
  /** nodes between the recorder and the commit node (ids: first gets the recorder's output, last must wire to 'commit') */
  between?: Record<string, unknown>[];
}

/**
 * broker config (b1) → consumer (c1) → recorder (rec) → [between…] → commit (commit),
 * plus status and catch recorders scoped to c1 when files are given.
 */
export function consumerFlow(o: ConsumerFlowOptions): Record<string, unknown>[] {
  const z = 'tab';
  const between = o.between ?? [];
  const afterRec = between.length ? (between[0].id as string) : 'commit';
  return [
    { id: z, type: 'tab', label: 'consumer test' },
    // Note: Node-RED wires Status and Catch nodes once every node exists, so a status or error
    // raised in a node's constructor never reaches them (watchEditorStatus sees the status).
    ...(o.statusFile ? statusRecorderNodes('st', z, ['c1'], o.statusFile) : []),
    ...(o.errorFile ? catchRecorderNodes('ca', z, ['c1'], o.errorFile) : []),
    brokerConfigNode('b1', o.brokers),
    {
      id: 'c1',
      type: 'streamsafe-kafka-consumer',
      z,
      name: '',
      broker: 'b1',
      topics: o.topics,
      topicsType: 'list',
      groupId: o.groupId,
      start: 'earliest',
      payloadFormat: 'text',
      keyFormat: 'text',
      headersFormat: 'text',
      maxOutstanding: 100,
      commitMode: 'atLeastOnce',
      finishOn: 'commitNode',
      ...o.consumer,
      wires: [['rec']],
    },
    recorderNode('rec', z, o.recordFile, [[afterRec]]),
    ...between.map((n) => ({ z, ...n })),
    { id: 'commit', type: 'streamsafe-kafka-commit', z, name: '', wires: [] },
  ];
}

// ---- reading what the flows wrote ------------------------------------------------------

export interface Delivered {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  value: string | null;
  at: number;
}

/** The records a recorder node wrote, in the order it saw them. A torn last line (SIGKILL mid-write) is left out. */
export function readDelivered(file: string): Delivered[] {
  if (!fs.existsSync(file)) return [];
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  lines.pop(); // '' after the last newline, or a torn line
  return lines.map((line) => {
    const [topic, partition, offset, key, value, at] = line.split(SEP);
    const text = (s: string) => (s === '\u0015null' ? null : s);
    return { topic, partition: Number(partition), offset: Number(offset), key: text(key), value: text(value), at: Number(at) };
  });
}

export function countLines(file: string): number {
  if (!fs.existsSync(file)) return 0;
  const buf = fs.readFileSync(file);
  let n = 0;
  for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) n++;
  return n;
}

export function readJsonLines<T = any>(file: string): T[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as T);
}

/** Per partition: is the delivered offset sequence contiguous and increasing? Returns the breaks found. */
export function orderBreaks(delivered: Delivered[]): Array<{ partition: number; after: number; got: number }> {
  const last = new Map<number, number>();
  const breaks: Array<{ partition: number; after: number; got: number }> = [];
  for (const d of delivered) {
    const prev = last.get(d.partition);
    if (prev !== undefined && d.offset !== prev + 1) breaks.push({ partition: d.partition, after: prev, got: d.offset });
    last.set(d.partition, d.offset);
  }
  return breaks;
}

/** What the flows saw against what Kafka holds (read by Kafka's own consumer). */
export interface DeliveryCheck {
  /** stored records no flow saw */
  lost: ConsoleRecord[];
  /** stored records a flow saw with another key or value */
  altered: ConsoleRecord[];
  /** deliveries beyond the first of a record */
  redelivered: number;
  /** per partition, a delivery past the next offset (a record skipped) */
  skips: Array<{ partition: number; after: number; got: number }>;
  /** per partition, a delivery of an earlier offset (a redelivery from a committed offset) */
  stepsBack: number;
}

export function checkDelivered(stored: ConsoleRecord[], delivered: Delivered[]): DeliveryCheck {
  const byPos = new Map(delivered.map((d) => [`${d.partition}/${d.offset}`, d]));
  const lost = stored.filter((s) => !byPos.has(`${s.partition}/${s.offset}`));
  const altered = stored.filter((s) => {
    const d = byPos.get(`${s.partition}/${s.offset}`);
    return d && (d.key !== s.key || d.value !== s.value);
  });
  const breaks = orderBreaks(delivered);
  const skips = breaks.filter((b) => b.got > b.after + 1);
  return { lost, altered, redelivered: delivered.length - byPos.size, skips, stepsBack: breaks.length - skips.length };
}

// ---- Kafka side -----------------------------------------------------------------------

/** Committed offset (next to read) per partition of `topic` for `groupId`; -1 = none. */
export async function committedOffsets(brokers: string[], groupId: string, topic: string): Promise<Map<number, number>> {
  const res = await readCluster(brokers, (a) => a.fetchOffsets({ groupId, topics: [topic] }));
  return new Map((res[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
}

/** Log end offset per partition. */
export async function endOffsets(brokers: string[], topic: string): Promise<Map<number, number>> {
  const res = await readCluster(brokers, (a) => a.fetchTopicOffsets(topic));
  return new Map(res.map((p) => [p.partition, Number(p.high)]));
}

/**
 * Waits until the group's commits are at `ends` on every partition and returns them; on a
 * timeout the error names the last commits seen and the ends.
 */
export async function waitForCommitsAt(brokers: string[], groupId: string, topic: string, ends: Map<number, number>, timeoutMs = 30_000): Promise<Map<number, number>> {
  let last: Map<number, number> | undefined;
  return waitFor(
    'commits at the end of every partition',
    async () => {
      last = await committedOffsets(brokers, groupId, topic);
      return [...ends].every(([p, end]) => last!.get(p) === end) ? last : undefined;
    },
    timeoutMs,
    500,
  ).catch((e: Error) => {
    throw new Error(`${e.message}: commits ${JSON.stringify(Object.fromEntries(last ?? []))}, ends ${JSON.stringify(Object.fromEntries(ends))}`);
  });
}

export interface GroupMember {
  memberId: string;
  clientId: string;
  clientHost: string;
  partitions: number[];
}

/** The group's state and members with their assigned partitions of `topic` (decoded from the assignment). */
export async function describeGroup(brokers: string[], groupId: string, topic: string): Promise<{ state: string; members: GroupMember[] }> {
  const { groups } = await readCluster(brokers, (a) => a.describeGroups([groupId]));
  const g = groups[0];
  return {
    state: g.state,
    members: g.members.map((m) => {
      let partitions: number[] = [];
      if (m.memberAssignment?.length) {
        const decoded = AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
        partitions = [...((decoded?.assignment as Record<string, number[]>)?.[topic] ?? [])].sort((x, y) => x - y);
      }
      return { memberId: m.memberId, clientId: m.clientId, clientHost: m.clientHost, partitions };
    }),
  };
}

/** Waits until the group is Stable with `members` members, each assigned at least one partition of `topic`. */
export async function waitForGroup(brokers: string[], groupId: string, topic: string, members: number, timeoutMs = 60_000): Promise<GroupMember[]> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const g = await describeGroup(brokers, groupId, topic);
      last = `${g.state}, ${g.members.length} member(s): ${g.members.map((m) => `[${m.partitions.join(',')}]`).join(' ')}`;
      if (g.state === 'Stable' && g.members.length === members && g.members.every((m) => m.partitions.length > 0)) return g.members;
    } catch (e) {
      last = String(e);
    }
    if (Date.now() > deadline) throw new Error(`group ${groupId} not Stable with ${members} member(s) after ${timeoutMs} ms; last: ${last}`);
    await sleep(500);
  }
}

/**
 * "Stabilized group <id> generation <n>" lines of the broker log (Kafka's group coordinator,
 * INFO): one per completed rebalance. Independent of the node: a member that missed its
 * session timeout is removed and the group rebalances to a new generation.
 */
export function groupGenerations(logFile: string, groupId: string): number[] {
  if (!fs.existsSync(logFile)) return [];
  const text = fs.readFileSync(logFile, 'utf8');
  const esc = groupId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`Stabilized group ${esc} generation (\\d+)`, 'g');
  return [...text.matchAll(re)].map((m) => Number(m[1]));
}

/** Lines of the broker log about the group preparing to rebalance (with their reasons). */
export function groupRebalances(logFile: string, groupId: string): string[] {
  if (!fs.existsSync(logFile)) return [];
  const esc = groupId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`Preparing to rebalance group ${esc}\\b`);
  return fs.readFileSync(logFile, 'utf8').split('\n').filter((l) => re.test(l));
}

/** The key and value of record `i` of a produced test topic: 200 keys, value `<key>:<seq per key>` padded to `size`. */
export function keyedRecord(i: number, keys = 200, size = 0): { key: string; value: string } {
  const key = `k${i % keys}`;
  const bare = `${key}:${String(Math.floor(i / keys)).padStart(7, '0')}`;
  return { key, value: bare.length + 1 < size ? `${bare}~${'x'.repeat(size - bare.length - 1)}` : bare };
}

export async function connectProducer(brokers: string[], opts: { idempotent?: boolean } = {}): Promise<Producer> {
  const producer = new Kafka({ clientId: 'consumer-test-producer', brokers, logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 200, maxRetryTime: 2000 } }).producer({
    idempotent: opts.idempotent ?? false,
    maxInFlightRequests: opts.idempotent ? 1 : undefined,
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  return producer;
}

/** Produces records [from, to) of keyedRecord in batches (kafkajs default partitioner: murmur2 of the key). */
export async function produceKeyed(producer: Producer, topic: string, from: number, to: number, opts: { batch?: number; size?: number; acks?: number } = {}): Promise<void> {
  const batch = opts.batch ?? 2000;
  for (let i = from; i < to; i += batch) {
    const messages = [];
    for (let j = i; j < Math.min(to, i + batch); j++) messages.push(keyedRecord(j, 200, opts.size));
    await producer.send({ topic, messages, acks: opts.acks ?? -1, compression: CompressionTypes.None });
  }
}

/**
 * A steady load for the fault tests: every 50 ms the records due so far (`due(elapsed ms)`, as
 * keyedRecord(i, 60)) go in one send (acks=all); a failed send is sent again until acknowledged
 * (a copy stored twice is fine: the tests check delivery per offset). Ends once `stop(sent)` says so
 * and nothing waits to be sent again, or at once when `abandoned()` (the test ended); gives up
 * (rejects) after `giveUpMs`.
 */
export function produceSteadily(
  producer: Producer,
  topic: string,
  o: { due: (elapsedMs: number) => number; stop: (sent: number) => boolean; abandoned?: () => boolean; giveUpMs: number },
): { readonly sent: number; readonly failedSends: number; acked: Map<string, number>; startedAt: number; done: Promise<void> } {
  const state = { sent: 0, failedSends: 0, acked: new Map<string, number>(), startedAt: Date.now() };
  const done = (async () => {
    const retry: Array<{ key: string; value: string }> = [];
    for (;;) {
      if (o.abandoned?.()) return;
      const stopping = o.stop(state.sent);
      if (stopping && !retry.length) return;
      const messages = retry.splice(0);
      if (!stopping) for (const due = o.due(Date.now() - state.startedAt); state.sent < due; state.sent++) messages.push(keyedRecord(state.sent, 60));
      if (messages.length) {
        try {
          await producer.send({ topic, acks: -1, messages, timeout: 5000 });
          const now = Date.now();
          for (const m of messages) state.acked.set(m.value, now);
        } catch {
          state.failedSends++;
          retry.push(...messages);
          if (Date.now() - state.startedAt > o.giveUpMs) throw new Error(`records still not acknowledged after ${o.giveUpMs} ms (${retry.length})`);
        }
      }
      await sleep(50);
    }
  })();
  done.catch(() => {}); // a test that failed first does not wait for it
  return Object.assign(state, { done });
}

export async function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs: number, everyMs = 250): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/**
 * Index (into KafkaHandle.brokers) of the broker whose group coordinator logged the group's
 * last rebalance: lines are tagged [node-<id>] and node id = index + 1. undefined if none yet.
 */
export function groupCoordinatorIndex(logFile: string, groupId: string): number | undefined {
  const lines = groupRebalances(logFile, groupId).concat(
    fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').split('\n').filter((l) => l.includes(`Stabilized group ${groupId} `)) : [],
  );
  const last = lines.sort().pop();
  const m = last && /\[node-(\d+)\]/.exec(last);
  return m ? Number(m[1]) - 1 : undefined;
}

export interface EditorStatus {
  t: number;
  id: string;
  fill?: string;
  shape?: string;
  text?: string;
}

export interface StatusMessageLike {
  key: string;
  values?: Record<string, unknown>;
}

/** Our nodes' status as a message key and values (src/lib/common/status-message.ts), beside the runtime's text. */
export interface EditorNote {
  t: number;
  id: string;
  text: string;
  i18n: StatusMessageLike | StatusMessageLike[];
}

/** The value `name` of the part with message key `key` in a note (e.g. 'status.lag', 'count'). */
export function noteValue(note: EditorNote | undefined, key: string, name: string): unknown {
  const parts = note ? (Array.isArray(note.i18n) ? note.i18n : [note.i18n]) : [];
  return parts.find((p) => p.key === key)?.values?.[name];
}

/**
 * The node statuses the editor gets: a websocket on the runtime's /comms subscribed to
 * "status/#" (retained statuses come first, then every change). Unlike a Status node, this
 * also sees a status set while a node is being created (Node-RED wires Status and Catch
 * nodes only after every node of the flow exists).
 */
export async function watchEditorStatus(url: string): Promise<{ statuses: EditorStatus[]; notes: EditorNote[]; close(): void }> {
  // ws comes with Node-RED (Node 20 has no global WebSocket without a flag).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const WebSocket = require(require.resolve('ws', { paths: [path.dirname(require.resolve('node-red/package.json'))] }));
  const ws = new WebSocket(url.replace(/^http/, 'ws') + '/comms');
  const statuses: EditorStatus[] = [];
  const notes: EditorNote[] = [];
  ws.on('message', (data: Buffer) => {
    let msgs: Array<{ topic?: string; data?: Record<string, unknown> }>;
    try {
      msgs = JSON.parse(String(data));
    } catch {
      return;
    }
    for (const m of Array.isArray(msgs) ? msgs : [msgs]) {
      const id = /^status\/(.+)$/.exec(m.topic ?? '')?.[1];
      if (id) statuses.push({ t: Date.now(), id, fill: m.data?.fill as string, shape: m.data?.shape as string, text: m.data?.text as string });
      const noteId = /^streamsafe-status\/(.+)$/.exec(m.topic ?? '')?.[1];
      if (noteId && m.data?.i18n) notes.push({ t: Date.now(), id: noteId, text: m.data.text as string, i18n: m.data.i18n as StatusMessageLike | StatusMessageLike[] });
    }
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.send(JSON.stringify({ subscribe: 'status/#' }));
  ws.send(JSON.stringify({ subscribe: 'streamsafe-status/#' }));
  return { statuses, notes, close: () => ws.close() };
}
