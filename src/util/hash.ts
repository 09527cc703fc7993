import { createHash } from 'node:crypto';
import { asHash, type ContentHash } from '../types.js';

export function sha256(data: string | Uint8Array): ContentHash {
  return asHash(createHash('sha256').update(data).digest('hex'));
}

/** JSON with object keys sorted at every level: one canonical form for hashing (STYLE §4). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
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
