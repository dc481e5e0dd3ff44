// The body of a Kafka Produce request (versions 3 to 8 share it) with its
// record batches (magic 2), written into one buffer whose size is known
// before a byte is written.
//
// kafkajs writes the same bytes, but builds every record in an Encoder of
// its own that starts at 512 zeroed bytes and is reallocated as it grows, then
// copies records into the batch and batches into the request: about half of
// the CPU a producer spends per record. Here each record is written once, in
// place. The output is byte-for-byte what kafkajs 2.2.4 writes for the same
// request (test/unit/record-batch.test.ts compares them), so kafkajs can send
// it in place of its own (see kafkajs-produce.ts).

export interface BatchRecord {
  key: Buffer | null;
  /** null is a tombstone */
  value: Buffer | null;
  /** epoch ms */
  timestamp: number;
  headers?: Record<string, Buffer>;
}

export interface PartitionRecords {
  partition: number;
  /** idempotent producer: the sequence number of the first record */
  firstSequence?: number;
  records: BatchRecord[];
}

export interface ProduceRequestBody {
  transactionalId?: string | null;
  acks: number;
  timeout: number;
  /** the attributes' codec bits: 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd */
  compression: number;
  producerId: bigint;
  producerEpoch: number;
  topics: Array<{ topic: string; partitions: PartitionRecords[] }>;
}

/** Compresses a batch's records section with the codec of `compression`. */
export type Compress = (compression: number, records: Buffer) => Promise<Buffer>;

const MAGIC = 2;
const CODEC_MASK = 0x07;
const TRANSACTIONAL = 0x10;
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
  let bytes = 0;
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    let body = 1 + varintSize(r.timestamp - first) + varintSize(i);
    body += r.key ? varintSize(r.key.length) + r.key.length : 1;
    body += r.value ? varintSize(r.value.length) + r.value.length : 1;
    const headers = headerEntries(r.headers);
    body += varintSize(headers.length);
    for (const [k, v] of headers) {
      const kl = Buffer.byteLength(k, 'utf8');
      body += varintSize(kl) + kl + (v ? varintSize(v.length) + v.length : 1);
    }
    bodies[i] = body;
    bytes += varintSize(body) + body;
  }
  return { bodies, bytes, first, max };
}

function writeRecords(buf: Buffer, at: number, records: BatchRecord[], s: Sized): number {
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    at = writeVarint(buf, at, s.bodies[i]);
    buf[at++] = 0; // attributes: none are used
    at = writeVarint(buf, at, r.timestamp - s.first);
    at = writeVarint(buf, at, i);
    if (r.key) {
      at = writeVarint(buf, at, r.key.length);
      at += r.key.copy(buf, at);
    } else buf[at++] = 1; // -1
    if (r.value) {
      at = writeVarint(buf, at, r.value.length);
      at += r.value.copy(buf, at);
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

/** One partition's batch, measured (and compressed, if asked) but not written yet. */
interface PreparedBatch {
  p: PartitionRecords;
  sized: Sized;
  /** the compressed records section, when compressed */
  compressed?: Buffer;
  /** bytes of the whole batch, from baseOffset on */
  size: number;
}

async function prepare(p: PartitionRecords, compression: number, compress?: Compress): Promise<PreparedBatch> {
  const sized = measure(p.records);
  if ((compression & CODEC_MASK) === 0) return { p, sized, size: BATCH_OVERHEAD + sized.bytes };
  if (!compress) throw new Error(`no codec to compress with (compression ${compression})`);
  const plain = Buffer.allocUnsafe(sized.bytes);
  writeRecords(plain, 0, p.records, sized);
  const compressed = await compress(compression, plain);
  return { p, sized, compressed, size: BATCH_OVERHEAD + compressed.length };
}

function writeBatch(buf: Buffer, at: number, b: PreparedBatch, body: ProduceRequestBody): number {
  const start = at;
  const { p, sized } = b;
  const n = p.records.length;
  buf.writeBigInt64BE(0n, at); // baseOffset: the broker assigns offsets
  buf.writeInt32BE(b.size - 12, at + 8);
  buf.writeInt32BE(0, at + 12); // partitionLeaderEpoch, as kafkajs sends it
  buf[at + 16] = MAGIC;
  // crc at +17, written last
  const attributes = (body.compression & CODEC_MASK) | (body.transactionalId ? TRANSACTIONAL : 0);
  buf.writeInt16BE(attributes, at + 21);
  buf.writeInt32BE(n - 1, at + 23);
  buf.writeBigInt64BE(BigInt(n ? sized.first : Date.now()), at + 27);
  buf.writeBigInt64BE(BigInt(n ? sized.max : Date.now()), at + 35);
  buf.writeBigInt64BE(BigInt.asIntN(64, body.producerId), at + 43);
  buf.writeInt16BE(body.producerEpoch, at + 51);
  buf.writeInt32BE(p.firstSequence ?? 0, at + 53);
  buf.writeInt32BE(n, at + 57);
  at += BATCH_OVERHEAD;
  if (b.compressed) at += b.compressed.copy(buf, at);
  else at = writeRecords(buf, at, p.records, sized);
  buf.writeUInt32BE(crc32c(buf, start + CRC_FROM, at), start + 17);
  return at;
}

/**
 * The Produce request body (after the request header): transactional id,
 * acks, timeout, then per topic and partition one record batch.
 */
export async function encodeProduceRequest(body: ProduceRequestBody, compress?: Compress): Promise<Buffer> {
  const topics: Array<{ name: Buffer; batches: PreparedBatch[] }> = [];
  const txn = body.transactionalId == null ? null : Buffer.from(body.transactionalId, 'utf8');
  let size = 2 + (txn ? txn.length : 0) + 2 + 4 + 4;
  for (const t of body.topics) {
    const name = Buffer.from(t.topic, 'utf8');
    // Batches compress at the same time (on another thread, when the codec allows).
    const batches = await Promise.all(t.partitions.map((p) => prepare(p, body.compression, compress)));
    size += 2 + name.length + 4;
    for (const b of batches) size += 4 + 4 + b.size;
    topics.push({ name, batches });
  }
  const buf = Buffer.allocUnsafe(size);
  let at = 0;
  if (txn) {
    at = buf.writeInt16BE(txn.length, at);
    at += txn.copy(buf, at);
  } else at = buf.writeInt16BE(-1, at);
  at = buf.writeInt16BE(body.acks, at);
  at = buf.writeInt32BE(body.timeout, at);
  at = buf.writeInt32BE(topics.length, at);
  for (const t of topics) {
    at = buf.writeInt16BE(t.name.length, at);
    at += t.name.copy(buf, at);
    at = buf.writeInt32BE(t.batches.length, at);
    for (const b of t.batches) {
      at = buf.writeInt32BE(b.p.partition, at);
      at = buf.writeInt32BE(b.size, at);
      at = writeBatch(buf, at, b, body);
    }
  }
  if (at !== size) throw new Error(`Produce request: wrote ${at} bytes of ${size}`);
  return buf;
}
