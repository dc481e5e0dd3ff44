// Kafka's compression codecs, writing the same stream formats as the Java
// client (kafka-clients' Compression.wrapForOutput) and reading whatever it
// writes, from packages that install without downloading or building native
// binaries. One file per codec:
//
//   gzip.ts    Node's zlib, as kafkajs's own gzip codec calls it.
//   snappy.ts  kafkajs-snappy (snappyjs) for the raw blocks, in the xerial
//              framing Java's SnappyOutputStream writes.
//   lz4.ts     lz4js's block compressor inside an LZ4 frame written exactly as
//              Kafka's Lz4BlockOutputStream writes it.
//   zstd.ts    @bokuweb/zstd-wasm, with frames walked first so that frames
//              without a content size (Java's streaming frames) decompress at
//              any size.
//
// This file is the registry: compress/decompress by Kafka's codec id (the low
// three bits of a record batch's attributes), which our encoder calls
// directly, and registerKafkajsCodecs() for kafkajs's process-wide codec
// table, which kafkajs consumers decode with.
import { CompressionCodecs, CompressionTypes } from 'kafkajs';
import * as gzip from './gzip';
import * as lz4 from './lz4';
import * as snappy from './snappy';
import * as zstd from './zstd';
import { CODEC_IDS, COMPRESSION_NAMES, isCompressionName, type CompressionName } from './names';

export { LZ4_BLOCK_INPUT } from './lz4';
export { ZSTD_DEFAULT_LEVEL, zstdFrames, type ZstdFrame } from './zstd';

export { CODEC_IDS, COMPRESSION_NAMES, isCompressionName, type CompressionName } from './names';

interface Codec {
  compress(input: Buffer): Promise<Buffer>;
  decompress(input: Buffer): Promise<Buffer>;
}

/** By codec id; 0 (none) is handled before the lookup. */
const CODECS: ReadonlyArray<Codec | undefined> = [undefined, gzip, snappy, lz4, zstd];

/** Kafka's codec id for a `compression.type` name. */
export function codecId(name: CompressionName): number {
  if (!isCompressionName(name)) {
    throw new TypeError(`unknown compression "${String(name)}" (expected one of ${COMPRESSION_NAMES.join(', ')})`);
  }
  return CODEC_IDS[name];
}

/** kafkajs's CompressionTypes value for a `compression.type` name (the same number as codecId). */
export function compressionType(name: CompressionName): CompressionTypes {
  return codecId(name) as CompressionTypes;
}

function codecOf(codec: number): Codec | undefined {
  const found = Number.isInteger(codec) ? CODECS[codec] : undefined;
  if (found === undefined && codec !== 0) throw new RangeError(`unknown compression codec id ${codec} (expected 0 to 4)`);
  return found;
}

/** Runs one direction of Kafka codec `codec` (0 gives the input back; an unknown id rejects). */
function run(codec: number, input: Buffer, direction: 'compress' | 'decompress'): Promise<Buffer> {
  let found: Codec | undefined;
  try {
    found = codecOf(codec);
  } catch (e) {
    return Promise.reject(e);
  }
  return found ? found[direction](input) : Promise.resolve(input);
}

/** The records section compressed with Kafka codec `codec` (0 gives the input back). */
export const compress = (codec: number, input: Buffer): Promise<Buffer> => run(codec, input, 'compress');

/** The records section of a batch compressed with Kafka codec `codec` (0 gives the input back). */
export const decompress = (codec: number, input: Buffer): Promise<Buffer> => run(codec, input, 'decompress');

let readiness: Promise<void> | undefined;

/**
 * Resolves once every codec can run: zstd needs its WebAssembly module loaded
 * first. Shared by all callers; rejects (and keeps rejecting) if it cannot load.
 * The others work without it.
 */
export function ready(): Promise<void> {
  readiness ??= zstd.ready().catch((err: unknown) => {
    throw new Error(`zstd compression is unavailable: @bokuweb/zstd-wasm failed to initialise: ${(err as Error)?.message ?? err}`, { cause: err });
  });
  return readiness;
}

// ---------------------------------------------------------------------------
// kafkajs's codec table

/** The shape kafkajs expects behind `CompressionCodecs[type]()`. */
export interface KafkaCodec {
  /** kafkajs passes its Encoder; only `.buffer` (the records) is read. */
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

const kafkajsCodec = (codec: Codec): KafkaCodec => ({
  compress: (encoder) => codec.compress(encoder.buffer),
  decompress: (buffer) => codec.decompress(buffer),
});

export const snappyCodec: KafkaCodec = kafkajsCodec(snappy);
export const lz4Codec: KafkaCodec = kafkajsCodec(lz4);
export const zstdCodec: KafkaCodec = kafkajsCodec(zstd);

let registration: Promise<void> | undefined;

/**
 * Puts gzip, snappy, lz4 and zstd into kafkajs's process-wide CompressionCodecs,
 * which kafkajs clients (consumers, and any kafkajs producer sharing the
 * process) look codecs up in; our own producer calls compress() directly. Idempotent and safe to call from many nodes at
 * once: all callers share one registration. The table is filled before the
 * returned promise settles even if zstd cannot be initialised, in which case
 * the promise rejects (and keeps rejecting). Entries are replaced, never
 * wrapped, so a second copy of this module registering too changes nothing.
 */
export function registerKafkajsCodecs(): Promise<void> {
  registration ??= (async () => {
    const table = CompressionCodecs as unknown as Record<number, () => KafkaCodec>;
    for (const [type, codec] of [
      [CompressionTypes.GZIP, gzip],
      [CompressionTypes.Snappy, snappy],
      [CompressionTypes.LZ4, lz4],
      [CompressionTypes.ZSTD, zstd],
    ] as const) {
      const entry = kafkajsCodec(codec);
      table[type] = () => entry;
    }
    await ready();
  })();
  return registration;
}
