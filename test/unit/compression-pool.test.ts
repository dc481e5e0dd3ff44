// The compression worker gives the same bytes as the codecs in the calling
// thread, runs many batches at once, and when it cannot start or dies, every
// batch is still compressed (in the calling thread).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { threadId } from 'node:worker_threads';
import { CompressionTypes } from 'kafkajs';
import { CompressionPool } from '../../src/lib/compression-pool';
import { codecFor, registerCodecs } from '../../src/lib/codecs';
import { wordSoup } from '../support/payloads';

const inThreadCalls: number[] = [];
const inThread = (type: number, input: Buffer) => {
  inThreadCalls.push(type);
  return codecFor(type).compress({ buffer: input });
};
let pool: CompressionPool;

before(async () => {
  await registerCodecs();
  pool = new CompressionPool(inThread);
});
after(async () => {
  await pool.close();
});

for (const name of ['Snappy', 'LZ4', 'ZSTD'] as const) {
  test(`${name} on the worker: the same bytes as in this thread, 40 batches at once`, async () => {
    const type = CompressionTypes[name];
    const inputs = Array.from({ length: 40 }, (_, i) => wordSoup(1000 + i * 997, i));
    const before = inThreadCalls.length;
    const out = await Promise.all(inputs.map((b) => pool.compress(type, b)));
    assert.equal(inThreadCalls.length, before, 'nothing compressed in this thread');
    for (let i = 0; i < inputs.length; i++) {
      assert.ok(out[i].equals(await codecFor(type).compress({ buffer: inputs[i] })), `batch ${i}`);
      assert.ok((await codecFor(type).decompress(out[i])).equals(inputs[i]));
    }
    assert.equal(pool.fellBack, false);
  });
}

test('gzip stays in this thread (zlib already runs off the event loop)', async () => {
  const before = inThreadCalls.length;
  await pool.compress(CompressionTypes.GZIP, wordSoup(5000, 1));
  assert.deepEqual(inThreadCalls.slice(before), [CompressionTypes.GZIP]);
});

test('no worker script: everything compresses in this thread', async () => {
  const p = new CompressionPool(inThread, null);
  const before = inThreadCalls.length;
  const b = wordSoup(3000, 2);
  assert.ok((await p.compress(CompressionTypes.LZ4, b)).equals(await codecFor(CompressionTypes.LZ4).compress({ buffer: b })));
  assert.equal(inThreadCalls.length, before + 1);
  assert.equal(threadId, 0);
});

test('a worker that dies mid-flight: its batches are compressed here instead, and so is what follows', async () => {
  const p = new CompressionPool(inThread);
  const inputs = Array.from({ length: 20 }, (_, i) => wordSoup(20_000, i));
  const flight = inputs.map((b) => p.compress(CompressionTypes.ZSTD, b));
  // Kill the worker under the pool's feet.
  await (p as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
  const out = await Promise.all(flight);
  for (let i = 0; i < inputs.length; i++) assert.ok((await codecFor(CompressionTypes.ZSTD).decompress(out[i])).equals(inputs[i]));
  assert.equal(p.fellBack, true);
  const before = inThreadCalls.length;
  await p.compress(CompressionTypes.Snappy, inputs[0]);
  assert.equal(inThreadCalls.length, before + 1);
});

test('an unknown codec rejects that batch only', async () => {
  await assert.rejects(pool.compress(99, Buffer.from('x')), /no codec/);
  assert.ok((await pool.compress(CompressionTypes.LZ4, wordSoup(100, 3))).length > 0);
});
