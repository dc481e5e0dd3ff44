// The names and ids of Kafka's compression codecs, apart from the codecs themselves so
// that code without Node (the editor's checks, src/lib/editor) can use them: this file
// imports nothing. codecs/index.ts re-exports all of it.

export type CompressionName = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

export const COMPRESSION_NAMES: readonly CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

/** Kafka's codec ids (record batch attributes & 0x07). */
export const CODEC_IDS: Readonly<Record<CompressionName, number>> = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 };

export function isCompressionName(value: unknown): value is CompressionName {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(CODEC_IDS, value);
}
