// The producer benchmark (GitHub issue 3): one broker, one record set (1 KB tweet-like JSON
// keyed by user id, 12 partitions), the Safe and the High-throughput preset side by side:
//
//   java-pp      kafka-tools ProducerPerformance, same producer settings (unkeyed payload file)
//   java-keyed   the Java client with our exact record set (keys + values), ProducerPerformance-style
//   raw-kafkajs  kafkajs sendBatch with ideal (full, pre-partitioned) batches, 5 in flight
//   node         our producer node in a real Node-RED runtime, one msg at a time
//   other nodes  node-red-contrib-kafka-suite, @oriolrius/node-red-contrib-kafka,
//                node-red-contrib-kafkajs, installed from npm, in the same runtime setup
//
// plus a low-rate run (100 msg/s: p99 within linger.ms + 10 ms) and a backpressure run
// (broker stopped, 200,000 records pushed in). Every run's topic is read back.
//
// --latency=0,1 runs every throughput case once per network case: 0 = loopback, N = the
// broker N ms away each way (toxiproxy, latency.ts; built once with `go install`), 0p =
// through toxiproxy without delay. The loopback case alone (the default) reports as before.
//
//   node --import tsx bench/producer/run.ts [--quick] [--only=node,raw-kafkajs,...]
//        [--presets=safe,throughput] [--latency=0,1] [--records=N] [--other-records=N]
//        [--no-lowrate] [--no-backpressure] [--cpu-prof] [--out=bench/results]
//   node --import tsx bench/producer/run.ts --render=bench/results/producer.json [--out=...]
//        writes producer.md again from a saved report (same flags as the run)
//
// Needs `npm run build` first (scripts/bench.js does it). Writes <out>/producer.json,
// <out>/producer.md (the tables) and <out>/producer.svg (the chart).
import { execFile, fork, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { cacheDir, kafkaClasspath, kafkaVersion, startKafka, type KafkaHandle } from '../../test/support/kafka';
import { trackChild } from '../../test/support/kafka/cleanup';
import { compileJava as compileJavaSource, toolsLog4jConfig } from '../../test/support/kafka/java';
import { renderChart } from './chart';
import { isLoopback, type NetCase, netLabel, netTag, parseNetCases, produceRoundTrip, type ProxiedKafka, putBehindToxiproxy, type RoundTrip, sameNet } from './latency';
import { summarize } from './profile-summary';
import {
  type ChildMessage,
  findPidByCmdline,
  fmt,
  javaProps,
  num,
  type PresetId,
  PRESETS,
  procCpuMs,
  type RunResult,
  systemCpuMs,
  waitQuiet,
} from './common';
import type { ChildConfig, Impl } from './nodered-child';
import { readBack, type ReadBackResult } from './readback';
import { RECORD_BYTES, TEMPLATES, writePayloadFile, writeTemplatesFile } from './records';

const execFileP = promisify(execFile);
const root = path.resolve(__dirname, '..', '..');
const PARTITIONS = 12;
const BUFFER_MEMORY = 33554432;

// ---------------------------------------------------------------------------------------------
// Options

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
const opt = (name: string): string | undefined => {
  const a = argv.find((x) => x.startsWith(`--${name}=`));
  return a?.slice(name.length + 3);
};
const quick = flag('quick');
const only = opt('only')?.split(',');
const presets = (opt('presets')?.split(',') ?? ['safe', 'throughput']) as PresetId[];
const RECORDS = Number(opt('records') ?? (quick ? 60_000 : 200_000));
const OTHER_RECORDS = Number(opt('other-records') ?? (quick ? 5_000 : 20_000));
const WARMUP = Number(opt('warmup') ?? (quick ? 2_000 : 5_000));
// Java keyed, raw kafkajs and this node run this many times each; the median round is reported.
const ROUNDS = Number(opt('rounds') ?? (quick ? 1 : 3));
const OTHER_WARMUP = Math.min(WARMUP, 1_000);
const LOWRATE_SECONDS = Number(opt('lowrate-seconds') ?? (quick ? 10 : 20));
const BACKPRESSURE_RECORDS = Number(opt('backpressure-records') ?? 200_000);
// The source keeps at most this many msgs outstanding: about buffer.memory of records, as
// ProducerPerformance's send() blocks once buffer.memory is full.
const WINDOW = Number(opt('window') ?? Math.floor(BUFFER_MEMORY / (RECORD_BYTES + 40)));
const CHUNK = Number(opt('chunk') ?? 100);
const outDir = path.resolve(root, opt('out') ?? path.join('bench', 'results'));
const cpuProf = flag('cpu-prof');
// This machine may be shared: before each measured run, wait up to this long for it to be idle.
const QUIET_WAIT_MS = Number(opt('quiet-wait-ms') ?? (quick ? 15_000 : 90_000));
const want = (id: string) => !only || only.includes(id);
// The network cases every throughput case runs in (latency.ts).
const NETS = parseNetCases(opt('latency') ?? '0');
const LOOPBACK: NetCase = { latencyMs: 0, proxied: false };

const OTHER_NODES: Record<string, { pkg: string; version: string; impl: Impl; label: string }> = {
  suite: { pkg: 'node-red-contrib-kafka-suite', version: '0.0.5', impl: 'suite', label: 'node-red-contrib-kafka-suite 0.0.5' },
  oriolrius: { pkg: '@oriolrius/node-red-contrib-kafka', version: '6.1.1', impl: 'oriolrius', label: '@oriolrius/node-red-contrib-kafka 6.1.1' },
  kafkajs: { pkg: 'node-red-contrib-kafkajs', version: '0.0.7', impl: 'kafkajs', label: 'node-red-contrib-kafkajs 0.0.7' },
};

function log(text: string): void {
  process.stderr.write(`[bench:producer] ${text}\n`);
}

// ---------------------------------------------------------------------------------------------
// Preparation: package snapshot, other nodes from npm, user dir, Java helper

/**
 * A copy of the built package (package.json + dist/), its node_modules linked to the
 * repo's: the runtime loads it as installed, and a rebuild of dist/ by someone else
 * during the benchmark cannot change what is measured.
 */
function snapshotPackage(work: string): string {
  const dist = path.join(root, 'dist');
  if (!fs.existsSync(path.join(dist, 'nodes', 'kafka-producer', 'streamsafe-kafka-producer.js'))) {
    throw new Error('dist/ is missing: run `npm run build` first (npm run bench does)');
  }
  const dir = path.join(work, 'package');
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(path.join(root, 'package.json'), path.join(dir, 'package.json'));
  fs.cpSync(dist, path.join(dir, 'dist'), { recursive: true });
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return dir;
}

/** npm installs the other Node-RED Kafka nodes once into the cache (not the repo). */
async function installOtherNodes(): Promise<string> {
  const deps = Object.fromEntries(Object.values(OTHER_NODES).map((n) => [n.pkg, n.version]));
  const key = createHash('sha1').update(JSON.stringify(deps)).update(process.version.split('.')[0]).digest('hex').slice(0, 12);
  const dir = path.join(cacheDir(), `bench-node-red-nodes-${key}`);
  const ok = () => Object.values(OTHER_NODES).every((n) => fs.existsSync(path.join(dir, 'node_modules', n.pkg, 'package.json')));
  if (ok()) return dir;
  log(`installing ${Object.entries(deps).map(([k, v]) => `${k}@${v}`).join(', ')} into ${dir}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'streamsafe-bench-nodes', private: true, dependencies: deps }, null, 2));
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  await execFileP(npm, ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, timeout: 600_000, maxBuffer: 16 << 20 });
  if (!ok()) throw new Error(`npm install in ${dir} did not install every package`);
  return dir;
}

function prepareUserDir(work: string, pkgDir: string, othersDir: string | undefined): string {
  const userDir = path.join(work, 'userdir');
  const nm = path.join(userDir, 'node_modules');
  fs.mkdirSync(path.join(nm, '@streamsafe'), { recursive: true });
  fs.symlinkSync(pkgDir, path.join(nm, '@streamsafe', 'node-red-twitter-kafka'), 'dir');
  if (othersDir) {
    for (const n of Object.values(OTHER_NODES)) {
      const target = path.join(othersDir, 'node_modules', n.pkg);
      const link = path.join(nm, n.pkg);
      fs.mkdirSync(path.dirname(link), { recursive: true });
      fs.symlinkSync(target, link, 'dir');
    }
  }
  fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'bench-userdir', private: true }));
  return userDir;
}

/** The Java benchmark helper, compiled once per source and classpath (the test support's cache). */
function compileJava(classpath: string): Promise<string> {
  return compileJavaSource(path.join(__dirname, 'JavaBench.java'), classpath);
}

// ---------------------------------------------------------------------------------------------
// The broker

let kafka: KafkaHandle;
let brokerPid: number | undefined;
/** The brokers behind toxiproxy, when a --latency case needs them. */
let proxied: ProxiedKafka | undefined;

/** What the client under test bootstraps from in a network case. */
function clientBrokers(net: NetCase): string[] {
  if (!net.proxied) return kafka.brokers;
  if (!proxied) throw new Error('no toxiproxy in front of the broker');
  return proxied.brokers;
}

/** CPU of the broker, of toxiproxy and of the whole machine, and wall time, between a run's window edges. */
class MeasuredWindow {
  private b = [NaN, NaN];
  private p = [0, 0];
  private s = [NaN, NaN];
  private w = [0, 0];

  start(): void {
    this.mark(0);
  }

  end(): void {
    this.mark(1);
  }

  private mark(i: number): void {
    this.b[i] = brokerCpuMs();
    // Once started, toxiproxy stays up (idle in loopback cases): keep its CPU out of "other" in every case.
    this.p[i] = proxied ? procCpuMs(proxied.toxiproxy.pid) : 0;
    this.s[i] = systemCpuMs().busy;
    this.w[i] = performance.now();
  }

  measures(): WindowMeasures {
    return { brokerCpuMs: this.b[1] - this.b[0], proxyCpuMs: this.p[1] - this.p[0], windowMs: this.w[1] - this.w[0], systemBusyMs: this.s[1] - this.s[0] };
  }
}

interface WindowMeasures {
  brokerCpuMs: number;
  /** toxiproxy's CPU (0 without it) */
  proxyCpuMs: number;
  windowMs: number;
  /** whole-machine busy CPU over the window, ms */
  systemBusyMs: number;
}

function brokerCpuMs(): number {
  if (!brokerPid) return NaN;
  return procCpuMs(brokerPid);
}

function locateBroker(): void {
  brokerPid = findPidByCmdline(path.join(kafka.dir, 'node-1', 'server.properties'));
  if (!brokerPid) log('warning: broker pid not found; broker CPU will be n/a');
}

async function createTopic(topic: string): Promise<void> {
  const { Kafka, logLevel } = require('kafkajs') as typeof import('kafkajs');
  const admin = new Kafka({ brokers: kafka.brokers, clientId: 'bench-admin', logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1, configEntries: [{ name: 'message.timestamp.type', value: 'LogAppendTime' }] }],
      waitForLeaders: true,
    });
  } finally {
    await admin.disconnect();
  }
}

async function deleteTopic(topic: string): Promise<void> {
  const { Kafka, logLevel } = require('kafkajs') as typeof import('kafkajs');
  const admin = new Kafka({ brokers: kafka.brokers, clientId: 'bench-admin', logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: [topic], timeout: 30_000 });
  } catch (e) {
    log(`could not delete ${topic}: ${(e as Error).message}`);
  } finally {
    await admin.disconnect();
  }
}

// ---------------------------------------------------------------------------------------------
// Children

interface ChildHooks {
  /** after the warm-up, before the measured window ('go') */
  beforeGo?(): Promise<void>;
  /** on a result with phase 'outage' (backpressure), before 'broker-back' */
  onOutage?(result: Record<string, unknown>): Promise<void>;
}

interface ChildRun extends WindowMeasures {
  result: Record<string, unknown>;
  /** busy cores (of other processes, mostly) in the second before the window */
  busyBefore: number;
}

async function quiet(): Promise<number> {
  const q = await waitQuiet(QUIET_WAIT_MS);
  if (q.waitedMs > 2000) log(`  waited ${Math.round(q.waitedMs / 1000)} s for the machine to go quiet (busy: ${q.busyCores.toFixed(2)} cores)`);
  return q.busyCores;
}

/**
 * The children run as plain JavaScript (transpiled here once), not through tsx: no loader
 * hooks thread, nothing but the runtime under test in the measured process.
 */
let childDir: string | undefined;
function childJs(work: string, name: string): string {
  if (!childDir) {
    const ts = require('typescript') as typeof import('typescript');
    childDir = path.join(work, 'js');
    fs.mkdirSync(childDir, { recursive: true });
    for (const f of ['common', 'records', 'nodered-child', 'raw-kafkajs-child']) {
      const src = fs.readFileSync(path.join(__dirname, `${f}.ts`), 'utf8');
      const out = ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } });
      fs.writeFileSync(path.join(childDir, `${f}.js`), out.outputText);
    }
  }
  return path.join(childDir, `${name}.js`);
}

export const PROFILE_DIR = path.join(os.tmpdir(), 'streamsafe-bench-profiles');

function runNodeChild(file: string, config: object, timeoutMs: number, hooks: ChildHooks = {}, profileName?: string, nodeArgs: string[] = []): Promise<ChildRun> {
  // BENCH_CHILD_NODE_ARGS: extra node flags for the children (e.g. --trace-gc), for diagnosis.
  const execArgv = ['--expose-gc', ...nodeArgs, ...(process.env.BENCH_CHILD_NODE_ARGS ?? '').split(' ').filter(Boolean)];
  let profileFile: string | undefined;
  if (profileName) {
    fs.mkdirSync(PROFILE_DIR, { recursive: true });
    profileFile = path.join(PROFILE_DIR, `${profileName}.cpuprofile`);
    fs.rmSync(profileFile, { force: true });
  }
  return new Promise((resolve, reject) => {
    const child: ChildProcess = fork(file, [], {
      cwd: root,
      execArgv,
      env: {
        ...process.env,
        BENCH_CHILD_CONFIG: JSON.stringify(config),
        NODE_PATH: path.join(root, 'node_modules'),
        ...(profileFile ? { BENCH_PROFILE: profileFile } : {}),
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    trackChild(child);
    let result: Record<string, unknown> | undefined;
    const measured = new MeasuredWindow();
    let busyBefore = NaN;
    let error: string | undefined;
    const timer = setTimeout(() => {
      error = `timed out after ${timeoutMs} ms`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('message', (m: ChildMessage) => {
      void (async () => {
        try {
          if (m.type === 'ready') {
            busyBefore = await quiet();
            await hooks.beforeGo?.();
            child.send({ type: 'go' });
          } else if (m.type === 'window') {
            if (m.edge === 'start') {
              measured.start();
            } else {
              measured.end();
            }
          } else if (m.type === 'progress') {
            log(`  ${m.text}`);
          } else if (m.type === 'result') {
            if (m.result.phase === 'outage') {
              await hooks.onOutage?.(m.result);
              child.send({ type: 'broker-back' });
            } else result = m.result;
          } else if (m.type === 'error') {
            error = m.message;
          }
        } catch (e) {
          error = String((e as Error).stack ?? e);
          child.kill('SIGKILL');
        }
      })();
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (result && profileFile && fs.existsSync(profileFile)) {
        const text = summarize(profileFile, 25);
        fs.writeFileSync(profileFile.replace(/\.cpuprofile$/, '.txt'), text + '\n');
        log(`  profile of the measured window: ${profileFile}\n${text}`);
      }
      if (result) resolve({ result, ...measured.measures(), busyBefore });
      else reject(new Error(`${path.basename(file)} failed (${code ?? signal}): ${error ?? 'no result'}`));
    });
  });
}

interface JavaRun extends WindowMeasures {
  stdout: string;
  result?: Record<string, unknown>;
  busyBefore: number;
}

async function runJava(classes: string, args: string[], timeoutMs: number): Promise<JavaRun> {
  const cp = await kafkaClasspath();
  const busyBefore = await quiet();
  const jvm = [
    // kafka-producer-perf-test.sh's: KAFKA_HEAP_OPTS=-Xmx512M and kafka-run-class's G1 flags.
    '-Xmx512M', '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-XX:InitiatingHeapOccupancyPercent=35',
    '-XX:+ExplicitGCInvokesConcurrent', '-XX:-UsePerfData', '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${toolsLog4jConfig}`, `-Dstreamsafe.parent.pid=${process.pid}`,
    '-cp', `${classes}${path.delimiter}${cp}`, 'JavaBench', ...args,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : 'java', jvm, { stdio: ['ignore', 'pipe', 'pipe'] });
    trackChild(child);
    let out = '';
    let err = '';
    const measured = new MeasuredWindow();
    let pending = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      pending += d.toString();
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl).trim();
        pending = pending.slice(nl + 1);
        if (line === 'BENCH-START') {
          measured.start();
        } else if (line === 'BENCH-END') {
          measured.end();
        }
      }
    });
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('BENCH-RESULT '));
      if (code !== 0 || !line) return reject(new Error(`JavaBench ${args[0]} exited ${code}\n${(err + out).split('\n').slice(-30).join('\n')}`));
      resolve({ stdout: out, result: JSON.parse(line.slice('BENCH-RESULT '.length)), ...measured.measures(), busyBefore });
    });
  });
}

/** ProducerPerformance's summary line: records, records/s, MB/s, avg, max, p50, p95, p99, p99.9. */
function parsePP(line: string) {
  const m = /(\d+) (?:steady state )?records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th/.exec(line);
  if (!m) return undefined;
  return { records: +m[1], recordsPerSec: +m[2], mbPerSec: +m[3], avgMs: +m[4], maxMs: +m[5], p50Ms: +m[6], p95Ms: +m[7], p99Ms: +m[8] };
}

// ---------------------------------------------------------------------------------------------
// Cases

interface Ctx {
  work: string;
  pkgDir: string;
  userDir: string;
  classes: string;
  templatesFile: string;
  payloadFile: string;
  seq: number;
}

const mb = (rps: number) => (rps * RECORD_BYTES) / (1024 * 1024);

/** Broker CPU, toxiproxy's and the rest of the machine's over the measured window. */
function addLoad(r: RunResult, run: WindowMeasures): RunResult {
  r.brokerCpuPct = (run.brokerCpuMs / run.windowMs) * 100;
  if (r.proxied) r.proxyCpuPct = (run.proxyCpuMs / run.windowMs) * 100;
  r.otherCpuPct = Math.max(0, ((run.systemBusyMs - run.brokerCpuMs - run.proxyCpuMs - r.cpuMs) / run.windowMs) * 100);
  if (r.otherCpuPct > 30) r.notes.push(`other processes used ${Math.round(r.otherCpuPct)} % of a core during the run: the figures are depressed`);
  return r;
}

async function withTopic<T>(ctx: Ctx, name: string, body: (topic: string) => Promise<T>): Promise<T> {
  const topic = `bench-${name}-${++ctx.seq}`;
  await createTopic(topic);
  try {
    return await body(topic);
  } finally {
    await deleteTopic(topic);
  }
}

function checkReadBack(r: RunResult, rb: ReadBackResult, expectedUnique: number): void {
  log(`  read back ${fmt(rb.total)} records in ${fmt(rb.readMs / 1000, 1)} s`);
  r.readBack = { total: rb.total, unique: rb.unique, duplicates: rb.duplicates, missing: rb.missing, wrongPartition: rb.wrongPartition, outOfOrder: rb.outOfOrder, keyOutOfOrder: rb.keyOutOfOrder, foreign: rb.foreign };
  if (rb.appendP50Ms !== undefined) {
    r.appendP50Ms = rb.appendP50Ms;
    r.appendP99Ms = rb.appendP99Ms;
  }
  if (rb.unique !== expectedUnique) r.notes.push(`read back ${rb.unique} distinct records, expected ${expectedUnique}`);
  if (rb.duplicates) r.notes.push(`${rb.duplicates} duplicates in the topic`);
  if (rb.wrongPartition) r.notes.push(`${rb.wrongPartition} records on a partition other than the Java client's (murmur2) choice`);
  if (rb.keyOutOfOrder) r.notes.push(`**per-key order broken**: ${rb.keyOutOfOrder} records stored after a later-sent record with the same key (${rb.keyOutOfOrderMeasured} among the measured records, ${rb.keyOutOfOrder - rb.keyOutOfOrderMeasured} in the warm-up)`);
  if (rb.outOfOrder) {
    const warm = rb.outOfOrder - rb.outOfOrderMeasured;
    r.notes.push(
      `${rb.outOfOrder} records stored behind a later-sent record of their partition (${rb.outOfOrderMeasured} among the measured records, ${warm} in the warm-up; first: ` +
        rb.orderSamples.slice(0, 3).map((x) => `seq ${x.seq} after ${x.after} on partition ${x.partition}`).join(', ') + ')',
    );
  }
}

/** A topic name part for the case: 'java-keyed-safe', 'java-keyed-safe-1ms'. */
function caseName(base: string, net: NetCase): string {
  const tag = netTag(net);
  return tag ? `${base}-${tag}` : base;
}

async function javaPP(ctx: Ctx, preset: PresetId, net: NetCase): Promise<RunResult> {
  return withTopic(ctx, caseName(`java-pp-${preset}`, net), async (topic) => {
    const total = WARMUP + RECORDS;
    const run = await runJava(ctx.classes, [
      'pp', '--topic', topic, '--num-records', String(total), '--throughput', '-1', '--payload-file', ctx.payloadFile,
      '--warmup-records', String(WARMUP), '--reporting-interval', '600000',
      '--command-property', `bootstrap.servers=${clientBrokers(net).join(',')}`, ...javaProps(PRESETS[preset]),
    ], 600_000);
    // With --warmup-records it prints the whole run's line, then "N steady state records sent, ...".
    const lines = run.stdout.split('\n');
    const summary = lines.filter((l) => l.includes('steady state records sent')).map(parsePP).find(Boolean);
    const overall = lines.filter((l) => !l.includes('steady state')).map(parsePP).filter(Boolean).pop();
    const s = summary ?? overall;
    if (!s) throw new Error(`ProducerPerformance printed no summary:\n${run.stdout}`);
    const res = run.result!;
    const wallMs = Number(res.wallMs);
    const r: RunResult = {
      id: 'java-pp', preset, impl: 'java-pp', label: `Java ProducerPerformance (kafka-tools ${kafkaVersion()})`, latencyMs: net.latencyMs, proxied: net.proxied,
      records: s.records, elapsedMs: (s.records / s.recordsPerSec) * 1000, recordsPerSec: s.recordsPerSec, mbPerSec: s.mbPerSec,
      ackP50Ms: s.p50Ms, ackP99Ms: s.p99Ms, ackMaxMs: s.maxMs,
      cpuMs: Number(res.cpuMs), cpuPct: (Number(res.cpuMs) / wallMs) * 100,
      peakRssMb: Number(res.peakRssKb) / 1024, acked: overall ? overall.records - WARMUP : null, errors: 0,
      notes: [
        'unkeyed (ProducerPerformance has no keys: sticky partitioner); payloads drawn at random from the record set; client CPU over the whole JVM run (start-up included); latencies in whole ms',
      ],
    };
    addLoad(r, run);
    // Its payloads are the first TEMPLATES records of the set (seq 0..4095), drawn at random.
    const rb = await readBack({ brokers: kafka.brokers, topic, total: TEMPLATES, partitions: PARTITIONS, pkgDir: ctx.pkgDir, countOnly: true, unkeyed: true });
    checkReadBack(r, rb, total);
    r.readBack!.missing = total - rb.total;
    return r;
  });
}

async function javaKeyed(ctx: Ctx, preset: PresetId, net: NetCase): Promise<RunResult> {
  return withTopic(ctx, caseName(`java-keyed-${preset}`, net), async (topic) => {
    const total = WARMUP + RECORDS;
    const run = await runJava(ctx.classes, ['keyed', clientBrokers(net).join(','), topic, ctx.templatesFile, String(total), String(WARMUP), ...javaProps(PRESETS[preset])], 600_000);
    const res = run.result!;
    const elapsedMs = Number(res.elapsedMs);
    const rps = Number(res.recordsPerSec);
    const r: RunResult = {
      id: 'java-keyed', preset, impl: 'java-keyed', label: `Java KafkaProducer ${kafkaVersion()}, our keyed record set`, latencyMs: net.latencyMs, proxied: net.proxied,
      records: RECORDS, elapsedMs, recordsPerSec: rps, mbPerSec: mb(rps),
      ackP50Ms: num(res.p50Ms), ackP99Ms: num(res.p99Ms), ackMaxMs: num(res.maxMs),
      cpuMs: Number(res.cpuMs), cpuPct: (Number(res.cpuMs) / elapsedMs) * 100,
      peakRssMb: Number(res.peakRssKb) / 1024, acked: Number(res.acked) - WARMUP, errors: Number(res.errors), notes: [],
    };
    addLoad(r, run);
    const rb = await readBack({ brokers: kafka.brokers, topic, total, partitions: PARTITIONS, pkgDir: ctx.pkgDir });
    checkReadBack(r, rb, total);
    return r;
  });
}

async function rawKafkajs(ctx: Ctx, preset: PresetId, net: NetCase): Promise<RunResult> {
  return withTopic(ctx, caseName(`raw-kafkajs-${preset}`, net), async (topic) => {
    const total = WARMUP + RECORDS;
    const run = await runNodeChild(
      childJs(ctx.work, 'raw-kafkajs-child'),
      { preset, brokers: clientBrokers(net).join(','), topic, pkgDir: ctx.pkgDir, records: RECORDS, warmup: WARMUP, partitions: PARTITIONS, timeoutMs: 300_000 },
      600_000,
      {},
      cpuProf ? caseName(`raw-kafkajs-${preset}`, net) : undefined,
    );
    const res = run.result;
    const rps = Number(res.recordsPerSec);
    const r: RunResult = {
      id: 'raw-kafkajs', preset, impl: 'raw-kafkajs', label: 'raw kafkajs 2.2.4 sendBatch, ideal batches', latencyMs: net.latencyMs, proxied: net.proxied,
      records: RECORDS, elapsedMs: Number(res.elapsedMs), recordsPerSec: rps, mbPerSec: mb(rps),
      ackP50Ms: num(res.ackP50Ms), ackP99Ms: num(res.ackP99Ms), ackMaxMs: num(res.ackMaxMs),
      cpuMs: Number(res.cpuMs), cpuPct: Number(res.cpuPct),
      peakRssMb: Number(res.peakRssMb), acked: Number(res.acked), errors: Number(res.failed),
      notes: [`${res.perBatch} records per partition batch, ${PARTITIONS} batches per request, 5 requests in flight; latency from sendBatch call (no linger)`],
    };
    addLoad(r, run);
    const rb = await readBack({ brokers: kafka.brokers, topic, total, partitions: PARTITIONS, pkgDir: ctx.pkgDir });
    checkReadBack(r, rb, total);
    return r;
  });
}

function childConfig(ctx: Ctx, impl: Impl, preset: PresetId, topic: string, extra: Partial<ChildConfig>): ChildConfig {
  return {
    mode: 'throughput', impl, preset, brokers: kafka.brokers.join(','), topic, userDir: ctx.userDir,
    records: RECORDS, warmup: WARMUP, window: WINDOW, chunk: CHUNK,
    sendTimesFile: path.join(ctx.work, `${topic}.sendtimes`), statusFile: path.join(ctx.work, `${topic}.status`),
    timeoutMs: 300_000, ...extra,
  };
}

async function nodeRed(ctx: Ctx, impl: Impl, preset: PresetId, net: NetCase): Promise<RunResult> {
  const other = Object.values(OTHER_NODES).find((n) => n.impl === impl);
  const records = other ? OTHER_RECORDS : RECORDS;
  const warmup = other ? OTHER_WARMUP : WARMUP;
  return withTopic(ctx, caseName(`${impl}-${preset}`, net), async (topic) => {
    const cfg = childConfig(ctx, impl, preset, topic, {
      records, warmup, timeoutMs: other ? 180_000 : 300_000,
      brokers: clientBrokers(net).join(','), adminBrokers: kafka.brokers.join(','),
    });
    const run = await runNodeChild(childJs(ctx.work, 'nodered-child'), cfg, 600_000, {}, cpuProf ? caseName(`${impl === 'ours' ? 'node' : impl}-${preset}`, net) : undefined);
    const res = run.result;
    const rps = Number(res.recordsPerSec);
    const r: RunResult = {
      id: impl === 'ours' ? 'node' : impl, preset, impl: impl === 'ours' ? 'node' : 'other',
      label: impl === 'ours' ? 'this node (streamsafe-kafka-producer) in Node-RED' : `${other!.label} in Node-RED`,
      latencyMs: net.latencyMs, proxied: net.proxied,
      records, elapsedMs: Number(res.elapsedMs), recordsPerSec: rps, mbPerSec: mb(rps),
      ackP50Ms: num(res.ackP50Ms), ackP99Ms: num(res.ackP99Ms), ackMaxMs: num(res.ackMaxMs),
      cpuMs: Number(res.cpuMs), cpuPct: Number(res.cpuPct),
      peakRssMb: Number(res.peakRssMb), acked: res.acked === null ? null : Number(res.acked), errors: Number(res.failed), notes: [],
    };
    addLoad(r, run);
    const m = res.nodeMetrics as Record<string, number> | undefined;
    if (m) {
      r.notes.push(
        `its metrics at the end: batch-size-avg ${fmt(m['batch-size-avg'])} B, records-per-request-avg ${fmt(m['records-per-request-avg'], 1)}, ` +
          `request-latency-avg ${fmt(m['request-latency-avg'], 1)} ms${Number.isFinite(m['compression-rate-avg']) && m['compression-rate-avg'] ? `, compression-rate-avg ${fmt(m['compression-rate-avg'], 3)}` : ''}`,
      );
    }
    if (!res.complete) r.notes.push(`not complete within the time limit: ${res.acked ?? '?'} acknowledged, ${res.failed} failed`);
    if (Number(res.failed)) r.notes.push(`${res.failed} failed: ${JSON.stringify(res.errors)}`);
    const rb = await readBack({
      brokers: kafka.brokers, topic, total: warmup + records, partitions: PARTITIONS, pkgDir: ctx.pkgDir,
      sendTimesFile: cfg.sendTimesFile, latencyFrom: warmup,
    });
    checkReadBack(r, rb, warmup + records);
    return r;
  });
}

interface LowRateResult {
  preset: PresetId;
  rate: number;
  records: number;
  lingerMs: number;
  ackP50Ms: number;
  ackP99Ms: number;
  ackMaxMs: number;
  appendP50Ms?: number;
  appendP99Ms?: number;
  limitMs: number;
  pass: boolean;
  cpuPct: number;
  readBack: { unique: number; duplicates: number; missing: number };
}

async function lowRate(ctx: Ctx, preset: PresetId): Promise<LowRateResult> {
  const rate = 100;
  const records = rate * LOWRATE_SECONDS;
  return withTopic(ctx, `lowrate-${preset}`, async (topic) => {
    const cfg = childConfig(ctx, 'ours', preset, topic, { mode: 'lowrate', rate, records, warmup: 200 });
    const run = await runNodeChild(childJs(ctx.work, 'nodered-child'), cfg, 300_000);
    const res = run.result;
    const rb = await readBack({ brokers: kafka.brokers, topic, total: 200 + records, partitions: PARTITIONS, pkgDir: ctx.pkgDir, sendTimesFile: cfg.sendTimesFile, latencyFrom: 200 });
    const limitMs = PRESETS[preset].lingerMs + 10;
    return {
      preset, rate, records, lingerMs: PRESETS[preset].lingerMs,
      ackP50Ms: num(res.ackP50Ms), ackP99Ms: num(res.ackP99Ms), ackMaxMs: num(res.ackMaxMs),
      appendP50Ms: rb.appendP50Ms, appendP99Ms: rb.appendP99Ms,
      limitMs, pass: num(res.ackP99Ms) <= limitMs && rb.unique === 200 + records && !rb.duplicates,
      cpuPct: Number(res.cpuPct),
      readBack: { unique: rb.unique, duplicates: rb.duplicates, missing: rb.missing },
    };
  });
}

interface BackpressureResult {
  pushed: number;
  accepted: number;
  failed: number;
  errorKinds: Record<string, number>;
  firstError: string;
  rssBeforeMb: number;
  peakRssMb: number;
  growthMb: number;
  limitMb: number;
  rssPass: boolean;
  /** the same flood into a core function node that refuses every msg (no broker): the runtime's own cost */
  control?: { rssBeforeMb: number; peakRssMb: number; growthMb: number; refused: number };
  /** node flags the Node-RED process ran with (none: V8's defaults) */
  nodeArgs: string[];
  /** our growth beyond the control's */
  beyondControlMb?: number;
  beyondControlPass?: boolean;
  errorPass: boolean;
  maxBlockMs: number;
  outageMs: number;
  recoverMs: number;
  ackedAfterReturn: number;
  inTopic: { accepted: number; acceptedTwice: number; acceptedMissing: number; acceptedFailed: number; failedButWritten: number; unsettled: number };
  exactlyOncePass: boolean;
  /** heap and Buffer memory (MB) before the push, while the excess waited, after it failed */
  memory?: Record<string, { heapUsed: number; external: number; arrayBuffers: number } | undefined>;
  /** failures other than BufferExhaustedError: which seqs (first 20) and when (ms after the push began) */
  otherErrors: Array<{ error: string; count: number; seqs: unknown[]; atMs: number[] }>;
}

async function backpressure(ctx: Ctx, nodeArgs: string[] = []): Promise<BackpressureResult> {
  const preset: PresetId = 'safe';
  const warmup = 1000;
  const maxBlockMs = Number(opt('max-block-ms') ?? 60000);
  // First the control: the same flood into a core function node that sends every measured
  // msg to Catch and holds nothing. Its RSS growth is what Node-RED itself (and this source)
  // spends on 200,000 msgs and 200,000 Catch msgs, before a producer does anything.
  const control = await withTopic(ctx, 'backpressure-control', async (topic) => {
    const cfg = childConfig(ctx, 'control', preset, topic, { mode: 'backpressure', records: BACKPRESSURE_RECORDS, warmup, maxBlockMs: 0, timeoutMs: 60_000 });
    const run = await runNodeChild(childJs(ctx.work, 'nodered-child'), cfg, 300_000, {}, undefined, nodeArgs);
    const o = (run.result.outage ?? {}) as Record<string, number>;
    return { rssBeforeMb: Number(o.rssBeforeMb), peakRssMb: Number(o.peakRssMb), growthMb: Number(o.peakRssMb) - Number(o.rssBeforeMb), refused: Number(o.failedDuringOutage) };
  });
  log(`  control (function node refusing every msg): RSS growth ${fmt(control.growthMb)} MB, ${fmt(control.refused)} msgs to Catch`);
  return withTopic(ctx, nodeArgs.length ? 'backpressure-flags' : 'backpressure', async (topic) => {
    const cfg = childConfig(ctx, 'ours', preset, topic, { mode: 'backpressure', records: BACKPRESSURE_RECORDS, warmup, maxBlockMs, timeoutMs: 180_000 });
    let stoppedAt = 0;
    let outage: Record<string, unknown> = {};
    const run = await runNodeChild(childJs(ctx.work, 'nodered-child'), cfg, 600_000, {
      beforeGo: async () => {
        log('  stopping the broker');
        await kafka.stopBroker(0);
        stoppedAt = Date.now();
      },
      onOutage: async (o) => {
        outage = o;
        log('  starting the broker again');
        await kafka.startBroker(0);
        locateBroker();
      },
    }, undefined, nodeArgs);
    const res = run.result;
    const o = (res.outage ?? outage) as Record<string, number | string | Record<string, number>>;
    const status = new Uint8Array(fs.readFileSync(cfg.statusFile));
    const rb = await readBack({ brokers: kafka.brokers, topic, total: warmup + BACKPRESSURE_RECORDS, partitions: PARTITIONS, pkgDir: ctx.pkgDir });
    // Accepted: taken into the buffer, i.e. not refused with BufferExhaustedError. Each must be
    // acknowledged and in the topic once; a refused one must not be in the topic.
    let accepted = 0;
    let acceptedTwice = 0;
    let acceptedMissing = 0;
    let acceptedFailed = 0;
    let failedButWritten = 0;
    let unsettled = 0;
    let refused = 0;
    for (let i = warmup; i < status.length; i++) {
      const c = rb.counts[i];
      if (status[i] === 2) {
        refused++;
        if (c > 0) failedButWritten++;
        continue;
      }
      accepted++;
      if (status[i] === 0) unsettled++;
      if (status[i] === 3) acceptedFailed++;
      if (c === 0) acceptedMissing++;
      if (c > 1) acceptedTwice++;
    }
    const rssBefore = Number(o.rssBeforeMb);
    const peak = Number(o.peakRssMb);
    const limitMb = BUFFER_MEMORY / (1024 * 1024) + 64;
    // Failures over the whole run (some come after the outage report, while the broker restarts).
    const errors = (res.errors ?? o.errors ?? {}) as Record<string, number>;
    const samples = (res.errorSamples ?? o.errorSamples ?? {}) as unknown as Record<string, { seqs: unknown[]; atMs: number[] }>;
    const otherErrors = Object.entries(errors)
      .filter(([k]) => !k.startsWith('BufferExhaustedError'))
      .map(([k, count]) => ({ error: k, count, seqs: samples[k]?.seqs ?? [], atMs: samples[k]?.atMs ?? [] }));
    const failed = refused;
    return {
      pushed: BACKPRESSURE_RECORDS, accepted, failed, errorKinds: errors, firstError: String(o.firstError ?? ''),
      rssBeforeMb: rssBefore, peakRssMb: peak, growthMb: peak - rssBefore, limitMb,
      rssPass: peak - rssBefore <= limitMb,
      nodeArgs,
      control,
      beyondControlMb: peak - rssBefore - control.growthMb,
      beyondControlPass: peak - rssBefore - control.growthMb <= limitMb,
      errorPass: failed > 0 && Object.keys(errors).some((k) => k.startsWith('BufferExhaustedError')),
      maxBlockMs, outageMs: Date.now() - stoppedAt, recoverMs: Number(res.recoverMs),
      ackedAfterReturn: accepted - acceptedFailed - unsettled - Number(o.ackedDuringOutage ?? 0),
      inTopic: { accepted, acceptedTwice, acceptedMissing, acceptedFailed, failedButWritten, unsettled },
      exactlyOncePass: accepted > 0 && !acceptedTwice && !acceptedMissing && !acceptedFailed && !failedButWritten && !unsettled && rb.duplicates === 0,
      memory: { before: o.memBeforeMb as never, whileBlocked: o.memWhileBlockedMb as never, afterFail: o.memAfterFailMb as never },
      otherErrors,
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Report

function ratio(a?: number, b?: number): number {
  return a && b ? a / b : NaN;
}

function table(results: RunResult[]): string {
  // Proxied runs add toxiproxy's CPU and traffic; loopback tables keep their columns.
  const proxy = results.some((r) => r.proxied);
  const head = `| preset | producer | records | records/s | MB/s | ack p50 ms | ack p99 ms | send→append p50 / p99 ms | client CPU | broker CPU |${proxy ? ' toxiproxy CPU | via toxiproxy MB up / down |' : ''} other procs CPU | peak RSS MB | acknowledged | read back: distinct / dup / missing |`;
  const sep = `| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |${proxy ? ' ---: | ---: |' : ''} ---: | ---: | ---: | --- |`;
  const rows = results.map((r) => {
    const rb = r.readBack;
    const proxyCells = proxy ? ` ${fmt(r.proxyCpuPct)} % | ${r.proxyMb ? `${fmt(r.proxyMb.upstream, 1)} / ${fmt(r.proxyMb.downstream, 1)}` : 'n/a'} |` : '';
    return `| ${PRESETS[r.preset].label} | ${r.label} | ${fmt(r.records)} | **${fmt(r.recordsPerSec)}**${r.rounds ? `<br><sub>${fmt(Math.min(...r.rounds))}–${fmt(Math.max(...r.rounds))}</sub>` : ''} | ${fmt(r.mbPerSec, 1)} | ${fmt(r.ackP50Ms, 1)} | ${fmt(r.ackP99Ms, 1)} | ${r.appendP50Ms !== undefined ? `${fmt(r.appendP50Ms, 0)} / ${fmt(r.appendP99Ms, 0)}` : 'n/a'} | ${fmt(r.cpuPct)} % | ${fmt(r.brokerCpuPct)} % |${proxyCells} ${fmt(r.otherCpuPct)} % | ${fmt(r.peakRssMb)} | ${r.acked === null ? 'not reported' : fmt(r.acked)}${r.errors ? ` (${fmt(r.errors)} failed)` : ''} | ${rb ? `${fmt(rb.unique)} / ${fmt(rb.duplicates)} / ${fmt(rb.missing)}` : 'n/a'} |`;
  });
  return [head, sep, ...rows].join('\n');
}

/** One preset in one network case: records/s of each contender and the node's ratios. */
interface LatencyRow {
  preset: PresetId;
  latencyMs: number;
  proxied: boolean;
  network: string;
  /** records/s by case id (java-pp, java-keyed, raw-kafkajs, node, suite, ...) */
  recordsPerSec: Record<string, number>;
  bestOther?: { id: string; label: string; recordsPerSec: number };
  nodeOverBestOther: number | null;
  nodeOverRawKafkajs: number | null;
  nodeOverJavaKeyed: number | null;
  nodeOverJavaPP: number | null;
}

function latencyRows(results: RunResult[]): LatencyRow[] {
  const rows: LatencyRow[] = [];
  const nan = (v: number) => (Number.isFinite(v) ? v : null);
  for (const preset of presets) {
    for (const net of NETS) {
      const here = results.filter((r) => r.preset === preset && sameNet(r, net));
      if (!here.length) continue;
      const get = (id: string) => here.find((r) => r.id === id)?.recordsPerSec;
      const best = here.filter((r) => r.impl === 'other').sort((a, b) => b.recordsPerSec - a.recordsPerSec)[0];
      const node = get('node');
      rows.push({
        preset, latencyMs: net.latencyMs, proxied: net.proxied, network: netLabel(net),
        recordsPerSec: Object.fromEntries(here.map((r) => [r.id, r.recordsPerSec])),
        bestOther: best && { id: best.id, label: best.label.replace(' in Node-RED', ''), recordsPerSec: best.recordsPerSec },
        nodeOverBestOther: nan(ratio(node, best?.recordsPerSec)),
        nodeOverRawKafkajs: nan(ratio(node, get('raw-kafkajs'))),
        nodeOverJavaKeyed: nan(ratio(node, get('java-keyed'))),
        nodeOverJavaPP: nan(ratio(node, get('java-pp'))),
      });
    }
  }
  return rows;
}

/** The network case of the main table, the targets and the chart: loopback when it ran. */
function primaryNet(): NetCase {
  return NETS.find(isLoopback) ?? NETS[0];
}

function primaryResults(results: RunResult[]): RunResult[] {
  return results.filter((r) => sameNet(r, primaryNet()));
}

/** The section on the network cases (only when one of them is proxied). */
function latencySection(rep: Report): string[] {
  const net = rep.network;
  if (!net?.cases.some((c) => c.proxied)) return [];
  const lines: string[] = [];
  const delays = [...new Set(net.cases.filter((c) => c.latencyMs).map((c) => c.latencyMs))].join(' and ');
  lines.push(`### Broker latency${delays ? `: ${delays} ms away each way` : ''}`);
  lines.push('');
  lines.push(
    `On loopback a produce request costs almost nothing, which flatters a producer that sends one request per msg. In the proxied cases every client under test ` +
      `reaches the broker through toxiproxy ${net.toxiproxy ?? ''} with a \`latency\` toxic of N ms on both directions (client → broker and broker → client, no jitter): ` +
      `the broker has a second listener, advertised at the proxy's address, so metadata sends every connection (bootstrap and leaders) through the proxy; ` +
      `the controller, topic set-up and the read-back use the direct listener. toxiproxy shares the same cores: its CPU is its own column, not in "other procs" ` +
      `(\`--latency=0,0p,1\` adds a run through the proxy without delay, to tell its cost from the delay's). ` +
      `Same records, presets, rounds and read-back as above; the low-rate and backpressure runs are loopback only.`,
  );
  lines.push('');
  if (net.roundTrips.length) {
    const base = net.roundTrips.find((t) => !t.proxied);
    lines.push('Check: produce round trip of one record (kafkajs, acks all, one request at a time, partition 0), after 5 untimed sends:');
    lines.push('');
    lines.push('| network | sends | p50 ms | p90 ms | min ms | added p50 vs loopback | brokers named by metadata |');
    lines.push('| --- | ---: | ---: | ---: | ---: | ---: | --- |');
    for (const t of net.roundTrips) {
      const added = base && t.proxied ? t.p50Ms - base.p50Ms : NaN;
      const want = 2 * t.latencyMs;
      const check = Number.isFinite(added) && t.latencyMs ? ` (≥ ${want} ms: ${added >= want ? 'met' : '**not met**'})` : '';
      lines.push(`| ${netLabel(t)} | ${t.sends} | ${fmt(t.p50Ms, 2)} | ${fmt(t.p90Ms, 2)} | ${fmt(t.minMs, 2)} | ${Number.isFinite(added) ? `+${fmt(added, 2)} ms${check}` : '–'} | ${t.advertised.join(', ')}${t.proxied ? ' (toxiproxy)' : ''} |`);
    }
    lines.push('');
  }
  const ids = ['node', 'raw-kafkajs', 'java-keyed', 'java-pp'];
  lines.push('| preset | network | this node | raw kafkajs | Java keyed | Java ProducerPerformance | best other Node-RED node | node ÷ best other node | node ÷ raw kafkajs | node ÷ Java keyed |');
  lines.push('| --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |');
  for (const row of rep.byLatency) {
    const rps = ids.map((id) => (row.recordsPerSec[id] === undefined ? 'n/a' : fmt(row.recordsPerSec[id])));
    const best = row.bestOther ? `${row.bestOther.label}: ${fmt(row.bestOther.recordsPerSec)}` : 'n/a';
    lines.push(`| ${PRESETS[row.preset].label} | ${row.network} | **${rps[0]}** | ${rps[1]} | ${rps[2]} | ${rps[3]} | ${best} | ${fmt(row.nodeOverBestOther ?? NaN, 1)} | ${fmt(row.nodeOverRawKafkajs ?? NaN, 2)} | ${fmt(row.nodeOverJavaKeyed ?? NaN, 2)} |`);
  }
  lines.push('');
  // Every proxied case's runs, unless the main table above already shows them.
  for (const c of net.cases.filter((x) => x.proxied && !sameNet(x, primaryNet()))) {
    const here = rep.results.filter((r) => sameNet(r, c));
    if (!here.length) continue;
    lines.push(`#### Every run, ${netLabel(c)}`);
    lines.push('');
    lines.push(table(here));
    lines.push('');
  }
  return lines;
}

interface Report {
  when: string;
  machine: string;
  node: string;
  kafka: string;
  nodeRed: string;
  options: Record<string, unknown>;
  results: RunResult[];
  lowRate: LowRateResult[];
  backpressure?: BackpressureResult;
  /** the same run, Node-RED started with V8's allocation-site pretenuring off */
  backpressureFlags?: BackpressureResult;
  /** the network cases (--latency) and the round-trip check of the proxied ones */
  network?: { cases: NetCase[]; toxiproxy?: string; roundTrips: RoundTrip[] };
  /** per preset and network case: records/s of each contender, the node's ratios */
  byLatency: LatencyRow[];
  skipped: string[];
  totalMs: number;
}

function targets(rep: Report): string[] {
  const out: string[] = [];
  const results = primaryResults(rep.results);
  for (const p of presets) {
    const get = (id: string) => results.find((r) => r.preset === p && r.id === id);
    const node = get('node');
    if (!node) continue;
    const raw = get('raw-kafkajs');
    const others = results.filter((r) => r.preset === p && r.impl === 'other');
    const best = others.sort((a, b) => b.recordsPerSec - a.recordsPerSec)[0];
    const pp = get('java-pp');
    const jk = get('java-keyed');
    const label = PRESETS[p].label;
    const rRaw = ratio(node.recordsPerSec, raw?.recordsPerSec);
    const rBest = ratio(node.recordsPerSec, best?.recordsPerSec);
    // Issue 8's targets: no regression against raw kafkajs; aims against the Java client (keyed record set).
    const rJava = ratio(node.recordsPerSec, jk?.recordsPerSec);
    const javaAim = p === 'safe' ? 0.6 : 0.5;
    const verdict = (r: number, min: number) => (Number.isFinite(r) ? (r >= min ? 'met' : '**not met**') : 'not measured');
    out.push(`| ${label} | node ÷ raw kafkajs ≥ 1.1 | ${fmt(rRaw, 2)} | ${verdict(rRaw, 1.1)} |`);
    out.push(`| ${label} | node ÷ Java KafkaProducer, keyed record set ≥ ${javaAim} (aim) | ${fmt(rJava, 2)} | ${verdict(rJava, javaAim)} |`);
    out.push(`| ${label} | node ÷ best other node (${best ? best.label.replace(' in Node-RED', '') : 'n/a'}), loopback; 1 ms in the latency section | ${fmt(rBest, 1)} | reported |`);
    out.push(`| ${label} | node ÷ Java ProducerPerformance (as is) | ${fmt(ratio(node.recordsPerSec, pp?.recordsPerSec), 2)} | reported |`);
  }
  for (const l of rep.lowRate) {
    out.push(`| ${PRESETS[l.preset].label} | ${l.rate} msg/s: ack p99 ≤ linger.ms + 10 = ${l.limitMs} ms | p99 ${fmt(l.ackP99Ms, 1)} ms | ${l.pass ? 'met' : '**not met**'} |`);
  }
  for (const b of [rep.backpressure, rep.backpressureFlags]) {
    if (!b) continue;
    const under = b.nodeArgs.length ? ` (Node-RED run with \`${b.nodeArgs.join(' ')}\`)` : ' (V8 defaults)';
    out.push(`| Safe | backpressure${under}: RSS growth of the whole Node-RED process ≤ buffer.memory + 64 MB = ${fmt(b.limitMb)} MB | ${fmt(b.growthMb)} MB | ${b.rssPass ? 'met' : '**not met**'} |`);
    if (b.control) {
      out.push(`| Safe | backpressure${under}: the runtime alone (control: a function node refusing the same flood to Catch) | ${fmt(b.control.growthMb)} MB | reported |`);
      out.push(`| Safe | backpressure${under}: RSS growth beyond the control ≤ ${fmt(b.limitMb)} MB | ${fmt(b.beyondControlMb)} MB | ${b.beyondControlPass ? 'met' : '**not met**'} |`);
    }
    out.push(`| Safe | backpressure${under}: the excess fails with BufferExhaustedError | ${fmt(b.failed)} refused | ${b.errorPass ? 'met' : '**not met**'} |`);
    out.push(`| Safe | backpressure${under}: every accepted record in the topic exactly once | ${fmt(b.accepted - b.inTopic.acceptedMissing - b.inTopic.acceptedTwice)} of ${fmt(b.accepted)} exactly once | ${b.exactlyOncePass ? 'met' : '**not met**'} |`);
  }
  return ['| preset | target | measured | result |', '| --- | --- | ---: | --- |', ...out];
}

function markdown(rep: Report): string {
  const lines: string[] = [];
  lines.push(`Measured ${rep.when} on ${rep.machine}; Node ${rep.node}, Node-RED ${rep.nodeRed}, Apache Kafka ${rep.kafka} (one KRaft broker on 127.0.0.1, started by the benchmark as the tests start it, full JIT), ${Math.round(rep.totalMs / 1000)} s in all.`);
  lines.push('');
  lines.push(`Record set: ${fmt(RECORD_BYTES)}-byte tweet-like JSON (X API v2 shape), keyed by the author's user id (1,406 distinct 19-digit ids), ${PARTITIONS} partitions, topics with LogAppendTime. ` +
    `Measured records per run: ${fmt(RECORDS)} (Java, raw kafkajs, this node) after ${fmt(WARMUP)} warm-up records; ${fmt(OTHER_RECORDS)} for the other nodes (after ${fmt(OTHER_WARMUP)}), which are much slower. ` +
    (ROUNDS > 1 ? `The Java keyed, raw kafkajs and node cases ran ${ROUNDS} times each: the row is the median round, with the range of all rounds under its records/s.` : ''));
  lines.push('');
  lines.push('### Throughput, latency, CPU, memory');
  lines.push('');
  lines.push(table(primaryResults(rep.results)));
  lines.push('');
  lines.push('![records per second, log scale](bench/results/producer.svg)');
  lines.push('');
  lines.push('### Targets');
  lines.push('');
  lines.push(...targets(rep));
  lines.push('');
  lines.push(...latencySection(rep));
  if (rep.lowRate.length) {
    lines.push(`### Low rate: 100 msg/s for ${LOWRATE_SECONDS} s, this node`);
    lines.push('');
    lines.push('| preset | linger.ms | ack p50 ms | ack p99 ms | ack max ms | send→append p50 / p99 ms | limit (linger + 10) | read back: distinct / dup / missing |');
    lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
    for (const l of rep.lowRate) {
      lines.push(`| ${PRESETS[l.preset].label} | ${l.lingerMs} | ${fmt(l.ackP50Ms, 1)} | **${fmt(l.ackP99Ms, 1)}** | ${fmt(l.ackMaxMs, 1)} | ${fmt(l.appendP50Ms, 0)} / ${fmt(l.appendP99Ms, 0)} | ${l.limitMs} ms ${l.pass ? '(met)' : '(**not met**)'} | ${fmt(l.readBack.unique)} / ${fmt(l.readBack.duplicates)} / ${fmt(l.readBack.missing)} |`);
    }
    lines.push('');
  }
  for (const b of [rep.backpressure, rep.backpressureFlags]) {
    if (!b) continue;
    lines.push(`### Backpressure: broker stopped, 200,000 records pushed in (Safe preset, buffer.memory 32 MiB)${b.nodeArgs.length ? `, Node-RED run with \`node ${b.nodeArgs.join(' ')}\`` : ''}`);
    if (b.nodeArgs.length) {
      lines.push('');
      lines.push('Why a second run: while the broker is away the buffer keeps the msgs it accepted, so V8 sees the objects of those allocation sites ' +
        '(the source\'s msgs and what Node-RED hangs on them) survive, and *pretenures* the sites: from then on each new msg is born in the old generation. ' +
        'The refused msgs of the flood, dead a few microseconds later, then wait there (with everything they point to) for the next full GC, and V8 lets the old generation grow ' +
        'a long way before it runs one. The control above, which keeps nothing, does not trigger this. ' +
        `The same run with \`${b.nodeArgs.join(' ')}\` (a V8 flag given to \`node\` when starting Node-RED) shows the memory the process really holds.`);
    }
    lines.push('');
    lines.push(`The broker was stopped (SIGTERM) after a 1,000-record warm-up; the source then pushed ${fmt(b.pushed)} msgs as fast as the runtime took them (no window). ` +
      `max.block.ms ${fmt(b.maxBlockMs)}. The broker came back after ${fmt(b.outageMs / 1000, 0)} s.`);
    lines.push('');
    lines.push('| measure | value |');
    lines.push('| --- | ---: |');
    lines.push(`| accepted into the buffer (not refused) | ${fmt(b.accepted)} |`);
    lines.push(`| of them acknowledged after the broker returned | ${fmt(b.ackedAfterReturn)} |`);
    lines.push(`| of them failed to Catch anyway | ${fmt(b.inTopic.acceptedFailed)} |`);
    lines.push(`| refused with BufferExhaustedError after max.block.ms (to Catch) | ${fmt(b.failed)} |`);
    for (const [k, v] of Object.entries(b.errorKinds)) lines.push(`| error: \`${k.replace(/\|/g, '\\|')}\` | ${fmt(v)} |`);
    lines.push(`| RSS before the push / peak / growth | ${fmt(b.rssBeforeMb)} / ${fmt(b.peakRssMb)} / **${fmt(b.growthMb)} MB** (limit ${fmt(b.limitMb)} MB) |`);
    if (b.control) {
      lines.push(`| control, the same flood into a core function node that sends every msg to Catch: RSS before / peak / growth | ${fmt(b.control.rssBeforeMb)} / ${fmt(b.control.peakRssMb)} / **${fmt(b.control.growthMb)} MB** (${fmt(b.control.refused)} msgs to Catch) |`);
      lines.push(`| this node's growth beyond the control | **${fmt(b.beyondControlMb)} MB** (limit ${fmt(b.limitMb)} MB) |`);
    }
    lines.push(`| accepted records in the topic: missing / twice | ${fmt(b.inTopic.acceptedMissing)} / ${fmt(b.inTopic.acceptedTwice)} |`);
    lines.push(`| refused records found in the topic | ${fmt(b.inTopic.failedButWritten)} |`);
    lines.push(`| msgs never settled | ${fmt(b.inTopic.unsettled)} |`);
    lines.push(`| from the broker's return to the last acknowledgement | ${fmt(b.recoverMs / 1000, 1)} s |`);
    const m = b.memory;
    if (m?.before && m.whileBlocked) {
      lines.push(`| JS heap used: before / while the excess waited / after it failed | ${fmt(m.before.heapUsed)} / ${fmt(m.whileBlocked.heapUsed)} / ${fmt(m.afterFail?.heapUsed)} MB |`);
      lines.push(`| Buffer memory (external): before / while waiting / after | ${fmt(m.before.external)} / ${fmt(m.whileBlocked.external)} / ${fmt(m.afterFail?.external)} MB |`);
    }
    lines.push('');
    for (const e of b.otherErrors) {
      const when = e.atMs.length ? `, ${fmt(Math.min(...e.atMs) / 1000, 1)}–${fmt(Math.max(...e.atMs) / 1000, 1)} s after the push began (the broker was stopped just before it)` : '';
      lines.push(`**${fmt(e.count)} accepted record(s) failed with \`${e.error.replace(/`/g, "'")}\`** instead of waiting for the broker (delivery.timeout.ms is 120 s): seqs ${e.seqs.join(', ')}${e.count > e.seqs.length ? ', ...' : ''}${when}.`);
      lines.push('');
    }
    lines.push(`First error message: \`${b.firstError.replace(/`/g, "'")}\``);
    lines.push('');
  }
  const notes = rep.results.filter((r) => r.notes.length);
  lines.push('### How each was measured');
  lines.push('');
  lines.push(...METHOD);
  if (notes.length) {
    lines.push('');
    lines.push('Run notes:');
    lines.push('');
    for (const r of notes) lines.push(`- ${PRESETS[r.preset].label}${r.proxied ? `, ${netLabel(r)}` : ''}, ${r.label}: ${r.notes.join('; ')}`);
  }
  if (rep.skipped.length) {
    lines.push('');
    lines.push('Not measured:');
    lines.push('');
    for (const s of rep.skipped) lines.push(`- ${s}`);
  }
  return lines.join('\n') + '\n';
}

const METHOD = [
  '- **Presets.** Safe: acks all, idempotence, retries max, max in flight 5, linger 5 ms, batch 16384, no compression. High throughput: the same + lz4, linger 20 ms, batch 32768. Java gets them as producer properties.',
  '- **Java ProducerPerformance**: kafka-tools, `--throughput -1 --payload-file` and the preset as `--command-property` (the non-deprecated form of `--producer-props`), with our values (4,096 lines; it has no keys, so records are unkeyed and the sticky partitioner fills one partition at a time), `--warmup-records`; its steady-state line is reported. Its latency is send() call → callback, which includes time blocked in send() while buffer.memory is full.',
  '- **Java KafkaProducer, keyed**: bench/producer/JavaBench.java sends our exact records (key + value bytes), as fast as send() takes them, latency send() → callback as ProducerPerformance measures it.',
  '- **raw kafkajs**: records pre-grouped per partition into full batch.size batches, one batch of every partition per sendBatch, 5 sendBatch calls in flight, idempotent producer; the same lz4 codec as the node. No linger, no per-record promise: the kafkajs ceiling. (Concurrent sendBatch calls are not kept in order by kafkajs: its runs show per-key order broken, which the node must not do.)',
  `- **Node-RED cases**: a fresh Node-RED runtime process (RED.init + RED.start, embedded) per case, its user dir holding this package (a copy of the built dist/) and the three npm nodes, all loaded. Flow: inject node (the source, whose send() the bench calls) → producer node → debug node (the sink, counting acknowledgements), plus a Catch node scoped to the producer (no Complete node: the runtime deep-clones each msg for it); our node's metrics output (every 1 s) goes to another debug node. One msg per send() (msg.key = user id, msg.payload = the JSON text), yielding to the event loop every ${CHUNK} msgs, at most ${fmt(WINDOW)} msgs outstanding (≈ buffer.memory of records, as ProducerPerformance blocks when buffer.memory is full); so at full speed the ack latency mostly measures the queue the window allows. Ack latency: source send() → the msg at the sink after the node's acknowledgement.`,
  '- **send→append latency**: every topic uses LogAppendTime; the read-back subtracts each record\'s send time from the time the broker appended it: the same measure for every Node-RED node, including one that reports no acknowledgement.',
  '- **CPU** is user+system time of the client process over the measured window (process.cpuUsage; the JVM\'s own CPU time for Java) as % of one core; **broker CPU** from /proc/<pid>/stat over the same window. **Peak RSS** is the client process\'s VmHWM (Node-RED runtime included for the node cases).',
  '- **Read back**: after each run a kafkajs consumer reads the whole topic (warm-up records included, so the counts are records + warm-up); every record carries a unique sequence number, so the table shows distinct records found, duplicates and missing ones; each record\'s partition is checked against Java murmur2 of its key, and per-key order (a record stored after a later-sent one with the same key) is checked.',
  '- **The other nodes, as their code behaves** (read in node_modules): *node-red-contrib-kafka-suite 0.0.5*: one `producer.send()` per msg, awaited, msg out with `msg.kafka` on acknowledgement; not idempotent, unlimited in flight, acks -1, lz4 via kafkajs-lz4. *@oriolrius/node-red-contrib-kafka 6.1.1*: one `producer.send()` per msg, awaited, msg out on acknowledgement; `maxInFlightRequests: 1`, idempotent (requireAcks 1), lz4 via kafkajs-lz4 (attributes 3); msgs arriving before it is connected are dropped, so the bench waits for it. *node-red-contrib-kafkajs 0.0.7* (kafkajs 1.16): one `producer.send()` per msg, not awaited, no output and no done(err) (errors are only logged; Complete fires when the input handler returns), no compression setting; its throughput is measured until the topic holds every record, its acknowledgements cannot be counted; kafkajs 1.x\'s default partitioner is not the Java one, hence its records on other partitions.',
];

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  // --render=<producer.json>: only write producer.md again from a run's report (e.g. after the targets changed).
  const renderFrom = opt('render');
  if (renderFrom) {
    const saved = JSON.parse(fs.readFileSync(renderFrom, 'utf8')) as Report;
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(path.join(outDir, 'producer.md'), markdown(saved));
    process.stdout.write(markdown(saved));
    return;
  }
  const started = Date.now();
  process.env.STREAMSAFE_KAFKA_JVM_OPTS ??= '-XX:TieredStopAtLevel=4';
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'streamsafe-bench-producer-'));
  const skipped: string[] = [];
  const results: RunResult[] = [];
  const lowRates: LowRateResult[] = [];
  let bp: BackpressureResult | undefined;
  let bpFlags: BackpressureResult | undefined;
  const roundTrips: RoundTrip[] = [];
  try {
    const pkgDir = snapshotPackage(work);
    const othersWanted = Object.keys(OTHER_NODES).some(want);
    let othersDir: string | undefined;
    if (othersWanted) {
      try {
        othersDir = await installOtherNodes();
      } catch (e) {
        skipped.push(`the other Node-RED Kafka nodes: npm install failed: ${(e as Error).message.split('\n')[0]}`);
      }
    }
    const userDir = prepareUserDir(work, pkgDir, othersDir);
    const classpath = await kafkaClasspath();
    const classes = await compileJava(classpath);
    const templatesFile = path.join(work, 'templates.tsv');
    const payloadFile = path.join(work, 'payloads.txt');
    writeTemplatesFile(templatesFile);
    writePayloadFile(payloadFile);
    const ctx: Ctx = { work, pkgDir, userDir, classes, templatesFile, payloadFile, seq: 0 };

    log(`starting Kafka ${kafkaVersion()} (JVM opts: ${process.env.STREAMSAFE_KAFKA_JVM_OPTS})`);
    kafka = await startKafka({ mode: 'single', name: 'bench' });
    if (NETS.some((n) => n.proxied)) {
      log('putting the broker behind toxiproxy (a second listener, advertised at the proxy; the broker restarts once)');
      proxied = await putBehindToxiproxy(kafka, log, path.join(work, 'toxiproxy.log'));
      log(`toxiproxy ${proxied.toxiproxy.version} pid ${proxied.toxiproxy.pid}: clients under test bootstrap from ${proxied.brokers.join(',')}`);
    }
    locateBroker();
    log(`broker ${kafka.brokers[0]} pid ${brokerPid}`);

    // Warm the broker's JIT so the first measured run does not pay for it.
    await withTopic(ctx, 'broker-warmup', async (topic) => {
      log('warming the broker up (ProducerPerformance, 100,000 records)');
      await runJava(classes, ['pp', '--topic', topic, '--num-records', quick ? '50000' : '100000', '--throughput', '-1', '--payload-file', payloadFile, '--reporting-interval', '600000',
        '--command-property', `bootstrap.servers=${kafka.brokers.join(',')}`, ...javaProps(PRESETS.throughput)], 300_000);
    });

    // Check that the proxied path really is further away: one produce at a time, direct
    // and through the proxy at each delay (N ms each way should add 2N ms).
    const viaProxy = proxied;
    if (viaProxy) {
      await withTopic(ctx, 'round-trip', async (topic) => {
        roundTrips.push(await produceRoundTrip(kafka.brokers, topic, LOOPBACK));
        for (const net of NETS.filter((n) => n.proxied)) {
          await viaProxy.setLatency(net.latencyMs);
          roundTrips.push(await produceRoundTrip(viaProxy.brokers, topic, net));
        }
      });
      const base = roundTrips[0];
      for (const t of roundTrips) {
        const added = t.p50Ms - base.p50Ms;
        const check = t.proxied && t.latencyMs ? `, +${fmt(added, 2)} ms over loopback (want >= ${2 * t.latencyMs} ms: ${added >= 2 * t.latencyMs ? 'ok' : 'NOT MET'})` : '';
        log(`produce round trip, ${netLabel(t)}: p50 ${fmt(t.p50Ms, 2)} ms, p90 ${fmt(t.p90Ms, 2)} ms${check}; metadata names ${t.advertised.join(',')}`);
      }
    }

    /** One run of a case in a network case; failures are noted and skipped. */
    const once = async (name: string, net: NetCase, fn: () => Promise<RunResult>): Promise<RunResult | undefined> => {
      log(`${name} ...`);
      try {
        if (net.proxied) await proxied!.setLatency(net.latencyMs);
        const before = net.proxied ? await proxied!.bytes() : undefined;
        const r = await fn();
        if (before) {
          const after = await proxied!.bytes();
          r.proxyMb = { upstream: (after.upstream - before.upstream) / 2 ** 20, downstream: (after.downstream - before.downstream) / 2 ** 20 };
        }
        const proxyText = r.proxied ? `, toxiproxy ${fmt(r.proxyCpuPct)} % (${fmt(r.proxyMb?.upstream)} MB up)` : '';
        log(`  ${fmt(r.recordsPerSec)} records/s, ack p50 ${fmt(r.ackP50Ms, 1)} ms p99 ${fmt(r.ackP99Ms, 1)} ms, CPU ${fmt(r.cpuPct)} %, broker ${fmt(r.brokerCpuPct)} %${proxyText}, other ${fmt(r.otherCpuPct)} %, RSS ${fmt(r.peakRssMb)} MB, read back ${r.readBack?.unique}/${r.readBack?.duplicates}/${r.readBack?.missing}${r.notes.length ? `; ${r.notes.join('; ')}` : ''}`);
        return r;
      } catch (e) {
        log(`  FAILED: ${(e as Error).message}`);
        skipped.push(`${name}: failed: ${(e as Error).message.split('\n')[0]}`);
        return undefined;
      }
    };
    /** The median round by records/s, with every round's records/s. */
    const median = (done: RunResult[]) => {
      if (!done.length) return;
      const sorted = [...done].sort((a, b) => a.recordsPerSec - b.recordsPerSec);
      const m = sorted[Math.floor((sorted.length - 1) / 2)];
      if (done.length > 1) m.rounds = done.map((r) => r.recordsPerSec);
      results.push(m);
    };

    for (const preset of presets) {
      // 'Safe' on loopback (names as before), 'Safe, broker 1 ms away each way' otherwise.
      const pl = (net: NetCase) => `${PRESETS[preset].label}${net.proxied ? `, ${netLabel(net)}` : ''}`;
      for (const net of NETS) {
        if (want('java-pp')) median([await once(`${pl(net)}: Java ProducerPerformance`, net, () => javaPP(ctx, preset, net))].filter((r): r is RunResult => !!r));
      }
      // The cases the targets compare run in interleaved rounds (and network cases within a
      // round), so a burst of load from elsewhere on the machine hits one round of each
      // rather than every round of one.
      const rounds = NETS.map((): Record<string, RunResult[]> => ({ 'java-keyed': [], 'raw-kafkajs': [], node: [] }));
      for (let i = 0; i < ROUNDS; i++) {
        const tag = ROUNDS > 1 ? ` (round ${i + 1} of ${ROUNDS})` : '';
        for (const [k, net] of NETS.entries()) {
          const add = (id: string, r: RunResult | undefined) => r && rounds[k][id].push(r);
          if (want('java-keyed')) add('java-keyed', await once(`${pl(net)}: Java KafkaProducer, keyed${tag}`, net, () => javaKeyed(ctx, preset, net)));
          if (want('raw-kafkajs')) add('raw-kafkajs', await once(`${pl(net)}: raw kafkajs${tag}`, net, () => rawKafkajs(ctx, preset, net)));
          if (want('node')) add('node', await once(`${pl(net)}: this node in Node-RED${tag}`, net, () => nodeRed(ctx, 'ours', preset, net)));
        }
      }
      for (const r of rounds) for (const id of ['java-keyed', 'raw-kafkajs', 'node']) median(r[id]);
      if (othersDir) {
        for (const [id, n] of Object.entries(OTHER_NODES)) {
          if (!want(id)) continue;
          if (id === 'kafkajs' && preset !== 'safe') {
            skipped.push(`${PRESETS[preset].label}: ${n.label}: it has no compression, linger or batch setting, so its High-throughput run would repeat its Safe run`);
            continue;
          }
          for (const net of NETS) {
            median([await once(`${pl(net)}: ${n.label}`, net, () => nodeRed(ctx, n.impl, preset, net))].filter((r): r is RunResult => !!r));
          }
        }
      }
    }
    // The low-rate and backpressure runs below are loopback cases.
    await proxied?.setLatency(0);
    if (!flag('no-lowrate') && want('lowrate')) {
      for (const preset of presets) {
        log(`${PRESETS[preset].label}: low rate, 100 msg/s for ${LOWRATE_SECONDS} s ...`);
        try {
          const l = await lowRate(ctx, preset);
          lowRates.push(l);
          log(`  ack p50 ${fmt(l.ackP50Ms, 2)} ms, p99 ${fmt(l.ackP99Ms, 2)} ms (limit ${l.limitMs}), max ${fmt(l.ackMaxMs, 1)} ms`);
        } catch (e) {
          skipped.push(`low-rate ${preset}: failed: ${(e as Error).message.split('\n')[0]}`);
        }
      }
    }
    if (!flag('no-backpressure') && want('backpressure')) {
      log('backpressure: broker stopped, 200,000 records pushed in ...');
      try {
        bp = await backpressure(ctx);
        log(`  accepted ${bp.accepted} (${bp.inTopic.acceptedFailed} of them failed, ${bp.inTopic.acceptedMissing} missing, ${bp.inTopic.acceptedTwice} twice), refused ${bp.failed}, RSS growth ${fmt(bp.growthMb)} MB (limit ${bp.limitMb}), exactly once: ${bp.exactlyOncePass}`);
      } catch (e) {
        log(`  FAILED: ${(e as Error).message}`);
        skipped.push(`backpressure: failed: ${(e as Error).message.split('\n')[0]}`);
      }
      // V8 pretenures the allocation sites of msgs the buffer keeps, so during the flood the
      // refused msgs are born in the old generation and wait there for a full GC. The same run
      // with pretenuring off shows what the process holds apart from that deferred garbage.
      const flags = ['--no-allocation-site-pretenuring'];
      log(`backpressure again, Node-RED run with ${flags.join(' ')} ...`);
      try {
        bpFlags = await backpressure(ctx, flags);
        log(`  accepted ${bpFlags.accepted}, refused ${bpFlags.failed}, RSS growth ${fmt(bpFlags.growthMb)} MB (limit ${bpFlags.limitMb}), exactly once: ${bpFlags.exactlyOncePass}`);
      } catch (e) {
        log(`  FAILED: ${(e as Error).message}`);
        skipped.push(`backpressure ${flags.join(' ')}: failed: ${(e as Error).message.split('\n')[0]}`);
      }
    }
  } finally {
    await proxied?.toxiproxy.stop().catch(() => {});
    await kafka?.stop().catch(() => {});
    fs.rmSync(work, { recursive: true, force: true });
  }

  const cpus = os.cpus();
  const rep: Report = {
    when: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
    machine: `${cpus.length} × ${cpus[0]?.model?.trim() ?? 'CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GB, ${os.type()} ${os.release()}`,
    node: process.version,
    kafka: kafkaVersion(),
    nodeRed: require('node-red/package.json').version,
    options: { quick, records: RECORDS, otherRecords: OTHER_RECORDS, warmup: WARMUP, rounds: ROUNDS, window: WINDOW, chunk: CHUNK, presets, only: only ?? null, latency: opt('latency') ?? '0' },
    results,
    lowRate: lowRates,
    backpressure: bp,
    backpressureFlags: bpFlags,
    network: { cases: NETS, toxiproxy: proxied?.toxiproxy.version, roundTrips },
    byLatency: latencyRows(results),
    skipped,
    totalMs: Date.now() - started,
  };
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'producer.json'), JSON.stringify(rep, null, 2) + '\n');
  fs.writeFileSync(path.join(outDir, 'producer.md'), markdown(rep));
  fs.writeFileSync(path.join(outDir, 'producer.svg'), renderChart(primaryResults(results)));
  process.stdout.write(markdown(rep));
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
