// De-duplication by post id over a window of the last N ids seen: X may send a post twice
// (around reconnects) and backfill_minutes replays posts already received.

export class IdWindow {
  private readonly ring: Array<string | undefined>;
  private readonly set = new Set<string>();
  private next = 0;
  /** Posts recognised as repeats. */
  duplicates = 0;

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`de-duplication window must be a whole number >= 1, not ${size}`);
    this.ring = new Array(size);
  }

  /** true the first time an id is seen within the window; false (a duplicate) after. */
  firstSeen(id: string): boolean {
    if (this.set.has(id)) {
      this.duplicates++;
      return false;
    }
    const old = this.ring[this.next];
    if (old !== undefined) this.set.delete(old);
    this.ring[this.next] = id;
    this.next = (this.next + 1) % this.size;
    this.set.add(id);
    return true;
  }

  get length(): number {
    return this.set.size;
  }
}
