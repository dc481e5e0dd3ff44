// Kafka's murmur2 key hash and the Java client's key -> partition mapping.
//
// murmur2() returns exactly what org.apache.kafka.common.utils.Utils.murmur2(byte[])
// returns (a signed 32-bit int), and partitionForKey() exactly what
// org.apache.kafka.clients.producer.internals.BuiltInPartitioner.partitionForKey
// returns, so a keyed record lands on the same partition as it would from a Java
// producer. Everything is int32 arithmetic: Math.imul for the 32-bit multiply,
// `>>>` where Java uses `>>>`, and `| 0` to hand back a signed int.
//
// Strings are hashed as their UTF-8 bytes, the bytes kafkajs puts on the wire
// (Buffer.from(s, 'utf8')), without allocating a Buffer per call. For any
// well-formed string these are the bytes of Java's StringSerializer too; only a
// lone surrogate differs (Node writes EF BF BD, Java '?'), and we follow Node
// because those are the bytes the record carries.

import { keyBytes, keyForm } from './key';

/** Utils.murmur2's seed, as a signed int. */
const SEED = 0x9747b28c | 0;
/** Mixing constant m; r is 24. */
const M = 0x5bd1e995;

/**
 * Java's Utils.murmur2(byte[]) over data[offset, offset + length).
 * Callers guarantee the range lies inside data.
 */
function hashRange(data: Uint8Array, offset: number, length: number): number {
  let h = SEED ^ length;
  const end4 = offset + (length & ~3);
  let i = offset;
  for (; i < end4; i += 4) {
    // Little-endian int; the four bytes don't overlap, so | equals Java's +.
    let k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  // Java's fall-through switch on length % 4: case 3, case 2, case 1 (then h *= m).
  const rest = length & 3;
  if (rest !== 0) {
    if (rest === 3) h ^= data[i + 2] << 16;
    if (rest >= 2) h ^= data[i + 1] << 8;
    h ^= data[i];
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** Utils.murmur2(byte[]): the signed 32-bit murmur2 hash Kafka uses for keys. */
export function murmur2(data: Uint8Array): number {
  return hashRange(data, 0, data.length);
}

/** Utils.toPositive(int): clears the sign bit (not Math.abs). */
export function toPositive(n: number): number {
  return n & 0x7fffffff;
}

function checkPartitions(numPartitions: number): void {
  // Java would throw ArithmeticException on % 0; never hand back NaN.
  if (!(numPartitions > 0 && numPartitions <= 0x7fffffff && Number.isInteger(numPartitions))) {
    throw new RangeError(`numPartitions must be a positive integer, got ${numPartitions}`);
  }
}

/** BuiltInPartitioner.partitionForKey(byte[], int): toPositive(murmur2(key)) % numPartitions. */
export function partitionForKey(keyBytes: Uint8Array, numPartitions: number): number {
  checkPartitions(numPartitions);
  return (hashRange(keyBytes, 0, keyBytes.length) & 0x7fffffff) % numPartitions;
}

// ---------------------------------------------------------------------------
// Strings: UTF-8 into a reused scratch buffer, then hash.

/** Strings up to this many UTF-16 units are first tried as pure ASCII, hashed straight from the string. */
const ASCII_DIRECT_MAX = 128;
/** Non-ASCII strings up to this many UTF-16 units are encoded in JS; longer ones by Buffer.write. */
const JS_ENCODE_MAX = 16;
/** The scratch buffer is kept while it stays this small; larger strings get a one-off buffer. */
const SCRATCH_KEEP_MAX = 64 * 1024;

let scratch = Buffer.allocUnsafe(4096);
/** The same memory as scratch, seen as a plain Uint8Array (faster element stores in JS). */
let scratchView = new Uint8Array(scratch.buffer, scratch.byteOffset, scratch.length);

function growScratch(bytes: number): void {
  let size = scratch.length;
  while (size < bytes) size *= 2;
  scratch = Buffer.allocUnsafe(size);
  scratchView = new Uint8Array(scratch.buffer, scratch.byteOffset, scratch.length);
}

/** Set by hashAscii: the OR of every UTF-16 unit it read (> 0x7f means not ASCII). */
let unitsSeen = 0;

/**
 * murmur2 of s read as one byte per UTF-16 unit, which is its UTF-8 encoding
 * when every unit is below 0x80. The caller must check unitsSeen <= 0x7f.
 */
function hashAscii(s: string): number {
  const length = s.length;
  let h = SEED ^ length;
  const end4 = length & ~3;
  let seen = 0;
  let i = 0;
  for (; i < end4; i += 4) {
    const a = s.charCodeAt(i);
    const b = s.charCodeAt(i + 1);
    const c = s.charCodeAt(i + 2);
    const d = s.charCodeAt(i + 3);
    seen |= a | b | c | d;
    let k = a | (b << 8) | (c << 16) | (d << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const rest = length & 3;
  if (rest !== 0) {
    if (rest === 3) {
      const c = s.charCodeAt(i + 2);
      seen |= c;
      h ^= c << 16;
    }
    if (rest >= 2) {
      const b = s.charCodeAt(i + 1);
      seen |= b;
      h ^= b << 8;
    }
    const a = s.charCodeAt(i);
    seen |= a;
    h ^= a;
    h = Math.imul(h, M);
  }
  unitsSeen = seen;
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/**
 * Writes s as UTF-8 into out from index 0, as Buffer.from(s, 'utf8') would
 * (lone surrogates become U+FFFD). out must hold 3 bytes per UTF-16 unit.
 * Returns the number of bytes written.
 */
function encodeUtf8(s: string, out: Uint8Array): number {
  const len = s.length;
  let p = 0;
  for (let i = 0; i < len; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      out[p++] = c;
    } else if (c < 0x800) {
      out[p++] = 0xc0 | (c >> 6);
      out[p++] = 0x80 | (c & 0x3f);
    } else if (c < 0xd800 || c > 0xdfff) {
      out[p++] = 0xe0 | (c >> 12);
      out[p++] = 0x80 | ((c >> 6) & 0x3f);
      out[p++] = 0x80 | (c & 0x3f);
    } else {
      if (c <= 0xdbff && i + 1 < len) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          i++;
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          out[p++] = 0xf0 | (c >> 18);
          out[p++] = 0x80 | ((c >> 12) & 0x3f);
          out[p++] = 0x80 | ((c >> 6) & 0x3f);
          out[p++] = 0x80 | (c & 0x3f);
          continue;
        }
      }
      // Lone surrogate: U+FFFD, like Buffer.from.
      out[p++] = 0xef;
      out[p++] = 0xbf;
      out[p++] = 0xbd;
    }
  }
  return p;
}

/**
 * murmur2 of the UTF-8 bytes of s; equal to murmur2(Buffer.from(s, 'utf8'))
 * but allocates nothing for keys up to 64 KB.
 */
export function murmur2String(s: string): number {
  const len = s.length;
  if (len <= ASCII_DIRECT_MAX) {
    const h = hashAscii(s);
    if (unitsSeen <= 0x7f) return h;
  }
  const maxBytes = len * 3;
  if (maxBytes > scratch.length) {
    if (maxBytes > SCRATCH_KEEP_MAX) {
      const bytes = Buffer.from(s, 'utf8');
      return hashRange(bytes, 0, bytes.length);
    }
    growScratch(maxBytes);
  }
  const n = len <= JS_ENCODE_MAX ? encodeUtf8(s, scratchView) : scratch.write(s, 0, 'utf8');
  return hashRange(scratchView, 0, n);
}

/** partitionForKey of the UTF-8 bytes of a string key, without allocating. */
export function partitionForStringKey(key: string, numPartitions: number): number {
  checkPartitions(numPartitions);
  return (murmur2String(key) & 0x7fffffff) % numPartitions;
}

// ---------------------------------------------------------------------------
// Keys of any type, by the one key rule of key.ts.

/** What keyToBytes accepts (see key.ts for the rule). */
export type KafkaKey = string | Buffer | Uint8Array | number | boolean | bigint | object;

/**
 * The bytes of a message key by key.ts's rule: a string as UTF-8, a Buffer or
 * Uint8Array as is, a finite number, boolean or bigint as its text, an object
 * or array as JSON text. null and undefined are "no key", which has no hash:
 * refused with a TypeError. A key without bytes throws KeyError (a RecordError).
 */
export function keyToBytes(key: KafkaKey): Uint8Array {
  if (key instanceof Uint8Array) return key;
  const bytes = keyBytes(key);
  if (bytes === null) throw new TypeError('a null key has no bytes');
  return bytes;
}

/** murmur2(keyToBytes(key)), without allocating a Buffer for strings. */
export function murmur2Key(key: KafkaKey): number {
  if (typeof key === 'string') return murmur2String(key);
  if (key instanceof Uint8Array) return hashRange(key, 0, key.length);
  const form = keyForm(key);
  if (form === null) throw new TypeError('a null key has no bytes');
  return typeof form === 'string' ? murmur2String(form) : hashRange(form, 0, form.length);
}
