// Throughput of the partition key node inside a real embedded Node-RED runtime
// (RED.init(server, settings) + RED.start(), our package loaded from its
// package.json "node-red" section, built dist/), in msgs per second:
//
//   source ──> [node under test] ──> sink
//
// The source is an inject node whose send() the bench calls (so every msg takes
// Node-RED's real path: send, routing, hooks, async delivery); the sink is an
// inactive debug node with a counting listener. Each case runs in its own child
// process with its own runtime, so JIT feedback does not leak between cases.
//
//   npm run build && node --import tsx bench/partition-key-node.bench.ts [--ms=2000] [--rounds=3]
//
// "from the broker" cases need Kafka: KAFKA_BROKERS=host:port, else a single
// test broker is started (test/support/kafka) for them, or skip with --no-kafka.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { keyToBytes, partitionForKey } from '../src/lib/kafka/murmur2';

const root = path.resolve(__dirname, '..');

interface Case {
  id: string;
  label: string;
  /** The node between source and sink; none: source wired straight to the sink. */
  node?: Record<string, unknown>;
  kafka?: boolean;
  /** Partition count the sink checks msg.partition against (0: no check). */
  partitions: number;
  /** Where the key is in the msg. */
  keyAt: 'key' | 'author';
}

const CASES: Case[] = [
  { id: 'direct', label: 'no node (source -> sink): runtime cost', partitions: 0, keyAt: 'key' },
  {
    id: 'change',
    label: 'core change node, set msg.partition = 0',
    node: { type: 'change', rules: [{ t: 'set', p: 'partition', pt: 'msg', to: '0', tot: 'num' }] },
    partitions: 0,
    keyAt: 'key',
  },
  {
    id: 'fixed-key',
    label: 'partition key, msg.key, fixed 12',
    node: { type: 'streamsafe-partition-key', key: 'key', keyType: 'msg', partitionsFrom: 'fixed', partitions: '12' },
    partitions: 12,
    keyAt: 'key',
  },
  {
    id: 'fixed-path',
    label: 'partition key, payload.data.author_id, fixed 12, + hash',
    node: { type: 'streamsafe-partition-key', key: 'payload.data.author_id', keyType: 'msg', partitionsFrom: 'fixed', partitions: '12', outputHash: true },
    partitions: 12,
    keyAt: 'author',
  },
  {
    id: 'broker',
    label: 'partition key, payload.data.author_id, from the broker (12)',
    node: { type: 'streamsafe-partition-key', key: 'payload.data.author_id', keyType: 'msg', partitionsFrom: 'broker', broker: 'b1', topic: 'bench-partition-key' },
    kafka: true,
    partitions: 12,
    keyAt: 'author',
  },
  {
    id: 'jsonata',
    label: 'partition key, JSONata payload.data.author_id, fixed 12',
    node: { type: 'streamsafe-partition-key', key: 'payload.data.author_id', keyType: 'jsonata', partitionsFrom: 'fixed', partitions: '12' },
    partitions: 12,
    keyAt: 'author',
  },
];

const arg = (name: string, fallback: number): number => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.slice(name.length + 3)) : fallback;
};

/** 4096 tweet-like author ids (19-digit decimal strings), deterministic. */
function makeKeys(): string[] {
  let x = 0x2545f491;
  const next = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  return Array.from({ length: 4096 }, () => (1_500_000_000_000_000_000n + BigInt(next()) * 65_537n + BigInt(next())).toString());
}

// ---------------------------------------------------------------------------
// One case, in a child process: its own Node-RED runtime.

async function runCase(c: Case, brokers: string): Promise<void> {
  const RED = require('node-red');
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pk-bench-'));
  const flow: Array<Record<string, unknown>> = [
    { id: 'tab', type: 'tab', label: 'bench' },
    { id: 'src', type: 'inject', z: 'tab', props: [], repeat: '', once: false, wires: [[c.node ? 'dut' : 'sink']] },
    { id: 'sink', type: 'debug', z: 'tab', active: false, tosidebar: false, console: false, complete: 'false', wires: [] },
  ];
  if (c.node) flow.push({ id: 'dut', z: 'tab', name: '', nullKey: 'pass', metadataMaxAgeMs: '300000', ...c.node, wires: [['sink']] });
  if (c.kafka) flow.push({ id: 'b1', type: 'streamsafe-kafka-broker', brokers, clientId: 'bench', saslMechanism: 'none' });
  fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flow));
  const server = http.createServer();
  RED.init(server, {
    userDir,
    flowFile: 'flows.json',
    nodesDir: [root], // our package, through package.json "node-red".nodes
    httpAdminRoot: false,
    httpNodeRoot: false,
    disableEditor: true,
    credentialSecret: false,
    logging: { console: { level: 'error', metrics: false, audit: false } },
    editorTheme: { tours: false },
  });
  await RED.start();
  try {
    let src: any;
    let sink: any;
    for (let i = 0; i < 200 && !(src && sink && (!c.node || RED.nodes.getNode('dut'))); i++) {
      src = RED.nodes.getNode('src');
      sink = RED.nodes.getNode('sink');
      await new Promise((r) => setTimeout(r, 25));
    }
    if (!src || !sink || (c.node && !RED.nodes.getNode('dut'))) throw new Error(`flow did not start (is ${c.node?.type} installed? run npm run build)`);

    const keys = makeKeys();
    const expected = c.partitions ? keys.map((k) => partitionForKey(keyToBytes(k), c.partitions)) : [];
    let received = 0;
    let wrong = 0;
    let waiter: (() => void) | undefined;
    let target = 0;
    sink.on('input', (msg: any) => {
      received++;
      if (c.partitions && (received & 1023) === 0 && msg.partition !== expected[msg._i]) wrong++;
      if (received >= target && waiter) {
        const w = waiter;
        waiter = undefined;
        w();
      }
    });
    const CHUNK = 1024;
    let sent = 0;
    const sendChunk = () => {
      for (let j = 0; j < CHUNK; j++) {
        const i = sent++ & 4095;
        const k = keys[i];
        src.send(c.keyAt === 'key' ? { _i: i, key: k, payload: 'x' } : { _i: i, payload: { data: { author_id: k, text: 'x' } } });
      }
      target = sent;
    };
    const until = () => new Promise<void>((resolve) => (received >= target ? resolve() : (waiter = resolve)));
    const measure = async (budget: number): Promise<number> => {
      const from = received;
      const t0 = performance.now();
      let t = t0;
      do {
        // Two chunks in flight, so the runtime never runs dry.
        sendChunk();
        if (target - received > 2 * CHUNK) {
          target -= CHUNK;
          await until();
          target += CHUNK;
        }
        t = performance.now();
      } while (t - t0 < budget);
      target = sent;
      await until();
      t = performance.now();
      return ((received - from) * 1000) / (t - t0);
    };
    await measure(Math.min(500, arg('ms', 2000))); // warm-up, and the broker case's first lookup
    const results: number[] = [];
    for (let r = 0; r < arg('rounds', 3); r++) results.push(await measure(arg('ms', 2000)));
    results.sort((a, b) => a - b);
    if (wrong) throw new Error(`${wrong} sampled msgs had the wrong partition`);
    process.stdout.write(JSON.stringify({ msgsPerSecond: results[Math.floor(results.length / 2)], received }));
  } finally {
    await RED.stop();
    fs.rmSync(userDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------

async function ensureTopic(brokers: string[]): Promise<void> {
  const { Kafka, logLevel } = require('kafkajs') as typeof import('kafkajs');
  const admin = new Kafka({ brokers, clientId: 'bench', logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const topics = await admin.listTopics();
    if (!topics.includes('bench-partition-key')) {
      await admin.createTopics({ topics: [{ topic: 'bench-partition-key', numPartitions: 12 }], waitForLeaders: true });
    }
  } finally {
    await admin.disconnect();
  }
}

async function main(): Promise<void> {
  if (!fs.existsSync(path.join(root, 'dist', 'nodes', 'partition-key', 'streamsafe-partition-key.js'))) {
    throw new Error('dist/ is missing the partition key node: run `npm run build` first');
  }
  let brokers = '';
  const withKafka = !process.argv.includes('--no-kafka');
  if (withKafka) {
    const { getTestKafka } = require('../test/support/kafka') as typeof import('../test/support/kafka');
    const kafka = await getTestKafka();
    await ensureTopic(kafka.brokers);
    brokers = kafka.brokers.join(',');
  }
  const rows: string[] = [`${'case'.padEnd(62)}${'msgs/s'.padStart(12)}${'µs/msg'.padStart(9)}${'vs direct'.padStart(11)}`];
  let direct = 0;
  for (const c of CASES) {
    if (c.kafka && !withKafka) continue;
    const out = execFileSync(process.execPath, [...process.execArgv, __filename, '--case', c.id, '--brokers', brokers, ...process.argv.slice(2)], {
      encoding: 'utf8',
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const { msgsPerSecond } = JSON.parse(out.slice(out.lastIndexOf('{')));
    if (c.id === 'direct') direct = msgsPerSecond;
    const row =
      c.label.padEnd(62) +
      `${Math.round(msgsPerSecond).toLocaleString('en-US')}`.padStart(12) +
      (1e6 / msgsPerSecond).toFixed(2).padStart(9) +
      (direct ? `${((msgsPerSecond / direct) * 100).toFixed(0)}%` : '').padStart(11);
    rows.push(row);
    console.log(row);
  }
  console.log('\n' + rows.join('\n'));
  console.log(`\nNode ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), node-red ${require('node-red/package.json').version}`);
}

const caseAt = process.argv.indexOf('--case');
if (caseAt >= 0) {
  const c = CASES.find((x) => x.id === process.argv[caseAt + 1]);
  const brokers = process.argv[process.argv.indexOf('--brokers') + 1] ?? '';
  if (!c) throw new Error(`unknown case ${process.argv[caseAt + 1]}`);
  runCase(c, brokers).then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
} else {
  main().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
