// JSON.parse with X's ids kept exact. X sends ids as strings ("id":"1790..."), but a proxy, an
// older endpoint or a hand-made body can carry one as a bare JSON number; 16+ digits do not fit a
// double (2^53 has 16 digits) and JSON.parse silently rounds them: a rule id or a post id that
// no longer names anything. parseJson quotes such numbers before parsing, for the keys that hold
// ids: `id`, `*_id`, and the elements of `ids` / `*_ids` arrays. Other numbers (counts) are left
// alone, and nothing inside a string is touched.
//
// Cost: most bodies (every post X sends) have no bare id at all, and one regular-expression
// test sends them straight to JSON.parse: ~250 ns on a 640-byte post line whose JSON.parse takes
// ~2.1 us (the full scan below would add ~2.3 us). The test looks for an `id"` / `*_id"` key
// followed by 16+ digits, or an `ids"` / `*_ids"` key whose array begins with 16+ digits; it
// misses (and JSON.parse then rounds) only keys written with escapes and an ids array whose
// first element is a string but a later one a bare number, neither of which X sends.

/** A key ending in `id` followed by a bare 16+-digit integer, or `ids` by an array starting with one. */
const MAYBE_BARE_ID = /id"[ \t\r\n]*:[ \t\r\n]*\d{16}|ids"[ \t\r\n]*:[ \t\r\n]*\[[ \t\r\n]*\d{16}/;

/** JSON.parse, with bare 16+-digit integers of id fields turned into strings. */
export function parseJson(text: string): any {
  if (!MAYBE_BARE_ID.test(text)) return JSON.parse(text);
  return JSON.parse(quoteBareIds(text));
}

/** True for `id`, `*_id`, `ids`, `*_ids`. */
function isIdKey(key: string | undefined): boolean {
  if (key === undefined) return false;
  return key === 'id' || key === 'ids' || key.endsWith('_id') || key.endsWith('_ids');
}

function isIdsArrayKey(key: string | undefined): boolean {
  return key !== undefined && (key === 'ids' || key.endsWith('_ids'));
}

/**
 * The text with the bare 16+-digit integers of id fields quoted. Malformed JSON is returned as
 * far as it was understood (JSON.parse then reports it).
 */
export function quoteBareIds(text: string): string {
  // Containers: for an object, the key whose value comes next; for an array, whether its
  // elements are ids.
  const kinds: number[] = []; // 0 object, 1 array
  const keys: (string | undefined)[] = [];
  const idArray: boolean[] = [];
  let out = '';
  let copied = 0;
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i + 1;
      i = start;
      let escaped = false;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) {
          escaped = true;
          i += 2;
          continue;
        }
        if (d === 0x22) break;
        i++;
      }
      const end = i;
      i++; // past the closing quote
      // A key when the next non-space character is ':'.
      let j = i;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d !== 0x20 && d !== 0x09 && d !== 0x0a && d !== 0x0d) break;
        j++;
      }
      if (j < n && text.charCodeAt(j) === 0x3a /* : */ && kinds.length > 0 && kinds[kinds.length - 1] === 0) {
        const raw = text.slice(start, end);
        keys[keys.length - 1] = escaped ? safeUnescape(raw) : raw;
      }
      continue;
    }
    if (c === 0x7b /* { */) {
      kinds.push(0);
      keys.push(undefined);
      idArray.push(false);
      i++;
      continue;
    }
    if (c === 0x5b /* [ */) {
      const parentIsObject = kinds.length > 0 && kinds[kinds.length - 1] === 0;
      const ids = parentIsObject ? isIdsArrayKey(keys[keys.length - 1]) : false;
      kinds.push(1);
      keys.push(undefined);
      idArray.push(ids);
      i++;
      continue;
    }
    if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      kinds.pop();
      keys.pop();
      idArray.pop();
      i++;
      continue;
    }
    if (c >= 0x30 && c <= 0x39) {
      const start = i;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d < 0x30 || d > 0x39) break;
        i++;
      }
      const next = i < n ? text.charCodeAt(i) : 0;
      const integer = next !== 0x2e /* . */ && next !== 0x65 /* e */ && next !== 0x45 /* E */;
      if (integer && i - start >= 16 && kinds.length > 0) {
        const top = kinds.length - 1;
        const wanted = kinds[top] === 0 ? isIdKey(keys[top]) : idArray[top];
        if (wanted) {
          out += text.slice(copied, start) + '"' + text.slice(start, i) + '"';
          copied = i;
        }
      }
      // Skip the rest of a non-integer number (fraction, exponent).
      while (i < n) {
        const d = text.charCodeAt(i);
        if (!((d >= 0x30 && d <= 0x39) || d === 0x2e || d === 0x65 || d === 0x45 || d === 0x2b || d === 0x2d)) break;
        i++;
      }
      continue;
    }
    if (c === 0x2d /* - */) {
      // A negative number is no id: skip it whole.
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (!((d >= 0x30 && d <= 0x39) || d === 0x2e || d === 0x65 || d === 0x45 || d === 0x2b || d === 0x2d)) break;
        i++;
      }
      continue;
    }
    i++;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

function safeUnescape(raw: string): string {
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return raw;
  }
}
