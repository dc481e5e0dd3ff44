// Proves the Kafka test support itself: real brokers start, serve kafkajs, can be
// killed and restarted, speak SASL_SSL/SCRAM, DumpLogSegments output is parsed, a 5-node
// cluster with 3 controllers keeps its quorum through broker kills, and Kafka's own
// ConsoleConsumer reads back exactly what was written.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { Kafka, logLevel, CompressionTypes, type KafkaConfig, type PartitionMetadata } from 'kafkajs';
import {
  startKafka,
  dumpLogSegments,
  parseDumpLogSegments,
  getTestKafka,
  javaRun,
  activeController,
  describeQuorum,
  parseQuorumStatus,
  consoleConsume,
  parseConsoleOutput,
  CONSOLE_NULL,
  NO_BROKER_LOGS_REASON,
  type ConsoleRecord,
  type KafkaHandle,
  type SaslSslKafkaHandle,
} from '../support/kafka';
import { auditDelivery, auditValue, type AckedRecord, type FailedRecord } from '../support/delivery-audit';
import { waitForPartitions } from '../support/kafka/admin';
import { createTopic, createTopicFrom } from '../support/node-red';

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

describe('shared test broker', () => {
  test('produce/consume round trip with kafkajs', { timeout: 120_000 }, async () => {
    const { brokers } = await getTestKafka();
    const kafka = client(brokers);
    const topic = uniq('roundtrip');
    await createTopic(brokers, topic, 1);
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
    await createTopic(k.brokers, topic, 1, [], 3);
    const [before] = await waitForPartitions(k.brokers, topic);
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

    // Brokers apply metadata asynchronously; the one answering may lag the new leader briefly.
    const [shrunk] = await waitForPartitions(live, topic, ([p]) => !p.isr.includes(before.leader), 15_000);
    assert.notEqual(shrunk.leader, before.leader);
    assert.equal(shrunk.isr.length, 2, `ISR without the killed broker: ${shrunk.isr}`);

    await k.restartBroker(victim);
    assert.equal(k.isRunning(victim), true);
    const [rejoined] = await waitForPartitions(live, topic, ([p]) => p.isr.includes(before.leader), 60_000);
    assert.equal(rejoined.isr.length, 3);

    // A graceful stop/start cycle too, then everything written is still there.
    await k.stopBroker(victim);
    await producer.send({ topic, acks: -1, messages: [{ key: 'b', value: 'after-stop' }] });
    await k.startBroker(victim);
    await producer.disconnect();
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

test('parseConsoleOutput: null vs "null" vs empty, and data that breaks the format fails loudly', () => {
  const rec = (p: number, o: number, k: string, v: string): string => `Partition:${p}\u001fOffset:${o}\u001f${k}\u001f${v}\u001e\n`;
  assert.deepEqual(parseConsoleOutput(''), []);
  assert.deepEqual(parseConsoleOutput(rec(0, 0, CONSOLE_NULL, 'a\nb') + rec(2, 12345678901, 'null', '') + rec(1, 3, '', CONSOLE_NULL)), [
    { partition: 0, offset: '0', key: null, value: 'a\nb' },
    { partition: 2, offset: '12345678901', key: 'null', value: '' },
    { partition: 1, offset: '3', key: '', value: null },
  ]);
  assert.throws(() => parseConsoleOutput(rec(0, 0, 'k', 'v\u001fw')), /does not parse/);
  assert.throws(() => parseConsoleOutput(rec(0, 0, 'k', 'v').slice(0, -1)), /whole record/);
  assert.throws(() => parseConsoleOutput('Processed a total of 1 messages\n' + rec(0, 0, 'k', 'v')), /does not parse/);
});

test('parseQuorumStatus reads MetadataQuorumCommand describe --status (Kafka 4.3 output)', () => {
  const out = [
    'ClusterId:              Z6knUonN7IGsytk12ETRgw',
    'LeaderId:               2',
    'LeaderEpoch:            3',
    'HighWatermark:          66',
    'MaxFollowerLag:         0',
    'MaxFollowerLagTimeMs:   0',
    'CurrentVoters:          [{"id": 1, "endpoints": ["CONTROLLER://127.0.0.1:45385"]}, {"id": 3, "endpoints": ["CONTROLLER://127.0.0.1:38775"]}, {"id": 2, "endpoints": ["CONTROLLER://127.0.0.1:44253"]}]',
    'CurrentObservers:       [{"id": 5}, {"id": 4}]',
    '',
  ].join('\n');
  assert.deepEqual(parseQuorumStatus(out), { leaderId: 2, leaderEpoch: 3, highWatermark: 66, voters: [1, 2, 3], observers: [4, 5] });
  assert.throws(() => parseQuorumStatus(out.replace(/^LeaderId:.*$/m, '')), /no LeaderId/);
});

/** `type` of a kafkajs error and of every error it wraps (retries wrap the broker's error). */
function errorTypes(err: unknown): string[] {
  const types: string[] = [];
  for (let e = err as { type?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.type) types.push(e.type);
  }
  return types;
}

const byPosition = (a: ConsoleRecord, b: ConsoleRecord): number => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset));

describe('cluster of 5 with 3 controllers', { timeout: 420_000 }, () => {
  const cluster = lazyKafka(() => startKafka({ mode: 'cluster', name: 'c5', brokerCount: 5, controllerCount: 3 }));
  after(() => cluster.stop());

  test('3 voters and 2 broker-only observers; activeController follows a SIGKILLed leader', async () => {
    const k = await cluster.get();
    assert.deepEqual(k.controllers, [0, 1, 2]);
    assert.equal(k.controllerAddresses.length, 3);
    const before = await describeQuorum(k);
    assert.deepEqual(before.voters, [1, 2, 3]);
    assert.deepEqual(before.observers, [4, 5], 'nodes 4 and 5 are brokers only');

    const first = await activeController(k);
    assert.ok(k.controllers.includes(first), `active controller ${first} is a voter`);
    await k.killBroker(first);
    const second = await activeController(k);
    assert.notEqual(second, first);
    assert.ok(k.controllers.includes(second), `new active controller ${second} is a voter`);
    const afterKill = await describeQuorum(k);
    assert.equal(afterKill.leaderId, k.nodeIds[second]);
    assert.ok(afterKill.leaderEpoch > before.leaderEpoch, `a new election: epoch ${before.leaderEpoch} -> ${afterKill.leaderEpoch}`);

    // 2 of 3 voters still commit metadata: a new topic gets leaders. Until the killed node is
    // fenced (broker session timeout), metadata may still name it, and kafkajs may pick it to send
    // the request to (connection refused): asked again until the cluster answers, 30 s at most.
    const live = k.brokers.filter((_, i) => i !== first);
    const topic = uniq('quorum');
    const deadline = Date.now() + 30_000;
    try {
      for (;;) {
        const admin = client(live).admin();
        try {
          await admin.connect();
          await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 3 }], waitForLeaders: true });
          const meta = await admin.fetchTopicMetadata({ topics: [topic] });
          assert.ok(meta.topics[0].partitions[0].leader >= 0, 'the new topic has a leader');
          break;
        } catch (e) {
          if (Date.now() > deadline || (e as { retriable?: boolean }).retriable === false) throw e;
          await new Promise((r) => setTimeout(r, 500));
        } finally {
          await admin.disconnect().catch(() => {});
        }
      }
    } finally {
      // Restarted even when the test fails: the next tests use the whole cluster.
      await k.startBroker(first);
    }
  });

  test('consoleConsume reads back exactly what was written: null key, empty key and value, tombstone', async () => {
    const k = await cluster.get();
    const kafka = client(k.brokers);
    const topic = uniq('console');
    await createTopic(k.brokers, topic, 3, [], 3);
    const messages = [
      { partition: 0, key: null, value: 'null key' },
      { partition: 0, key: '', value: 'empty key' },
      { partition: 0, key: 'empty value', value: '' },
      { partition: 1, key: 'tombstone', value: null },
      { partition: 1, key: 'null', value: 'null' }, // the text, not a null
      { partition: 1, key: 'lines', value: 'one\ntwo\r\n\tthree' },
      { partition: 2, key: '한국어', value: '값 ✓ 🎉' },
      { partition: 2, key: 'k', value: 'k' },
    ];
    const producer = kafka.producer();
    await producer.connect();
    const acks = await producer.send({ topic, acks: -1, messages });
    await producer.disconnect();
    const base = new Map(acks.map((a) => [a.partition, BigInt(a.baseOffset!)]));
    const seen = new Map<number, bigint>();
    const expected: ConsoleRecord[] = messages.map((m) => {
      const i = seen.get(m.partition) ?? 0n;
      seen.set(m.partition, i + 1n);
      return { partition: m.partition, offset: String(base.get(m.partition)! + i), key: m.key, value: m.value };
    });

    // Ends on the count: the 60 s idle limit would outlast the 45 s kill timer.
    const counted = await consoleConsume(k.brokers, topic, { expected: messages.length, idleMs: 60_000, timeoutMs: 45_000 });
    assert.deepEqual([...counted].sort(byPosition), expected);
    // 'all' finds the count itself from the end offsets.
    const all = await consoleConsume(k.brokers, topic, { expected: 'all', idleMs: 60_000, timeoutMs: 45_000 });
    assert.deepEqual([...all].sort(byPosition), expected);
    // Without a count it stops when idle.
    const idle = await consoleConsume(k.brokers, topic, { idleMs: 3000 });
    assert.deepEqual([...idle].sort(byPosition), expected);
  });

  test('2 broker-only nodes killed: partitions keeping 2 in-sync replicas write, the one left with 1 answers NOT_ENOUGH_REPLICAS', async () => {
    const k = await cluster.get();
    const [n4, n5] = [3, 4]; // indexes of node ids 4 and 5, the broker-only nodes
    assert.deepEqual([n4, n5].map((i) => k.controllers.includes(i)), [false, false]);
    const topic = uniq('isr');
    const controllerBrokers = k.controllers.map((i) => k.brokers[i]);
    const controllersOnly = client(controllerBrokers);
    const acked: AckedRecord[] = [];
    const failed: FailedRecord[] = [];
    const seq = [0, 0, 0];
    const send = async (partition: number, retries = 5): Promise<void> => {
      const stream = `p${partition}`;
      const value = auditValue(stream, seq[partition]++);
      const producer = controllersOnly.producer({ retry: { retries, initialRetryTime: 100, maxRetryTime: 1000 } });
      await producer.connect();
      try {
        const [meta] = await producer.send({ topic, acks: -1, messages: [{ partition, key: stream, value }] });
        acked.push({ value, key: stream, partition: meta.partition, offset: meta.baseOffset });
      } catch (error) {
        failed.push({ value, key: stream, error });
        throw error;
      } finally {
        await producer.disconnect();
      }
    };
    /** Partitions, leaders and sorted ISRs once `ready` holds for every partition. */
    const partitionsOnce = async (ready: (p: PartitionMetadata) => boolean, timeoutMs: number) =>
      (await waitForPartitions(controllerBrokers, topic, (ps) => ps.every(ready), timeoutMs)).map((p) => ({ partitionId: p.partitionId, leader: p.leader, isr: [...p.isr].sort((a, b) => a - b) }));
    await createTopicFrom(controllerBrokers, {
      topic,
      // Replicas by node id; the first is the preferred leader.
      replicaAssignment: [
        { partition: 0, replicas: [4, 5, 1] }, // loses 2 of 3: ISR [1] < min ISR 2
        { partition: 1, replicas: [1, 2, 3] }, // untouched
        { partition: 2, replicas: [4, 1, 2] }, // loses its leader, keeps ISR [1, 2]
      ],
      configEntries: [{ name: 'min.insync.replicas', value: '2' }],
    });
    for (const p of [0, 1, 2]) await send(p);

    await Promise.all([k.killBroker(n4), k.killBroker(n5)]);
    // The controller fences them after broker.session.timeout.ms (3 s) and shrinks the ISRs.
    const shrunk = await partitionsOnce((p) => !p.isr.includes(4) && !p.isr.includes(5), 30_000);
    assert.deepEqual(shrunk, [
      { partitionId: 0, leader: 1, isr: [1] },
      { partitionId: 1, leader: 1, isr: [1, 2, 3] },
      { partitionId: 2, leader: 1, isr: [1, 2] },
    ]);
    assert.deepEqual((await describeQuorum(k)).voters, [1, 2, 3], 'the quorum answers');

    await send(1);
    await send(2);
    await assert.rejects(send(0, 2), (err: Error) => {
      assert.ok(errorTypes(err).includes('NOT_ENOUGH_REPLICAS'), `${err.name}: ${err.message} [${errorTypes(err)}]`);
      return true;
    });
    await send(1); // the others go on after the refusal

    await Promise.all([k.startBroker(n4), k.startBroker(n5)]);
    await partitionsOnce((p) => p.isr.length === 3, 90_000); // nodes 4 and 5 back in every ISR
    await send(0);

    // Read back independently: everything acknowledged is there once, in order; the refused record is not.
    const stored = await consoleConsume(k.brokers, topic, { expected: 'all', idleMs: 30_000, timeoutMs: 60_000 });
    const audit = auditDelivery({ acked, failed }, stored);
    assert.equal(audit.ok, true, audit.summary);
    assert.deepEqual([audit.counts.acked, audit.counts.failed, audit.counts.stored], [7, 1, 7], audit.summary);
  });
});
