// The one key rule (src/lib/kafka/key.ts), and that the producer's record, the
// murmur2 helpers and the partition key node agree on every key's bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyError, keyBytes, keyForm } from '../../src/lib/kafka/key';
import { keyToBytes, murmur2, murmur2Key, partitionForKey } from '../../src/lib/kafka/murmur2';
import { KeyPartitioner, partitionKeySettings, type PartitionKeyMsg } from '../../src/lib/kafka/partition-key';
import { RecordError, toProducerRecord } from '../../src/lib/kafka/record';

const utf8 = (s: string) => Buffer.from(s, 'utf8');

test('the rule: text as UTF-8, bytes as is, numbers/booleans/bigints as text, objects as JSON, null as no key', () => {
  const cases: Array<[unknown, Buffer]> = [
    ['user-1', utf8('user-1')],
    ['', Buffer.alloc(0)],
    ['카프카 🎉', utf8('카프카 🎉')],
    [Buffer.from([0, 0xff]), Buffer.from([0, 0xff])],
    [Uint8Array.from([1, 2, 3]), Buffer.from([1, 2, 3])],
    [42, utf8('42')],
    [-0, utf8('0')],
    [-2.75, utf8('-2.75')],
    [1e21, utf8('1e+21')],
    [5e-7, utf8('5e-7')],
    [true, utf8('true')],
    [false, utf8('false')],
    [18446744073709551616n, utf8('18446744073709551616')],
    [{ id: '1', lang: 'ko' }, utf8('{"id":"1","lang":"ko"}')],
    [[1, 'two', null], utf8('[1,"two",null]')],
    [{}, utf8('{}')],
    [new Date(0), utf8('"1970-01-01T00:00:00.000Z"')],
  ];
  for (const [key, bytes] of cases) assert.deepEqual(keyBytes(key), bytes, String(key));
  assert.equal(keyBytes(null), null);
  assert.equal(keyBytes(undefined), null);
  assert.equal(keyForm(null), null);
  assert.equal(keyForm(undefined), null);
});

test('a string key is handed back as the same string (hashed without a Buffer), bytes without a copy', () => {
  const s = 'author-1234567';
  assert.equal(keyForm(s), s);
  assert.equal(keyForm(42), '42');
  assert.equal(keyForm(true), 'true');
  const buf = Buffer.from('abc');
  assert.equal(keyForm(buf), buf);
  const backing = new Uint8Array([9, 8, 7, 6]);
  const view = backing.subarray(1, 3);
  const form = keyForm(view) as Buffer;
  assert.ok(Buffer.isBuffer(form));
  assert.deepEqual([...form], [8, 7]);
  backing[1] = 0;
  assert.equal(form[0], 0, 'a Uint8Array key shares its memory');
});

test('keys without bytes are a KeyError, which is a RecordError naming the property', () => {
  const circular: Record<string, unknown> = { a: 1 };
  circular.self = circular;
  const cases: Array<[unknown, KeyError['problem'], RegExp]> = [
    [Number.NaN, 'number', /^msg\.payload\.id is the number NaN, which has no decimal text/],
    [Infinity, 'number', /^msg\.payload\.id is the number Infinity,/],
    [-Infinity, 'number', /^msg\.payload\.id is the number -Infinity,/],
    [() => 1, 'type', /^msg\.payload\.id is a function, which has no bytes/],
    [Symbol('k'), 'type', /^msg\.payload\.id is a symbol, which has no bytes/],
    [circular, 'json', /^msg\.payload\.id is an object that cannot be turned into JSON: .*circular/i],
    [{ big: 1n }, 'json', /^msg\.payload\.id is an object that cannot be turned into JSON: .*BigInt/],
    [{ toJSON: () => undefined }, 'json', /JSON\.stringify gave no text/],
    [new Map([['a', 1]]), 'json', /JSON writes every Map as \{\}/],
    [new Set([1]), 'json', /JSON writes every Set as \{\}/],
    [new ArrayBuffer(4), 'json', /JSON writes every ArrayBuffer as \{\}/],
  ];
  for (const [key, problem, re] of cases) {
    assert.throws(
      () => keyBytes(key, 'msg.payload.id'),
      (e: Error) => e instanceof KeyError && e instanceof RecordError && e.name === 'RecordError' && e.problem === problem && e.property === 'msg.payload.id' && re.test(e.message),
      String(typeof key === 'symbol' ? 'symbol' : key),
    );
  }
  // A RegExp is matched against String(error): its name, then its message.
  assert.throws(() => keyBytes(Number.NaN), /^RecordError: msg\.key is the number NaN/, 'msg.key by default');
  // The JSON failure keeps JSON's own error as the cause.
  try {
    keyForm(circular);
    assert.fail('no error');
  } catch (e) {
    assert.ok((e as Error).cause instanceof TypeError);
  }
});

test('producer record, murmur2 helpers and the partition key node give every key the same bytes and partition', () => {
  const keys: unknown[] = [
    'user-1', '', '카프카', 'emoji 🎉', 21, -2.75, 0, 1e21, true, false, 12345678901234567890n,
    Buffer.from([0, 1, 0xff]), Uint8Array.from([9, 8, 7]), { id: '1', lang: 'ko' }, ['a', 2], [],
  ];
  const n = 12;
  const t = (k: string, subs?: Record<string, string | number>) => `${k}${subs ? JSON.stringify(subs) : ''}`;
  const partitioner = new KeyPartitioner({
    settings: partitionKeySettings({ partitions: String(n) }, t),
    readKey: (msg, cb) => cb(null, msg.key),
    t,
    status: () => {},
    warn: () => {},
    error: (e) => assert.fail(String(e)),
  });
  for (const key of keys) {
    const out: PartitionKeyMsg[] = [];
    let failed: Error | undefined;
    partitioner.receive({ key, payload: 'v' }, (m) => out.push(m), (e) => (failed = e));
    assert.equal(failed, undefined, String(key));
    assert.equal(out.length, 1);
    const placed = out[0];
    // What the producer sends for the original key, and for the key the node passes on.
    // (the record keeps text keys as text; the batch writes their UTF-8 bytes)
    const bytesOf = (k: Buffer | string) => (typeof k === 'string' ? Buffer.from(k, 'utf8') : k);
    const direct = bytesOf(toProducerRecord({ payload: 'v', key }, 't').key!);
    const viaNode = bytesOf(toProducerRecord({ payload: 'v', key: placed.key }, 't').key!);
    assert.deepEqual(viaNode, direct, `bytes of ${String(key)}`);
    assert.deepEqual(Buffer.from(keyToBytes(key as never)), direct);
    assert.equal(murmur2Key(key as never), murmur2(direct));
    assert.equal(placed.partition, partitionForKey(direct, n), `partition of ${String(key)}`);
  }
});
