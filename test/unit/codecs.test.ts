import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { CompressionCodecs, CompressionTypes } from 'kafkajs';
import * as zstdWasm from '@bokuweb/zstd-wasm';
import { randomBytes, wordSoup } from '../support/payloads';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import {
  COMPRESSION_NAMES,
  codecId,
  compress,
  decompress,
  ready,
  LZ4_BLOCK_INPUT,
  compressionType,
  isCompressionName,
  lz4Codec,
  registerKafkajsCodecs,
  snappyCodec,
  zstdCodec,
  zstdFrames,
  type CompressionName,
  type KafkaCodec,
} from '../../src/lib/kafka/codecs';

// kafkajs internals, to run the codecs exactly where the producer and the
// consumer call them: inside a v2 record batch.
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as {
  RecordBatch(args: { compression: number; records: unknown[] }): Promise<{ buffer: Buffer }>;
};
const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (r: { key: Buffer; value: Buffer; offsetDelta?: number }) => unknown;
const decodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder') as (d: unknown) => Promise<{ records: { key: Buffer; value: Buffer }[] }>;
const Decoder = require('kafkajs/src/protocol/decoder') as new (b: Buffer) => unknown;
const lz4js = require('lz4js') as {
  compress(src: Uint8Array): Uint8Array;
  compressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, table: Uint32Array): number;
};
const xxh32 = (require('lz4js/xxh32.js') as { hash(seed: number, src: Uint8Array, index: number, len: number): number }).hash;

// --- payloads ---------------------------------------------------------------


function tweets(n: number): Buffer {
  const lines: string[] = [];
  let len = 0;
  for (let i = 0; len < n; i++) {
    const line = JSON.stringify({
      id: String(1790000000000000000n + BigInt(i) * 7919n),
      text: `트윗 ${i} 🚀 스트림으로 보내요 #kafka https://t.co/${(i * 2654435761 >>> 0).toString(36)}`,
      lang: i % 3 ? 'ko' : 'en',
      author_id: String(1000 + (i % 97)),
    });
    lines.push(line);
    len += Buffer.byteLength(line) + 1;
  }
  return Buffer.from(lines.join('\n')).subarray(0, n);
}

const PAYLOADS: Record<string, Buffer> = {
  empty: Buffer.alloc(0),
  'one byte': Buffer.from([0x2a]),
  'small JSON': Buffer.from(JSON.stringify({ hello: 'world', n: 1 })),
  '1 KB tweet JSON (Korean, emoji)': tweets(1024),
  '64 KiB exactly (lz4 block boundary)': wordSoup(64 * 1024, 3),
  '1 MB tweets': tweets(1024 * 1024),
  '4 MB word soup': wordSoup(4 * 1024 * 1024),
  '1 MB random (incompressible)': randomBytes(1024 * 1024),
  '4 MB zeros': Buffer.alloc(4 * 1024 * 1024),
};

const CODECS: [CompressionName, CompressionTypes][] = [
  ['gzip', CompressionTypes.GZIP],
  ['snappy', CompressionTypes.Snappy],
  ['lz4', CompressionTypes.LZ4],
  ['zstd', CompressionTypes.ZSTD],
];

/** What kafkajs itself would call: the registered codec for a type. */
function kafkajsCodec(type: CompressionTypes): KafkaCodec {
  return (CompressionCodecs as unknown as Record<number, () => KafkaCodec>)[type]();
}

// --- LZ4 frame inspection -----------------------------------------------------

interface Lz4Block {
  compressed: boolean;
  data: Buffer;
}

function lz4Blocks(frame: Buffer): { flg: number; bd: number; hc: number; blocks: Lz4Block[]; rest: Buffer } {
  assert.equal(frame.readUInt32LE(0), 0x184d2204, 'lz4 magic');
  const flg = frame[4];
  const bd = frame[5];
  const hc = frame[6];
  const blocks: Lz4Block[] = [];
  let pos = 7;
  for (;;) {
    const word = frame.readUInt32LE(pos);
    pos += 4;
    if (word === 0) break;
    const size = word & 0x7fffffff;
    blocks.push({ compressed: (word & 0x80000000) === 0, data: frame.subarray(pos, pos + size) });
    pos += size;
  }
  return { flg, bd, hc, blocks, rest: frame.subarray(pos) };
}

/** Decoded length and the output position where the last match starts. */
function lz4Sequences(block: Buffer): { decoded: number; lastMatchStart: number } {
  let s = 0;
  let d = 0;
  let lastMatchStart = -1;
  while (s < block.length) {
    const token = block[s++];
    let lit = token >> 4;
    if (lit === 15) for (let b = 255; b === 255; lit += b) b = block[s++];
    s += lit;
    d += lit;
    if (s >= block.length) break;
    s += 2;
    let ml = token & 15;
    if (ml === 15) for (let b = 255; b === 255; ml += b) b = block[s++];
    lastMatchStart = d;
    d += ml + 4;
  }
  return { decoded: d, lastMatchStart };
}

/** Builds an LZ4 frame with chosen options, from lz4js blocks, to feed our decoder. */
function buildLz4Frame(
  data: Buffer,
  opts: { blockChecksum?: boolean; contentSize?: boolean; contentChecksum?: boolean; bsId?: number; brokenHc?: boolean } = {},
): Buffer {
  const bsId = opts.bsId ?? 4;
  const max = 1 << (2 * bsId + 8);
  const flg = 0x60 | (opts.blockChecksum ? 0x10 : 0) | (opts.contentSize ? 0x08 : 0) | (opts.contentChecksum ? 0x04 : 0);
  const header = [Buffer.from([0x04, 0x22, 0x4d, 0x18, flg, bsId << 4])];
  if (opts.contentSize) {
    const cs = Buffer.alloc(8);
    cs.writeBigUInt64LE(BigInt(data.length));
    header.push(cs);
  }
  const head = Buffer.concat(header);
  const hc = (xxh32(0, head, opts.brokenHc ? 0 : 4, head.length - (opts.brokenHc ? 0 : 4)) >>> 8) & 0xff;
  const parts: Buffer[] = [head, Buffer.from([hc])];
  const blockSize = Math.min(max, 60000); // stays clear of lz4js's MFLIMIT issue
  for (let at = 0; at < data.length; at += blockSize) {
    const src = data.subarray(at, at + blockSize);
    const dst = new Uint8Array(src.length * 2 + 16);
    const n = lz4js.compressBlock(src, dst, 0, src.length, new Uint32Array(1 << 16));
    const word = Buffer.alloc(4);
    const body: Buffer = n > 0 && n < src.length ? Buffer.from(dst.subarray(0, n)) : src;
    word.writeUInt32LE(n > 0 && n < src.length ? n : (0x80000000 | src.length) >>> 0);
    parts.push(word, body);
    if (opts.blockChecksum) {
      const sum = Buffer.alloc(4);
      sum.writeUInt32LE(xxh32(0, body, 0, body.length));
      parts.push(sum);
    }
  }
  parts.push(Buffer.alloc(4));
  if (opts.contentChecksum) {
    const sum = Buffer.alloc(4);
    sum.writeUInt32LE(xxh32(0, data, 0, data.length));
    parts.push(sum);
  }
  return Buffer.concat(parts);
}

// --- zstd helpers -------------------------------------------------------------

/**
 * Rewrites a zstd frame so that it carries no content size, like the
 * streaming frames Java's ZstdOutputStream writes: a single-segment frame
 * gets a window descriptor large enough for its content instead.
 */
function stripZstdContentSize(frame: Buffer): Buffer {
  assert.equal(frame.readUInt32LE(0), 0xfd2fb528);
  const fhd = frame[4];
  const singleSegment = (fhd & 0x20) !== 0;
  let pos = 5;
  let window: number[] = [];
  if (!singleSegment) window = [frame[pos++]];
  const didSize = [0, 1, 2, 4][fhd & 3];
  const did = frame.subarray(pos, pos + didSize);
  pos += didSize;
  const fcsSize = [singleSegment ? 1 : 0, 2, 4, 8][fhd >> 6];
  let size = 0;
  if (fcsSize === 1) size = frame[pos];
  else if (fcsSize === 2) size = frame.readUInt16LE(pos) + 256;
  else if (fcsSize === 4) size = frame.readUInt32LE(pos);
  pos += fcsSize;
  if (singleSegment) window = [Math.max(0, Math.ceil(Math.log2(Math.max(size, 1024))) - 10) << 3];
  const newFhd = fhd & 0x07; // keep checksum and dictionary-id flags; no FCS, not single-segment
  return Buffer.concat([frame.subarray(0, 4), Buffer.from([newFhd, ...window]), did, frame.subarray(pos)]);
}

// Small frames the Java client (kafka-clients 4.3.1 wrapForOutput, magic v2)
// wrote for FIXTURE; test/integration/codecs-java.test.ts regenerates such
// frames live, these keep the unit tests JVM-free.
const FIXTURE = Buffer.from(
  JSON.stringify({ id: '1790000000000000001', text: '카프카로 보내는 트윗 🚀🚀 hello hello hello kafka', lang: 'ko', user: { id: '42', name: '스트림' } }),
);
const JAVA_FRAMES: Record<CompressionName & ('gzip' | 'snappy' | 'lz4' | 'zstd'), string> = {
  gzip:
    '1f8b08000000000000ffab56ca4c51b2523234b7344005864a3a4a25a9152540c9373bb7bc9dd202245f2f9ca3f07af396d74d5b5e774d5178dbb5e3cd9ce90a1fe6cf6a0061858cd49c9c7c14323b312d3b11684e4e625e3ad09cec7c20bbb438b548c9aa1a62ad891150242f313715644bd712a089af97ed51aaad0500b317b32b96000000',
  snappy:
    '82534e41505059000000000100000001000000829601287b226964223a2231373930360100b031222c2274657874223a22ecb9b4ed9484ecb9b4eba19c20ebb3b4eb82b4eb8a9420ed8ab8ec9c9720f09f9a800104142068656c6c6f320600686b61666b61222c226c616e67223a226b6f222c2275736572223a7b09775c3432222c226e616d65223a22ec8aa4ed8ab8eba6bc227d7d',
  lz4:
    '04224d186040827e000000ba7b226964223a22313739300100f01e31222c2274657874223a22ecb9b4ed9484ecb9b4eba19c20ebb3b4eb82b4eb8a9420ed8ab8ec9c9720f09f9a800400692068656c6c6f0600f30b6b61666b61222c226c616e67223a226b6f222c2275736572223a7700903432222c226e616d656600b08aa4ed8ab8eba6bc227d7d00000000',
  zstd:
    '28b52ffd00580c040044077b226964223a223137393031222c2274657874223a22ecb9b4ed9484ecb9b4eba19c20ebb3b4eb82b4eb8a9420ed8ab8ec9c9720f09f9a80f09f9a802068656c6c6f6b61666b61222c226c616e67223a226b6f222c2275736572223a3432222c226e616d65223a22ec8aa4ed8ab8eba6bc227d7d0300ea211b97726c19cc01010000',
};

// --- tests --------------------------------------------------------------------

describe('compressionType', () => {
  test('maps every Kafka compression.type name to the kafkajs enum', () => {
    assert.equal(compressionType('none'), CompressionTypes.None);
    assert.equal(compressionType('gzip'), CompressionTypes.GZIP);
    assert.equal(compressionType('snappy'), CompressionTypes.Snappy);
    assert.equal(compressionType('lz4'), CompressionTypes.LZ4);
    assert.equal(compressionType('zstd'), CompressionTypes.ZSTD);
    assert.deepEqual([...COMPRESSION_NAMES], ['none', 'gzip', 'snappy', 'lz4', 'zstd']);
  });

  test('rejects unknown names at run time', () => {
    assert.throws(() => compressionType('brotli' as CompressionName), /unknown compression "brotli"/);
    assert.throws(() => compressionType('toString' as CompressionName), TypeError);
    assert.equal(isCompressionName('LZ4'), false);
    assert.equal(isCompressionName(undefined), false);
    assert.equal(isCompressionName('zstd'), true);
  });
});

describe('registry: compress/decompress by Kafka codec id', () => {
  before(() => ready());

  test('round-trips all five codecs (0 none .. 4 zstd), each in its own stream format', async () => {
    const inputs = [Buffer.alloc(0), Buffer.from('k'), tweets(70_000), randomBytes(5000, 4)];
    const gzipOf = promisify(zlib.gzip);
    for (const name of COMPRESSION_NAMES) {
      const id = codecId(name);
      assert.equal(id, compressionType(name), `${name}: the same number as kafkajs's CompressionTypes`);
      for (const input of inputs) {
        const out = await compress(id, input);
        assert.ok(Buffer.isBuffer(out));
        const back = await decompress(id, out);
        assert.ok(back.equals(input), `${name}: ${input.length} bytes back`);
        // The registry writes what each codec writes, and kafkajs's table (consumers) reads it.
        if (name === 'none') assert.equal(out, input, 'none hands the input back');
        else if (name === 'gzip') assert.ok(out.equals(await gzipOf(input)), 'gzip: zlib defaults, as kafkajs');
        else assert.ok(out.equals(await ({ snappy: snappyCodec, lz4: lz4Codec, zstd: zstdCodec })[name].compress({ buffer: input })), name);
      }
    }
    assert.deepEqual(COMPRESSION_NAMES.map(codecId), [0, 1, 2, 3, 4]);
  });

  test('decodes the Java client\'s frames by id, and refuses ids that are no codec', async () => {
    for (const [name, hex] of Object.entries(JAVA_FRAMES) as [CompressionName, string][]) {
      assert.ok((await decompress(codecId(name), Buffer.from(hex, 'hex'))).equals(FIXTURE), name);
    }
    for (const id of [5, 7, -1, 1.5, Number.NaN]) {
      await assert.rejects(compress(id, FIXTURE), /unknown compression codec id/, String(id));
      await assert.rejects(decompress(id, FIXTURE), /unknown compression codec id/, String(id));
    }
    assert.throws(() => codecId('brotli' as CompressionName), /unknown compression "brotli"/);
  });

  test('kafkajs\'s table, once registered, decodes what the registry encodes', async () => {
    await registerKafkajsCodecs();
    const input = tweets(40_000);
    for (const [name, type] of CODECS) {
      assert.ok((await kafkajsCodec(type).decompress(await compress(codecId(name), input))).equals(input), name);
    }
  });
});

describe('registerKafkajsCodecs', () => {
  test('is idempotent and safe to call concurrently', async () => {
    const calls = Array.from({ length: 25 }, () => registerKafkajsCodecs());
    assert.ok(calls.every((p) => p === calls[0]), 'all callers share one registration');
    await Promise.all(calls);
    await registerKafkajsCodecs();
    assert.equal(registerKafkajsCodecs(), calls[0]);
    // kafkajs looks up our codecs.
    const sample = tweets(5000);
    for (const [type, codec] of [[CompressionTypes.Snappy, snappyCodec], [CompressionTypes.LZ4, lz4Codec], [CompressionTypes.ZSTD, zstdCodec]] as const) {
      const registered = kafkajsCodec(type);
      assert.deepEqual(await registered.compress({ buffer: sample }), await codec.compress({ buffer: sample }), `codec ${type}`);
    }
    // gzip stays kafkajs's own
    const gzip = kafkajsCodec(CompressionTypes.GZIP);
    assert.equal(typeof gzip.compress, 'function');
    assert.notEqual(gzip, snappyCodec);
  });

  test('concurrent compressions on all codecs at once do not interfere', async () => {
    await registerKafkajsCodecs();
    const inputs = [tweets(200_000), wordSoup(150_000, 5), randomBytes(70_000, 9), Buffer.alloc(0)];
    const jobs = CODECS.flatMap(([, type]) =>
      inputs.map(async (input) => {
        const codec = kafkajsCodec(type);
        const frame = await codec.compress({ buffer: input });
        return (await codec.decompress(frame)).equals(input);
      }),
    );
    assert.deepEqual(await Promise.all(jobs), jobs.map(() => true));
  });
});

describe('round trips through the codecs kafkajs looks up', () => {
  before(() => registerKafkajsCodecs());
  for (const [name, type] of CODECS) {
    for (const [label, payload] of Object.entries(PAYLOADS)) {
      test(`${name}: ${label}`, async () => {
        const codec = kafkajsCodec(type);
        const frame = await codec.compress({ buffer: payload });
        assert.ok(Buffer.isBuffer(frame), 'compress returns a Buffer');
        const back = await codec.decompress(frame);
        assert.ok(Buffer.isBuffer(back), 'decompress returns a Buffer');
        assert.equal(back.length, payload.length);
        assert.ok(back.equals(payload), 'bytes differ after the round trip');
      });
    }
  }
});

describe('inside a kafkajs v2 record batch', () => {
  before(() => registerKafkajsCodecs());
  for (const name of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
    test(`${name}: RecordBatch encode then decode`, async () => {
      const values = [tweets(1024), Buffer.alloc(0), randomBytes(3000, 3), tweets(300_000)];
      const records = values.map((value, i) => Record({ key: Buffer.from(`k${i}`), value, offsetDelta: i }));
      const batch = await RecordBatch({ compression: compressionType(name), records });
      // attributes (int16 at offset 8+4+4+1+4 = 21) carry the codec in the low 3 bits
      assert.equal(batch.buffer.readInt16BE(21) & 0x07, compressionType(name));
      const decoded = await decodeBatch(new Decoder(batch.buffer));
      assert.equal(decoded.records.length, values.length);
      decoded.records.forEach((r, i) => {
        assert.equal(r.key.toString(), `k${i}`);
        assert.ok(Buffer.from(r.value ?? Buffer.alloc(0)).equals(values[i]), `record ${i} value`);
      });
    });
  }
});

describe('frames written by the Java client', () => {
  before(() => registerKafkajsCodecs());
  for (const [name, hex] of Object.entries(JAVA_FRAMES) as [CompressionName, string][]) {
    test(`${name}: decompresses kafka-clients' frame`, async () => {
      const out = await kafkajsCodec(compressionType(name)).decompress(Buffer.from(hex, 'hex'));
      assert.ok(out.equals(FIXTURE));
    });
  }

  test('our lz4 frame starts exactly like the Java one (FLG 0x60, BD 0x40, HC)', async () => {
    const ours = await lz4Codec.compress({ buffer: FIXTURE });
    assert.deepEqual(ours.subarray(0, 7), Buffer.from(JAVA_FRAMES.lz4, 'hex').subarray(0, 7));
  });

  test('our snappy stream has the xerial header Java writes', async () => {
    const ours = await snappyCodec.compress({ buffer: FIXTURE });
    assert.deepEqual(ours.subarray(0, 16), Buffer.from(JAVA_FRAMES.snappy, 'hex').subarray(0, 16));
  });
});

describe('lz4', () => {
  test('lz4js.compress alone writes a frame Kafka rejects (dependent blocks)', () => {
    const frame = Buffer.from(lz4js.compress(FIXTURE));
    assert.equal(frame[4] & 0x20, 0, 'block independence flag unset: Kafka throws "Dependent block stream is unsupported"');
  });

  test('frame layout matches Kafka: independent 64 KiB blocks, no checksums, no content size, correct HC', async () => {
    const input = PAYLOADS['4 MB word soup'];
    const frame = await lz4Codec.compress({ buffer: input });
    const { flg, bd, hc, blocks, rest } = lz4Blocks(frame);
    assert.equal(flg, 0x60);
    assert.equal(bd, 0x40);
    assert.equal(hc, (xxh32(0, frame, 4, 2) >>> 8) & 0xff);
    assert.equal(rest.length, 0, 'nothing after the end mark');
    assert.equal(blocks.length, Math.ceil(input.length / LZ4_BLOCK_INPUT));
  });

  test('every compressed block is decodable by liblz4 with a 64 KiB output (MFLIMIT)', async () => {
    // LZ4_decompress_safe (lz4-java JNI, used by Kafka) requires the last
    // match of a block to start at least 12 bytes before the end of the output
    // buffer. Kafka's buffer is the frame's 64 KiB maximum block size.
    let fullBlocks = 0;
    let lateMatches = 0;
    for (const input of [PAYLOADS['4 MB word soup'], PAYLOADS['1 MB tweets'], PAYLOADS['64 KiB exactly (lz4 block boundary)']]) {
      const { blocks } = lz4Blocks(await lz4Codec.compress({ buffer: input }));
      for (const block of blocks) {
        if (!block.compressed) {
          assert.ok(block.data.length <= 65536);
          continue;
        }
        const { decoded, lastMatchStart } = lz4Sequences(block.data);
        assert.ok(decoded <= LZ4_BLOCK_INPUT, `block decodes to ${decoded}`);
        assert.ok(lastMatchStart <= 65536 - 12, `last match starts at ${lastMatchStart}`);
        if (decoded === LZ4_BLOCK_INPUT) fullBlocks++;
        if (lastMatchStart > decoded - 12) lateMatches++;
      }
    }
    assert.ok(fullBlocks > 50, `${fullBlocks} full blocks`);
    // lz4_flex keeps the format's MFLIMIT itself (lz4js did not: the 16-byte margin was for it).
    assert.equal(lateMatches, 0, 'no match starts in the last 12 bytes of a block');
  });

  test('stores incompressible blocks uncompressed, like Java', async () => {
    const input = randomBytes(200_000, 21);
    const { blocks } = lz4Blocks(await lz4Codec.compress({ buffer: input }));
    assert.ok(blocks.every((b) => !b.compressed));
    assert.ok(Buffer.concat(blocks.map((b) => b.data)).equals(input));
  });

  test('empty input: header and end mark only, as Java writes it', async () => {
    const frame = await lz4Codec.compress({ buffer: Buffer.alloc(0) });
    assert.equal(frame.toString('hex'), '04224d1860408200000000');
  });

  const input = tweets(300_000);
  const variants: [string, Buffer][] = [
    ['block checksums', buildLz4Frame(input, { blockChecksum: true })],
    ['content size', buildLz4Frame(input, { contentSize: true })],
    ['content checksum', buildLz4Frame(input, { contentChecksum: true })],
    ['256 KiB blocks', buildLz4Frame(input, { bsId: 5 })],
    ['4 MiB blocks, all options', buildLz4Frame(input, { bsId: 7, blockChecksum: true, contentSize: true, contentChecksum: true })],
    ['magic v0 header checksum (KAFKA-1493)', buildLz4Frame(input, { brokenHc: true })],
    ['lz4js dependent-block frame', Buffer.from(lz4js.compress(input))],
  ];
  for (const [label, frame] of variants) {
    test(`decompresses frames with ${label}`, async () => {
      assert.ok((await lz4Codec.decompress(frame)).equals(input));
    });
  }

  test('rejects corrupt frames instead of returning wrong bytes', async () => {
    const good = await lz4Codec.compress({ buffer: tweets(100_000) });
    const badMagic = Buffer.from(good);
    badMagic[0] ^= 1;
    await assert.rejects(lz4Codec.decompress(badMagic), /bad magic/);
    const badHc = Buffer.from(good);
    badHc[6] ^= 0xff;
    await assert.rejects(lz4Codec.decompress(badHc), /checksum/);
    await assert.rejects(lz4Codec.decompress(good.subarray(0, good.length - 10)), /truncated/);
    await assert.rejects(lz4Codec.decompress(good.subarray(0, 5)), /header/);
    const checked = buildLz4Frame(tweets(100_000), { blockChecksum: true, contentChecksum: true });
    const flipped = Buffer.from(checked);
    flipped[100] ^= 0x01;
    await assert.rejects(lz4Codec.decompress(flipped), /checksum mismatch/);
    const oversized = Buffer.from(good);
    oversized.writeUInt32LE(70_000, 7); // first block claims more than 64 KiB
    await assert.rejects(lz4Codec.decompress(oversized), /exceeds/);
  });
});

describe('zstd', () => {
  // Our ready() and not zstdWasm.init(): a second init of the instance can break it (see the next test).
  before(() => ready());

  test('copies of zstd.ts in one process share one zstd-wasm init (a second init of an instance in use breaks it)', async () => {
    // A fresh zstd-wasm and fresh copies of zstd.ts over it, as src and dist are in one test process.
    const own = require.resolve('../../src/lib/kafka/codecs/zstd');
    const forget = (all: boolean) => {
      for (const key of Object.keys(require.cache)) {
        if (key === own || (all && key.includes(`${path.sep}@bokuweb${path.sep}zstd-wasm${path.sep}`))) delete require.cache[key];
      }
    };
    type ZstdFile = typeof import('../../src/lib/kafka/codecs/zstd');
    const input = tweets(20_000);
    const expected = Buffer.from(zstdWasm.compress(input, 3));
    forget(true);
    try {
      const copies: ZstdFile[] = [];
      for (let i = 0; i < 6; i++) {
        forget(false);
        copies.push(require(own) as ZstdFile);
        await Promise.all(copies.slice(-2).map((c) => c.ready())); // the new copy starts beside the one before it
        for (const [j, copy] of copies.entries()) {
          for (let k = 0; k < 3; k++) assert.ok((await copy.compress(input)).equals(expected), `copy ${j} after ${i + 1} copies, run ${k}`);
        }
      }
    } finally {
      forget(true); // later requires get back the modules the other tests use
    }
  });

  test('compresses at level 3 (Java default) into a standard frame', async () => {
    const input = tweets(100_000);
    const frame = await zstdCodec.compress({ buffer: input });
    assert.equal(frame.readUInt32LE(0), 0xfd2fb528);
    assert.ok(Buffer.from(zstdWasm.compress(input, 3)).equals(frame));
  });

  test('frames without a content size: zstd-wasm alone fails past 1 MiB, our codec does not', async () => {
    for (const input of [tweets(900_000), tweets(3 * 1024 * 1024), randomBytes(2 * 1024 * 1024, 5), Buffer.alloc(5 * 1024 * 1024)]) {
      const frame = stripZstdContentSize(Buffer.from(zstdWasm.compress(input, 3)));
      assert.equal(zstdFrames(frame)[0].contentSize, undefined);
      if (input.length > 1024 * 1024) assert.throws(() => zstdWasm.decompress(frame), 'zstd-wasm defaults to a 1 MiB output');
      assert.ok((await zstdCodec.decompress(frame)).equals(input), `${input.length} bytes`);
    }
  });

  test('concatenated and skippable frames', async () => {
    const a = tweets(1_500_000);
    const b = randomBytes(40_000, 2);
    const skippable = Buffer.concat([Buffer.from([0x53, 0x2a, 0x4d, 0x18]), Buffer.from([5, 0, 0, 0]), Buffer.from('hello')]);
    const frames = Buffer.concat([
      Buffer.from(zstdWasm.compress(a, 3)), // with a content size
      skippable,
      stripZstdContentSize(Buffer.from(zstdWasm.compress(b, 1))), // without
      Buffer.from(zstdWasm.compress(Buffer.alloc(0), 3)),
    ]);
    assert.equal(zstdFrames(frames).length, 3);
    assert.ok((await zstdCodec.decompress(frames)).equals(Buffer.concat([a, b])));
  });

  test('rejects corrupt frames', async () => {
    const good = await zstdCodec.compress({ buffer: tweets(200_000) });
    await assert.rejects(zstdCodec.decompress(good.subarray(0, good.length - 3)), /truncated/);
    await assert.rejects(zstdCodec.decompress(Buffer.from('not zstd at all')), /bad frame magic/);
    const flipped = Buffer.from(good);
    flipped[Math.floor(good.length / 2)] ^= 0x55;
    await assert.rejects(zstdCodec.decompress(flipped), /zstd/);
    // a content size the blocks cannot hold is refused before allocating it
    const lying = Buffer.from(zstdWasm.compress(Buffer.from('abc'), 3));
    assert.equal(lying[4] & 0xc0, 0); // single segment, 1-byte content size
    lying[5] = 200;
    await assert.rejects(zstdCodec.decompress(lying), /content size/);
    // a frame without content size whose RLE blocks claim 1.2 GB: refused before allocating
    const rle = Buffer.alloc(3);
    const blocks = Array.from({ length: 600 }, (_, i) => {
      const header = ((2 ** 21 - 1) * 8 + 2 + (i === 599 ? 1 : 0)) >>> 0;
      rle.writeUIntLE(header, 0, 3);
      return Buffer.concat([rle, Buffer.from([0])]);
    });
    const bomb = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x88]), ...blocks]);
    await assert.rejects(zstdCodec.decompress(bomb), /may exceed/);
  });
});

describe('snappy', () => {
  test('writes xerial framing in 32 KiB chunks like snappy-java', async () => {
    const input = tweets(100_000);
    const frame = await snappyCodec.compress({ buffer: input });
    let pos = 16;
    let chunks = 0;
    while (pos < frame.length) {
      pos += 4 + frame.readUInt32BE(pos);
      chunks++;
    }
    assert.equal(pos, frame.length);
    assert.equal(chunks, Math.ceil(input.length / 32768));
  });

  test('reads raw (unframed) snappy as kafkajs-snappy writes it, and concatenated xerial streams', async () => {
    const raw = require('kafkajs-snappy')() as KafkaCodec;
    const a = tweets(80_000);
    const b = wordSoup(50_000, 8);
    assert.ok((await snappyCodec.decompress(await raw.compress({ buffer: a }))).equals(a));
    const both = Buffer.concat([await snappyCodec.compress({ buffer: a }), await snappyCodec.compress({ buffer: b })]);
    assert.ok((await snappyCodec.decompress(both)).equals(Buffer.concat([a, b])));
    assert.equal((await snappyCodec.decompress(Buffer.alloc(0))).length, 0);
  });

  test('rejects a truncated stream', async () => {
    const good = await snappyCodec.compress({ buffer: tweets(100_000) });
    await assert.rejects(snappyCodec.decompress(good.subarray(0, good.length - 100)), /snappy/);
    await assert.rejects(snappyCodec.decompress(good.subarray(0, 18)), /truncated/);
  });
});
