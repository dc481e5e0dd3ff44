// buffer.memory, as the Java client's BufferPool counts it: every record held
// (queued, in flight or waiting for its topic's metadata) takes its bytes
// until it settles. A record that finds no room waits up to max.block.ms,
// first come first served. Node-RED cannot block the sender of a msg as
// Java's send() blocks a thread, so the line itself is bounded: once it is
// full, records are refused at once instead of piling up in memory.

import type { Clock } from '../../common/clock';
import { bufferExhausted } from '../errors';

interface Waiter {
  bytes: number;
  grant(): void;
  reject(err: Error): void;
  timer: unknown;
  /** when it joined the line */
  since: number;
}

export class BufferPool {
  private held = 0;
  private readonly waiters: Waiter[] = [];
  private waitingBytes = 0;
  /**
   * Set when a record found the line full, cleared when someone leaves it:
   * until then every allocation is refused, so `refusing` can say so before
   * the caller builds the record.
   */
  private lineFull = false;

  constructor(
    readonly totalBytes: number,
    private readonly maxBlockMs: number,
    private readonly clock: Clock,
  ) {}

  get heldBytes(): number {
    return this.held;
  }

  get availableBytes(): number {
    return this.totalBytes - this.held;
  }

  /** Someone waits for room: batches should go out now rather than linger (Java: exhausted). */
  get exhausted(): boolean {
    return this.waiters.length > 0;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  /** When the first in the line for room joined it (Infinity: nobody waits). */
  get oldestWaitSince(): number {
    return this.waiters.length ? this.waiters[0].since : Infinity;
  }

  /** True while an allocation would be refused at once: the caller can refuse before building the record. */
  get refusing(): boolean {
    return this.waiters.length > 0 && (this.lineFull || this.waitingBytes >= this.waitingRoom);
  }

  /** Bytes that may wait for room at once: an eighth of buffer.memory, at least 1 MiB (or all of it when smaller). */
  private get waitingRoom(): number {
    return Math.min(this.totalBytes, Math.max(1 << 20, Math.floor(this.totalBytes / 8)));
  }

  /**
   * Takes `bytes`: grant() at once when there is room and nobody waits,
   * later when room is freed, or reject() with a BufferExhaustedError after
   * max.block.ms or at once when the line is full.
   */
  allocate(bytes: number, grant: () => void, reject: (err: Error) => void): void {
    if (this.waiters.length === 0 && this.held + bytes <= this.totalBytes) {
      this.held += bytes;
      grant();
      return;
    }
    if ((this.lineFull && this.waiters.length > 0) || this.waitingBytes + bytes > this.waitingRoom) {
      if (this.waiters.length > 0) this.lineFull = true;
      reject(
        bufferExhausted(
          `buffer.memory (${this.totalBytes} bytes) is full and ${this.waitingBytes} bytes already wait for room: ` +
            'the broker is not keeping up or cannot be reached',
        ),
      );
      return;
    }
    this.waitingBytes += bytes;
    const waiter: Waiter = { bytes, grant, reject, timer: undefined, since: this.clock.now() };
    waiter.timer = this.clock.setTimeout(() => {
      const i = this.waiters.indexOf(waiter);
      if (i >= 0) this.waiters.splice(i, 1);
      this.leaveLine(waiter);
      reject(
        bufferExhausted(
          `Failed to allocate ${bytes} bytes within the configured max blocking time ${this.maxBlockMs} ms: ` +
            `buffer.memory (${this.totalBytes} bytes) is full, ${this.held} bytes are waiting to be sent`,
        ),
      );
      this.grantWaiters();
    }, this.maxBlockMs);
    this.waiters.push(waiter);
  }

  release(bytes: number): void {
    this.held -= bytes;
    this.grantWaiters();
  }

  private leaveLine(w: Waiter): void {
    this.waitingBytes -= w.bytes;
    this.lineFull = false;
  }

  private grantWaiters(): void {
    while (this.waiters.length && this.held + this.waiters[0].bytes <= this.totalBytes) {
      const w = this.waiters.shift()!;
      this.clock.clearTimeout(w.timer);
      this.leaveLine(w);
      this.held += w.bytes;
      w.grant();
    }
  }

  /** Fails everyone still waiting for room (the producer closes). */
  rejectWaiters(err: Error): void {
    for (const w of this.waiters.splice(0)) {
      this.clock.clearTimeout(w.timer);
      this.leaveLine(w);
      w.reject(err);
    }
  }
}
