// Raw kafkajs with ideal batches: what kafkajs alone can do with the same settings and
// record set, no Node-RED and no accumulator. Records are grouped beforehand per
// partition (Java murmur2 of the key, as the node and the Java client pick) into full
// batches of batch.size bytes; every sendBatch carries one full batch of each of the 12
// partitions, and 5 sendBatch calls are always in flight (max.in.flight 5, idempotent,
// acks all). A record's latency is from its sendBatch call to its resolution.
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { type ChildMessage, type PresetId, PRESETS, pct, procStatusKb, sortedFinite, startProfile } from './common';
import { keyOf, RECORD_BYTES, templates, valueOf } from './records';

interface RawConfig {
  preset: PresetId;
  brokers: string;
  topic: string;
  /** the package snapshot: dist/ and its node_modules (kafkajs, codecs) */
  pkgDir: string;
  records: number;
  warmup: number;
  partitions: number;
  timeoutMs: number;
}

const cfg: RawConfig = JSON.parse(process.env.BENCH_CHILD_CONFIG ?? '{}');
const send = (m: ChildMessage) => process.send?.(m);
const waitParent = (type: string) =>
  new Promise<void>((resolve) => {
    const on = (m: { type: string }) => {
      if (m.type === type) {
        process.off('message', on);
        resolve();
      }
    };
    process.on('message', on);
  });

// The node's record size estimate (src/lib/kafka/record.ts): 21 bytes of overhead + key + value.
const RECORD_OVERHEAD = 21;

async function main(): Promise<void> {
  const p = PRESETS[cfg.preset];
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const kafkajs = require(require.resolve('kafkajs', { paths: [cfg.pkgDir] })) as typeof import('kafkajs');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const codecs = require(path.join(cfg.pkgDir, 'dist', 'lib', 'kafka', 'codecs', 'index.js'));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const murmur = require(path.join(cfg.pkgDir, 'dist', 'lib', 'kafka', 'murmur2.js'));
  await codecs.registerKafkajsCodecs();
  const t = templates();
  const partitionOfTemplate = t.map((x) => murmur.partitionForStringKey(x.key, cfg.partitions) as number);
  const perBatch = Math.max(1, Math.floor(p.batchSize / (RECORD_OVERHEAD + RECORD_BYTES + t[0].key.length)));

  const kafka = new kafkajs.Kafka({ brokers: cfg.brokers.split(','), clientId: 'bench-raw', logLevel: kafkajs.logLevel.NOTHING });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 5, allowAutoTopicCreation: false });
  await producer.connect();
  const compression = p.compression === 'none' ? kafkajs.CompressionTypes.None : codecs.compressionType(p.compression);

  /** The requests for seq [from, to): one full batch of each partition per request. */
  function plan(from: number, to: number): number[][] {
    const queues: number[][] = Array.from({ length: cfg.partitions }, () => []);
    for (let i = from; i < to; i++) queues[partitionOfTemplate[i % t.length]].push(i);
    const requests: number[][] = [];
    const at = new Array(cfg.partitions).fill(0);
    for (;;) {
      const req: number[] = [];
      for (let q = 0; q < cfg.partitions; q++) {
        const end = Math.min(queues[q].length, at[q] + perBatch);
        for (let j = at[q]; j < end; j++) req.push(queues[q][j]);
        at[q] = end;
      }
      if (!req.length) return requests;
      requests.push(req);
    }
  }

  const latency = new Float64Array(cfg.warmup + cfg.records).fill(NaN);
  let acked = 0;
  let failed = 0;
  let firstError = '';
  async function run(requests: number[][]): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < requests.length) {
        const req = requests[next++];
        const started = performance.now();
        const messages = req.map((seq) => ({ key: keyOf(seq, t), value: valueOf(seq, t), partition: partitionOfTemplate[seq % t.length] }));
        try {
          await producer.sendBatch({ topicMessages: [{ topic: cfg.topic, messages }], acks: -1, timeout: 30000, compression });
          const now = performance.now();
          for (const seq of req) latency[seq] = now - started;
          acked += req.length;
        } catch (e) {
          failed += req.length;
          firstError ||= String((e as Error).message ?? e);
        }
      }
    };
    await Promise.all(Array.from({ length: 5 }, worker));
  }

  await run(plan(0, cfg.warmup));
  if (failed) throw new Error(`warm-up failed: ${firstError}`);
  send({ type: 'ready' });
  await waitParent('go');
  (globalThis as { gc?: () => void }).gc?.();
  const requests = plan(cfg.warmup, cfg.warmup + cfg.records);
  const profiler = await startProfile();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  send({ type: 'window', edge: 'start' });
  await run(requests);
  const t1 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  send({ type: 'window', edge: 'end' });
  await profiler?.();
  const lat = sortedFinite(latency, cfg.warmup);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  send({
    type: 'result',
    result: {
      phase: 'done',
      complete: true,
      records: cfg.records,
      elapsedMs: t1 - t0,
      recordsPerSec: (cfg.records * 1000) / (t1 - t0),
      acked: acked - cfg.warmup,
      failed,
      firstError,
      ackP50Ms: pct(lat, 0.5),
      ackP99Ms: pct(lat, 0.99),
      ackMaxMs: lat.length ? lat[lat.length - 1] : NaN,
      cpuMs,
      cpuPct: (cpuMs / (t1 - t0)) * 100,
      peakRssMb: procStatusKb('self', 'VmHWM') / 1024,
      perBatch,
      requests: requests.length,
    },
  });
  await producer.disconnect();
}

main().then(
  () => setTimeout(() => process.exit(0), 100),
  (err) => {
    send({ type: 'error', message: String(err?.stack ?? err) });
    setTimeout(() => process.exit(1), 100);
  },
);
