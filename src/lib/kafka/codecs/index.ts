// Kafka compression codecs for kafkajs that write the same stream formats as
// the Java client (kafka-clients' Compression.wrapForOutput) and read whatever
// it writes, from packages that install without downloading or building
// native binaries:
//
//   gzip    kafkajs's own codec (zlib).
//   snappy  kafkajs-snappy (snappyjs) for the raw blocks; this module adds the
//           xerial framing that Java's SnappyOutputStream writes.
//   lz4     lz4js's block compressor and decompressor inside an LZ4 *frame*
//           written by this module exactly as Kafka's Lz4BlockOutputStream
//           writes it (see the LZ4 section for why lz4js's own frame cannot be
//           used).
//   zstd    @bokuweb/zstd-wasm, with frames walked here first so that frames
//           without a content size (Java's streaming frames) decompress at
//           any size.
//
// Usage: `await registerCodecs()` once per process (idempotent, concurrent
// callers share one registration), then pass `compression:
// compressionType(name)` to kafkajs's send/sendBatch.
import { AsyncLocalStorage } from 'node:async_hooks';
import { CompressionCodecs, CompressionTypes } from 'kafkajs';

export type CompressionName = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

export const COMPRESSION_NAMES: readonly CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

/** The shape kafkajs expects behind `CompressionCodecs[type]()`. */
export interface KafkaCodec {
  /** kafkajs passes its Encoder; only `.buffer` (the records) is read. */
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

const TYPES: Record<CompressionName, CompressionTypes> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
};

export function isCompressionName(value: unknown): value is CompressionName {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(TYPES, value);
}

/** kafkajs's CompressionTypes value for a Kafka `compression.type` name. */
export function compressionType(name: CompressionName): CompressionTypes {
  if (!isCompressionName(name)) {
    throw new TypeError(`unknown compression "${String(name)}" (expected one of ${COMPRESSION_NAMES.join(', ')})`);
  }
  return TYPES[name];
}

function corrupt(codec: string, what: string): Error {
  return new Error(`${codec}: corrupt or unsupported compressed data: ${what}`);
}

const asBuffer = (u8: Uint8Array): Buffer => (Buffer.isBuffer(u8) ? u8 : Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength));

// ---------------------------------------------------------------------------
// Snappy
//
// Kafka's Java client writes snappy-java's "xerial" stream (SnappyOutputStream):
// a 16-byte header (magic 82 'SNAPPY' 00, version 1, compatible version 1)
// then chunks of [int32 BE length][raw snappy block], each block covering at
// most 32 KiB of input. kafkajs-snappy reads that framing, but writes one bare
// raw snappy block; snappy-java's SnappyInputStream falls back to reading such
// input whole, so Java would accept it, but we write the same framing as Java
// so every consumer can stream it in 32 KiB steps.
// ---------------------------------------------------------------------------

interface RawSnappy {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}
// kafkajs-snappy ships no types; it exports a codec factory.
const rawSnappy = (require('kafkajs-snappy') as () => RawSnappy)();

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER = Buffer.concat([XERIAL_MAGIC, Buffer.from([0, 0, 0, 1, 0, 0, 0, 1])]);
const XERIAL_BLOCK = 32 * 1024; // snappy-java's default block size

const isXerial = (buf: Buffer, at: number): boolean =>
  buf.length - at >= XERIAL_HEADER.length && buf.compare(XERIAL_MAGIC, 0, XERIAL_MAGIC.length, at, at + XERIAL_MAGIC.length) === 0;

async function snappyCompress(input: Buffer): Promise<Buffer> {
  const parts: Buffer[] = [XERIAL_HEADER];
  for (let at = 0; at < input.length; at += XERIAL_BLOCK) {
    const block = await rawSnappy.compress({ buffer: input.subarray(at, at + XERIAL_BLOCK) });
    const length = Buffer.allocUnsafe(4);
    length.writeUInt32BE(block.length, 0);
    parts.push(length, block);
  }
  return Buffer.concat(parts);
}

async function snappyDecompress(input: Buffer): Promise<Buffer> {
  if (input.length === 0) return Buffer.alloc(0);
  // Not framed: one raw snappy block, as kafkajs-snappy and some other
  // clients write it.
  if (!isXerial(input, 0)) return asBuffer(await rawSnappy.decompress(input));
  const parts: Buffer[] = [];
  let at = 0;
  while (at < input.length) {
    // snappy-java accepts concatenated streams, each with its own header.
    if (isXerial(input, at)) {
      at += XERIAL_HEADER.length;
      continue;
    }
    if (input.length - at < 4) throw corrupt('snappy', 'truncated chunk length');
    const size = input.readUInt32BE(at);
    at += 4;
    if (size > input.length - at) throw corrupt('snappy', `chunk of ${size} bytes past the end`);
    if (size > 0) parts.push(asBuffer(await rawSnappy.decompress(input.subarray(at, at + size))));
    at += size;
  }
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}

export const snappyCodec: KafkaCodec = {
  compress: async (encoder) => snappyCompress(encoder.buffer),
  decompress: async (buffer) => snappyDecompress(buffer),
};

// ---------------------------------------------------------------------------
// LZ4
//
// Kafka (magic v1/v2) uses the LZ4 frame format as written by
// Lz4BlockOutputStream: magic 0x184D2204, FLG 0x60 (version 01, block
// independence, no block/content checksum, no content size), BD 0x40 (64 KiB
// blocks), a correct header checksum, the blocks, and a zero end mark.
// Kafka's Lz4BlockInputStream rejects a frame whose FLG lacks block
// independence ("Dependent block stream is unsupported").
//
// lz4js 0.2.0's compress() cannot be used as is:
//  * its FLG is 0x40: block independence unset, which Kafka rejects; and its
//    blocks really are dependent (one hash table across 4 MiB blocks);
//  * its block compressor lets the last match start 10 bytes before the end
//    of the block, while the LZ4 block format requires 12 (MFLIMIT). liblz4's
//    LZ4_decompress_safe, which lz4-java (and so Kafka) calls through JNI,
//    rejects such a block when it decodes to exactly the output capacity, and
//    Kafka's capacity is the frame's maximum block size. About one full
//    64 KiB block of text in five hit this in our tests.
// So this module writes the frame itself, compresses each block with a fresh
// hash table (independent blocks), and feeds lz4js at most
// LZ4_BLOCK_INPUT = 64 KiB - 16 bytes per block: every match then starts at
// least 12 bytes before the 64 KiB capacity any decoder reserves for a block
// of this frame. Blocks that do not shrink are stored uncompressed, as Java
// does.
//
// Decompression accepts any LZ4 frame Kafka or other clients write: 64 KiB to
// 4 MiB blocks, dependent or independent blocks, block checksums (verified),
// content size (skipped), content checksum (verified), and the wrong header
// checksum of Kafka's old magic v0 messages.
// ---------------------------------------------------------------------------

interface Lz4js {
  compressBound(n: number): number;
  compressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, hashTable: Uint32Array): number;
  decompressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, dIndex: number): number;
}
// lz4js ships no types.
const lz4js = require('lz4js') as Lz4js;
const xxh32 = (require('lz4js/xxh32.js') as { hash(seed: number, src: Uint8Array, index: number, len: number): number }).hash;

const LZ4_MAGIC = 0x184d2204;
const LZ4_FLG_VERSION = 0x40;
const LZ4_FLG_INDEPENDENT = 0x20;
const LZ4_FLG_BLOCK_CHECKSUM = 0x10;
const LZ4_FLG_CONTENT_SIZE = 0x08;
const LZ4_FLG_CONTENT_CHECKSUM = 0x04;
const LZ4_FLG_DICT_ID = 0x01;
const LZ4_BD_64KB = 4 << 4;
const LZ4_UNCOMPRESSED = 0x80000000;
const LZ4_MAX_BLOCK = 64 * 1024;
/** Input bytes per block; see the LZ4 notes above for the 16-byte margin. */
export const LZ4_BLOCK_INPUT = LZ4_MAX_BLOCK - 16;

let lz4HashTable: Uint32Array | undefined;
let lz4Scratch: Uint8Array | undefined;

function lz4HeaderChecksum(buf: Uint8Array, from: number, to: number): number {
  return (xxh32(0, buf, from, to - from) >>> 8) & 0xff;
}

function lz4Compress(input: Buffer): Buffer {
  const blocks = Math.ceil(input.length / LZ4_BLOCK_INPUT);
  // Worst case: every block stored, plus the header and the end mark.
  const out = Buffer.allocUnsafe(7 + blocks * 4 + input.length + 4);
  out.writeUInt32LE(LZ4_MAGIC, 0);
  out[4] = LZ4_FLG_VERSION | LZ4_FLG_INDEPENDENT;
  out[5] = LZ4_BD_64KB;
  out[6] = lz4HeaderChecksum(out, 4, 6);
  let pos = 7;
  const table = (lz4HashTable ??= new Uint32Array(1 << 16));
  const scratch = (lz4Scratch ??= new Uint8Array(lz4js.compressBound(LZ4_BLOCK_INPUT)));
  for (let at = 0; at < input.length; at += LZ4_BLOCK_INPUT) {
    const block = input.subarray(at, Math.min(at + LZ4_BLOCK_INPUT, input.length));
    table.fill(0); // a fresh dictionary per block: blocks are independent
    // 0 means "no match found"; lz4js then writes nothing useful.
    const size = lz4js.compressBlock(block, scratch, 0, block.length, table);
    if (size > 0 && size < block.length) {
      out.writeUInt32LE(size, pos);
      out.set(scratch.subarray(0, size), pos + 4);
      pos += 4 + size;
    } else {
      out.writeUInt32LE((LZ4_UNCOMPRESSED | block.length) >>> 0, pos);
      block.copy(out, pos + 4);
      pos += 4 + block.length;
    }
  }
  out.writeUInt32LE(0, pos); // end mark
  pos += 4;
  // Do not pin the worst-case allocation behind a well-compressed frame.
  return out.length - pos > 65536 ? Buffer.from(out.subarray(0, pos)) : out.subarray(0, pos);
}

interface Lz4Frame {
  flg: number;
  maxBlock: number;
  /** offset of the first block */
  start: number;
}

function lz4ReadHeader(input: Buffer): Lz4Frame {
  if (input.length < 7) throw corrupt('lz4', 'frame shorter than its header');
  if (input.readUInt32LE(0) !== LZ4_MAGIC) throw corrupt('lz4', 'bad magic number');
  const flg = input[4];
  const bd = input[5];
  if ((flg & 0xc0) !== LZ4_FLG_VERSION) throw corrupt('lz4', `frame version ${flg >> 6}`);
  if (flg & 0x02) throw corrupt('lz4', 'reserved FLG bit set');
  if (flg & LZ4_FLG_DICT_ID) throw corrupt('lz4', 'frames with a dictionary are not supported');
  const bsId = (bd >> 4) & 7;
  if (bd & 0x8f || bsId < 4) throw corrupt('lz4', `block descriptor 0x${bd.toString(16)}`);
  let pos = 6;
  if (flg & LZ4_FLG_CONTENT_SIZE) pos += 8;
  if (input.length < pos + 1) throw corrupt('lz4', 'truncated frame descriptor');
  const hc = input[pos];
  // Kafka's magic v0 messages hash the magic number too (KAFKA-1493).
  if (hc !== lz4HeaderChecksum(input, 4, pos) && hc !== lz4HeaderChecksum(input, 0, pos)) {
    throw corrupt('lz4', 'frame descriptor checksum mismatch');
  }
  return { flg, maxBlock: 1 << (2 * bsId + 8), start: pos + 1 };
}

/**
 * Most bytes a compressed block of `size` bytes can decode to: the frame's
 * maximum block size, and never more than 256 per input byte (a match costs at
 * least 4 bytes for 273 output bytes, then 1 byte per 255).
 */
const lz4BlockBound = (size: number, maxBlock: number): number => Math.min(maxBlock, size * 256);

function lz4Decompress(input: Buffer): Buffer {
  const { flg, maxBlock, start } = lz4ReadHeader(input);
  const blockChecksum = (flg & LZ4_FLG_BLOCK_CHECKSUM) !== 0;
  // First pass: validate the block layout and bound the output size.
  let bound = 0;
  let pos = start;
  for (;;) {
    if (input.length - pos < 4) throw corrupt('lz4', 'truncated block size');
    const word = input.readUInt32LE(pos);
    pos += 4;
    if (word === 0) break;
    const size = word & ~LZ4_UNCOMPRESSED;
    if (size > maxBlock) throw corrupt('lz4', `block of ${size} bytes exceeds the ${maxBlock} byte maximum`);
    pos += size + (blockChecksum ? 4 : 0);
    if (pos > input.length) throw corrupt('lz4', 'truncated block');
    bound += word & LZ4_UNCOMPRESSED ? size : lz4BlockBound(size, maxBlock);
  }
  const end = pos;
  if (flg & LZ4_FLG_CONTENT_CHECKSUM && input.length - end < 4) throw corrupt('lz4', 'truncated content checksum');

  // Second pass: one contiguous output, so dependent blocks decode too.
  const out = Buffer.alloc(bound);
  let written = 0;
  pos = start;
  for (;;) {
    const word = input.readUInt32LE(pos);
    pos += 4;
    if (word === 0) break;
    const size = word & ~LZ4_UNCOMPRESSED;
    if (blockChecksum && xxh32(0, input, pos, size) !== input.readUInt32LE(pos + size)) {
      throw corrupt('lz4', 'block checksum mismatch');
    }
    if (word & LZ4_UNCOMPRESSED) {
      input.copy(out, written, pos, pos + size);
      written += size;
    } else {
      // lz4js does not bounds-check; typed arrays drop out-of-range writes,
      // so a block that decodes past its bound is corrupt, not truncated.
      const next = lz4js.decompressBlock(input, out, pos, size, written);
      if (!(next - written <= lz4BlockBound(size, maxBlock))) throw corrupt('lz4', 'block decodes past its maximum size');
      written = next;
    }
    pos += size + (blockChecksum ? 4 : 0);
  }
  // Do not pin a much larger allocation behind a small result.
  const result = bound - written > 65536 ? Buffer.from(out.subarray(0, written)) : out.subarray(0, written);
  if (flg & LZ4_FLG_CONTENT_CHECKSUM && xxh32(0, result, 0, result.length) !== input.readUInt32LE(end)) {
    throw corrupt('lz4', 'content checksum mismatch');
  }
  return result;
}

export const lz4Codec: KafkaCodec = {
  compress: async (encoder) => lz4Compress(encoder.buffer),
  decompress: async (buffer) => lz4Decompress(buffer),
};

// ---------------------------------------------------------------------------
// Zstandard
//
// Standard zstd frames. @bokuweb/zstd-wasm exposes only ZSTD_compress and
// ZSTD_decompress (no streaming API); its decompress() sizes the output from
// the frame's content size and, when the frame has none, falls back to 1 MiB
// and fails (ZSTD_error_dstSize_tooSmall) for anything larger. Java's
// ZstdOutputStream (zstd-jni, streaming) writes frames *without* a content
// size, so a Java-produced batch over 1 MiB would not decompress. We walk the
// frames first (header, block headers) to compute a safe upper bound per
// frame, as ZSTD_decompressBound does, and pass it as the capacity. That also
// handles concatenated and skippable frames and refuses a content size that
// the blocks cannot hold before anything is allocated.
// ---------------------------------------------------------------------------

type ZstdWasm = typeof import('@bokuweb/zstd-wasm');

/** Java's default (CompressionType.ZSTD.defaultLevel()). */
export const ZSTD_DEFAULT_LEVEL = 3;

let zstdReady: Promise<ZstdWasm> | undefined;

/** Loads and initialises @bokuweb/zstd-wasm once (lazily: nothing else needs WebAssembly). */
function zstdWasm(): Promise<ZstdWasm> {
  zstdReady ??= (async () => {
    const zstd = require('@bokuweb/zstd-wasm') as ZstdWasm;
    await zstd.init();
    return zstd;
  })();
  return zstdReady;
}

const ZSTD_MAGIC = 0xfd2fb528;
const ZSTD_BLOCK_MAX = 128 * 1024;
/** zstd-wasm's heap is a 32-bit WebAssembly memory (2 GiB at most); refuse bombs early. */
const ZSTD_MAX_OUTPUT = 1024 * 1024 * 1024;

interface ZstdFrame {
  start: number;
  end: number;
  /** upper bound of the decompressed size */
  bound: number;
  contentSize?: number;
}

/** Splits `input` into its zstd frames (skippable frames dropped), each with an output bound. */
export function zstdFrames(input: Uint8Array): ZstdFrame[] {
  const buf = asBuffer(input);
  const frames: ZstdFrame[] = [];
  let pos = 0;
  let total = 0;
  const need = (n: number, what: string) => {
    if (buf.length - pos < n) throw corrupt('zstd', `truncated ${what}`);
  };
  while (pos < buf.length) {
    need(4, 'frame magic');
    const magic = buf.readUInt32LE(pos);
    if ((magic & 0xfffffff0) >>> 0 === 0x184d2a50) {
      need(8, 'skippable frame');
      const size = buf.readUInt32LE(pos + 4);
      pos += 8;
      need(size, 'skippable frame');
      pos += size;
      continue;
    }
    if (magic !== ZSTD_MAGIC) throw corrupt('zstd', `bad frame magic 0x${magic.toString(16)}`);
    const start = pos;
    pos += 4;
    need(1, 'frame header');
    const fhd = buf[pos++];
    const fcsFlag = fhd >> 6;
    const singleSegment = (fhd & 0x20) !== 0;
    const checksum = (fhd & 0x04) !== 0;
    if (fhd & 0x08) throw corrupt('zstd', 'reserved frame header bit set');
    let windowSize = 0;
    if (!singleSegment) {
      need(1, 'window descriptor');
      const wd = buf[pos++];
      const windowLog = 10 + (wd >> 3);
      const base = 2 ** windowLog;
      windowSize = base + (base / 8) * (wd & 7);
    }
    pos += [0, 1, 2, 4][fhd & 3]; // dictionary id: zstd itself reports a missing dictionary
    const fcsSize = [singleSegment ? 1 : 0, 2, 4, 8][fcsFlag];
    need(fcsSize, 'frame header');
    let contentSize: number | undefined;
    if (fcsSize === 1) contentSize = buf[pos];
    else if (fcsSize === 2) contentSize = buf.readUInt16LE(pos) + 256;
    else if (fcsSize === 4) contentSize = buf.readUInt32LE(pos);
    else if (fcsSize === 8) contentSize = buf.readUInt32LE(pos) + buf.readUInt32LE(pos + 4) * 2 ** 32;
    pos += fcsSize;
    const blockMax = singleSegment ? ZSTD_BLOCK_MAX : Math.min(windowSize, ZSTD_BLOCK_MAX);
    let bound = 0;
    for (;;) {
      need(3, 'block header');
      const header = buf[pos] | (buf[pos + 1] << 8) | (buf[pos + 2] << 16);
      pos += 3;
      const last = header & 1;
      const type = (header >> 1) & 3;
      const size = header >>> 3;
      if (type === 3) throw corrupt('zstd', 'reserved block type');
      if (type === 0) {
        need(size, 'raw block');
        bound += size;
        pos += size;
      } else if (type === 1) {
        need(1, 'RLE block');
        bound += size;
        pos += 1;
      } else {
        need(size, 'compressed block');
        bound += blockMax;
        pos += size;
      }
      if (last) break;
    }
    if (checksum) {
      need(4, 'content checksum');
      pos += 4;
    }
    if (contentSize !== undefined) {
      if (contentSize > bound) throw corrupt('zstd', `content size ${contentSize} larger than its blocks can hold`);
      bound = contentSize;
    }
    total += bound;
    if (total > ZSTD_MAX_OUTPUT) throw corrupt('zstd', `decompressed size may exceed ${ZSTD_MAX_OUTPUT} bytes`);
    frames.push({ start, end: pos, bound, contentSize });
  }
  return frames;
}

async function zstdCompress(input: Buffer, level = ZSTD_DEFAULT_LEVEL): Promise<Buffer> {
  const zstd = await zstdWasm();
  return asBuffer(zstd.compress(input, level));
}

async function zstdDecompress(input: Buffer): Promise<Buffer> {
  const zstd = await zstdWasm();
  const parts: Buffer[] = [];
  for (const frame of zstdFrames(input)) {
    const bytes = input.subarray(frame.start, frame.end);
    // zstd-wasm sizes the output from the content size when the frame has
    // one, and from defaultHeapSize when it does not.
    let out: Uint8Array;
    try {
      out = zstd.decompress(bytes, frame.contentSize === undefined ? { defaultHeapSize: Math.max(frame.bound, 1) } : undefined);
    } catch (err) {
      // zstd-wasm reports every failure as "Failed to compress with code N".
      throw corrupt('zstd', `ZSTD_decompress failed (${(err as Error)?.message ?? err})`);
    }
    parts.push(asBuffer(out));
  }
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}

export const zstdCodec: KafkaCodec = {
  compress: async (encoder) => zstdCompress(encoder.buffer),
  decompress: async (buffer) => zstdDecompress(buffer),
};

// ---------------------------------------------------------------------------
// Registration
// ---------------------------------------------------------------------------

let registration: Promise<void> | undefined;

/**
 * Who wants to know how well batches compress: a producer runs its sends
 * inside `compressionObserver.run(fn, ...)` and fn(uncompressed, compressed)
 * is called for each batch kafkajs compresses on its behalf (Java's
 * compression-rate metric), whichever codec it is.
 */
export const compressionObserver: AsyncLocalStorage<(uncompressedBytes: number, compressedBytes: number) => void> =
  // One per process: kafkajs's codec table is process-wide, and a second copy of
  // this module (another install, or src beside dist in tests) must see the same sends.
  ((globalThis as Record<symbol, unknown>)[Symbol.for('streamsafe.compressionObserver')] ??= new AsyncLocalStorage()) as AsyncLocalStorage<
    (uncompressedBytes: number, compressedBytes: number) => void
  >;

function observed(codec: KafkaCodec): KafkaCodec {
  return {
    compress: async (encoder) => {
      const out = await codec.compress(encoder);
      compressionObserver.getStore()?.(encoder.buffer.length, out.length);
      return out;
    },
    decompress: (buffer) => codec.decompress(buffer),
  };
}

/**
 * Registers snappy, lz4 and zstd into kafkajs's CompressionCodecs (gzip is
 * built in). Idempotent and safe to call from many nodes at once: all callers
 * share one registration and one zstd-wasm initialisation. snappy and lz4 are
 * registered before the returned promise settles even if zstd cannot be
 * initialised, in which case the promise rejects (and keeps rejecting).
 */
export function registerCodecs(): Promise<void> {
  registration ??= (async () => {
    const codecs = CompressionCodecs as unknown as Record<number, () => KafkaCodec>;
    const gzip = observed(codecs[CompressionTypes.GZIP]());
    codecs[CompressionTypes.GZIP] = () => gzip;
    const snappy = observed(snappyCodec);
    codecs[CompressionTypes.Snappy] = () => snappy;
    const lz4 = observed(lz4Codec);
    codecs[CompressionTypes.LZ4] = () => lz4;
    const zstd = observed(zstdCodec);
    codecs[CompressionTypes.ZSTD] = () => zstd;
    try {
      await zstdWasm();
    } catch (err) {
      throw new Error(`zstd compression is unavailable: @bokuweb/zstd-wasm failed to initialise: ${(err as Error)?.message ?? err}`, {
        cause: err,
      });
    }
  })();
  return registration;
}
