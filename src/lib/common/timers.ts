// Node turns any timer delay above 2^31-1 ms (24.8 days) into 1 ms: a retry
// meant for next month would fire at once, again and again. Every delay goes
// through here.

/** The largest delay setTimeout honours. */
export const MAX_TIMER_DELAY_MS = 0x7fffffff;

/** A delay setTimeout can take: 0 for NaN or negative, at most MAX_TIMER_DELAY_MS. */
export function boundedDelay(ms: number): number {
  if (!(ms > 0)) return 0;
  return Math.min(MAX_TIMER_DELAY_MS, Math.ceil(ms));
}
