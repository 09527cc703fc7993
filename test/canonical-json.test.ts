// canonicalJson is what every fingerprint, input key and component hash is made of: a changed byte would
// make every user's cache stale. Its direct writer must give exactly the bytes of the copying form it
// replaced, `JSON.stringify(sortKeys(value))`, for any value: the reference below is that form, verbatim.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson, sha256 } from '../src/util/hash.js';
import { createHash } from 'node:crypto';
import { mulberry32 } from '../scripts/prng.js';

function reference(value: unknown): string {
  const sortKeys = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) {
        const item = (v as Record<string, unknown>)[k];
        if (item !== undefined) out[k] = sortKeys(item);
      }
      return out;
    }
    return v;
  };
  return JSON.stringify(sortKeys(value));
}


const KEYS = ['a', 'b', 'B', 'image', 'prompt', 'pred', 'vars', 'é', 'ß', '😀', '', ' ', 'a b', '"q"', 'back\\slash', 'x\ny', '10', '9', '1a', '0', '-1', '__proto__', 'toJSON', 'constructor', 'Z', 'zz'];
const STRINGS = ['', 'plain', 'Howard College', 'Zürich', '日本語', '😀', '\u0000', '\u001f', '\ud800', 'line\nbreak', 'tab\t', '"quoted"', '\\', '</script>', 'x'.repeat(300)];
const NUMBERS = [0, -0, 1, -1, 1.5, 1e21, 1e-7, 123456789012345680000, Number.MAX_SAFE_INTEGER, NaN, Infinity, -Infinity, 0.1 + 0.2];

function randomValue(rand: () => number, depth: number): unknown {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const r = rand();
  if (depth > 3 || r < 0.35) {
    const leaf = rand();
    if (leaf < 0.4) return pick(STRINGS);
    if (leaf < 0.65) return pick(NUMBERS);
    if (leaf < 0.75) return rand() < 0.5;
    if (leaf < 0.85) return null;
    if (leaf < 0.9) return undefined;
    if (leaf < 0.93) return new Date(Math.floor(rand() * 2e12));
    if (leaf < 0.95) return () => 1;
    if (leaf < 0.97) return new Map([[1, 2]]);
    return Symbol('s');
  }
  if (r < 0.6) {
    const n = Math.floor(rand() * 5);
    const arr: unknown[] = [];
    for (let i = 0; i < n; i++) arr.push(randomValue(rand, depth + 1));
    if (rand() < 0.05) arr.length += 2; // holes
    return arr;
  }
  const obj: Record<string, unknown> = rand() < 0.1 ? Object.create(null) : {};
  const n = Math.floor(rand() * 6);
  for (let i = 0; i < n; i++) {
    const k = pick(KEYS);
    if (k === '__proto__') Object.defineProperty(obj, k, { value: randomValue(rand, depth + 1), enumerable: true, configurable: true, writable: true });
    else obj[k] = randomValue(rand, depth + 1);
  }
  return obj;
}

test('canonicalJson writes the bytes of JSON.stringify over sorted copies, for 20,000 seeded values and the edge cases', () => {
  const rand = mulberry32(20261130);
  let direct = 0;
  for (let i = 0; i < 20_000; i++) {
    const v = randomValue(rand, 0);
    let expected: string | Error;
    try {
      expected = reference(v);
    } catch (err) {
      expected = err as Error;
    }
    if (expected instanceof Error) assert.throws(() => canonicalJson(v), `value ${i}`);
    else assert.equal(canonicalJson(v), expected, `value ${i}: ${String(expected).slice(0, 200)}`);
    if (expected === JSON.stringify(v)) direct++;
  }
  assert.ok(direct > 1000, `the values cover the plain case too (${direct})`);
  const edge: unknown[] = [
    { b: 1, a: { d: [1, { z: 2, y: undefined }], c: null } },
    { '10': 'ten', '9': 'nine', a: 'a' }, // index keys: listed first and in numeric order by the copy
    JSON.parse('{"__proto__": {"x": 1}, "a": 2}'),
    { toJSON: () => 'replaced', a: 1 },
    { when: new Date(0) },
    [undefined, () => 1, Symbol('x')],
    { big: 1n },
    { nested: { deeper: { deepest: ['x', { k: 'v' }] } } },
    'string',
    42,
    null,
    undefined,
  ];
  for (const v of edge) {
    let expected: string | undefined | Error;
    try {
      expected = reference(v);
    } catch (err) {
      expected = err as Error;
    }
    if (expected instanceof Error) assert.throws(() => canonicalJson(v));
    else assert.equal(canonicalJson(v), expected);
  }
});

test('sha256 gives the digest createHash gives, for text and bytes', () => {
  for (const data of ['', 'abc', 'x'.repeat(100_000), new Uint8Array([0, 1, 2, 255]), Buffer.from('Zürich')]) {
    assert.equal(sha256(data), createHash('sha256').update(data).digest('hex'));
  }
});
