// The pure parts of the broker test: the Kafka release inferred from ApiVersions, the
// classification of connection failures, and which topics the editor is not offered.
// The real broker's answers are checked in test/nodes/kafka-broker-admin.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { classifyProbeError, ClusterProbeError, isInternalTopic } from '../../src/lib/kafka/cluster-probe';
import { inferKafkaVersion, RELEASE_API_VERSIONS, SIGNAL_APIS } from '../../src/lib/kafka/kafka-version';

/** ApiVersions as a broker of `release` advertises them (signal APIs only, plus noise). */
function versionsOf(release: string, override: Record<number, number> = {}) {
  const row = RELEASE_API_VERSIONS.find((r) => r.release === release)!;
  const out: Record<number, { minVersion: number; maxVersion: number }> = { 0: { minVersion: 0, maxVersion: 13 }, 18: { minVersion: 0, maxVersion: 4 } };
  for (const [k, v] of Object.entries({ ...row.max, ...override })) out[Number(k)] = { minVersion: 0, maxVersion: v };
  return out;
}

describe('Kafka release from ApiVersions', () => {
  it('each release line of the table is recognised exactly', () => {
    for (const { release } of RELEASE_API_VERSIONS.filter((r) => !r.release.startsWith('3.'))) {
      const v = inferKafkaVersion(versionsOf(release));
      assert.equal(v.atLeast, release);
      assert.equal(v.line, '4.x');
      assert.equal(v.exact, true);
      assert.equal(v.inferred, true);
    }
  });

  it('states what it read: "Kafka 4.x (4.3 or later; ApiVersions: ...)"', () => {
    const v = inferKafkaVersion(versionsOf('4.3'));
    assert.equal(v.text, 'Kafka 4.x (4.3 or later; ApiVersions: Fetch v18, ListOffsets v11, Metadata v13, DescribeLogDirs v5)');
    assert.deepEqual(v.apiVersions, { Fetch: 18, ListOffsets: 11, Metadata: 13, DescribeLogDirs: 5 });
    assert.deepEqual(SIGNAL_APIS.map((a) => a.name), Object.keys(v.apiVersions));
  });

  it('a newer broker is "the newest known line or later", not exact', () => {
    const v = inferKafkaVersion(versionsOf('4.3', { 1: 19, 35: 6 }));
    assert.equal(v.atLeast, '4.3');
    assert.equal(v.exact, false);
  });

  it('below the 4.0 row: before 4.0, without a finer claim', () => {
    for (const v of [inferKafkaVersion(versionsOf('3.9')), inferKafkaVersion({ 1: { minVersion: 0, maxVersion: 11 }, 3: { minVersion: 0, maxVersion: 9 } })]) {
      assert.equal(v.line, '3.x or earlier');
      assert.equal(v.atLeast, undefined);
      assert.match(v.text, /^Kafka before 4\.0 \(ApiVersions: /);
    }
  });

  it('one lagging API keeps the inference at the line all four reach; a missing one reads as -', () => {
    assert.equal(inferKafkaVersion(versionsOf('4.3', { 2: 10 })).atLeast, '4.1');
    const none = inferKafkaVersion({});
    assert.equal(none.line, '3.x or earlier');
    assert.match(none.text, /Fetch v-/);
  });
});

describe('probe failures', () => {
  const plain = { tls: false, sasl: false };
  const err = (name: string, message: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(message), { name }, extra);

  it('refused, unknown host, timeout', () => {
    assert.deepEqual(classifyProbeError(err('KafkaJSConnectionError', 'Connection error: connect ECONNREFUSED 127.0.0.1:1', { code: 'ECONNREFUSED' }), plain, '127.0.0.1:1'), {
      kind: 'refused',
      reason: 'Connection error: connect ECONNREFUSED 127.0.0.1:1',
      error: 'KafkaJSConnectionError',
      broker: '127.0.0.1:1',
    });
    assert.equal(classifyProbeError(err('KafkaJSConnectionError', 'Connection error: getaddrinfo ENOTFOUND x', { code: 'ENOTFOUND' }), plain).kind, 'unknownHost');
    assert.equal(classifyProbeError(err('KafkaJSConnectionError', 'Connection error: getaddrinfo EAI_AGAIN x', { code: 'EAI_AGAIN' }), plain).kind, 'unknownHost');
    assert.equal(classifyProbeError(err('KafkaJSConnectionError', 'Connection timeout'), plain).kind, 'timeout');
    assert.equal(classifyProbeError(err('KafkaJSRequestTimeoutError', 'Request ApiVersions(key: 18, version: 2) timed out'), plain).kind, 'timeout');
  });

  it('TLS: certificate errors, a TLS client on a plain listener, a plain client on a TLS listener', () => {
    const tls = { tls: true, sasl: false };
    assert.equal(classifyProbeError(err('KafkaJSConnectionError', 'Connection error: self-signed certificate in certificate chain', { code: 'SELF_SIGNED_CERT_IN_CHAIN' }), tls).kind, 'tls');
    assert.equal(classifyProbeError(err('KafkaJSConnectionError', "Connection error: Hostname/IP does not match certificate's altnames", { code: 'ERR_TLS_CERT_ALTNAME_INVALID' }), tls).kind, 'tls');
    assert.deepEqual(
      classifyProbeError(err('KafkaJSConnectionError', 'Connection error: Client network socket disconnected before secure TLS connection was established', { code: 'ECONNRESET' }), tls),
      { kind: 'tls', reason: 'Connection error: Client network socket disconnected before secure TLS connection was established', error: 'KafkaJSConnectionError', hint: 'noTlsListener' },
    );
    const closed = classifyProbeError(err('KafkaJSConnectionClosedError', 'Closed connection'), plain);
    assert.equal(closed.kind, 'tls');
    assert.equal(closed.hint, 'tlsExpected');
    // With TLS on, a closed connection is not taken for a TLS mismatch.
    assert.equal(classifyProbeError(err('KafkaJSConnectionClosedError', 'Closed connection'), tls).kind, 'other');
  });

  it('SASL: failed authentication, a mechanism the listener lacks, a listener without SASL', () => {
    const sasl = { tls: true, sasl: true };
    const auth = classifyProbeError(err('KafkaJSSASLAuthenticationError', 'SASL SCRAM SHA512 authentication failed: Authentication failed'), sasl);
    assert.equal(auth.kind, 'sasl');
    assert.equal(auth.hint, undefined);
    assert.equal(classifyProbeError(err('KafkaJSProtocolError', 'The broker does not support the requested SASL mechanism', { type: 'UNSUPPORTED_SASL_MECHANISM' }), sasl).hint, 'mechanismNotEnabled');
    assert.equal(classifyProbeError(err('KafkaJSProtocolError', 'Request is not valid given the current SASL state', { type: 'ILLEGAL_SASL_STATE' }), sasl).hint, 'saslNotEnabled');
  });

  it('reads through kafkajs\'s retry wrappers; keeps a probe failure as it is; never a stack', () => {
    const inner = err('KafkaJSConnectionError', 'Connection error: connect ECONNREFUSED 127.0.0.1:2', { code: 'ECONNREFUSED' });
    const wrapped = Object.assign(err('KafkaJSNonRetriableError', 'wrapped'), { cause: inner });
    const f = classifyProbeError(wrapped, plain);
    assert.equal(f.kind, 'refused');
    assert.equal(f.reason, inner.message);
    assert.doesNotMatch(JSON.stringify(f), /\n\s+at /);
    const probe = new ClusterProbeError({ kind: 'timeout', reason: 'No answer', error: 'ClusterProbeTimeout' });
    assert.equal(classifyProbeError(probe, plain), probe.failure);
    assert.equal(classifyProbeError(err('Error', 'boom'), plain).kind, 'other');
  });
});

describe('topics offered to the editor', () => {
  it('leaves out Kafka\'s internal topics and other names starting with "_"', () => {
    for (const t of ['__consumer_offsets', '__transaction_state', '__share_group_state', '_schemas', '_confluent-metrics']) assert.equal(isInternalTopic(t), true, t);
    for (const t of ['tweets', 'a_b', 'x.__y']) assert.equal(isInternalTopic(t), false, t);
  });
});
