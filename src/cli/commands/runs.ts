// `ocrmake runs [id]`: the run reports every build and watch cycle leaves in .ocrcache/runs/. Without an
// id, the recent runs newest first; with one (`latest`, or any unique part of an id), that run's Markdown summary.
import fs from 'node:fs';
import path from 'node:path';
import { ExitCode, ExitSignal } from '../../errors.js';
import { duration, usd } from '../../report/run-markdown.js';
import { listRunReports, RUNS_DIR, type RunReport } from '../../report/run-report.js';
import { projectRoot } from '../root.js';

export interface RunsOptions {
  id: string | undefined;
  json: boolean;
  limit: number;
  cwd?: string;
}

/** One line of `runs --json`. */
export interface RunListItem {
  id: string;
  command: string;
  outcome: RunReport['outcome'];
  startedAt: string;
  seconds: number;
  engine: string | null;
  built: number;
  restored: number;
  failed: number;
  requests: number;
  tokensIn: number;
  tokensOut: number;
  costUsd: number | null;
}

export async function runs(o: RunsOptions): Promise<number> {
  const root = projectRoot(o.cwd ?? process.cwd());
  if (o.id !== undefined) return showRun(root, o.id, o.json);
  const all = listRunReports(root);
  const items: RunListItem[] = all.slice(0, o.limit).map((r) => ({
    id: r.id,
    command: r.command,
    outcome: r.outcome,
    startedAt: r.startedAt,
    seconds: r.seconds,
    engine: r.engine,
    built: r.counts.built,
    restored: r.counts.restored,
    failed: r.counts.failed,
    requests: r.counts.requests,
    tokensIn: r.tokens.in,
    tokensOut: r.tokens.out,
    costUsd: r.costUsd,
  }));
  if (o.json) {
    process.stdout.write(`${JSON.stringify({ runs: items, total: all.length })}\n`);
    return ExitCode.ok;
  }
  if (items.length === 0) {
    process.stdout.write(`no runs yet: every build and watch writes a report to ${RUNS_DIR}/\n`);
    return ExitCode.ok;
  }
  const rows = items.map((r) => [
    r.id,
    `${r.startedAt.slice(0, 10)} ${r.startedAt.slice(11, 19)}`,
    r.command,
    r.outcome,
    duration(r.seconds),
    String(r.built),
    String(r.restored),
    String(r.failed),
    String(r.requests),
    r.engine === 'local' ? '$0' : usd(r.costUsd),
  ]);
  const head = ['ID', 'STARTED (UTC)', 'COMMAND', 'OUTCOME', 'DURATION', 'BUILT', 'RESTORED', 'FAILED', 'REQUESTS', 'COST'];
  const right = new Set([4, 5, 6, 7, 8, 9]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const out = [line(head), ...rows.map(line)];
  if (all.length > items.length) out.push(`(${all.length - items.length} older runs not shown; --limit ${all.length} shows them)`);
  out.push('ocrmake runs <id> (or latest, or any unique part of an id) shows a run\'s report.');
  process.stdout.write(`${out.join('\n')}\n`);
  return ExitCode.ok;
}

/**
 * Prints one report: Markdown, or with --json the full JSON. `latest` is the newest run; otherwise an id,
 * or any part of one that only one run has (`20261124-1623`, `162353`).
 */
function showRun(root: string, id: string, json: boolean): number {
  const dir = path.join(root, RUNS_DIR);
  let ids: string[];
  try {
    ids = fs.readdirSync(dir).filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -'.json'.length));
  } catch {
    ids = [];
  }
  const matches = findRun(root, ids, id);
  if (matches.length !== 1) {
    const what = id === 'latest' ? 'no run yet' : `no run "${id}"`;
    const why = matches.length === 0 ? `${what} in ${RUNS_DIR}/` : `"${id}" matches ${matches.length} runs (${matches.sort().slice(0, 3).join(', ')}${matches.length > 3 ? ', …' : ''}); give more of the id`;
    throw new ExitSignal(ExitCode.usage, `${why}.\n  Run ocrmake runs to list the runs and their ids.`);
  }
  const file = path.join(dir, `${matches[0]}.${json ? 'json' : 'md'}`);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ExitSignal(ExitCode.failed, `cannot read ${path.relative(root, file)}: ${(err as Error).message}`);
  }
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  return ExitCode.ok;
}

/** The ids `wanted` names: `latest`, the id itself, else those it starts, else those that contain it. */
function findRun(root: string, ids: readonly string[], wanted: string): string[] {
  if (wanted === 'latest') {
    const newest = listRunReports(root)[0];
    return newest ? [newest.id] : [];
  }
  if (ids.includes(wanted)) return [wanted];
  const prefixed = ids.filter((x) => x.startsWith(wanted));
  return prefixed.length > 0 ? prefixed : ids.filter((x) => x.includes(wanted));
}
