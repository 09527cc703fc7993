// Character and word error rates, for measuring OCR output against ground truth. Both collapse every run
// of whitespace to one space and trim first: line breaks and paragraph gaps are layout, not text.

/** Levenshtein distance over characters (code points) divided by the expected length. */
export function charErrorRate(expected: string, actual: string): number {
  return errorRate([...normalize(expected)], [...normalize(actual)]);
}

/** Levenshtein distance over space-separated words divided by the expected word count. */
export function wordErrorRate(expected: string, actual: string): number {
  return errorRate(words(expected), words(actual));
}

function normalize(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function words(text: string): string[] {
  const normalized = normalize(text);
  return normalized === '' ? [] : normalized.split(' ');
}

/**
 * Edits per expected token. With nothing expected the rate is 0 for an empty answer and 1 for anything
 * else, so the result stays a finite number a report can print.
 */
function errorRate(expected: readonly string[], actual: readonly string[]): number {
  if (expected.length === 0) return actual.length === 0 ? 0 : 1;
  return levenshtein(expected, actual) / expected.length;
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
