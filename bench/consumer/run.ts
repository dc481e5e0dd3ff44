// The consumer benchmark (issue 11, "Speed"): records/s reading 1 KB records from a
// 12-partition topic, every reader side by side in one run, on one broker:
//
//   java           kafka-tools ConsumerPerformance (the Java consumer, the jars the tests use)
//   raw-kafkajs    kafkajs 2.2.4 eachBatch, our codecs registered (raw-kafkajs-child.ts)
//   ours           streamsafe-kafka-consumer in a real Node-RED runtime, at least once:
//                  consumer → streamsafe-kafka-commit (the msg is finished there)
//   ours-wide      the same at least once with max outstanding 10,000 (--wide-outstanding)
//   ours-periodic  the same node with commitMode periodic: consumer → debug node
//   other nodes    the other Node-RED Kafka nodes' consumers, installed from npm into the
//                  cache (not this package), each in its own runtime: consumer → debug node
//
// The topic is filled once (the producer benchmark's record set: 1 KB tweet-like JSON keyed
// by user id, written by the Java producer, uncompressed); every reader then reads all of it
// from the beginning with a fresh group. records/s = (records − 1) / (first record → last
// record reaching the end of the flow / the consumer's loop). Java, raw kafkajs and our node
// run in interleaved rounds (median reported); the other nodes once each.
//
//   node --import tsx bench/consumer/run.ts [--quick] [--records=N] [--rounds=N]
//        [--only=java,raw-kafkajs,ours,ours-periodic,suite,...] [--other-max-seconds=S]
//        [--max-outstanding=N] [--wide-outstanding=N] [--raw-concurrency=N] [--cpu-prof] [--out=bench/results]
//        [--package=<dir>: another build of this package to measure, e.g. a fix being tried]
//   node --import tsx bench/consumer/run.ts --render=bench/results/consumer.json
//
// Needs `npm run build` first (scripts/bench.js does it). Writes <out>/consumer.json and
// <out>/consumer.md.
import { execFile, fork, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { cacheDir, kafkaClasspath, kafkaVersion, startKafka, type KafkaHandle } from '../../test/support/kafka';
import { trackChild } from '../../test/support/kafka/cleanup';
import { compileJava as compileJavaSource, toolsLog4jConfig } from '../../test/support/kafka/java';
import { findPidByCmdline, fmt, procCpuMs, procStatusKb, systemCpuMs, waitQuiet } from '../producer/common';
import { RECORD_BYTES, writeTemplatesFile } from '../producer/records';
import type { ConsumerChildConfig, ConsumerImpl } from './nodered-child';

const execFileP = promisify(execFile);
const root = path.resolve(__dirname, '..', '..');
const PARTITIONS = 12;
const CONSUMER_PERF_CLASS = 'org.apache.kafka.tools.ConsumerPerformance';

// ---------------------------------------------------------------------------------------------
// Options

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
const opt = (name: string): string | undefined => argv.find((x) => x.startsWith(`--${name}=`))?.slice(name.length + 3);
const quick = flag('quick');
const only = opt('only')?.split(',');
const want = (id: string) => !only || only.includes(id);
const RECORDS = Number(opt('records') ?? (quick ? 100_000 : 1_000_000));
const ROUNDS = Number(opt('rounds') ?? (quick ? 1 : 3));
/** the other nodes are stopped after this long (then measured over what they read) */
const OTHER_MAX_MS = Number(opt('other-max-seconds') ?? (quick ? 60 : 150)) * 1000;
const IDLE_MS = Number(opt('idle-seconds') ?? 30) * 1000;
// 0: the node's default (a new node in the editor)
const MAX_OUTSTANDING = Number(opt('max-outstanding') ?? 0);
const WIDE_OUTSTANDING = Number(opt('wide-outstanding') ?? 10_000);
const RAW_CONCURRENCY = Number(opt('raw-concurrency') ?? 1);
const QUIET_WAIT_MS = Number(opt('quiet-wait-ms') ?? (quick ? 10_000 : 30_000));
const outDir = path.resolve(root, opt('out') ?? path.join('bench', 'results'));
// --cpu-prof: profile the whole child process of raw kafkajs and of this node (node --cpu-prof),
// summarised to stderr and beside the profile in PROFILE_DIR.
const CPU_PROF = flag('cpu-prof');
const PROFILE_DIR = path.join(os.tmpdir(), 'streamsafe-bench-profiles');

type OtherId = 'suite' | 'oriolrius' | 'kafkajs' | 'kafka-client' | 'kafka-manager' | 'rdkafka';
interface OtherNode {
  pkg: string;
  version: string;
  label: string;
  /** how it reads, from its code (read in the installed package) */
  how: string;
  /** why it cannot read from this broker, when known (added to its failure) */
  knownCause?: string;
}
const OTHER_NODES: Record<OtherId, OtherNode> = {
  suite: {
    pkg: 'node-red-contrib-kafka-suite', version: '0.0.5', label: 'node-red-contrib-kafka-suite 0.0.5',
    how: 'kafkajs 2.2.4 eachMessage, one node.send() per record; messageFormat raw (Buffer payload); auto-commit; partitionsConsumedConcurrently 1; startOffset earliest',
  },
  oriolrius: {
    pkg: '@oriolrius/node-red-contrib-kafka', version: '6.1.1', label: '@oriolrius/node-red-contrib-kafka 6.1.1',
    how: 'kafkajs 2.2.4 eachMessage (maxBytes 1 MB), one node.send() and one node.status() per record; JSON.parses every value (no raw setting) and JSON.stringifies it for a node.debug line; fromOffset earliest',
  },
  kafkajs: {
    pkg: 'node-red-contrib-kafkajs', version: '0.0.7', label: 'node-red-contrib-kafkajs 0.0.7',
    how: 'kafkajs 1.16 eachMessage, one node.send() and one node.status() per record, value and key as strings; fromBeginning (an advanced option; the editor defaults for the rest)',
  },
  'kafka-client': {
    pkg: 'node-red-contrib-kafka-client', version: '0.1.0', label: 'node-red-contrib-kafka-client 0.1.0',
    how: 'kafka-node 5.0 ConsumerGroup, one node.send() per record; fromOffset earliest',
    knownCause:
      'kafka-node 5.0 speaks Fetch v0–v2 and ListOffsets v0, which Kafka 4 no longer accepts (KIP-896: the broker announces Fetch v4–v18, ListOffsets v1–v11 in ApiVersions, and kafka-node picks its own v2/v0 anyway); the broker drops the connection and kafka-node reports "refreshBrokerMetadata failed: Unable to find available brokers to try"',
  },
  'kafka-manager': {
    pkg: 'node-red-contrib-kafka-manager', version: '0.6.2', label: 'node-red-contrib-kafka-manager 0.6.2',
    how: 'kafka-node 5.0 ConsumerGroup ("Kafka Consumer Group" node), one node.send() per record; fromOffset earliest, encoding buffer',
    knownCause:
      'kafka-node 5.0 speaks Fetch v0–v2 and ListOffsets v0, which Kafka 4 no longer accepts (KIP-896: the broker announces Fetch v4–v18, ListOffsets v1–v11 in ApiVersions, and kafka-node picks its own v2/v0 anyway); the broker drops the connection and kafka-node reports "refreshBrokerMetadata failed: Unable to find available brokers to try"',
  },
  rdkafka: {
    pkg: 'node-red-contrib-rdkafka', version: '0.2.2', label: 'node-red-contrib-rdkafka 0.2.2',
    how: 'node-rdkafka (native librdkafka) flowing mode, one node.send() per record, payload as a string; it has no start setting (librdkafka starts a new group at the latest offset), so the bench commits offset 0 of every partition for its fresh group first',
  },
};

function log(text: string): void {
  process.stderr.write(`[bench:consumer] ${text}\n`);
}

// ---------------------------------------------------------------------------------------------
// Preparation

/** A copy of the built package (package.json + dist/), its node_modules linked to the repo's. */
function snapshotPackage(work: string): string {
  const dist = path.join(root, 'dist');
  if (!fs.existsSync(path.join(dist, 'nodes', 'kafka-broker'))) throw new Error('dist/ is missing: run `npm run build` first (npm run bench does)');
  const dir = path.join(work, 'package');
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(path.join(root, 'package.json'), path.join(dir, 'package.json'));
  fs.cpSync(dist, path.join(dir, 'dist'), { recursive: true });
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return dir;
}

/** Why our consumer node cannot run from the snapshot, or undefined when it can. */
function oursMissing(pkgDir: string): string | undefined {
  const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
  const nodes = pkg['node-red']?.nodes ?? {};
  for (const type of ['streamsafe-kafka-consumer', 'streamsafe-kafka-commit']) {
    const file = Object.entries(nodes).find(([k, v]) => k === type || String(v).includes(`${type}.js`))?.[1];
    if (!file) return `package.json "node-red".nodes has no ${type} (the node is not written or not registered yet)`;
    if (!fs.existsSync(path.join(pkgDir, String(file)))) return `${file} is not built`;
  }
  return undefined;
}

/** npm installs one other node into its own cache dir (not this package); returns the dir. */
async function installOther(n: OtherNode): Promise<string> {
  const dir = path.join(cacheDir(), `bench-consumer-${n.pkg.replace(/[@/]/g, '_')}-${n.version}-node${process.version.split('.')[0].slice(1)}`);
  const installed = path.join(dir, 'node_modules', n.pkg, 'package.json');
  if (fs.existsSync(installed)) return dir;
  log(`installing ${n.pkg}@${n.version} into ${dir}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'streamsafe-bench-consumer-node', private: true }, null, 2));
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  await execFileP(npm, ['install', '--no-audit', '--no-fund', '--loglevel=error', `${n.pkg}@${n.version}`], { cwd: dir, timeout: 900_000, maxBuffer: 16 << 20 });
  if (!fs.existsSync(installed)) throw new Error(`npm install in ${dir} did not install ${n.pkg}`);
  return dir;
}

/** A user dir holding one package: the other nodes register clashing types (kafka-broker, kafka-consumer). */
function userDirFor(work: string, name: string, pkg: string, target: string): string {
  const userDir = path.join(work, `userdir-${name}`);
  const link = path.join(userDir, 'node_modules', pkg);
  fs.mkdirSync(path.dirname(link), { recursive: true });
  fs.symlinkSync(target, link, 'dir');
  fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'bench-userdir', private: true }));
  return userDir;
}

/** The Java benchmark helper, compiled once per source and classpath (the test support's cache). */
function compileJavaBench(classpath: string): Promise<string> {
  return compileJavaSource(path.join(__dirname, '..', 'producer', 'JavaBench.java'), classpath);
}

// ---------------------------------------------------------------------------------------------
// The broker and the topic

let kafka: KafkaHandle;
let brokerPid: number | undefined;

function kafkajsAdmin() {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Kafka, logLevel } = require('kafkajs') as typeof import('kafkajs');
  return new Kafka({ brokers: kafka.brokers, clientId: 'bench-consumer-admin', logLevel: logLevel.NOTHING }).admin();
}

async function createTopic(topic: string): Promise<void> {
  const admin = kafkajsAdmin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

async function topicRecords(topic: string): Promise<{ total: number; perPartition: number[] }> {
  const admin = kafkajsAdmin();
  await admin.connect();
  try {
    const offs = await admin.fetchTopicOffsets(topic);
    const perPartition = offs.sort((a, b) => a.partition - b.partition).map((p) => Number(p.high) - Number(p.low));
    return { total: perPartition.reduce((a, b) => a + b, 0), perPartition };
  } finally {
    await admin.disconnect();
  }
}

/** Commits offset 0 of every partition for a fresh group (for a node with no "earliest" setting). */
async function commitStart(topic: string, groupId: string): Promise<void> {
  const admin = kafkajsAdmin();
  await admin.connect();
  try {
    await admin.setOffsets({ groupId, topic, partitions: Array.from({ length: PARTITIONS }, (_, partition) => ({ partition, offset: '0' })) });
  } finally {
    await admin.disconnect();
  }
}

function javaBin(): string {
  return process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

// kafka-consumer-perf-test.sh's heap (KAFKA_HEAP_OPTS=-Xmx512M) and kafka-run-class's G1 flags.
const JVM = ['-Xmx512M', '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-XX:InitiatingHeapOccupancyPercent=35', '-XX:+ExplicitGCInvokesConcurrent', '-XX:-UsePerfData', '-Djava.awt.headless=true', `-Dlog4j2.configurationFile=${toolsLog4jConfig}`];

async function fillTopic(topic: string, classes: string, templatesFile: string): Promise<{ ms: number }> {
  const cp = await kafkaClasspath();
  const t0 = performance.now();
  const props = ['acks=1', 'linger.ms=20', 'batch.size=262144', 'compression.type=none', 'enable.idempotence=false'];
  await new Promise<void>((resolve, reject) => {
    const child = spawn(javaBin(), [...JVM, `-Dstreamsafe.parent.pid=${process.pid}`, '-cp', `${classes}${path.delimiter}${cp}`, 'JavaBench', 'keyed', kafka.brokers.join(','), topic, templatesFile, String(RECORDS), '0', ...props], { stdio: ['ignore', 'pipe', 'pipe'] });
    trackChild(child);
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`JavaBench keyed exited ${code}: ${out.split('\n').slice(-20).join('\n')}`))));
  });
  return { ms: performance.now() - t0 };
}

// ---------------------------------------------------------------------------------------------
// Runs

export interface ConsumerResult {
  id: string;
  label: string;
  round?: number;
  ok: boolean;
  /** records that reached the end of the flow / the loop */
  count: number;
  complete: boolean;
  why?: string;
  elapsedMs: number;
  recordsPerSec: number;
  mbPerSec: number;
  /** client process CPU over first → last record, % of one core (Java: the whole JVM run) */
  cpuPct: number;
  peakRssMb: number;
  /** from the process's start (runtime started / consumer connecting) to the first record */
  startToFirstMs: number;
  /** broker CPU over the client's whole run, % of one core */
  brokerCpuPct: number;
  /** other processes' CPU over the client's whole run, % of one core (a busy machine shows here) */
  otherCpuPct: number;
  /** busy cores in the second before the run */
  busyBefore: number;
  rounds?: number[];
  notes: string[];
  error?: string;
}

let childDir: string | undefined;
/** The children run as plain JavaScript (transpiled here once), not through tsx. */
function childJs(work: string, name: string): string {
  if (!childDir) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const ts = require('typescript') as typeof import('typescript');
    childDir = path.join(work, 'js');
    fs.mkdirSync(childDir, { recursive: true });
    for (const f of ['nodered-child', 'raw-kafkajs-child']) {
      const src = fs.readFileSync(path.join(__dirname, `${f}.ts`), 'utf8');
      const out = ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } });
      fs.writeFileSync(path.join(childDir, `${f}.js`), out.outputText);
    }
  }
  return path.join(childDir, `${name}.js`);
}

interface Load {
  brokerMs: number;
  systemBusyMs: number;
  wallMs: number;
}
function loadStart(): Load {
  return { brokerMs: brokerPid ? procCpuMs(brokerPid) : NaN, systemBusyMs: systemCpuMs().busy, wallMs: performance.now() };
}
function loadSince(a: Load): Load {
  const b = loadStart();
  return { brokerMs: b.brokerMs - a.brokerMs, systemBusyMs: b.systemBusyMs - a.systemBusyMs, wallMs: b.wallMs - a.wallMs };
}

/** Polls a child's CPU time (ms) and peak RSS (kB) until it exits: the last values read. */
function pollCpu(pid: number | undefined): { stop(): number; hwmKb(): number } {
  let last = 0;
  let hwm = NaN;
  const timer = setInterval(() => {
    const v = pid ? procCpuMs(pid) : NaN;
    if (Number.isFinite(v)) last = v;
    const h = pid ? procStatusKb(pid, 'VmHWM') : NaN;
    if (Number.isFinite(h)) hwm = h;
  }, 100);
  return {
    stop() {
      clearInterval(timer);
      return last;
    },
    hwmKb: () => hwm,
  };
}

async function quiet(): Promise<number> {
  const q = await waitQuiet(QUIET_WAIT_MS);
  if (q.waitedMs > 2000) log(`  waited ${Math.round(q.waitedMs / 1000)} s for the machine to go quiet (busy: ${q.busyCores.toFixed(2)} cores)`);
  return q.busyCores;
}

const mb = (rps: number) => (rps * RECORD_BYTES) / 2 ** 20;

function finish(id: string, label: string, res: Record<string, unknown>, load: Load, childCpuMs: number, busyBefore: number): ConsumerResult {
  const rps = Number(res.recordsPerSec);
  const r: ConsumerResult = {
    id, label, ok: true,
    count: Number(res.count), complete: !!res.complete, why: String(res.why ?? ''),
    elapsedMs: Number(res.elapsedMs), recordsPerSec: rps, mbPerSec: mb(rps),
    cpuPct: Number(res.cpuPct), peakRssMb: Number(res.peakRssMb), startToFirstMs: Number(res.startToFirstMs),
    brokerCpuPct: (load.brokerMs / load.wallMs) * 100,
    otherCpuPct: Math.max(0, ((load.systemBusyMs - load.brokerMs - childCpuMs) / load.wallMs) * 100),
    busyBefore, notes: [],
  };
  if (!r.complete) r.notes.push(`read ${fmt(r.count)} of ${fmt(RECORDS)} records (${r.why}): records/s over what it read`);
  const errors = (res.errors as string[] | undefined) ?? [];
  if (errors.length) r.notes.push(`runtime errors logged: ${errors.slice(0, 3).join(' | ')}`);
  if (r.otherCpuPct > 30) r.notes.push(`other processes used ${Math.round(r.otherCpuPct)} % of a core during the run: the figure is depressed`);
  return r;
}

function runChild(file: string, config: object, timeoutMs: number, profileName?: string): Promise<{ result: Record<string, unknown>; load: Load; childCpuMs: number }> {
  const execArgv = ['--expose-gc'];
  let profileDir: string | undefined;
  if (CPU_PROF && profileName) {
    profileDir = path.join(PROFILE_DIR, `consumer-${profileName}`);
    fs.rmSync(profileDir, { recursive: true, force: true });
    fs.mkdirSync(profileDir, { recursive: true });
    execArgv.push('--cpu-prof', `--cpu-prof-dir=${profileDir}`);
  }
  return new Promise((resolve, reject) => {
    const load0 = loadStart();
    const child: ChildProcess = fork(file, [], {
      cwd: root,
      execArgv,
      env: { ...process.env, BENCH_CHILD_CONFIG: JSON.stringify(config), NODE_PATH: path.join(root, 'node_modules') },
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    });
    trackChild(child);
    const cpu = pollCpu(child.pid);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.length > 200_000) stderr = stderr.slice(-100_000);
    });
    let result: Record<string, unknown> | undefined;
    let error: string | undefined;
    let load: Load | undefined;
    let childCpuMs = 0;
    const timer = setTimeout(() => {
      error = `timed out after ${Math.round(timeoutMs / 1000)} s`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('message', (m: { type: string; result?: Record<string, unknown>; message?: string }) => {
      if (m.type === 'result') {
        result = m.result;
        load = loadSince(load0);
        childCpuMs = cpu.stop();
      } else if (m.type === 'error') error = m.message;
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      cpu.stop();
      const prof = profileDir && fs.readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
      if (prof) {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { summarize } = require('../producer/profile-summary') as typeof import('../producer/profile-summary');
        const text = summarize(path.join(profileDir!, prof), 30);
        fs.writeFileSync(path.join(profileDir!, 'summary.txt'), text + '\n');
        log(`  profile (whole process): ${path.join(profileDir!, prof)}\n${text}`);
      }
      if (result && load) resolve({ result, load, childCpuMs });
      else {
        const tail = stderr.trim().split('\n').slice(-8).join('\n');
        reject(new Error(`${error ?? `exited ${code ?? signal} with no result`}${tail ? `\n${tail}` : ''}`));
      }
    });
  });
}

interface Ctx {
  work: string;
  pkgDir: string;
  topic: string;
  userDirs: Partial<Record<ConsumerImpl, string>>;
  groupSeq: number;
}

const group = (ctx: Ctx, id: string) => `bench-consumer-${id}-${++ctx.groupSeq}-${Date.now().toString(36)}`;

async function runJava(ctx: Ctx): Promise<ConsumerResult> {
  const cp = await kafkaClasspath();
  const busyBefore = await quiet();
  const groupId = group(ctx, 'java');
  const args = [...JVM, '-cp', cp, CONSUMER_PERF_CLASS, '--bootstrap-server', kafka.brokers.join(','), '--topic', ctx.topic, '--messages', String(RECORDS), '--group', groupId, '--timeout', String(IDLE_MS)];
  const load0 = loadStart();
  const { out, cpuMs, hwmKb } = await new Promise<{ out: string; cpuMs: number; hwmKb: number }>((resolve, reject) => {
    const child = spawn(javaBin(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    trackChild(child);
    const cpu = pollCpu(child.pid);
    let text = '';
    child.stdout!.on('data', (d) => (text += d));
    child.stderr!.on('data', (d) => (text += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 10 * 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const cpuMs = cpu.stop();
      if (code === 0) resolve({ out: text, cpuMs, hwmKb: cpu.hwmKb() });
      else reject(new Error(`ConsumerPerformance exited ${code}: ${text.split('\n').slice(-15).join('\n')}`));
    });
  });
  const load = loadSince(load0);
  // start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
  const line = out.split('\n').map((l) => l.trim()).filter((l) => /^\d{4}-\d\d-\d\d/.test(l)).pop();
  if (!line) throw new Error(`no result line in ConsumerPerformance's output: ${out.split('\n').slice(-10).join('\n')}`);
  const f = line.split(',').map((s) => s.trim());
  const nMsg = Number(f[4]);
  const fetchMs = Number(f[7]);
  const rps = Number(f[9]);
  const r: ConsumerResult = {
    id: 'java', label: `Java ConsumerPerformance (kafka-tools ${kafkaVersion()})`, ok: true,
    count: nMsg, complete: nMsg >= RECORDS, elapsedMs: fetchMs, recordsPerSec: rps, mbPerSec: mb(rps),
    cpuPct: (cpuMs / load.wallMs) * 100, peakRssMb: hwmKb / 1024, startToFirstMs: NaN,
    brokerCpuPct: (load.brokerMs / load.wallMs) * 100,
    otherCpuPct: Math.max(0, ((load.systemBusyMs - load.brokerMs - cpuMs) / load.wallMs) * 100),
    busyBefore, notes: [`nMsg.sec over the whole run ${fmt(Number(f[5]))} (group join ${fmt(Number(f[6]))} ms included); the table uses fetch.nMsg.sec (join excluded)`],
  };
  if (!r.complete) r.notes.push(`read ${fmt(nMsg)} of ${fmt(RECORDS)}`);
  return r;
}

async function runRaw(ctx: Ctx): Promise<ConsumerResult> {
  const busyBefore = await quiet();
  const config = { brokers: kafka.brokers.join(','), topic: ctx.topic, groupId: group(ctx, 'raw'), pkgDir: ctx.pkgDir, records: RECORDS, idleMs: IDLE_MS, maxMs: 10 * 60_000, concurrency: RAW_CONCURRENCY };
  const { result, load, childCpuMs } = await runChild(childJs(ctx.work, 'raw-kafkajs-child'), config, 11 * 60_000, 'raw-kafkajs');
  const r = finish('raw-kafkajs', `raw kafkajs 2.2.4 eachBatch${RAW_CONCURRENCY > 1 ? `, ${RAW_CONCURRENCY} partitions concurrently` : ''}`, result, load, childCpuMs, busyBefore);
  r.notes.push(`${fmt(Number(result.batches))} batches, ${fmt(Number(result.avgBatch))} records per batch on average`);
  return r;
}

async function runNode(ctx: Ctx, impl: ConsumerImpl, label: string, maxMs: number): Promise<ConsumerResult> {
  const userDir = ctx.userDirs[impl];
  if (!userDir) throw new Error(`no user dir for ${impl}`);
  const groupId = group(ctx, impl);
  if (impl === 'rdkafka') await commitStart(ctx.topic, groupId);
  const busyBefore = await quiet();
  const maxOutstanding = impl === 'ours-wide' ? WIDE_OUTSTANDING : MAX_OUTSTANDING;
  const config: ConsumerChildConfig = { impl, brokers: kafka.brokers.join(','), topic: ctx.topic, groupId, userDir, records: RECORDS, idleMs: IDLE_MS, maxMs, maxOutstanding };
  const { result, load, childCpuMs } = await runChild(childJs(ctx.work, 'nodered-child'), config, maxMs + 90_000, impl.startsWith('ours') ? impl : undefined);
  const r = finish(impl, label, result, load, childCpuMs, busyBefore);
  if (result.count === 0) {
    r.ok = false;
    r.error = `no record reached the flow's end (${r.why})${(result.errors as string[]).length ? `; the runtime logged: ${(result.errors as string[]).slice(0, 3).join(' | ')}` : ''}`;
  }
  return r;
}

// ---------------------------------------------------------------------------------------------
// Report

interface Report {
  when: string;
  machine: string;
  node: string;
  kafka: string;
  nodeRed: string;
  options: Record<string, unknown>;
  topic: { records: number; partitions: number; perPartition: number[]; fillMs: number; recordBytes: number };
  results: ConsumerResult[];
  failed: Array<{ id: string; label: string; reason: string }>;
  skipped: string[];
  loadBefore: number[];
  loadAfter: number[];
  totalMs: number;
}

/** A run's name in a sentence. */
function shortName(r: ConsumerResult): string {
  if (r.id === 'ours') return 'this node, at least once';
  if (r.id === 'ours-wide') return 'this node, max outstanding raised';
  if (r.id === 'ours-periodic') return 'this node, periodic';
  return r.label.replace(/ in Node-RED.*$/, '').replace(/ \(kafka-tools.*$/, '');
}

const ratio = (a?: number, b?: number) => (a && b && Number.isFinite(a) && Number.isFinite(b) ? a / b : NaN);

function markdown(rep: Report): string {
  const get = (id: string) => rep.results.find((r) => r.id === id && r.ok);
  const raw = get('raw-kafkajs');
  const java = get('java');
  const ours = get('ours');
  const L: string[] = [];
  L.push(
    `Run ${rep.when}: ${rep.machine}, Node ${rep.node}, Node-RED ${rep.nodeRed}, Kafka ${rep.kafka} (one broker, the full JIT). ` +
      `One topic of ${rep.topic.partitions} partitions holding ${fmt(rep.topic.records)} records of ${rep.topic.recordBytes} B (the producer benchmark's tweet-like JSON keyed by user id, ` +
      `written once by the Java producer, uncompressed; ${fmt(Math.min(...rep.topic.perPartition))}–${fmt(Math.max(...rep.topic.perPartition))} per partition). ` +
      `Every reader reads it from the beginning with a fresh group; records/s = records / (first → last record reaching the end of the flow or the consumer's loop). ` +
      `Java, raw kafkajs and this node ran in ${rep.options.rounds} interleaved round(s), median shown; the other nodes once each, stopped after ${Math.round(Number(rep.options.otherMaxMs) / 1000)} s if not done. ` +
      `Load average (1, 5, 15 min) before the run ${rep.loadBefore.map((x) => x.toFixed(2)).join(', ')}, after ${rep.loadAfter.map((x) => x.toFixed(2)).join(', ')}.`,
  );
  const shown = rep.results.filter((r) => r.ok);
  const busy = shown.filter((r) => r.otherCpuPct > 30);
  L.push('');
  L.push(
    busy.length
      ? `**The machine was not quiet**: it is shared (other sessions' brokers and tests), and other processes used more than 30 % of a core during ${busy.length} of the ${shown.length} runs shown (${busy.map((r) => `${shortName(r)}: ${fmt(r.otherCpuPct)} %`).join('; ')}); ` +
          'each run waited (up to a limit) for a quiet second before it started. Compare ratios within this run, not absolute figures.'
      : `The machine was quiet during the runs shown: other processes used at most ${fmt(Math.max(0, ...shown.map((r) => r.otherCpuPct)))} % of a core (it is shared; each run waited for a quiet second before it started).`,
  );
  L.push('');
  L.push('| reader | records read | records/s | MB/s | vs raw kafkajs | vs Java | client CPU | broker CPU | other CPU | peak RSS | start → first record |');
  L.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  const sorted = [...rep.results.filter((r) => r.ok)];
  for (const r of sorted) {
    const rounds = r.rounds && r.rounds.length > 1 ? ` (rounds: ${r.rounds.map((x) => fmt(x)).join(', ')})` : '';
    L.push(
      `| ${r.label} | ${fmt(r.count)}${r.complete ? '' : ' (not all)'} | **${fmt(r.recordsPerSec)}**${rounds} | ${fmt(r.mbPerSec, 1)} | ${fmt(ratio(r.recordsPerSec, raw?.recordsPerSec), 2)}× | ${fmt(ratio(r.recordsPerSec, java?.recordsPerSec), 2)}× | ` +
        `${fmt(r.cpuPct)} % | ${fmt(r.brokerCpuPct)} % | ${fmt(r.otherCpuPct)} % | ${fmt(r.peakRssMb)} MB | ${Number.isFinite(r.startToFirstMs) ? `${fmt(r.startToFirstMs / 1000, 1)} s` : 'n/a'} |`,
    );
  }
  L.push('');
  L.push('Targets (issue 11):');
  L.push('');
  const others = rep.results.filter((r) => r.ok && Object.keys(OTHER_NODES).includes(r.id));
  if (ours) {
    const k = ratio(ours.recordsPerSec, raw?.recordsPerSec);
    L.push(`- this node ≥ 0.8 × raw kafkajs: ${fmt(k, 2)}× — **${k >= 0.8 ? 'met' : 'NOT MET'}**`);
    const best = others.sort((a, b) => b.recordsPerSec - a.recordsPerSec)[0];
    if (best) L.push(`- ahead of every other node: fastest other is ${best.label} at ${fmt(best.recordsPerSec)} records/s, this node ${fmt(ratio(ours.recordsPerSec, best.recordsPerSec), 2)}× of it — **${ours.recordsPerSec > best.recordsPerSec ? 'met' : 'NOT MET'}**`);
    else L.push('- ahead of every other node: no other node could be measured');
    L.push(`- ratio to Java ConsumerPerformance: ${fmt(ratio(ours.recordsPerSec, java?.recordsPerSec), 2)}× (raw kafkajs: ${fmt(ratio(raw?.recordsPerSec, java?.recordsPerSec), 2)}×)`);
  } else {
    L.push('- this node could not be measured in this run (see below): the targets are not evaluated');
    if (raw && java) L.push(`- raw kafkajs / Java ConsumerPerformance: ${fmt(ratio(raw.recordsPerSec, java.recordsPerSec), 2)}×`);
  }
  L.push('');
  L.push(
    "Where this node's time goes (a CPU profile of the node case, `--cpu-prof`, 2026-11-30, µs per record on the one JS thread): " +
      'kafkajs fetching and decoding 1.6, GC 1.0, Node-RED passing the msg to the commit node 0.85 (node.send, its metric and hook checks, the router, setImmediate, done), ' +
      'this package 0.86 (building the msg with msg.kafka, the finish token, the offset tracker, the commit node); raw kafkajs spends 1.3–1.7 plus 0.5–0.7 of GC and waits on fetches a third of its run. ' +
      "Node-RED's own share alone is about a third of raw kafkajs's whole time per record, so one msg per record cannot reach 0.8× on this machine; about 0.7× is the floor we estimate. " +
      'With max outstanding 10,000 the node is slower than with 100: more msgs held means more garbage.',
  );
  L.push('');
  L.push('How each reads:');
  L.push('');
  L.push(`- **Java ConsumerPerformance**: \`${CONSUMER_PERF_CLASS}\` from the Kafka jars the tests use (kafka-tools ${rep.kafka}), \`--messages ${fmt(rep.topic.records)} --group <fresh>\`, default consumer settings (auto.offset.reset earliest, max.poll.records 500), -Xmx512M and kafka-run-class's G1 flags; its fetch.nMsg.sec (time after the group join) is shown; its CPU is the whole JVM run's, start-up included.`);
  L.push(`- **raw kafkajs**: kafkajs 2.2.4 (this package's), our codecs registered, default consumer settings, \`eachBatch\` touching every message, heartbeat per batch, auto-resolve, auto-commit; partitionsConsumedConcurrently ${rep.options.rawConcurrency}. No msg objects, no Node-RED: the ceiling for a kafkajs-based node.`);
  L.push(`- **This node**: a fresh Node-RED runtime process (RED.init + RED.start, embedded) whose user dir holds only this package (a copy of the built dist/): streamsafe-kafka-consumer (start earliest, payload Buffer, max outstanding ${rep.options.maxOutstanding ? rep.options.maxOutstanding : 'the default'}, other settings their defaults) → streamsafe-kafka-commit for at least once (commitMode atLeastOnce, finishOn commitNode: the offset is committed once the msg reached the commit node); the same with max outstanding ${fmt(Number(rep.options.wideOutstanding))} (so the window never fills); with commitMode periodic it feeds a debug node instead. The bench counts msgs at the last node (an extra input listener).`);
  L.push('- **The other nodes**: installed from npm into `~/.cache/streamsafe` (one directory each, not this package), each in its own Node-RED runtime (some register the same type names: kafka-broker, kafka-consumer) with consumer → debug node, counted there, fresh group, earliest. As their code reads:');
  for (const [id, n] of Object.entries(OTHER_NODES)) L.push(`  - *${n.label}* (${id}): ${n.how}`);
  const notes = rep.results.filter((r) => r.notes.length);
  if (notes.length) {
    L.push('');
    L.push('Run notes:');
    L.push('');
    for (const r of notes) L.push(`- ${r.label}${r.round ? '' : ''}: ${r.notes.join('; ')}`);
  }
  if (rep.failed.length || rep.skipped.length) {
    L.push('');
    L.push('Could not be measured:');
    L.push('');
    for (const f of rep.failed) L.push(`- ${f.label}: ${f.reason}`);
    for (const s of rep.skipped) L.push(`- ${s}`);
  }
  L.push('');
  return L.join('\n');
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const renderFrom = opt('render');
  if (renderFrom) {
    const saved = JSON.parse(fs.readFileSync(renderFrom, 'utf8')) as Report;
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(path.join(outDir, 'consumer.md'), markdown(saved));
    process.stdout.write(markdown(saved));
    return;
  }
  const started = Date.now();
  const loadBefore = os.loadavg();
  process.env.STREAMSAFE_KAFKA_JVM_OPTS ??= '-XX:TieredStopAtLevel=4';
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'streamsafe-bench-consumer-'));
  const results: ConsumerResult[] = [];
  const failed: Report['failed'] = [];
  const skipped: string[] = [];
  let topicInfo: Report['topic'] | undefined;
  try {
    // --package=<dir>: measure another build of this package (package.json, dist/, node_modules) instead of a snapshot of this tree's.
    const pkgDir = opt('package') ? path.resolve(opt('package')!) : snapshotPackage(work);
    const userDirs: Ctx['userDirs'] = {};
    const oursWhy = oursMissing(pkgDir);
    const oursWanted = want('ours') || want('ours-wide') || want('ours-periodic');
    if (oursWanted && oursWhy) skipped.push(`this node (streamsafe-kafka-consumer): ${oursWhy}`);
    else if (oursWanted) {
      const d = userDirFor(work, 'ours', path.join('@streamsafe', 'node-red-twitter-kafka'), pkgDir);
      userDirs.ours = d;
      userDirs['ours-wide'] = d;
      userDirs['ours-periodic'] = d;
    }
    for (const [id, n] of Object.entries(OTHER_NODES) as Array<[OtherId, OtherNode]>) {
      if (!want(id)) continue;
      try {
        const dir = await installOther(n);
        userDirs[id] = userDirFor(work, id, n.pkg, path.join(dir, 'node_modules', n.pkg));
      } catch (e) {
        failed.push({ id, label: n.label, reason: `npm install failed: ${(e as Error).message.split('\n').slice(0, 3).join(' ')}` });
      }
    }
    const classpath = await kafkaClasspath();
    const classes = await compileJavaBench(classpath);
    const templatesFile = path.join(work, 'templates.tsv');
    writeTemplatesFile(templatesFile);

    log(`starting Kafka ${kafkaVersion()} (JVM opts: ${process.env.STREAMSAFE_KAFKA_JVM_OPTS})`);
    kafka = await startKafka({ mode: 'single', name: 'bench-consumer' });
    brokerPid = findPidByCmdline(path.join(kafka.dir, 'node-1', 'server.properties'));
    log(`broker ${kafka.brokers[0]} pid ${brokerPid ?? 'not found'}`);
    const topic = 'bench-consumer-1kb';
    await createTopic(topic);
    log(`filling ${topic} with ${fmt(RECORDS)} records of ${RECORD_BYTES} B (Java producer, keyed) ...`);
    const fill = await fillTopic(topic, classes, templatesFile);
    const inTopic = await topicRecords(topic);
    log(`  ${fmt(inTopic.total)} records in ${fmt(fill.ms / 1000, 1)} s; per partition ${inTopic.perPartition.join(' ')}`);
    if (inTopic.total !== RECORDS) throw new Error(`the topic holds ${inTopic.total} records, not ${RECORDS}`);
    topicInfo = { records: inTopic.total, partitions: PARTITIONS, perPartition: inTopic.perPartition, fillMs: fill.ms, recordBytes: RECORD_BYTES };
    const ctx: Ctx = { work, pkgDir, topic, userDirs, groupSeq: 0 };

    const once = async (id: string, label: string, fn: () => Promise<ConsumerResult>): Promise<ConsumerResult | undefined> => {
      log(`${label} ...`);
      try {
        const r = await fn();
        if (!r.ok) {
          log(`  FAILED: ${r.error}`);
          failed.push({ id, label, reason: r.error ?? 'failed' });
          return undefined;
        }
        log(`  ${fmt(r.count)} records, ${fmt(r.recordsPerSec)} records/s (${fmt(r.mbPerSec, 1)} MB/s), CPU ${fmt(r.cpuPct)} %, broker ${fmt(r.brokerCpuPct)} %, other ${fmt(r.otherCpuPct)} %, RSS ${fmt(r.peakRssMb)} MB${r.notes.length ? `; ${r.notes.join('; ')}` : ''}`);
        return r;
      } catch (e) {
        const msg = (e as Error).message;
        log(`  FAILED: ${msg}`);
        failed.push({ id, label, reason: msg.split('\n').slice(0, 4).join(' ').slice(0, 600) });
        return undefined;
      }
    };
    const median = (done: ConsumerResult[]) => {
      if (!done.length) return;
      const s = [...done].sort((a, b) => a.recordsPerSec - b.recordsPerSec);
      const m = s[Math.floor((s.length - 1) / 2)];
      if (done.length > 1) m.rounds = done.map((r) => r.recordsPerSec);
      results.push(m);
    };

    const core: Array<[string, string, () => Promise<ConsumerResult>]> = [];
    if (want('java')) core.push(['java', 'Java ConsumerPerformance', () => runJava(ctx)]);
    if (want('raw-kafkajs')) core.push(['raw-kafkajs', 'raw kafkajs eachBatch', () => runRaw(ctx)]);
    if (userDirs.ours && want('ours')) core.push(['ours', 'this node (streamsafe-kafka-consumer), at least once → commit node', () => runNode(ctx, 'ours', 'this node (streamsafe-kafka-consumer) in Node-RED, at least once → commit node', 10 * 60_000)]);
    if (userDirs['ours-wide'] && want('ours-wide')) core.push(['ours-wide', `this node, at least once, max outstanding ${fmt(WIDE_OUTSTANDING)}`, () => runNode(ctx, 'ours-wide', `this node in Node-RED, at least once → commit node, max outstanding ${fmt(WIDE_OUTSTANDING)}`, 10 * 60_000)]);
    if (userDirs['ours-periodic'] && want('ours-periodic')) core.push(['ours-periodic', 'this node, periodic commits → debug node', () => runNode(ctx, 'ours-periodic', 'this node in Node-RED, commitMode periodic → debug node', 10 * 60_000)]);
    const byId: Record<string, ConsumerResult[]> = {};
    const failedIds = new Set<string>();
    for (let i = 0; i < ROUNDS; i++) {
      const tag = ROUNDS > 1 ? ` (round ${i + 1} of ${ROUNDS})` : '';
      for (const [id, label, fn] of core) {
        if (failedIds.has(id)) continue; // a reader that cannot run is not tried every round
        const r = await once(id, label + tag, fn);
        if (r) (byId[id] ??= []).push(r);
        else failedIds.add(id);
      }
    }
    for (const [id] of core) median(byId[id] ?? []);
    for (const [id, n] of Object.entries(OTHER_NODES) as Array<[OtherId, OtherNode]>) {
      if (!want(id) || !userDirs[id]) continue;
      const r = await once(id, n.label, () => runNode(ctx, id, `${n.label} in Node-RED`, OTHER_MAX_MS));
      if (r) results.push(r);
      else if (n.knownCause) {
        const f = failed.find((x) => x.id === id);
        if (f) f.reason += `. Why: ${n.knownCause}`;
      }
    }
  } finally {
    await kafka?.stop().catch(() => {});
    fs.rmSync(work, { recursive: true, force: true });
  }

  const cpus = os.cpus();
  const rep: Report = {
    when: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
    machine: `${cpus.length} × ${cpus[0]?.model?.trim() ?? 'CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GB, ${os.type()} ${os.release()}`,
    node: process.version,
    kafka: kafkaVersion(),
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    nodeRed: require('node-red/package.json').version,
    options: { quick, records: RECORDS, rounds: ROUNDS, otherMaxMs: OTHER_MAX_MS, idleMs: IDLE_MS, maxOutstanding: MAX_OUTSTANDING, wideOutstanding: WIDE_OUTSTANDING, rawConcurrency: RAW_CONCURRENCY, only: only ?? null },
    topic: topicInfo ?? { records: 0, partitions: PARTITIONS, perPartition: [0], fillMs: NaN, recordBytes: RECORD_BYTES },
    results,
    failed,
    skipped,
    loadBefore,
    loadAfter: os.loadavg(),
    totalMs: Date.now() - started,
  };
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'consumer.json'), JSON.stringify(rep, null, 2) + '\n');
  fs.writeFileSync(path.join(outDir, 'consumer.md'), markdown(rep));
  process.stdout.write(markdown(rep));
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
