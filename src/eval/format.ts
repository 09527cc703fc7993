// How `ocrmake eval` shows its scores: a table (pages, chains, overall), the --json contract, the CSV rows.
import { precision, recall, type JsonCounts } from './json-metrics.js';
import type { EvalResult, PageEval, Totals } from './score.js';
import { cerOf, werOf, type TextCounts } from './text-metrics.js';

export const pct = (r: number): string => `${(r * 100).toFixed(2)} %`;
const cer = cerOf;
const wer = werOf;

/** The figures of one page, chain or the whole: rates (0–1) and the counts behind them. */
export function figures(text: TextCounts | null, json: JsonCounts | null): Record<string, unknown> {
  return {
    ...(text ? { cer: round(cer(text)), wer: round(wer(text)), chars: text.chars, charEdits: text.charEdits, words: text.words, wordEdits: text.wordEdits } : {}),
    ...(json
      ? {
          fields: Object.fromEntries(Object.entries(json.fields).map(([f, c]) => [f, { accuracy: round(c.total === 0 ? 1 : c.correct / c.total), correct: c.correct, total: c.total }])),
          lists: Object.fromEntries(Object.entries(json.lists).map(([f, c]) => [f, { precision: round(precision(c)), recall: round(recall(c)), ...c }])),
        }
      : {}),
  };
}

const round = (x: number): number => Math.round(x * 1e6) / 1e6;

export function evalJson(r: EvalResult, variant: string): Record<string, unknown> {
  return {
    variant,
    groundTruth: r.groundTruth.pattern.source,
    format: r.groundTruth.format,
    pages: r.pages.map((p) => ({ key: p.key, chain: p.chain, output: p.output, truth: p.truth, status: p.status, ...(p.problem ? { problem: p.problem } : {}), ...figures(p.text, p.json) })),
    chains: r.chains.map((c) => ({ chain: c.chain, pages: c.totals.pages, ...figures(c.totals.text, c.totals.json) })),
    overall: { pages: r.overall.pages, ...figures(r.overall.text, r.overall.json) },
  };
}

/** One row per page, then per chain, then overall (`level`), with the JSON fields' columns when there are any. */
export function evalCsv(r: EvalResult): string {
  const fields = [...new Set(r.pages.flatMap((p) => Object.keys(p.json?.fields ?? {})))];
  const lists = [...new Set(r.pages.flatMap((p) => Object.keys(p.json?.lists ?? {})))];
  const header = ['level', 'key', 'status', 'pages', 'cer', 'wer', 'chars', 'char_edits', 'words', 'word_edits', ...fields.map((f) => `${f}_accuracy`), ...lists.flatMap((l) => [`${l}_precision`, `${l}_recall`])];
  const row = (level: string, key: string, status: string, pages: number, text: TextCounts | null, json: JsonCounts | null): string[] => [
    level, key, status, String(pages),
    ...(text ? [String(round(cer(text))), String(round(wer(text))), String(text.chars), String(text.charEdits), String(text.words), String(text.wordEdits)] : ['', '', '', '', '', '']),
    ...fields.map((f) => {
      const c = json?.fields[f];
      return c && c.total > 0 ? String(round(c.correct / c.total)) : '';
    }),
    ...lists.flatMap((l) => {
      const c = json?.lists[l];
      return c ? [String(round(precision(c))), String(round(recall(c)))] : ['', ''];
    }),
  ];
  const rows = [
    header,
    ...r.pages.map((p) => row('page', p.key, p.status, p.status === 'scored' ? 1 : 0, p.text, p.json)),
    ...r.chains.map((c) => row('chain', c.chain, 'scored', c.totals.pages, c.totals.text, c.totals.json)),
    row('overall', '', 'scored', r.overall.pages, r.overall.text, r.overall.json),
  ];
  return rows.map((cells) => cells.map(csvCell).join(',')).join('\n') + '\n';
}

const csvCell = (s: string): string => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/** The table: one line per page, per chain and overall; then, for JSON truth, accuracy per field. */
export function evalText(r: EvalResult, variant: string): string {
  const lines: string[] = [];
  const scored = r.pages.filter((p) => p.status === 'scored').length;
  lines.push(`eval ${variant}: ${r.pages.length} pages, ${scored} scored against ${r.groundTruth.pattern.source}`);
  const w = Math.max(24, ...r.pages.map((p) => p.key.length), ...r.chains.map((c) => c.chain.length + 6));
  lines.push(`${'PAGE'.padEnd(w)}  ${'CER'.padStart(8)}  ${'WER'.padStart(8)}`);
  for (const p of r.pages) lines.push(pageLine(p, w));
  for (const c of r.chains) lines.push(totalsLine(`chain ${c.chain}`, c.totals, w));
  lines.push(totalsLine('overall', r.overall, w));
  const json = r.overall.json;
  if (json) {
    for (const [f, c] of Object.entries(json.fields)) lines.push(`  ${f}: ${pct(c.total === 0 ? 1 : c.correct / c.total)} correct (${c.correct}/${c.total} pages)`);
    for (const [f, c] of Object.entries(json.lists)) lines.push(`  ${f}: precision ${pct(precision(c))}, recall ${pct(recall(c))} (${c.tp} matched, ${c.fp} extra, ${c.fn} missed)`);
  }
  const missing = r.pages.filter((p) => p.status === 'no-output').length;
  if (missing > 0) lines.push(`${missing} page${missing === 1 ? ' has' : 's have'} no output to score yet: ${variant === 'current' ? 'ocrmake build' : `ocrmake try ${variant}`} makes ${missing === 1 ? 'it' : 'them'}.`);
  return `${lines.join('\n')}\n`;
}

function pageLine(p: PageEval, w: number): string {
  if (p.status !== 'scored' || !p.text) return `${p.key.padEnd(w)}  ${p.status === 'unreadable' ? `unreadable: ${p.problem}` : p.status}`;
  return `${p.key.padEnd(w)}  ${pct(cer(p.text)).padStart(8)}  ${pct(wer(p.text)).padStart(8)}`;
}

function totalsLine(label: string, t: Totals, w: number): string {
  return `${label.padEnd(w)}  ${pct(cer(t.text)).padStart(8)}  ${pct(wer(t.text)).padStart(8)}  (${t.pages} page${t.pages === 1 ? '' : 's'}; ${t.text.charEdits} edits in ${t.text.chars} characters)`;
}
