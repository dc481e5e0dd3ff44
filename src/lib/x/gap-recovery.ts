// Filling the gap a disconnect leaves, the way X's "recovery and redundancy" guide describes,
// chosen by the gap's length and what the account's access allows:
//   - backfill_minutes on the reconnect itself (Enterprise; gaps up to 5 minutes), sized to the
//     gap rather than a fixed figure, so a 2 s blip re-reads 1 minute, not 5;
//   - Recovery: a filtered-stream request with start_time/end_time (Enterprise; up to 24 h);
//   - recent search for each of the stream's rules, since_id = the newest post delivered before
//     the gap, end_time = just after the reconnect (every level; up to 7 days).
// What none of them reaches is reported with its exact bounds. Recovered posts go through the
// source's de-duplication (dedup.ts), so overlaps at either end of a gap cost reads, not repeats.
import { systemClock, type Clock } from '../common/clock';
import { RECOVERY_REACH_MS, type XRecoveryMeans } from './access';
import { GapFilter } from './dedup';
import { snowflakeTimeMs } from './post-ids';
import { includesFor, SEARCH_PATH } from './recent-search';
import { ReconnectPolicy } from './reconnect-policy';
import type { ReconnectSettings } from './reconnect-settings';
import type { RestClient, XRule } from './rules-sync';
import type { StreamPost } from './stream-client';


/** Posts created this long before the last byte may still have been in flight: re-read them. */
export const GAP_LEAD_MS = 10_000;
/** And this long after the reconnect, before the new connection surely carries them. */
export const GAP_TAIL_MS = 5_000;
/** Recent search refuses an end_time less than 10 s before the request (X's docs). */
const SEARCH_END_MARGIN_MS = 11_000;

/** The time X was not heard: from the last byte read to the new connection. */
export interface Gap {
  /** Epoch ms of the last byte of the dropped connection (minus GAP_LEAD_MS). */
  fromMs: number;
  /** Epoch ms the new connection was established (plus GAP_TAIL_MS). */
  toMs: number;
  /** The newest post id delivered before the gap. */
  afterId?: string;
}

export type GapPlan =
  | { means: 'recovery'; startTime: string; endTime: string }
  | { means: 'search'; sinceId?: string; startTime?: string; endTime: string }
  | { means: 'none'; reason: string };

/**
 * backfill_minutes for a reconnect `gapMs` after the last byte, when backfill is open and the
 * gap (with its lead) fits in X's 5 minutes; undefined otherwise.
 */
export function backfillMinutesFor(gapMs: number, open: readonly XRecoveryMeans[]): number | undefined {
  if (!open.includes('backfill')) return undefined;
  const need = Math.max(0, gapMs) + GAP_LEAD_MS + GAP_TAIL_MS;
  if (need > RECOVERY_REACH_MS.backfill) return undefined;
  return Math.max(1, Math.ceil(need / 60_000));
}

const iso = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString();

/** Recent search over a gap: from the newest id delivered before it (else its start) to just after its end. */
export function searchPlan(gap: Gap): Extract<GapPlan, { means: 'search' }> {
  const endTime = iso(gap.toMs + 999);
  return gap.afterId ? { means: 'search', sinceId: gap.afterId, endTime } : { means: 'search', startTime: iso(gap.fromMs), endTime };
}

/** How to fill `gap` once the new connection is up (backfill is decided before, at connect). */
export function planGap(gap: Gap, o: { open: readonly XRecoveryMeans[]; mode: 'filtered' | 'sample'; now: number }): GapPlan {
  const age = o.now - gap.fromMs;
  if (o.mode === 'filtered' && o.open.includes('recovery') && age <= RECOVERY_REACH_MS.recovery) {
    return { means: 'recovery', startTime: iso(gap.fromMs), endTime: iso(gap.toMs + 999) };
  }
  if (o.mode === 'filtered' && o.open.includes('search')) {
    if (age > RECOVERY_REACH_MS.search - 60_000) return { means: 'none', reason: 'the gap began more than 7 days ago, beyond recent search' };
    return searchPlan(gap);
  }
  return {
    means: 'none',
    reason: o.mode === 'sample' ? 'a sample stream can only be refilled by backfill_minutes (Enterprise, up to 5 minutes)' : 'no recovery means is open to this access level',
  };
}

/** A part of a gap that could not be filled. */
export interface LostRange {
  fromMs: number;
  toMs: number;
  reason: string;
  /** The rule, when only its part is missing. */
  rule?: string;
}

export interface SearchRecoveryResult {
  posts: StreamPost[];
  requests: number;
  lost: LostRange[];
}

export interface SearchRecoveryOptions {
  client: RestClient;
  rules: XRule[];
  params: Record<string, string>;
  /** Pages of 100 per rule at most (default 100). */
  maxPages?: number;
  /** Most attempts per request after 429/5xx/network errors (default 4). */
  maxAttempts?: number;
  /** The waits between attempts (default: X's reconnect rules). */
  reconnect?: Partial<ReconnectSettings>;
  clock?: Clock;
  isClosed(): boolean;
}

const sleep = (clock: Clock, ms: number) => new Promise<void>((r) => clock.setTimeout(r, ms));

/**
 * Runs recent search for every rule over the gap and returns the posts (oldest first, one per id,
 * matching_rules merged across rules), filtered by `filter`, and what stayed out of reach.
 */
export async function searchGap(plan: Extract<GapPlan, { means: 'search' }>, gap: Gap, filter: GapFilter, o: SearchRecoveryOptions): Promise<SearchRecoveryResult> {
  const clock = o.clock ?? systemClock;
  const policy = new ReconnectPolicy(o.reconnect ?? {}, clock);
  const endMs = Date.parse(plan.endTime);
  const wait = endMs + SEARCH_END_MARGIN_MS - clock.now();
  if (wait > 0) await sleep(clock, wait);
  const byId = new Map<string, StreamPost>();
  const lost: LostRange[] = [];
  let requests = 0;
  const maxPages = Math.max(1, o.maxPages ?? 100);
  for (const rule of o.rules) {
    if (o.isClosed()) break;
    let token: string | undefined;
    let oldestMs: number | undefined;
    for (let page = 0; page < maxPages; page++) {
      const query: Record<string, string | number | undefined> = { query: rule.value, max_results: 100, end_time: plan.endTime, ...o.params, next_token: token };
      if (plan.sinceId) query.since_id = plan.sinceId;
      else query.start_time = plan.startTime;
      let body: { data?: Array<Record<string, unknown>>; includes?: Record<string, Array<Record<string, unknown>>>; meta?: { next_token?: string } };
      try {
        requests++;
        body = (await withRetries(() => o.client.get(SEARCH_PATH, query, 'gap recovery search'), o, policy, clock)).data ?? {};
      } catch (err) {
        lost.push({ fromMs: gap.fromMs, toMs: oldestMs ?? gap.toMs, rule: rule.value, reason: (err as Error).message });
        token = undefined;
        break;
      }
      for (const d of body.data ?? []) {
        if (!d || typeof d.id !== 'string') continue;
        const t = snowflakeTimeMs(d.id);
        if (t !== undefined && (oldestMs === undefined || t < oldestMs)) oldestMs = t;
        const match = rule.tag !== undefined ? { id: rule.id, tag: rule.tag } : { id: rule.id };
        const seen = byId.get(d.id);
        if (seen) {
          seen.matching_rules = [...(seen.matching_rules ?? []), match];
          continue;
        }
        const includes = includesFor(d, body.includes);
        const post: StreamPost = { data: d as StreamPost['data'], matching_rules: [match] };
        if (includes) post.includes = includes;
        byId.set(d.id, post);
      }
      token = body.meta?.next_token;
      if (!token || o.isClosed()) break;
    }
    if (token) lost.push({ fromMs: gap.fromMs, toMs: oldestMs ?? gap.toMs, rule: rule.value, reason: `more than ${maxPages} pages of posts` });
  }
  const ids = [...byId.keys()].sort((a, b) => (a.length - b.length) || (a < b ? -1 : a > b ? 1 : 0));
  const posts: StreamPost[] = [];
  for (const id of ids) if (filter.isNew(id)) posts.push(byId.get(id)!);
  return { posts, requests, lost };
}

/** One request, retried by the source's reconnect rules after 429, 5xx and network errors; 4xx is final. */
async function withRetries<T>(fn: () => Promise<T>, o: SearchRecoveryOptions, policy: ReconnectPolicy, clock: Clock): Promise<T> {
  const attempts = Math.max(1, o.maxAttempts ?? 4);
  for (let i = 1; ; i++) {
    try {
      const res = await fn();
      policy.connected();
      return res;
    } catch (err) {
      const decision = policy.afterError(err);
      if (!decision || decision.kind === 'clientError' || i >= attempts || o.isClosed()) throw err;
      await sleep(clock, decision.delayMs);
    }
  }
}
