// Time as the producer sees it; tests pass a manual clock instead of sleeping.
import { boundedDelay } from './timers';

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, boundedDelay(ms));
    // A pending linger or retry timer must not keep a process alive on its own.
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** A clock that only moves when told to, for unit tests. */
export class ManualClock implements Clock {
  private t: number;
  private seq = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();
  constructor(start = 1_000_000) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  /** Moves time forward, firing due timers in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.timers) if (entry[1].at <= end && (!next || entry[1].at < next[1].at)) next = entry;
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = Math.max(this.t, next[1].at);
      next[1].fn();
    }
    this.t = end;
  }
  pending(): number {
    return this.timers.size;
  }
}

/**
 * A clock that runs `scale` times faster than the wall clock from `originMs` on: now() is
 * originMs + (Date.now() − originMs) × scale and a delay of d ms fires after d / scale real ms.
 * For tests and demos that play minutes of X time in seconds; the X emulator given the same
 * scale and origin keeps the same time.
 */
export function scaledClock(scale: number, originMs: number = Date.now()): Clock {
  if (!(scale > 0) || !Number.isFinite(scale)) throw new RangeError(`a clock scale must be a positive number, not ${scale}`);
  if (scale === 1) return systemClock;
  return {
    now: () => originMs + (Date.now() - originMs) * scale,
    setTimeout: (fn, ms) => systemClock.setTimeout(fn, boundedDelay(ms) / scale),
    clearTimeout: (h) => systemClock.clearTimeout(h),
  };
}
