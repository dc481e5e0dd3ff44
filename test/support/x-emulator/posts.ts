// Synthetic posts: a pure function of (seed, seq) for the content (author, language, text,
// metrics) plus the Timeline for the id and creation time. Nothing is stored per post, so any
// post can be regenerated exactly, and generating one costs a few string concatenations.
import { CORPUS, DESCRIPTIONS, EMOJI, FIRST_NAMES_EN, LAST_NAMES_EN, LOCATIONS, NAMES_ES, NAMES_JA, NAMES_KO, ROMAN_ES, ROMAN_JA, ROMAN_KO, type Lang } from './corpus';
import { TWEPOCH, Timeline } from './timeline';

export type { Lang } from './corpus';

/** murmur3's 32-bit finaliser: a good, cheap integer hash. */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A small xorshift32 stream seeded from (seed, a, b). */
class Rng {
  private s: number;
  constructor(seed: number, a: number, b = 0) {
    this.s = fmix(fmix(seed ^ 0x9e3779b9) ^ fmix(a + 0x632be5ab) ^ fmix((b + 0x1b873593) >>> 0)) || 0x6d2b79f5;
  }
  /** Uniform in [0, 2^32). */
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  /** Uniform in [0, 1). */
  float(): number {
    return this.next() / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.float() * n);
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)];
  }
  chance(p: number): boolean {
    return this.float() < p;
  }
}

export interface Author {
  idx: number;
  id: string;
  username: string;
  name: string;
  homeLang: Exclude<Lang, 'und'>;
  createdAt: string;
  description: string;
  location: string;
  verified: boolean;
  verifiedType: 'blue' | 'business' | 'government' | 'none';
  protected: boolean;
  profileImageUrl: string;
  url: string;
  followers: number;
  following: number;
  tweetCount: number;
  listed: number;
  likeCount: number;
  mediaCount: number;
}

/** One generated post: everything a serialiser or a rule needs. */
export interface Post {
  seq: number;
  id: string;
  /** Creation time, epoch ms (the id's time). */
  ms: number;
  /** created_at as X writes it: second precision, ".000Z". */
  createdAt: string;
  text: string;
  lang: Lang;
  author: Author;
  /** Index of a mentioned author, or -1. */
  mentionIdx: number;
  hasLink: boolean;
  hashtags: string[]; // without '#', as written
  publicMetrics: { retweet_count: number; reply_count: number; like_count: number; quote_count: number; bookmark_count: number; impression_count: number };
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const HOME_LANGS: Array<[Exclude<Lang, 'und'>, number]> = [
  ['en', 0.45],
  ['ja', 0.23],
  ['ko', 0.2],
  ['es', 0.12],
];

function weighted<T>(rng: Rng, table: Array<[T, number]>): T {
  let u = rng.float();
  for (const [v, w] of table) {
    if (u < w) return v;
    u -= w;
  }
  return table[table.length - 1][0];
}

function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString();
}

export interface GeneratorOptions {
  seed: number;
  /** Size of the author pool. */
  authors: number;
}

export class PostGenerator {
  readonly seed: number;
  readonly authors: Author[];
  private readonly byUsername = new Map<string, Author>();
  private readonly byId = new Map<string, Author>();
  private isoCacheSec = -1;
  private isoCache = '';

  constructor(
    opts: GeneratorOptions,
    readonly timeline: Timeline,
  ) {
    this.seed = opts.seed >>> 0;
    this.authors = [];
    for (let i = 0; i < opts.authors; i++) {
      const a = this.makeAuthor(i);
      this.authors.push(a);
      this.byUsername.set(a.username.toLowerCase(), a);
      this.byId.set(a.id, a);
    }
  }

  authorByUsername(name: string): Author | undefined {
    return this.byUsername.get(name.toLowerCase());
  }

  authorById(id: string): Author | undefined {
    return this.byId.get(id);
  }

  private makeAuthor(i: number): Author {
    const r = new Rng(this.seed, i, 0xa17);
    const homeLang = weighted(r, HOME_LANGS);
    let name: string;
    let roman: string;
    if (homeLang === 'ko') {
      const k = r.int(NAMES_KO.length);
      name = NAMES_KO[k];
      roman = ROMAN_KO[k];
    } else if (homeLang === 'ja') {
      const k = r.int(NAMES_JA.length);
      name = NAMES_JA[k];
      roman = ROMAN_JA[k];
    } else if (homeLang === 'es') {
      const k = r.int(NAMES_ES.length);
      name = NAMES_ES[k];
      roman = ROMAN_ES[k];
    } else {
      const first = r.pick(FIRST_NAMES_EN);
      name = `${first} ${r.pick(LAST_NAMES_EN)}`;
      roman = first.toLowerCase();
    }
    if (r.chance(0.15)) name += ` ${r.pick(EMOJI)}`;
    const username = `${roman}_${i.toString(36)}`.slice(0, 15);
    // Old accounts have short numeric ids; newer ones snowflakes. Both unique by construction.
    let id: string;
    let createdMs: number;
    if (r.chance(0.3)) {
      id = String(10_000_000 + i * 977 + r.int(977));
      createdMs = Date.UTC(2008, 0, 1) + r.int(3 * 365 * 86400) * 1000;
    } else {
      createdMs = Date.UTC(2012, 0, 1) + r.int(12 * 365 * 86400) * 1000;
      id = ((BigInt(createdMs - TWEPOCH) << 22n) | BigInt(i & 0x3fffff)).toString();
    }
    const verified = r.chance(0.04);
    const followers = Math.floor((2_000_000 / Math.pow(i + 1, 0.9)) * (0.5 + r.float()));
    let img = '';
    for (let k = 0; k < 8; k++) img += BASE62[r.int(62)];
    return {
      idx: i,
      id,
      username,
      name,
      homeLang,
      createdAt: new Date(createdMs).toISOString(),
      description: r.pick(DESCRIPTIONS),
      location: r.pick(LOCATIONS),
      verified,
      verifiedType: verified ? (r.chance(0.9) ? 'blue' : 'business') : 'none',
      protected: false,
      profileImageUrl: `https://pbs.twimg.com/profile_images/${100000 + i}/${img}_normal.jpg`,
      url: r.chance(0.3) ? `https://t.co/${img}` : '',
      followers,
      following: r.int(2000),
      tweetCount: r.int(50_000),
      listed: r.int(500),
      likeCount: r.int(100_000),
      mediaCount: r.int(3000),
    };
  }

  /** Which author writes post `seq` (skewed: low indexes post more, like real accounts). */
  private authorIndex(r: Rng): number {
    const u = r.float();
    return Math.floor(this.authors.length * u * u);
  }

  /**
   * Post `seq`. `entry` is the Timeline entry holding it when the caller walks seqs in order
   * (saves a binary search); otherwise it is looked up.
   */
  post(seq: number, entry = this.timeline.entryOf(seq)): Post {
    const r = new Rng(this.seed, seq % 4294967296, Math.floor(seq / 4294967296));
    const author = this.authors[this.authorIndex(r)];
    const ms = this.timeline.entryMs(entry);
    const sec = Math.floor(ms / 1000);
    if (sec !== this.isoCacheSec) {
      this.isoCacheSec = sec;
      this.isoCache = isoSeconds(ms);
    }
    let lang: Lang;
    let text: string;
    const hashtags: string[] = [];
    let mentionIdx = -1;
    let hasLink = false;
    if (r.chance(0.05)) {
      lang = 'und';
      text = '';
      const n = 1 + r.int(5);
      for (let k = 0; k < n; k++) text += r.pick(EMOJI);
    } else {
      lang = r.chance(0.85) ? author.homeLang : weighted(r, HOME_LANGS);
      const c = CORPUS[lang];
      const sep = r.chance(0.05) ? '\n' : c.sep;
      text = r.pick(c.openers);
      const middles = 1 + r.int(2);
      for (let k = 0; k < middles; k++) text += (k === 0 && c.sep === '' ? '' : sep) + r.pick(c.middles);
      if (r.chance(0.6)) text += (c.sep === '' ? '' : ' ') + r.pick(c.closers);
      if (r.chance(0.4)) text += ' ' + r.pick(EMOJI);
      if (r.chance(0.35)) {
        const tag = r.pick(c.hashtags);
        hashtags.push(tag.slice(1));
        text += ' ' + tag;
      }
      if (r.chance(0.12)) {
        mentionIdx = r.int(this.authors.length);
        text += ' @' + this.authors[mentionIdx].username;
      }
      if (r.chance(0.08)) {
        hasLink = true;
        let code = '';
        for (let k = 0; k < 10; k++) code += BASE62[r.int(62)];
        text += ' https://t.co/' + code;
      }
    }
    const likes = r.chance(0.6) ? 0 : r.int(r.chance(0.1) ? 5000 : 50);
    return {
      seq,
      id: this.timeline.idIn(entry, seq),
      ms,
      createdAt: this.isoCache,
      text,
      lang,
      author,
      mentionIdx,
      hasLink,
      hashtags,
      publicMetrics: {
        retweet_count: likes ? r.int(likes / 3 + 1) : 0,
        reply_count: likes ? r.int(likes / 5 + 1) : 0,
        like_count: likes,
        quote_count: likes ? r.int(likes / 20 + 1) : 0,
        bookmark_count: likes ? r.int(likes / 10 + 1) : 0,
        impression_count: likes * 30 + r.int(200),
      },
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Serialisation: X's JSON, keys in X's (alphabetical) order, built by concatenation.

export const TWEET_FIELDS = [
  'article', 'attachments', 'author_id', 'card_uri', 'community_id', 'context_annotations', 'conversation_id',
  'created_at', 'display_text_range', 'edit_controls', 'edit_history_tweet_ids', 'entities', 'geo', 'id',
  'in_reply_to_user_id', 'lang', 'media_metadata', 'non_public_metrics', 'note_tweet', 'organic_metrics',
  'possibly_sensitive', 'promoted_metrics', 'public_metrics', 'referenced_tweets', 'reply_settings', 'scopes',
  'source', 'text', 'withheld',
];
export const USER_FIELDS = [
  'affiliation', 'connection_status', 'created_at', 'description', 'entities', 'id', 'is_identity_verified',
  'location', 'most_recent_tweet_id', 'name', 'parody', 'pinned_tweet_id', 'profile_banner_url',
  'profile_image_url', 'protected', 'public_metrics', 'receives_your_dm', 'subscription', 'subscription_type',
  'url', 'username', 'verified', 'verified_followers_count', 'verified_type', 'withheld',
];
export const EXPANSIONS = [
  'article.cover_media', 'article.media_entities', 'attachments.media_keys', 'attachments.media_source_tweet',
  'attachments.poll_ids', 'author_id', 'edit_history_tweet_ids', 'entities.mentions.username', 'geo.place_id',
  'in_reply_to_user_id', 'entities.note.mentions.username', 'referenced_tweets.id',
  'referenced_tweets.id.attachments.media_keys', 'referenced_tweets.id.author_id',
];
export const MEDIA_FIELDS = ['alt_text', 'duration_ms', 'height', 'media_key', 'non_public_metrics', 'organic_metrics', 'preview_image_url', 'promoted_metrics', 'public_metrics', 'type', 'url', 'variants', 'width'];
export const POLL_FIELDS = ['duration_minutes', 'end_datetime', 'id', 'options', 'voting_status'];
export const PLACE_FIELDS = ['contained_within', 'country', 'country_code', 'full_name', 'geo', 'id', 'name', 'place_type'];

export interface FieldSelection {
  tweetFields: ReadonlySet<string>;
  userFields: ReadonlySet<string>;
  expansions: ReadonlySet<string>;
}

const q = (s: string): string => JSON.stringify(s);

function codePointLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff) n++;
  }
  return n;
}

/** Entities X would report for our texts: hashtags, mentions, urls (code point offsets). */
function entitiesJson(p: Post, gen: PostGenerator): string {
  const parts: string[] = [];
  const hashtags: string[] = [];
  const mentions: string[] = [];
  const urls: string[] = [];
  const re = /(#[^\s#@]+)|(@[A-Za-z0-9_]+)|(https:\/\/t\.co\/[A-Za-z0-9]+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(p.text))) {
    const start = codePointLength(p.text.slice(0, m.index));
    const end = start + codePointLength(m[0]);
    if (m[1]) hashtags.push(`{"end":${end},"start":${start},"tag":${q(m[1].slice(1))}}`);
    else if (m[2]) {
      const a = gen.authorByUsername(m[2].slice(1));
      mentions.push(`{"end":${end},"id":${q(a ? a.id : '0')},"start":${start},"username":${q(m[2].slice(1))}}`);
    } else urls.push(`{"display_url":"example.com/…","end":${end},"expanded_url":"https://example.com/","start":${start},"url":${q(m[3])}}`);
  }
  if (hashtags.length) parts.push(`"hashtags":[${hashtags.join(',')}]`);
  if (mentions.length) parts.push(`"mentions":[${mentions.join(',')}]`);
  if (urls.length) parts.push(`"urls":[${urls.join(',')}]`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

/** Builds the JSON of posts and users for one field selection. */
export class RecordSerializer {
  private readonly userCache: Array<string | undefined> = [];
  private readonly tf: ReadonlySet<string>;
  private readonly withAuthor: boolean;
  private readonly withMentions: boolean;

  constructor(
    private readonly gen: PostGenerator,
    readonly fields: FieldSelection,
  ) {
    this.tf = fields.tweetFields;
    this.withAuthor = fields.expansions.has('author_id');
    this.withMentions = fields.expansions.has('entities.mentions.username');
  }

  /** The post object (`data`), as JSON. */
  data(p: Post): string {
    const tf = this.tf;
    let s = '{';
    if (tf.has('author_id')) s += `"author_id":"${p.author.id}",`;
    if (tf.has('conversation_id')) s += `"conversation_id":"${p.id}",`;
    if (tf.has('created_at')) s += `"created_at":"${p.createdAt}",`;
    if (tf.has('edit_controls')) {
      s += `"edit_controls":{"editable_until":"${new Date(Math.floor(p.ms / 1000) * 1000 + 3_600_000).toISOString()}","edits_remaining":5,"is_edit_eligible":true},`;
    }
    s += `"edit_history_tweet_ids":["${p.id}"],`;
    if (tf.has('entities')) {
      const e = entitiesJson(p, this.gen);
      if (e) s += `"entities":${e},`;
    }
    s += `"id":"${p.id}",`;
    if (tf.has('lang')) s += `"lang":"${p.lang}",`;
    if (tf.has('possibly_sensitive')) s += '"possibly_sensitive":false,';
    if (tf.has('public_metrics')) {
      const m = p.publicMetrics;
      s += `"public_metrics":{"retweet_count":${m.retweet_count},"reply_count":${m.reply_count},"like_count":${m.like_count},"quote_count":${m.quote_count},"bookmark_count":${m.bookmark_count},"impression_count":${m.impression_count}},`;
    }
    if (tf.has('reply_settings')) s += '"reply_settings":"everyone",';
    s += `"text":${q(p.text)}}`;
    return s;
  }

  /** `,"includes":{...}` for the expansions asked for, or ''. */
  includes(p: Post): string {
    if (!this.withAuthor && !(this.withMentions && p.mentionIdx >= 0)) return '';
    let users = this.withAuthor ? this.user(p.author.idx) : '';
    if (this.withMentions && p.mentionIdx >= 0 && !(this.withAuthor && p.mentionIdx === p.author.idx)) {
      users += (users ? ',' : '') + this.user(p.mentionIdx);
    }
    return `,"includes":{"users":[${users}]}`;
  }

  /** A user object, as JSON (cached: authors do not change). */
  user(idx: number): string {
    const cached = this.userCache[idx];
    if (cached !== undefined) return cached;
    const a = this.gen.authors[idx];
    const uf = this.fields.userFields;
    let s = '{';
    if (uf.has('created_at')) s += `"created_at":"${a.createdAt}",`;
    if (uf.has('description')) s += `"description":${q(a.description)},`;
    s += `"id":"${a.id}",`;
    if (uf.has('location') && a.location) s += `"location":${q(a.location)},`;
    s += `"name":${q(a.name)},`;
    if (uf.has('profile_image_url')) s += `"profile_image_url":${q(a.profileImageUrl)},`;
    if (uf.has('protected')) s += `"protected":${a.protected},`;
    if (uf.has('public_metrics')) {
      s += `"public_metrics":{"followers_count":${a.followers},"following_count":${a.following},"tweet_count":${a.tweetCount},"listed_count":${a.listed},"like_count":${a.likeCount},"media_count":${a.mediaCount}},`;
    }
    if (uf.has('url')) s += `"url":${q(a.url)},`;
    s += `"username":${q(a.username)}`;
    if (uf.has('verified')) s += `,"verified":${a.verified}`;
    if (uf.has('verified_type')) s += `,"verified_type":"${a.verifiedType}"`;
    s += '}';
    this.userCache[idx] = s;
    return s;
  }

  /** A whole post as a plain object (for tests; what the stream sends, parsed). */
  object(p: Post): { data: Record<string, unknown>; includes?: Record<string, unknown> } {
    const inc = this.includes(p);
    return JSON.parse(`{"data":${this.data(p)}${inc}}`) as { data: Record<string, unknown>; includes?: Record<string, unknown> };
  }
}
