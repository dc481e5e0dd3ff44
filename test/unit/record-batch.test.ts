// record-batch.ts writes record batches and the Produce request body byte for
// byte as kafkajs 2.2.4 does (its own request encoder is the reference here),
// for every codec, null keys, tombstones, headers, several topics and
// partitions, idempotent and transactional producers, except the one field the
// broker overwrites (partition leader epoch: kafkajs 0, the Java client and we
// -1); and kafkajs's decoder reads our batches back.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { CompressionTypes } from 'kafkajs';
import {
  BATCH_OVERHEAD,
  crc32c,
  encodeProduceRequestBody,
  encodeRecordBatch,
  NO_PRODUCER_STATE,
  producerStateOf,
  withProducerState,
  type BatchRecord,
} from '../../src/lib/kafka/protocol/record-batch';
import { compress as registryCompress, ready as codecsReady, registerKafkajsCodecs } from '../../src/lib/kafka/codecs';
import { randomBytes, wordSoup } from '../support/payloads';

/* eslint-disable @typescript-eslint/no-require-imports */
const Long = require('kafkajs/src/utils/long');
const produce = require('kafkajs/src/protocol/requests/produce') as {
  protocol(o: { version: number }): (a: object) => { request: { encode(): Promise<{ buffer: Buffer }> } };
};
const kafkajsCrc32C = require('kafkajs/src/protocol/recordBatch/crc32C') as (b: Buffer) => number;
const decodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder') as (d: unknown) => Promise<{
  records: Array<{ key: Buffer | null; value: Buffer | null; timestamp: string; headers: Record<string, Buffer> }>;
  firstSequence: number;
  producerId: string;
}>;
const Decoder = require('kafkajs/src/protocol/decoder') as new (b: Buffer) => { readInt16(): number; readInt32(): number; readString(): string; readInt64(): unknown; readBytes(): Buffer };
/* eslint-enable @typescript-eslint/no-require-imports */

before(async () => {
  await registerKafkajsCodecs();
  await codecsReady();
});

/** A request as the tests describe it: kafkajs's shape (per partition records and a first sequence). */
interface ProduceRequestBody {
  transactionalId?: string | null;
  acks: number;
  timeout: number;
  compression: number;
  producerId: bigint;
  producerEpoch: number;
  topics: Array<{ topic: string; partitions: Array<{ partition: number; firstSequence?: number; records: BatchRecord[] }> }>;
}

/** Ours: one encodeRecordBatch per partition (with the producer state kafkajs writes), then the request body. */
async function ourBytes(body: ProduceRequestBody): Promise<Buffer> {
  const topics = [];
  for (const t of body.topics) {
    const partitions = [];
    for (const p of t.partitions) {
      const state = { producerId: body.producerId, producerEpoch: body.producerEpoch, baseSequence: p.firstSequence ?? 0, transactional: !!body.transactionalId };
      partitions.push({ partition: p.partition, batch: (await encodeRecordBatch(p.records, body.compression, state, registryCompress)).bytes });
    }
    topics.push({ topic: t.topic, partitions });
  }
  return encodeProduceRequestBody({ transactionalId: body.transactionalId, acks: body.acks, timeout: body.timeout, topics });
}

/** Where each batch of a Produce request body starts (a walk over its layout). */
function batchOffsets(body: Buffer): number[] {
  const out: number[] = [];
  let at = 2 + Math.max(0, body.readInt16BE(0)) + 2 + 4; // transactional id, acks, timeout
  const topics = body.readInt32BE(at);
  at += 4;
  for (let t = 0; t < topics; t++) {
    at += 2 + body.readInt16BE(at);
    const partitions = body.readInt32BE(at);
    at += 4;
    for (let p = 0; p < partitions; p++) {
      const size = body.readInt32BE(at + 4);
      at += 8;
      out.push(at);
      at += size;
    }
  }
  return out;
}

/** kafkajs's bytes with each batch's partition leader epoch as ours (-1): the only field that differs, and outside the CRC. */
function withJavaLeaderEpoch(body: Buffer): Buffer {
  const copy = Buffer.from(body);
  for (const at of batchOffsets(copy)) copy.writeInt32BE(-1, at + 12);
  return copy;
}

/** What kafkajs itself writes for the same request (messages without our mark). */
async function kafkajsBytes(body: ProduceRequestBody, version = 7): Promise<Buffer> {
  const build = produce.protocol({ version });
  const { request } = build({
    acks: body.acks,
    timeout: body.timeout,
    compression: body.compression,
    transactionalId: body.transactionalId ?? null,
    producerId: Long.fromValue(body.producerId),
    producerEpoch: body.producerEpoch,
    topicData: body.topics.map((t) => ({
      topic: t.topic,
      partitions: t.partitions.map((p) => ({
        partition: p.partition,
        firstSequence: p.firstSequence,
        messages: p.records.map((r) => ({ key: r.key, value: r.value, timestamp: String(r.timestamp), headers: r.headers })),
      })),
    })),
  });
  return (await request.encode()).buffer;
}

let seed = 7;
const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;

function records(n: number, o: { keys?: boolean; nullValues?: boolean; headers?: boolean; big?: boolean } = {}): BatchRecord[] {
  const t0 = 1_795_000_000_000;
  return Array.from({ length: n }, (_, i) => {
    const value = o.nullValues && i % 3 === 0 ? null : Buffer.from(o.big && i === 0 ? wordSoup(70_000, i) : wordSoup(50 + Math.floor(rnd() * 2000), i));
    const key = o.keys === false || i % 5 === 4 ? null : Buffer.from(i % 2 ? `사용자-${i}` : String(1_000_000_000_000_000_000 + i));
    const r: BatchRecord = { key, value, timestamp: t0 + Math.floor(rnd() * 300) };
    if (o.headers) r.headers = { 'content-type': Buffer.from('application/json'), 'trace-아이디': randomBytes(i % 20, i), empty: Buffer.alloc(0) };
    return r;
  });
}

const base = (over: Partial<ProduceRequestBody> = {}): ProduceRequestBody => ({
  transactionalId: null,
  acks: -1,
  timeout: 30000,
  compression: CompressionTypes.None,
  producerId: -1n,
  producerEpoch: 0,
  topics: [{ topic: 'tweets', partitions: [{ partition: 3, records: records(40) }] }],
  ...over,
});

const cases: Array<[string, ProduceRequestBody]> = [
  ['one partition, keyed, no compression', base()],
  ['null keys and tombstones', base({ topics: [{ topic: 't', partitions: [{ partition: 0, records: records(30, { keys: false, nullValues: true }) }] }] })],
  ['headers (UTF-8 names, empty and binary values)', base({ topics: [{ topic: 't', partitions: [{ partition: 1, records: records(25, { headers: true }) }] }] })],
  ['one record of 70 KB', base({ topics: [{ topic: 't', partitions: [{ partition: 0, records: records(3, { big: true }) }] }] })],
  ['one record', base({ topics: [{ topic: 't', partitions: [{ partition: 0, records: records(1) }] }] })],
  [
    'two topics, many partitions, idempotent (producer id, epoch, sequences)',
    base({
      producerId: 4_000_000_123n,
      producerEpoch: 3,
      topics: [
        { topic: 'a', partitions: [0, 1, 2, 5, 11].map((p) => ({ partition: p, firstSequence: p * 1000 + 7, records: records(1 + p * 3) })) },
        { topic: 'b.with-dots_and_underscores', partitions: [{ partition: 0, firstSequence: 2_147_483_000, records: records(9) }] },
      ],
    }),
  ],
  ['acks 1, acks 0, short timeout', base({ acks: 1, timeout: 1500 })],
  ['acks 0', base({ acks: 0 })],
  ['transactional id (attribute bit and the id)', base({ transactionalId: 'tx-이름-1', producerId: 99n, producerEpoch: 1, topics: [{ topic: 't', partitions: [{ partition: 0, firstSequence: 0, records: records(5) }] }] })],
  ...(['GZIP', 'Snappy', 'LZ4', 'ZSTD'] as const).map((c): [string, ProduceRequestBody] => [
    `${c}, with headers and tombstones`,
    base({
      compression: CompressionTypes[c],
      producerId: 12n,
      topics: [{ topic: 't', partitions: [{ partition: 0, firstSequence: 5, records: records(60, { headers: true, nullValues: true }) }, { partition: 7, records: records(2) }] }],
    }),
  ]),
];

for (const [name, body] of cases) {
  test(`Produce request, byte for byte as kafkajs writes it: ${name}`, async () => {
    const ours = await ourBytes(body);
    const theirs = withJavaLeaderEpoch(await kafkajsBytes(body));
    assert.equal(ours.length, theirs.length, 'length');
    assert.ok(ours.equals(theirs), `first difference at byte ${ours.findIndex((b, i) => b !== theirs[i])}`);
  });
}

test('kafkajs decodes our batches back to the same records', async () => {
  const recs = records(50, { headers: true, nullValues: true });
  for (const compression of [CompressionTypes.None, CompressionTypes.LZ4, CompressionTypes.ZSTD]) {
    const bytes = await ourBytes(base({ compression, producerId: 77n, topics: [{ topic: 't', partitions: [{ partition: 2, firstSequence: 40, records: recs }] }] }));
    const d = new Decoder(bytes);
    assert.equal(d.readInt16(), -1); // transactional id
    d.readInt16(); // acks
    d.readInt32(); // timeout
    assert.equal(d.readInt32(), 1);
    assert.equal(d.readString(), 't');
    assert.equal(d.readInt32(), 1);
    assert.equal(d.readInt32(), 2);
    const batch = d.readBytes();
    const decoded = await decodeBatch(new Decoder(batch));
    assert.equal(decoded.firstSequence, 40);
    assert.equal(String(decoded.producerId), '77');
    assert.equal(decoded.records.length, recs.length);
    decoded.records.forEach((r, i) => {
      assert.deepEqual(r.key, recs[i].key);
      assert.deepEqual(r.value, recs[i].value);
      assert.equal(Number(r.timestamp), recs[i].timestamp);
      assert.deepEqual(Object.keys(r.headers), Object.keys(recs[i].headers ?? {}));
    });
  }
});

test('CRC-32C: the standard check value, and kafkajs\'s own CRC over odd lengths and offsets', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32c(Buffer.alloc(0)), 0);
  const b = randomBytes(5000, 3);
  for (const [from, to] of [[0, 5000], [1, 4999], [3, 10], [7, 7], [13, 4096]]) {
    assert.equal(crc32c(b, from, to), kafkajsCrc32C(b.subarray(from, to)) >>> 0, `[${from}, ${to})`);
  }
});

test('a batch of n records takes the fixed overhead plus the records', async () => {
  const body = base({ topics: [{ topic: 't', partitions: [{ partition: 0, records: [] }] }] });
  body.topics[0].partitions[0].records = [{ key: null, value: Buffer.from('x'), timestamp: 1 }];
  const bytes = await ourBytes(body);
  // header 2+2+4 + 4 topics + 2+1 name + 4 partitions + 4 partition + 4 size
  assert.equal(bytes.length, 27 + BATCH_OVERHEAD + 1 + 7);
});

test('without idempotence a batch says so as the Java client does: producer id, epoch and sequence all -1', async () => {
  const { bytes } = await encodeRecordBatch(records(3), 0);
  assert.deepEqual(producerStateOf(bytes), { producerId: -1n, producerEpoch: -1, baseSequence: -1 });
  assert.deepEqual(producerStateOf(bytes), { ...NO_PRODUCER_STATE });
  assert.equal(bytes.readInt32BE(12), -1, 'partition leader epoch');
});

test('a batch under another producer state: a copy with the new fields and a valid CRC, the records unchanged', async () => {
  const recs = records(20, { headers: true });
  const first = await encodeRecordBatch(recs, 3, { producerId: 5n, producerEpoch: 0, baseSequence: 100 }, registryCompress);
  const bumped = withProducerState(first.bytes, { producerId: 5n, producerEpoch: 1, baseSequence: 0 });
  assert.deepEqual(producerStateOf(first.bytes), { producerId: 5n, producerEpoch: 0, baseSequence: 100 }, 'the original is untouched');
  assert.deepEqual(producerStateOf(bumped), { producerId: 5n, producerEpoch: 1, baseSequence: 0 });
  const direct = await encodeRecordBatch(recs, 3, { producerId: 5n, producerEpoch: 1, baseSequence: 0 }, registryCompress);
  assert.ok(bumped.equals(direct.bytes), 'same bytes as written under that state from the start');
  assert.equal(bumped.readUInt32BE(17), crc32c(bumped, 21, bumped.length));
  const decoded = await decodeBatch(new Decoder(bumped));
  assert.equal(decoded.firstSequence, 0);
  assert.equal(decoded.records.length, 20);
});

test('the batch reports its sizes: records before and after compression', async () => {
  const recs = records(40);
  const plain = await encodeRecordBatch(recs, 0);
  assert.equal(plain.recordsBytes, plain.uncompressedBytes);
  assert.equal(plain.bytes.length, BATCH_OVERHEAD + plain.recordsBytes);
  const lz4 = await encodeRecordBatch(recs, 3, NO_PRODUCER_STATE, registryCompress);
  assert.equal(lz4.uncompressedBytes, plain.uncompressedBytes);
  assert.ok(lz4.recordsBytes < lz4.uncompressedBytes);
  assert.equal(lz4.bytes.length, BATCH_OVERHEAD + lz4.recordsBytes);
  assert.equal(lz4.records, 40);
});

test('text keys and values are written as their UTF-8 bytes, the same batch as with Buffers', async () => {
  const texts = ['héllo 한국어 🎉', '', 'plain', '{"id":"1","text":"x"}'];
  const asText: BatchRecord[] = texts.map((t, i) => ({ key: i % 2 ? t : null, value: t, timestamp: 1_700_000_000_000 + i }));
  const asBytes: BatchRecord[] = asText.map((r) => ({ ...r, key: r.key === null ? null : Buffer.from(r.key as string), value: Buffer.from(r.value as string) }));
  for (const codec of [0, 3]) {
    const a = await encodeRecordBatch(asText, codec, NO_PRODUCER_STATE, registryCompress);
    const b = await encodeRecordBatch(asBytes, codec, NO_PRODUCER_STATE, registryCompress);
    assert.ok(a.bytes.equals(b.bytes), `codec ${codec}`);
  }
  // Given lengths are used as they are (the producer measured them once already).
  const given = asText.map((r) => ({ ...r, valueLength: Buffer.byteLength(r.value as string), keyLength: r.key === null ? 0 : Buffer.byteLength(r.key as string) }));
  assert.ok((await encodeRecordBatch(given, 0)).bytes.equals((await encodeRecordBatch(asBytes, 0)).bytes));
});
