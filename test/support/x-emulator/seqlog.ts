// A set of post seqs kept as sorted runs [start, end): a stream that emits consecutive posts
// costs one run, so recording millions of posts costs almost nothing.
export class SeqLog {
  private runs: Float64Array = new Float64Array(64); // start0, end0, start1, end1, ...
  private n = 0; // runs
  count = 0;

  /** Appends seqs in increasing order (each greater than every seq already logged). */
  add(seq: number): void {
    if (this.n > 0 && this.runs[2 * this.n - 1] === seq) {
      this.runs[2 * this.n - 1] = seq + 1;
    } else {
      if (2 * this.n + 2 > this.runs.length) {
        const bigger = new Float64Array(this.runs.length * 2);
        bigger.set(this.runs);
        this.runs = bigger;
      }
      this.runs[2 * this.n] = seq;
      this.runs[2 * this.n + 1] = seq + 1;
      this.n++;
    }
    this.count++;
  }

  addAll(seqs: readonly number[]): void {
    for (let i = 0; i < seqs.length; i++) this.add(seqs[i]);
  }

  has(seq: number): boolean {
    let lo = 0;
    let hi = this.n - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (seq < this.runs[2 * mid]) hi = mid - 1;
      else if (seq >= this.runs[2 * mid + 1]) lo = mid + 1;
      else return true;
    }
    return false;
  }

  /** The runs, as [start, end) pairs. */
  ranges(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let i = 0; i < this.n; i++) out.push([this.runs[2 * i], this.runs[2 * i + 1]]);
    return out;
  }

  *[Symbol.iterator](): IterableIterator<number> {
    for (let i = 0; i < this.n; i++) {
      for (let s = this.runs[2 * i]; s < this.runs[2 * i + 1]; s++) yield s;
    }
  }

  get first(): number | undefined {
    return this.n ? this.runs[0] : undefined;
  }

  get last(): number | undefined {
    return this.n ? this.runs[2 * this.n - 1] - 1 : undefined;
  }
}
