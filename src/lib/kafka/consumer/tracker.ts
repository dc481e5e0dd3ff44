// Which msgs a consumer node has sent and which the flow has finished, per partition, and
// what may be committed: the offset after the last msg of an unbroken run of finished msgs
// from the oldest one sent (Kafka's convention: the committed offset is the next to read).
//
// A partition's msgs belong to one *generation* of it: a new one starts when the partition
// is newly assigned (kafkajs reads it from the committed offset), when the node seeks, or when
// the consumer is restarted. A partition kept through a rebalance keeps its generation (the
// consumer seeks it to after its last msg sent). Finishing a msg of an older generation, or of a partition the node no longer
// owns, changes nothing: it is counted (`late`), never committed.

export interface TopicPartition {
  topic: string;
  partition: number;
}

/** The hidden token a sent msg carries (a plain object: Node-RED's msg cloning keeps it). */
export interface ConsumedToken {
  /** the consumer node's id */
  node: string;
  /** the partition's generation when the msg was sent */
  generation: number;
  topic: string;
  partition: number;
  offset: string;
}

export interface OffsetCommit {
  topic: string;
  partition: number;
  /** the next offset to read: the last finished msg's offset + 1 */
  offset: string;
}

interface Entry {
  offset: string;
  finished: boolean;
}

/**
 * Offsets compared as the int64 numbers they spell (kafkajs gives them in canonical decimal:
 * no sign, no leading zeros), without parsing them.
 */
function offsetCmp(a: string, b: string): number {
  return a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;
}

class PartitionState {
  /** sent msgs not yet in the committable prefix, oldest first */
  readonly entries: Entry[] = [];
  head = 0;
  /**
   * The entries from `head` on by offset, only while their offsets are not increasing (a msg
   * sent out of order, which kafkajs does not do): otherwise an entry is found by a binary search
   * of entries[head..], which costs no hashing per msg.
   */
  byOffset?: Map<string, Entry>;
  unfinished = 0;
  /** the last msg of the unbroken run of finished msgs (the offset to commit is the next one) */
  lastFinished?: string;
  /** the offset last committed (next to read) */
  committed?: string;
  lastSent?: string;
  constructor(readonly generation: number) {}

  get held(): number {
    return this.entries.length - this.head;
  }

  /** The entry of `offset` from `head` on (a sent msg not yet in the committable prefix). */
  find(offset: string): Entry | undefined {
    if (this.byOffset) return this.byOffset.get(offset);
    const entries = this.entries;
    // Msgs mostly finish in the order sent: the oldest first.
    let lo = this.head;
    if (lo < entries.length && entries[lo].offset === offset) return entries[lo];
    let hi = entries.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = offsetCmp(entries[mid].offset, offset);
      if (c === 0) return entries[mid].offset === offset ? entries[mid] : undefined;
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }
}

/** Generations are unique in the process: a token of a previous node instance never matches a new one's. */
let lastGeneration = 0;

export const tpKey = (topic: string, partition: number) => `${partition}:${topic}`;

/**
 * The keys of the partitions msgs are sent from, made once: a key built per msg is a new
 * string to hash for every lookup. Bounded by the partitions this process ever reads.
 */
const sentKeys = new Map<string, string[]>();
function sentKey(topic: string, partition: number): string {
  let keys = sentKeys.get(topic);
  if (keys === undefined) sentKeys.set(topic, (keys = []));
  return (keys[partition] ??= tpKey(topic, partition));
}
/** The key of a finished msg's partition (made anew only for a partition no msg was sent from). */
const finishKey = (topic: string, partition: number): string => sentKeys.get(topic)?.[partition] ?? tpKey(topic, partition);

const LATE: FinishResult = Object.freeze({ outcome: 'late' });
const UNKNOWN: FinishResult = Object.freeze({ outcome: 'unknown' });
const OK: FinishResult = Object.freeze({ outcome: 'ok' });

export interface FinishResult {
  /** 'ok': counted; 'late': of a generation or partition the node no longer has; 'unknown': never sent / twice */
  outcome: 'ok' | 'late' | 'unknown';
}

export class OffsetTracker {
  private readonly parts = new Map<string, PartitionState>();
  /** msgs sent, not finished (all owned partitions) */
  outstanding = 0;
  /** msgs of partitions revoked (or of older generations) that were still in the flow when that happened */
  orphaned = 0;
  /** finishes of such msgs */
  late = 0;

  /** The partitions this node owns now. */
  owned(): TopicPartition[] {
    return [...this.parts.keys()].map((k) => {
      const i = k.indexOf(':');
      return { topic: k.slice(i + 1), partition: Number(k.slice(0, i)) };
    });
  }

  owns(topic: string, partition: number): boolean {
    return this.parts.has(tpKey(topic, partition));
  }

  /**
   * A new assignment. With `keep`, a partition this node owned before and owns again keeps its
   * generation and its msgs in the flow (the consumer reads it on after the last msg sent, as
   * the Java client's cooperative rebalance does, so nothing of it is sent twice); `kept` lists
   * those with the offset to read on from. Otherwise, and for newly assigned partitions, a new
   * generation starts (kafkajs reads it from the committed offset). Partitions not in the
   * assignment are given up: their msgs still in the flow are counted as orphaned.
   */
  assign(partitions: TopicPartition[], keep = false): { revoked: TopicPartition[]; orphaned: number; kept: Array<TopicPartition & { next?: string }> } {
    const next = new Set(partitions.map((p) => tpKey(p.topic, p.partition)));
    const revoked: TopicPartition[] = [];
    const kept: Array<TopicPartition & { next?: string }> = [];
    let orphaned = 0;
    const before = new Map(this.parts);
    for (const [k, s] of before) {
      if (keep && next.has(k)) continue;
      orphaned += s.unfinished;
      if (!next.has(k)) revoked.push(this.tpOf(k));
    }
    this.parts.clear();
    this.outstanding = 0;
    this.orphaned += orphaned;
    for (const p of partitions) {
      const k = tpKey(p.topic, p.partition);
      const old = keep ? before.get(k) : undefined;
      if (old) {
        // Committed again to the (possibly new) coordinator: a commit acknowledged by a coordinator
        // that died may not have reached the group's log.
        old.committed = undefined;
        this.parts.set(k, old);
        this.outstanding += old.unfinished;
        kept.push({ ...p, next: old.lastSent === undefined ? undefined : (BigInt(old.lastSent) + 1n).toString() });
      } else this.parts.set(k, new PartitionState(++lastGeneration));
    }
    return { revoked, orphaned, kept };
  }

  /** Gives every partition up (consumer stopped or restarting). */
  revokeAll(): { revoked: TopicPartition[]; orphaned: number } {
    const { revoked, orphaned } = this.assign([]);
    return { revoked, orphaned };
  }

  /** A new generation for one partition (a seek): what was sent before is no longer tracked. */
  restart(topic: string, partition: number): number {
    const k = tpKey(topic, partition);
    const s = this.parts.get(k);
    if (!s) return 0;
    this.outstanding -= s.unfinished;
    this.orphaned += s.unfinished;
    this.parts.set(k, new PartitionState(++lastGeneration));
    return s.unfinished;
  }

  /** The generation of an owned partition (undefined when not owned). */
  generation(topic: string, partition: number): number | undefined {
    return this.parts.get(tpKey(topic, partition))?.generation;
  }

  /** A msg was sent; returns its token's generation, or undefined when the partition is not owned. */
  sent(topic: string, partition: number, offset: string): number | undefined {
    const s = this.parts.get(sentKey(topic, partition));
    if (!s) return undefined;
    // Offsets stay strings (int64): BigInt only where one is computed, not per msg.
    const entries = s.entries;
    if (!s.byOffset && s.head < entries.length && offsetCmp(offset, entries[entries.length - 1].offset) <= 0) {
      // Not after the newest msg held: sent twice, or out of order (then found by offset from now on).
      if (s.find(offset)) return s.generation; // sent twice in one generation: already tracked
      s.byOffset = new Map();
      for (let i = s.head; i < entries.length; i++) s.byOffset.set(entries[i].offset, entries[i]);
    } else if (s.byOffset?.has(offset)) return s.generation;
    const e: Entry = { offset, finished: false };
    entries.push(e);
    s.byOffset?.set(offset, e);
    s.unfinished++;
    s.lastSent = offset;
    this.outstanding++;
    return s.generation;
  }

  /** A msg was sent and counts as finished at once (commit modes that do not track finishing). */
  sentFinished(topic: string, partition: number, offset: string): number | undefined {
    const g = this.sent(topic, partition, offset);
    if (g !== undefined) this.finish({ topic, partition, offset, generation: g });
    return g;
  }

  finish(token: Pick<ConsumedToken, 'topic' | 'partition' | 'offset' | 'generation'>): FinishResult {
    const s = this.parts.get(finishKey(token.topic, token.partition));
    if (!s || s.generation !== token.generation) {
      this.late++;
      return LATE;
    }
    const e = s.find(String(token.offset));
    if (!e || e.finished) return UNKNOWN;
    e.finished = true;
    s.unfinished--;
    this.outstanding--;
    // Move the committable point over the unbroken run of finished msgs at the front.
    const entries = s.entries;
    while (s.head < entries.length && entries[s.head].finished) {
      const done = entries[s.head++];
      s.byOffset?.delete(done.offset);
      s.lastFinished = done.offset;
    }
    if (s.byOffset && s.head === entries.length) s.byOffset = undefined; // nothing held: in order again
    if (s.head > 1024 && s.head * 2 > entries.length) {
      entries.splice(0, s.head);
      s.head = 0;
    }
    return OK;
  }

  /** msgs held for ordering: unfinished ones and finished ones behind an unfinished one (memory bound). */
  held(): number {
    let n = 0;
    for (const s of this.parts.values()) n += s.held;
    return n;
  }

  /** Offsets to commit now: owned partitions whose finished point moved past the last commit. */
  committable(): OffsetCommit[] {
    const out: OffsetCommit[] = [];
    for (const [k, s] of this.parts) {
      if (s.lastFinished === undefined) continue;
      const next = (BigInt(s.lastFinished) + 1n).toString();
      if (next !== s.committed) out.push({ ...this.tpOf(k), offset: next });
    }
    return out;
  }

  /** Records a commit that succeeded (ignored when the partition changed generation since). */
  committed(commits: OffsetCommit[], generations: Map<string, number>): void {
    for (const c of commits) {
      const k = tpKey(c.topic, c.partition);
      const s = this.parts.get(k);
      if (s && generations.get(k) === s.generation) s.committed = c.offset;
    }
  }

  /** The generations of the partitions of `commits` now (to pass back to committed()). */
  generationsOf(commits: OffsetCommit[]): Map<string, number> {
    const m = new Map<string, number>();
    for (const c of commits) {
      const g = this.generation(c.topic, c.partition);
      if (g !== undefined) m.set(tpKey(c.topic, c.partition), g);
    }
    return m;
  }

  /** The next offset to read of an owned partition, as far as this node knows (last sent + 1). */
  position(topic: string, partition: number): bigint | undefined {
    const s = this.parts.get(tpKey(topic, partition));
    return s?.lastSent !== undefined ? BigInt(s.lastSent) + 1n : undefined;
  }

  private tpOf(k: string): TopicPartition {
    const i = k.indexOf(':');
    return { topic: k.slice(i + 1), partition: Number(k.slice(0, i)) };
  }
}
