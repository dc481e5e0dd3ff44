import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecordError, toProducerRecord, topicNameProblem } from '../../src/lib/kafka/record';

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

test('keys: string, Buffer, number; others refused', () => {
  const k = (key: unknown) => toProducerRecord({ payload: 'v', key }, 't', NOW).key;
  assert.equal(k('user-1')!.toString(), 'user-1');
  assert.deepEqual(k(Buffer.from([9])), Buffer.from([9]));
  assert.equal(k(12345)!.toString(), '12345');
  assert.equal(k(undefined), null);
  assert.equal(k(null), null);
  for (const bad of [{ a: 1 }, [1], true]) {
    assert.throws(() => k(bad), /msg\.key of type \w+ is not supported/);
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

test('size estimate counts value, key and headers', () => {
  const r = toProducerRecord({ payload: 'x'.repeat(100), key: 'k'.repeat(10), headers: { h: 'v' } }, 't', NOW);
  assert.ok(r.sizeInBytes >= 112 && r.sizeInBytes < 160, String(r.sizeInBytes));
});

test('buffer.memory counts the msg text the node keeps until the acknowledgement', () => {
  const text = toProducerRecord({ payload: 'x'.repeat(1000) }, 't', NOW);
  assert.equal(text.memoryBytes, text.sizeInBytes + 1000);
  const buf = toProducerRecord({ payload: Buffer.alloc(1000) }, 't', NOW);
  assert.equal(buf.memoryBytes, buf.sizeInBytes, 'a Buffer payload is the value itself');
  assert.equal(toProducerRecord({ payload: null }, 't', NOW).memoryBytes, toProducerRecord({ payload: null }, 't', NOW).sizeInBytes);
});
