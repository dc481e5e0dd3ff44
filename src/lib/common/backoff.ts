// The one backoff implementation: every retry and reconnect delay comes from here.

export interface BackoffPolicy {
  /** delay before attempt number `attempt` (1 = first retry) */
  delay(attempt: number): number;
}

export interface ExponentialOptions {
  initialMs: number;
  maxMs: number;
  multiplier?: number;
  /** ± fraction of random spread, as the Java client's 0.2 */
  jitter?: number;
  random?: () => number;
}

/** initial × multiplier^(attempt-1), capped at max, with ± jitter (Java's retry.backoff.ms / .max.ms). */
export function exponentialBackoff(o: ExponentialOptions): BackoffPolicy {
  const multiplier = o.multiplier ?? 2;
  const jitter = o.jitter ?? 0;
  const random = o.random ?? Math.random;
  return {
    delay(attempt: number): number {
      const n = Math.max(1, attempt);
      const raw = Math.min(o.maxMs, o.initialMs * Math.pow(multiplier, n - 1));
      if (!jitter) return raw;
      const spread = raw * jitter * (2 * random() - 1);
      return Math.max(0, Math.min(o.maxMs, Math.round(raw + spread)));
    },
  };
}

export interface LinearOptions {
  stepMs: number;
  maxMs: number;
}

/** step × attempt, capped at max (X's rule for network errors: +250 ms up to 16 s). */
export function linearBackoff(o: LinearOptions): BackoffPolicy {
  return { delay: (attempt: number) => Math.min(o.maxMs, o.stepMs * Math.max(1, attempt)) };
}
