// `ocrmake failures`: reads the failure log (DESIGN §7), which keeps every failed attempt with its full
// context. Without selectors: a summary grouped by failure class, chain or any wildcard, then the pages that
// are failed or dead now. With selectors: each page's whole history. `--csv` exports every row.
//
// The log is history: rows of requests that were since rebuilt, changed or reset by `retry` stay. "Failed"
// and "dead" always mean the state of the page's current request, as status and explain show it.
import { joinKey, splitKey } from '../../graph/keys.js';
import path from 'node:path';
import type { EngineName } from '../../config/define.js';
import type { FailureRow } from '../../cache/records.js';
import { usageError } from '../../errors.js';
import { attemptsOf, planProject, type Project } from '../../execute/project.js';
import { select } from '../../graph/select.js';
import type { AttemptInfo, State } from '../../plan/types.js';
import type { TargetKey } from '../../types.js';
import { writeFileAtomic } from '../../util/fs.js';
import { projectRoot } from '../root.js';
import { openQuietly } from '../open.js';

export interface FailuresOptions {
  selectors: string[];
  /** `class`, `chain` or a wildcard of the pattern. */
  by: string;
  /** Write every failure-log row (of the selected pages) to this CSV file; `-` is stdout. */
  csv: string | undefined;
  json: boolean;
  verbose: boolean;
  /**
   * At most this many pages in "failed or dead now" (human output: 20 unless given; 0 or none for JSON:
   * all), and with selectors the newest this many attempts of each page.
   */
  limit?: number | undefined;
  engine: 'auto' | EngineName | undefined;
  cwd?: string;
}

/** Pages listed as failed or dead now when --limit is not given (a terminal's worth). */
const DEFAULT_LIMIT = 20;

/** A page whose current request is failed, dead, or was judged an unusable input. */
export interface CurrentFailure {
  key: string;
  state: State;
  output: string | null;
  /** Failed attempts charged to the current request. */
  attempts: number;
  lastError: { class: string; code: string | null; message: string; at: string; batch: string | null } | null;
}

export interface FailureGroup {
  group: string;
  /** Rows of the log (failed attempts) in this group. */
  failures: number;
  /** Distinct pages among them. */
  pages: number;
  /** Pages of this group failed or dead now (for `class`: whose last error on the current request is this class). */
  failed: number;
  dead: number;
  classes: Record<string, number>;
}

export interface FailuresSummaryJson {
  by: string;
  maxAttempts: number;
  totals: { failures: number; pages: number; failed: number; dead: number };
  groups: FailureGroup[];
  current: CurrentFailure[];
}

export interface HistoryEntry {
  at: string;
  class: string;
  code: string | null;
  message: string;
  /** The page's failure counter after this failure (unchanged when the failure was not charged). */
  attempt: number;
  fingerprint: string;
  /** Whether this attempt was for the page's current request. */
  currentRequest: boolean;
  batch: string | null;
  engine: string;
  model: string | null;
  promptFile: string | null;
  promptHash: string | null;
  generationConfig: string | null;
  stack: string | null;
  rawResponse: string | null;
  extractedText: string | null;
}

export interface FailuresHistoryJson {
  maxAttempts: number;
  pages: Array<Omit<CurrentFailure, 'state'> & { state: State | null; history: HistoryEntry[] }>;
}

/** The CSV columns: every column of the failure log, as named in the cache. */
export const CSV_COLUMNS = [
  'key', 'fingerprint', 'class', 'code', 'message', 'stack', 'raw_response', 'extracted_text', 'engine', 'model',
  'prompt_file', 'prompt_hash', 'generation_config', 'batch', 'attempt', 'at',
] as const;

export async function failures(o: FailuresOptions): Promise<number> {
  const cwd = o.cwd ?? process.cwd();
  const root = projectRoot(cwd);
  const p = await openQuietly(root, o.engine);
  try {
    const keys = o.selectors.length > 0 ? selected(p, o.selectors, cwd) : null;
    if (o.csv !== undefined) {
      const rows = p.store.failureLog().filter((r) => !keys || keys.includes(r.key));
      const text = toCsv(rows);
      if (o.csv === '-') process.stdout.write(text);
      else {
        const file = path.resolve(cwd, o.csv);
        writeFileAtomic(file, text);
        const shown = path.relative(cwd, file) || file;
        process.stdout.write(o.json ? `${JSON.stringify({ csv: shown, rows: rows.length, columns: CSV_COLUMNS })}\n` : `wrote ${rows.length} failure-log rows (${CSV_COLUMNS.length} columns) to ${shown}\n`);
      }
      return 0;
    }
    const view = new View(p);
    const limit = o.limit ?? (o.json ? 0 : DEFAULT_LIMIT);
    if (keys) {
      const out = view.history(keys);
      const shown = limit > 0 ? { ...out, pages: out.pages.map((pg) => ({ ...pg, history: pg.history.slice(-limit) })) } : out;
      process.stdout.write(o.json ? `${JSON.stringify(shown)}\n` : renderHistory(shown, keys.length, o.verbose, out));
    } else {
      const out = view.summary(groupBy(p, o.by));
      const shown = limit > 0 ? { ...out, current: out.current.slice(0, limit) } : out;
      process.stdout.write(o.json ? `${JSON.stringify(shown)}\n` : renderSummary(shown, out.current.length));
    }
    return 0;
  } finally {
    p.store.close();
  }
}

/** The selected pages in chain order; a key that is only in the log (a page no longer in the collection) also counts. */
function selected(p: Project, selectors: readonly string[], cwd: string): TargetKey[] {
  const logged = new Set<string>(p.store.failureLogBrief().map((r) => r.key));
  const gone = selectors.filter((s) => !p.index.byKey.has(s as TargetKey) && logged.has(s)) as TargetKey[];
  const rest = selectors.filter((s) => !gone.includes(s as TargetKey));
  let keys = new Set<TargetKey>();
  if (rest.length > 0) {
    const s = select(p.pages, rest, { root: p.config.root, cwd, wildcards: p.config.keyWildcards });
    if (!s.ok) throw usageError(s.problems);
    keys = s.keys;
  }
  const inOrder = p.index.chains.flatMap((c) => c.pages.map((pg) => pg.key)).filter((k) => keys.has(k));
  return [...inOrder, ...gone];
}

type Grouper = { name: string; of: (row: { key: TargetKey; class: string }) => string };

function groupBy(p: Project, by: string): Grouper {
  if (by === 'class') return { name: 'class', of: (r) => r.class };
  const wildcards = p.config.keyWildcards;
  const varsOf = (key: TargetKey): Record<string, string> | null => {
    const page = p.index.byKey.get(key);
    if (page) return page.vars;
    const parts = splitKey(key);
    return parts.length === wildcards.length ? Object.fromEntries(wildcards.map((w, i) => [w, parts[i]!])) : null;
  };
  if (by === 'chain') {
    return { name: 'chain', of: (r) => p.index.byKey.get(r.key)?.chainId ?? joinKey(p.config.chainWildcards.map((w) => varsOf(r.key)?.[w] ?? '?')) };
  }
  if (wildcards.includes(by)) return { name: by, of: (r) => varsOf(r.key)?.[by] ?? '(not in the collection)' };
  throw usageError([{ reason: 'option-invalid', message: `--by ${by}: there is no such grouping`, hint: `Group by class, chain, or a wildcard of this collection: ${wildcards.join(', ')}.` }]);
}

/** The log and the plan, read once. */
class View {
  readonly #p: Project;
  readonly #log: FailureRow[];
  /** The newest row of each (key, fingerprint). */
  readonly #lastOf = new Map<string, FailureRow>();
  readonly #attempts: Map<TargetKey, AttemptInfo>;
  readonly #states: Map<TargetKey, State>;

  constructor(p: Project) {
    this.#p = p;
    this.#log = p.store.failureLogBrief();
    for (const r of this.#log) this.#lastOf.set(`${r.key}\n${r.fingerprint}`, r);
    this.#attempts = attemptsOf(p);
    const plan = planProject(p, {}, this.#attempts);
    this.#states = new Map([...plan.targets].map(([k, t]) => [k, t.state]));
  }

  /** Pages whose current request failed (charged attempts) or was judged an unusable input, in chain order. */
  current(): CurrentFailure[] {
    const out: CurrentFailure[] = [];
    for (const chain of this.#p.index.chains) {
      for (const page of chain.pages) {
        const state = this.#states.get(page.key)!;
        const a = this.#attempts.get(page.key);
        if (!a || !(state === 'failed' || state === 'dead' || (state === 'missing-input' && a.lastClass === 'input-error'))) continue;
        out.push(this.#entry(page.key, state));
      }
    }
    return out;
  }

  #entry(key: TargetKey, state: State): CurrentFailure {
    const a = this.#attempts.get(key);
    const last = a ? this.#lastOf.get(`${key}\n${a.fingerprint}`) : undefined;
    return {
      key,
      state,
      output: this.#p.index.byKey.get(key)?.output ?? null,
      attempts: a?.count ?? 0,
      lastError: last ? { class: last.class, code: last.code ?? null, message: last.message, at: last.at, batch: last.batch ?? null } : null,
    };
  }

  summary(g: Grouper): FailuresSummaryJson {
    const current = this.current();
    const groups = new Map<string, FailureGroup & { keys: Set<string> }>();
    const group = (name: string) => {
      let x = groups.get(name);
      if (!x) groups.set(name, (x = { group: name, failures: 0, pages: 0, failed: 0, dead: 0, classes: {}, keys: new Set() }));
      return x;
    };
    for (const r of this.#log) {
      const x = group(g.of(r));
      x.failures++;
      x.keys.add(r.key);
      x.classes[r.class] = (x.classes[r.class] ?? 0) + 1;
    }
    for (const c of current) {
      const x = group(g.of({ key: c.key as TargetKey, class: c.lastError?.class ?? '(unknown)' }));
      if (c.state === 'dead') x.dead++;
      else if (c.state === 'failed') x.failed++;
    }
    const list = [...groups.values()]
      .map(({ keys, ...x }) => ({ ...x, pages: keys.size }))
      .sort((a, b) => b.failures - a.failures || (a.group < b.group ? -1 : a.group > b.group ? 1 : 0));
    return {
      by: g.name,
      maxAttempts: this.#p.config.execution.maxAttempts,
      totals: {
        failures: this.#log.length,
        pages: new Set(this.#log.map((r) => r.key)).size,
        failed: current.filter((c) => c.state === 'failed').length,
        dead: current.filter((c) => c.state === 'dead').length,
      },
      groups: list,
      current,
    };
  }

  history(keys: readonly TargetKey[]): FailuresHistoryJson {
    const logged = new Set<string>(this.#log.map((r) => r.key));
    return {
      maxAttempts: this.#p.config.execution.maxAttempts,
      pages: keys.map((key) => {
        const state = this.#states.get(key) ?? null;
        const currentFp = this.#p.fingerprints.inputs.get(key)?.current?.fingerprint ?? null;
        // Full rows (raw replies and all) only for pages that have any, by the indexed key.
        const history = (logged.has(key) ? this.#p.store.failureLog(key) : []).map((r) => ({
          at: r.at,
          class: r.class,
          code: r.code ?? null,
          message: r.message,
          attempt: r.attempt,
          fingerprint: r.fingerprint,
          currentRequest: r.fingerprint === currentFp,
          batch: r.batch ?? null,
          engine: r.engine,
          model: r.model ?? null,
          promptFile: r.promptFile ?? null,
          promptHash: r.promptHash ?? null,
          generationConfig: r.generationConfig ?? null,
          stack: r.stack ?? null,
          rawResponse: r.rawResponse ?? null,
          extractedText: r.extractedText ?? null,
        }));
        return { ...this.#entry(key, state ?? 'stale'), state, history };
      }),
    };
  }
}

// --- rendering ---

const oneLine = (s: string, max = 200) => {
  const flat = s.replace(/\s*\n\s*/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};
const short = (h: string | null) => (h ? h.slice(0, 12) : '-');

function table(rows: string[][], rightAligned: ReadonlySet<number>): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (rightAligned.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

function renderSummary(s: FailuresSummaryJson, currentTotal: number): string {
  if (s.totals.failures === 0 && s.current.length === 0) return 'no failed attempts recorded\n';
  const t = s.totals;
  const lines = [`${t.failures} failed attempt${t.failures === 1 ? '' : 's'} on ${t.pages} page${t.pages === 1 ? '' : 's'} recorded; now ${t.failed} failed, ${t.dead} dead (at most ${s.maxAttempts} attempts per request)`, ''];
  const head = [s.by.toUpperCase(), 'ATTEMPTS', 'PAGES', 'FAILED', 'DEAD', ...(s.by === 'class' ? [] : ['CLASSES'])];
  const body = s.groups.map((g) => [
    g.group, String(g.failures), String(g.pages), String(g.failed), String(g.dead),
    ...(s.by === 'class' ? [] : [Object.entries(g.classes).sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c} ${n}`).join(', ')]),
  ]);
  lines.push(table([head, ...body], new Set([1, 2, 3, 4])));
  if (s.current.length > 0) {
    lines.push('', 'failed or dead now:');
    lines.push(
      table(
        [['STATE', 'ATTEMPTS', 'KEY', 'LAST ERROR'], ...s.current.map((c) => [c.state, `${c.attempts}/${s.maxAttempts}`, c.key, c.lastError ? `${c.lastError.class}: ${oneLine(c.lastError.message)} (${c.lastError.at})` : '-'])],
        new Set([1]),
      ).replace(/^/gm, '  '),
    );
    const more = currentTotal - s.current.length;
    if (more > 0) lines.push(`  … and ${more} more (--limit ${currentTotal} lists them all; --json has them too)`);
  }
  lines.push('', 'ocrmake failures <key> shows a page\'s history; ocrmake retry [selectors..] gives failed and dead pages new attempts.');
  return `${lines.join('\n')}\n`;
}

function renderHistory(h: FailuresHistoryJson, selected: number, verbose: boolean, full: FailuresHistoryJson): string {
  const lines: string[] = [];
  let clean = 0;
  for (const pg of h.pages) {
    if (pg.history.length === 0) {
      clean++;
      if (selected === 1) lines.push(`${pg.key}: ${pg.state ?? 'not in the collection'}; no failed attempts recorded`);
      continue;
    }
    if (lines.length > 0) lines.push('');
    const used = pg.state === 'failed' || pg.state === 'dead' ? `, ${pg.attempts} of ${h.maxAttempts} attempts used on the current request` : '';
    lines.push(`${pg.key}: ${pg.state ?? 'no longer in the collection'}${used}`);
    if (pg.output) lines.push(`  output   ${pg.output}`);
    const all = full.pages.find((x) => x.key === pg.key)?.history ?? pg.history;
    const now = all.filter((e) => e.currentRequest).length;
    const hidden = all.length - pg.history.length;
    lines.push(`  ${all.length} failed attempt${all.length === 1 ? '' : 's'} recorded, ${now} for the current request${hidden > 0 ? `; the newest ${pg.history.length} shown (--limit)` : ''}`);
    pg.history.forEach((e, i) => {
      lines.push('', `  ${hidden + i + 1}. ${e.at}  ${e.class}  attempt ${e.attempt}${e.currentRequest ? '' : '  (an earlier request)'}`);
      const field = (name: string, value: string) => lines.push(`     ${name.padEnd(9)}${value}`);
      field('message', e.message.replace(/\n/g, '\n              '));
      field('code', e.code || '-');
      field('batch', e.batch ?? '-');
      field('model', `${e.model ?? '-'} (${e.engine})`);
      field('prompt', e.promptFile ? `${e.promptFile}, rendered ${short(e.promptHash)}` : '-');
      field('request', short(e.fingerprint));
      if (verbose) {
        field('config', e.generationConfig ?? '-');
        for (const [name, value] of [['stack', e.stack], ['response', e.rawResponse], ['text', e.extractedText]] as const) {
          field(name, value === null ? '-' : value.replace(/\n/g, '\n              '));
        }
      }
    });
  }
  if (clean > 0 && selected > 1) lines.push(...(lines.length ? [''] : []), `no failed attempts recorded for ${clean} of the ${selected} selected pages`);
  if (!verbose && lines.some((l) => /^\s+\d+\. /.test(l))) lines.push('', '--verbose adds the generation config, stack, raw response and extracted text of each attempt.');
  return `${lines.join('\n')}\n`;
}

// --- CSV (RFC 4180: CRLF line ends; fields with a comma, quote, CR or LF in double quotes, quotes doubled) ---

function toCsv(rows: readonly FailureRow[]): string {
  const cell = (v: string | number | null | undefined): string => {
    if (v === null || v === undefined) return '';
    const s = String(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const values = (r: FailureRow) => [
    r.key, r.fingerprint, r.class, r.code, r.message, r.stack, r.rawResponse, r.extractedText, r.engine, r.model,
    r.promptFile, r.promptHash, r.generationConfig, r.batch, r.attempt, r.at,
  ];
  return [CSV_COLUMNS.join(','), ...rows.map((r) => values(r).map(cell).join(','))].map((l) => `${l}\r\n`).join('');
}
