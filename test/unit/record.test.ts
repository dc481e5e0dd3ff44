import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_TIMESTAMP_MS, RecordError, toProducerRecord, topicNameProblem } from '../../src/lib/kafka/record';

const NOW = 1_700_000_000_000;

test('payload types map to value bytes as documented', () => {
  const v = (payload: unknown) => toProducerRecord({ payload }, 't', NOW).value;
  assert.deepEqual(v(Buffer.from([0, 255])), Buffer.from([0, 255]));
  assert.equal(v('héllo 한국어 🎉')!.toString('utf8'), 'héllo 한국어 🎉');
  assert.equal(v({ a: 1, b: [true, null] })!.toString(), '{"a":1,"b":[true,null]}');
  assert.equal(v([1, 'x'])!.toString(), '[1,"x"]');
  assert.equal(v(42.5)!.toString(), '42.5');
  assert.equal(v(false)!.toString(), 'false');
  assert.equal(v(null), null, 'null is a tombstone');
  assert.deepEqual(v(new Uint8Array([1, 2, 3])), Buffer.from([1, 2, 3]));
});

test('unsupported payloads are refused with a clear RecordError', () => {
  const bad: Array<[unknown, RegExp]> = [
    [undefined, /msg\.payload is missing/],
    [() => 1, /type function is not supported/],
    [Symbol('x'), /type symbol is not supported/],
    [10n, /type bigint is not supported/],
    [NaN, /no text form/],
    [Infinity, /no text form/],
  ];
  for (const [payload, re] of bad) {
    assert.throws(() => toProducerRecord({ payload }, 't', NOW), (e: Error) => e instanceof RecordError && re.test(e.message));
  }
  const circular: Record<string, unknown> = {};
  circular.self = circular;
  assert.throws(() => toProducerRecord({ payload: circular }, 't', NOW), /could not be turned into JSON/);
});

test('keys follow the one key rule of key.ts; keys without bytes are a RecordError naming msg.key', () => {
  const k = (key: unknown) => toProducerRecord({ payload: 'v', key }, 't', NOW).key;
  assert.equal(k('user-1')!.toString(), 'user-1');
  assert.deepEqual(k(Buffer.from([9])), Buffer.from([9]));
  assert.equal(k(12345)!.toString(), '12345');
  assert.equal(k(true)!.toString(), 'true');
  assert.equal(k(12n)!.toString(), '12');
  assert.equal(k({ a: 1 })!.toString(), '{"a":1}');
  assert.equal(k([1])!.toString(), '[1]');
  assert.equal(k(undefined), null);
  assert.equal(k(null), null);
  const circular: Record<string, unknown> = {};
  circular.self = circular;
  const bad: Array<[unknown, RegExp]> = [
    [Number.NaN, /^msg\.key is the number NaN, which has no decimal text/],
    [-Infinity, /^msg\.key is the number -Infinity/],
    [() => 1, /^msg\.key is a function, which has no bytes/],
    [Symbol('k'), /^msg\.key is a symbol, which has no bytes/],
    [circular, /^msg\.key is an object that cannot be turned into JSON: .*circular/i],
    [new Map([['a', 1]]), /^msg\.key is an object that cannot be turned into JSON: JSON writes every Map as \{\}/],
  ];
  for (const [key, re] of bad) {
    assert.throws(() => k(key), (e: Error) => e instanceof RecordError && e.name === 'RecordError' && re.test(e.message), String(key as never));
  }
});

test('headers: strings and Buffers only', () => {
  const r = toProducerRecord({ payload: 'v', headers: { a: 'x', b: Buffer.from('y') } }, 't', NOW);
  assert.deepEqual(r.headers, { a: Buffer.from('x'), b: Buffer.from('y') });
  assert.throws(() => toProducerRecord({ payload: 'v', headers: { n: 1 } }, 't', NOW), /msg\.headers\["n"\] is of type number/);
  assert.throws(() => toProducerRecord({ payload: 'v', headers: { n: null } }, 't', NOW), /is of type null/);
  assert.throws(() => toProducerRecord({ payload: 'v', headers: { n: { x: 1 } } }, 't', NOW), /is of type object/);
  assert.throws(() => toProducerRecord({ payload: 'v', headers: 'a=b' }, 't', NOW), /must be an object/);
});

test('topic: node topic wins, else msg.topic, validated with Kafka rules', () => {
  assert.equal(toProducerRecord({ payload: 1, topic: 'other' }, 'fixed', NOW).topic, 'fixed');
  assert.equal(toProducerRecord({ payload: 1, topic: 'from-msg' }, '', NOW).topic, 'from-msg');
  assert.throws(() => toProducerRecord({ payload: 1 }, '', NOW), /No topic/);
  assert.throws(() => toProducerRecord({ payload: 1, topic: 'has space' }, '', NOW), /illegal, it contains a character/);
  assert.throws(() => toProducerRecord({ payload: 1, topic: 5 }, '', NOW), /must be a string/);
  assert.match(topicNameProblem('a'.repeat(250))!, /longer than 249/);
  assert.match(topicNameProblem('..')!, /cannot be/);
  assert.equal(topicNameProblem('tweets.v1_raw-2'), undefined);
});

test('partition and timestamp', () => {
  const r = toProducerRecord({ payload: 1, partition: 3, timestamp: 1234 }, 't', NOW);
  assert.equal(r.partition, 3);
  assert.equal(r.timestamp, 1234);
  assert.equal(toProducerRecord({ payload: 1 }, 't', NOW).timestamp, NOW);
  assert.equal(toProducerRecord({ payload: 1, timestamp: new Date(5000) }, 't', NOW).timestamp, 5000);
  assert.throws(() => toProducerRecord({ payload: 1, partition: -1 }, 't', NOW), /msg\.partition must be/);
  assert.throws(() => toProducerRecord({ payload: 1, partition: 1.5 }, 't', NOW), /msg\.partition must be/);
  assert.throws(() => toProducerRecord({ payload: 1, timestamp: 'yesterday' }, 't', NOW), /msg\.timestamp must be/);
});

test('timestamp: 0 up to the latest JavaScript Date (8.64e15 ms); anything else is a RecordError that shows the value', () => {
  const ts = (timestamp: unknown) => toProducerRecord({ payload: 1, timestamp }, 't', NOW).timestamp;
  assert.equal(ts(0), 0);
  assert.equal(ts(MAX_TIMESTAMP_MS), 8.64e15);
  assert.equal(ts('8640000000000000'), 8.64e15, 'digits as a string');
  assert.equal(ts(new Date(8.64e15)), 8.64e15);
  const bad: Array<[unknown, string]> = [
    [1e20, 'got 100000000000000000000'],
    [8.64e15 + 1, 'got 8640000000000001'],
    ['100000000000000000000', 'got "100000000000000000000"'],
    [-1, 'got -1'],
    [new Date(-1), 'got a Date of -1 ms'],
    [1.5, 'got 1.5'],
    [Number.NaN, 'got NaN'],
    [Infinity, 'got Infinity'],
    [new Date(Number.NaN), 'got an invalid Date'],
    [10n, 'got 10'],
    [{ at: 1 }, 'got an object'],
    [true, 'got a boolean'],
  ];
  for (const [value, shown] of bad) {
    assert.throws(
      () => ts(value),
      (e: Error) => e instanceof RecordError && e.message.startsWith('msg.timestamp must be epoch milliseconds, a whole number from 0 to 8640000000000000') && e.message.endsWith(shown),
      String(value),
    );
  }
});

test('size estimate counts value, key and headers', () => {
  const r = toProducerRecord({ payload: 'x'.repeat(100), key: 'k'.repeat(10), headers: { h: 'v' } }, 't', NOW);
  assert.ok(r.sizeInBytes >= 112 && r.sizeInBytes < 160, String(r.sizeInBytes));
});

test('buffer.memory counts what the node keeps until the acknowledgement: a msg object beside its text', () => {
  const text = toProducerRecord({ payload: 'x'.repeat(1000) }, 't', NOW);
  assert.equal(text.memoryBytes, text.sizeInBytes, 'a string payload is the value itself');
  const object = toProducerRecord({ payload: { text: 'x'.repeat(1000) } }, 't', NOW);
  assert.equal(object.memoryBytes, object.sizeInBytes + object.valueLength, 'an object is kept beside its JSON text');
  assert.equal(object.valueLength, 1011);
  const korean = toProducerRecord({ payload: '카프카' }, 't', NOW);
  assert.equal(korean.valueLength, 9, 'UTF-8 bytes, not characters');
  const buf = toProducerRecord({ payload: Buffer.alloc(1000) }, 't', NOW);
  assert.equal(buf.memoryBytes, buf.sizeInBytes, 'a Buffer payload is the value itself');
  assert.equal(toProducerRecord({ payload: null }, 't', NOW).memoryBytes, toProducerRecord({ payload: null }, 't', NOW).sizeInBytes);
});
