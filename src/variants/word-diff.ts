// Word-level differences between two texts, for `compare`: the longest common subsequence of their words
// (whitespace collapsed as eval does), and each run of words that differs as one hunk.
import { words } from '../eval/text-metrics.js';

export interface Hunk {
  /** Index of the hunk's first word in `a`. */
  at: number;
  /** The words only `a` has there, and those only `b` has (either may be empty). */
  a: string;
  b: string;
}

export function wordDiff(a: string, b: string): Hunk[] {
  const x = words(a), y = words(b);
  // lcs[i][j]: the LCS length of x[i..] and y[j..], in one flat array.
  const w = y.length + 1;
  const lcs = new Uint32Array((x.length + 1) * w);
  for (let i = x.length - 1; i >= 0; i--) {
    for (let j = y.length - 1; j >= 0; j--) {
      lcs[i * w + j] = x[i] === y[j] ? lcs[(i + 1) * w + j + 1]! + 1 : Math.max(lcs[(i + 1) * w + j]!, lcs[i * w + j + 1]!);
    }
  }
  const hunks: Hunk[] = [];
  let i = 0, j = 0;
  let open: { at: number; a: string[]; b: string[] } | null = null;
  const close = () => {
    if (open) hunks.push({ at: open.at, a: open.a.join(' '), b: open.b.join(' ') });
    open = null;
  };
  while (i < x.length || j < y.length) {
    if (i < x.length && j < y.length && x[i] === y[j]) {
      close();
      i++;
      j++;
    } else if (j >= y.length || (i < x.length && lcs[(i + 1) * w + j]! >= lcs[i * w + j + 1]!)) {
      (open ??= { at: i, a: [], b: [] }).a.push(x[i++]!);
    } else {
      (open ??= { at: i, a: [], b: [] }).b.push(y[j++]!);
    }
  }
  close();
  return hunks;
}
