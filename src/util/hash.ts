import { hash } from 'node:crypto';
import { asHash, type ContentHash } from '../types.js';

/** One-shot hashing: `crypto.hash` costs half of a `createHash` object's set-up for the short inputs most hashes are of. */
export function sha256(data: string | Uint8Array): ContentHash {
  return asHash(hash('sha256', data, 'hex'));
}

/**
 * JSON with object keys sorted at every level: one canonical form for hashing (STYLE §4). Its bytes are
 * `JSON.stringify(sortKeys(value))`'s, which every fingerprint in every cache is made of: the direct
 * writer below only handles what it writes the same way (plain objects, arrays, strings, finite numbers,
 * booleans, null); anything else (a Date, a key JSON.stringify would reorder or drop, an array hole of
 * undefined) takes the copying form. test/canonical-json.test.ts holds the two to the same bytes.
 */
export function canonicalJson(value: unknown): string {
  const direct = write(value);
  return direct ?? JSON.stringify(sortKeys(value));
}

/** The canonical JSON of `value`, or undefined when it holds anything the direct form does not write. */
function write(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : undefined;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          const v = i in value ? write(value[i]) : undefined;
          if (v === undefined) return undefined;
          out += i === 0 ? v : `,${v}`;
        }
        return `${out}]`;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return undefined;
      const keys = Object.keys(value).sort();
      let out = '{';
      let first = true;
      for (const k of keys) {
        // A key that reads as an array index is listed first by any object (so by sortKeys' copy), and
        // assigning `__proto__` sets the copy's prototype instead (the key is dropped): the copying form has
        // them right. (A `toJSON` method is a function, which sends the whole value there too.)
        if (k === '__proto__' || (k.charCodeAt(0) >= 48 && k.charCodeAt(0) <= 57)) return undefined;
        const item = (value as Record<string, unknown>)[k];
        if (item === undefined) continue;
        const v = write(item);
        if (v === undefined) return undefined;
        out += `${first ? '' : ','}${JSON.stringify(k)}:${v}`;
        first = false;
      }
      return `${out}}`;
    }
    default:
      return undefined;
  }
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = sortKeys(v);
    }
    return out;
  }
  return value;
}

/**
 * The hash of an empty file. No output ocrmake writes is empty, and no person's transcription is: an empty file
 * at an output path is what a power cut leaves of a file renamed before its group's flush, so it counts as
 * no output (restored or rebuilt), never as an edit to keep.
 */
export const EMPTY_HASH: ContentHash = sha256(new Uint8Array(0));
