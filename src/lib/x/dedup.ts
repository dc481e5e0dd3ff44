// De-duplication by post id. X may send a post twice around reconnects, and every gap recovery
// (backfill_minutes, Recovery, recent search) reads posts again on purpose: a post reaches the
// flow once.
//   - IdWindow: the last N ids delivered (N = the node's de-duplication setting).
//   - GapFilter: one gap's bounds. A replayed post is new only if it is newer than the newest id
//     delivered before the gap (`afterId`), older than the first post of the new connection
//     (`beforeId`), not in the window, and not already recovered for this gap. The set of
//     recovered ids is bounded by the gap itself.
import { compareIds } from './post-ids';

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
    this.add(id);
    return true;
  }

  has(id: string): boolean {
    return this.set.has(id);
  }

  add(id: string): void {
    const old = this.ring[this.next];
    if (old !== undefined) this.set.delete(old);
    this.ring[this.next] = id;
    this.next = (this.next + 1) % this.size;
    this.set.add(id);
  }

  get length(): number {
    return this.set.size;
  }
}

export class GapFilter {
  private readonly recovered = new Set<string>();
  /** The first post the new connection delivered: it and every later one came live. */
  beforeId?: string;
  constructor(readonly afterId: string | undefined) {}

  /** true when `id` was not delivered before the gap, nor live after it, nor already recovered for it. */
  isNew(id: string, window?: IdWindow): boolean {
    if (this.afterId !== undefined && compareIds(id, this.afterId) <= 0) return false;
    if (this.beforeId !== undefined && compareIds(id, this.beforeId) >= 0) return false;
    if (window?.has(id) || this.recovered.has(id)) return false;
    this.recovered.add(id);
    return true;
  }

  get count(): number {
    return this.recovered.size;
  }
}
