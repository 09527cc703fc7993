import { test } from 'node:test';
import assert from 'node:assert/strict';
import { charErrorRate, levenshtein, wordErrorRate } from '../src/eval/text-metrics.js';
import { referenceCer, referenceWer } from './util/reference-cer.js';

test('levenshtein counts insertions, deletions and substitutions', () => {
  assert.equal(levenshtein([...'kitten'], [...'sitting']), 3);
  assert.equal(levenshtein([...'flaw'], [...'lawn']), 2);
  assert.equal(levenshtein([], [...'abc']), 3);
  assert.equal(levenshtein([...'abc'], []), 3);
  assert.equal(levenshtein([...'same'], [...'same']), 0);
});

test('charErrorRate divides the edit distance by the expected length', () => {
  assert.equal(charErrorRate('kitten', 'sitting'), 0.5);
  assert.equal(charErrorRate('Davies Legendre', 'Davies Legendre'), 0);
  assert.equal(charErrorRate('abcd', 'abxd'), 0.25);
  // Insertions can push the rate past 1.
  assert.equal(charErrorRate('ab', 'abcdef'), 2);
});

test('charErrorRate ignores how whitespace is laid out', () => {
  assert.equal(charErrorRate('Latin.  Freshman\nClass.', '  Latin. Freshman Class.\n\n'), 0);
  assert.equal(charErrorRate('a b', 'a  \t b'), 0);
  // ...but a space that is missing altogether still counts.
  assert.equal(charErrorRate('a b', 'ab'), 1 / 3);
});

test('charErrorRate counts code points, not UTF-16 units', () => {
  assert.equal(charErrorRate("Virgil's", 'Virgil\u2019s'), 1 / 8);
  assert.equal(charErrorRate('a\u{1F600}b', 'a\u{1F600}c'), 1 / 3);
});

test('wordErrorRate works over words', () => {
  assert.equal(wordErrorRate('the cat sat', 'the cat sat down'), 1 / 3);
  assert.equal(wordErrorRate('Term: First Session.', 'Term: Frist Session.'), 1 / 3);
  assert.equal(wordErrorRate('one two  three\nfour', 'one two three four'), 0);
  assert.equal(wordErrorRate('a b c d', 'b c d e'), 0.5);
});

test('empty expected text gives 0 for an empty answer and 1 otherwise', () => {
  assert.equal(charErrorRate('', ''), 0);
  assert.equal(charErrorRate('  \n', ''), 0);
  assert.equal(charErrorRate('', 'x'), 1);
  assert.equal(wordErrorRate('', ''), 0);
  assert.equal(wordErrorRate(' ', 'word'), 1);
  assert.equal(charErrorRate('abc', ''), 1);
});

test('the product agrees with an independent computation on varied strings', () => {
  // A small deterministic generator: letters, spaces, line breaks, a non-BMP character.
  let seed = 7;
  const next = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const alphabet = ['a', 'b', 'c', ' ', '\n', '.', 'É', '\u{1F600}'];
  const text = (n: number) => Array.from({ length: n }, () => alphabet[Math.floor(next() * alphabet.length)]).join('');
  for (let i = 0; i < 200; i++) {
    const expected = text(Math.floor(next() * 30)), actual = text(Math.floor(next() * 30));
    assert.equal(charErrorRate(expected, actual), referenceCer(expected, actual), JSON.stringify({ expected, actual }));
    assert.equal(wordErrorRate(expected, actual), referenceWer(expected, actual), JSON.stringify({ expected, actual }));
  }
});
