// Proves the Kafka test support itself: real brokers start, serve kafkajs, can be
// killed and restarted, speak SASL_SSL/SCRAM, and DumpLogSegments output is parsed.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { Kafka, logLevel, CompressionTypes, type KafkaConfig } from 'kafkajs';
import {
  startKafka,
  dumpLogSegments,
  parseDumpLogSegments,
  getTestKafka,
  javaRun,
  NO_BROKER_LOGS_REASON,
  type KafkaHandle,
  type SaslSslKafkaHandle,
} from '../support/kafka';

const uniq = (prefix: string): string => `${prefix}-${process.pid}-${Date.now().toString(36)}`;

function client(brokers: string[], extra: Partial<KafkaConfig> = {}): Kafka {
  return new Kafka({
    clientId: 'kafka-support-test',
    brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 3000 },
    ...extra,
  });
}

async function consume(kafka: Kafka, topic: string, count: number, timeoutMs = 30_000): Promise<Array<{ key: string | null; value: string | null }>> {
  const consumer = kafka.consumer({ groupId: uniq('g'), sessionTimeout: 10_000, heartbeatInterval: 500 });
  const got: Array<{ key: string | null; value: string | null }> = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`consumed ${got.length}/${count} from ${topic} in ${timeoutMs} ms`)), timeoutMs);
      consumer
        .run({
          eachMessage: async ({ message }) => {
            got.push({ key: message.key?.toString() ?? null, value: message.value?.toString() ?? null });
            if (got.length >= count) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return got;
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

describe('shared test broker', () => {
  test('produce/consume round trip with kafkajs', { timeout: 120_000 }, async () => {
    const { brokers } = await getTestKafka();
    const kafka = client(brokers);
    const topic = uniq('roundtrip');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ key: 'k1', value: 'v1' }, { key: 'k2', value: 'v2' }, { value: 'v3' }] });
    await producer.disconnect();
    const got = await consume(kafka, topic, 3);
    assert.deepEqual(got, [
      { key: 'k1', value: 'v1' },
      { key: 'k2', value: 'v2' },
      { key: null, value: 'v3' },
    ]);
  });

  test('DumpLogSegments shows the batch the broker stored', { timeout: 120_000 }, async (t) => {
    const k = await getTestKafka();
    if (!k.logDir) return t.skip(NO_BROKER_LOGS_REASON);
    const kafka = client(k.brokers);
    const topic = uniq('dump');
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    // One send to one partition is one record batch.
    await producer.send({
      topic,
      compression: CompressionTypes.GZIP,
      messages: [0, 1, 2, 3, 4].map((i) => ({ key: `key-${i}`, value: i === 4 ? 'line one\nline two' : `value ${i}` })),
    });
    await producer.disconnect();
    const batches = await dumpLogSegments(k.logDir, topic, 0);
    assert.equal(batches.length, 1, JSON.stringify(batches, null, 1));
    const [b] = batches;
    assert.equal(b.count, 5);
    assert.equal(b.baseOffset, 0);
    assert.equal(b.lastOffset, 4);
    assert.equal(b.compresscodec, 'gzip');
    assert.ok(b.producerId >= 0, 'idempotent producer has a producer id');
    assert.equal(b.producerEpoch, 0);
    assert.equal(b.baseSequence, 0);
    assert.equal(b.isTransactional, false);
    assert.equal(b.isvalid, true);
    assert.deepEqual(
      b.records.map((r) => [r.offset, r.sequence, r.key, r.payload]),
      [
        [0, 0, 'key-0', 'value 0'],
        [1, 1, 'key-1', 'value 1'],
        [2, 2, 'key-2', 'value 2'],
        [3, 3, 'key-3', 'value 3'],
        [4, 4, 'key-4', 'line one\nline two'],
      ],
    );
  });
});

test('parseDumpLogSegments: null keys, keys with spaces, control records', () => {
  const out = [
    'Dumping /x/t-0/00000000000000000000.log',
    'Log starting offset: 0',
    'baseOffset: 0 lastOffset: 1 count: 2 baseSequence: 7 lastSequence: 8 producerId: 42 producerEpoch: 3 partitionLeaderEpoch: 0 isTransactional: true isControl: false deleteHorizonMs: OptionalLong.empty position: 0 CreateTime: 1700000000000 size: 90 magic: 2 compresscodec: zstd crc: 12345 isvalid: true',
    '| offset: 0 CreateTime: 1700000000000 keySize: -1 valueSize: 2 sequence: 7 headerKeys: [a,b] payload: hi',
    '| offset: 1 CreateTime: 1700000000000 keySize: 12 valueSize: 0 sequence: 8 headerKeys: [] key: a payload: b payload: ',
    'baseOffset: 2 lastOffset: 2 count: 1 baseSequence: -1 lastSequence: -1 producerId: 42 producerEpoch: 3 partitionLeaderEpoch: 0 isTransactional: true isControl: true deleteHorizonMs: OptionalLong.empty position: 90 CreateTime: 1700000000001 size: 78 magic: 2 compresscodec: none crc: 1 isvalid: true',
    '| offset: 2 CreateTime: 1700000000001 keySize: 4 valueSize: 6 sequence: -1 headerKeys: [] endTxnMarker: COMMIT coordinatorEpoch: 0',
    '',
  ].join('\n');
  const [data, control] = parseDumpLogSegments(out);
  assert.equal(data.file, '/x/t-0/00000000000000000000.log');
  assert.equal(data.compresscodec, 'zstd');
  assert.equal(data.producerId, 42);
  assert.equal(data.producerEpoch, 3);
  assert.equal(data.baseSequence, 7);
  assert.equal(data.isTransactional, true);
  assert.deepEqual(data.records[0].headerKeys, ['a', 'b']);
  assert.equal(data.records[0].key, null);
  assert.equal(data.records[0].payload, 'hi');
  assert.equal(data.records[1].key, 'a payload: b');
  assert.equal(data.records[1].payload, '');
  assert.equal(control.isControl, true);
  assert.equal(control.records[0].endTxnMarker, 'COMMIT');
  assert.equal(control.records[0].key, undefined);
});

test('startKafka single: brokerConfig applies, stop() removes everything', { timeout: 120_000 }, async () => {
  const k = await startKafka({ mode: 'single', name: 'cfg', brokerConfig: { 'num.partitions': '3' } });
  try {
    assert.equal(k.brokers.length, 1);
    assert.match(k.brokers[0], /^127\.0\.0\.1:\d+$/);
    assert.ok(fs.existsSync(k.logDirs[0]));
    const kafka = client(k.brokers);
    const topic = uniq('auto');
    const producer = kafka.producer({ allowAutoTopicCreation: true });
    await producer.connect();
    await producer.send({ topic, messages: [{ value: 'x' }] });
    await producer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    await admin.disconnect();
    assert.equal(meta.topics[0].partitions.length, 3, 'auto-created with num.partitions from brokerConfig');
    assert.match(fs.readFileSync(k.logFile, 'utf8'), /Kafka Server started/, 'broker logs through log4j2 to logFile');
  } finally {
    await k.stop();
  }
  assert.equal(k.isRunning(0), false);
  assert.equal(fs.existsSync(k.dir), false, 'temp dir removed');
});

test('javaRun runs Kafka classes and reports failures', { timeout: 60_000 }, async () => {
  const ok = await javaRun('org.apache.kafka.tools.ProducerPerformance', ['--help'], { check: false });
  assert.match(ok.stdout + ok.stderr, /--num-records/);
  await assert.rejects(javaRun('no.such.MainClass', []), /ClassNotFoundException/);
});

/** Starts on first use, so a --test-name-pattern that skips every test starts nothing. */
function lazyKafka<H extends KafkaHandle>(start: () => Promise<H>): { get: () => Promise<H>; stop: () => Promise<void> } {
  let started: Promise<H> | undefined;
  return {
    get: () => (started ??= start()),
    stop: async () => {
      const k = await started?.catch(() => undefined);
      await k?.stop();
    },
  };
}

describe('cluster of 3', { timeout: 300_000 }, () => {
  const cluster = lazyKafka(() => startKafka({ mode: 'cluster', name: 'c3' }));
  after(() => cluster.stop());

  test('RF3 topic survives a killed broker (acks=-1, min ISR 2) and the broker rejoins', async () => {
    const k = await cluster.get();
    assert.equal(k.brokers.length, 3);
    assert.equal(k.logDirs.length, 3);
    const topic = uniq('rf3');
    const admin0 = client(k.brokers).admin();
    await admin0.connect();
    await admin0.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 3 }], waitForLeaders: true });
    const before = (await admin0.fetchTopicMetadata({ topics: [topic] })).topics[0].partitions[0];
    await admin0.disconnect();
    assert.equal(before.replicas.length, 3);
    assert.equal(before.isr.length, 3);

    // Kill the leader: the hardest case for the client (failover + ISR shrink).
    const victim = k.nodeIds.indexOf(before.leader);
    await k.killBroker(victim);
    assert.equal(k.isRunning(victim), false);
    const live = k.brokers.filter((_, i) => i !== victim);
    const kafka = client(live);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ key: 'a', value: 'after-kill' }] });

    const admin = kafka.admin();
    await admin.connect();
    // Brokers apply metadata asynchronously; the one answering may lag the new leader briefly.
    const shrunk = await waitFor('ISR without the killed broker', async () => {
      const p = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0].partitions[0];
      return p.isr.includes(before.leader) ? undefined : p;
    }, 15_000);
    assert.notEqual(shrunk.leader, before.leader);
    assert.equal(shrunk.isr.length, 2, `ISR without the killed broker: ${shrunk.isr}`);

    await k.restartBroker(victim);
    assert.equal(k.isRunning(victim), true);
    const rejoined = await waitFor('killed broker back in the ISR', async () => {
      const p = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0].partitions[0];
      return p.isr.includes(before.leader) ? p : undefined;
    });
    assert.equal(rejoined.isr.length, 3);

    // A graceful stop/start cycle too, then everything written is still there.
    await k.stopBroker(victim);
    await producer.send({ topic, acks: -1, messages: [{ key: 'b', value: 'after-stop' }] });
    await k.startBroker(victim);
    await producer.disconnect();
    await admin.disconnect();
    const got = await consume(client(k.brokers), topic, 2);
    assert.deepEqual(got.map((m) => m.value), ['after-kill', 'after-stop']);
  });
});

describe('sasl-ssl broker', { timeout: 180_000 }, () => {
  const secure = lazyKafka<SaslSslKafkaHandle>(() => startKafka({ mode: 'sasl-ssl', name: 'sasl' }));
  after(() => secure.stop());

  test('SCRAM-SHA-512 over TLS with only the CA produces and consumes', async () => {
    const k = await secure.get();
    assert.match(k.ssl.caPem, /BEGIN CERTIFICATE/);
    assert.equal(fs.readFileSync(k.ssl.caFile, 'utf8'), k.ssl.caPem);
    assert.equal(k.sasl.mechanism, 'scram-sha-512');
    const kafka = client(k.saslBrokers, {
      ssl: { ca: [k.ssl.caPem], rejectUnauthorized: true },
      sasl: { mechanism: 'scram-sha-512', username: k.sasl.username, password: k.sasl.password },
    });
    const topic = uniq('secure');
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ key: 's', value: 'secret' }] });
    await producer.disconnect();
    assert.deepEqual(await consume(kafka, topic, 1), [{ key: 's', value: 'secret' }]);
  });

  test('a wrong password is an authentication error', async () => {
    const k = await secure.get();
    const kafka = client(k.saslBrokers, {
      ssl: { ca: [k.ssl.caPem] },
      sasl: { mechanism: 'scram-sha-512', username: k.sasl.username, password: 'wrong-' + k.sasl.password },
      retry: { retries: 0 },
    });
    const producer = kafka.producer();
    await assert.rejects(producer.connect(), (err: Error) => {
      assert.equal(err.name, 'KafkaJSSASLAuthenticationError', `${err.name}: ${err.message}`);
      return true;
    });
    await producer.disconnect().catch(() => {});
  });

  test('the certificate is checked: without the CA the TLS handshake fails', async () => {
    const k = await secure.get();
    const kafka = client(k.saslBrokers, {
      ssl: true, // system trust store only
      sasl: { mechanism: 'scram-sha-512', username: k.sasl.username, password: k.sasl.password },
      retry: { retries: 0 },
    });
    const admin = kafka.admin();
    await assert.rejects(admin.connect(), /certificate/i);
    await admin.disconnect().catch(() => {});
  });
});
