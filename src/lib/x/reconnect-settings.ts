// The reconnect settings of an X stream node and their defaults (X's connection guidelines; the
// rules that use them are in reconnect-policy.ts). Apart from the policy so that the settings can
// be checked in the editor too: this file is browser-safe (bundled by scripts/editor-bundle.js).

export interface ReconnectSettings {
  minReconnectIntervalMs: number;
  networkStepMs: number;
  networkMaxMs: number;
  httpInitialMs: number;
  httpMaxMs: number;
  rateLimitInitialMs: number;
  rateLimitMaxMs: number;
  /** Other 4xx answers are retried this many times in a row, then the source stops. */
  maxClientErrorRetries: number;
}

export const X_RECONNECT_DEFAULTS: Readonly<ReconnectSettings> = Object.freeze({
  minReconnectIntervalMs: 1000,
  networkStepMs: 250,
  networkMaxMs: 16_000,
  httpInitialMs: 5000,
  httpMaxMs: 320_000,
  rateLimitInitialMs: 60_000,
  rateLimitMaxMs: 960_000,
  maxClientErrorRetries: 3,
});

/** Every reconnect setting is a whole number of ms (a count for maxClientErrorRetries) in this range. */
export const X_RECONNECT_RANGE: readonly [number, number] = [0, 86_400_000];
