// Deterministic test payloads, so a failure reproduces.

/** xorshift32 in [0, 1). */
export function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

/** Incompressible bytes. */
export function randomBytes(n: number, seed = 7): Buffer {
  const next = prng(seed);
  const out = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) out[i] = (next() * 256) | 0;
  return out;
}

const WORDS = ['tweet', 'kafka', '안녕하세요', '카프카', '🚀', '🎉', 'the', 'stream', 'node-red', 'producer', '"id":', '"text":', ' ', ',', '{', '}', '#빅데이터'];

/** Compressible, text-like bytes: a word soup with some hex noise (the shape that trips lz4js's MFLIMIT). */
export function wordSoup(n: number, seed = 11): Buffer {
  const next = prng(seed);
  const parts: Buffer[] = [];
  let len = 0;
  while (len < n) {
    const w = next() < 0.3 ? ((next() * 0xffffffff) >>> 0).toString(16) : WORDS[(next() * WORDS.length) | 0];
    const b = Buffer.from(w);
    parts.push(b);
    len += b.length;
  }
  return Buffer.concat(parts).subarray(0, n);
}
