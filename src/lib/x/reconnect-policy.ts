// When to reconnect, after what: X's connection guidelines (and Twitter's hbc client):
//   - an established stream dropped (or stalled, or X ended it): at once, but never more than
//     once per `minReconnectIntervalMs` (1 s) in a row;
//   - network errors before a response: linear, +250 ms per attempt, up to 16 s;
//   - HTTP 5xx and other errors: exponential from 5 s, doubling, up to 320 s;
//   - HTTP 429: exponential from 60 s, doubling (up to 960 s), and not before x-rate-limit-reset
//     (when that lies at most 960 s ahead: X's windows are 15 minutes);
//   - other 4xx (400, 409 RuleConfigurationIssue, ...): as 5xx, but only `maxClientErrorRetries`
//     times in a row, then the caller stops with the reason (a request X refuses rarely turns
//     good by itself);
//   - 401 / 403 / 404 / 406 / 413 / 416 are not retried at all (hbc stops on these too: the
//     credentials, the endpoint or the request itself is wrong).
// Every count starts over once a connection is established. The delays come from the one
// backoff implementation in ../backoff.
import { exponentialBackoff, linearBackoff, type BackoffPolicy } from '../common/backoff';
import { systemClock, type Clock } from '../common/clock';
import { X_RECONNECT_DEFAULTS, type ReconnectSettings } from './reconnect-settings';
import { XApiError, XNetworkError } from './x-client';

export type FailureKind = 'dropped' | 'network' | 'http' | 'rateLimited' | 'clientError';

/** What a failed request or connection is, for the reconnect rules above (statuses: XApiError.retryClass). */
export function failureKindOf(err: unknown): FailureKind | 'fatal' {
  if (err instanceof XApiError) {
    const c = err.retryClass;
    return c === 'server' ? 'http' : c;
  }
  return err instanceof XNetworkError ? 'network' : 'http';
}

export interface ReconnectDecision {
  kind: FailureKind;
  /** Consecutive failures of this kind, this one included. */
  attempt: number;
  delayMs: number;
  /** For 429: the x-rate-limit-reset floor applied (epoch ms), if any. */
  notBefore?: number;
  /** A client error retried `maxClientErrorRetries` times already: stop instead. */
  giveUp?: boolean;
}

export class ReconnectPolicy {
  readonly settings: ReconnectSettings;
  private readonly network: BackoffPolicy;
  private readonly http: BackoffPolicy;
  private readonly rateLimit: BackoffPolicy;
  private readonly counts: Record<FailureKind, number> = { dropped: 0, network: 0, http: 0, rateLimited: 0, clientError: 0 };
  private lastAttemptAt = -Infinity;

  constructor(settings: Partial<ReconnectSettings> = {}, private readonly clock: Clock = systemClock) {
    this.settings = { ...X_RECONNECT_DEFAULTS, ...stripUndefined(settings) };
    const s = this.settings;
    this.network = linearBackoff({ stepMs: s.networkStepMs, maxMs: s.networkMaxMs });
    this.http = exponentialBackoff({ initialMs: s.httpInitialMs, maxMs: s.httpMaxMs });
    this.rateLimit = exponentialBackoff({ initialMs: s.rateLimitInitialMs, maxMs: s.rateLimitMaxMs });
  }

  /** Call when a connection attempt starts. */
  attemptStarted(): void {
    this.lastAttemptAt = this.clock.now();
  }

  /** Call when a connection is established (HTTP 200): every backoff starts over. */
  connected(): void {
    this.counts.dropped = 0;
    this.counts.network = 0;
    this.counts.http = 0;
    this.counts.rateLimited = 0;
    this.counts.clientError = 0;
  }

  /**
   * The wait before the next attempt after a failure of `kind`. For 'rateLimited',
   * `resetAtMs` (x-rate-limit-reset × 1000) is a floor.
   */
  next(kind: FailureKind, opts: { resetAtMs?: number } = {}): ReconnectDecision {
    const attempt = ++this.counts[kind];
    const now = this.clock.now();
    switch (kind) {
      case 'dropped':
        return { kind, attempt, delayMs: Math.max(0, this.lastAttemptAt + this.settings.minReconnectIntervalMs - now) };
      case 'network':
        return { kind, attempt, delayMs: this.network.delay(attempt) };
      case 'http':
        return { kind, attempt, delayMs: this.http.delay(attempt) };
      case 'clientError':
        return attempt > this.settings.maxClientErrorRetries ? { kind, attempt, delayMs: 0, giveUp: true } : { kind, attempt, delayMs: this.http.delay(attempt) };
      case 'rateLimited': {
        let delayMs = this.rateLimit.delay(attempt);
        const floor = opts.resetAtMs;
        // The reset is a floor, but never beyond the longest 429 wait: a reset header days ahead
        // (a proxy's, or a monthly cap's) is asked again after rateLimitMaxMs, not obeyed.
        if (floor !== undefined && Number.isFinite(floor) && floor - now > delayMs) delayMs = Math.min(floor - now, Math.max(delayMs, this.settings.rateLimitMaxMs));
        return { kind, attempt, delayMs, notBefore: floor };
      }
    }
  }

  /**
   * The wait before retrying after `err`, or undefined when the caller must stop: an answer no
   * retry can turn good, or client errors repeated maxClientErrorRetries times.
   */
  afterError(err: unknown): ReconnectDecision | undefined {
    const kind = failureKindOf(err);
    if (kind === 'fatal') return undefined;
    const d = this.next(kind, { resetAtMs: err instanceof XApiError ? err.retryNotBeforeMs : undefined });
    return d.giveUp ? undefined : d;
  }

  /** Consecutive failures of `kind` so far. */
  count(kind: FailureKind): number {
    return this.counts[kind];
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined && Number.isFinite(v as number)) (out as Record<string, unknown>)[k] = v;
  return out;
}
