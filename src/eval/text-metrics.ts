// Character and word error rates of OCR text against ground truth: the one place ocrmake computes them
// (`ocrmake eval`, `compare`, the Braintrust experiment of `try`, and the tests' accuracy checks).
//
// Normalisation, documented in README "Measuring accuracy": every run of whitespace (spaces, tabs, line
// breaks, blank lines) becomes one space and the ends are trimmed — line breaks and paragraph gaps are
// layout, not text. Nothing else is changed: case, punctuation and Unicode forms count (a curly apostrophe
// for a straight one is an error), and characters are code points, not UTF-16 units.

/** Whitespace runs to one space, trimmed. */
export function normaliseText(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** Levenshtein distance over characters (code points) divided by the expected length. */
export function charErrorRate(expected: string, actual: string): number {
  return errorRate([...normaliseText(expected)], [...normaliseText(actual)]);
}

/** Levenshtein distance over space-separated words divided by the expected word count. */
export function wordErrorRate(expected: string, actual: string): number {
  return errorRate(words(expected), words(actual));
}

/** The counts behind both rates, for totals over many pages (sum of edits over sum of lengths). */
export interface TextCounts {
  charEdits: number;
  chars: number;
  wordEdits: number;
  words: number;
}

export function textCounts(expected: string, actual: string): TextCounts {
  const e = normaliseText(expected), a = normaliseText(actual);
  const ew = words(e), aw = words(a);
  return { charEdits: levenshtein([...e], [...a]), chars: [...e].length, wordEdits: levenshtein(ew, aw), words: ew.length };
}

/** A rate from counts, with the same rule for nothing expected as errorRate. */
export function rate(edits: number, length: number): number {
  if (length === 0) return edits === 0 ? 0 : 1;
  return edits / length;
}

export function words(text: string): string[] {
  const normalised = normaliseText(text);
  return normalised === '' ? [] : normalised.split(' ');
}

/**
 * Edits per expected token. With nothing expected the rate is 0 for an empty answer and 1 for anything
 * else, so the result stays a finite number a report can print.
 */
function errorRate(expected: readonly string[], actual: readonly string[]): number {
  return rate(expected.length === 0 && actual.length > 0 ? 1 : levenshtein(expected, actual), expected.length);
}

/** Edit distance (insert, delete, substitute, each cost 1), keeping only two rows of the DP table. */
export function levenshtein(a: readonly string[], b: readonly string[]): number {
  let previous = new Uint32Array(b.length + 1);
  let current = new Uint32Array(b.length + 1);
  for (let j = 0; j <= b.length; j++) previous[j] = j;
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    const ai = a[i - 1];
    for (let j = 1; j <= b.length; j++) {
      const substitute = (previous[j - 1] ?? 0) + (ai === b[j - 1] ? 0 : 1);
      const remove = (previous[j] ?? 0) + 1;
      const insert = (current[j - 1] ?? 0) + 1;
      current[j] = Math.min(substitute, remove, insert);
    }
    [previous, current] = [current, previous];
  }
  return previous[b.length] ?? 0;
}

/** Counts of no page: the start of a total. */
export const noTextCounts = (): TextCounts => ({ charEdits: 0, chars: 0, wordEdits: 0, words: 0 });

/** Adds a page's counts to a total (pooled rates: sum of edits over sum of lengths). */
export function addTextCounts(total: TextCounts, page: TextCounts): void {
  total.charEdits += page.charEdits;
  total.chars += page.chars;
  total.wordEdits += page.wordEdits;
  total.words += page.words;
}

/** The pooled character and word error rates of counts. */
export const cerOf = (t: TextCounts): number => rate(t.charEdits, t.chars);
export const werOf = (t: TextCounts): number => rate(t.wordEdits, t.words);
