// Field-level accuracy of structured outputs against ground truth in the rule's schema (README "Measuring
// accuracy"). Per top-level field of the ground truth:
//   - a list (courses): items are matched by a key field (`course_name`, or what groundTruth.match names),
//     compared with whitespace collapsed and case folded, each truth item matched at most once; matched
//     items are true positives, unmatched output items false positives, unmatched truth items false negatives
//     (precision = tp / (tp + fp), recall = tp / (tp + fn));
//   - anything else: correct when equal after collapsing whitespace in every string (case kept).
// Counts, not rates, are kept so that chains and the whole collection pool them (sum, then divide).
import { canonicalJson } from '../util/hash.js';
import { normaliseText } from './text-metrics.js';

export interface FieldCount {
  correct: number;
  total: number;
}

export interface ListCount {
  tp: number;
  fp: number;
  fn: number;
}

export interface JsonCounts {
  fields: Record<string, FieldCount>;
  lists: Record<string, ListCount>;
}

/** Names tried, in order, as an item's key when groundTruth.match does not name one. */
const KEY_NAMES = ['name', 'id', 'key', 'title'];

export function jsonCounts(expected: unknown, actual: unknown, match: Readonly<Record<string, string>> = {}): JsonCounts {
  const out: JsonCounts = { fields: {}, lists: {} };
  if (!isObject(expected)) {
    out.fields['(value)'] = { correct: same(expected, actual) ? 1 : 0, total: 1 };
    return out;
  }
  const got = isObject(actual) ? actual : {};
  for (const [field, truth] of Object.entries(expected)) {
    if (Array.isArray(truth)) out.lists[field] = listCount(truth, Array.isArray(got[field]) ? (got[field] as unknown[]) : [], match[field]);
    else out.fields[field] = { correct: same(truth, got[field]) ? 1 : 0, total: 1 };
  }
  return out;
}

/** Adds `b` into `a`. */
export function addJsonCounts(a: JsonCounts, b: JsonCounts): void {
  for (const [f, c] of Object.entries(b.fields)) {
    const t = (a.fields[f] ??= { correct: 0, total: 0 });
    t.correct += c.correct;
    t.total += c.total;
  }
  for (const [f, c] of Object.entries(b.lists)) {
    const t = (a.lists[f] ??= { tp: 0, fp: 0, fn: 0 });
    t.tp += c.tp;
    t.fp += c.fp;
    t.fn += c.fn;
  }
}

/** Precision and recall of a list count; an empty side counts as perfect (nothing claimed, nothing missed). */
export function precision(c: ListCount): number {
  return c.tp + c.fp === 0 ? 1 : c.tp / (c.tp + c.fp);
}
export function recall(c: ListCount): number {
  return c.tp + c.fn === 0 ? 1 : c.tp / (c.tp + c.fn);
}

function listCount(truth: readonly unknown[], got: readonly unknown[], keyField: string | undefined): ListCount {
  const field = keyField ?? keyFieldOf(truth) ?? keyFieldOf(got);
  const keyOf = (item: unknown): string => {
    const v = field !== null && isObject(item) ? item[field] : item;
    return typeof v === 'string' ? normaliseText(v).toLowerCase() : canonicalJson(normalised(v));
  };
  const open = new Map<string, number>();
  for (const item of truth) open.set(keyOf(item), (open.get(keyOf(item)) ?? 0) + 1);
  let tp = 0;
  for (const item of got) {
    const k = keyOf(item);
    const n = open.get(k) ?? 0;
    if (n > 0) {
      tp++;
      open.set(k, n - 1);
    }
  }
  return { tp, fp: got.length - tp, fn: truth.length - tp };
}

/** The items' key field: the first of KEY_NAMES, else the first field whose name ends in "name", holding a string. */
function keyFieldOf(items: readonly unknown[]): string | null {
  const first = items.find(isObject);
  if (!first) return null;
  const names = Object.keys(first);
  return KEY_NAMES.find((n) => typeof first[n] === 'string') ?? names.find((n) => /name$/i.test(n) && typeof first[n] === 'string') ?? null;
}

function same(a: unknown, b: unknown): boolean {
  return canonicalJson(normalised(a)) === canonicalJson(normalised(b ?? null));
}

function normalised(v: unknown): unknown {
  if (typeof v === 'string') return normaliseText(v);
  if (Array.isArray(v)) return v.map(normalised);
  if (isObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalised(x)]));
  return v ?? null;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The plain text of an output, for CER and WER when the rule does not say (rule.text): the output itself if
 * it is a string, else every string under a key named `text`, depth first, one per line — `text` of the
 * text rule, `raw_ocr.text_blocks[].text` of the course-catalog rule.
 */
export function defaultText(output: unknown): string {
  if (typeof output === 'string') return output;
  const parts: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (isObject(v)) for (const [k, x] of Object.entries(v)) (k === 'text' && typeof x === 'string' ? parts.push(x) : walk(x));
  };
  walk(output);
  return parts.join('\n');
}
