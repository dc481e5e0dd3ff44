// X emulator → X stream node → (partition key) → Kafka producer (Safe: acks all, idempotent), in a real embedded Node-RED runtime: posts per second to Kafka acknowledgement
//
//   npm run build && node --import tsx bench/x-to-kafka.bench.ts [--ms=10000] [--endpoint=sample|filtered]
//        [--cases=sink:max,safe:15000,safe:20000,throughput:20000,throughput:25000,throughput:30000]
//        [--no-partition-key]
//
// Three processes besides the Kafka broker (a JVM; KAFKA_BROKERS=host:port uses another):
// the X API emulator (its own child, record off, no rate limits), and per case a Node-RED
// runtime started with RED.init(server, settings) + RED.start() (the runtime `node-red`
// itself runs; a user dir in a temp dir with this package linked at
// node_modules/@streamsafe/node-red-twitter-kafka, as the palette manager installs it).
// The flow: X credentials → X stream → partition key (murmur2, partition count from the
// broker) → kafka producer (Safe preset) → a counting sink on the acknowledged output.
//
// A case is <target>:<rate>. Targets: 'safe' and 'throughput' are the producer's presets
// (both acks all + idempotent; throughput adds lz4, linger 20 ms, 32 KB batches); 'sink' has
// no producer (X stream → counting sink: the X node's own ceiling). A rate is a fixed
// firehose rate with the node's defaults (queue 10000, drop when full): sustained when the
// acknowledged rate keeps up, nothing is dropped and the latency stays flat. 'max' lets the
// emulator write as fast as the node reads (queue full: the node pauses the socket, TCP
// backpressure); only meaningful with 'sink', as nothing holds the X node back from a slower
// producer. After each measured window the firehose stops and the bench checks that every
// post the emulator wrote was acknowledged, once, and that the topic holds that many records.
import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..');
const arg = (name: string, fallback: string): string => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? a.slice(name.length + 3) : fallback;
};
const flag = (name: string): boolean => process.argv.includes(`--${name}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Target = 'safe' | 'throughput' | 'sink';
const PRESETS = {
  safe: { preset: 'safe', compression: 'none', lingerMs: '5', batchSize: '16384' },
  throughput: { preset: 'throughput', compression: 'lz4', lingerMs: '20', batchSize: '32768' },
};

interface CaseConfig {
  label: string;
  target: Target;
  rate: number | 'max';
  endpoint: 'sample' | 'filtered';
  partitionKey: boolean;
  measureMs: number;
  warmupMs: number;
  emulatorUrl: string;
  token: string;
  brokers: string;
  topic: string;
  partitions: number;
}

interface CaseResult {
  label: string;
  postsPerSecond: number;
  measured: number;
  emitted: number;
  acked: number;
  failed: number;
  drops: number;
  duplicates: number;
  reconnects: number;
  latencyP50: number;
  latencyP99: number;
  latencyMax: number;
  nodeRedCpu: number;
  settleMs: number;
  firstError?: string;
}

// ---------------------------------------------------------------------------------------------
// Emulator child

async function emulatorChild(): Promise<void> {
  const { startXEmulator } = await import('../test/support/x-emulator');
  const emu = await startXEmulator({ postsPerSecond: 0, record: false, rateLimits: false, historyPosts: 0, slowClientMs: 3_600_000, maxBatchPosts: 2000, compression: false });
  emu.addRules([{ value: 'the OR a OR lang:ja OR lang:ko OR lang:es OR #kafka', tag: 'most' }, { value: 'kafka OR coffee', tag: 'topic' }]);
  process.on('disconnect', () => void emu.stop().then(() => process.exit(0)));
  process.send!({ url: emu.url, token: emu.bearerToken });
}

// ---------------------------------------------------------------------------------------------
// Node-RED child: one case

function control(base: string, method: string, p: string, body?: unknown): Promise<any> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}/__control${p}`, { method, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => {
        try {
          resolve(JSON.parse(text));
        } catch (e) {
          reject(e);
        }
      });
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

async function nodeRedChild(cfg: CaseConfig): Promise<void> {
  const { snowflakeTime } = await import('../test/support/x-emulator');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { prepareUserDir } = require('../scripts/node-red-userdir.js');
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'x-kafka-bench-'));
  const flow = [
    { id: 'tab', type: 'tab', label: 'bench' },
    { id: 'xc', type: 'streamsafe-x-credentials', baseUrl: cfg.emulatorUrl, authType: 'bearer', timeout: '15000', access: 'enterprise' },
    {
      id: 'x1', type: 'streamsafe-x-stream', z: 'tab', account: 'xc', mode: cfg.endpoint,
      rules: cfg.endpoint === 'filtered' ? [{ value: 'the OR a OR lang:ja OR lang:ko OR lang:es OR #kafka', tag: 'most' }, { value: 'kafka OR coffee', tag: 'topic' }] : [],
      tweetFields: 'author_id,created_at,lang,public_metrics', userFields: '', expansions: 'author_id',
      dedupWindow: '10000', queueSize: '10000', overflow: cfg.rate === 'max' ? 'pause' : 'drop', statsInterval: '1',
      wires: [[cfg.target === 'sink' ? 'sink' : cfg.partitionKey ? 'pk' : 'p1'], ['xstats']],
    },
    { id: 'xstats', type: 'debug', z: 'tab', active: false, tosidebar: false, console: false, complete: 'false', wires: [] },
    { id: 'b1', type: 'streamsafe-kafka-broker', brokers: cfg.brokers, clientId: 'x-bench', connectionTimeout: '10000', requestTimeout: '30000', usetls: false, saslMechanism: 'none' },
    ...(cfg.partitionKey
      ? [{ id: 'pk', type: 'streamsafe-partition-key', z: 'tab', key: 'key', keyType: 'msg', nullKey: 'pass', partitionsFrom: 'broker', broker: 'b1', topic: cfg.topic, metadataMaxAgeMs: '300000', outputHash: false, wires: [['p1']] }]
      : []),
    ...(cfg.target === 'sink'
      ? []
      : [{
          id: 'p1', type: 'streamsafe-kafka-producer', z: 'tab', broker: 'b1', topic: cfg.topic, acks: 'all', idempotence: true,
          retries: '2147483647', retryBackoffMs: '100', retryBackoffMaxMs: '1000', requestTimeoutMs: '30000', deliveryTimeoutMs: '120000',
          maxInFlight: '5', bufferMemory: '33554432', maxBlockMs: '60000', maxRequestSize: '1048576', metricsInterval: '0',
          ...PRESETS[cfg.target], wires: [['sink'], []],
        }]),
    { id: 'sink', type: 'debug', z: 'tab', active: false, tosidebar: false, console: false, complete: 'false', wires: [] },
    { id: 'c1', type: 'catch', z: 'tab', scope: ['x1', 'pk', 'p1'], uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'debug', z: 'tab', active: false, tosidebar: false, console: false, complete: 'false', wires: [] },
  ];
  prepareUserDir(userDir, { flows: flow, logLevel: 'warn' });
  fs.writeFileSync(path.join(userDir, 'flows_cred.json'), JSON.stringify({ xc: { bearerToken: cfg.token } }));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const RED = require('node-red');
  RED.init(http.createServer(), {
    userDir,
    flowFile: 'flows.json',
    httpAdminRoot: false,
    httpNodeRoot: false,
    disableEditor: true,
    credentialSecret: false,
    logging: { console: { level: 'warn', metrics: false, audit: false } },
    editorTheme: { tours: false },
    telemetry: { enabled: false },
  });
  await RED.start();
  let sink: any;
  let caught: any;
  let xstats: any;
  for (let i = 0; i < 400 && !(sink && caught && xstats && RED.nodes.getNode('x1')); i++) {
    sink = RED.nodes.getNode('sink');
    caught = RED.nodes.getNode('caught');
    xstats = RED.nodes.getNode('xstats');
    await sleep(25);
  }
  if (!RED.nodes.getNode('x1')) throw new Error('the X stream node did not start (run npm run build)');

  // Latencies (ack time − the post's creation time from its snowflake id) in a 1 ms histogram.
  const HIST = 60_000;
  const hist = new Uint32Array(HIST + 1);
  let measuring = false;
  let acked = 0;
  let failed = 0;
  let firstError: string | undefined;
  let lastStats: Record<string, any> = {};
  sink.on('input', (msg: any) => {
    if (cfg.target !== 'sink' && !msg.kafka?.acknowledged) return;
    acked++;
    if (measuring && cfg.rate !== 'max') {
      const ms = Date.now() - snowflakeTime(msg.payload.id);
      hist[Math.max(0, Math.min(HIST, Math.round(ms)))]++;
    }
  });
  caught.on('input', (msg: any) => {
    failed++;
    firstError ??= String(msg?.error?.message ?? msg);
  });
  xstats.on('input', (msg: any) => (lastStats = msg.payload));

  await control(cfg.emulatorUrl, 'POST', '/rate', { postsPerSecond: cfg.rate });
  await sleep(cfg.warmupMs);
  const cpu0 = process.cpuUsage();
  const a0 = acked;
  const t0 = performance.now();
  measuring = true;
  await sleep(cfg.measureMs);
  const a1 = acked;
  const t1 = performance.now();
  measuring = false;
  const cpu = process.cpuUsage(cpu0);
  await control(cfg.emulatorUrl, 'POST', '/rate', { postsPerSecond: 0 });
  const settleStart = Date.now();
  let emitted = 0;
  for (let i = 0; i < 1200; i++) {
    emitted = (await control(cfg.emulatorUrl, 'GET', '/stats')).postsEmitted;
    if (acked + failed >= emitted - lastStats.drops && i > 2) break;
    await sleep(100);
  }
  const settleMs = Date.now() - settleStart;
  await sleep(1200); // one more statistics message
  const pct = (q: number) => {
    const total = hist.reduce((n, c) => n + c, 0);
    let seen = 0;
    for (let i = 0; i <= HIST; i++) {
      seen += hist[i];
      if (seen >= q * total) return i;
    }
    return NaN;
  };
  let max = NaN;
  for (let i = HIST; i >= 0; i--) if (hist[i]) {
    max = i;
    break;
  }
  const result: CaseResult = {
    label: cfg.label,
    postsPerSecond: ((a1 - a0) * 1000) / (t1 - t0),
    measured: a1 - a0,
    emitted,
    acked,
    failed,
    drops: lastStats.drops ?? NaN,
    duplicates: lastStats.duplicates ?? NaN,
    reconnects: lastStats.reconnectAttempts ?? NaN,
    latencyP50: pct(0.5),
    latencyP99: pct(0.99),
    latencyMax: max,
    nodeRedCpu: ((cpu.user + cpu.system) / 1000 / (t1 - t0)) * 100,
    settleMs,
    firstError,
  };
  await RED.stop();
  fs.rmSync(userDir, { recursive: true, force: true });
  process.stdout.write(`\n${JSON.stringify(result)}\n`);
  process.exit(0);
}

// ---------------------------------------------------------------------------------------------
// Parent

function startEmulator(): Promise<{ proc: ChildProcess; url: string; token: string }> {
  const proc = fork(__filename, ['--emulator-child'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    proc.once('message', (m: { url: string; token: string }) => resolve({ proc, ...m }));
    proc.once('exit', (code) => reject(new Error(`emulator exited (${code})`)));
  });
}

function runCase(cfg: CaseConfig): Promise<CaseResult> {
  return new Promise((resolve, reject) => {
    // X_BENCH_CPU_PROF=<dir>: a V8 CPU profile of each Node-RED case process.
    const prof = process.env.X_BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.X_BENCH_CPU_PROF] : [];
    const proc = fork(__filename, ['--case-child'], {
      execArgv: ['--import', 'tsx', ...prof],
      env: { ...process.env, X_BENCH_CASE: JSON.stringify(cfg) },
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    let out = '';
    proc.stdout!.on('data', (d) => (out += d));
    proc.on('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line));
      } catch {
        reject(new Error(`case ${cfg.label} failed (exit ${code}): ${out.slice(-2000)}`));
      }
    });
  });
}

async function topicCount(brokers: string, topic: string): Promise<number> {
  const { Kafka, logLevel } = await import('kafkajs');
  const admin = new Kafka({ brokers: brokers.split(','), clientId: 'x-bench-admin', logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

async function createTopic(brokers: string, topic: string, partitions: number): Promise<void> {
  const { Kafka, logLevel } = await import('kafkajs');
  const admin = new Kafka({ brokers: brokers.split(','), clientId: 'x-bench-admin', logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

async function main(): Promise<void> {
  if (!fs.existsSync(path.join(root, 'dist', 'nodes', 'x-stream', 'streamsafe-x-stream.js'))) throw new Error('run `npm run build` first');
  const measureMs = Math.max(1000, Number(arg('ms', '10000')));
  const warmupMs = Math.max(1000, Math.min(3000, measureMs / 2));
  const caseSpecs = arg('cases', 'sink:max,safe:15000,safe:20000,throughput:20000,throughput:25000,throughput:30000')
    .split(',')
    .map((c) => {
      const [target, rate] = c.split(':');
      if (!['safe', 'throughput', 'sink'].includes(target) || !(rate === 'max' || Number(rate) > 0)) throw new Error(`bad case ${c}: <safe|throughput|sink>:<rate|max>`);
      return { target: target as Target, rate: rate === 'max' ? ('max' as const) : Number(rate) };
    });
  const endpoint = arg('endpoint', 'sample') as 'sample' | 'filtered';
  const withPk = !flag('no-partition-key');

  let brokers = process.env.KAFKA_BROKERS ?? '';
  let stopKafka: (() => Promise<void>) | undefined;
  if (!brokers) {
    // The broker with its full JIT, as the producer benchmark runs it.
    process.env.STREAMSAFE_KAFKA_JVM_OPTS ??= '-XX:TieredStopAtLevel=4';
    const { startKafka } = await import('../test/support/kafka');
    console.error('x-to-kafka bench: starting Kafka');
    const k = await startKafka({ mode: 'single', name: 'x-bench' });
    brokers = k.brokers.join(',');
    stopKafka = () => k.stop();
  }
  const rows: string[] = [];
  const loadBefore = os.loadavg()[0];
  const header = `${'case'.padEnd(44)}${'posts/s acked'.padStart(14)}${'emitted'.padStart(10)}${'acked'.padStart(10)}${'in Kafka'.padStart(10)}${'drops'.padStart(7)}${'p50 ms'.padStart(8)}${'p99 ms'.padStart(8)}${'Node-RED CPU'.padStart(14)}`;
  try {
    const cases: Array<Pick<CaseConfig, 'label' | 'rate' | 'partitionKey' | 'target'>> = [];
    for (const { target, rate } of caseSpecs) {
      const what = rate === 'max' ? 'max' : `${rate.toLocaleString('en-US')}/s`;
      const chain = target === 'sink' ? 'X stream → sink (no Kafka)' : `${withPk ? 'X → key → ' : 'X → '}${target === 'safe' ? 'Safe' : 'High thr.'}`;
      cases.push({ label: `${chain}, ${what}`, rate, partitionKey: withPk, target });
    }
    console.log(header);
    for (const c of cases) {
      const emu = await startEmulator();
      const topic = `x-bench-${Date.now().toString(36)}`;
      await createTopic(brokers, topic, 6);
      try {
        const r = await runCase({ ...c, endpoint, measureMs, warmupMs, emulatorUrl: emu.url, token: emu.token, brokers, topic, partitions: 6 });
        const inKafka = await topicCount(brokers, topic);
        const row =
          r.label.padEnd(44) +
          Math.round(r.postsPerSecond).toLocaleString('en-US').padStart(14) +
          String(r.emitted).padStart(10) +
          String(r.acked).padStart(10) +
          (c.target === 'sink' ? '-' : String(inKafka)).padStart(10) +
          String(r.drops).padStart(7) +
          (c.rate === 'max' ? '-' : String(r.latencyP50)).padStart(8) +
          (c.rate === 'max' ? '-' : String(r.latencyP99)).padStart(8) +
          `${Math.round(r.nodeRedCpu)}%`.padStart(14);
        rows.push(row);
        console.log(row);
        const exact = r.acked === r.emitted - r.drops && (c.target === 'sink' || inKafka === r.acked) && r.failed === 0;
        if (!exact) console.log(`  !! not exact: emitted ${r.emitted}, drops ${r.drops}, acked ${r.acked}, in Kafka ${inKafka}, failed ${r.failed} ${r.firstError ?? ''}`);
      } finally {
        emu.proc.disconnect();
        emu.proc.kill();
      }
    }
  } finally {
    await stopKafka?.();
  }
  console.log(`\nmeasured window ${measureMs} ms after ${warmupMs} ms of warm-up; ${endpoint} stream (posts with author_id, created_at, lang, public_metrics and the author expansion); ` +
    `Safe: acks all, idempotent, linger 5 ms, 16 KB batches; High thr.: the same + lz4, linger 20 ms, 32 KB batches; topic of 6 partitions${withPk ? '; X → key: through the partition key node (partition count from the broker)' : ''}. ` +
    `Every case then stops the firehose and checks emitted − drops = acknowledged (= records in the topic). p50/p99: post created (snowflake id) → acknowledged.`);
  console.log(`Node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? '?'}, node-red ${require('node-red/package.json').version}; ` +
    `the emulator, Node-RED and the Kafka broker share these cores (1-minute load average ${loadBefore.toFixed(2)} before, ${os.loadavg()[0].toFixed(2)} after: ` +
    'other work on the machine shows up here).');
}

if (process.argv.includes('--emulator-child')) {
  void emulatorChild();
} else if (process.argv.includes('--case-child')) {
  nodeRedChild(JSON.parse(process.env.X_BENCH_CASE!)).catch((e) => {
    console.error(e);
    process.exit(1);
  });
} else {
  main().then(
    () => process.exit(0),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
