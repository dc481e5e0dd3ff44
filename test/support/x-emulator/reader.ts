// A minimal, byte-exact reader of X's stream framing for tests and benches: records are
// separated by "\r\n"; a "\r\n" with nothing before it is a keep-alive. Unlike a reader that
// decodes each chunk on its own, it keeps bytes across chunks, so a record (or a UTF-8
// character) split over chunks comes out whole.
export type StreamEvent =
  | { kind: 'record'; json: unknown; raw: string }
  | { kind: 'keep-alive' }
  | { kind: 'malformed'; raw: string; error: Error };

export class StreamRecordReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  /** Feeds one chunk; returns the events it completes. */
  push(chunk: Buffer): StreamEvent[] {
    const out: StreamEvent[] = [];
    let buf = chunk;
    if (this.pendingBytes) {
      buf = Buffer.concat([...this.pending, chunk]);
      this.pending = [];
      this.pendingBytes = 0;
    }
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(10, start); // '\n'
      if (nl < 0) break;
      const end = nl > start && buf[nl - 1] === 13 ? nl - 1 : nl;
      if (end === start) out.push({ kind: 'keep-alive' });
      else {
        const raw = buf.toString('utf8', start, end);
        try {
          out.push({ kind: 'record', json: JSON.parse(raw), raw });
        } catch (err) {
          out.push({ kind: 'malformed', raw, error: err as Error });
        }
      }
      start = nl + 1;
    }
    if (start < buf.length) {
      const rest = buf.subarray(start);
      this.pending.push(rest);
      this.pendingBytes += rest.length;
    }
    return out;
  }

  /** Bytes of an unfinished record held back. */
  get buffered(): number {
    return this.pendingBytes;
  }
}
