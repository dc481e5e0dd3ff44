// The worker thread of compression-pool.ts: compresses record batches with the
// same Kafka-compatible codecs (codecs.ts) the main thread would use.
import { parentPort } from 'node:worker_threads';
import { CompressionTypes } from 'kafkajs';
import { lz4Codec, registerCodecs, snappyCodec, zstdCodec, type KafkaCodec } from './codecs';

export interface CompressRequest {
  id: number;
  type: number;
  input: Uint8Array;
}
export type CompressReply = { id: number; output: Uint8Array } | { id: number; error: string };

const CODECS: Record<number, KafkaCodec> = {
  [CompressionTypes.Snappy]: snappyCodec,
  [CompressionTypes.LZ4]: lz4Codec,
  [CompressionTypes.ZSTD]: zstdCodec,
};

if (parentPort) {
  const port = parentPort;
  const ready = registerCodecs();
  port.on('message', async (m: CompressRequest) => {
    try {
      await ready;
      const codec = CODECS[m.type];
      if (!codec) throw new Error(`no codec ${m.type} in the compression worker`);
      const out = await codec.compress({ buffer: Buffer.from(m.input.buffer, m.input.byteOffset, m.input.byteLength) });
      // A copy of its own to transfer: the codec's bytes may sit in a pool or in wasm memory.
      const output = new Uint8Array(out);
      port.postMessage({ id: m.id, output } satisfies CompressReply, [output.buffer as ArrayBuffer]);
    } catch (e) {
      port.postMessage({ id: m.id, error: String((e as Error)?.message ?? e) } satisfies CompressReply);
    }
  });
}
