// End to end on a real Kafka broker: X emulator → X stream → partition key (murmur2) → Kafka
// producer (Safe preset: acks all, idempotent), with X's faults on the way, on a compressed
// clock (X's minutes in real seconds, the same for the emulator and the node): split records,
// a malformed line, drops, late heartbeats, a 503 with an HTML page, a 429 whose reset lies 40
// days ahead, and a 10-minute outage. Every post the emulator made while the rules matched is in
// Kafka exactly once — recovered after each gap by recent search (pay-per-use) — keyed by its
// author, on the partition the Java client would pick, in the order the node sent it. Then the
// same again and again: twelve rounds of drops (clean, TCP reset, mid-record), every disconnect
// type, stalls past the stall timeout, a proxy's 200 page and a held connection slot. What is in
// Kafka is read by Kafka's own console consumer, not by our code.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { getTestKafka, type TestKafka } from '../support/kafka';
import { consoleConsume } from '../support/kafka/console-consumer';
import { DISCONNECT_TYPES } from '../support/x-emulator/faults';
import { startXEmulator, type XEmulator } from '../support/x-emulator';
import { brokerNode, collect, createTopic, getNode, helper, producerNode, uniqueTopic, unloadFlow } from '../support/node-red';
import { loadXFlow, partitionKeyNode, sleep, statusTexts, until, xFlow } from '../support/x-nodes';
import { keyToBytes, partitionForKey } from '../../src/lib/kafka/murmur2';
import { compareIds } from '../../src/lib/x/post-ids';
import { BearerSource, XClient } from '../../src/lib/x/x-client';

const PARTITIONS = 6;
/** Emulated seconds per real second. */
const SCALE = 60;
const RULES = [{ value: 'the OR a OR lang:ja OR lang:ko OR lang:es', tag: 'most' }, { value: 'kafka OR coffee', tag: 'topic' }];
let kafka: TestKafka;
let emu: XEmulator;

before(async () => {
  kafka = await getTestKafka();
  // 5 posts per emulated second: 300 per real second; heartbeats every 15-20 emulated seconds.
  emu = await startXEmulator({ postsPerSecond: 5, keepAliveMs: 20_000, keepAliveJitterMs: 5000, timeScale: SCALE });
  helper.settings({ streamsafeXTimeScale: SCALE, streamsafeXTimeOrigin: emu.timeOrigin });
});
after(async () => {
  await unloadFlow();
  helper.settings({});
  await emu.stop();
});

/** The ids of every post from `firstId` on that matches a rule, by the emulator's own search. */
async function matchingSince(firstId: string): Promise<string[]> {
  const client = new XClient({ baseUrl: emu.url, bearer: new BearerSource(emu.url, { bearerToken: emu.bearerTokens[1] ?? emu.bearerToken }) });
  const ids = new Set<string>([firstId]);
  try {
    for (const rule of RULES) {
      let token: string | undefined;
      do {
        const res = await client.get('/2/tweets/search/recent', { query: rule.value, since_id: firstId, max_results: 100, next_token: token });
        for (const d of res.data.data ?? []) ids.add(d.id);
        token = res.data.meta?.next_token;
      } while (token);
    }
  } finally {
    client.close();
  }
  return [...ids].sort(compareIds);
}

function warnings(id: string): string[] {
  const spy = getNode(id).warn as any;
  return ((spy.args ?? []) as unknown[][]).map((a) => String(a[0]));
}

describe('X stream → partition key → Kafka producer (Safe), X faults on a compressed clock', () => {
  for (const [access, means] of [['pay-per-use', 'search'], ['enterprise', 'recovery']] as const) {
  it(`${access}: every post made while the rules matched is in Kafka once (gaps filled by ${means === 'search' ? 'recent search' : 'backfill and Recovery'}), keyed by author, on the murmur2 partition`, async (t) => {
    const topic = uniqueTopic('x-e2e');
    await createTopic(kafka.brokers, topic, PARTITIONS);
    emu.deleteAllRules();
    emu.faults.clear();
    emu.setRate(5);
    const extraNodes = [
      { id: 'b1', type: 'streamsafe-kafka-broker', z: '', brokers: kafka.brokers.join(','), clientId: 'x-e2e', saslMechanism: 'none' },
      { id: 'pk', type: 'streamsafe-partition-key', z: 'tab', key: 'key', keyType: 'msg', nullKey: 'error', partitionsFrom: 'broker', broker: 'b1', topic, metadataMaxAgeMs: '300000', wires: [['p1']] },
      {
        id: 'p1', type: 'streamsafe-kafka-producer', z: 'tab', broker: 'b1', topic, preset: 'safe', acks: 'all', idempotence: true,
        retries: '2147483647', maxInFlight: '5', compression: 'none', lingerMs: '5', batchSize: '16384', wires: [['acked'], []],
      },
      { id: 'acked', type: 'helper', z: 'tab' },
    ];
    const flow = xFlow({
      baseUrl: emu.url,
      account: { access },
      // X's own reconnect rules (emulated ms), gap recovery on, the default stall timeout.
      stream: {
        mode: 'filtered', rules: RULES, recovery: true, stallTimeoutMs: '',
        minReconnectIntervalMs: '', networkStepMs: '', networkMaxMs: '', httpInitialMs: '', httpMaxMs: '', rateLimitInitialMs: '', rateLimitMaxMs: '',
      },
      postWires: ['pk', 'out'],
      catchScope: ['x1', 'pk', 'p1'],
      extraNodes,
    });
    const firstConn = (emu.connections().at(-1)?.id ?? 0) + 1;
    await loadXFlow(flow, { xc: { bearerToken: emu.bearerToken } }, [brokerNode, producerNode, partitionKeyNode]);
    const out = collect('out');
    const acked = collect('acked');
    const caught = collect('caught');
    await acked.next(200, 30_000);
    const conns = () => emu.connections().filter((c) => c.id >= firstConn && c.params.start_time === undefined);
    const reconnected = async (n: number, what: string) => until(() => conns().length >= n && emu.connections({ active: true }).length >= 1, 60_000, what);

    // Records split at awkward places and a line that is not JSON: nothing lost, no reconnect.
    emu.faults.split({ mode: 'crlf', records: 20 });
    emu.faults.malformed({ afterPosts: 100 });
    // Heartbeats 25 s late (45 s of silence): within the stall timeout, the stream is kept.
    emu.faults.lateHeartbeat({ ms: 25_000 });
    await sleep(2000);
    assert.equal(conns().length, 1, 'a late heartbeat is not a stall');

    // A drop; the reconnect meets a 503 with an HTML page, then a 429 whose reset is 40 days ahead.
    emu.faults.reject(503, { count: 1, contentType: 'text/html', body: '<html><head><title>503 Service Temporarily Unavailable</title></head><body><h1>503</h1><p>nginx</p></body></html>' });
    emu.faults.reject(429, { count: 1, headers: { 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': String(Math.floor(emu.now() / 1000) + 40 * 86400) } });
    emu.faults.drop();
    await reconnected(2, 'the reconnect after 503 and 429');
    await sleep(1000);

    // A 10-minute outage: 503 seven times (5+10+20+40+80+160+320 s of X's backoff).
    emu.faults.unavailable(7);
    emu.faults.drop();
    await reconnected(3, 'the reconnect after 10 minutes');
    await sleep(1000);

    // The same class again and again, on one flow.
    const rounds: Array<[string, () => void]> = [
      ['drop', () => emu.faults.drop()],
      ['drop with TCP reset', () => emu.faults.drop({ reset: true })],
      ['drop mid-record', () => emu.faults.drop({ midRecord: true })],
      ['stall past the stall timeout', () => emu.faults.stall(120_000)],
      ['a proxy page on the reconnect', () => (emu.faults.htmlOk({ count: 1 }), emu.faults.drop())],
      ['the slot held after a drop (429 TooManyConnections)', () => emu.faults.drop({ holdSlotMs: 30_000 })],
      ...DISCONNECT_TYPES.filter((d) => d !== 'InvalidRules').slice(0, 6).map((d) => [`disconnect ${d}`, () => emu.faults.operationalDisconnect({ disconnectType: d })] as [string, () => void]),
    ];
    for (const [what, fault] of rounds) {
      const n = conns().length;
      fault();
      await reconnected(n + 1, `the reconnect after ${what}`);
      await sleep(400);
    }

    emu.setRate(0);
    // Recent search takes an end_time 10 s in the past: give it 15 emulated seconds.
    await sleep(1000);
    const firstId = out.msgs[0].payload.id as string;
    const expected = await matchingSince(firstId);
    await until(() => acked.msgs.length + caught.msgs.length >= expected.length, 90_000, `${expected.length} acknowledgements (have ${acked.msgs.length})`);
    await sleep(1000);
    assert.equal(caught.msgs.length, 0, caught.msgs[0]?.error?.message);

    // Kafka's console consumer reads the topic: every record there, duplicates included.
    const records = (await consoleConsume(kafka.brokers, topic, { expected: 'all', timeoutMs: 120_000 })).map((r) => ({ ...r, post: JSON.parse(r.value!) }));
    const ids = records.map((r) => r.post.id as string);
    assert.equal(new Set(ids).size, ids.length, 'no post twice in Kafka');
    const have = new Set(ids);
    const missing = expected.filter((id) => !have.has(id));
    assert.deepEqual(missing.slice(0, 5), [], `${missing.length} of ${expected.length} matching posts missing`);
    assert.equal(ids.length, expected.length, 'nothing in Kafka that the rules did not match');
    for (const r of records) {
      assert.equal(r.key, r.post.author_id);
      assert.equal(r.partition, partitionForKey(keyToBytes(r.post.author_id), PARTITIONS));
    }
    // Every acknowledgement names the partition and offset where its post really is.
    const at = new Map(records.map((r) => [`${r.partition}@${r.offset}`, r.post.id as string]));
    const wrong = acked.msgs.filter((m) => at.get(`${m.kafka.partition}@${m.kafka.offset}`) !== m.payload.id);
    assert.equal(acked.msgs.length, records.length, 'one acknowledgement per record');
    assert.deepEqual(wrong.slice(0, 3).map((m) => m.payload.id), [], 'acknowledged offsets hold their posts');
    // Per partition, Kafka keeps the order the node sent the posts in.
    const sent = new Map(out.msgs.map((m, i) => [m.payload.id as string, i]));
    const byPartition = new Map<number, number[]>();
    for (const r of records) {
      const list = byPartition.get(r.partition) ?? [];
      list.push(sent.get(r.post.id)!);
      byPartition.set(r.partition, list);
    }
    for (const [p, list] of byPartition) for (let i = 1; i < list.length; i++) assert.ok(list[i] > list[i - 1], `order in partition ${p}`);

    const recovered = out.msgs.filter((m) => m.recovered === means).length;
    const texts = statusTexts('x1');
    assert.ok(texts.every((s) => !s.includes('<')), 'no HTML in a status');
    assert.ok(texts.some((s) => /503 Service Temporarily Unavailable/.test(s)), 'the 503 page is summarised by its title');
    assert.ok(!warnings('x1').some((w) => /could not be filled|gap of/i.test(w)), warnings('x1').join('\n'));
    const connects = emu.requests().filter((q) => q.endpoint === 'filtered').length;
    t.diagnostic(`${rounds.length + 3} X faults; matching posts ${expected.length}, in Kafka (console consumer) ${records.length}, recovered by ${means} ${recovered}, stream requests ${connects}`);
    assert.ok(recovered > 1000, `the 10-minute gap came back through ${means}`);
    await unloadFlow();
  });
  }
});
