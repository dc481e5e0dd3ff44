// The partition key node in a real Node-RED runtime; partition counts "from the
// broker" are read from a real Kafka broker (topics created, grown and looked up
// for real), and the topic metadata cache is checked there too.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { getTestKafka, type TestKafka } from '../support/kafka';
import { brokerNode, catchNode, collect, createTopic, getNode, helper, kafkaClient, partitionKeyNode, uniqueTopic, unloadFlow, waitForStatus } from '../support/node-red';
import { keyToBytes, murmur2, partitionForKey, toPositive } from '../../src/lib/kafka/murmur2';
import { TopicMetadataCache, UnknownTopicError } from '../../src/lib/kafka/topic-metadata';

// ---------------------------------------------------------------------------
// The node from dist/, with RED._ reading its en-US catalog (as the real runtime does).


let kafka: TestKafka;

before(async () => {
  kafka = await getTestKafka();
  await new Promise<void>((resolve) => helper.startServer(resolve));
});
after(async () => {
  await unloadFlow();
  await new Promise<void>((resolve) => helper.stopServer(resolve));
});

/** broker config (b1) → partition key (pk) → helper (out); Catch scoped to pk → helper (caught). */
async function load(pk: Record<string, unknown>): Promise<{ out: ReturnType<typeof collect>; caught: ReturnType<typeof collect> }> {
  const flow = [
    { id: 'tab', type: 'tab', label: 'test' },
    { id: 'b1', type: 'streamsafe-kafka-broker', z: '', brokers: kafka.brokers.join(','), clientId: 'pk-test', saslMechanism: 'none' },
    { id: 'pk', type: 'streamsafe-partition-key', z: 'tab', key: 'key', keyType: 'msg', nullKey: 'pass', partitionsFrom: 'fixed', partitions: '12', wires: [['out']], ...pk },
    { id: 'out', type: 'helper', z: 'tab' },
    { id: 'c1', type: 'catch', z: 'tab', scope: ['pk'], uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'tab' },
  ];
  await helper.unload();
  await new Promise<void>((resolve) => helper.load([brokerNode, partitionKeyNode, catchNode], flow, {}, resolve));
  return { out: collect('out'), caught: collect('caught') };
}

async function settle(out: ReturnType<typeof collect>, caught: ReturnType<typeof collect>, n: number, timeoutMs = 20000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (out.msgs.length + caught.msgs.length < n) {
    if (Date.now() > deadline) throw new Error(`expected ${n} msgs, got ${out.msgs.length} out + ${caught.msgs.length} caught`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const expectedPartition = (key: unknown, n: number) => partitionForKey(keyToBytes(key as never), n);

describe('partition key node: fixed partition count', () => {
  it("places Kafka's murmur2 vectors and keys of every type as the Java client would, with the raw hash", async () => {
    const { out, caught } = await load({ outputHash: true });
    // [key, Utils.murmur2(key)] from Kafka's UtilsTest.testMurmur2.
    const vectors: Array<[string, number]> = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
      ['', 275646681],
    ];
    const keys: unknown[] = [
      ...vectors.map(([k]) => k),
      '카프카',
      'emoji 🎉',
      Buffer.from([0, 1, 2, 0xff, 0x80]),
      new Uint8Array([9, 8, 7]),
      21, // decimal text "21": same partition as the string '21'
      -2.75,
      { id: 1800000000000000000n.toString(), lang: 'ko' },
      [1, 'two'],
      true,
    ];
    const pk = getNode('pk');
    keys.forEach((key, i) => pk.receive({ payload: i, key }));
    await settle(out, caught, keys.length);
    assert.deepEqual(caught.msgs.map((m) => m.error?.message), []);
    assert.deepEqual(out.msgs.map((m) => m.payload), keys.map((_, i) => i), 'in order');
    for (const [i, [, hash]] of vectors.entries()) {
      assert.equal(out.msgs[i].murmur2, hash, `murmur2(${vectors[i][0]})`);
      assert.equal(out.msgs[i].partition, toPositive(hash) % 12);
    }
    for (const [i, key] of keys.entries()) {
      const m = out.msgs[i];
      const bytes = keyToBytes(key as never);
      assert.equal(m.partition, partitionForKey(bytes, 12), `key #${i}`);
      assert.equal(m.murmur2, murmur2(bytes), `hash of key #${i}`);
      // msg.key carries the very bytes that were hashed, in a form the producer node takes.
      const k = m.key;
      assert.ok(typeof k === 'string' || typeof k === 'number' || Buffer.isBuffer(k), `key #${i} is ${typeof k}`);
      assert.deepEqual(Buffer.from(typeof k === 'number' ? String(k) : k), Buffer.from(bytes));
    }
    assert.equal(out.msgs[vectors.length + 4].partition, out.msgs[0].partition, 'number 21 = string "21"');
    assert.equal(out.msgs[vectors.length + 6].key, '{"id":"1800000000000000000","lang":"ko"}');
    assert.equal(out.msgs[vectors.length + 8].key, 'true');
    assert.ok(Buffer.isBuffer(out.msgs[vectors.length + 3].key), 'a Uint8Array key goes on as a Buffer');
    const last = out.msgs[out.msgs.length - 1];
    await waitForStatus('pk', new RegExp(`^partition ${last.partition}/12 \\(fixed count\\)$`), 3000);
  });

  it('reads the key from a msg path (payload.data.author_id), and passes a msg without key on without a partition', async () => {
    const { out, caught } = await load({ key: 'payload.data.author_id', partitions: '7', outputHash: true });
    const pk = getNode('pk');
    pk.receive({ payload: { data: { author_id: '1001' } }, key: 'stale', partition: 99 });
    pk.receive({ payload: { data: {} }, key: 'stale', partition: 99, murmur2: 1 });
    pk.receive({ payload: 'no data at all', key: 'stale' });
    pk.receive({ payload: { data: { author_id: null } } });
    await settle(out, caught, 4);
    assert.equal(caught.msgs.length, 0);
    const [a, b, c, d] = out.msgs;
    assert.equal(a.key, '1001');
    assert.equal(a.partition, expectedPartition('1001', 7));
    for (const m of [b, c, d]) {
      assert.equal('partition' in m, false, 'no partition');
      assert.equal('key' in m, false, 'no key: the producer spreads the record');
      assert.equal('murmur2' in m, false);
    }
    await waitForStatus('pk', /^no key: passed on without a partition$/, 3000);
  });

  it('fails a msg without key to Catch when told to, and keys that have no bytes always', async () => {
    const { out, caught } = await load({ key: 'payload.data.author_id', nullKey: 'error' });
    const pk = getNode('pk');
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    pk.receive({ _i: 0, payload: { data: {} } });
    pk.receive({ _i: 1, payload: { data: { author_id: null } } });
    pk.receive({ _i: 2, payload: { data: { author_id: Number.NaN } } });
    pk.receive({ _i: 3, payload: { data: { author_id: () => 1 } } });
    pk.receive({ _i: 4, payload: { data: { author_id: circular } } });
    pk.receive({ _i: 5, payload: { data: { author_id: 'ok' } } });
    await settle(out, caught, 6);
    assert.equal(out.msgs.length, 1);
    assert.equal(out.msgs[0]._i, 5);
    const errors = caught.msgs.sort((x, y) => x._i - y._i).map((m) => m.error.message);
    // Catch sees err.toString(): the error's name, then its message.
    assert.deepEqual(errors.slice(0, 2), [
      'PartitionKeyError: No key: msg.payload.data.author_id is missing',
      'PartitionKeyError: No key: msg.payload.data.author_id is null',
    ]);
    assert.match(errors[2], /is the number NaN, which has no decimal text/);
    assert.match(errors[3], /is a function, which has no bytes/);
    assert.match(errors[4], /cannot be turned into JSON/);
    assert.ok(caught.msgs.every((m) => m.error.source.id === 'pk'));
    await waitForStatus('pk', /^(failed: |partition )/, 3000);
  });

  it('reads the key from flow and global context and from a JSONata expression', async () => {
    let r = await load({ key: 'author', keyType: 'flow', partitions: '5' });
    getNode('pk').context().flow.set('author', 'from-flow');
    getNode('pk').receive({ payload: 1 });
    await settle(r.out, r.caught, 1);
    assert.equal(r.out.msgs[0].key, 'from-flow');
    assert.equal(r.out.msgs[0].partition, expectedPartition('from-flow', 5));

    r = await load({ key: 'tenant', keyType: 'global', partitions: '5' });
    getNode('pk').context().global.set('tenant', 7);
    getNode('pk').receive({ payload: 1 });
    await settle(r.out, r.caught, 1);
    assert.equal(r.out.msgs[0].key, 7);
    assert.equal(r.out.msgs[0].partition, expectedPartition(7, 5));

    r = await load({ key: 'payload.data.author_id ? (payload.data.author_id & ":" & payload.data.lang)', keyType: 'jsonata', partitions: '5' });
    const pk = getNode('pk');
    for (let i = 0; i < 20; i++) pk.receive({ payload: { data: { author_id: String(1000 + i), lang: i % 2 ? 'ko' : 'en' } } });
    pk.receive({ payload: { nothing: true } }); // JSONata gives undefined: no key
    await settle(r.out, r.caught, 21);
    assert.equal(r.caught.msgs.length, 0);
    for (let i = 0; i < 20; i++) {
      const key = `${1000 + i}:${i % 2 ? 'ko' : 'en'}`;
      assert.equal(r.out.msgs[i].key, key, 'JSONata results keep their order');
      assert.equal(r.out.msgs[i].partition, expectedPartition(key, 5));
    }
    assert.equal('partition' in r.out.msgs[20], false);
  });

  it('refuses unusable settings, failing every msg with the reason', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ partitions: '0' }, /partition count must be a whole number from 1 to 2147483647, got "0"/],
      [{ partitions: 'twelve' }, /got "twelve"/],
      [{ key: '$$$(', keyType: 'jsonata' }, /is not a valid expression/],
      [{ key: 'payload..x' }, /is not a valid expression/],
      [{ partitionsFrom: 'broker', broker: '' }, /needs a Kafka broker config node/],
      [{ partitionsFrom: 'broker', broker: 'nowhere' }, /needs a Kafka broker config node/],
      [{ partitionsFrom: 'broker', broker: 'b1', topic: 'bad topic' }, /illegal/],
      [{ partitionsFrom: 'broker', broker: 'b1', metadataMaxAgeMs: '-1' }, /metadata max age must be a whole number/],
    ];
    for (const [config, reason] of cases) {
      const { out, caught } = await load(config);
      // The status: "invalid: " and the short reason, clipped to the status width.
      const shown = await waitForStatus('pk', /^invalid: /, 3000);
      assert.ok(shown.length <= 60, shown);
      getNode('pk').receive({ key: 'k' });
      await settle(out, caught, 1);
      assert.equal(out.msgs.length, 0, JSON.stringify(config));
      assert.match(caught.msgs[0].error.message, reason);
      // Catch sees "PartitionKeyError: <reason>"; the status begins the same reason.
      assert.ok(caught.msgs[0].error.message.includes(shown.slice('invalid: '.length).replace(/…$/, '')), `"${shown}" shows the start of "${caught.msgs[0].error.message}"`);
    }
  });
});

describe('partition key node: partition count from the broker', () => {
  it('reads the count once for many msgs (concurrent lookups coalesced), keeps msg order, and shows the source', async () => {
    const topic = uniqueTopic('pk-count');
    await createTopic(kafka.brokers, topic, 9);
    const { out, caught } = await load({ partitionsFrom: 'broker', broker: 'b1', topic, partitions: '' });
    const pk = getNode('pk');
    const keys = Array.from({ length: 300 }, (_, i) => `user-${i}`);
    keys.forEach((key, i) => pk.receive({ payload: i, key }));
    await settle(out, caught, keys.length);
    assert.equal(caught.msgs.length, 0, caught.msgs[0]?.error?.message);
    assert.deepEqual(out.msgs.map((m) => m.payload), keys.map((_, i) => i), 'order kept while the first lookup was under way');
    for (const [i, m] of out.msgs.entries()) assert.equal(m.partition, expectedPartition(keys[i], 9));
    const cache: TopicMetadataCache = getNode('b1').topicMetadata();
    assert.equal(cache.requests, 1, 'one metadata request for 300 msgs');
    await waitForStatus('pk', new RegExp(`^partition ${out.msgs[out.msgs.length - 1].partition}/9 of ${topic}$`), 3000);
    // The broker config node owns the cache: stopping the flow closes it (and its admin client).
    await helper.unload();
    assert.equal(cache.isClosed, true);
  });

  it('takes the topic from msg.topic, and fails unknown topics and msgs without topic to Catch', async () => {
    const t3 = uniqueTopic('pk-three');
    const t5 = uniqueTopic('pk-five');
    await createTopic(kafka.brokers, t3, 3);
    await createTopic(kafka.brokers, t5, 5);
    const missing = uniqueTopic('pk-missing');
    const { out, caught } = await load({ partitionsFrom: 'broker', broker: 'b1', topic: '' });
    const pk = getNode('pk');
    for (let i = 0; i < 40; i++) pk.receive({ _i: i, topic: i % 2 ? t3 : t5, key: `k${i}` });
    pk.receive({ _i: 40, topic: missing, key: 'x' });
    pk.receive({ _i: 41, key: 'x' });
    pk.receive({ _i: 42, topic: 'not a topic!', key: 'x' });
    await settle(out, caught, 43);
    assert.equal(out.msgs.length, 40);
    for (const m of out.msgs) assert.equal(m.partition, expectedPartition(m.key, m._i % 2 ? 3 : 5));
    const errors = caught.msgs.sort((a, b) => a._i - b._i).map((m) => m.error);
    assert.equal(errors[0].message, `UnknownTopicError: Topic "${missing}" does not exist on the Kafka broker: create it, or check the name`);
    assert.match(errors[1].message, /No topic: set one in the node, or send msg.topic/);
    assert.match(errors[2].message, /illegal/);
    // The lookup never created the topic.
    const admin = kafkaClient(kafka.brokers).admin();
    await admin.connect();
    try {
      assert.equal((await admin.listTopics()).includes(missing), false, 'asking about a topic must not create it');
    } finally {
      await admin.disconnect();
    }
  });

  it('sees a topic grow: on msg.refreshPartitions at once, after the metadata max age by itself; warns that keys move', async () => {
    const topic = uniqueTopic('pk-grow');
    await createTopic(kafka.brokers, topic, 3);
    const { out, caught } = await load({ partitionsFrom: 'broker', broker: 'b1', topic, metadataMaxAgeMs: '1500' });
    const pk = getNode('pk');
    const keys = Array.from({ length: 50 }, (_, i) => `author-${i}`);
    const round = async (extra: Record<string, unknown> = {}) => {
      const from = out.msgs.length;
      keys.forEach((key, i) => pk.receive({ key, ...(i === 0 ? extra : {}) }));
      await settle(out, caught, from + keys.length);
      assert.equal(caught.msgs.length, 0, caught.msgs[0]?.error?.message);
      return out.msgs.slice(from);
    };
    const grow = async (count: number) => {
      const admin = kafkaClient(kafka.brokers).admin();
      await admin.connect();
      try {
        await admin.createPartitions({ topicPartitions: [{ topic, count }] });
      } finally {
        await admin.disconnect();
      }
    };

    let got = await round();
    assert.deepEqual(got.map((m) => m.partition), keys.map((k) => expectedPartition(k, 3)));

    // On demand: the first msg carries refreshPartitions, and it and all after it use the new count.
    await grow(8);
    got = await round({ refreshPartitions: true });
    assert.deepEqual(got.map((m) => m.partition), keys.map((k) => expectedPartition(k, 8)));
    assert.equal('refreshPartitions' in got[0], false, 'the trigger is removed from the msg');
    const moved = keys.filter((k) => expectedPartition(k, 3) !== expectedPartition(k, 8)).length;
    assert.ok(moved > keys.length / 2, `most keys moved (${moved} of ${keys.length})`);
    const warnings = (pk.warn as any).args.map((a: unknown[]) => String(a[0]));
    assert.ok(
      warnings.some((w: string) => w.includes(`Topic ${topic} now has 8 partitions (was 3)`) && /not kept in order/.test(w)),
      warnings.join('\n'),
    );

    // By itself: past the max age the stale count is used once more while it is read again.
    await grow(11);
    await new Promise((r) => setTimeout(r, 1600));
    await round(); // triggers the background refresh
    const deadline = Date.now() + 10000;
    for (;;) {
      got = await round();
      if (got[got.length - 1].partition === expectedPartition(keys[keys.length - 1], 11) && got.every((m, i) => m.partition === expectedPartition(keys[i], 11))) break;
      if (Date.now() > deadline) throw new Error('the grown topic was never seen');
      await new Promise((r) => setTimeout(r, 100));
    }
    await waitForStatus('pk', new RegExp(`/11 of ${topic}$`), 3000);
  });
});

describe('topic metadata cache on the real broker', () => {
  it('coalesces, refreshes, names unknown topics, and closes cleanly', async () => {
    const client = kafkaClient(kafka.brokers);
    const cache = new TopicMetadataCache(() => client.admin());
    const topic = uniqueTopic('cache');
    await createTopic(kafka.brokers, topic, 4);
    const counts = await Promise.all(Array.from({ length: 50 }, () => cache.partitionCount(topic)));
    assert.deepEqual(new Set(counts), new Set([4]));
    assert.equal(cache.requests, 1);
    const admin = client.admin();
    await admin.connect();
    try {
      await admin.createPartitions({ topicPartitions: [{ topic, count: 6 }] });
    } finally {
      await admin.disconnect();
    }
    assert.equal(cache.cachedPartitionCount(topic), 4, 'within the max age the cached count stands');
    assert.equal(await cache.refresh(topic), 6);
    cache.observePartitionCount(topic, 6);
    assert.equal(cache.requests, 2);
    const missing = uniqueTopic('cache-missing');
    await assert.rejects(cache.partitionCount(missing), (e: Error) => e instanceof UnknownTopicError && e.message.includes(missing));
    await cache.close();
    await assert.rejects(cache.partitionCount(topic), /closed/);
  });
});
