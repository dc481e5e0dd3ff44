// x-rate-limit-reset, read with suspicion. X documents it as a Unix timestamp in SECONDS
// ("x-rate-limit-reset: 1705420800", docs.x.com fundamentals/rate-limits). Its windows are
// "typically 15 minutes or 24 hours" (docs.x.com x-api/fundamentals/rate-limits): no reset X
// sends honestly lies further ahead than a day. A proxy or a broken clock can send anything,
// and the value becomes a "do not retry before" floor, so:
// - a value that is clearly milliseconds (> 1e12: seconds that large are the year 33658) is
//   taken as milliseconds;
// - a reset in the past means "now" (no floor);
// - a reset more than the longest window (+ a margin for clock skew) ahead is capped there, with
//   a note for the log: a retry a day later is long, but a retry 40 days later is an outage;
// - anything not a positive number is no reset at all.

/** X's longest documented rate-limit window (daily caps). */
export const MAX_RATE_LIMIT_WINDOW_MS = 24 * 60 * 60 * 1000;
/** Clock skew between us and X we tolerate before capping. */
export const RATE_LIMIT_RESET_MARGIN_MS = 60 * 1000;
/** Above this the header is milliseconds, not seconds. */
const MS_THRESHOLD = 1e12;

export interface RateLimitReset {
  /** When the window resets, epoch ms; undefined when the header is absent or unusable. */
  atMs?: number;
  /** What was done to the value, for the log (taken as ms, in the past, capped). */
  note?: string;
}

/** x-rate-limit-reset (a header value, or its first value when repeated) as epoch ms. */
export function parseRateLimitReset(headerValue: string | string[] | number | undefined, nowMs: number): RateLimitReset {
  const raw = Array.isArray(headerValue) ? headerValue[0] : headerValue;
  if (raw === undefined) return {};
  const text = typeof raw === 'number' ? String(raw) : raw.trim();
  if (!/^\d+(\.\d+)?$/.test(text)) return text === '' ? {} : { note: `x-rate-limit-reset "${text.slice(0, 40)}" is not a number; ignored` };
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) return {};
  let atMs: number;
  let note: string | undefined;
  if (value > MS_THRESHOLD) {
    atMs = Math.round(value);
    note = 'x-rate-limit-reset looks like milliseconds; taken as such';
  } else {
    atMs = Math.round(value * 1000);
  }
  if (atMs <= nowMs) return { atMs: nowMs, note: note ?? `x-rate-limit-reset is ${Math.round((nowMs - atMs) / 1000)} s in the past; retrying now` };
  if (atMs - nowMs > MAX_RATE_LIMIT_WINDOW_MS + RATE_LIMIT_RESET_MARGIN_MS) {
    const days = (atMs - nowMs) / 86_400_000;
    return { atMs: nowMs + MAX_RATE_LIMIT_WINDOW_MS, note: `x-rate-limit-reset is ${days >= 2 ? `${Math.round(days)} days` : `${Math.round(days * 24)} h`} ahead; capped at 24 h (X's longest window)` };
  }
  return note === undefined ? { atMs } : { atMs, note };
}
