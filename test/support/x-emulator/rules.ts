// X's filtered-stream / search query language, the part the emulator understands:
//
//   cat dog            both (AND is a space; it binds tighter than OR)
//   cat OR dog         either (OR in capitals; lowercase "or" is a keyword)
//   (cat OR dog) -bird grouping and negation (of a term, a phrase or a group)
//   "exact phrase"     phrase, case-insensitive
//   #hashtag @mention $cashtag
//   from:user to:user  username (without @) or numeric user id
//   lang:ko  is:verified is:retweet is:reply is:quote  has:hashtags has:mentions has:links
//   has:media has:images has:videos has:geo  sample:10  url:"t.co"  conversation_id:ID  bio:word
//
// Keywords match whole tokens of the text, case-insensitively; keywords written in CJK/Hangul
// scripts or emoji match as substrings (those scripts do not separate words the way X's
// tokenizer needs). Like X, a rule must contain a positive term that stands alone: is:, has:,
// lang: and sample: only narrow other terms. Other operators of X's full list are accepted and
// never match (the synthetic posts have no replies, media or places).
import type { Post, PostGenerator } from './posts';

export const MAX_RULE_LENGTH = 512;

export class RuleSyntaxError extends Error {
  constructor(
    readonly details: string[],
    readonly position = 1,
  ) {
    super(details.join('; '));
  }
}

type Node =
  | { k: 'and'; c: Node[] }
  | { k: 'or'; c: Node[] }
  | { k: 'not'; c: Node }
  | { k: 'kw'; v: string }
  | { k: 'phrase'; v: string }
  | { k: 'hashtag'; v: string }
  | { k: 'mention'; v: string }
  | { k: 'cashtag'; v: string }
  | { k: 'op'; name: string; v: string };

/** Operators that can stand alone. */
const STANDALONE_OPS = new Set([
  'from', 'to', 'url', 'retweets_of', 'context', 'entity', 'conversation_id', 'bio', 'bio_name',
  'bio_location', 'place', 'place_country', 'point_radius', 'bounding_box', 'in_reply_to_tweet_id',
  'retweets_of_tweet_id', 'quotes_of_tweet_id', 'url_title', 'url_description', 'list', 'followers_count',
  'tweets_count', 'following_count', 'listed_count', 'url_contains',
]);
/** Operators that need a standalone term beside them. */
const CONJUNCTION_OPS = new Set(['is', 'has', 'lang', 'sample']);
const IS_VALUES = new Set(['retweet', 'reply', 'quote', 'verified', 'nullcast']);
const HAS_VALUES = new Set(['hashtags', 'cashtags', 'links', 'mentions', 'media', 'images', 'videos', 'geo']);

interface Token {
  t: '(' | ')' | 'OR' | 'NEG' | 'word' | 'phrase' | 'opq';
  v: string;
  name?: string;
  pos: number; // 1-based, as X reports positions
}

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = src.length;
  const readQuoted = (start: number): { v: string; next: number } => {
    const close = src.indexOf('"', start + 1);
    if (close < 0) throw new RuleSyntaxError([`Unterminated quoted phrase (at position ${start + 1})`], start + 1);
    return { v: src.slice(start + 1, close), next: close + 1 };
  };
  while (i < n) {
    const c = src[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
    } else if (c === '(' || c === ')') {
      out.push({ t: c, v: c, pos: i + 1 });
      i++;
    } else if (c === '-' && i + 1 < n && src[i + 1] !== ' ') {
      out.push({ t: 'NEG', v: '-', pos: i + 1 });
      i++;
    } else if (c === '"') {
      const { v, next } = readQuoted(i);
      if (!v.trim()) throw new RuleSyntaxError([`Empty quoted phrase (at position ${i + 1})`], i + 1);
      out.push({ t: 'phrase', v, pos: i + 1 });
      i = next;
    } else {
      const start = i;
      while (i < n && !' \t\n\r()"'.includes(src[i])) i++;
      const word = src.slice(start, i);
      if (word.endsWith(':') && src[i] === '"') {
        const { v, next } = readQuoted(i);
        out.push({ t: 'opq', name: word.slice(0, -1).toLowerCase(), v, pos: start + 1 });
        i = next;
      } else if (word === 'OR') {
        out.push({ t: 'OR', v: word, pos: start + 1 });
      } else {
        out.push({ t: 'word', v: word, pos: start + 1 });
      }
    }
  }
  return out;
}

function leafOf(tok: Token): Node {
  if (tok.t === 'phrase') return { k: 'phrase', v: tok.v.toLowerCase() };
  if (tok.t === 'opq') return operator(tok.name!, tok.v, tok.pos);
  const w = tok.v;
  if (w.length > 1 && w[0] === '#') return { k: 'hashtag', v: w.slice(1).toLowerCase() };
  if (w.length > 1 && w[0] === '@') return { k: 'mention', v: w.slice(1).toLowerCase() };
  if (w.length > 1 && w[0] === '$' && !/^\$\d/.test(w)) return { k: 'cashtag', v: w.slice(1).toLowerCase() };
  const colon = w.indexOf(':');
  if (colon > 0 && !/^https?:\/\//i.test(w)) return operator(w.slice(0, colon).toLowerCase(), w.slice(colon + 1), tok.pos);
  return { k: 'kw', v: w.toLowerCase() };
}

function operator(name: string, value: string, pos: number): Node {
  if (!STANDALONE_OPS.has(name) && !CONJUNCTION_OPS.has(name)) {
    throw new RuleSyntaxError(
      [
        `Reference to invalid operator '${name}'. Operator is not available in current product or product packaging. ` +
          `Please refer to complete available operator list at https://developer.x.com/en/docs/twitter-api/tweets/filtered-stream/integrate/build-a-rule. (at position ${pos})`,
      ],
      pos,
    );
  }
  const v = value.toLowerCase();
  if (!value) throw new RuleSyntaxError([`The operator '${name}:' needs a value (at position ${pos})`], pos);
  if (name === 'is' && !IS_VALUES.has(v)) throw new RuleSyntaxError([`Reference to invalid field '${value}' for operator 'is:' (at position ${pos})`], pos);
  if (name === 'has' && !HAS_VALUES.has(v)) throw new RuleSyntaxError([`Reference to invalid field '${value}' for operator 'has:' (at position ${pos})`], pos);
  if (name === 'lang' && !/^[a-z]{2,3}(-[a-z0-9]+)?$/.test(v)) throw new RuleSyntaxError([`Invalid language '${value}' (at position ${pos})`], pos);
  if (name === 'sample') {
    const pct = Number(v);
    if (!Number.isInteger(pct) || pct < 1 || pct > 100) throw new RuleSyntaxError([`sample: takes a whole percentage from 1 to 100 (at position ${pos})`], pos);
  }
  return { k: 'op', name, v };
}

function parse(src: string): Node {
  const toks = tokenize(src);
  let i = 0;
  const parseOr = (depth: number): Node => {
    const parts: Node[] = [parseAnd(depth)];
    while (i < toks.length && toks[i].t === 'OR') {
      const orTok = toks[i++];
      if (i >= toks.length || toks[i].t === ')' || toks[i].t === 'OR') {
        throw new RuleSyntaxError([`Ambiguous use of OR: it needs a term on both sides (at position ${orTok.pos})`], orTok.pos);
      }
      parts.push(parseAnd(depth));
    }
    return parts.length === 1 ? parts[0] : { k: 'or', c: parts };
  };
  const parseAnd = (depth: number): Node => {
    const parts: Node[] = [];
    while (i < toks.length && toks[i].t !== 'OR' && toks[i].t !== ')') parts.push(parseUnary(depth));
    if (parts.length === 0) {
      const tok = toks[i];
      if (tok?.t === 'OR') throw new RuleSyntaxError([`Ambiguous use of OR: it needs a term on both sides (at position ${tok.pos})`], tok.pos);
      const pos = tok ? tok.pos : src.length;
      throw new RuleSyntaxError([`Empty group (at position ${pos})`], pos);
    }
    return parts.length === 1 ? parts[0] : { k: 'and', c: parts };
  };
  const parseUnary = (depth: number): Node => {
    const tok = toks[i];
    if (tok.t === 'NEG') {
      i++;
      if (i >= toks.length || toks[i].t === ')' || toks[i].t === 'OR') {
        throw new RuleSyntaxError([`Negation must be followed by a term (at position ${tok.pos})`], tok.pos);
      }
      return { k: 'not', c: parseAtom(depth) };
    }
    return parseAtom(depth);
  };
  const parseAtom = (depth: number): Node => {
    const tok = toks[i++];
    if (tok.t === '(') {
      const inner = parseOr(depth + 1);
      if (i >= toks.length || toks[i].t !== ')') throw new RuleSyntaxError([`Unbalanced parentheses: '(' is never closed (at position ${tok.pos})`], tok.pos);
      i++;
      return inner;
    }
    return leafOf(tok);
  };
  if (toks.length === 0) throw new RuleSyntaxError(['Rule is empty']);
  const root = parseOr(0);
  if (i < toks.length) {
    const tok = toks[i];
    throw new RuleSyntaxError([`Unbalanced parentheses: unexpected ')' (at position ${tok.pos})`], tok.pos);
  }
  return root;
}

type Standing = 0 | 1 | 2; // none, conjunction-only, standalone

function standing(n: Node): Standing {
  switch (n.k) {
    case 'not':
      return 0;
    case 'and': {
      let best: Standing = 0;
      for (const c of n.c) best = Math.max(best, standing(c)) as Standing;
      return best;
    }
    case 'or': {
      // X looks at the rule as a whole: one branch that stands alone is enough.
      let best: Standing = 0;
      for (const c of n.c) best = Math.max(best, standing(c)) as Standing;
      return best;
    }
    case 'op':
      return CONJUNCTION_OPS.has(n.name) ? 1 : 2;
    default:
      return 2;
  }
}

// ---------------------------------------------------------------------------------------------
// Matching

const NON_SPACED = /[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef\u{1f000}-\u{1faff}\u2600-\u27bf]/u;
const TOKEN_SPLIT = /[^\p{L}\p{N}\p{M}_]+/u;

/** The lazily-computed views of one post that rules look at; shared by all rules. */
export class MatchView {
  private _lower?: string;
  private _tokens?: Set<string>;
  private _mentions?: Set<string>;
  constructor(
    readonly post: Post,
    private readonly gen: PostGenerator,
  ) {}
  get lower(): string {
    return (this._lower ??= this.post.text.toLowerCase());
  }
  get tokens(): Set<string> {
    return (this._tokens ??= new Set(this.lower.split(TOKEN_SPLIT)));
  }
  get mentions(): Set<string> {
    if (!this._mentions) {
      this._mentions = new Set();
      const re = /@([a-z0-9_]+)/g;
      let m: RegExpExecArray | null;
      while ((m = re.exec(this.lower))) this._mentions.add(m[1]);
    }
    return this._mentions;
  }
  get generator(): PostGenerator {
    return this.gen;
  }
}

export type Matcher = (v: MatchView) => boolean;

function idHash100(id: string): number {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (Math.imul(h, 31) + id.charCodeAt(i)) | 0;
  return ((h >>> 0) % 100) + 1;
}

function compile(n: Node): Matcher {
  switch (n.k) {
    case 'and': {
      const cs = n.c.map(compile);
      return (v) => cs.every((c) => c(v));
    }
    case 'or': {
      const cs = n.c.map(compile);
      return (v) => cs.some((c) => c(v));
    }
    case 'not': {
      const c = compile(n.c);
      return (v) => !c(v);
    }
    case 'kw': {
      const w = n.v;
      if (NON_SPACED.test(w)) return (v) => v.lower.includes(w);
      const parts = w.split(TOKEN_SPLIT).filter(Boolean);
      if (parts.length === 0) return (v) => v.lower.includes(w);
      if (parts.length === 1) return (v) => v.tokens.has(parts[0]);
      return (v) => v.lower.includes(w); // punctuated keyword such as "q&a": match as written
    }
    case 'phrase': {
      const w = n.v;
      return (v) => v.lower.includes(w);
    }
    case 'hashtag': {
      const w = n.v;
      return (v) => v.post.hashtags.some((h) => h.toLowerCase() === w);
    }
    case 'mention': {
      const w = n.v;
      return (v) => v.mentions.has(w);
    }
    case 'cashtag': {
      const w = '$' + n.v;
      return (v) => v.lower.includes(w);
    }
    case 'op':
      return compileOp(n.name, n.v);
  }
}

function compileOp(name: string, raw: string): Matcher {
  const val = raw.toLowerCase();
  switch (name) {
    case 'from':
      return (v) => v.post.author.username.toLowerCase() === val || v.post.author.id === raw;
    case 'lang':
      return (v) => v.post.lang === val;
    case 'is':
      if (val === 'verified') return (v) => v.post.author.verified;
      return () => false;
    case 'has':
      if (val === 'hashtags') return (v) => v.post.hashtags.length > 0;
      if (val === 'mentions') return (v) => v.post.mentionIdx >= 0;
      if (val === 'links') return (v) => v.post.hasLink;
      return () => false;
    case 'sample': {
      const pct = Number(val);
      return (v) => idHash100(v.post.id) <= pct;
    }
    case 'url':
    case 'url_contains':
      return (v) => v.lower.includes(val);
    case 'conversation_id':
      return (v) => v.post.id === raw;
    case 'bio':
      return (v) => v.post.author.description.toLowerCase().includes(val);
    case 'bio_name':
      return (v) => v.post.author.name.toLowerCase().includes(val);
    case 'bio_location':
      return (v) => v.post.author.location.toLowerCase().includes(val);
    default:
      return () => false;
  }
}

/** A checked, compiled query. Throws RuleSyntaxError (with X-like details) when invalid. */
export function compileQuery(value: unknown, maxLength = MAX_RULE_LENGTH): Matcher {
  if (typeof value !== 'string' || value.trim() === '') throw new RuleSyntaxError(['Rule is empty']);
  if (value.length > maxLength) {
    throw new RuleSyntaxError([`Rule is too long: ${value.length} characters, the limit is ${maxLength}`]);
  }
  const root = parse(value);
  const s = standing(root);
  if (s === 0) throw new RuleSyntaxError(['Rules must contain a non-negation term (at position 1)']);
  if (s === 1) {
    throw new RuleSyntaxError([
      'Rules must contain at least one standalone term; is:, has:, lang: and sample: can only narrow other terms (at position 1)',
    ]);
  }
  return compile(root);
}

/** Checks a query; returns the details of what is wrong, or undefined when it is valid. */
export function validateQuery(value: unknown, maxLength = MAX_RULE_LENGTH): string[] | undefined {
  try {
    compileQuery(value, maxLength);
    return undefined;
  } catch (err) {
    if (err instanceof RuleSyntaxError) return err.details;
    throw err;
  }
}
