// Compresses record batches on a worker thread, so that snappy, lz4 and zstd
// (JavaScript and WebAssembly, which would otherwise run on Node-RED's one
// event-loop thread) take their CPU from another core. gzip already runs on
// libuv's thread pool through zlib, so it stays where it is.
//
// One worker per process, started on first use and never keeping the process
// alive. If it cannot start or dies, compression goes on in the calling thread
// with the same codecs, so a record is never lost to the worker.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { CompressionTypes } from 'kafkajs';
import type { CompressReply, CompressRequest } from './compression-worker';

/** In-thread compression: the fallback, and the way for codecs the worker does not take. */
export type InThreadCompress = (type: number, input: Buffer) => Promise<Buffer>;

const OFFLOADED = new Set<number>([CompressionTypes.Snappy, CompressionTypes.LZ4, CompressionTypes.ZSTD]);

interface Pending {
  resolve(b: Buffer): void;
  reject(e: Error): void;
  type: number;
  input: Buffer;
}

export class CompressionPool {
  private worker: Worker | undefined;
  private broken = false;
  private nextId = 1;
  private pending = new Map<number, Pending>();

  constructor(
    private readonly inThread: InThreadCompress,
    /** null: no worker, compress in the calling thread */
    private readonly workerFile: string | null = workerScript() ?? null,
  ) {}

  /** True once the worker failed: everything compresses in the calling thread. */
  get fellBack(): boolean {
    return this.broken;
  }

  async compress(type: number, input: Buffer): Promise<Buffer> {
    if (!OFFLOADED.has(type) || this.broken || !this.workerFile) return this.inThread(type, input);
    const w = this.start();
    if (!w) return this.inThread(type, input);
    return new Promise<Buffer>((resolve, reject) => {
      const id = this.nextId++;
      this.pending.set(id, { resolve, reject, type, input });
      // The worker gets its own copy: `input` stays valid here for the fallback.
      const copy = new Uint8Array(input);
      w.postMessage({ id, type, input: copy } satisfies CompressRequest, [copy.buffer]);
      if (this.pending.size === 1) w.ref();
    });
  }

  private start(): Worker | undefined {
    if (this.worker) return this.worker;
    try {
      const file = this.workerFile as string;
      // From the TypeScript sources (tests under tsx) the worker needs tsx's loader itself:
      // --import hooks do not reach worker threads on Node 20.
      const w = file.endsWith('.ts')
        ? new Worker(`require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(file)});`, { eval: true })
        : new Worker(file);
      w.unref();
      w.on('message', (m: CompressReply) => this.answer(m));
      w.on('error', (e) => this.fail(e));
      w.on('exit', (code) => this.fail(new Error(`the compression worker exited (code ${code})`)));
      this.worker = w;
      return w;
    } catch {
      this.broken = true;
      return undefined;
    }
  }

  private answer(m: CompressReply): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (this.pending.size === 0) this.worker?.unref();
    if ('error' in m) p.reject(new Error(m.error));
    else p.resolve(Buffer.from(m.output.buffer, m.output.byteOffset, m.output.byteLength));
  }

  /** The worker is gone: what it held is compressed here instead, and so is everything after. */
  private fail(_err: Error): void {
    if (this.broken) return;
    this.broken = true;
    const w = this.worker;
    this.worker = undefined;
    void w?.terminate().catch(() => {});
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      this.inThread(p.type, p.input).then(p.resolve, p.reject);
    }
  }

  /** Stops the worker (tests); later calls compress in the calling thread. */
  async close(): Promise<void> {
    this.broken = true;
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }
}

/** The worker's script beside this file: compiled, or the TypeScript source under tsx. */
function workerScript(): string | undefined {
  for (const name of ['compression-worker.js', 'compression-worker.ts']) {
    const file = path.join(__dirname, name);
    if (fs.existsSync(file)) return file;
  }
  return undefined;
}
