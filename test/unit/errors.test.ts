import { test } from 'node:test';
import assert from 'node:assert/strict';
// kafkajs's own error classes, as its admin client throws them (the topic metadata cache uses one).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const kerr = require('kafkajs/src/errors');
import { bufferExhaustedNoStack, deliveryTimeout, describeError, rootCause } from '../../src/lib/kafka/errors';
import { KafkaProtocolError, errorName, isInvalidMetadataCode, isRetriableCode } from '../../src/lib/kafka/protocol/error-codes';

test('the innermost kafkajs error says what happened, however its retrier wrapped it', () => {
  const conn = new kerr.KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9');
  assert.equal(rootCause(new kerr.KafkaJSNumberOfRetriesExceeded(conn, { retryCount: 5, retryTime: 1000 })), conn);
  assert.equal(rootCause(new kerr.KafkaJSNonRetriableError(conn, { cause: conn })), conn);
  assert.match(describeError(new kerr.KafkaJSNonRetriableError(conn, { cause: conn })), /^KafkaJSConnectionError: Connection error/);
});

test('our errors are named after the Java client\'s, for Catch nodes; descriptions name them once', () => {
  const e = deliveryTimeout('Expiring 1 record(s) for t-0', new Error('cause'));
  assert.equal(e.name, 'DeliveryTimeoutError');
  assert.equal(describeError(e), 'DeliveryTimeoutError: Expiring 1 record(s) for t-0');
  const k = new KafkaProtocolError(19, 'ISR too small', 't-3');
  assert.equal(describeError(k), k.name + ': ' + k.message);
  assert.equal(bufferExhaustedNoStack('full').stack?.split('\n').length, 1, 'no stack frames for refusals in a flood');
});

test('Kafka error codes: Java names, retriable and stale-metadata as the Java client classes them', () => {
  assert.equal(errorName(6), 'NOT_LEADER_OR_FOLLOWER');
  assert.equal(errorName(4242), 'UNKNOWN_ERROR_CODE_4242');
  for (const code of [6, 19, 20, 7, 13, 3, 5]) assert.equal(isRetriableCode(code), true, errorName(code));
  for (const code of [10, 18, 29, 32, 45, 46, 59, 87, 4242, -1]) assert.equal(isRetriableCode(code), false, errorName(code));
  for (const code of [6, 3, 5, 13]) assert.equal(isInvalidMetadataCode(code), true, errorName(code));
  assert.equal(isInvalidMetadataCode(19), false);
  const err = new KafkaProtocolError(32, 'Timestamp 1796... of message with offset 0 is out of range', 'tweets-2');
  assert.equal(err.type, 'INVALID_TIMESTAMP');
  assert.equal(err.code, 32);
  assert.equal(err.retriable, false);
  assert.match(err.message, /^INVALID_TIMESTAMP: .*\(broker: Timestamp 1796.*\) \[tweets-2\]$/);
});
