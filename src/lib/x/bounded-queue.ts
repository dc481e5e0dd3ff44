// A bounded FIFO between the stream and the flow (as hbc's message queue): a push beyond the
// capacity is refused and counted as a drop. A ring buffer: push and shift are O(1).

export class BoundedQueue<T> {
  private items: Array<T | undefined>;
  private head = 0;
  private count = 0;
  /** Items refused because the queue was full. */
  dropped = 0;
  /** Highest length seen. */
  highWater = 0;
  private waiters: Array<{ room: number; resolve: () => void }> = [];

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`queue capacity must be a whole number >= 1, not ${capacity}`);
    this.items = new Array(capacity);
  }

  get length(): number {
    return this.count;
  }

  /** Adds an item; false (and one more drop) when full. */
  push(item: T): boolean {
    if (this.count === this.capacity) {
      this.dropped++;
      return false;
    }
    this.items[(this.head + this.count) % this.capacity] = item;
    this.count++;
    if (this.count > this.highWater) this.highWater = this.count;
    return true;
  }

  /** The oldest item, or undefined when empty. */
  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.count--;
    if (this.waiters.length) this.wake();
    return item;
  }

  /** Empties the queue; returns how many items it held. */
  clear(): number {
    const n = this.count;
    this.items = new Array(this.capacity);
    this.head = 0;
    this.count = 0;
    this.wake();
    return n;
  }

  /** Resolves once `room` items fit (at once if they do now). */
  whenRoom(room: number): Promise<void> {
    const want = Math.min(Math.max(1, room), this.capacity);
    if (this.capacity - this.count >= want) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ room: want, resolve }));
  }

  private wake(): void {
    const free = this.capacity - this.count;
    const still: typeof this.waiters = [];
    for (const w of this.waiters) {
      if (free >= w.room) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }
}
