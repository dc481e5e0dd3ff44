// The one rule for the bytes of a message key, used wherever a key becomes
// bytes: the producer's record (msg.key), the murmur2 helpers and the
// partition key node. One rule means a key lands on the same partition
// whichever of them computed it.
//
//   string                  its UTF-8 bytes
//   Buffer / Uint8Array     as is
//   finite number           its decimal text, String(n) (42 -> "42", -0 -> "0", 1e21 -> "1e+21")
//   boolean / bigint        its text ("true", "123")
//   object / array          its JSON text (JSON.stringify)
//   null / undefined        no key
//
// Refused with a KeyError (a RecordError): NaN and ±Infinity, functions,
// symbols, objects JSON cannot write (cycles, bigint members), and Map, Set
// and ArrayBuffer, which JSON writes as {} and so would lose their contents
// (every Map would be the same key).
import { RecordError } from './errors';

/** Why a key has no bytes: a non-finite number, an object without JSON text, or a type without bytes. */
export type KeyProblem = 'number' | 'json' | 'type';

/** A key the rule cannot turn into bytes. Its name stays RecordError: it is one, for Catch nodes. */
export class KeyError extends RecordError {
  readonly problem: KeyProblem;
  /** the msg property (or other source) the key came from, as named in the message */
  readonly property: string;
  /** the number's text, JSON's reason, or the type, for callers that word the message themselves */
  readonly detail: string;
  constructor(problem: KeyProblem, property: string, detail: string, cause?: unknown) {
    super(keyErrorMessage(problem, property, detail), cause);
    this.problem = problem;
    this.property = property;
    this.detail = detail;
  }
}

function keyErrorMessage(problem: KeyProblem, property: string, detail: string): string {
  switch (problem) {
    case 'number':
      return `${property} is the number ${detail}, which has no decimal text: use a finite number, a string, a Buffer or an object`;
    case 'json':
      return `${property} is an object that cannot be turned into JSON: ${detail}`;
    case 'type':
      return `${property} is a ${detail}, which has no bytes: use a string, Buffer, number, boolean, bigint, object or array`;
  }
}

/** Objects JSON.stringify writes as {} whatever they hold. */
function emptyInJson(value: object): string | undefined {
  if (value instanceof Map) return 'Map';
  if (value instanceof Set) return 'Set';
  if (value instanceof ArrayBuffer) return 'ArrayBuffer';
  if (typeof SharedArrayBuffer !== 'undefined' && value instanceof SharedArrayBuffer) return 'SharedArrayBuffer';
  return undefined;
}

/**
 * The key as the text whose UTF-8 bytes are the key (string), or as its bytes
 * (Buffer; a Uint8Array becomes a Buffer over the same memory), or null for no
 * key. A string key is returned as it is, so hashing it needs no allocation.
 * `property` names where the key came from in a KeyError (default msg.key).
 */
export function keyForm(key: unknown, property = 'msg.key'): string | Buffer | null {
  switch (typeof key) {
    case 'string':
      return key;
    case 'number':
      if (!Number.isFinite(key)) throw new KeyError('number', property, String(key));
      return String(key);
    case 'boolean':
    case 'bigint':
      return String(key);
    case 'undefined':
      return null;
    case 'object': {
      if (key === null) return null;
      if (Buffer.isBuffer(key)) return key;
      if (key instanceof Uint8Array) return Buffer.from(key.buffer, key.byteOffset, key.byteLength);
      const empty = emptyInJson(key);
      if (empty) throw new KeyError('json', property, `JSON writes every ${empty} as {}, which would lose its contents`);
      let json: string | undefined;
      try {
        json = JSON.stringify(key);
      } catch (e) {
        throw new KeyError('json', property, (e as Error).message, e);
      }
      // e.g. a toJSON() that returns undefined
      if (json === undefined) throw new KeyError('json', property, 'JSON.stringify gave no text');
      return json;
    }
    default:
      // function, symbol
      throw new KeyError('type', property, typeof key);
  }
}

/** The key's bytes by the rule above, or null for no key. Throws KeyError for a key without bytes. */
export function keyBytes(key: unknown, property = 'msg.key'): Buffer | null {
  const form = keyForm(key, property);
  return typeof form === 'string' ? Buffer.from(form, 'utf8') : form;
}
