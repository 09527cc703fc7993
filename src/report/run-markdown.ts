// The Markdown face of a run report: what a person reads after a long run (the original pipeline's
// Prefect artifacts). Same facts as the JSON beside it, in tables.
import { sameModel } from '../cost/models.js';
import type { RunReport } from './run-report.js';

/** `, answered by gemini-3.5-flash-lite (12)` when another model than the requested one answered. */
function answered(r: RunReport): string {
  const others = Object.entries(r.answeredBy ?? {}).filter(([m]) => !r.model || !sameModel(r.model, m));
  return others.length ? `, answered by ${others.map(([m, n]) => `${m} (${n})`).join(', ')}` : '';
}

/** Failures shown in full in the Markdown; the JSON (and `ocrmake failures`) has the rest. */
const MAX_FAILURE_ROWS = 100;

export function renderRunMarkdown(r: RunReport): string {
  const lines: string[] = [];
  const upToDate = r.pages.fresh + r.pages.edited;
  lines.push(`# ocrmake ${r.command}: ${OUTCOME[r.outcome]}`, '');
  lines.push(
    `Run \`${r.id}\`, started ${when(r.startedAt)}, took ${duration(r.seconds)}. ` +
      `Engine ${r.engine ?? 'unknown'}${r.model ? `, model ${r.model}` : ''}${answered(r)}.`,
    '',
  );
  if (r.outcome !== 'interrupted') {
    lines.push(`**${upToDate}/${r.pages.selected} selected pages up to date**${r.pages.edited ? ` (${r.pages.edited} edited)` : ''}${r.pages.selected !== r.pages.total ? ` of ${r.pages.total} pages` : ''}.`, '');
  } else {
    lines.push('**The run was interrupted before its end**: the counts below are what happened until then.', '');
  }
  if (r.stopped) lines.push(`Stopped: ${cell(r.stopped)}`, '');
  const c = r.counts;
  lines.push(
    ...table(
      ['built', 'restored', 'cutoff', 'failed attempts', 'dead', 'blocked', 'missing input', 'requests', 'batches', 'uploads'],
      [[c.built, c.restored, c.cutoff, c.failed, c.dead, c.blocked, c.missingInput, c.requests, c.batches, c.uploads].map(num)],
      'r',
    ),
    '',
  );
  if (r.plan) {
    const states = Object.entries(r.plan.counts).filter(([, n]) => n > 0).map(([s, n]) => `${n} ${s}`).join(', ') || 'nothing';
    const reasons = Object.entries(r.plan.reasons).map(([k, n]) => `${k} ${n}`).join(', ');
    const estimate = r.plan.estimateUsd != null && r.plan.toSend > 0 ? ` (estimated ${usd(r.plan.estimateUsd)})` : '';
    lines.push(`Plan at the start: ${states}${reasons ? ` (stale: ${reasons})` : ''}; ${r.plan.toRestore} to restore, ${r.plan.toSend} to send${estimate}.`, '');
  }
  lines.push(r.engine === 'local' ? 'Tokens and cost: none (local OCR).' : `Tokens: ${num(r.tokens.in)} in, ${num(r.tokens.out)} out. Cost: ${costText(r)}.`, '');

  lines.push('## Batches', '');
  if (r.batches.length === 0) {
    lines.push(r.engine === 'gemini-batch' ? 'No batch was created in this run.' : `None: the ${r.engine ?? 'chosen'} engine sends no batches.`, '');
  } else {
    const rows = r.batches.map((b) => [code(b.name), code(b.displayName), b.state, num(b.records), num(b.succeeded), num(b.failed), num(b.tokensIn + b.tokensOut), usd(b.costUsd), b.seconds === null ? '-' : duration(b.seconds)]);
    const sum = (f: (b: RunReport['batches'][number]) => number) => r.batches.reduce((n, b) => n + f(b), 0);
    const costs = r.batches.map((b) => b.costUsd);
    rows.push([
      '**total**', '', '', num(sum((b) => b.records)), num(sum((b) => b.succeeded)), num(sum((b) => b.failed)), num(sum((b) => b.tokensIn + b.tokensOut)),
      usd(costs.some((x) => x === null) ? null : costs.reduce<number>((n, x) => n + (x ?? 0), 0)), '',
    ]);
    lines.push(...table(['batch', 'display name', 'state', 'records', 'succeeded', 'failed', 'tokens', 'cost', 'duration'], rows, 'lllrrrrrr'), '');
  }

  lines.push('## Failures', '');
  if (r.failures.length === 0) {
    lines.push('None.', '');
  } else {
    const shown = r.failures.slice(0, MAX_FAILURE_ROWS);
    const rows = shown.map((f) => [code(f.key), f.class + (f.code ? ` (${f.code})` : ''), cell(f.message, 240), `${f.attempt}${f.dead ? ' (dead)' : ''}`, f.batch ? code(f.batch) : '-']);
    lines.push(...table(['key', 'class', 'message', 'attempt', 'batch'], rows, 'lllrl'), '');
    const more = r.failures.length - shown.length + r.failuresOmitted;
    if (more > 0) lines.push(`…and ${more} more: \`ocrmake failures\` lists them all.`, '');
  }
  if (r.blocked.length > 0 || r.missingInput.length > 0) {
    lines.push('## Not built', '');
    for (const b of r.blocked.slice(0, MAX_FAILURE_ROWS)) lines.push(`- blocked ${code(b.key)}: waits for ${b.by ? code(b.by) : 'its predecessor'}${b.detail ? ` (${cell(b.detail)})` : ''}`);
    for (const m of r.missingInput.slice(0, MAX_FAILURE_ROWS)) lines.push(`- missing input ${code(m.key)}${m.detail ? `: ${cell(m.detail)}` : ''}`);
    lines.push('');
  }
  if (r.warnings.length > 0) {
    lines.push('## Warnings', '');
    for (const w of r.warnings.slice(0, MAX_FAILURE_ROWS)) lines.push(`- ${cell(w, 400)}`);
    lines.push('');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

const OUTCOME: Record<RunReport['outcome'], string> = {
  ok: 'every selected page up to date',
  failed: 'some pages are not up to date',
  stopped: 'stopped by the engine',
  interrupted: 'interrupted',
};

export function costText(r: Pick<RunReport, 'engine' | 'model' | 'costUsd' | 'pricesAsOf'>): string {
  if (r.engine === 'local') return '$0 (local OCR)';
  if (r.costUsd === null) return `unknown price (no price known for model ${r.model ?? '(unknown)'})`;
  return `${usd(r.costUsd)} (${r.engine}${r.engine === 'gemini-batch' ? ', batch half price' : ''}${r.model ? `, ${r.model}` : ''}; prices as of ${r.pricesAsOf})`;
}

/** Dollars with enough digits to tell small runs apart; "unknown price" when there is no price. */
export function usd(x: number | null): string {
  if (x === null) return 'unknown price';
  if (x === 0) return '$0';
  if (x >= 1) return `$${x.toFixed(2)}`;
  return x < 0.0001 ? '<$0.0001' : `$${x.toFixed(4)}`;
}

export function duration(s: number): string {
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60), rest = Math.round(s - m * 60);
  if (m < 60) return `${m} min ${rest} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

const when = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
const num = (n: number) => n.toLocaleString('en-US');
const code = (s: string) => `\`${s.replace(/`/g, "'")}\``;

/** Text safe inside a table cell: one line, pipes escaped, shortened. */
function cell(s: string, max = 300): string {
  const flat = s.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** A GitHub-flavoured table; `align` is one letter per column (l or r), or one letter for all. */
function table(head: string[], rows: string[][], align: string): string[] {
  const a = (i: number) => (align.length === 1 ? align : align[i] ?? 'l');
  return [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (a(i) === 'r' ? '---:' : '---')).join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}
