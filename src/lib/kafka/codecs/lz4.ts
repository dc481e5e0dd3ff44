// LZ4.
//
// Kafka (magic v1/v2) uses the LZ4 frame format as written by
// Lz4BlockOutputStream: magic 0x184D2204, FLG 0x60 (version 01, block
// independence, no block/content checksum, no content size), BD 0x40 (64 KiB
// blocks), a correct header checksum, the blocks, and a zero end mark.
// Kafka's Lz4BlockInputStream rejects a frame whose FLG lacks block
// independence ("Dependent block stream is unsupported").
//
// This module writes the frame itself and compresses each block on its own
// (independent blocks) with lz4-wasm-nodejs (lz4_flex built to WebAssembly,
// about 2.7 times lz4js's speed on tweet JSON; it returns the raw block after
// a 4-byte size, which is dropped). Blocks take at most
// LZ4_BLOCK_INPUT = 64 KiB - 16 bytes: a margin kept from when blocks came from
// lz4js, whose compressor lets the last match start 10 bytes before the end of
// the block while the format requires 12 (MFLIMIT), which liblz4's
// LZ4_decompress_safe (lz4-java, so Kafka) rejects when a block decodes to
// exactly its 64 KiB capacity. Blocks that do not shrink are stored
// uncompressed, as Java does. lz4js 0.2.0's own compress() is not usable for
// Kafka at all: its FLG lacks block independence, which Kafka rejects.
//
// Decompression accepts any LZ4 frame Kafka or other clients write: 64 KiB to
// 4 MiB blocks, dependent or independent blocks, block checksums (verified),
// content size (skipped), content checksum (verified), and the wrong header
// checksum of Kafka's old magic v0 messages.
import { corrupt } from './common';

interface Lz4js {
  compressBound(n: number): number;
  compressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, hashTable: Uint32Array): number;
  decompressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, dIndex: number): number;
}
// lz4js ships no types; it decompresses (any frame, dependent blocks included).
const lz4js = require('lz4js') as Lz4js;
// lz4_flex in WebAssembly: block compression, the size of the input prepended (little-endian).
const lz4Block = (require('lz4-wasm-nodejs') as { compress(input: Uint8Array): Uint8Array }).compress;
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

function lz4HeaderChecksum(buf: Uint8Array, from: number, to: number): number {
  return (xxh32(0, buf, from, to - from) >>> 8) & 0xff;
}

function compressFrame(input: Buffer): Buffer {
  const blocks = Math.ceil(input.length / LZ4_BLOCK_INPUT);
  // Worst case: every block stored, plus the header and the end mark.
  const out = Buffer.allocUnsafe(7 + blocks * 4 + input.length + 4);
  out.writeUInt32LE(LZ4_MAGIC, 0);
  out[4] = LZ4_FLG_VERSION | LZ4_FLG_INDEPENDENT;
  out[5] = LZ4_BD_64KB;
  out[6] = lz4HeaderChecksum(out, 4, 6);
  let pos = 7;
  for (let at = 0; at < input.length; at += LZ4_BLOCK_INPUT) {
    const block = input.subarray(at, Math.min(at + LZ4_BLOCK_INPUT, input.length));
    const compressed = lz4Block(block);
    const size = compressed.length - 4;
    if (size > 0 && size < block.length) {
      out.writeUInt32LE(size, pos);
      out.set(compressed.subarray(4), pos + 4);
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

function decompressFrame(input: Buffer): Buffer {
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

/** One LZ4 frame as Kafka's Lz4BlockOutputStream writes it. */
export async function compress(input: Buffer): Promise<Buffer> {
  return compressFrame(input);
}

/** Any LZ4 frame (see above). */
export async function decompress(input: Buffer): Promise<Buffer> {
  return decompressFrame(input);
}
