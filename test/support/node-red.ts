// Shared pieces of the node tests: the real Node-RED runtime through
// node-red-node-test-helper, our compiled nodes from dist/, and a kafkajs
// consumer to read back what the nodes produced.
import * as path from 'node:path';
import * as fs from 'node:fs';
import { Kafka, logLevel, type ITopicConfig, type KafkaConfig, type KafkaMessage } from 'kafkajs';
import { readCluster, waitForPartitions } from './kafka/admin';
import { registerKafkajsCodecs } from '../../src/lib/kafka/codecs';

// STREAMSAFE_NODE_RED_DIR points at another Node-RED install (the Node-RED 5 leg of npm test).
const redDir = process.env.STREAMSAFE_NODE_RED_DIR;
const fromRed = (id: string) => (redDir ? require.resolve(id, { paths: [redDir] }) : require.resolve(id));

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const helper = require('node-red-node-test-helper');
helper.init(fromRed('node-red'));
export const nodeRedVersion: string = require(fromRed('node-red/package.json')).version;

const dist = path.resolve(__dirname, '..', '..', 'dist', 'nodes');
if (!fs.existsSync(dist)) throw new Error('dist/ is missing: run `npm run build` first (npm test does it)');

/**
 * The test helper's RED._ returns the key itself; the real runtime looks it up
 * in the node's locale catalog. This does the same from dist/ (en-US), so the
 * tests read the texts a user sees and a missing key shows.
 */
export function withCatalog(file: string): (red: any) => unknown {
  const mod = require(file);
  const dir = path.dirname(file);
  const base = path.basename(file, '.js');
  const catalog = JSON.parse(fs.readFileSync(path.join(dir, 'locales', 'en-US', `${base}.json`), 'utf8'));
  const translate = (key: string, subs: Record<string, unknown> = {}) => {
    const value = key.split('.').reduce((o: any, k) => (o == null ? o : o[k]), catalog);
    if (typeof value !== 'string') return key;
    return value.replace(/__(\w+)__/g, (_m: string, name: string) => String(subs[name] ?? `__${name}__`));
  };
  return (red: any) => mod(new Proxy(red, { get: (t, p) => (p === '_' ? translate : t[p]) }));
}

export const brokerNode = withCatalog(path.join(dist, 'kafka-broker', 'streamsafe-kafka-broker.js'));
export const producerNode = withCatalog(path.join(dist, 'kafka-producer', 'streamsafe-kafka-producer.js'));
export const consumerNode = withCatalog(path.join(dist, 'kafka-consumer', 'streamsafe-kafka-consumer.js'));
export const commitNode = withCatalog(path.join(dist, 'kafka-commit', 'streamsafe-kafka-commit.js'));
export const partitionKeyNode = withCatalog(path.join(dist, 'partition-key', 'streamsafe-partition-key.js'));
export const xCredentialsNode = withCatalog(path.join(dist, 'x-credentials', 'streamsafe-x-credentials.js'));
export const xStreamNode = withCatalog(path.join(dist, 'x-stream', 'streamsafe-x-stream.js'));
export const tlsNode = require(fromRed('@node-red/nodes/core/network/05-tls.js'));
export const catchNode = require(fromRed('@node-red/nodes/core/common/25-catch.js'));

let seq = 0;
/** A topic name no other test uses. */
export function uniqueTopic(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${++seq}`;
}

export interface ProducerFlowOptions {
  brokers: string[];
  producer?: Record<string, unknown>;
  broker?: Record<string, unknown>;
  extraNodes?: unknown[];
}

/**
 * broker config → producer (p1) → helper out (out); a Catch node scoped to
 * p1 → helper (caught).
 */
export function producerFlow(o: ProducerFlowOptions): unknown[] {
  return [
    { id: 'tab', type: 'tab', label: 'test' },
    { id: 'b1', type: 'streamsafe-kafka-broker', z: '', brokers: o.brokers.join(','), clientId: 'test', saslMechanism: 'none', ...o.broker },
    { id: 'p1', type: 'streamsafe-kafka-producer', z: 'tab', broker: 'b1', topic: '', wires: [['out']], ...o.producer },
    { id: 'out', type: 'helper', z: 'tab' },
    { id: 'c1', type: 'catch', z: 'tab', scope: ['p1'], uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'tab' },
    ...(o.extraNodes ?? []),
  ];
}

export async function loadFlow(flow: unknown[], credentials: Record<string, unknown> = {}, extra: unknown[] = []): Promise<void> {
  // One flow at a time: the helper's spies must be reset before the next load.
  await helper.unload();
  await new Promise<void>((resolve) => helper.load([brokerNode, producerNode, catchNode, ...extra], flow, credentials, resolve));
}

export async function unloadFlow(): Promise<void> {
  await helper.unload();
}

export interface NodeLike {
  on(ev: string, fn: (msg: any) => void): void;
  receive(msg: unknown): void;
  status: ((...a: unknown[]) => void) & { args?: unknown[][] };
}

export function getNode(id: string): any {
  const n = helper.getNode(id);
  if (!n) throw new Error(`node ${id} not loaded`);
  return n;
}

/** Helper nodes already collected from: a later collect() on one takes only new msgs. */
const collected = new WeakSet<object>();

/**
 * Collects msgs arriving at a helper node. The first collect() on a node of a
 * loaded flow also takes those sent to it before: the runtime may deliver a
 * msg while the flow is still starting, before a test can listen (the helper
 * spies on every node's send()).
 */
export function collect(id: string): { msgs: any[]; next(n?: number, timeoutMs?: number): Promise<any[]> } {
  const msgs: any[] = [];
  const waiters: Array<() => void> = [];
  const seen = new Set<unknown>();
  const add = (msg: any) => {
    // A msg sent before and delivered after we listened comes both ways: once.
    const identity = msg?._msgid ?? msg;
    if (seen.has(identity)) return;
    seen.add(identity);
    msgs.push(msg);
    for (const w of waiters.splice(0)) w();
  };
  const node = getNode(id);
  node.on('input', add);
  if (collected.has(node)) return collector(id, msgs, waiters);
  collected.add(node);
  // The helper's spy on Node.prototype.send (a helper node has a send of its own).
  const sendSpy = helper._NodePrototype.send as { args?: unknown[][]; thisValues?: Array<{ wires?: string[][] }> };
  (sendSpy.args ?? []).forEach((args, i) => {
    const wires = sendSpy.thisValues?.[i]?.wires ?? [];
    const out = Array.isArray(args[0]) ? (args[0] as unknown[]) : [args[0]];
    out.forEach((msg, port) => {
      for (const m of Array.isArray(msg) ? msg : [msg]) if (m && wires[port]?.includes(id)) add(m);
    });
  });
  return collector(id, msgs, waiters);
}

function collector(id: string, msgs: any[], waiters: Array<() => void>): { msgs: any[]; next(n?: number, timeoutMs?: number): Promise<any[]> } {
  return {
    msgs,
    async next(n = 1, timeoutMs = 20000) {
      const deadline = Date.now() + timeoutMs;
      while (msgs.length < n) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`expected ${n} msg(s) at ${id}, got ${msgs.length}`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
      return msgs.slice(0, n);
    },
  };
}

/** Waits until the node's status text matches. */
export async function waitForStatus(id: string, re: RegExp, timeoutMs = 30000): Promise<string> {
  const node = getNode(id);
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    // The helper spies on status() of every node at once: the last call made by this node.
    const spy = node.status as { args?: Array<[{ text?: string }]>; thisValues?: Array<{ id?: string }> };
    const calls = spy.args ?? [];
    for (let i = calls.length - 1; i >= 0; i--) {
      if (spy.thisValues && spy.thisValues[i]?.id !== id) continue;
      last = calls[i][0]?.text ?? '';
      break;
    }
    if (re.test(last)) return last;
    if (Date.now() > deadline) throw new Error(`status of ${id} never matched ${re}; last was "${last}"`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function kafkaClient(brokers: string[], extra: Partial<KafkaConfig> = {}): Kafka {
  return new Kafka({ clientId: 'test-reader', brokers, logLevel: logLevel.NOTHING, ...extra });
}

export async function createTopic(brokers: string[], topic: string, numPartitions = 1, configEntries: Array<{ name: string; value: string }> = [], replicationFactor = 1): Promise<void> {
  await createTopicFrom(brokers, { topic, numPartitions, replicationFactor, configEntries });
}

/** Creates a topic (with a replica assignment if given) and waits until every partition has a leader. */
export async function createTopicFrom(brokers: string[], config: ITopicConfig): Promise<void> {
  const expected = config.replicaAssignment?.length ?? config.numPartitions ?? 1;
  // kafkajs's waitForLeaders gives up on UNKNOWN_TOPIC_OR_PARTITION, which a busy broker
  // answers for a moment after creating a topic: waitForPartitions asks again.
  await readCluster(brokers, (a) => a.createTopics({ topics: [config], waitForLeaders: false }));
  await waitForPartitions(brokers, config.topic, (parts) => parts.length === expected && parts.every((p) => p.leader >= 0));
}

export interface ReadRecord {
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: KafkaMessage['headers'];
  timestamp: string;
}

/** Reads `count` records of a topic from the beginning with a real consumer. */
export async function readTopic(brokers: string[], topic: string, count: number, timeoutMs = 30000, extra: Partial<KafkaConfig> = {}): Promise<ReadRecord[]> {
  await registerKafkajsCodecs();
  const consumer = kafkaClient(brokers, extra).consumer({ groupId: `reader-${topic}-${Date.now()}`, maxWaitTimeInMs: 100 });
  const out: ReadRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${out.length} of ${count} records from ${topic}`)), timeoutMs);
      consumer
        .run({
          eachMessage: async ({ partition, message }) => {
            out.push({ partition, offset: message.offset, key: message.key, value: message.value, headers: message.headers, timestamp: message.timestamp });
            if (out.length >= count) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return out;
}
