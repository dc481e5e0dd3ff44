import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecordError } from '../../src/lib/kafka/record';
import {
  keyToBytes,
  murmur2,
  murmur2Key,
  murmur2String,
  partitionForKey,
  partitionForStringKey,
  toPositive,
  type KafkaKey,
} from '../../src/lib/kafka/murmur2';

const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

// apache/kafka clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java, testMurmur2.
const KAFKA_UTILS_TEST: Array<[Uint8Array, number]> = [
  [utf8('21'), -973932308],
  [utf8('foobar'), -790332482],
  [utf8('a-little-bit-long-string'), -985981536],
  [utf8('a-little-bit-longer-string'), -1486304829],
  [utf8('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8'), -58897971],
  [Uint8Array.from([0x61, 0x62, 0x63]), 479470107], // new byte[] {'a', 'b', 'c'}
];

// kafkajs 2.x src/producer/partitioners/default/murmur2.spec.js (its Java-compatible
// partitioner; the values were generated there with a Java program).
const KAFKAJS_SPEC: Record<string, number> = {
  '0': 971027396,
  '1': -1993445489,
  '128': -326012175,
  '2187': -1508407203,
  '16384': -325739742,
  '78125': -1654490814,
  '279936': 1462227128,
  '823543': -2014198330,
  '2097152': 607668903,
  '4782969': -1182699775,
  '10000000': -1830336757,
  '19487171': -1603849305,
  '35831808': -857013643,
  '62748517': -1167431028,
  '105413504': -381294639,
  '170859375': -1658323481,
  '100:48069': 1009543857,
};

// librdkafka src/rdmurmur2.c unit test (Java-compatible murmur2).
const LIBRDKAFKA: Record<string, number> = {
  kafka: 0xd067cf64 | 0,
  giberish123456789: 0x8f552b0c | 0,
  '1234': 0x9fc97b14 | 0,
  '234': 0xe7c009ca | 0,
  '34': 0x873930da | 0,
  '4': 0x5a4b5ca1 | 0,
  'PreAmbleWillBeRemoved,ThePrePartThatIs': 0x78424f1c | 0,
  'reAmbleWillBeRemoved,ThePrePartThatIs': 0x4a62b377 | 0,
  'eAmbleWillBeRemoved,ThePrePartThatIs': 0xe0e4e09e | 0,
  'AmbleWillBeRemoved,ThePrePartThatIs': 0x62b8b43f | 0,
  '': 0x106e08d9 | 0,
};

// Generated with test/support/java/Murmur2Check.java on kafka-clients 4.3.1:
// [key, Utils.murmur2, partitionForKey(key, 7), partitionForKey(key, 12), partitionForKey(key, 100)].
// String keys are the UTF-8 bytes of StringSerializer.
const JAVA_STRINGS: Array<[string, number, number, number, number]> = [
  ['21', -973932308, 3, 0, 40],
  ['foobar', -790332482, 0, 6, 66],
  ['a-little-bit-long-string', -985981536, 1, 8, 12],
  ['a-little-bit-longer-string', -1486304829, 0, 11, 19],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971, 3, 5, 77],
  ['', 275646681, 2, 9, 81],
  ['a', -1563381124, 5, 4, 24],
  ['ab', 316155434, 0, 2, 34],
  ['abc', 479470107, 4, 3, 7],
  ['abcd', -1323649548, 5, 8, 0],
  ['abcde', 461995741, 4, 1, 41],
  ['kafka', -798503068, 3, 4, 80],
  ['안녕하세요', 394177072, 2, 4, 72],
  ['こんにちは世界', -1341269536, 4, 4, 12],
  ['😀', 131881617, 0, 9, 17],
  ['🇰🇷', 709568859, 6, 3, 59],
  ['ключ', 2122343024, 4, 8, 24],
  ['é', 186971271, 4, 3, 71],
  ['tweet:1790000000000000000', 1548083089, 0, 1, 89],
];
const JAVA_BYTES: Array<[number[], number, number, number, number]> = [
  [[], 275646681, 2, 9, 81],
  [[0x00], 375494588, 0, 8, 88],
  [[0xff], -311467685, 5, 3, 63],
  [[0x80], 857690492, 1, 8, 92],
  [[0xff, 0xff], -1642832928, 0, 8, 20],
  [[0x80, 0x81, 0x82], -1975640061, 6, 11, 87],
  [[0xff, 0xff, 0xff], 1548199422, 0, 6, 22],
  [[0xff, 0xff, 0xff, 0xff], 644171429, 6, 5, 29],
  [[0, 0, 0, 0], 850957120, 6, 4, 20],
  [[0xde, 0xad, 0xbe, 0xef, 0xca, 0xfe], -1156973575, 0, 1, 73],
  [[0xff, 0xfe, 0xfd, 0xfc, 0xfb], 524068735, 1, 7, 35],
  [[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80], -1845943597, 1, 7, 51],
  [Array.from({ length: 256 }, (_, i) => i), -1948347274, 3, 10, 74],
];

test("murmur2 matches Kafka's UtilsTest.testMurmur2 vectors", () => {
  for (const [bytes, expected] of KAFKA_UTILS_TEST) {
    assert.equal(murmur2(bytes), expected, Buffer.from(bytes).toString('latin1'));
  }
});

test("murmur2 matches kafkajs's murmur2 spec values (string and number keys)", () => {
  for (const [key, expected] of Object.entries(KAFKAJS_SPEC)) {
    assert.equal(murmur2(utf8(key)), expected, key);
    assert.equal(murmur2String(key), expected, key);
    if (/^\d+$/.test(key)) assert.equal(murmur2Key(Number(key)), expected, `number ${key}`);
  }
  assert.equal(murmur2Key(0), 971027396); // "it handles numeric input"
  assert.equal(murmur2(Buffer.from('1')), -1993445489); // "it handles buffer input"
});

test("murmur2 matches librdkafka's murmur2 unit-test values", () => {
  for (const [key, expected] of Object.entries(LIBRDKAFKA)) {
    assert.equal(murmur2(utf8(key)), expected, key);
    assert.equal(murmur2String(key), expected, key);
  }
});

test('murmur2 matches values computed by the Java client (strings, binary, every tail length)', () => {
  for (const [s, h, p7, p12, p100] of JAVA_STRINGS) {
    assert.equal(murmur2(utf8(s)), h, s);
    assert.equal(murmur2String(s), h, s);
    assert.equal(murmur2Key(s), h, s);
    assert.equal(partitionForKey(utf8(s), 7), p7, s);
    assert.equal(partitionForKey(utf8(s), 12), p12, s);
    assert.equal(partitionForKey(utf8(s), 100), p100, s);
    assert.equal(partitionForStringKey(s, 7), p7, s);
    assert.equal(partitionForStringKey(s, 100), p100, s);
  }
  for (const [bytes, h, p7, p12, p100] of JAVA_BYTES) {
    const u8 = Uint8Array.from(bytes);
    assert.equal(murmur2(u8), h, String(bytes));
    assert.equal(murmur2(Buffer.from(bytes)), h, String(bytes));
    assert.equal(murmur2Key(u8), h, String(bytes));
    assert.equal(partitionForKey(u8, 7), p7, String(bytes));
    assert.equal(partitionForKey(u8, 12), p12, String(bytes));
    assert.equal(partitionForKey(u8, 100), p100, String(bytes));
  }
});

test('murmur2 reads only the view of a Uint8Array with a byte offset', () => {
  for (const [bytes, h] of JAVA_BYTES) {
    const backing = new Uint8Array(bytes.length + 11).fill(0xa5);
    backing.set(bytes, 5);
    assert.equal(murmur2(backing.subarray(5, 5 + bytes.length)), h, String(bytes));
    const pooled = Buffer.from(bytes); // may share Node's pool at a non-zero offset
    assert.equal(murmur2(pooled), h);
  }
});

test('murmur2 returns a signed 32-bit integer', () => {
  let seed = 1;
  for (let i = 0; i < 2000; i++) {
    const b = Buffer.alloc(i % 37);
    for (let j = 0; j < b.length; j++) {
      seed = (Math.imul(seed, 1103515245) + 12345) | 0;
      b[j] = seed >>> 24;
    }
    const h = murmur2(b);
    assert.ok(Number.isInteger(h) && h >= -0x80000000 && h <= 0x7fffffff, String(h));
    assert.ok(!Object.is(h, -0));
  }
});

test('toPositive clears the sign bit like Utils.toPositive', () => {
  assert.equal(toPositive(0), 0);
  assert.equal(toPositive(1), 1);
  assert.equal(toPositive(0x7fffffff), 0x7fffffff);
  assert.equal(toPositive(-1), 0x7fffffff);
  assert.equal(toPositive(-0x80000000), 0); // Integer.MIN_VALUE; Math.abs would overflow in Java
  assert.equal(toPositive(-0x7fffffff), 1);
  assert.equal(toPositive(-973932308), 1173551340);
  assert.equal(toPositive(-2), 0x7ffffffe);
});

test('partitionForKey is toPositive(murmur2) % n and stays in range', () => {
  for (const [s] of JAVA_STRINGS) {
    const h = murmur2(utf8(s));
    for (let n = 1; n <= 64; n++) {
      const p = partitionForKey(utf8(s), n);
      assert.equal(p, toPositive(h) % n);
      assert.ok(p >= 0 && p < n);
    }
    assert.equal(partitionForKey(utf8(s), 1), 0);
  }
  // A negative hash goes through toPositive, not Math.abs: "21" hashes to -973932308.
  assert.equal(partitionForKey(utf8('21'), 10), 1173551340 % 10);
  assert.notEqual(partitionForKey(utf8('21'), 7), Math.abs(-973932308) % 7);
  assert.equal(partitionForKey(utf8('x'), 0x7fffffff), toPositive(murmur2(utf8('x'))) % 0x7fffffff);
});

test('partitionForKey refuses a partition count that is not a positive integer', () => {
  for (const n of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31]) {
    assert.throws(() => partitionForKey(utf8('k'), n), RangeError, String(n));
    assert.throws(() => partitionForStringKey('k', n), RangeError, String(n));
  }
});

test('keyToBytes: strings as UTF-8, bytes as is, numbers as decimal text, objects as JSON', () => {
  assert.deepEqual(keyToBytes('안녕 😀'), utf8('안녕 😀'));
  assert.deepEqual(keyToBytes(''), Buffer.alloc(0));
  const buf = Buffer.from([1, 2, 0xff]);
  assert.equal(keyToBytes(buf), buf);
  const u8 = Uint8Array.from([0x80, 0]);
  assert.equal(keyToBytes(u8), u8);
  assert.deepEqual(keyToBytes(42), utf8('42'));
  assert.deepEqual(keyToBytes(-1.5), utf8('-1.5'));
  assert.deepEqual(keyToBytes(1e21), utf8('1e+21'));
  assert.deepEqual(keyToBytes(-0), utf8('0'));
  assert.deepEqual(keyToBytes({ id: 7, user: 'ナナ' }), utf8('{"id":7,"user":"ナナ"}'));
  assert.deepEqual(keyToBytes([1, 'a']), utf8('[1,"a"]'));
  assert.deepEqual(keyToBytes(true), utf8('true'));
  assert.deepEqual(keyToBytes(123n), utf8('123'));
  assert.throws(() => keyToBytes(null as unknown as string), TypeError);
  assert.throws(() => keyToBytes(undefined as unknown as string), TypeError);
});

test('murmur2Key hashes exactly keyToBytes(key)', () => {
  const keys: KafkaKey[] = [
    'tweet', '', 0, 17, -3.25, 1e21, false, 2n ** 70n, { a: 1 }, ['x', 2], Buffer.from('abc'), Uint8Array.from([0xff]),
  ];
  for (const k of keys) assert.equal(murmur2Key(k), murmur2(keyToBytes(k)), String(k));
});

test('keyToBytes and murmur2Key refuse keys without bytes with the RecordError of the key rule', () => {
  for (const k of [Number.NaN, Infinity, (() => 1) as unknown as object]) {
    assert.throws(() => keyToBytes(k), (e: Error) => e instanceof RecordError && /^msg\.key is /.test(e.message), String(k));
    assert.throws(() => murmur2Key(k), (e: Error) => e instanceof RecordError, String(k));
  }
  assert.throws(() => murmur2Key(null as unknown as string), TypeError);
});

/** Deterministic strings mixing every UTF-16 class: ASCII, 2- and 3-byte, pairs, lone surrogates. */
function randomString(next: () => number, length: number): string {
  let s = '';
  for (let i = 0; i < length; i++) {
    const r = next() % 10;
    if (r < 4) s += String.fromCharCode(next() % 0x80);
    else if (r < 5) s += String.fromCharCode(0x80 + (next() % 0x780));
    else if (r < 7) s += String.fromCharCode(0xac00 + (next() % 11172)); // Hangul
    else if (r < 8) s += String.fromCodePoint(0x1f300 + (next() % 0x700)); // emoji
    else if (r < 9) s += String.fromCharCode(0xd800 + (next() % 0x800)); // lone surrogate
    else s += String.fromCharCode(0xe000 + (next() % 0x2000)); // BMP above surrogates, incl. U+FFFF
  }
  return s;
}

test('murmur2String equals murmur2(Buffer.from(s)) for every string shape and length', () => {
  let x = 0x2545f491;
  const next = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  // Lengths around the ASCII-direct (128) and JS-encoder (16) limits, long strings and
  // strings beyond the kept scratch buffer (64 KB of UTF-8).
  const lengths = [0, 1, 2, 3, 4, 5, 15, 16, 17, 31, 32, 33, 127, 128, 129, 130, 500, 4096, 22000, 30000];
  for (const len of lengths) {
    for (let rep = 0; rep < (len > 1000 ? 3 : 60); rep++) {
      const mixed = randomString(next, len);
      assert.equal(murmur2String(mixed), murmur2(Buffer.from(mixed, 'utf8')), `mixed length ${len}`);
      let ascii = '';
      for (let i = 0; i < len; i++) ascii += String.fromCharCode(next() % 0x80);
      assert.equal(murmur2String(ascii), murmur2(Buffer.from(ascii, 'utf8')), `ascii length ${len}`);
      // ASCII with one non-ASCII unit at the end: the ASCII fast path must give up.
      const tail = ascii + 'é';
      assert.equal(murmur2String(tail), murmur2(Buffer.from(tail, 'utf8')), `ascii+é length ${len}`);
    }
  }
  // Lone surrogates are encoded as U+FFFD, as Buffer.from (and so kafkajs on the wire) does.
  for (const s of ['\ud800', '\udc00', 'a\ud83d', '\ud83db', '\ude00\ud83d', '\ud83d\ude00', '\uffff', '\u0080', '\u07ff', '\u0800']) {
    assert.equal(murmur2String(s), murmur2(Buffer.from(s, 'utf8')), JSON.stringify(s));
  }
  assert.equal(murmur2String('\ud800'), murmur2(Uint8Array.from([0xef, 0xbf, 0xbd])));
});

test('murmur2String is not disturbed by interleaved calls of different sizes (shared scratch)', () => {
  const small = 'ключ';
  const big = 'ключ'.repeat(9000); // 72 KB of UTF-8: one-off buffer
  const medium = '안'.repeat(2000); // grows the scratch
  const expected = [small, big, medium].map((s) => murmur2(utf8(s)));
  for (let i = 0; i < 3; i++) {
    assert.equal(murmur2String(small), expected[0]);
    assert.equal(murmur2String(big), expected[1]);
    assert.equal(murmur2String(medium), expected[2]);
    assert.equal(murmur2String(small), expected[0]);
  }
});
