// How `compare` shows its result: a table with a line per page (scores, delta, tokens, cost) and the first
// text differences under it, the totals, and the side-by-side HTML view (the scan, both outputs' text with
// the differing words marked).
import { pct } from '../eval/format.js';
import { formatUsd } from '../plan/estimate.js';
import { cer, wer, type CompareResult, type PageCompare, type PageSide, type SideTotals } from './compare.js';
import { words } from '../eval/text-metrics.js';
import type { Hunk } from './word-diff.js';

const signed = (d: number): string => `${d > 0 ? '+' : d < 0 ? '−' : '±'}${pct(Math.abs(d))}`;
const tokens = (s: PageSide): string => (s.tokensIn === null || s.tokensOut === null ? '—' : (s.tokensIn + s.tokensOut).toLocaleString('en-US'));
const money = (s: PageSide): string => (s.costUsd === null ? '—' : formatUsd(s.costUsd));
const clip = (s: string, n = 60): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

export function compareText(r: CompareResult, diffs: number): string {
  const lines: string[] = [];
  lines.push(`compare ${r.a} → ${r.b}: ${r.pages.length} page${r.pages.length === 1 ? '' : 's'} with outputs in both${r.groundTruth ? `, scored against ${r.groundTruth}` : ' (no groundTruth in the ocrfile: no scores)'}`);
  if (r.pages.length === 0) {
    lines.push(`Nothing to compare: try both on the same pages first (ocrmake try ${r.a === 'current' ? r.b : r.a} --sample N).`);
    return `${lines.join('\n')}\n`;
  }
  const w = Math.max(24, ...r.pages.map((p) => p.key.length));
  const names = [`CER ${r.a}`, `CER ${r.b}`, 'ΔCER', `tokens ${r.a}`, `tokens ${r.b}`, `cost ${r.a}`, `cost ${r.b}`];
  const widths = names.map((h) => Math.max(9, h.length) + 2);
  const cells = (cs: string[]) => cs.map((c, i) => c.padStart(widths[i]!)).join('');
  lines.push(`${'PAGE'.padEnd(w)}${cells(names)}`);
  for (const p of r.pages) {
    lines.push(`${p.key.padEnd(w)}${cells(row(p))}${p.a.current && p.b.current ? '' : `  (${[p.a.current ? null : r.a, p.b.current ? null : r.b].filter(Boolean).join(', ')}: output not from the current settings and engine; try again)`}`);
    for (const h of p.diffs.slice(0, diffs)) lines.push(`    word ${h.at + 1}: ${h.a ? `- "${clip(h.a)}"` : ''}${h.a && h.b ? '  ' : ''}${h.b ? `+ "${clip(h.b)}"` : ''}`);
    if (diffs > 0 && p.diffs.length > diffs) lines.push(`    … and ${p.diffs.length - diffs} more difference${p.diffs.length - diffs === 1 ? '' : 's'}`);
    if (diffs > 0 && p.diffs.length === 0) lines.push('    same text');
  }
  const { a, b, delta } = r.overall;
  lines.push(`${'overall'.padEnd(w)}${cells([
    r.groundTruth ? pct(cer(a.text)) : '—', r.groundTruth ? pct(cer(b.text)) : '—', delta ? signed(delta.cer) : '—',
    a.tokensIn + a.tokensOut > 0 ? (a.tokensIn + a.tokensOut).toLocaleString('en-US') : '—', b.tokensIn + b.tokensOut > 0 ? (b.tokensIn + b.tokensOut).toLocaleString('en-US') : '—',
    a.unknownCost === a.pages ? '—' : formatUsd(a.costUsd), b.unknownCost === b.pages ? '—' : formatUsd(b.costUsd),
  ])}`);
  if (delta) lines.push(`WER: ${pct(wer(a.text))} (${r.a}) → ${pct(wer(b.text))} (${r.b}), ${signed(delta.wer)}`);
  const unknown = [unknownNote(r.a, a), unknownNote(r.b, b)].filter(Boolean);
  if (unknown.length > 0) lines.push(`Cost of pages restored from the result store is not counted (paid by the run that built them): ${unknown.join('; ')}.`);
  if (r.onlyA.length + r.onlyB.length > 0) lines.push(`Not compared: ${r.onlyA.length} page(s) only ${r.a} has, ${r.onlyB.length} only ${r.b} has.`);
  return `${lines.join('\n')}\n`;
}

function row(p: PageCompare): string[] {
  return [p.a.text ? pct(cer(p.a.text)) : '—', p.b.text ? pct(cer(p.b.text)) : '—', p.delta ? signed(p.delta.cer) : '—', tokens(p.a), tokens(p.b), money(p.a), money(p.b)];
}

const unknownNote = (name: string, t: SideTotals): string => (t.unknownCost > 0 ? `${name} ${t.unknownCost} page${t.unknownCost === 1 ? '' : 's'}` : '');

export function compareJson(r: CompareResult): Record<string, unknown> {
  const sideJson = (s: PageSide) => ({ output: s.output, current: s.current, ...(s.text ? { cer: cer(s.text), wer: wer(s.text) } : {}), tokensIn: s.tokensIn, tokensOut: s.tokensOut, costUsd: s.costUsd });
  const totals = (t: SideTotals) => ({ pages: t.pages, cer: cer(t.text), wer: wer(t.text), chars: t.text.chars, charEdits: t.text.charEdits, tokensIn: t.tokensIn, tokensOut: t.tokensOut, costUsd: t.costUsd, unknownCost: t.unknownCost });
  return {
    a: r.a, b: r.b, groundTruth: r.groundTruth,
    pages: r.pages.map((p) => ({ key: p.key, chain: p.chain, a: sideJson(p.a), b: sideJson(p.b), delta: p.delta, diffs: p.diffs })),
    onlyA: r.onlyA, onlyB: r.onlyB,
    overall: { a: totals(r.overall.a), b: totals(r.overall.b), delta: r.overall.delta },
  };
}

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The side-by-side view: per page, the scan (a thumbnail), then each output's text with its differing words marked. */
export function compareHtml(r: CompareResult, thumbs: ReadonlyMap<string, string>, title: string): string {
  const pages = r.pages.map((p) => {
    const marked = markWords(p.texts.a ?? '', p.texts.b ?? '', p.diffs);
    const score = (s: PageSide) => (s.text ? ` · CER ${pct(cer(s.text))}` : '');
    const thumb = thumbs.get(p.key);
    return `<section><h2>${esc(p.key)}${p.delta ? ` <small>ΔCER ${esc(signed(p.delta.cer))}</small>` : ''}</h2><div class="row">` +
      `<figure>${thumb ? `<img src="${thumb}" alt="scan of ${esc(p.key)}">` : '<p>(no scan)</p>'}</figure>` +
      `<div class="out"><h3>${esc(r.a)}${esc(score(p.a))}</h3><pre>${marked.a}</pre></div>` +
      `<div class="out"><h3>${esc(r.b)}${esc(score(p.b))}</h3><pre>${marked.b}</pre></div></div></section>`;
  });
  const css = 'body{font:14px system-ui,sans-serif;margin:1rem}.row{display:grid;grid-template-columns:minmax(200px,1fr) 1fr 1fr;gap:1rem;align-items:start}' +
    'img{max-width:100%;border:1px solid #ccc}pre{white-space:pre-wrap;font:13px ui-monospace,monospace;background:#f7f7f7;padding:.5rem;margin:0}' +
    'del{background:#fdd;text-decoration:none}ins{background:#dfd;text-decoration:none}h2{font-size:1rem;margin:1.5rem 0 .5rem}h3{font-size:.9rem;margin:0 0 .3rem}small{color:#666}';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><style>${css}</style></head><body>` +
    `<h1>${esc(title)}</h1><p>${esc(compareText(r, 0).split('\n')[0]!)}</p>${pages.join('')}</body></html>\n`;
}

/** Both texts as HTML, whitespace collapsed, with the words of each hunk marked (<del> in a, <ins> in b). */
function markWords(a: string, b: string, hunks: readonly Hunk[]): { a: string; b: string } {
  const wa = words(a), wb = words(b);
  const inA = new Set<number>(), inB = new Set<number>();
  // Walk both word lists in step: between hunks the words are common, so b's index follows a's.
  let ia = 0, ib = 0;
  for (const h of hunks) {
    ib += h.at - ia;
    ia = h.at;
    const na = h.a ? h.a.split(' ').length : 0, nb = h.b ? h.b.split(' ').length : 0;
    for (let k = 0; k < na; k++) inA.add(ia + k);
    for (let k = 0; k < nb; k++) inB.add(ib + k);
    ia += na;
    ib += nb;
  }
  const render = (ws: string[], marked: Set<number>, tag: string) => ws.map((w, i) => (marked.has(i) ? `<${tag}>${esc(w)}</${tag}>` : esc(w))).join(' ');
  return { a: render(wa, inA, 'del'), b: render(wb, inB, 'ins') };
}
