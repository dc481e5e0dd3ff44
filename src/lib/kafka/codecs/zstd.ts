// Zstandard.
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
import { asBuffer, corrupt } from './common';

type ZstdWasm = typeof import('@bokuweb/zstd-wasm');

/** Java's default (CompressionType.ZSTD.defaultLevel()). */
export const ZSTD_DEFAULT_LEVEL = 3;

/**
 * Where the one init() of a zstd-wasm instance is kept: on that instance's own
 * exports, so that every copy of this file in the process (src beside dist in
 * tests, two installs sharing one node_modules) waits for the same one. Two
 * init() calls at once leave the instance compressing to zeros, silently.
 */
const INIT = Symbol.for('streamsafe.zstd-wasm.init');

let zstdReady: Promise<ZstdWasm> | undefined;

/** Loads and initialises @bokuweb/zstd-wasm once (lazily: nothing else needs WebAssembly). */
function zstdWasm(): Promise<ZstdWasm> {
  zstdReady ??= (async () => {
    const zstd = require('@bokuweb/zstd-wasm') as ZstdWasm;
    const shared = zstd as unknown as Record<symbol, Promise<void> | undefined>;
    await (shared[INIT] ??= zstd.init());
    return zstd;
  })();
  return zstdReady;
}

const ZSTD_MAGIC = 0xfd2fb528;
const ZSTD_BLOCK_MAX = 128 * 1024;
/** zstd-wasm's heap is a 32-bit WebAssembly memory (2 GiB at most); refuse bombs early. */
const ZSTD_MAX_OUTPUT = 1024 * 1024 * 1024;

export interface ZstdFrame {
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

/** One standard zstd frame (ZSTD_compress), at Java's default level unless told. */
export async function compress(input: Buffer, level = ZSTD_DEFAULT_LEVEL): Promise<Buffer> {
  const zstd = await zstdWasm();
  return asBuffer(zstd.compress(input, level));
}

/** Any zstd frames, with or without a content size, skippable frames dropped. */
export async function decompress(input: Buffer): Promise<Buffer> {
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

/** Resolves once the WebAssembly module is loaded; rejects (every time) if it cannot be. */
export async function ready(): Promise<void> {
  await zstdWasm();
}
