// Every translation under locales/<lang>/ must stay in step with locales/en-US/: the same
// message keys, the same __placeholders__ in each message, and a help page per node with the
// same data-help-name, the same sections and the same Kafka/Java config names. A missing or
// stale translation (a key added to en-US only, a renamed placeholder, a help text that lost
// a setting) fails here rather than showing English, raw keys or wrong help in the editor.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const localesDir = path.resolve(__dirname, '..', '..', 'locales');
const BASE = 'en-US';

type Messages = { [key: string]: string | Messages };

function filesOf(lang: string, ext: '.json' | '.html'): string[] {
  const dir = path.join(localesDir, lang);
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(ext))
    .map((f) => f.slice(0, -ext.length))
    .sort();
}

function readJson(lang: string, type: string): Messages {
  const file = path.join(localesDir, lang, `${type}.json`);
  const parsed: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
  assert.ok(parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed), `${lang}/${type}.json is not a JSON object`);
  return parsed as Messages;
}

function readHtml(lang: string, type: string): string {
  return fs.readFileSync(path.join(localesDir, lang, `${type}.html`), 'utf8');
}

/** Flattens nested messages to "a.b.c" → value; a leaf that is neither string nor object is reported as is. */
function flatten(messages: Messages, prefix = '', out = new Map<string, unknown>()): Map<string, unknown> {
  for (const [key, value] of Object.entries(messages)) {
    const p = prefix ? `${prefix}.${key}` : key;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) flatten(value, p, out);
    else out.set(p, value);
  }
  return out;
}

/** i18next's default interpolation in Node-RED: __name__. */
function placeholders(text: string): string[] {
  return [...new Set([...text.matchAll(/__(\w+?)__/g)].map((m) => m[1]))].sort();
}

function decodeEntities(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

/**
 * Dotted lower-case names (linger.ms, min.insync.replicas, delivery.timeout.ms, msg.topic, ...)
 * inside <code> elements and property-type spans: the config names and properties a help
 * page explains. Prose may be translated; these must not change or go missing.
 */
function configNames(html: string): string[] {
  const names = new Set<string>();
  const inside = [
    ...html.matchAll(/<code\b[^>]*>([\s\S]*?)<\/code>/g),
    ...html.matchAll(/<span\b[^>]*class="[^"]*\bproperty-type\b[^"]*"[^>]*>([\s\S]*?)<\/span>/g),
  ].map((m) => decodeEntities(m[1]));
  for (const text of inside) for (const m of text.matchAll(/\b[a-z]+(?:\.[a-z]+)+\b/g)) names.add(m[0]);
  return [...names].sort();
}

function helpNames(html: string): string[] {
  return [...html.matchAll(/<script\b[^>]*\bdata-help-name="([^"]*)"/g)].map((m) => m[1]).sort();
}

function count(html: string, tag: string): number {
  return [...html.matchAll(new RegExp(`<${tag}\\b`, 'g'))].length;
}

function diff(expected: string[], actual: string[]): string {
  const want = new Set(expected);
  const have = new Set(actual);
  const missing = expected.filter((x) => !have.has(x));
  const extra = actual.filter((x) => !want.has(x));
  return [missing.length ? `missing: ${missing.join(', ')}` : '', extra.length ? `not in ${BASE}: ${extra.join(', ')}` : '']
    .filter(Boolean)
    .join('; ');
}

const languages = fs
  .readdirSync(localesDir, { withFileTypes: true })
  .filter((d) => d.isDirectory() && d.name !== BASE)
  .map((d) => d.name)
  .sort();
const baseJson = filesOf(BASE, '.json');
const baseHtml = filesOf(BASE, '.html');

test(`${BASE} is the reference: it has message and help files`, () => {
  assert.ok(baseJson.length > 0, `no locales/${BASE}/*.json`);
  assert.ok(baseHtml.length > 0, `no locales/${BASE}/*.html`);
  for (const type of baseJson) {
    for (const [key, value] of flatten(readJson(BASE, type))) {
      assert.equal(typeof value, 'string', `${BASE}/${type}.json ${key} is not a string`);
    }
  }
});

for (const lang of languages) {
  test(`${lang}: has a message file and a help file for every ${BASE} one, and none besides`, () => {
    assert.deepEqual(filesOf(lang, '.json'), baseJson, `locales/${lang}/*.json: ${diff(baseJson, filesOf(lang, '.json'))}`);
    assert.deepEqual(filesOf(lang, '.html'), baseHtml, `locales/${lang}/*.html: ${diff(baseHtml, filesOf(lang, '.html'))}`);
  });

  for (const type of baseJson) {
    const file = path.join(localesDir, lang, `${type}.json`);
    test(`${lang}/${type}.json: same keys as ${BASE}, same __placeholders__ in each message`, () => {
      assert.ok(fs.existsSync(file), `missing translation locales/${lang}/${type}.json`);
      const base = flatten(readJson(BASE, type));
      const translated = flatten(readJson(lang, type));
      const baseKeys = [...base.keys()].sort();
      const keys = [...translated.keys()].sort();
      assert.deepEqual(keys, baseKeys, `${lang}/${type}.json keys: ${diff(baseKeys, keys)}`);
      for (const [key, english] of base) {
        const text = translated.get(key);
        assert.equal(typeof text, 'string', `${lang}/${type}.json ${key} is not a string`);
        assert.notEqual((text as string).trim(), '', `${lang}/${type}.json ${key} is empty`);
        const want = placeholders(english as string);
        const have = placeholders(text as string);
        assert.deepEqual(have, want, `${lang}/${type}.json ${key} placeholders: ${diff(want, have)}`);
      }
    });
  }

  for (const type of baseHtml) {
    const file = path.join(localesDir, lang, `${type}.html`);
    test(`${lang}/${type}.html: same data-help-name, sections and config names as ${BASE}`, () => {
      assert.ok(fs.existsSync(file), `missing translation locales/${lang}/${type}.html`);
      const base = readHtml(BASE, type);
      const translated = readHtml(lang, type);
      assert.deepEqual(helpNames(translated), helpNames(base), `${lang}/${type}.html data-help-name`);
      assert.ok(helpNames(base).length > 0, `${BASE}/${type}.html has no <script data-help-name>`);
      for (const tag of ['h3', 'dt', 'dl']) {
        assert.equal(count(translated, tag), count(base, tag), `${lang}/${type}.html: number of <${tag}> differs from ${BASE}`);
      }
      const want = configNames(base);
      const have = configNames(translated);
      assert.deepEqual(have, want, `${lang}/${type}.html config names in <code>/property-type: ${diff(want, have)}`);
    });
  }
}
