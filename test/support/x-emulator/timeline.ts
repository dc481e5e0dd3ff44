// Post ids for the emulator: snowflake-like, increasing with time and unique.
//
// An id is (ms - TWEPOCH) << 22 | offset, where ms is the millisecond the emulator created the
// post and offset counts the posts created in that same millisecond. (A real snowflake splits the
// low 22 bits into datacenter, worker and sequence; here all 22 bits are the sequence, so one
// millisecond can hold 4,194,304 posts and ids never collide.) Posts are numbered by `seq`
// (0, 1, 2, ... in creation order); the Timeline remembers, for runs of consecutive seqs, the
// millisecond they were created in, so id <-> seq conversions are exact and cheap, and any post
// can be regenerated later from its seq.

/** Twitter's snowflake epoch (2010-11-04T01:42:54.657Z). */
export const TWEPOCH = 1288834974657;
const SHIFT = 4194304; // 2^22
const SHIFT_BIG = 22n;
const MAX_OFFSET = SHIFT - 1;

/** The creation time (epoch ms) encoded in a snowflake id. */
export function snowflakeTime(id: string | bigint): number {
  const big = typeof id === 'bigint' ? id : BigInt(id);
  return Number(big >> SHIFT_BIG) + TWEPOCH;
}

/** The smallest snowflake id of a given epoch millisecond. */
export function snowflakeAt(ms: number): bigint {
  return BigInt(ms - TWEPOCH) << SHIFT_BIG;
}

interface EntryText {
  prefix: string; // decimal digits of base, all but the last 7
  low: number; // last 7 digits of base as a number
  base: bigint;
}

export class Timeline {
  private firstSeq: Float64Array = new Float64Array(4096);
  private ms: Float64Array = new Float64Array(4096);
  private n = 0;
  private texts = new Map<number, EntryText>(); // entry index -> cached decimal parts (small LRU-ish)
  /** Number of seqs that exist (posts [0, end) have ids). */
  end = 0;

  get entries(): number {
    return this.n;
  }

  /** The creation ms of the newest entry, or -Infinity. */
  get lastMs(): number {
    return this.n ? this.ms[this.n - 1] : -Infinity;
  }

  /**
   * Declares posts [this.end, newEnd) created at `ms`. Times never go backwards: an `ms` at or
   * before the last entry's is taken as the last entry's (the run continues), or the next
   * millisecond when that run is full.
   */
  extend(newEnd: number, ms: number): void {
    if (newEnd <= this.end) return;
    ms = Math.floor(ms);
    if (this.n > 0 && ms <= this.ms[this.n - 1]) {
      const last = this.n - 1;
      if (newEnd - 1 - this.firstSeq[last] <= MAX_OFFSET) {
        this.end = newEnd;
        return;
      }
      ms = this.ms[last] + 1;
    }
    // A run holds at most 2^22 posts; split larger extensions over following milliseconds.
    let start = this.end;
    while (start < newEnd) {
      this.push(start, ms);
      start = Math.min(newEnd, start + SHIFT);
      ms += 1;
    }
    this.end = newEnd;
  }

  private push(firstSeq: number, ms: number): void {
    if (this.n === this.firstSeq.length) {
      const grow = (a: Float64Array): Float64Array => {
        const b = new Float64Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.firstSeq = grow(this.firstSeq);
      this.ms = grow(this.ms);
    }
    this.firstSeq[this.n] = firstSeq;
    this.ms[this.n] = ms;
    this.n++;
  }

  /** Index of the entry holding `seq` (which must be < end). */
  entryOf(seq: number): number {
    let lo = 0;
    let hi = this.n - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.firstSeq[mid] <= seq) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  entryFirstSeq(entry: number): number {
    return this.firstSeq[entry];
  }

  entryMs(entry: number): number {
    return this.ms[entry];
  }

  /** First seq after entry `entry` (end for the last). */
  entryEndSeq(entry: number): number {
    return entry + 1 < this.n ? this.firstSeq[entry + 1] : this.end;
  }

  msOf(seq: number): number {
    return this.ms[this.entryOf(seq)];
  }

  idBigOf(seq: number): bigint {
    const e = this.entryOf(seq);
    return this.baseOf(e) + BigInt(seq - this.firstSeq[e]);
  }

  baseOf(entry: number): bigint {
    return this.textOf(entry).base;
  }

  private textOf(entry: number): EntryText {
    let t = this.texts.get(entry);
    if (!t) {
      const base = BigInt(this.ms[entry] - TWEPOCH) << SHIFT_BIG;
      const s = base.toString();
      t = { base, prefix: s.slice(0, -7), low: Number(s.slice(-7)) };
      if (this.texts.size > 64) this.texts.clear();
      this.texts.set(entry, t);
    }
    return t;
  }

  /** The id (decimal string) of post `seq`, given the entry that holds it. */
  idIn(entry: number, seq: number): string {
    const t = this.textOf(entry);
    const v = t.low + (seq - this.firstSeq[entry]);
    if (v < 10_000_000) return t.prefix + (v + 10_000_000).toString().slice(1);
    return (t.base + BigInt(seq - this.firstSeq[entry])).toString();
  }

  idOf(seq: number): string {
    return this.idIn(this.entryOf(seq), seq);
  }

  /** The seq whose id is exactly `id`, or -1. */
  seqOfId(id: string | bigint): number {
    let big: bigint;
    try {
      big = typeof id === 'bigint' ? id : BigInt(id);
    } catch {
      return -1;
    }
    const seq = this.seqAfterId(big - 1n);
    return seq < this.end && this.idBigOf(seq) === big ? seq : -1;
  }

  /** The smallest seq whose id is greater than `id` (end when none). */
  seqAfterId(id: bigint): number {
    if (this.n === 0) return this.end;
    // Last entry whose base <= id.
    let lo = 0;
    let hi = this.n - 1;
    if (this.baseOf(0) > id) return 0;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.baseOfCheap(mid) <= id) lo = mid;
      else hi = mid - 1;
    }
    const first = this.firstSeq[lo];
    const count = this.entryEndSeq(lo) - first;
    const off = id - this.baseOfCheap(lo); // >= 0
    if (off >= BigInt(count)) return first + count;
    return first + Number(off) + 1;
  }

  /** base without touching the cache (binary searches visit many entries). */
  private baseOfCheap(entry: number): bigint {
    return BigInt(this.ms[entry] - TWEPOCH) << SHIFT_BIG;
  }

  /** The smallest seq created at or after `ms` (end when none). */
  seqAtOrAfterMs(ms: number): number {
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ms[mid] < ms) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.n ? this.firstSeq[lo] : this.end;
  }
}
