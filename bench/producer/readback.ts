// Reads a benchmark topic back from the beginning and checks it against what was sent:
// every seq 0..total-1 exactly once, each on its key's partition (Java murmur2), in seq
// order within a partition; and, with the send times of a run, the latency from send to
// the broker's log append (the topics use message.timestamp.type=LogAppendTime).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ReadBack } from './common';
import { pct, sortedFinite } from './common';
import { seqOf, templates } from './records';

export interface ReadBackOptions {
  brokers: string[];
  topic: string;
  /** seqs 0..total-1 were sent */
  total: number;
  partitions: number;
  pkgDir: string;
  /** Float64 epoch-ms send time per seq (NaN: unknown) */
  sendTimesFile?: string;
  /** seqs are not unique (ProducerPerformance's random payloads): count only */
  countOnly?: boolean;
  /** records carry no key (ProducerPerformance): skip the partition and order checks */
  unkeyed?: boolean;
  /** only seqs from here on count for the append latency (after the warm-up) */
  latencyFrom?: number;
  timeoutMs?: number;
}

export interface ReadBackResult extends ReadBack {
  appendP50Ms?: number;
  appendP99Ms?: number;
  readMs: number;
  /** records read after a later-sent record with the same key (per-key order broken) */
  keyOutOfOrder: number;
  keyOutOfOrderMeasured: number;
  /** out of order among the measured seqs (from latencyFrom on), and the first few cases */
  outOfOrderMeasured: number;
  orderSamples: Array<{ partition: number; seq: number; after: number }>;
  /** how often each seq was read (saturates at 255) */
  counts: Uint8Array;
}

export async function readBack(o: ReadBackOptions): Promise<ReadBackResult> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const kafkajs = require(require.resolve('kafkajs', { paths: [o.pkgDir] })) as typeof import('kafkajs');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  await require(path.join(o.pkgDir, 'dist', 'lib', 'kafka', 'codecs', 'index.js')).registerKafkajsCodecs();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const murmur = require(path.join(o.pkgDir, 'dist', 'lib', 'kafka', 'murmur2.js'));
  const t = templates();
  const partitionOfTemplate = t.map((x) => murmur.partitionForStringKey(x.key, o.partitions) as number);
  const keyIndex = new Map<string, number>();
  const keyOfTemplate = t.map((x) => {
    if (!keyIndex.has(x.key)) keyIndex.set(x.key, keyIndex.size);
    return keyIndex.get(x.key)!;
  });
  const lastSeqOfKey = new Array(keyIndex.size).fill(-1);
  let keyOutOfOrder = 0;
  let keyOutOfOrderMeasured = 0;
  const started = Date.now();

  const kafka = new kafkajs.Kafka({ brokers: o.brokers, clientId: 'bench-readback', logLevel: kafkajs.logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(o.topic);
  await admin.disconnect();
  const expected = offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);

  const counts = new Uint8Array(o.total);
  const sendTimes = o.sendTimesFile && fs.existsSync(o.sendTimesFile) ? new Float64Array(new Uint8Array(fs.readFileSync(o.sendTimesFile)).buffer) : undefined;
  const append = new Float64Array(o.total).fill(NaN);
  const lastSeq = new Array(o.partitions).fill(-1);
  let total = 0;
  let foreign = 0;
  let wrongPartition = 0;
  let outOfOrder = 0;
  let outOfOrderMeasured = 0;
  const orderSamples: Array<{ partition: number; seq: number; after: number }> = [];

  const consumer = kafka.consumer({
    groupId: `bench-readback-${o.topic}-${Date.now()}`,
    maxBytes: 64 * 1024 * 1024,
    maxBytesPerPartition: 16 * 1024 * 1024,
    maxWaitTimeInMs: 100,
    allowAutoTopicCreation: false,
  });
  await consumer.connect();
  await consumer.subscribe({ topic: o.topic, fromBeginning: true });
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  if (expected === 0) resolveDone();
  await consumer.run({
    autoCommit: false,
    partitionsConsumedConcurrently: 1,
    eachBatch: async ({ batch }) => {
      const partition = batch.partition;
      for (const m of batch.messages) {
        total++;
        const seq = m.value ? seqOf(m.value) : -1;
        if (seq < 0 || seq >= o.total) {
          foreign++;
          continue;
        }
        if (counts[seq] < 255) counts[seq]++;
        if (!o.unkeyed) {
          if (partitionOfTemplate[seq % t.length] !== partition) wrongPartition++;
          if (seq < lastSeq[partition]) {
            outOfOrder++;
            if (seq >= (o.latencyFrom ?? 0)) outOfOrderMeasured++;
            if (orderSamples.length < 10) orderSamples.push({ partition, seq, after: lastSeq[partition] });
          }
          lastSeq[partition] = seq;
          const k = keyOfTemplate[seq % t.length];
          if (seq < lastSeqOfKey[k]) {
            keyOutOfOrder++;
            if (seq >= (o.latencyFrom ?? 0)) keyOutOfOrderMeasured++;
          }
          lastSeqOfKey[k] = Math.max(lastSeqOfKey[k], seq);
        }
        if (sendTimes && seq >= (o.latencyFrom ?? 0)) append[seq] = Number(m.timestamp) - sendTimes[seq];
      }
      if (total >= expected) resolveDone();
    },
  });
  const timeoutMs = o.timeoutMs ?? 120_000;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([done, new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
  clearTimeout(timer);
  await consumer.disconnect();

  let unique = 0;
  let duplicates = 0;
  let missing = 0;
  if (o.countOnly) {
    unique = total - foreign;
  } else {
    for (let i = 0; i < o.total; i++) {
      const c = counts[i];
      if (c === 0) missing++;
      else {
        unique++;
        duplicates += c - 1;
      }
    }
  }
  const lat = sortedFinite(append, o.latencyFrom ?? 0);
  return {
    total,
    unique,
    duplicates,
    missing,
    wrongPartition,
    outOfOrder,
    foreign,
    appendP50Ms: sendTimes ? pct(lat, 0.5) : undefined,
    appendP99Ms: sendTimes ? pct(lat, 0.99) : undefined,
    readMs: Date.now() - started,
    outOfOrderMeasured,
    orderSamples,
    keyOutOfOrder,
    keyOutOfOrderMeasured,
    counts,
  };
}
