// Cross-checks src/lib/kafka/murmur2.ts against the Java Kafka client itself: a few
// hundred thousand deterministic keys go to test/support/java/Murmur2Check.java,
// which answers Utils.murmur2, Utils.toPositive and
// BuiltInPartitioner.partitionForKey(key, n) for n = 1..100 for each; every
// one of those values must equal ours.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { kafkaClasspath } from '../support/kafka/classpath';
import { compileJava } from '../support/kafka/java';
import {
  keyToBytes,
  murmur2,
  murmur2Key,
  murmur2String,
  partitionForKey,
  partitionForStringKey,
  toPositive,
} from '../../src/lib/kafka/murmur2';
import { PartitionAssigner } from '../../src/lib/kafka/producer/partitioner';
import type { PartitionInfo } from '../../src/lib/kafka/protocol/metadata';

const run = promisify(execFile);
const SOURCE = path.join(__dirname, '..', 'support', 'java', 'Murmur2Check.java');
const MAX_PARTITIONS = 100;
const SEED = 0x5eed2024;

// ---------------------------------------------------------------------------
// Keys

type Key =
  | { kind: 'bytes'; label: string; bytes: Uint8Array }
  | { kind: 'string'; label: string; text: string; source?: number | object };

/** xorshift32: deterministic, seeded. */
function prng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

function randomBytes(next: () => number, length: number): Uint8Array {
  // A view at an odd offset into a larger buffer, so byteOffset handling is exercised too.
  const backing = new Uint8Array(length + 3);
  const view = backing.subarray(1 + (length % 2), 1 + (length % 2) + length);
  for (let i = 0; i < length; i++) view[i] = next() & 0xff;
  return view;
}

const HANGUL = (n: () => number): string => String.fromCharCode(0xac00 + (n() % 11172));
const KANA = (n: () => number): string => String.fromCharCode(0x3041 + (n() % 0xbe)); // hiragana + katakana
const KANJI = (n: () => number): string => String.fromCharCode(0x4e00 + (n() % 0x5200));
const EMOJI = (n: () => number): string => String.fromCodePoint([0x1f300, 0x1f600, 0x1f900, 0x1fa70][n() % 4] + (n() % 0x50));
const TWO_BYTE = (n: () => number): string => String.fromCharCode(0x80 + (n() % 0x780)); // Latin-1, Greek, Cyrillic...
const ASCII = (n: () => number): string => String.fromCharCode(n() % 0x80);
const PRINTABLE = (n: () => number): string => String.fromCharCode(0x20 + (n() % 0x5f));
const HIGH_BMP = (n: () => number): string => String.fromCharCode(0xe000 + (n() % 0x2000)); // above surrogates, up to U+FFFF

/**
 * A well-formed string (no lone surrogates: Java's StringSerializer writes '?'
 * for those where Node writes U+FFFD, so they are not comparable) of `units`
 * UTF-16 units at most.
 */
function randomText(next: () => number, units: number, pools: Array<(n: () => number) => string>): string {
  let s = '';
  while (s.length < units) {
    const c = pools[next() % pools.length](next);
    if (s.length + c.length > units) break;
    s += c;
  }
  return s;
}

function generateKeys(): Key[] {
  const next = prng(SEED);
  const keys: Key[] = [];
  const bytes = (label: string, b: Uint8Array): void => void keys.push({ kind: 'bytes', label, bytes: b });
  const text = (label: string, t: string): void => void keys.push({ kind: 'string', label, text: t });

  // Every key of 0, 1 and 2 bytes: all tails of length 0..2 with every byte value.
  bytes('empty', new Uint8Array(0));
  for (let a = 0; a < 256; a++) bytes('1 byte', Uint8Array.of(a));
  for (let a = 0; a < 256; a++) for (let b = 0; b < 256; b++) bytes('2 bytes', Uint8Array.of(a, b));
  // Random binary of every length 3..64 (tails 0..3), all byte values incl. >= 0x80.
  for (let i = 0; i < 24_000; i++) bytes('binary', randomBytes(next, 3 + (i % 62)));
  // Binary made of high bytes only (sign extension in Java's byte -> int).
  for (let i = 0; i < 2_000; i++) {
    const b = randomBytes(next, i % 40);
    for (let j = 0; j < b.length; j++) b[j] |= 0x80;
    bytes('high binary', b);
  }
  // ASCII: printable and control characters, lengths 0..200 (both sides of the 128 fast-path limit).
  for (let i = 0; i < 20_000; i++) text('ascii', randomText(next, i % 201, i % 3 === 0 ? [ASCII] : [PRINTABLE]));
  // Multi-byte UTF-8: Korean, Japanese, emoji (4-byte), 2-byte and high-BMP 3-byte, mixed with ASCII.
  const multi = [HANGUL, KANA, KANJI, EMOJI, TWO_BYTE, HIGH_BMP, PRINTABLE];
  for (let i = 0; i < 8_000; i++) text('korean', randomText(next, i % 60, [HANGUL, PRINTABLE]));
  for (let i = 0; i < 8_000; i++) text('japanese', randomText(next, i % 60, [KANA, KANJI]));
  for (let i = 0; i < 6_000; i++) text('emoji', randomText(next, i % 40, [EMOJI, PRINTABLE]));
  for (let i = 0; i < 10_000; i++) text('mixed', randomText(next, i % 180, multi));
  // Tweet-like keys.
  for (let i = 0; i < 5_000; i++) {
    const user = randomText(next, 4 + (next() % 12), [PRINTABLE]);
    text('tweet', `${1_700_000_000_000_000_000n + BigInt(next()) * 4_096n}:@${user}:${randomText(next, next() % 30, multi)}`);
  }
  text('empty string', '');
  // Long keys, 1-4 KB, binary and text (the Buffer.write path of murmur2String).
  for (let i = 0; i < 1_500; i++) bytes('long binary', randomBytes(next, 1024 + (next() % 3073)));
  for (let i = 0; i < 1_000; i++) text('long ascii', randomText(next, 1024 + (next() % 3073), [PRINTABLE]));
  for (let i = 0; i < 1_000; i++) text('long mixed', randomText(next, 400 + (next() % 1000), multi));
  // Beyond the kept 64 KB scratch buffer.
  for (let i = 0; i < 8; i++) text('huge mixed', randomText(next, 22_000 + (next() % 4000), multi));
  // Numbers (decimal text) and objects (JSON text) through keyToBytes.
  const numbers: number[] = [0, -0, 1, -1, 0.5, -2.75, 1e21, 1e-7, 2 ** 53, -(2 ** 31), Number.MAX_VALUE, Number.MIN_VALUE, Number.NaN];
  for (let i = 0; i < 3_000; i++) numbers.push(i % 2 ? next() - 2 ** 31 : next() / (1 + (next() % 1000)));
  // NaN's text "NaN" is hashed as a string; as a key it has no bytes (key.ts refuses it).
  for (const n of numbers) keys.push({ kind: 'string', label: 'number', text: String(n), source: Number.isFinite(n) ? n : undefined });
  for (let i = 0; i < 1_000; i++) {
    const o = { id: next(), user: randomText(next, next() % 12, multi), tags: [next() % 100, randomText(next, 3, [KANA])] };
    keys.push({ kind: 'string', label: 'object', text: JSON.stringify(o), source: o });
  }
  return keys;
}

function encodeInput(keys: Key[]): Buffer {
  let size = 0;
  for (const k of keys) size += 5 + (k.kind === 'bytes' ? k.bytes.length : 2 * k.text.length);
  const out = Buffer.allocUnsafe(size);
  let p = 0;
  for (const k of keys) {
    if (k.kind === 'bytes') {
      out[p] = 0;
      out.writeInt32BE(k.bytes.length, p + 1);
      out.set(k.bytes, p + 5);
      p += 5 + k.bytes.length;
    } else {
      out[p] = 1;
      out.writeInt32BE(k.text.length, p + 1);
      p += 5;
      for (let i = 0; i < k.text.length; i++, p += 2) out.writeUInt16BE(k.text.charCodeAt(i), p);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Java


// ---------------------------------------------------------------------------

test('murmur2 and partitionForKey equal the Java client for every key and 1..100 partitions', { timeout: 180_000 }, async (t) => {
  const started = Date.now();
  const keys = generateKeys();
  const input = encodeInput(keys);
  const generatedMs = Date.now() - started;

  const classpath = await kafkaClasspath();
  const classes = await compileJava(SOURCE, classpath);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'murmur2-java-'));
  t.after(() => fs.rmSync(work, { recursive: true, force: true }));
  const inFile = path.join(work, 'keys.bin');
  const outFile = path.join(work, 'java.bin');
  fs.writeFileSync(inFile, input);

  const javaStarted = Date.now();
  const { stderr } = await run(
    'java',
    ['-Xshare:auto', '-cp', `${classpath}${path.delimiter}${classes}`, 'Murmur2Check', inFile, outFile, String(MAX_PARTITIONS)],
    { maxBuffer: 4 * 1024 * 1024 },
  );
  const javaMs = Date.now() - javaStarted;
  const java = fs.readFileSync(outFile);
  assert.equal(java.readInt32BE(0), keys.length, `Java read ${java.readInt32BE(0)} keys of ${keys.length}: ${stderr}`);
  assert.equal(java.readInt32BE(4), MAX_PARTITIONS);

  // The producer's partition assigner, with each partition count's metadata.
  const assigner = new PartitionAssigner(16384);
  const partitionsOf: PartitionInfo[][] = Array.from({ length: MAX_PARTITIONS + 1 }, (_, n) =>
    Array.from({ length: n }, (_, partition) => ({ errorCode: 0, partition, leader: 0, leaderEpoch: 0, replicas: [0], isr: [0], offlineReplicas: [] })),
  );

  const jsStarted = Date.now();
  const mismatches: string[] = [];
  let mismatchCount = 0;
  let compared = 0;
  const labels = new Map<string, number>();
  const fail = (k: Key, index: number, what: string, n: number, ours: number, theirs: number): void => {
    mismatchCount++;
    if (mismatches.length < 20) {
      const shown = k.kind === 'bytes' ? Buffer.from(k.bytes).toString('hex').slice(0, 80) : JSON.stringify(k.text.slice(0, 40));
      mismatches.push(`#${index} ${k.label} ${shown}: ${what}${n ? ` (n=${n})` : ''} ours=${ours} java=${theirs}`);
    }
  };
  // `what` is a constant and n separate, so that no string is built per comparison.
  const check = (k: Key, index: number, what: string, ours: number, theirs: number, n = 0): void => {
    compared++;
    if (ours !== theirs) fail(k, index, what, n, ours, theirs);
  };

  let p = 8;
  for (let index = 0; index < keys.length; index++) {
    const k = keys[index];
    labels.set(k.label, (labels.get(k.label) ?? 0) + 1);
    const jHash = java.readInt32BE(p);
    const jPositive = java.readInt32BE(p + 4);
    const jLength = java.readInt32BE(p + 8);
    const jParts = java.subarray(p + 12, p + 12 + MAX_PARTITIONS);
    p += 12 + MAX_PARTITIONS;

    let bytes: Uint8Array;
    if (k.kind === 'bytes') {
      bytes = k.bytes;
      check(k, index, 'murmur2Key(bytes)', murmur2Key(bytes), jHash);
      check(k, index, 'murmur2(Buffer copy)', murmur2(Buffer.from(bytes)), jHash);
    } else {
      bytes = Buffer.from(k.text, 'utf8');
      check(k, index, 'murmur2String', murmur2String(k.text), jHash);
      check(k, index, 'murmur2Key(string)', murmur2Key(k.text), jHash);
      if (k.source !== undefined) {
        check(k, index, 'murmur2Key(source)', murmur2Key(k.source), jHash);
        check(k, index, 'keyToBytes(source) length', keyToBytes(k.source).length, jLength);
      }
    }
    check(k, index, 'UTF-8 length', bytes.length, jLength);
    const hash = murmur2(bytes);
    check(k, index, 'murmur2', hash, jHash);
    check(k, index, 'toPositive', toPositive(hash), jPositive);
    for (let n = 1; n <= MAX_PARTITIONS; n++) {
      const expected = jParts[n - 1];
      check(k, index, 'partitionForKey', partitionForKey(bytes, n), expected, n);
      if (k.kind === 'string') check(k, index, 'partitionForStringKey', partitionForStringKey(k.text, n), expected, n);
      check(k, index, 'PartitionAssigner.assign', assigner.assign(`t${n}`, partitionsOf[n], bytes, undefined, 0), expected, n);
    }
  }
  assert.equal(p, java.length, 'Java output has trailing bytes');
  const jsMs = Date.now() - jsStarted;

  t.diagnostic(
    `${keys.length} keys (${[...labels].map(([l, c]) => `${l} ${c}`).join(', ')}); ` +
      `${compared} values compared; keys ${generatedMs} ms, Java ${javaMs} ms, JS ${jsMs} ms, total ${Date.now() - started} ms`,
  );
  assert.equal(mismatchCount, 0, `${mismatchCount} mismatches with the Java client:\n${mismatches.join('\n')}`);
});
