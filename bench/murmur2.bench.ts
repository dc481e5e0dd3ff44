// murmur2 throughput: ours (src/lib/kafka/murmur2.ts) against kafkajs's Long-based
// Java-compatible murmur2, in keys per second.
//
//   node --import tsx bench/murmur2.bench.ts [--ms=1000] [--rounds=3]
//
// Every case runs in its own child process, so one case's JIT feedback (say,
// a call site that has seen several functions) cannot slow another.

import { execFileSync } from 'node:child_process';
import type { Message, PartitionMetadata } from 'kafkajs';
import type { PartitionInfo } from '../src/lib/kafka/protocol/metadata';
import { murmur2, murmur2String } from '../src/lib/kafka/murmur2';
import { PartitionAssigner } from '../src/lib/kafka/producer/partitioner';

type Impl = 'ours' | 'kafkajs';
type Input = 'str16' | 'str100' | 'kor16' | 'buf16' | 'buf100' | 'part16';

const INPUTS: Array<{ input: Input; label: string }> = [
  { input: 'str16', label: '16-byte ASCII string' },
  { input: 'str100', label: '100-byte ASCII string' },
  { input: 'kor16', label: '16-char Korean string (48 B)' },
  { input: 'buf16', label: '16-byte Buffer' },
  { input: 'buf100', label: '100-byte Buffer' },
  { input: 'part16', label: 'partitioner, 16-byte Buffer key' },
];

const arg = (name: string, fallback: number): number => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.slice(name.length + 3)) : fallback;
};

/** Deterministic keys: 4096 distinct ones, so the loop is not one key in cache. */
function makeKeys(input: Input): Array<string | Buffer> {
  let x = 0x12345678;
  const next = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  const alnum = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  const text = (n: number, pick: () => string): string => {
    let s = '';
    for (let i = 0; i < n; i++) s += pick();
    return Buffer.from(s, 'utf8').toString('utf8'); // a flat string, as a parsed message would give
  };
  const keys: Array<string | Buffer> = [];
  for (let i = 0; i < 4096; i++) {
    if (input === 'str16') keys.push(text(16, () => alnum[next() % alnum.length]));
    else if (input === 'str100') keys.push(text(100, () => alnum[next() % alnum.length]));
    else if (input === 'kor16') keys.push(text(16, () => String.fromCharCode(0xac00 + (next() % 11172))));
    else if (input === 'buf100') keys.push(Buffer.from(Array.from({ length: 100 }, () => next() & 0xff)));
    else keys.push(Buffer.from(Array.from({ length: 16 }, () => next() & 0xff)));
  }
  return keys;
}

function hasher(impl: Impl, input: Input): (key: string | Buffer) => number {
  if (input === 'part16') {
    const metadata: PartitionMetadata[] = Array.from({ length: 12 }, (_, partitionId) => ({
      partitionErrorCode: 0,
      partitionId,
      leader: partitionId % 3,
      replicas: [0, 1, 2],
      isr: [0, 1, 2],
    }));
    if (impl === 'ours') {
      const assigner = new PartitionAssigner(16384);
      const partitions: PartitionInfo[] = metadata.map((m) => ({ errorCode: 0, partition: m.partitionId, leader: m.leader, leaderEpoch: 0, replicas: m.replicas, isr: m.isr, offlineReplicas: [] }));
      return (key) => assigner.assign('t', partitions, key as Buffer, undefined, 0);
    }
    const kafkajs = require('kafkajs') as typeof import('kafkajs');
    const partitioner = kafkajs.Partitioners.DefaultPartitioner();
    return (key) => {
      const message: Message = { key, value: null };
      return partitioner({ topic: 't', partitionMetadata: metadata, message });
    };
  }
  if (impl === 'kafkajs') {
    // The bench may use kafkajs's internal murmur2; src must not.
    return require('kafkajs/src/producer/partitioners/default/murmur2') as (key: string | Buffer) => number;
  }
  return input.startsWith('buf') ? (key) => murmur2(key as Buffer) : (key) => murmur2String(key as string);
}

/** Runs one case in this process and prints { keysPerSecond, checksum }. */
function runCase(impl: Impl, input: Input): void {
  const keys = makeKeys(input);
  const hash = hasher(impl, input);
  const ms = arg('ms', 1000);
  const rounds = arg('rounds', 3);
  let checksum = 0;
  const measure = (budget: number): number => {
    let n = 0;
    const t0 = performance.now();
    let t = t0;
    do {
      for (let i = 0; i < keys.length; i++) checksum = (checksum + hash(keys[i])) | 0;
      n += keys.length;
      t = performance.now();
    } while (t - t0 < budget);
    return (n * 1000) / (t - t0);
  };
  measure(Math.min(300, ms)); // warm-up: let the JIT optimise
  const results: number[] = [];
  for (let r = 0; r < rounds; r++) results.push(measure(ms));
  results.sort((a, b) => a - b);
  process.stdout.write(JSON.stringify({ keysPerSecond: results[Math.floor(results.length / 2)], checksum }));
}

/** Both implementations must agree on every bench key before their speed means anything. */
function checkParity(input: Input): void {
  const keys = makeKeys(input);
  const ours = hasher('ours', input);
  const theirs = hasher('kafkajs', input);
  for (const k of keys) {
    if (ours(k) !== theirs(k)) throw new Error(`${input}: ours and kafkajs differ on ${JSON.stringify(k)}`);
  }
}

function main(): void {
  for (const { input } of INPUTS) checkParity(input);
  const format = (kps: number): string => `${(kps / 1e6).toFixed(2)} M/s`.padStart(11);
  const rows: string[] = [];
  rows.push(`${'key'.padEnd(34)}${'ours'.padStart(11)}${'kafkajs'.padStart(11)}${'ratio'.padStart(9)}`);
  for (const { input, label } of INPUTS) {
    const result: Partial<Record<Impl, { keysPerSecond: number; checksum: number }>> = {};
    for (const impl of ['ours', 'kafkajs'] as Impl[]) {
      const out = execFileSync(process.execPath, [...process.execArgv, __filename, '--case', impl, input, ...process.argv.slice(2)], {
        encoding: 'utf8',
      });
      result[impl] = JSON.parse(out);
    }
    const ours = result.ours!;
    const theirs = result.kafkajs!;
    const ratio = ours.keysPerSecond / theirs.keysPerSecond;
    rows.push(`${label.padEnd(34)}${format(ours.keysPerSecond)}${format(theirs.keysPerSecond)}${`${ratio.toFixed(1)}x`.padStart(9)}`);
    console.log(rows[rows.length - 1]);
  }
  console.log('\n' + rows.join('\n'));
}

const caseAt = process.argv.indexOf('--case');
if (caseAt >= 0) runCase(process.argv[caseAt + 1] as Impl, process.argv[caseAt + 2] as Input);
else main();
