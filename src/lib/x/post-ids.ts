// Post ids as X makes them: decimal strings of a 64-bit "snowflake" whose top bits are the
// creation time in ms since Twitter's epoch (2010-11-04T01:42:54.657Z). Ids made later compare
// greater, so the newest id delivered marks where a gap begins, and recent search can resume
// from it exactly (since_id).

const TWITTER_EPOCH_MS = 1288834974657n;
const DIGITS = /^[0-9]{1,19}$/;

export function isPostId(id: unknown): id is string {
  return typeof id === 'string' && DIGITS.test(id);
}

/** Numeric order of two decimal ids (no leading zeros): negative, 0 or positive. */
export function compareIds(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The creation time (epoch ms) in a post id, or undefined for an id that is not a snowflake. */
export function snowflakeTimeMs(id: string): number | undefined {
  if (!isPostId(id)) return undefined;
  const ms = Number((BigInt(id) >> 22n) + TWITTER_EPOCH_MS);
  return ms > Number(TWITTER_EPOCH_MS) ? ms : undefined;
}

/** The smallest id a post created at `ms` can have (for comparisons against a time). */
export function firstIdAt(ms: number): string {
  return ((BigInt(Math.max(0, Math.floor(ms))) - TWITTER_EPOCH_MS) << 22n).toString();
}
