// The firehose: posts come into existence at `rate` per second whether or not anyone listens
// (as on X), numbered 0, 1, 2, ... Before the start there are `history` older posts spread over
// the past days (for recent search). With rate Infinity posts come into existence as fast as
// stream clients read them; with rate 0 none do.
import { Timeline } from './timeline';

export class Firehose {
  readonly timeline = new Timeline();
  readonly historyCount: number;
  private _rate: number;
  private baseSeq: number;
  private baseTime: number;

  constructor(opts: { rate: number; history: number; historySpanMs: number; now: number }) {
    const { history, historySpanMs, now } = opts;
    for (let i = 0; i < history; i++) {
      this.timeline.extend(i + 1, now - historySpanMs + Math.floor((i * historySpanMs) / Math.max(1, history)));
    }
    this.historyCount = history;
    this._rate = opts.rate;
    this.baseSeq = history;
    this.baseTime = now;
  }

  /** Posts [0, head) exist. */
  get head(): number {
    return this.timeline.end;
  }

  get rate(): number {
    return this._rate;
  }

  get unlimited(): boolean {
    return this._rate === Infinity;
  }

  /** Brings the posts due by `now` into existence (rate mode). */
  advance(now: number): void {
    if (!(this._rate > 0) || this._rate === Infinity) return;
    const target = this.baseSeq + Math.floor(((now - this.baseTime) * this._rate) / 1000);
    if (target > this.head) this.timeline.extend(target, now);
  }

  /** Unlimited mode: makes sure posts [0, end) exist. */
  demand(end: number, now: number): void {
    if (this._rate === Infinity && end > this.head) this.timeline.extend(end, now);
  }

  /** Creates one post ahead of schedule (borrowed from the schedule: the rate stays the same). */
  forceOne(now: number): void {
    this.timeline.extend(this.head + 1, now);
  }

  setRate(rate: number, now: number): void {
    if (!(rate >= 0)) throw new RangeError(`postsPerSecond must be >= 0 (or Infinity), got ${rate}`);
    this.advance(now);
    this._rate = rate;
    this.baseSeq = this.head;
    this.baseTime = now;
  }
}
