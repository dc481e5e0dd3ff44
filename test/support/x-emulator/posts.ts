// Synthetic posts: a pure function of (seed, seq) for the content (author, language, text,
// metrics) plus the Timeline for the id and creation time. Nothing is stored per post, so any
// post can be regenerated exactly, and generating one costs a few string concatenations.
import { CORPUS, DESCRIPTIONS, EMOJI, FIRST_NAMES_EN, LAST_NAMES_EN, LOCATIONS, NAMES_ES, NAMES_JA, NAMES_KO, ROMAN_ES, ROMAN_JA, ROMAN_KO, type Lang } from './corpus';
import { referencedPostProblem } from './stream-problems';
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
  /** Attachments, place and referenced post: made on demand (PostGenerator.extras). */
  extras?: PostExtras;
}

export interface MediaItem {
  /** `<type digit>_<number>`, the form of X's media keys (3 photo, 7 video, 16 animated GIF). */
  key: string;
  type: 'photo' | 'video' | 'animated_gif';
  width: number;
  height: number;
  altText: string;
  durationMs: number;
  viewCount: number;
  /** Random part of the media URLs. */
  code: string;
}

export interface PollInfo {
  id: string;
  options: Array<{ position: number; label: string; votes: number }>;
  durationMinutes: number;
  /** end_datetime, epoch ms. */
  endMs: number;
}

export interface PlaceInfo {
  id: string;
  fullName: string;
  name: string;
  country: string;
  countryCode: string;
  placeType: 'city' | 'admin' | 'poi';
  bbox: [number, number, number, number];
}

export interface PostRef {
  type: 'quoted' | 'replied_to';
  seq: number;
  id: string;
  /** 'deleted' / 'protected': the referenced post cannot be expanded (a partial error instead). */
  state: 'ok' | 'deleted' | 'protected';
}

/** What some posts carry besides text: all a pure function of (seed, seq). */
export interface PostExtras {
  media: MediaItem[];
  poll: PollInfo | null;
  place: PlaceInfo | null;
  ref: PostRef | null;
}

/** Places posts are tagged with (made-up ids, real-world bounding boxes). */
const PLACES: PlaceInfo[] = [
  { id: '0a1b2c3d4e5f6071', fullName: 'Seoul, Republic of Korea', name: 'Seoul', country: 'Republic of Korea', countryCode: 'KR', placeType: 'city', bbox: [126.76, 37.41, 127.18, 37.7] },
  { id: '1b2c3d4e5f607182', fullName: 'Busan, Republic of Korea', name: 'Busan', country: 'Republic of Korea', countryCode: 'KR', placeType: 'city', bbox: [128.76, 34.88, 129.3, 35.39] },
  { id: '2c3d4e5f60718293', fullName: 'Shibuya-ku, Tokyo', name: 'Shibuya-ku', country: 'Japan', countryCode: 'JP', placeType: 'city', bbox: [139.66, 35.64, 139.72, 35.69] },
  { id: '3d4e5f60718293a4', fullName: 'Osaka-shi, Osaka', name: 'Osaka-shi', country: 'Japan', countryCode: 'JP', placeType: 'city', bbox: [135.41, 34.58, 135.59, 34.74] },
  { id: '4e5f60718293a4b5', fullName: 'Madrid, España', name: 'Madrid', country: 'España', countryCode: 'ES', placeType: 'city', bbox: [-3.89, 40.31, -3.52, 40.64] },
  { id: '5f60718293a4b5c6', fullName: 'San Francisco, CA', name: 'San Francisco', country: 'United States', countryCode: 'US', placeType: 'city', bbox: [-122.51, 37.71, -122.36, 37.83] },
  { id: '60718293a4b5c6d7', fullName: 'London, England', name: 'London', country: 'United Kingdom', countryCode: 'GB', placeType: 'city', bbox: [-0.51, 51.29, 0.33, 51.69] },
  { id: '718293a4b5c6d7e8', fullName: 'Gangnam Station', name: 'Gangnam Station', country: 'Republic of Korea', countryCode: 'KR', placeType: 'poi', bbox: [127.0276, 37.4979, 127.0276, 37.4979] },
];
const POLL_LABELS = ['Yes', 'No', 'Maybe', 'Kafka', 'Pulsar', 'Redpanda', '좋아요', '별로', 'はい', 'いいえ', 'Sí', 'Tal vez', '☕', '🍵'];
const ALT_TEXTS = ['A cup of coffee on a wooden table', 'Screenshot of a dashboard', '카페 창가 풍경', '夕焼けの街並み', 'Un perro en la playa', ''];

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

  /**
   * Media, poll, place and referenced post of `p` (computed once per Post object). Drawn from a
   * stream of their own, so the text, author and metrics of every post stay what they were
   * before extras existed. About 12 % of posts carry media, 2 % a poll, 4 % a place, 10 %
   * quote or reply to an earlier post, of which 8 % deleted and 5 % protected since.
   */
  extras(p: Post): PostExtras {
    if (p.extras) return p.extras;
    const seq = p.seq;
    const r = new Rng(this.seed ^ 0x2545f491, seq % 4294967296, Math.floor(seq / 4294967296) + 0x51);
    const media: MediaItem[] = [];
    let poll: PollInfo | null = null;
    if (r.chance(0.12)) {
      const u = r.float();
      const type: MediaItem['type'] = u < 0.8 ? 'photo' : u < 0.92 ? 'video' : 'animated_gif';
      const n = type === 'photo' ? 1 + r.int(4) : 1;
      const base = BigInt(p.id);
      for (let k = 0; k < n; k++) {
        let code = '';
        for (let i = 0; i < 15; i++) code += BASE62[r.int(62)];
        const landscape = r.chance(0.6);
        media.push({
          key: `${type === 'photo' ? 3 : type === 'video' ? 7 : 16}_${base - BigInt(k + 1)}`,
          type,
          width: landscape ? 1200 : 900,
          height: landscape ? 675 : 1200,
          altText: r.pick(ALT_TEXTS),
          durationMs: type === 'video' ? 3000 + r.int(120_000) : 0,
          viewCount: type === 'video' ? r.int(100_000) : 0,
          code,
        });
      }
    } else if (r.chance(0.02)) {
      const n = 2 + r.int(3);
      const durationMinutes = r.pick([5, 60, 1440, 10080]);
      const options = [];
      for (let k = 0; k < n; k++) options.push({ position: k + 1, label: r.pick(POLL_LABELS), votes: r.int(500) });
      poll = { id: String(BigInt(p.id) - 7n), options, durationMinutes, endMs: Math.floor(p.ms / 1000) * 1000 + durationMinutes * 60_000 };
    }
    const place = r.chance(0.04) ? r.pick(PLACES) : null;
    let ref: PostRef | null = null;
    if (seq > 0 && r.chance(0.1)) {
      const refSeq = seq - 1 - r.int(Math.min(seq, 500));
      const u = r.float();
      ref = { type: r.chance(0.55) ? 'quoted' : 'replied_to', seq: refSeq, id: this.timeline.idOf(refSeq), state: u < 0.08 ? 'deleted' : u < 0.13 ? 'protected' : 'ok' };
    }
    p.extras = { media, poll, place, ref };
    return p.extras;
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
  mediaFields?: ReadonlySet<string>;
  pollFields?: ReadonlySet<string>;
  placeFields?: ReadonlySet<string>;
}

/**
 * The key of expanded posts in `includes`. X's data dictionary, expansion examples and the
 * v2.159 spec call it `tweets`; the v2.167 spec (2026) renames the schema property `posts`.
 * The emulator follows the docs.
 */
export const INCLUDED_POSTS_KEY = 'tweets';

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
  private readonly withMedia: boolean;
  private readonly withPolls: boolean;
  private readonly withPlaces: boolean;
  private readonly withRefs: boolean;
  private readonly withRefAuthors: boolean;
  private readonly withReplyUser: boolean;
  /** Some field or expansion asked for needs the post's extras. */
  private readonly needExtras: boolean;
  private readonly mf: ReadonlySet<string>;
  private readonly pf: ReadonlySet<string>;
  private readonly plf: ReadonlySet<string>;

  constructor(
    private readonly gen: PostGenerator,
    readonly fields: FieldSelection,
  ) {
    this.tf = fields.tweetFields;
    const ex = fields.expansions;
    this.withAuthor = ex.has('author_id');
    this.withMentions = ex.has('entities.mentions.username');
    this.withMedia = ex.has('attachments.media_keys');
    this.withPolls = ex.has('attachments.poll_ids');
    this.withPlaces = ex.has('geo.place_id');
    this.withRefs = ex.has('referenced_tweets.id');
    this.withRefAuthors = ex.has('referenced_tweets.id.author_id');
    this.withReplyUser = ex.has('in_reply_to_user_id');
    this.mf = fields.mediaFields ?? new Set();
    this.pf = fields.pollFields ?? new Set();
    this.plf = fields.placeFields ?? new Set();
    this.needExtras =
      this.withMedia || this.withPolls || this.withPlaces || this.withRefs || this.withRefAuthors || this.withReplyUser ||
      ['attachments', 'geo', 'referenced_tweets', 'in_reply_to_user_id'].some((f) => this.tf.has(f));
  }

  /**
   * The post object (`data`), as JSON. An expansion brings the field it expands into `data`
   * even without the tweet.fields entry, as X's expansion examples show (expansions=author_id
   * alone gives data.author_id).
   */
  data(p: Post): string {
    const tf = this.tf;
    const x = this.needExtras ? this.gen.extras(p) : undefined;
    let s = '{';
    if (x) {
      const mediaKeys = x.media.length && (tf.has('attachments') || this.withMedia);
      const pollIds = x.poll && (tf.has('attachments') || this.withPolls);
      if (mediaKeys || pollIds) {
        s += '"attachments":{';
        if (mediaKeys) s += `"media_keys":[${x.media.map((m) => `"${m.key}"`).join(',')}]`;
        if (pollIds) s += `${mediaKeys ? ',' : ''}"poll_ids":["${x.poll!.id}"]`;
        s += '},';
      }
    }
    if (tf.has('author_id') || this.withAuthor) s += `"author_id":"${p.author.id}",`;
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
    if (x?.place && (tf.has('geo') || this.withPlaces)) s += `"geo":{"place_id":"${x.place.id}"},`;
    s += `"id":"${p.id}",`;
    if (x?.ref?.type === 'replied_to' && (tf.has('in_reply_to_user_id') || this.withReplyUser)) {
      s += `"in_reply_to_user_id":"${this.refAuthor(x.ref).id}",`;
    }
    if (tf.has('lang')) s += `"lang":"${p.lang}",`;
    if (tf.has('possibly_sensitive')) s += '"possibly_sensitive":false,';
    if (tf.has('public_metrics')) {
      const m = p.publicMetrics;
      s += `"public_metrics":{"retweet_count":${m.retweet_count},"reply_count":${m.reply_count},"like_count":${m.like_count},"quote_count":${m.quote_count},"bookmark_count":${m.bookmark_count},"impression_count":${m.impression_count}},`;
    }
    if (x?.ref && (tf.has('referenced_tweets') || this.withRefs)) s += `"referenced_tweets":[{"type":"${x.ref.type}","id":"${x.ref.id}"}],`;
    if (tf.has('reply_settings')) s += '"reply_settings":"everyone",';
    s += `"text":${q(p.text)}}`;
    return s;
  }

  private refAuthor(ref: PostRef): Author {
    return this.gen.post(ref.seq).author;
  }

  /** `,"includes":{...}` for the expansions asked for, or ''. */
  includes(p: Post): string {
    if (!this.needExtras) {
      if (!this.withAuthor && !(this.withMentions && p.mentionIdx >= 0)) return '';
      let users = this.withAuthor ? this.user(p.author.idx) : '';
      if (this.withMentions && p.mentionIdx >= 0 && !(this.withAuthor && p.mentionIdx === p.author.idx)) {
        users += (users ? ',' : '') + this.user(p.mentionIdx);
      }
      return `,"includes":{"users":[${users}]}`;
    }
    const x = this.gen.extras(p);
    const userIdx: number[] = [];
    const addUser = (i: number): void => {
      if (!userIdx.includes(i)) userIdx.push(i);
    };
    if (this.withAuthor) addUser(p.author.idx);
    if (this.withMentions && p.mentionIdx >= 0) addUser(p.mentionIdx);
    const parts: string[] = [];
    if (this.withMedia && x.media.length) parts.push(`"media":[${x.media.map((m) => this.media(m)).join(',')}]`);
    if (this.withPlaces && x.place) parts.push(`"places":[${this.place(x.place)}]`);
    if (this.withPolls && x.poll) parts.push(`"polls":[${this.poll(x.poll)}]`);
    const ref = x.ref;
    if (ref && ref.state === 'ok') {
      const refPost = this.gen.post(ref.seq);
      if (this.withRefs) parts.push(`"${INCLUDED_POSTS_KEY}":[${this.data(refPost)}]`);
      if (this.withRefAuthors) addUser(refPost.author.idx);
    }
    if (ref && ref.type === 'replied_to' && this.withReplyUser && ref.state !== 'deleted') addUser(this.refAuthor(ref).idx);
    if (userIdx.length) parts.push(`"users":[${userIdx.map((i) => this.user(i)).join(',')}]`);
    return parts.length ? `,"includes":{${parts.join(',')}}` : '';
  }

  /**
   * `,"errors":[...]` when an expansion asked for could not be included (a referenced post
   * deleted or protected since), or ''. X sends such partial errors beside `data`.
   */
  errors(p: Post): string {
    if (!this.withRefs && !this.withRefAuthors) return '';
    const ref = this.gen.extras(p).ref;
    if (!ref || ref.state === 'ok') return '';
    return `,"errors":[${JSON.stringify(referencedPostProblem(ref.id, ref.state))}]`;
  }

  /** A media object: media_key and type always, the rest as media.fields asks (per type, as X's spec). */
  private media(m: MediaItem): string {
    const f = this.mf;
    const isVideo = m.type === 'video';
    const moving = m.type !== 'photo';
    let s = '{';
    if (f.has('alt_text') && !isVideo && m.altText) s += `"alt_text":${q(m.altText)},`;
    if (f.has('duration_ms') && isVideo) s += `"duration_ms":${m.durationMs},`;
    if (f.has('height')) s += `"height":${m.height},`;
    s += `"media_key":"${m.key}",`;
    if (f.has('preview_image_url') && moving) s += `"preview_image_url":"https://pbs.twimg.com/ext_tw_video_thumb/${m.key.split('_')[1]}/pu/img/${m.code}.jpg",`;
    if (f.has('public_metrics') && isVideo) s += `"public_metrics":{"view_count":${m.viewCount}},`;
    s += `"type":"${m.type}"`;
    if (f.has('url') && m.type === 'photo') s += `,"url":"https://pbs.twimg.com/media/${m.code}.jpg"`;
    if (f.has('variants') && moving) {
      const path = `https://video.twimg.com/ext_tw_video/${m.key.split('_')[1]}/pu/vid`;
      s += `,"variants":[{"bit_rate":${isVideo ? 2176000 : 0},"content_type":"video/mp4","url":"${path}/1280x720/${m.code}.mp4"}`;
      if (isVideo) s += `,{"content_type":"application/x-mpegURL","url":"${path}/pl/${m.code}.m3u8"}`;
      s += ']';
    }
    if (f.has('width')) s += `,"width":${m.width}`;
    return s + '}';
  }

  /** A poll object: id and options always, the rest as poll.fields asks. */
  private poll(p: PollInfo): string {
    const f = this.pf;
    let s = '{';
    if (f.has('duration_minutes')) s += `"duration_minutes":${p.durationMinutes},`;
    if (f.has('end_datetime')) s += `"end_datetime":"${new Date(p.endMs).toISOString()}",`;
    s += `"id":"${p.id}","options":[${p.options.map((o) => `{"label":${q(o.label)},"position":${o.position},"votes":${o.votes}}`).join(',')}]`;
    if (f.has('voting_status')) s += `,"voting_status":"open"`;
    return s + '}';
  }

  /** A place object: full_name and id always, the rest as place.fields asks. */
  private place(p: PlaceInfo): string {
    const f = this.plf;
    let s = '{';
    if (f.has('country')) s += `"country":${q(p.country)},`;
    if (f.has('country_code')) s += `"country_code":"${p.countryCode}",`;
    s += `"full_name":${q(p.fullName)},`;
    if (f.has('geo')) s += `"geo":{"bbox":[${p.bbox.join(',')}],"properties":{},"type":"Feature"},`;
    s += `"id":"${p.id}"`;
    if (f.has('name')) s += `,"name":${q(p.name)}`;
    if (f.has('place_type')) s += `,"place_type":"${p.placeType}"`;
    return s + '}';
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
  object(p: Post): { data: Record<string, unknown>; includes?: Record<string, unknown>; errors?: Array<Record<string, unknown>> } {
    return JSON.parse(`{"data":${this.data(p)}${this.includes(p)}${this.errors(p)}}`) as {
      data: Record<string, unknown>;
      includes?: Record<string, unknown>;
      errors?: Array<Record<string, unknown>>;
    };
  }
}
