// Scoring outputs against ground truth (DESIGN §17): per page, then pooled per chain and overall (sums of
// edits over sums of lengths, so a long page weighs more than a short one, as CER is usually reported).
import fs from 'node:fs';
import path from 'node:path';
import type { GroundTruth, ResolvedConfig, ResolvedRule } from '../config/resolved.js';
import type { Page } from '../graph/page.js';
import type { TargetKey } from '../types.js';
import { addJsonCounts, defaultText, jsonCounts, type JsonCounts } from './json-metrics.js';
import { addTextCounts, noTextCounts, textCounts, type TextCounts } from './text-metrics.js';

export type PageStatus = 'scored' | 'no-output' | 'no-truth' | 'unreadable';

export interface PageEval {
  key: TargetKey;
  chain: string;
  /** The output read (relative to the root), and the truth file. */
  output: string;
  truth: string;
  status: PageStatus;
  /** Why a page is unreadable (its output or truth file is not JSON, or rule.text threw). */
  problem: string | null;
  text: TextCounts | null;
  json: JsonCounts | null;
  /** The output's plain text (for compare's diffs), null when not scored. */
  outputText: string | null;
}

export interface Totals {
  pages: number;
  text: TextCounts;
  json: JsonCounts | null;
}

export interface EvalResult {
  groundTruth: GroundTruth;
  pages: PageEval[];
  chains: Array<{ chain: string; totals: Totals }>;
  overall: Totals;
}

/**
 * Scores the outputs of `pages` (in chain order) read from `outputOf(page)` (a path relative to the root:
 * the real output, or a variant's).
 */
export function evaluate(config: ResolvedConfig, rule: ResolvedRule, pages: readonly Page[], outputOf: (page: Page) => string): EvalResult {
  const gt = config.groundTruth;
  if (!gt) throw new Error('evaluate: no groundTruth in the config');
  const scored = pages.map((page) => scorePage(config.root, gt, rule, page, outputOf(page)));
  const chains = new Map<string, Totals>();
  const overall = emptyTotals(gt);
  for (const s of scored) {
    if (s.status !== 'scored') continue;
    let t = chains.get(s.chain);
    if (!t) chains.set(s.chain, (t = emptyTotals(gt)));
    add(t, s);
    add(overall, s);
  }
  return { groundTruth: gt, pages: scored, chains: [...chains].map(([chain, totals]) => ({ chain, totals })), overall };
}

function scorePage(root: string, gt: GroundTruth, rule: ResolvedRule, page: Page, output: string): PageEval {
  const truth = gt.pattern.format(page.vars);
  const base = { key: page.key, chain: page.chainId, output, truth, problem: null, text: null, json: null, outputText: null };
  const truthBytes = readOrNull(path.join(root, truth));
  if (truthBytes === null) return { ...base, status: 'no-truth' };
  const outBytes = readOrNull(path.join(root, output));
  if (outBytes === null) return { ...base, status: 'no-output' };
  try {
    const value = parse(outBytes, output);
    const outputText = textOf(rule, value);
    if (gt.format === 'text') return { ...base, status: 'scored', text: textCounts(truthBytes, outputText), outputText };
    const expected = parse(truthBytes, truth);
    return { ...base, status: 'scored', text: textCounts(textOf(rule, expected), outputText), json: jsonCounts(expected, value, gt.match), outputText };
  } catch (err) {
    return { ...base, status: 'unreadable', problem: (err as Error).message };
  }
}

function parse(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`${file} is not JSON (${(err as Error).message})`);
  }
}

function textOf(rule: ResolvedRule, value: unknown): string {
  if (!rule.text) return defaultText(value);
  const t = rule.text(value);
  if (typeof t !== 'string') throw new Error(`the rule's text() returned ${typeof t}, not a string`);
  return t;
}

function readOrNull(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

function emptyTotals(gt: GroundTruth): Totals {
  return { pages: 0, text: noTextCounts(), json: gt.format === 'json' ? { fields: {}, lists: {} } : null };
}

function add(t: Totals, s: PageEval): void {
  t.pages++;
  if (s.text) {
    addTextCounts(t.text, s.text);
  }
  if (t.json && s.json) addJsonCounts(t.json, s.json);
}

/** The plain text of an output file (relative to the root), or null when it is missing or unreadable. */
export function readOutputText(config: ResolvedConfig, rule: ResolvedRule, output: string): string | null {
  const bytes = readOrNull(path.join(config.root, output));
  if (bytes === null) return null;
  try {
    return textOf(rule, JSON.parse(bytes));
  } catch {
    return null;
  }
}
