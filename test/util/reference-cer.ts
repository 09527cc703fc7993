// An independent computation of CER and WER, written apart from src/eval/text-metrics.ts so that tests can
// check the product's figures against it: a full edit-distance matrix (Wagner–Fischer), text split with
// Array.from and a whitespace regex of its own. Same definitions as the README states: whitespace runs are
// one space, ends trimmed; rate = edits / expected length; nothing expected → 0 if nothing read, else 1.

export function referenceCer(expected: string, actual: string): number {
  return ratio(Array.from(squash(expected)), Array.from(squash(actual)));
}

export function referenceWer(expected: string, actual: string): number {
  const split = (t: string) => (squash(t) === '' ? [] : squash(t).split(' '));
  return ratio(split(expected), split(actual));
}

/** Sum of edits over sum of expected lengths, for a set of (expected, actual) pairs. */
export function referencePooledCer(pairs: ReadonlyArray<readonly [string, string]>): number {
  let edits = 0, length = 0;
  for (const [e, a] of pairs) {
    const x = Array.from(squash(e)), y = Array.from(squash(a));
    edits += distance(x, y);
    length += x.length;
  }
  return length === 0 ? (edits === 0 ? 0 : 1) : edits / length;
}

const squash = (t: string): string => t.split(/[\s]+/).filter((w) => w !== '').join(' ');

function ratio(x: string[], y: string[]): number {
  if (x.length === 0) return y.length === 0 ? 0 : 1;
  return distance(x, y) / x.length;
}

function distance(x: string[], y: string[]): number {
  const d: number[][] = [];
  for (let i = 0; i <= x.length; i++) {
    d.push(new Array<number>(y.length + 1).fill(0));
    d[i]![0] = i;
  }
  for (let j = 0; j <= y.length; j++) d[0]![j] = j;
  for (let i = 1; i <= x.length; i++) {
    for (let j = 1; j <= y.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1));
    }
  }
  return d[x.length]![y.length]!;
}
