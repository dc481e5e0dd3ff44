// Raw kafkajs 2.2.4 `eachBatch`: what kafkajs alone reads with no Node-RED, no msg objects
// and no flow. A fresh group, fromBeginning, our codecs registered (as the node does), the
// package's kafkajs; eachBatch touches every message (counts it and its value's length),
// auto-resolves the batch and heartbeats once per batch; auto-commit (kafkajs's default,
// every 5 s). Measured like the Node-RED cases: first record → last record in the loop.
//
// Self-contained (no imports of bench files): run.ts transpiles it to plain JavaScript.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';

interface RawConfig {
  brokers: string;
  topic: string;
  groupId: string;
  /** the package snapshot: dist/ and its node_modules (kafkajs, codecs) */
  pkgDir: string;
  records: number;
  idleMs: number;
  maxMs: number;
  /** partitionsConsumedConcurrently (kafkajs default 1) */
  concurrency: number;
}

const cfg: RawConfig = JSON.parse(process.env.BENCH_CHILD_CONFIG ?? '{}');
const send = (m: unknown) => process.send?.(m);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function vmKb(field: 'VmHWM' | 'VmRSS'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

async function main(): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const kafkajs = require(require.resolve('kafkajs', { paths: [cfg.pkgDir] })) as typeof import('kafkajs');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const codecs = require(path.join(cfg.pkgDir, 'dist', 'lib', 'kafka', 'codecs', 'index.js'));
  await codecs.registerKafkajsCodecs();
  const started = performance.now();
  const kafka = new kafkajs.Kafka({ brokers: cfg.brokers.split(','), clientId: 'bench-consumer-raw', logLevel: kafkajs.logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: cfg.groupId });
  await consumer.connect();
  await consumer.subscribe({ topics: [cfg.topic], fromBeginning: true });

  let count = 0;
  let bytes = 0;
  let firstAt = NaN;
  let lastAt = NaN;
  let cpuFirst: NodeJS.CpuUsage | undefined;
  let cpuLast: NodeJS.CpuUsage | undefined;
  let batches = 0;
  let done: (() => void) | undefined;
  const finished = new Promise<void>((r) => (done = r));
  await consumer.run({
    partitionsConsumedConcurrently: cfg.concurrency,
    eachBatch: async ({ batch, heartbeat }) => {
      const msgs = batch.messages;
      if (!msgs.length) return;
      if (count === 0) {
        firstAt = performance.now();
        cpuFirst = process.cpuUsage();
      }
      for (let i = 0; i < msgs.length; i++) {
        count++;
        bytes += msgs[i].value ? msgs[i].value!.length : 0;
      }
      batches++;
      lastAt = performance.now();
      if (count >= cfg.records && done) {
        cpuLast = process.cpuUsage();
        done();
        done = undefined;
      }
      await heartbeat();
    },
  });
  let why = 'all records';
  for (;;) {
    const res = await Promise.race([finished.then(() => true), sleep(500).then(() => false)]);
    if (res) break;
    const now = performance.now();
    if ((count ? now - lastAt : now - started) > cfg.idleMs) {
      why = count ? `no record for ${Math.round(cfg.idleMs / 1000)} s after ${count}` : `no record within ${Math.round(cfg.idleMs / 1000)} s`;
      break;
    }
    if (now - started > cfg.maxMs) {
      why = `stopped after ${Math.round(cfg.maxMs / 1000)} s`;
      break;
    }
  }
  cpuLast ??= process.cpuUsage();
  const elapsedMs = lastAt - firstAt;
  const cpuMs = cpuFirst ? (cpuLast.user - cpuFirst.user + cpuLast.system - cpuFirst.system) / 1000 : NaN;
  send({
    type: 'result',
    result: {
      count,
      complete: count >= cfg.records,
      why,
      startToFirstMs: firstAt - started,
      elapsedMs,
      recordsPerSec: count > 1 ? ((count - 1) * 1000) / elapsedMs : NaN,
      cpuMs,
      cpuPct: (cpuMs / elapsedMs) * 100,
      peakRssMb: vmKb('VmHWM') / 1024,
      batches,
      avgBatch: batches ? count / batches : NaN,
      bytes,
      errors: [],
    },
  });
  await Promise.race([consumer.disconnect().catch(() => {}), sleep(10_000)]);
}

main().then(
  () => setTimeout(() => process.exit(0), 100),
  (err) => {
    send({ type: 'error', message: String(err?.stack ?? err) });
    setTimeout(() => process.exit(1), 100);
  },
);
