// The one record set of the producer benchmark: tweet-like JSON of exactly
// RECORD_BYTES bytes, keyed by the author's user id (a 19-digit decimal string).
//
// Record i = template (i % TEMPLATES): value = '{"seq":"' + i (9 digits) + suffix, key =
// the template's author. Every record is unique (seq), so a consumer can tell a
// duplicate or a loss; the seq sits at a fixed byte offset for a cheap read-back.
// The same templates are written to a file for the Java producer, which builds
// byte-identical records.
import * as fs from 'node:fs';

export const RECORD_BYTES = 1024;
export const TEMPLATES = 4096;
export const AUTHORS = 1500;
export const SEQ_PREFIX = '{"seq":"';
export const SEQ_OFFSET = SEQ_PREFIX.length; // 8
export const SEQ_DIGITS = 9;

export interface Template {
  key: string;
  /** the value after the seq digits */
  suffix: string;
}

function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

const WORDS = (
  'the a to and of in is it you that for on with this just my be are have so not at was me your but all like ' +
  'what can out up new one about get more when now do today time if people how we they love day good from ' +
  'kafka stream data event producer broker topic partition node red flow latency throughput batch linger ' +
  'coffee morning weekend music game team season match goal city night weather rain sun train release ' +
  'update launch open source community thread thanks great amazing happy sorry really never always still ' +
  'world news live breaking report watch video photo story follow share read check link week year'
).split(' ');
const LANGS = ['en', 'en', 'en', 'en', 'es', 'ja', 'pt', 'fr', 'de', 'ko'];
const SOURCES = ['Twitter for iPhone', 'Twitter for Android', 'Twitter Web App', 'TweetDeck', 'Buffer'];
const TAGS = ['kafka', 'nodered', 'streaming', 'iot', 'dataengineering', 'javascript', 'opensource', 'news'];

let cached: Template[] | undefined;

/** The TEMPLATES templates, deterministic. */
export function templates(): Template[] {
  if (cached) return cached;
  const next = xorshift(0x5eed1234);
  const id19 = (): string => (1_300_000_000_000_000_000n + BigInt(next()) * 1_000_003n + BigInt(next() % 1_000_000)).toString();
  const authors = Array.from({ length: AUTHORS }, () => ({
    id: id19(),
    username: `user_${(next() % 1e8).toString(36)}${(next() % 1e4).toString(36)}`,
    name: `${WORDS[next() % WORDS.length]} ${WORDS[next() % WORDS.length]}`.replace(/^./, (c) => c.toUpperCase()),
  }));
  const out: Template[] = [];
  const base = Date.UTC(2025, 5, 1, 12, 0, 0);
  for (let t = 0; t < TEMPLATES; t++) {
    const author = authors[next() % AUTHORS];
    const id = id19();
    const tag = TAGS[next() % TAGS.length];
    const created = new Date(base + (next() % 86_400_000)).toISOString();
    const metrics = {
      retweet_count: next() % 500,
      reply_count: next() % 100,
      like_count: next() % 5000,
      quote_count: next() % 50,
      bookmark_count: next() % 80,
      impression_count: next() % 200000,
    };
    const build = (text: string): string =>
      JSON.stringify({
        data: {
          id,
          text,
          author_id: author.id,
          conversation_id: id,
          created_at: created,
          lang: LANGS[next() % LANGS.length],
          possibly_sensitive: false,
          reply_settings: 'everyone',
          source: SOURCES[t % SOURCES.length],
          public_metrics: metrics,
          entities: { hashtags: [{ start: 0, end: tag.length + 1, tag }] },
          edit_history_tweet_ids: [id],
        },
        includes: { users: [{ id: author.id, name: author.name, username: author.username, verified: (t & 7) === 0 }] },
        matching_rules: [{ id: '1800000000000000001', tag: 'bench' }],
      }).slice(1); // without the leading '{': the seq field comes first
    // Fill the text with words until the whole value is RECORD_BYTES long.
    const fixed = SEQ_PREFIX.length + SEQ_DIGITS + '",'.length + build('').length;
    const room = RECORD_BYTES - fixed;
    let text = `#${tag} `;
    while (text.length < room) text += `${WORDS[next() % WORDS.length]} `;
    text = text.slice(0, room);
    if (text.endsWith(' ')) text = text.slice(0, -1) + '.';
    const suffix = '",' + build(text);
    if (SEQ_PREFIX.length + SEQ_DIGITS + suffix.length !== RECORD_BYTES || /[^\x20-\x7e]/.test(suffix)) {
      throw new Error(`template ${t}: not ${RECORD_BYTES} ASCII bytes`);
    }
    out.push({ key: author.id, suffix });
  }
  cached = out;
  return out;
}

const ZEROS = '000000000';
export function seqText(i: number): string {
  const s = String(i);
  return ZEROS.slice(s.length) + s;
}

/** Record i's value as a string (what the Node-RED source puts in msg.payload). */
export function valueOf(i: number, t: Template[] = templates()): string {
  return SEQ_PREFIX + seqText(i) + t[i % t.length].suffix;
}

export function keyOf(i: number, t: Template[] = templates()): string {
  return t[i % t.length].key;
}

/** Reads the seq back from a value; -1 when it is not one of ours. */
export function seqOf(value: Buffer): number {
  if (value.length < SEQ_OFFSET + SEQ_DIGITS || value[0] !== 0x7b) return -1;
  let n = 0;
  for (let i = SEQ_OFFSET; i < SEQ_OFFSET + SEQ_DIGITS; i++) {
    const d = value[i] - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** key TAB suffix, one template a line, for the Java producer. */
export function writeTemplatesFile(file: string): void {
  fs.writeFileSync(file, templates().map((t) => `${t.key}\t${t.suffix}`).join('\n') + '\n');
}

/** Full values, one a line, for ProducerPerformance --payload-file (seq = line number). */
export function writePayloadFile(file: string, lines = TEMPLATES): void {
  const t = templates();
  const out: string[] = [];
  for (let i = 0; i < lines; i++) out.push(valueOf(i, t));
  fs.writeFileSync(file, out.join('\n') + '\n');
}
