// `ocrmake compare <a> <b>` (DESIGN §17): two variants (or `current`, the real outputs) page by page —
// their scores against the ground truth where there is one, the words that differ, tokens and cost — and
// the same pooled over the pages both have.
import type { ResolvedConfig } from '../config/resolved.js';
import { todayUtc } from '../cost/models.js';
import { costOf } from '../cost/pricing.js';
import { evaluate, readOutputText } from '../eval/score.js';
import { addTextCounts, cerOf, noTextCounts, werOf, type TextCounts } from '../eval/text-metrics.js';
import type { Project } from '../execute/project.js';
import type { Page } from '../graph/page.js';
import type { TargetKey } from '../types.js';
import { wordDiff, type Hunk } from './word-diff.js';

export interface PageSide {
  output: string;
  /** False when the page has no output on this side (not tried yet). */
  exists: boolean;
  /** The output was made by this side's current request (false: its prompt or settings changed since). */
  current: boolean;
  text: TextCounts | null;
  /** Tokens of the request that made it, when known (a page restored from the result store has none). */
  tokensIn: number | null;
  tokensOut: number | null;
  costUsd: number | null;
}

export interface PageCompare {
  key: TargetKey;
  chain: string;
  image: string | null;
  a: PageSide;
  b: PageSide;
  /** b − a; null without ground truth for this page. */
  delta: { cer: number; wer: number } | null;
  diffs: Hunk[];
  /** Both outputs' plain text (for the HTML view). */
  texts: { a: string | null; b: string | null };
}

export interface SideTotals {
  pages: number;
  text: TextCounts;
  tokensIn: number;
  tokensOut: number;
  costUsd: number;
  /** Pages whose tokens are unknown (restored), not in the sums. */
  unknownCost: number;
}

export interface CompareResult {
  a: string;
  b: string;
  groundTruth: string | null;
  /** Pages both sides have, in chain order; then those only one side has. */
  pages: PageCompare[];
  onlyA: TargetKey[];
  onlyB: TargetKey[];
  overall: { a: SideTotals; b: SideTotals; delta: { cer: number; wer: number } | null };
}

export function compareSides(names: { a: string; b: string }, pa: Project, pb: Project, keys: ReadonlySet<TargetKey>): CompareResult {
  const pagesA = pa.index.chains.flatMap((c) => c.pages).filter((pg) => keys.has(pg.key));
  const byKeyB = pb.index.byKey;
  const scoresA = pa.config.groundTruth ? new Map(evaluate(pa.config, pa.config.rule, pagesA, (pg) => pg.output).pages.map((s) => [s.key, s])) : null;
  const pagesB = pagesA.map((pg) => byKeyB.get(pg.key)).filter((pg): pg is Page => pg !== undefined);
  const scoresB = pb.config.groundTruth ? new Map(evaluate(pb.config, pb.config.rule, pagesB, (pg) => pg.output).pages.map((s) => [s.key, s])) : null;
  const out: CompareResult = {
    a: names.a, b: names.b, groundTruth: pa.config.groundTruth?.pattern.source ?? null, pages: [], onlyA: [], onlyB: [],
    overall: { a: emptyTotals(), b: emptyTotals(), delta: null },
  };
  for (const page of pagesA) {
    const other = byKeyB.get(page.key);
    if (!other) continue;
    const a = side(pa, page, scoresA?.get(page.key)?.text ?? null);
    const b = side(pb, other, scoresB?.get(page.key)?.text ?? null);
    if (!a.exists || !b.exists) {
      if (a.exists) out.onlyA.push(page.key);
      if (b.exists) out.onlyB.push(page.key);
      continue;
    }
    const ta = readOutputText(pa.config, pa.config.rule, page.output), tb = readOutputText(pb.config, pb.config.rule, other.output);
    const delta = a.text && b.text ? { cer: cer(b.text) - cer(a.text), wer: wer(b.text) - wer(a.text) } : null;
    out.pages.push({ key: page.key, chain: page.chainId, image: page.image, a, b, delta, diffs: ta !== null && tb !== null ? wordDiff(ta, tb) : [], texts: { a: ta, b: tb } });
    add(out.overall.a, a);
    add(out.overall.b, b);
  }
  const { a, b } = out.overall;
  if (out.pages.some((p) => p.delta)) out.overall.delta = { cer: cer(b.text) - cer(a.text), wer: wer(b.text) - wer(a.text) };
  return out;
}

export const cer = cerOf;
export const wer = werOf;

function side(p: Project, page: Page, text: TextCounts | null): PageSide {
  const record = p.store.targets.get(page.key);
  const exists = readOutputText(p.config, p.config.rule, page.output) !== null;
  const current = exists && record !== undefined && record.fingerprint === p.fingerprints.inputs.get(page.key)?.current?.fingerprint;
  const tokensIn = current ? (record?.tokensIn ?? null) : null;
  const tokensOut = current ? (record?.tokensOut ?? null) : null;
  const costUsd = tokensIn !== null && tokensOut !== null && record ? costOf(record.engine, record.model, tokensIn, tokensOut, todayUtc(), pricesOf(p.config)) : null;
  return { output: page.output, exists, current, text, tokensIn, tokensOut, costUsd };
}

const pricesOf = (c: ResolvedConfig) => c.prices;

function emptyTotals(): SideTotals {
  return { pages: 0, text: noTextCounts(), tokensIn: 0, tokensOut: 0, costUsd: 0, unknownCost: 0 };
}

function add(t: SideTotals, s: PageSide): void {
  t.pages++;
  if (s.text) {
    addTextCounts(t.text, s.text);
  }
  if (s.costUsd === null || s.tokensIn === null || s.tokensOut === null) t.unknownCost++;
  else {
    t.tokensIn += s.tokensIn;
    t.tokensOut += s.tokensOut;
    t.costUsd += s.costUsd;
  }
}
