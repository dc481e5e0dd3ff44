// Recent-search polling (GET /2/tweets/search/recent) for accounts without streaming access.
// One poll: the first page is asked for with since_id = the cursor (or start_time on the very
// first poll), its meta.newest_id becomes the next cursor, and next_token pages follow. The
// cursor is committed (to the node's context) only once the poll's posts have reached the
// flow, so a restart neither skips nor re-emits posts.
import { systemClock, type Clock } from '../common/clock';
import { ReconnectPolicy, type ReconnectDecision } from './reconnect-policy';
import type { RestClient } from './rules-sync';
import type { StreamPost } from './stream-client';
import type { XApiError } from './x-client';

export const SEARCH_PATH = '/2/tweets/search/recent';
const SEVEN_DAYS_MS = 7 * 86400_000;

export interface SearchCursor {
  /** The newest post id already emitted. */
  sinceId?: string;
  /** Before any post was found: search from this time (RFC 3339). */
  startTime?: string;
  /** A poll that stopped at maxPages: its next page and the newest id it started from. */
  pending?: { nextToken: string; newestId?: string };
}

export interface CursorStore {
  get(): Promise<SearchCursor | undefined> | SearchCursor | undefined;
  set(cursor: SearchCursor): Promise<void> | void;
}

export interface SearchHandlers {
  /** Hands posts to the flow (oldest first); resolves once they have left for it. */
  posts(records: StreamPost[]): Promise<void>;
  polling?(): void;
  polled?(info: { posts: number; pages: number; more: boolean; cursor: SearchCursor }): void;
  retrying?(err: Error, decision: ReconnectDecision): void;
  fatal?(err: XApiError): void;
}

export interface RecentSearchOptions {
  client: RestClient;
  query: string;
  /** tweet.fields, user.fields, expansions, ... */
  params: Record<string, string>;
  intervalMs: number;
  /** Pages per poll (default 10); the rest is fetched by the next poll, at once. */
  maxPages?: number;
  /** max_results per page, 10-100 (default 100). */
  maxResults?: number;
  /** With no cursor yet, start this many minutes back (default 0: from the first poll on). */
  lookbackMinutes?: number;
  store: CursorStore;
  policy?: ReconnectPolicy;
  clock?: Clock;
  handlers: SearchHandlers;
}

type Includes = Record<string, Array<Record<string, unknown>>>;

/** The page's includes that one post refers to (its author, mentioned users, quoted posts, media, ...). */
export function includesFor(post: Record<string, unknown>, page: Includes | undefined): Includes | undefined {
  if (!page) return undefined;
  const users = new Set<string>();
  const tweets = new Set<string>();
  const media = new Set<string>();
  const polls = new Set<string>();
  const places = new Set<string>();
  const add = (set: Set<string>, v: unknown) => {
    if (typeof v === 'string') set.add(v);
  };
  add(users, post.author_id);
  add(users, post.in_reply_to_user_id);
  const ents = post.entities as { mentions?: Array<{ id?: string; username?: string }> } | undefined;
  const mentionNames = new Set<string>();
  for (const m of ents?.mentions ?? []) {
    add(users, m.id);
    if (m.username) mentionNames.add(m.username.toLowerCase());
  }
  for (const r of (post.referenced_tweets as Array<{ id?: string }> | undefined) ?? []) add(tweets, r.id);
  const att = post.attachments as { media_keys?: string[]; poll_ids?: string[] } | undefined;
  for (const k of att?.media_keys ?? []) add(media, k);
  for (const k of att?.poll_ids ?? []) add(polls, k);
  add(places, (post.geo as { place_id?: string } | undefined)?.place_id);
  const out: Includes = {};
  const pick = (name: string, keep: (o: Record<string, unknown>) => boolean) => {
    const list = page[name];
    if (!Array.isArray(list)) return;
    const mine = list.filter(keep);
    if (mine.length) out[name] = mine;
  };
  pick('users', (u) => users.has(u.id as string) || (typeof u.username === 'string' && mentionNames.has(u.username.toLowerCase())));
  pick('tweets', (t) => tweets.has(t.id as string));
  pick('media', (m) => media.has(m.media_key as string));
  pick('polls', (p) => polls.has(p.id as string));
  pick('places', (p) => places.has(p.id as string));
  return Object.keys(out).length ? out : undefined;
}

export class RecentSearchPoller {
  readonly policy: ReconnectPolicy;
  private readonly clock: Clock;
  private timer?: unknown;
  private closed = false;
  private running?: Promise<void>;
  polls = 0;

  constructor(private readonly o: RecentSearchOptions) {
    this.clock = o.clock ?? systemClock;
    this.policy = o.policy ?? new ReconnectPolicy({}, this.clock);
  }

  start(): void {
    if (this.closed || this.timer !== undefined || this.running) return;
    this.schedule(0);
  }

  /** Stops polling; resolves when a poll under way has finished with the flow. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.running = this.poll().finally(() => (this.running = undefined));
    }, ms);
  }

  private async poll(): Promise<void> {
    if (this.closed) return;
    this.o.handlers.polling?.();
    this.policy.attemptStarted();
    let more = false;
    try {
      more = await this.pollOnce();
    } catch (err) {
      if (this.closed) return;
      const decision = this.policy.afterError(err);
      if (!decision) {
        this.o.handlers.fatal?.(err as XApiError);
        return;
      }
      this.o.handlers.retrying?.(err as Error, decision);
      this.schedule(decision.delayMs);
      return;
    }
    this.policy.connected();
    // Pages left over from a long poll are fetched at once; otherwise wait for the interval.
    this.schedule(more ? 0 : this.o.intervalMs);
  }

  /** One poll; true when pages were left for the next one. */
  private async pollOnce(): Promise<boolean> {
    const now = this.clock.now();
    let cursor: SearchCursor = { ...((await this.o.store.get()) ?? {}) };
    if (!cursor.sinceId && !cursor.startTime) {
      cursor.startTime = new Date(now - (this.o.lookbackMinutes ?? 0) * 60_000).toISOString();
      await this.o.store.set(cursor);
    }
    if (!cursor.sinceId && cursor.startTime && Date.parse(cursor.startTime) < now - SEVEN_DAYS_MS + 60_000) {
      // Recent search reaches back 7 days.
      cursor.startTime = new Date(now - SEVEN_DAYS_MS + 60_000).toISOString();
    }
    const base: Record<string, string | number | undefined> = {
      query: this.o.query,
      max_results: this.o.maxResults ?? 100,
      ...this.o.params,
    };
    if (cursor.sinceId) base.since_id = cursor.sinceId;
    else base.start_time = cursor.startTime;

    const maxPages = Math.max(1, this.o.maxPages ?? 10);
    const pages: StreamPost[][] = [];
    let token = cursor.pending?.nextToken;
    let newestId = cursor.pending?.newestId;
    let pagesRead = 0;
    for (; pagesRead < maxPages; pagesRead++) {
      const res = await this.o.client.get(SEARCH_PATH, { ...base, next_token: token }, 'recent search');
      if (this.closed) return false;
      const body = (res.data ?? {}) as { data?: Array<Record<string, unknown>>; includes?: Includes; meta?: { newest_id?: string; next_token?: string } };
      if (token === undefined && newestId === undefined) newestId = body.meta?.newest_id;
      const posts: StreamPost[] = [];
      for (const d of body.data ?? []) {
        if (!d || typeof d.id !== 'string') continue;
        const includes = includesFor(d, body.includes);
        posts.push(includes ? { data: d as StreamPost['data'], includes } : { data: d as StreamPost['data'] });
      }
      pages.push(posts);
      token = body.meta?.next_token;
      if (!token) break;
    }
    this.polls++;
    // Pages come newest first: hand them over oldest first.
    const all: StreamPost[] = [];
    for (let p = pages.length - 1; p >= 0; p--) for (let i = pages[p].length - 1; i >= 0; i--) all.push(pages[p][i]);
    if (all.length) await this.o.handlers.posts(all);
    if (this.closed) return false;
    const next: SearchCursor = token
      ? { ...(cursor.sinceId ? { sinceId: cursor.sinceId } : { startTime: cursor.startTime }), pending: { nextToken: token, ...(newestId ? { newestId } : {}) } }
      : newestId || cursor.sinceId
        ? { sinceId: newestId ?? cursor.sinceId }
        : { startTime: cursor.startTime };
    await this.o.store.set(next);
    this.o.handlers.polled?.({ posts: all.length, pages: pagesRead + (token ? 0 : 1), more: !!token, cursor: next });
    return !!token;
  }
}
