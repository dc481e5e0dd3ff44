// The broker config node's admin routes against a real Kafka 4.x broker with a PLAINTEXT
// and a SASL_SSL (SCRAM-SHA-512, private CA) listener: "test connection" with the settings
// as typed (cluster id, brokers, controller, the release inferred from ApiVersions, or the
// failure classified with the error's own message, every wait bounded and every
// connection closed), and the cluster's topics for the producer's topic field.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { kafkaVersion, startKafka, type SaslSslKafkaHandle } from '../support/kafka';
import { createTopic, helper, loadFlow, tlsNode, uniqueTopic, unloadFlow } from '../support/node-red';
import { freePort } from '../support/kafka/ports';

let kafka: SaslSslKafkaHandle;
/** A port nothing listens on. */
let closedPort: number;
/** A TCP server that accepts and never answers (for the timeout). */
let silent: net.Server;
const silentSockets = new Set<net.Socket>();


before(async () => {
  kafka = await startKafka({ mode: 'sasl-ssl', name: 'admin-routes' });
  closedPort = await freePort();
  silent = net.createServer((c) => {
    silentSockets.add(c);
    c.resume();
    c.on('close', () => silentSockets.delete(c));
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => helper.startServer(resolve));
  await loadFlow(flow(), { b1: { username: kafka.sasl.username, password: kafka.sasl.password } }, [tlsNode]);
});
after(async () => {
  await unloadFlow();
  await new Promise<void>((resolve) => helper.stopServer(resolve));
  for (const s of silentSockets) s.destroy();
  await new Promise<void>((resolve) => silent.close(() => resolve()));
  await kafka?.stop();
});

/** A deployed SASL_SSL broker node (b1) with its TLS configuration (tls1). */
function flow() {
  return [
    { id: 'tab', type: 'tab', label: 'admin' },
    { id: 'tls1', type: 'tls-config', z: '', ca: kafka.ssl.caFile, cert: '', key: '', verifyservercert: true },
    { id: 'b1', type: 'streamsafe-kafka-broker', z: '', brokers: kafka.saslBrokers.join(','), clientId: 'admin-test', usetls: true, tls: 'tls1', saslMechanism: 'scram-sha-512' },
  ];
}

const port = (address: string) => Number(address.split(':').pop());
const plain = () => ({ brokers: kafka.brokers.join(','), clientId: 'probe', connectionTimeout: '3000', requestTimeout: '5000', usetls: false, saslMechanism: 'none' });
const secure = (password: string) => ({ ...plain(), brokers: kafka.saslBrokers.join(','), usetls: true, tls: 'tls1', saslMechanism: 'scram-sha-512', username: kafka.sasl.username, password });

async function post(route: 'test' | 'topics', body: unknown, status = 200): Promise<any> {
  const res = await helper.request().post(`/streamsafe-kafka-broker/${route}`).send(body).expect('Content-Type', /json/);
  assert.equal(res.status, status, JSON.stringify(res.body));
  return res.body;
}

/** Sockets of this process still open to the broker's listeners (none once a probe has answered). */
function socketsToKafka(): number {
  const ports = new Set([...kafka.brokers, ...kafka.saslBrokers].map(port));
  return ((process as any)._getActiveHandles() as unknown[]).filter((h) => h instanceof net.Socket && !h.destroyed && ports.has(h.remotePort ?? -1)).length;
}

async function noSocketsLeft(): Promise<void> {
  const deadline = Date.now() + 2000;
  while (socketsToKafka() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal(socketsToKafka(), 0, 'every connection of the probe is closed');
}

describe('POST /streamsafe-kafka-broker/test', () => {
  it('reports the cluster id, brokers, controller and the Kafka release line of the real broker', async () => {
    const r = await post('test', { id: 'new-node', ...plain() });
    assert.equal(r.ok, true);
    assert.equal(r.clusterId, kafka.clusterId);
    assert.deepEqual(r.brokers, [{ nodeId: kafka.nodeIds[0], host: '127.0.0.1', port: port(kafka.brokers[0]) }]);
    assert.equal(r.controller, kafka.nodeIds[0]);
    assert.equal(r.bootstrap, kafka.brokers[0]);
    // The broker runs Kafka 4.3.1 (test/support/kafka/pom.xml): the newest line of the table, exactly.
    const [major, minor] = kafkaVersion().split('.');
    assert.equal(r.version.inferred, true);
    assert.equal(r.version.line, `${major}.x`);
    assert.equal(r.version.atLeast, `${major}.${minor}`);
    assert.equal(r.version.exact, true);
    assert.deepEqual(r.version.apiVersions, { Fetch: 18, ListOffsets: 11, Metadata: 13, DescribeLogDirs: 5 });
    assert.equal(r.version.text, 'Kafka 4.x (4.3 or later; ApiVersions: Fetch v18, ListOffsets v11, Metadata v13, DescribeLogDirs v5)');
    assert.ok(r.elapsedMs >= 0 && r.elapsedMs < 10000);
    await noSocketsLeft();
  });

  it('a dead bootstrap broker before a live one: the live one answers', async () => {
    const r = await post('test', { ...plain(), brokers: `127.0.0.1:${closedPort},${kafka.brokers[0]}` });
    assert.equal(r.ok, true);
    assert.equal(r.bootstrap, kafka.brokers[0]);
    assert.equal(r.clusterId, kafka.clusterId);
  });

  it('SASL_SSL with SCRAM-SHA-512 and the CA of a deployed tls-config node', async () => {
    const r = await post('test', { id: 'b1', ...secure(kafka.sasl.password) });
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(r.clusterId, kafka.clusterId);
    assert.equal(r.brokers[0].port, port(kafka.saslBrokers[0]));
    await noSocketsLeft();
  });

  it('the password field showing the stored one (__PWRD__) uses the credential stored for that node id', async () => {
    const r = await post('test', { id: 'b1', ...secure('__PWRD__') });
    assert.equal(r.ok, true, JSON.stringify(r));
    // Without a stored credential, the placeholder is no password.
    const none = await post('test', { id: 'never-deployed', ...secure('__PWRD__') }, 400);
    assert.equal(none.error.kind, 'invalid');
    assert.deepEqual(none.error.problems.map((p: any) => p.code), ['saslNeedsPassword']);
  });

  it('a wrong password: SASL authentication, the broker\'s reason, no connection left open', async () => {
    const r = await post('test', { id: 'b1', ...secure('not-the-password') });
    assert.equal(r.ok, false);
    assert.equal(r.error.kind, 'sasl');
    assert.equal(r.error.error, 'KafkaJSSASLAuthenticationError');
    assert.match(r.error.reason, /^SASL SCRAM SHA512 authentication failed: Authentication failed during authentication due to invalid credentials/);
    assert.equal(r.error.broker, kafka.saslBrokers[0]);
    assert.doesNotMatch(JSON.stringify(r), /\n\s+at /, 'no stack');
    await noSocketsLeft();
  });

  it('TLS mismatches: no CA for a private one, TLS to a plain listener, plain to a TLS listener', async () => {
    const noCa = await post('test', { ...secure(kafka.sasl.password), tls: '' });
    assert.equal(noCa.error.kind, 'tls');
    assert.match(noCa.error.reason, /self-signed certificate in certificate chain/);

    const tlsToPlain = await post('test', { ...plain(), usetls: true });
    assert.equal(tlsToPlain.error.kind, 'tls');
    assert.match(tlsToPlain.error.reason, /before secure TLS connection was established/);
    assert.equal(tlsToPlain.error.hint, 'noTlsListener');

    const plainToTls = await post('test', { ...plain(), brokers: kafka.saslBrokers[0] });
    assert.equal(plainToTls.error.kind, 'tls');
    assert.equal(plainToTls.error.hint, 'tlsExpected');
    await noSocketsLeft();
  });

  it('a wrong port: refused, at once', async () => {
    const t0 = Date.now();
    const r = await post('test', { ...plain(), brokers: `127.0.0.1:${closedPort}`, connectionTimeout: '10000' });
    const elapsed = Date.now() - t0;
    assert.equal(r.ok, false);
    assert.equal(r.error.kind, 'refused');
    assert.equal(r.error.reason, `Connection error: connect ECONNREFUSED 127.0.0.1:${closedPort}`);
    assert.equal(r.error.broker, `127.0.0.1:${closedPort}`);
    assert.ok(elapsed < 2000, `answered in ${elapsed} ms`);
  });

  it('a listener that never answers: timeout, within connect + request timeouts', async () => {
    const address = `127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
    const t0 = Date.now();
    const r = await post('test', { ...plain(), brokers: address, connectionTimeout: '1000', requestTimeout: '1500' });
    const elapsed = Date.now() - t0;
    assert.equal(r.error.kind, 'timeout');
    assert.match(r.error.reason, /timed out|No answer/);
    assert.ok(elapsed >= 1400 && elapsed < 4000, `answered in ${elapsed} ms`);
    // The probe closed its connection.
    const deadline = Date.now() + 2000;
    while (silentSockets.size > 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    assert.equal(silentSockets.size, 0);
  });

  it('an unknown host', async () => {
    const r = await post('test', { ...plain(), brokers: 'no-such-host.invalid:9092' });
    assert.equal(r.error.kind, 'unknownHost');
    assert.match(r.error.reason, /ENOTFOUND|EAI_AGAIN/);
  });

  it('settings that cannot be used: 400 with each problem (code, fields, values) and the reason in the runtime\'s language', async () => {
    const r = await post('test', { brokers: 'kafka, :9', connectionTimeout: '0', saslMechanism: 'plain', username: 'u', password: '' }, 400);
    assert.equal(r.ok, false);
    assert.equal(r.error.kind, 'invalid');
    assert.deepEqual(r.error.problems.map((p: any) => p.code), ['notHostPort', 'notHostPort', 'outOfRange', 'saslNeedsPassword']);
    assert.deepEqual(r.error.problems[2], { code: 'outOfRange', fields: ['connectionTimeout'], values: { field: 'connectionTimeout', min: 1, max: 2147483647, value: 0 } });
    assert.match(r.error.reason, /"kafka" is not host:port.*Connect timeout: from 1 to 2147483647 ms \(is 0\).*SASL PLAIN needs a password/);
    // A body that is no object at all.
    const empty = await post('test', 'x', 400);
    assert.deepEqual(empty.error.problems.map((p: any) => p.code), ['noBrokers']);
  });
});

describe('POST /streamsafe-kafka-broker/topics', () => {
  it('lists the cluster\'s topics, a created one among them, internal ones left out', async () => {
    const topic = uniqueTopic('offered');
    const hidden = `_${uniqueTopic('hidden')}`;
    await createTopic(kafka.brokers, topic);
    await createTopic(kafka.brokers, hidden);
    const r = await post('topics', { id: 'new-node', ...plain() });
    assert.equal(r.ok, true);
    assert.ok(r.topics.includes(topic), JSON.stringify(r.topics));
    assert.ok(!r.topics.includes(hidden));
    assert.ok(r.topics.every((t: string) => !t.startsWith('_')));
    assert.deepEqual(r.topics, [...r.topics].sort());
    await noSocketsLeft();
  });

  it('by a deployed broker node id alone: its own settings (here SASL_SSL)', async () => {
    const topic = uniqueTopic('deployed');
    await createTopic(kafka.brokers, topic);
    const r = await post('topics', { id: 'b1' });
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.ok(r.topics.includes(topic));
  });

  it('fails with the probe\'s classification (the editor then offers none)', async () => {
    const r = await post('topics', { ...plain(), brokers: `127.0.0.1:${closedPort}` });
    assert.equal(r.ok, false);
    assert.equal(r.error.kind, 'refused');
  });
});

describe('broker config node log', () => {
  it('unusable settings are logged once, with each reason from the catalogue', async () => {
    await loadFlow([{ id: 'bad', type: 'streamsafe-kafka-broker', z: '', brokers: 'kafka', connectionTimeout: 'soon', saslMechanism: 'none' }]);
    const errors = helper
      .log()
      .args.flat()
      .filter((e: any) => e && e.id === 'bad' && e.level === helper.log().ERROR)
      .map((e: any) => String(e.msg));
    assert.deepEqual(errors, ['Kafka broker settings are invalid: "kafka" is not host:port (a port from 1 to 65535); Connect timeout: a whole number of milliseconds, not "soon"']);
    await loadFlow(flow(), { b1: { username: kafka.sasl.username, password: kafka.sasl.password } }, [tlsNode]);
  });
});
