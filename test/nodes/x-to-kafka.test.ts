// End to end on a real Kafka broker: X emulator → X stream → partition key (murmur2) → Kafka
// producer (Safe preset: acks all, idempotent), with faults on the way (drop, operational
// disconnect, split records, malformed line). Every post the emulator wrote is in Kafka exactly
// once, keyed by its author, on the partition the Java client would pick.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { getTestKafka, type TestKafka } from '../support/kafka';
import { startXEmulator, type XEmulator } from '../support/x-emulator';
import { brokerNode, collect, createTopic, producerNode, readTopic, uniqueTopic, unloadFlow } from '../support/node-red';
import { loadXFlow, partitionKeyNode, sleep, statusTexts, until, xFlow } from '../support/x-nodes';
import { keyToBytes, partitionForKey } from '../../src/lib/kafka/murmur2';

const PARTITIONS = 6;
let kafka: TestKafka;
let emu: XEmulator;

before(async () => {
  kafka = await getTestKafka();
  emu = await startXEmulator({ postsPerSecond: 1000, keepAliveMs: 200, rateLimits: false });
});
after(async () => {
  await unloadFlow();
  await emu.stop();
});

describe('X stream → partition key → Kafka producer (Safe)', () => {
  it('every post the emulator wrote is in Kafka once, keyed by author, on the murmur2 partition', async (t) => {
    const topic = uniqueTopic('x-e2e');
    await createTopic(kafka.brokers, topic, PARTITIONS);
    emu.deleteAllRules();
    const viaPartitionKey = !!partitionKeyNode;
    const extraNodes = [
      { id: 'b1', type: 'streamsafe-kafka-broker', z: '', brokers: kafka.brokers.join(','), clientId: 'x-e2e', saslMechanism: 'none' },
      ...(viaPartitionKey
        ? [{ id: 'pk', type: 'streamsafe-partition-key', z: 'tab', key: 'key', keyType: 'msg', nullKey: 'error', partitionsFrom: 'broker', broker: 'b1', topic, metadataMaxAgeMs: '300000', wires: [['p1']] }]
        : []),
      {
        id: 'p1', type: 'streamsafe-kafka-producer', z: 'tab', broker: 'b1', topic, preset: 'safe', acks: 'all', idempotence: true,
        retries: '2147483647', maxInFlight: '5', compression: 'none', lingerMs: '5', batchSize: '16384', wires: [['acked'], []],
      },
      { id: 'acked', type: 'helper', z: 'tab' },
    ];
    const flow = xFlow({
      baseUrl: emu.url,
      stream: { mode: 'filtered', rules: [{ value: 'the OR a OR lang:ja OR lang:ko OR lang:es', tag: 'most' }, { value: 'kafka OR coffee', tag: 'topic' }] },
      postWires: [viaPartitionKey ? 'pk' : 'p1', 'out'],
      catchScope: ['x1', 'pk', 'p1'],
      extraNodes,
    });
    const firstConn = (emu.connections().at(-1)?.id ?? 0) + 1;
    await loadXFlow(flow, { xc: { bearerToken: emu.bearerToken } }, [brokerNode, producerNode, ...(partitionKeyNode ? [partitionKeyNode] : [])]);
    const acked = collect('acked');
    const caught = collect('caught');
    await acked.next(200, 30_000);

    // Faults on the way.
    emu.faults.split({ mode: 'crlf', records: 20 });
    emu.faults.malformed({ afterPosts: 100 });
    await sleep(500);
    emu.faults.drop();
    await until(() => emu.connections().filter((c) => c.id >= firstConn).length >= 2, 5000, 'reconnect after drop');
    await sleep(1200);
    emu.faults.operationalDisconnect();
    await until(() => emu.connections().filter((c) => c.id >= firstConn).length >= 3, 5000, 'reconnect after operational-disconnect');
    await sleep(1000);

    emu.setRate(0);
    await sleep(200);
    const written = emu.connections().filter((c) => c.id >= firstConn).flatMap((c) => emu.emittedIds(c.id));
    await until(() => acked.msgs.length + caught.msgs.length >= written.length, 60_000, `${written.length} acknowledgements (have ${acked.msgs.length})`);
    assert.equal(caught.msgs.length, 0, caught.msgs[0]?.error?.message);

    const records = await readTopic(kafka.brokers, topic, written.length, 60_000);
    await sleep(500);
    const ids = records.map((r) => JSON.parse(r.value!.toString()).id as string);
    assert.equal(new Set(ids).size, ids.length, 'no post twice in Kafka');
    assert.deepEqual([...ids].sort(), [...written].sort(), 'every written post in Kafka');
    for (const r of records) {
      const post = JSON.parse(r.value!.toString());
      assert.equal(r.key!.toString(), post.author_id);
      assert.equal(r.partition, partitionForKey(keyToBytes(post.author_id), PARTITIONS));
    }
    // Per author, Kafka keeps the stream's order.
    const order = new Map(written.map((id, i) => [id, i]));
    const byPartition = new Map<number, number[]>();
    for (const r of records) {
      const list = byPartition.get(r.partition) ?? [];
      list.push(order.get(JSON.parse(r.value!.toString()).id)!);
      byPartition.set(r.partition, list);
    }
    for (const [p, list] of byPartition) for (let i = 1; i < list.length; i++) assert.ok(list[i] > list[i - 1], `order in partition ${p}`);
    const acks = acked.msgs[0].kafka;
    assert.equal(acks.acknowledged, true);
    t.diagnostic(`${viaPartitionKey ? 'via partition key' : 'direct (msg.key)'}: written ${written.length}, in Kafka ${records.length}, distinct ${new Set(ids).size}, connections ${emu.connections().filter((c) => c.id >= firstConn).length}`);
    assert.match(statusTexts('x1').join(' | '), /disconnected by X: OperationalDisconnect/);
    await unloadFlow();
  });
});
