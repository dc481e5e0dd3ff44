// Record batches (magic 2), the unit Kafka stores and the producer sends: one
// per partition per Produce request, written once into a buffer whose size is
// known before a byte is written, and kept as bytes for every resend (an
// idempotent resend must carry the very same records under the same sequence).
//
// The batch format is what kafkajs and the Java client write
// (test/unit/record-batch.test.ts compares the bytes with kafkajs's encoder
// and decodes them back with kafkajs's decoder).

export interface BatchRecord {
  /** bytes, or text written as UTF-8 */
  key: Buffer | string | null;
  /** bytes, or text written as UTF-8; null is a tombstone */
  value: Buffer | string | null;
  /** the UTF-8 lengths, when the caller knows them already (else measured here) */
  keyLength?: number;
  valueLength?: number;
  /** epoch ms */
  timestamp: number;
  headers?: Record<string, Buffer>;
}

/** Who wrote a batch, for the broker's de-duplication (idempotent producer). */
export interface ProducerState {
  producerId: bigint;
  producerEpoch: number;
  /** the sequence number of the batch's first record */
  baseSequence: number;
  transactional?: boolean;
}

/** What a producer without idempotence writes (the Java client's NO_PRODUCER_ID, NO_PRODUCER_EPOCH, NO_SEQUENCE). */
export const NO_PRODUCER_STATE: Readonly<ProducerState> = Object.freeze({ producerId: -1n, producerEpoch: -1, baseSequence: -1 });

/** Compresses a batch's records section with the codec of `codec`. */
export type Compress = (codec: number, records: Buffer) => Promise<Buffer>;

const MAGIC = 2;
const CODEC_MASK = 0x07;
const TRANSACTIONAL = 0x10;
/** The Java client writes NO_PARTITION_LEADER_EPOCH; the broker sets its own. */
const NO_PARTITION_LEADER_EPOCH = -1;
/** baseOffset 8 + length 4 + leader epoch 4 + magic 1 + crc 4 + attributes 2 + lastOffsetDelta 4 + 2 timestamps 16 + producer id 8 + epoch 2 + base sequence 4 + count 4 */
export const BATCH_OVERHEAD = 61;
/** where the CRC starts counting: attributes */
const CRC_FROM = 21;

// --- varints (Kafka's zig-zag encoding) ------------------------------------------

/** Bytes of an unsigned varint; v < 2^53. */
function uvarintSize(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

const zigzag = (n: number): number => (n >= 0 ? n * 2 : -n * 2 - 1);

function writeUVarint(buf: Buffer, at: number, v: number): number {
  while (v >= 128) {
    buf[at++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  buf[at++] = v;
  return at;
}

const varintSize = (n: number): number => uvarintSize(zigzag(n));
const writeVarint = (buf: Buffer, at: number, n: number): number => writeUVarint(buf, at, zigzag(n));

// --- CRC-32C (Castagnoli), slicing by 8 -------------------------------------------

/** 8 tables of 256 entries, one after another: table s at s * 256. */
const CRC_TABLE: Int32Array = (() => {
  const t = new Int32Array(8 * 256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c;
  }
  for (let i = 0; i < 256; i++) {
    let c = t[i];
    for (let s = 1; s < 8; s++) {
      c = t[c & 0xff] ^ (c >>> 8);
      t[s * 256 + i] = c;
    }
  }
  return t;
})();

/** CRC-32C of buf[from, to), as an unsigned 32-bit number (about 3 times kafkajs's speed). */
export function crc32c(buf: Uint8Array, from = 0, to = buf.length): number {
  const T = CRC_TABLE;
  let crc = -1;
  let i = from;
  const end8 = from + ((to - from) & ~7);
  while (i < end8) {
    const a = crc ^ (buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24));
    crc =
      T[1792 + (a & 0xff)] ^ T[1536 + ((a >>> 8) & 0xff)] ^ T[1280 + ((a >>> 16) & 0xff)] ^ T[1024 + (a >>> 24)] ^
      T[768 + buf[i + 4]] ^ T[512 + buf[i + 5]] ^ T[256 + buf[i + 6]] ^ T[buf[i + 7]];
    i += 8;
  }
  while (i < to) crc = T[(crc ^ buf[i++]) & 0xff] ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

// --- records ----------------------------------------------------------------------

interface Sized {
  /** per record: its body size (what its length varint says) */
  bodies: number[];
  /** per record: the bytes of its key and value (-1: null) */
  keyLengths: number[];
  valueLengths: number[];
  /** all records, length varints included */
  bytes: number;
  first: number;
  max: number;
}

function headerEntries(h: Record<string, Buffer> | undefined): Array<[string, Buffer]> {
  return h ? Object.entries(h) : [];
}

function measure(records: BatchRecord[]): Sized {
  let first = Infinity;
  let max = -Infinity;
  for (const r of records) {
    if (r.timestamp < first) first = r.timestamp;
    if (r.timestamp > max) max = r.timestamp;
  }
  const bodies = new Array<number>(records.length);
  const keyLengths = new Array<number>(records.length);
  const valueLengths = new Array<number>(records.length);
  let bytes = 0;
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    const kl = r.key === null ? -1 : (r.keyLength ?? lengthOf(r.key));
    const vl = r.value === null ? -1 : (r.valueLength ?? lengthOf(r.value));
    keyLengths[i] = kl;
    valueLengths[i] = vl;
    let body = 1 + varintSize(r.timestamp - first) + varintSize(i);
    body += kl >= 0 ? varintSize(kl) + kl : 1;
    body += vl >= 0 ? varintSize(vl) + vl : 1;
    const headers = headerEntries(r.headers);
    body += varintSize(headers.length);
    for (const [k, v] of headers) {
      const kl = Buffer.byteLength(k, 'utf8');
      body += varintSize(kl) + kl + (v ? varintSize(v.length) + v.length : 1);
    }
    bodies[i] = body;
    bytes += varintSize(body) + body;
  }
  return { bodies, keyLengths, valueLengths, bytes, first, max };
}

const lengthOf = (b: Buffer | string): number => (typeof b === 'string' ? Buffer.byteLength(b, 'utf8') : b.length);

/** Writes bytes or UTF-8 text of a known length; returns the offset after it. */
function writeBytes(buf: Buffer, at: number, b: Buffer | string, length: number): number {
  if (typeof b === 'string') buf.write(b, at, length, 'utf8');
  else b.copy(buf, at);
  return at + length;
}

function writeRecords(buf: Buffer, at: number, records: BatchRecord[], s: Sized): number {
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    at = writeVarint(buf, at, s.bodies[i]);
    buf[at++] = 0; // attributes: none are used
    at = writeVarint(buf, at, r.timestamp - s.first);
    at = writeVarint(buf, at, i);
    const kl = s.keyLengths[i];
    if (kl >= 0) {
      at = writeVarint(buf, at, kl);
      at = writeBytes(buf, at, r.key!, kl);
    } else buf[at++] = 1; // -1
    const vl = s.valueLengths[i];
    if (vl >= 0) {
      at = writeVarint(buf, at, vl);
      at = writeBytes(buf, at, r.value!, vl);
    } else buf[at++] = 1;
    const headers = headerEntries(r.headers);
    at = writeVarint(buf, at, headers.length);
    for (const [k, v] of headers) {
      at = writeVarint(buf, at, Buffer.byteLength(k, 'utf8'));
      at += buf.write(k, at, 'utf8');
      if (v) {
        at = writeVarint(buf, at, v.length);
        at += v.copy(buf, at);
      } else buf[at++] = 1;
    }
  }
  return at;
}

/** A record batch as bytes, from baseOffset to the end. */
export interface EncodedBatch {
  bytes: Buffer;
  records: number;
  /** the records section before compression (for compression-rate) */
  uncompressedBytes: number;
  /** the records section as sent (compressed or not) */
  recordsBytes: number;
}

/**
 * Writes one record batch. `codec` is the attributes' codec id (0 none,
 * 1 gzip, 2 snappy, 3 lz4, 4 zstd); `compress` is needed unless it is 0.
 */
export async function encodeRecordBatch(
  records: BatchRecord[],
  codec: number,
  state: ProducerState = NO_PRODUCER_STATE,
  compress?: Compress,
): Promise<EncodedBatch> {
  const sized = measure(records);
  let compressed: Buffer | undefined;
  if ((codec & CODEC_MASK) !== 0) {
    if (!compress) throw new Error(`no codec to compress with (codec ${codec})`);
    const plain = Buffer.allocUnsafe(sized.bytes);
    writeRecords(plain, 0, records, sized);
    compressed = await compress(codec & CODEC_MASK, plain);
  }
  const recordsBytes = compressed ? compressed.length : sized.bytes;
  const buf = Buffer.allocUnsafe(BATCH_OVERHEAD + recordsBytes);
  const n = records.length;
  buf.writeBigInt64BE(0n, 0); // baseOffset: the broker assigns offsets
  buf.writeInt32BE(buf.length - 12, 8);
  buf.writeInt32BE(NO_PARTITION_LEADER_EPOCH, 12);
  buf[16] = MAGIC;
  // crc at 17, written last
  buf.writeInt16BE((codec & CODEC_MASK) | (state.transactional ? TRANSACTIONAL : 0), 21);
  buf.writeInt32BE(n - 1, 23);
  buf.writeBigInt64BE(BigInt(n ? sized.first : Date.now()), 27);
  buf.writeBigInt64BE(BigInt(n ? sized.max : Date.now()), 35);
  buf.writeInt32BE(n, 57);
  if (compressed) compressed.copy(buf, BATCH_OVERHEAD);
  else writeRecords(buf, BATCH_OVERHEAD, records, sized);
  writeProducerState(buf, state);
  return { bytes: buf, records: n, uncompressedBytes: sized.bytes, recordsBytes };
}

/** producer id, epoch and base sequence at their places, then the CRC over attributes..end. */
function writeProducerState(buf: Buffer, state: ProducerState): void {
  buf.writeBigInt64BE(BigInt.asIntN(64, state.producerId), 43);
  buf.writeInt16BE(state.producerEpoch, 51);
  buf.writeInt32BE(state.baseSequence, 53);
  buf.writeUInt32BE(crc32c(buf, CRC_FROM, buf.length), 17);
}

/** The producer state written in a batch. */
export function producerStateOf(batch: Buffer): ProducerState {
  return { producerId: batch.readBigInt64BE(43), producerEpoch: batch.readInt16BE(51), baseSequence: batch.readInt32BE(53) };
}

/**
 * A copy of a written batch under another producer id, epoch or base
 * sequence (after an epoch bump the same records go out with new sequence
 * numbers). A copy, because a request still being framed may hold the old one.
 */
export function withProducerState(batch: Buffer, state: ProducerState): Buffer {
  const copy = Buffer.from(batch);
  writeProducerState(copy, state);
  return copy;
}

export interface ProduceRequestBody {
  transactionalId?: string | null;
  acks: number;
  timeout: number;
  topics: Array<{ topic: string; partitions: Array<{ partition: number; batch: Buffer }> }>;
}

/**
 * The Produce request body (after the request header), versions 3 to 8:
 * transactional id, acks, timeout, then per topic and partition one record batch.
 */
export function encodeProduceRequestBody(body: ProduceRequestBody): Buffer {
  const txn = body.transactionalId == null ? null : Buffer.from(body.transactionalId, 'utf8');
  let size = 2 + (txn ? txn.length : 0) + 2 + 4 + 4;
  const names = body.topics.map((t) => Buffer.from(t.topic, 'utf8'));
  body.topics.forEach((t, i) => {
    size += 2 + names[i].length + 4;
    for (const p of t.partitions) size += 4 + 4 + p.batch.length;
  });
  const buf = Buffer.allocUnsafe(size);
  let at = 0;
  if (txn) {
    at = buf.writeInt16BE(txn.length, at);
    at += txn.copy(buf, at);
  } else at = buf.writeInt16BE(-1, at);
  at = buf.writeInt16BE(body.acks, at);
  at = buf.writeInt32BE(body.timeout, at);
  at = buf.writeInt32BE(body.topics.length, at);
  body.topics.forEach((t, i) => {
    at = buf.writeInt16BE(names[i].length, at);
    at += names[i].copy(buf, at);
    at = buf.writeInt32BE(t.partitions.length, at);
    for (const p of t.partitions) {
      at = buf.writeInt32BE(p.partition, at);
      at = buf.writeInt32BE(p.batch.length, at);
      at += p.batch.copy(buf, at);
    }
  });
  if (at !== size) throw new Error(`Produce request: wrote ${at} bytes of ${size}`);
  return buf;
}
