// Snappy.
//
// Kafka's Java client writes snappy-java's "xerial" stream (SnappyOutputStream):
// a 16-byte header (magic 82 'SNAPPY' 00, version 1, compatible version 1)
// then chunks of [int32 BE length][raw snappy block], each block covering at
// most 32 KiB of input. kafkajs-snappy reads that framing, but writes one bare
// raw snappy block; snappy-java's SnappyInputStream falls back to reading such
// input whole, so Java would accept it, but we write the same framing as Java
// so every consumer can stream it in 32 KiB steps.
import { asBuffer, corrupt } from './common';

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

/** The xerial stream Java's SnappyOutputStream writes. */
export async function compress(input: Buffer): Promise<Buffer> {
  const parts: Buffer[] = [XERIAL_HEADER];
  for (let at = 0; at < input.length; at += XERIAL_BLOCK) {
    const block = await rawSnappy.compress({ buffer: input.subarray(at, at + XERIAL_BLOCK) });
    const length = Buffer.allocUnsafe(4);
    length.writeUInt32BE(block.length, 0);
    parts.push(length, block);
  }
  return Buffer.concat(parts);
}

/** A xerial stream (concatenated ones too) or one bare raw snappy block. */
export async function decompress(input: Buffer): Promise<Buffer> {
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
