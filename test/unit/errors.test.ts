import { test } from 'node:test';
import assert from 'node:assert/strict';
// kafkajs's own error classes, as its producer throws them.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const kerr = require('kafkajs/src/errors');
import { describeError, isAuthenticationError, isConnectionError, isRetriable } from '../../src/lib/kafka/errors';

test('a connection failure stays retriable however kafkajs wraps it', () => {
  const conn = new kerr.KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9');
  assert.equal(isRetriable(conn), true);
  assert.equal(isRetriable(new kerr.KafkaJSNumberOfRetriesExceeded(conn, { retryCount: 5, retryTime: 1000 })), true);
  // What an idempotent sendBatch throws ~19 s into an outage: must not fail records before delivery.timeout.ms.
  // (kafkajs's retrier wraps with { cause }; some paths wrap without one.)
  assert.equal(isRetriable(new kerr.KafkaJSNonRetriableError(conn, { cause: conn })), true);
  assert.equal(isRetriable(new kerr.KafkaJSNonRetriableError(conn)), true);
  assert.equal(isConnectionError(new kerr.KafkaJSNonRetriableError(conn, { cause: conn })), true);
  assert.match(describeError(new kerr.KafkaJSNonRetriableError(conn, { cause: conn })), /^KafkaJSConnectionError: Connection error/);
});

test('broker refusals that cannot succeed later are not retried', () => {
  const tooLarge = new kerr.KafkaJSProtocolError({ type: 'MESSAGE_TOO_LARGE', code: 10, retriable: false, message: 'The request included a message larger than the max message size the server will accept' });
  assert.equal(isRetriable(tooLarge), false);
  assert.equal(isRetriable(new kerr.KafkaJSNonRetriableError(tooLarge, { cause: tooLarge })), false);
  assert.equal(isRetriable(new kerr.KafkaJSNonRetriableError(tooLarge)), false);
  const auth = new kerr.KafkaJSSASLAuthenticationError('SASL SCRAM SHA512 authentication failed');
  assert.equal(isRetriable(auth), false);
  assert.equal(isAuthenticationError(new kerr.KafkaJSNonRetriableError(auth, { cause: auth })), true);
  const notLeader = new kerr.KafkaJSProtocolError({ type: 'NOT_LEADER_FOR_PARTITION', code: 6, retriable: true, message: 'not leader' });
  assert.equal(isRetriable(notLeader), true);
});
