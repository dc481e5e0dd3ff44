// What each X API access level allows a stream node to do, as X documents it in 2026, and the
// checks the editor and the runtime make against it before anything is sent to X. Plain data and
// functions, browser-safe: the editors use this very file (bundled by scripts/editor-bundle.js
// through src/lib/editor/x.ts), so these figures and rules exist in one place only.
//
// Sources (X's documentation repository, github.com/xdevplatform/docs, as published in 2026;
// the pages are at docs.x.com under the same paths):
//   [FS]  x-api/posts/filtered-stream/introduction.mdx — "Access levels" table: pay-per-use
//         1,000 rules of up to 1,024 characters and 1 connection; Enterprise 25,000+ rules of up to
//         2,048 characters and several connections. Also: a keep-alive blank line every 20 s.
//   [RL]  x-api/fundamentals/rate-limits.mdx — per-app figures of the self-serve (pay-per-use)
//         tables: stream connects 50 / 15 min, rules GET 450 / 15 min, rules POST 100 / 15 min,
//         recent search 450 / 15 min with queries up to 512 characters; Enterprise limits are set
//         per contract ("custom").
//   [RL25] the same page as it stood in Dec 2025 (commit 7c59f7be), with its Pro / Basic / Free
//         columns, the figures the legacy Basic and Pro plans still run on: Pro has the same
//         stream and rules figures as pay-per-use; Basic has no filtered stream (no stream or rules
//         endpoint at all) and 60 recent-search requests / 15 min.
//   [AX25] x-api/getting-started/about-x-api.mdx of Dec 2025: filtered stream on Pro and
//         Enterprise, not on Free or Basic.
//   [FS25] x-api/posts/filtered-stream/introduction.mdx of Dec 2025: Pro 1,000 rules of up to
//         1,024 characters, 100 rule POSTs / 15 min.
//   [SR]  x-api/posts/search/introduction.mdx — recent search covers the last 7 days; queries of
//         512 characters (4,096 with Enterprise). The OpenAPI spec (xdevplatform/xdk,
//         latest-openapi.json, v2.159) caps `query` at 4,096 and points at the access-level figure.
//   [RR]  x-api/fundamentals/recovery-and-redundancy.mdx — backfill_minutes for gaps of 5 minutes
//         or less, Recovery (start_time/end_time on the stream request) up to 24 hours back, both
//         Enterprise only; up to 2 redundant filtered-stream connections, Enterprise only;
//         otherwise fill gaps with search. The OpenAPI spec bounds backfill_minutes to 0..5.
//   [VS]  x-api/posts/volume-streams/introduction.mdx — the 1% sample (and 10%) streams need an
//         Enterprise agreement.
//   [PR]  x-api/getting-started/pricing.mdx — pay-per-use bills every post read ($0.005 each in
//         2026), counted once per post per UTC day (a soft guarantee), at most 3 million post reads
//         a month.
//   [HD]  x-api/fundamentals/handling-disconnections.mdx — the 20-second keep-alive heartbeat.

import { msg, type StatusMessage } from '../common/status-message';

export type XAccessLevel = 'pay-per-use' | 'basic' | 'pro' | 'enterprise';

/** Ways of filling the gap a disconnect leaves (same names as gap-recovery.ts's RecoveryMeans). */
export type XRecoveryMeans = 'backfill' | 'recovery' | 'search';

export type XStreamMode = 'filtered' | 'sample' | 'search';

export interface XAccessLimits {
  /** The level's name as X writes it (English; the editor translates it). */
  readonly label: string;
  /** GET /2/tweets/search/stream and its rules endpoints are open to this level. */
  readonly filteredStream: boolean;
  /** Concurrent filtered-stream connections per app (0: no filtered stream). */
  readonly connections: number;
  /** Filtered-stream rules per project (0: no filtered stream). */
  readonly maxRules: number;
  /** maxRules is X's published minimum and the contract may allow more (Enterprise: "25,000+"). */
  readonly maxRulesByContract: boolean;
  /** Characters per rule (0: no filtered stream). */
  readonly maxRuleLength: number;
  /** POST /2/tweets/search/stream/rules per 15 min per app; null: set by contract. */
  readonly rulesPostPer15Min: number | null;
  /** GET /2/tweets/search/stream/rules per 15 min per app; null: set by contract. */
  readonly rulesGetPer15Min: number | null;
  /** Connection requests to the filtered stream per 15 min per app; null: set by contract. */
  readonly connectsPer15Min: number | null;
  /** GET /2/tweets/search/recent per 15 min per app (bearer token); null: set by contract. */
  readonly searchPer15Min: number | null;
  /** Characters per recent-search query. */
  readonly searchQueryLength: number;
  /** GET /2/tweets/sample/stream (the 1% sample). */
  readonly sampleStream: boolean;
  /** backfill_minutes (1-5) on a stream reconnect. */
  readonly backfill: boolean;
  /** Recovery: start_time/end_time on the stream request, up to 24 h back. */
  readonly recovery: boolean;
  /** GET /2/tweets/search/recent (last 7 days). */
  readonly recentSearch: boolean;
  /** Every post read is billed (pay-per-use credits). */
  readonly billedPerPost: boolean;
}

export const ACCESS_LEVELS: readonly XAccessLevel[] = Object.freeze(['pay-per-use', 'basic', 'pro', 'enterprise'] as XAccessLevel[]);

/** New apps since Feb 2026 are pay-per-use (changelog.mdx, 6 Feb 2026): the default. */
export const DEFAULT_ACCESS_LEVEL: XAccessLevel = 'pay-per-use';

export const X_ACCESS: Readonly<Record<XAccessLevel, XAccessLimits>> = Object.freeze({
  'pay-per-use': Object.freeze({
    label: 'Pay-per-use',
    filteredStream: true,
    connections: 1, // [FS] [RL]
    maxRules: 1000, // [FS] [RL]
    maxRulesByContract: false,
    maxRuleLength: 1024, // [FS] [RL]
    rulesPostPer15Min: 100, // [RL]
    rulesGetPer15Min: 450, // [RL]
    connectsPer15Min: 50, // [RL]
    searchPer15Min: 450, // [RL]
    searchQueryLength: 512, // [RL] [SR]
    sampleStream: false, // [VS]
    backfill: false, // [RR]
    recovery: false, // [RR]
    recentSearch: true, // [SR]
    billedPerPost: true, // [PR]
  }),
  basic: Object.freeze({
    label: 'Basic',
    filteredStream: false, // [AX25] [RL25]
    connections: 0,
    maxRules: 0,
    maxRulesByContract: false,
    maxRuleLength: 0,
    rulesPostPer15Min: 0, // [RL25]: not available
    rulesGetPer15Min: 0, // [RL25]: not available
    connectsPer15Min: 0, // [RL25]: not available
    searchPer15Min: 60, // [RL25]
    searchQueryLength: 512, // [SR]: every level but Enterprise
    sampleStream: false, // [VS]
    backfill: false, // [RR]
    recovery: false, // [RR]
    recentSearch: true, // [RL25]
    billedPerPost: false, // a monthly subscription with a post cap, not per read
  }),
  pro: Object.freeze({
    label: 'Pro',
    filteredStream: true, // [AX25]
    connections: 1, // [RR]: redundant connections are Enterprise only
    maxRules: 1000, // [FS25]
    maxRulesByContract: false,
    maxRuleLength: 1024, // [FS25]
    rulesPostPer15Min: 100, // [FS25] [RL25]
    rulesGetPer15Min: 450, // [RL25]
    connectsPer15Min: 50, // [RL25]
    searchPer15Min: 450, // [RL25]
    searchQueryLength: 512, // [SR]
    sampleStream: false, // [VS]
    backfill: false, // [RR]
    recovery: false, // [RR]
    recentSearch: true, // [RL25]
    billedPerPost: false, // a monthly subscription with a post cap, not per read
  }),
  enterprise: Object.freeze({
    label: 'Enterprise',
    filteredStream: true,
    connections: 2, // [RR]: up to two redundant connections
    maxRules: 25000, // [FS]: "25,000+"
    maxRulesByContract: true,
    maxRuleLength: 2048, // [FS]
    rulesPostPer15Min: null, // [RL]: custom, per contract
    rulesGetPer15Min: null,
    connectsPer15Min: null,
    searchPer15Min: null,
    searchQueryLength: 4096, // [SR]
    sampleStream: true, // [VS]
    backfill: true, // [RR]
    recovery: true, // [RR]
    recentSearch: true,
    billedPerPost: false, // per contract
  }),
});

/** How far back each gap-recovery means reaches ([RR] backfill 5 min and Recovery 24 h; [SR] 7 days). */
export const RECOVERY_REACH_MS: Readonly<Record<XRecoveryMeans, number>> = Object.freeze({
  backfill: 5 * 60_000,
  recovery: 24 * 3600_000,
  search: 7 * 86400_000,
});

/** X's backfill_minutes upper bound ([RR]; the OpenAPI spec: 0..5). */
export const MAX_BACKFILL_MINUTES = 5;

/**
 * X sends a keep-alive (a bare \r\n) at least this often on every stream ([FS] [HD]: every 20 s).
 */
export const X_STREAM_KEEPALIVE_MS = 20_000;

/**
 * How long a stream may stay silent (no post, no keep-alive) before it is treated as stalled,
 * dropped and reconnected: 90 s, four and a half keep-alive intervals.
 *
 * - X's current guide [HD] says to reconnect after 20 s without data, i.e. on the first late
 *   heartbeat. That leaves no margin: a keep-alive delayed by a busy proxy, a congested link or a
 *   long GC pause here costs a reconnect (one of 50 connects per 15 min), and with gap recovery on,
 *   a re-read of the gap (billed per post on pay-per-use). A stall is rare; a late heartbeat is not.
 * - Twitter's streaming guide for the v1.1 streams (dev.twitter.com/streaming/overview/connecting,
 *   "Stalls"; first given by Twitter's streaming engineer on twitter-development-talk, Feb 2010)
 *   advised a 90 s timer on received data, including the keep-alive newlines, which were sent
 *   every 30 s then: three missed heartbeats.
 * - Practice: Twitter's own Java client hbc defaults its socket read timeout to 60 s
 *   (ClientBuilder.socketTimeoutMillis = 60000, github.com/twitter/hbc); twitter-api-v2 1.29
 *   (node_modules/twitter-api-v2, TweetStream.keepAliveTimeoutMs) defaults to 120 s.
 * 90 s sits between the two, keeps Twitter's long-standing figure, and rides out three late or
 * lost heartbeats in a row (at 20 s, a 4th missing one trips it). A real stall costs at most 90 s
 * of delay, not posts: the gap is filled on reconnect. Lower it (down to just over 20 s) to react
 * faster where the network between here and X is known to be clean.
 */
export const DEFAULT_STALL_TIMEOUT_MS = 90_000;

export function isAccessLevel(value: unknown): value is XAccessLevel {
  return typeof value === 'string' && (ACCESS_LEVELS as readonly string[]).includes(value);
}

/** The limits of `level`; anything not a known level (blank, a typo, an old flow) is pay-per-use. */
export function accessLimits(level: unknown): XAccessLimits {
  return X_ACCESS[isAccessLevel(level) ? level : DEFAULT_ACCESS_LEVEL];
}

/** Characters as X counts a rule's length: code points, so an emoji is one, not two UTF-16 units. */
export function ruleLength(value: string): number {
  return Array.from(value).length;
}

const fmt = (n: number) => n.toLocaleString('en-US');

/** The level's name as a message (access.level.<level>), translated where it is shown. */
function levelName(level: unknown): StatusMessage {
  return msg(`access.level.${isAccessLevel(level) ? level : DEFAULT_ACCESS_LEVEL}`);
}

// Every problem below is a message of the X stream's catalogue (access.*), so that the node's
// log and status and the editor's field tooltips say the same thing, each in its own language.

export interface RuleAccessProblem {
  /** The rule's index in the list given. */
  index: number;
  value: string;
  messages: StatusMessage[];
}

/**
 * The rules `level` would refuse, before X is asked: rules past the level's rule count (each one
 * after the first maxRules) and rules longer than its rule length. Rules are counted as given
 * (blank ones included: filter them first). An Enterprise rule count is not checked, since its
 * figure is X's minimum and the contract may allow more; nor is anything checked for a level
 * without a filtered stream (modeProblem says so once).
 */
export function checkRulesForAccess(rules: ReadonlyArray<{ value: string }>, level: unknown): RuleAccessProblem[] {
  const lim = accessLimits(level);
  if (!lim.filteredStream) return [];
  const out: RuleAccessProblem[] = [];
  rules.forEach((rule, index) => {
    const value = String(rule?.value ?? '');
    const messages: StatusMessage[] = [];
    if (!lim.maxRulesByContract && index >= lim.maxRules) {
      messages.push(msg('access.tooManyRules', { index: fmt(index + 1), count: fmt(rules.length), level: levelName(level), max: fmt(lim.maxRules) }));
    }
    const length = ruleLength(value);
    if (length > lim.maxRuleLength) {
      messages.push(msg('access.ruleTooLong', { length: fmt(length), level: levelName(level), max: fmt(lim.maxRuleLength) }));
    }
    if (messages.length) out.push({ index, value, messages });
  });
  return out;
}

/** Why `count` rules are more than `level` allows (one line for the whole list); undefined when they fit. */
export function ruleCountProblem(count: number, level: unknown): StatusMessage | undefined {
  const lim = accessLimits(level);
  if (!lim.filteredStream || lim.maxRulesByContract || count <= lim.maxRules) return undefined;
  return msg('access.rulesOver', { count: fmt(count), level: levelName(level), max: fmt(lim.maxRules) });
}

/** Why `mode` cannot run on `level`; undefined when it can. */
export function modeProblem(mode: XStreamMode, level: unknown): StatusMessage | undefined {
  const lim = accessLimits(level);
  if (mode === 'sample' && !lim.sampleStream) return msg('access.sample', { level: levelName(level) });
  if (mode === 'filtered' && !lim.filteredStream) return msg('access.noFilteredStream', { level: levelName(level) });
  if (mode === 'search' && !lim.recentSearch) return msg('access.noSearch', { level: levelName(level) });
  return undefined;
}

/**
 * Why a manual backfill of `minutes` cannot be asked for on `level`; undefined when it can. The
 * range (0 to MAX_BACKFILL_MINUTES) is the settings' (options.ts X_STREAM_NUMBERS).
 */
export function backfillProblem(minutes: number, level: unknown): StatusMessage | undefined {
  if (!(minutes > 0)) return undefined;
  return accessLimits(level).backfill ? undefined : msg('access.backfill', { level: levelName(level) });
}

/** Why a recent-search query is longer than `level` allows (characters as X counts them); undefined when it fits. */
export function queryProblem(query: string, level: unknown): StatusMessage | undefined {
  const lim = accessLimits(level);
  const length = ruleLength(query.trim());
  return length > lim.searchQueryLength ? msg('access.queryTooLong', { length: fmt(length), level: levelName(level), max: fmt(lim.searchQueryLength) }) : undefined;
}

/**
 * The gap-recovery means open to `level`, in the order they are tried: backfill (gaps up to
 * 5 min), Recovery (up to 24 h), recent search with since_id/until_id per rule (up to 7 days).
 */
export function recoveryOptions(level: unknown): XRecoveryMeans[] {
  const lim = accessLimits(level);
  const out: XRecoveryMeans[] = [];
  if (lim.backfill) out.push('backfill');
  if (lim.recovery) out.push('recovery');
  if (lim.recentSearch) out.push('search');
  return out;
}

/**
 * What `level` allows, for the editors: its name and the parts of the line ("filtered stream: 1
 * connection(s), 1,000 rules of ≤ 1,024 characters, ...", "recent search ...", "with ...",
 * "without ...", "every post read is billed"), as messages (access.summary.*, access.feature.*).
 */
export function accessSummary(level: unknown): { level: StatusMessage; parts: StatusMessage[] } {
  const lim = accessLimits(level);
  const rate = (n: number | null): StatusMessage => (n === null ? msg('access.summary.byContract') : msg('access.summary.perWindow', { count: fmt(n) }));
  const parts: StatusMessage[] = [];
  if (lim.filteredStream) {
    parts.push(
      msg('access.summary.stream', {
        connections: fmt(lim.connections),
        rules: lim.maxRulesByContract ? msg('access.summary.atLeast', { count: fmt(lim.maxRules) }) : fmt(lim.maxRules),
        length: fmt(lim.maxRuleLength),
        connects: rate(lim.connectsPer15Min),
        post: rate(lim.rulesPostPer15Min),
        get: rate(lim.rulesGetPer15Min),
      }),
    );
  } else {
    parts.push(msg('access.summary.noStream'));
  }
  if (lim.recentSearch) parts.push(msg('access.summary.search', { requests: rate(lim.searchPer15Min), length: fmt(lim.searchQueryLength) }));
  const features = { sampleStream: 'sample', backfill: 'backfill', recovery: 'recovery' } as const;
  const keys = Object.keys(features) as Array<keyof typeof features>;
  const feature = (k: keyof typeof features) => msg(`access.feature.${features[k]}`);
  const has = keys.filter((k) => lim[k]).map(feature);
  const lacks = keys.filter((k) => !lim[k]).map(feature);
  if (has.length) parts.push(msg('access.summary.with', { features: has }));
  if (lacks.length) parts.push(msg('access.summary.without', { features: lacks }));
  if (lim.billedPerPost) parts.push(msg('access.summary.billed'));
  return { level: levelName(level), parts };
}
