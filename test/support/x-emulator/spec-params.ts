// Request-parameter rules of the REST side (stream rules, recent search) and the field lists of
// every endpoint, as X's published OpenAPI spec declares them, plus the limits of each access
// level as X's docs give them. Sources (read, not copied):
//
//   spec   docs.x.com/openapi.json, version 2.167 (the copy in github.com/xdevplatform/docs,
//          August 2026; the same version is in xdevplatform/xdk specs/openapi.json).
//          2.166 and earlier are quoted where 2.167 changed something.
//   docs   docs.x.com pages in the same repository: x-api/fundamentals/rate-limits.mdx,
//          x-api/posts/filtered-stream/introduction.mdx, x-api/posts/search/introduction.mdx,
//          x-api/getting-started/about-x-api.mdx (legacy Basic/Pro table, Dec 2025).
//
// The lists below are identifiers (the spec's enum values), kept in the spec's order because
// X's 400 message lists them in that order.
import * as problems from './problems';

// ---------------------------------------------------------------------------------------------
// Access levels

export type AccessLevel = 'pay-per-use' | 'basic' | 'pro' | 'enterprise';
export const ACCESS_LEVELS: readonly AccessLevel[] = ['pay-per-use', 'basic', 'pro', 'enterprise'];

export type RateLimited = 'filtered' | 'sample' | 'rules.get' | 'rules.post' | 'search';

export interface AccessProfile {
  /** Filtered stream and its rules endpoints (about-x-api: not in Free/Basic). */
  filteredStream: boolean;
  /** Rules per project (filtered-stream/introduction: 1,000 pay-per-use/Pro, 25,000+ Enterprise). */
  maxRules: number;
  /** Characters per rule (1,024 pay-per-use/Pro, 2,048 Enterprise). */
  maxRuleLength: number;
  /** Characters per recent-search query (search/introduction: 512, 4,096 Enterprise). */
  searchQueryLength: number;
  /** Requests per 15 minutes per app (rate-limits.mdx; Basic search 60 from the legacy table). */
  rates: Record<RateLimited, number>;
}

// Enterprise limits are "by contract" at X; the emulator gives them the published per-app figures.
const PUBLISHED_RATES: Record<RateLimited, number> = { filtered: 50, sample: 50, 'rules.get': 450, 'rules.post': 100, search: 450 };

export const ACCESS: Record<AccessLevel, AccessProfile> = {
  'pay-per-use': { filteredStream: true, maxRules: 1000, maxRuleLength: 1024, searchQueryLength: 512, rates: { ...PUBLISHED_RATES } },
  basic: { filteredStream: false, maxRules: 0, maxRuleLength: 1024, searchQueryLength: 512, rates: { ...PUBLISHED_RATES, search: 60 } },
  pro: { filteredStream: true, maxRules: 1000, maxRuleLength: 1024, searchQueryLength: 512, rates: { ...PUBLISHED_RATES } },
  enterprise: { filteredStream: true, maxRules: 25_000, maxRuleLength: 2048, searchQueryLength: 4096, rates: { ...PUBLISHED_RATES } },
};

export interface AccessOptions {
  /** Access level of every app (default 'enterprise'). */
  access?: AccessLevel;
  /** Per bearer token override. */
  tokenAccess?: Record<string, AccessLevel>;
}

/** The access level of the app behind `token`. */
export function accessOf(opts: AccessOptions, token: string | undefined): AccessLevel {
  const own = token === undefined ? undefined : opts.tokenAccess?.[token];
  return own ?? opts.access ?? 'enterprise';
}

export function isAccessLevel(v: unknown): v is AccessLevel {
  return typeof v === 'string' && (ACCESS_LEVELS as readonly string[]).includes(v);
}

// ---------------------------------------------------------------------------------------------
// Field lists (spec 2.167)

/** Tweet fields of both stream endpoints (and of recent search up to spec 2.166). */
export const TWEET_FIELDS = [
  'article', 'attachments', 'author_id', 'card_uri', 'community_id', 'context_annotations', 'conversation_id',
  'created_at', 'display_text_range', 'edit_controls', 'edit_history_tweet_ids', 'entities', 'geo', 'id',
  'in_reply_to_user_id', 'lang', 'matched_media_notes', 'media_metadata', 'non_public_metrics',
  'note_request_suggestions', 'note_tweet', 'organic_metrics', 'paid_partnership', 'possibly_sensitive',
  'promoted_metrics', 'public_metrics', 'referenced_tweets', 'reply_settings', 'scopes', 'source',
  'suggested_source_links', 'suggested_source_links_with_counts', 'text', 'withheld',
];
export const TWEET_EXPANSIONS = [
  'article.cover_media', 'article.media_entities', 'attachments.media_keys', 'attachments.media_source_tweet',
  'attachments.poll_ids', 'author_id', 'edit_history_tweet_ids', 'entities.mentions.username', 'geo.place_id',
  'in_reply_to_user_id', 'entities.note.mentions.username', 'referenced_tweets.id',
  'referenced_tweets.id.attachments.media_keys', 'referenced_tweets.id.author_id',
];
/** User fields next to tweet.fields (streams; recent search up to 2.166). */
export const TWEET_USER_FIELDS = [
  'affiliation', 'confirmed_email', 'connection_status', 'created_at', 'description', 'entities', 'id',
  'is_identity_verified', 'location', 'most_recent_tweet_id', 'name', 'parody', 'pinned_tweet_id',
  'profile_banner_url', 'profile_image_url', 'protected', 'public_metrics', 'receives_your_dm', 'subscription',
  'subscription_type', 'url', 'username', 'verified', 'verified_followers_count', 'verified_type', 'withheld',
];
/** Recent search in spec 2.167 lists `post.fields` (the "Post" vocabulary) instead of `tweet.fields`. */
export const POST_FIELDS = [
  'article', 'article_title', 'attachments', 'card_uri', 'community_id', 'context_annotations', 'conversation_id',
  'created_at', 'display_text_range', 'edit_controls', 'entities', 'geo', 'id', 'lang', 'matched_media_notes',
  'media_metadata', 'non_public_metrics', 'note_post', 'note_request_suggestions', 'organic_metrics',
  'paid_partnership', 'possibly_sensitive', 'promoted_metrics', 'public_metrics', 'reply_settings', 'scopes',
  'source', 'suggested_source_links', 'suggested_source_links_with_counts', 'text', 'withheld',
];
export const POST_EXPANSIONS = [
  'article.cover_media', 'article.media_entities', 'attachments.media_keys', 'attachments.media_source_tweet',
  'attachments.poll_ids', 'author_id', 'edit_history_post_ids', 'entities.mentions.username', 'geo.place_id',
  'in_reply_to_user_id', 'referenced_posts', 'username',
];
export const POST_USER_FIELDS = [
  'confirmed_email', 'connection_status', 'created_at', 'description', 'entities', 'id', 'is_identity_verified',
  'location', 'name', 'parody', 'profile_banner_url', 'profile_image_url', 'protected', 'public_metrics',
  'receives_your_dm', 'subscribes_to_you', 'subscription', 'subscription_type', 'url', 'username', 'verified',
  'verified_followers_count', 'verified_type', 'withheld',
];
export const MEDIA_FIELDS = [
  'alt_text', 'duration_ms', 'height', 'media_key', 'non_public_metrics', 'organic_metrics', 'preview_image_url',
  'promoted_metrics', 'public_metrics', 'type', 'url', 'variants', 'width',
];
export const POLL_FIELDS = ['duration_minutes', 'end_datetime', 'id', 'options', 'voting_status'];
export const PLACE_FIELDS = ['contained_within', 'country', 'country_code', 'full_name', 'geo', 'id', 'name', 'place_type'];

export type FieldEndpoint = 'stream' | 'search';

/**
 * The list parameters an endpoint takes, each with the values it accepts and the values X's 400
 * lists. Recent search speaks two vocabularies at once: spec 2.167 declares only the Post one
 * (`post.fields`, `edit_history_post_ids`, `referenced_posts`), while X's docs pages (search
 * quickstart, build-a-query) and spec 2.166 use `tweet.fields`; a public measurement of the live
 * API (Aug 2026) found both accepted, the request's spelling choosing the response's, and
 * `expansions` taking values of either vocabulary. The emulator does the same: `post.fields`
 * switches a request to the Post vocabulary; expansions of both vocabularies are accepted and the
 * 400 lists the request's vocabulary.
 */
export function fieldLists(endpoint: FieldEndpoint, params: URLSearchParams): Record<string, { listed: string[]; accepted: ReadonlySet<string> }> {
  const one = (l: string[]) => ({ listed: l, accepted: new Set(l) });
  if (endpoint === 'stream') {
    return {
      'tweet.fields': one(TWEET_FIELDS),
      expansions: one(TWEET_EXPANSIONS),
      'user.fields': one(TWEET_USER_FIELDS),
      'media.fields': one(MEDIA_FIELDS),
      'poll.fields': one(POLL_FIELDS),
      'place.fields': one(PLACE_FIELDS),
    };
  }
  const post = postVocabulary(params);
  const expansions = post ? POST_EXPANSIONS : TWEET_EXPANSIONS;
  return {
    'tweet.fields': one(TWEET_FIELDS),
    'post.fields': one(POST_FIELDS),
    expansions: { listed: expansions, accepted: new Set([...TWEET_EXPANSIONS, ...POST_EXPANSIONS]) },
    'user.fields': one(post ? POST_USER_FIELDS : TWEET_USER_FIELDS),
    'media.fields': one(MEDIA_FIELDS),
    'poll.fields': one(POLL_FIELDS),
    'place.fields': one(PLACE_FIELDS),
  };
}

/** A recent-search request in the Post vocabulary (it names `post.fields`). */
export function postVocabulary(params: URLSearchParams): boolean {
  return params.has('post.fields');
}

// ---------------------------------------------------------------------------------------------
// Parameter checks

type Err = { message: string; parameters: Record<string, string[]> };

/**
 * Names, then list values: unknown names and values are X's wording ("The query parameter [x] is
 * not one of [...]", "The `tweet.fields` query parameter value [x] is not one of [...]"); the
 * spec marks every field list `uniqueItems`, so a value given twice is refused too.
 */
export function checkNamesAndLists(params: URLSearchParams, allowed: readonly string[], lists: ReturnType<typeof fieldLists>): Err[] {
  const errors: Err[] = [];
  for (const [name, value] of params) {
    if (!allowed.includes(name)) {
      errors.push({ parameters: { [name]: [value] }, message: `The query parameter [${name}] is not one of [${allowed.join(',')}]` });
      continue;
    }
    const list = lists[name];
    if (!list) continue;
    const seen = new Set<string>();
    for (const v of value.split(',')) {
      if (!list.accepted.has(v)) {
        errors.push({ parameters: { [name]: [value] }, message: `The \`${name}\` query parameter value [${v}] is not one of [${list.listed.join(',')}]` });
      } else if (seen.has(v)) {
        errors.push({ parameters: { [name]: [value] }, message: `The \`${name}\` query parameter value [${v}] is repeated; every value may appear only once` });
      }
      seen.add(v);
    }
  }
  return errors;
}

/** `true` / `false` only (spec: `type: boolean`; a query string carries the literal). */
export function checkBoolean(params: URLSearchParams, name: string): Err | undefined {
  const v = params.get(name);
  if (v === null || v === 'true' || v === 'false') return undefined;
  return { parameters: { [name]: [v] }, message: `The \`${name}\` query parameter value [${v}] is not one of [true,false]` };
}

export function checkInteger(params: URLSearchParams, name: string, min: number, max: number): Err | undefined {
  const v = params.get(name);
  if (v === null) return undefined;
  const n = Number(v);
  if (/^-?\d+$/.test(v) && n >= min && n <= max) return undefined;
  return { parameters: { [name]: [v] }, message: `The \`${name}\` query parameter value [${v}] is not between ${min} and ${max}` };
}

const ID_PATTERN = /^[0-9]{1,19}$/;

/** Recent search: "At most one of ..." pairs of spec 2.167's operation description. */
export const SEARCH_EXCLUSIVE: ReadonlyArray<readonly [string, string]> = [
  ['start_time', 'since_id'],
  ['end_time', 'until_id'],
  ['pagination_token', 'next_token'],
];

/** Typed checks of the REST endpoints beyond names and lists (400 invalid-request when any fails). */
export function checkTyped(endpoint: 'rules.get' | 'rules.post' | 'search', params: URLSearchParams): Err[] {
  const out: Err[] = [];
  const add = (e: Err | undefined): void => {
    if (e) out.push(e);
  };
  if (endpoint === 'rules.post') {
    add(checkBoolean(params, 'dry_run'));
    add(checkBoolean(params, 'delete_all'));
  } else if (endpoint === 'rules.get') {
    // ids: array (maxItems 1000) of ^[0-9]{1,19}$; max_results 1-1000; pagination_token 16 characters.
    const ids = params.get('ids');
    if (ids !== null) {
      const list = ids.split(',');
      for (const id of list) {
        if (!ID_PATTERN.test(id)) out.push({ parameters: { ids: [ids] }, message: `The \`ids\` query parameter value [${id}] does not match ^[0-9]{1,19}$` });
      }
      if (list.length > 1000) out.push({ parameters: { ids: [ids] }, message: `The \`ids\` query parameter has ${list.length} values; at most 1000 are allowed` });
    }
    add(checkInteger(params, 'max_results', 1, 1000));
    const token = params.get('pagination_token');
    if (token !== null && token.length !== 16) {
      out.push({ parameters: { pagination_token: [token] }, message: `The \`pagination_token\` query parameter value [${token}] must be 16 characters long` });
    }
  } else {
    for (const [a, b] of SEARCH_EXCLUSIVE) {
      if (params.has(a) && params.has(b)) {
        out.push({ parameters: { [a]: [params.get(a)!], [b]: [params.get(b)!] }, message: `At most one of the \`${a}\` and \`${b}\` query parameters may be given` });
      }
    }
    const sort = params.get('sort_order');
    if (sort !== null && sort !== 'recency' && sort !== 'relevancy') {
      out.push({ parameters: { sort_order: [sort] }, message: `The \`sort_order\` query parameter value [${sort}] is not one of [recency,relevancy]` });
    }
  }
  return out;
}

export function invalid(errors: Err[]): problems.Problem | undefined {
  return errors.length ? problems.invalidRequest(errors) : undefined;
}

// ---------------------------------------------------------------------------------------------
// Rules GET pagination tokens: 16 characters (spec: minLength = maxLength = 16, "base32hex").

const B32HEX = '0123456789ABCDEFGHIJKLMNOPQRSTUV';

/** The token of a page that starts at the rule with this id. */
export function rulesPageToken(id: string): string {
  let n = BigInt(id);
  let s = '';
  for (let i = 0; i < 16; i++) {
    s = B32HEX[Number(n & 31n)] + s;
    n >>= 5n;
  }
  return s;
}

/** The rule id a token stands for, or undefined when it is not one of ours. */
export function rulesPageStart(token: string): bigint | undefined {
  if (!/^[0-9A-V]{16}$/.test(token)) return undefined;
  let n = 0n;
  for (const ch of token) n = (n << 5n) | BigInt(B32HEX.indexOf(ch));
  return n;
}

// ---------------------------------------------------------------------------------------------
// Bare-number rule ids (fault/option numericRuleIds)

/**
 * The spec types rule ids as strings of up to 19 digits. For client robustness tests the
 * emulator can instead write them as bare JSON numbers (19 digits: beyond 2^53, so JSON.parse
 * rounds them). Rewrites `"id":"123"` (a JSON string value: the quotes inside other strings are
 * escaped and never match).
 */
export function bareRuleIds(json: string): string {
  return json.replace(/"id":"(\d{1,19})"/g, '"id":$1');
}

/** `https://api.twitter.com/2/problems/...` → the other host X also answers with. */
export function withProblemHost(json: string, host: string): string {
  if (host === 'api.twitter.com') return json;
  return json.split('https://api.twitter.com/2/problems/').join(`https://${host}/2/problems/`);
}

// ---------------------------------------------------------------------------------------------
// Recent search, sort_order=relevancy

/**
 * X does not publish how it ranks by relevancy. The emulator's ranking is deterministic and
 * differs from recency: engagement (likes + 2 × reposts + replies + quotes) first, newest first
 * among equals.
 */
export function relevancyScore(metrics: { like_count?: number; retweet_count?: number; reply_count?: number; quote_count?: number } | undefined): number {
  if (!metrics) return 0;
  return (metrics.like_count ?? 0) + 2 * (metrics.retweet_count ?? 0) + (metrics.reply_count ?? 0) + (metrics.quote_count ?? 0);
}

// ---------------------------------------------------------------------------------------------
// Emulator options of the REST side

export interface RestSpecOptions extends AccessOptions {
  /**
   * Host in problem `type` URIs: 'api.twitter.com' (default) or 'api.x.com' (X answers with both
   * forms; its docs and spec 2.167 show api.x.com).
   */
  problemHost?: 'api.twitter.com' | 'api.x.com';
  /** Rule ids as bare 19-digit JSON numbers instead of strings (client robustness tests). */
  numericRuleIds?: boolean;
}
