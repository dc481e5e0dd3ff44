import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  defaultProducerOptions, JAVA_DEFAULTS, kafkajsRetries, MAX_RETRIES, parseProducerOptions, PRESETS,
  producerOptionsFrom, ProducerConfigError, validateProducerOptions,
} from '../../src/lib/kafka/producer/config';

test('defaults follow the Java client and the Safe preset', () => {
  const d = defaultProducerOptions();
  assert.equal(d.acks, 'all');
  assert.equal(d.idempotence, true);
  assert.equal(d.retries, MAX_RETRIES);
  assert.equal(d.maxInFlight, 5);
  assert.equal(d.lingerMs, 5);
  assert.equal(d.batchSize, 16384);
  assert.equal(d.bufferMemory, 33554432);
  assert.equal(d.deliveryTimeoutMs, 120000);
  assert.equal(d.maxBlockMs, 60000);
  assert.equal(d.requestTimeoutMs, 30000);
  assert.deepEqual(validateProducerOptions(d), []);
  assert.equal(JAVA_DEFAULTS.retryBackoffMs, 100);
});

test('every preset is valid on its own', () => {
  for (const [name, p] of Object.entries(PRESETS)) {
    assert.deepEqual(validateProducerOptions({ ...defaultProducerOptions(), ...p }), [], name);
  }
  assert.equal(PRESETS.throughput.compression, 'lz4');
  assert.equal(PRESETS.throughput.lingerMs, 20);
  assert.equal(PRESETS.throughput.batchSize, 32768);
  assert.equal(PRESETS.fireAndForget.acks, '0');
});

test('editor strings parse; blanks take the default', () => {
  const o = parseProducerOptions({ acks: '1', idempotence: false, retries: '3', lingerMs: '', compression: 'ZSTD', batchSize: ' 100 ' });
  assert.equal(o.acks, '1');
  assert.equal(o.idempotence, false);
  assert.equal(o.retries, 3);
  assert.equal(o.lingerMs, 5);
  assert.equal(o.compression, 'zstd');
  assert.equal(o.batchSize, 100);
  assert.equal(parseProducerOptions({ acks: '-1' }).acks, 'all');
});

test('unreadable values are reported, not guessed', () => {
  assert.throws(() => parseProducerOptions({ retries: 'lots' }), (e: Error) => e instanceof ProducerConfigError && /retries must be a whole number/.test(e.message));
  assert.throws(() => parseProducerOptions({ acks: '2' }), /acks must be 0, 1 or all/);
  assert.throws(() => parseProducerOptions({ compression: 'brotli' }), /compression.type must be one of/);
  assert.throws(() => parseProducerOptions({ lingerMs: '1.5' }), /linger.ms must be a whole number/);
});

test('idempotence checks as the Java client makes them', () => {
  const base = defaultProducerOptions();
  assert.match(validateProducerOptions({ ...base, acks: '1' }).join(), /Must set acks to all in order to use the idempotent producer/);
  assert.match(validateProducerOptions({ ...base, retries: 0 }).join(), /Must set retries to non-zero/);
  assert.match(validateProducerOptions({ ...base, maxInFlight: 6 }).join(), /at most 5 to use the idempotent producer/);
  assert.deepEqual(validateProducerOptions({ ...base, idempotence: false, acks: '1', retries: 0, maxInFlight: 10 }), []);
});

test('delivery timeout must cover linger + request timeout', () => {
  const problems = validateProducerOptions({ ...defaultProducerOptions(), deliveryTimeoutMs: 1000, lingerMs: 5, requestTimeoutMs: 30000 });
  assert.match(problems.join(), /delivery.timeout.ms \(1000\) should be equal to or larger than linger.ms \+ request.timeout.ms \(30005\)/);
  assert.throws(() => producerOptionsFrom({ deliveryTimeoutMs: '1000' }), ProducerConfigError);
});

test('kafkajs retries: explicit, bounded by the delivery timeout, at least 1 when idempotent', () => {
  const d = defaultProducerOptions();
  assert.equal(kafkajsRetries(d), Math.ceil(120000 / 100) + 1);
  assert.equal(kafkajsRetries({ ...d, retries: 3 }), 3);
  assert.equal(kafkajsRetries({ ...d, idempotence: false, retries: 0 }), 0);
});
