// `ocrmake batches`: the Gemini batches this project recorded, newest first: name, display name, state,
// age, pages and the tokens of the pages they built. `ocrmake cancel <batch>|--all` (cancel.ts) stops them.
import { ExitCode } from '../../errors.js';
import { CACHE_DIR } from '../../execute/project.js';
import { StateStore } from '../../cache/state.js';
import { projectRoot } from '../root.js';
import path from 'node:path';
import fs from 'node:fs';

export interface BatchesOptions {
  json: boolean;
  /** Also list finished batches (default: only the open ones and the 20 newest finished). */
  all: boolean;
  cwd?: string;
}

export interface BatchRow {
  name: string | null;
  displayName: string;
  /** submitting, creating, active (open: re-attached by the next build), or how it ended. */
  state: string;
  open: boolean;
  model: string | null;
  pages: number;
  createdAt: string;
  updatedAt: string;
  /** Tokens of the pages this batch built that are still recorded as its outputs. */
  tokensIn: number;
  tokensOut: number;
}

const OPEN = new Set(['submitting', 'creating', 'active']);
const RECENT = 20;

/** The recorded batches, newest first (the cache is read, never changed). */
export async function readBatches(root: string): Promise<BatchRow[]> {
  const dir = path.join(root, CACHE_DIR);
  if (!fs.existsSync(path.join(dir, 'state.sqlite'))) return [];
  const { store } = await StateStore.open(dir);
  try {
    const tokens = new Map<string, { in: number; out: number }>();
    for (const t of store.targets.values()) {
      if (!t.batch) continue;
      const sum = tokens.get(t.batch) ?? { in: 0, out: 0 };
      sum.in += t.tokensIn ?? 0;
      sum.out += t.tokensOut ?? 0;
      tokens.set(t.batch, sum);
    }
    return store.query('SELECT display_name, name, model, state, records, created_at, updated_at FROM batches ORDER BY created_at DESC').map((r) => {
      const raw = String(r['state']);
      const name = (r['name'] as string | null) ?? null;
      const t = name ? tokens.get(name) : undefined;
      return {
        name,
        displayName: String(r['display_name']),
        state: raw.replace(/^done:/, ''),
        open: OPEN.has(raw),
        model: (r['model'] as string | null) ?? null,
        pages: Number(r['records']),
        createdAt: String(r['created_at']),
        updatedAt: String(r['updated_at']),
        tokensIn: t?.in ?? 0,
        tokensOut: t?.out ?? 0,
      };
    });
  } finally {
    store.close();
  }
}

export async function batches(o: BatchesOptions): Promise<number> {
  const root = projectRoot(o.cwd ?? process.cwd());
  const all = await readBatches(root);
  const open = all.filter((b) => b.open);
  const shown = o.all ? all : [...open, ...all.filter((b) => !b.open).slice(0, RECENT)];
  if (o.json) {
    process.stdout.write(`${JSON.stringify({ batches: shown, total: all.length, open: open.length })}\n`);
    return ExitCode.ok;
  }
  if (all.length === 0) {
    process.stdout.write('no batches recorded: gemini-batch builds record theirs here\n');
    return ExitCode.ok;
  }
  const now = Date.now();
  const rows = shown.map((b) => [b.name ?? '(not created yet)', b.displayName, b.state, age(now - Date.parse(b.createdAt)), String(b.pages), b.tokensIn + b.tokensOut ? (b.tokensIn + b.tokensOut).toLocaleString('en-US') : '-']);
  const head = ['BATCH', 'DISPLAY NAME', 'STATE', 'AGE', 'PAGES', 'TOKENS'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 4 || i === 5 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  process.stdout.write(`${[line(head), ...rows.map(line)].join('\n')}\n`);
  const hidden = all.length - shown.length;
  process.stdout.write(`${open.length} open (re-attached by the next build; ocrmake cancel stops them)${hidden > 0 ? `; ${hidden} older finished batches not shown (--all)` : ''}\n`);
  return ExitCode.ok;
}

/** `42 s`, `17 min`, `5 h`, `3 d`. */
export function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} d`;
}
