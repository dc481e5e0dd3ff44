// X's stream framing: newline-delimited JSON, each record ended by "\r\n"; a "\r\n" on its own
// is a keep-alive. Chunks may split a record anywhere: inside a UTF-8 character, between the
// "\r" and the "\n", or leave a lone "\r\n" as its own chunk. Bytes are kept across chunks and
// each line is decoded once it is whole. A line that is not JSON is reported, never thrown.

import { parseJson } from './json-ids';

export type FrameEvent =
  | { kind: 'record'; value: unknown; bytes: number }
  | { kind: 'keep-alive' }
  | { kind: 'malformed'; text: string; reason: string; bytes: number };

export interface FramerOptions {
  /** A line longer than this is discarded as malformed (default 16 MiB). */
  maxLineBytes?: number;
}

const NL = 10;
const CR = 13;
const SNIPPET = 120;

export class LineFramer {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Discarding the rest of an over-long line until its newline. */
  private skipping = false;
  private skippedBytes = 0;
  private readonly maxLineBytes: number;

  constructor(opts: FramerOptions = {}) {
    this.maxLineBytes = opts.maxLineBytes ?? 16 * 1024 * 1024;
  }

  /**
   * Feeds one chunk; calls `emit` for each line it completes, in order. When `emit` returns
   * false the framer stops after that line and holds the rest of its input (this chunk and any
   * pushed later) until resume(): backpressure without dropping anything.
   */
  push(chunk: Buffer, emit: (e: FrameEvent) => boolean | void): void {
    if (this.held.length) {
      this.held.push(chunk);
      return;
    }
    const rest = this.process(chunk, emit);
    if (rest) this.held.push(rest);
  }

  /** Whether input is held back (after `emit` returned false). */
  get holding(): boolean {
    return this.held.length > 0;
  }

  /** Goes on with held input; stops again if `emit` returns false. */
  resume(emit: (e: FrameEvent) => boolean | void): void {
    while (this.held.length) {
      const chunk = this.held.shift()!;
      const rest = this.process(chunk, emit);
      if (rest) {
        this.held.unshift(rest);
        return;
      }
    }
  }

  private held: Buffer[] = [];

  /** Frames one chunk; returns the unprocessed rest when `emit` asked to stop. */
  private process(chunk: Buffer, emit: (e: FrameEvent) => boolean | void): Buffer | undefined {
    let start = 0;
    const len = chunk.length;
    while (start < len) {
      const nl = chunk.indexOf(NL, start);
      if (nl < 0) {
        this.hold(chunk.subarray(start));
        return undefined;
      }
      let go: boolean | void = true;
      if (this.skipping) {
        this.skipping = false;
        const bytes = this.skippedBytes + (nl - start);
        this.skippedBytes = 0;
        go = emit({ kind: 'malformed', text: '', reason: `line longer than ${this.maxLineBytes} bytes`, bytes });
      } else if (this.pendingBytes) {
        // The line began in earlier chunks.
        this.pending.push(chunk.subarray(start, nl));
        const line = Buffer.concat(this.pending, this.pendingBytes + (nl - start));
        this.pending = [];
        this.pendingBytes = 0;
        go = this.line(line, 0, line.length, emit);
      } else {
        go = this.line(chunk, start, nl, emit);
      }
      start = nl + 1;
      if (go === false && start < len) return chunk.subarray(start);
    }
    return undefined;
  }

  /** Bytes of an unfinished line held back. */
  get buffered(): number {
    return this.pendingBytes;
  }

  /** Forgets a partial line (a new connection starts clean). */
  reset(): void {
    this.held = [];
    this.pending = [];
    this.pendingBytes = 0;
    this.skipping = false;
    this.skippedBytes = 0;
  }

  private hold(rest: Buffer): void {
    if (this.skipping) {
      this.skippedBytes += rest.length;
      return;
    }
    if (this.pendingBytes + rest.length > this.maxLineBytes) {
      this.skipping = true;
      this.skippedBytes = this.pendingBytes + rest.length;
      this.pending = [];
      this.pendingBytes = 0;
      return;
    }
    // A chunk is often a slice of a larger pooled buffer: copy so the pool can be freed.
    this.pending.push(Buffer.from(rest));
    this.pendingBytes += rest.length;
  }

  /** buf[start, nl) is one line without its "\n". */
  private line(buf: Buffer, start: number, nl: number, emit: (e: FrameEvent) => boolean | void): boolean | void {
    const end = nl > start && buf[nl - 1] === CR ? nl - 1 : nl;
    // A UTF-8 byte order mark before a record is not part of the JSON (JSON.parse refuses it).
    if (end - start >= 3 && buf[start] === 0xef && buf[start + 1] === 0xbb && buf[start + 2] === 0xbf) start += 3;
    if (end === start) return emit({ kind: 'keep-alive' });
    const bytes = nl - start + 1;
    if (bytes > this.maxLineBytes) {
      return emit({ kind: 'malformed', text: buf.toString('utf8', start, Math.min(end, start + SNIPPET)), reason: `line longer than ${this.maxLineBytes} bytes`, bytes });
    }
    const text = buf.toString('utf8', start, end);
    let value: unknown;
    try {
      value = parseJson(text);
    } catch (err) {
      return emit({ kind: 'malformed', text: text.length > SNIPPET ? `${text.slice(0, SNIPPET)}…` : text, reason: (err as Error).message, bytes });
    }
    return emit({ kind: 'record', value, bytes });
  }
}
