// gzip for stream responses, with exact "emitted" accounting: a write's callback fires only once
// the compressed bytes that carry it have been flushed to the socket (as for an uncompressed
// stream), not when the compressor took them. A drop fault therefore still cuts only after
// everything counted as emitted is on the wire.
import type * as http from 'node:http';
import { Writable } from 'node:stream';
import * as zlib from 'node:zlib';

export function flushedGzip(res: http.ServerResponse): Writable {
  // Every input write is followed by a sync flush, so its bytes leave the compressor at once.
  const z = zlib.createGzip({ flush: zlib.constants.Z_SYNC_FLUSH });
  let read = 0; // compressed bytes taken from z and handed to res
  let flushed = 0; // of those, bytes res has flushed to the socket
  let paused = false;
  const waiting: Array<{ at: number; cb: (err?: Error | null) => void }> = [];
  const settle = (): void => {
    while (waiting.length && waiting[0].at <= flushed) waiting.shift()!.cb();
  };
  const pull = (): void => {
    let chunk: Buffer | null;
    while (!paused && !res.destroyed && (chunk = z.read() as Buffer | null) !== null) {
      read += chunk.length;
      const n = chunk.length;
      const ok = res.write(chunk, (err?: Error | null) => {
        if (err) return;
        flushed += n;
        settle();
      });
      if (!ok) paused = true;
    }
  };
  z.on('readable', pull);
  z.on('end', () => {
    if (!res.destroyed && !res.writableEnded) res.end();
  });
  z.on('error', () => undefined);
  res.on('drain', () => {
    paused = false;
    pull();
  });
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      z.write(chunk, (err?: Error | null) => {
        if (err) return cb(err);
        pull();
        // All output of this chunk is out of the compressor now: read already, or still in z.
        const at = read + z.readableLength;
        if (flushed >= at) cb();
        else waiting.push({ at, cb });
      });
    },
    final(cb) {
      // z does not always emit 'end' once it is finished and read dry (seen with Node 20): end
      // the response once the compressor has taken everything and its last bytes were pulled.
      z.end(() =>
        setImmediate(() => {
          pull();
          if (!res.destroyed && !res.writableEnded) res.end();
        }),
      );
      cb();
    },
    destroy(err, cb) {
      z.destroy();
      cb(err);
    },
  });
}
