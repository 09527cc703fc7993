import type { EngineName } from '../../config/define.js';
import type { BuildEvent } from '../../events.js';
import { proveNothingChanged } from '../../execute/proven-noop.js';
import { STATES, type Reason, type State } from '../../plan/types.js';
import { createReporter } from '../../report/reporter.js';
import { projectRoot } from '../root.js';

export interface StatusOptions {
  json: boolean;
  all: boolean;
  engine: 'auto' | EngineName | undefined;
  cwd?: string;
}

export interface StatusJson {
  targets: number;
  counts: Record<State, number>;
  items?: Array<{ key: string; state: State; output: string; reasons: Reason[] }>;
}

export async function status(o: StatusOptions): Promise<number> {
  const root = projectRoot(o.cwd ?? process.cwd());
  const reporter = await createReporter({ json: false, quiet: o.json, tty: false, out: process.stderr, err: process.stderr });
  const say = (e: BuildEvent) => (e.event === 'warning' || !o.json ? reporter.emit(e) : undefined);
  // Nothing changed since the last no-op build: its counts, proven by a stat per file (execute/noop-proof.ts).
  const proven = o.all ? null : await proveNothingChanged(root, o.engine);
  if (proven) {
    for (const e of proven.said) say(e);
    print(o, proven.pages, proven.proof.header.plan.counts, proven.engine);
    return 0;
  }
  // The project's modules (the cache, the planner) only now: a proven status never loads them.
  const { openProject, planProject } = await import('../../execute/project.js');
  const p = await openProject({ root, ...(o.engine ? { engine: o.engine } : {}), emit: say });
  try {
    const plan = planProject(p);
    const counts = Object.fromEntries(STATES.map((s) => [s, 0])) as Record<State, number>;
    const items: NonNullable<StatusJson['items']> = [];
    for (const chain of p.index.chains) {
      for (const page of chain.pages) {
        const t = plan.targets.get(page.key)!;
        counts[t.state]++;
        items.push({ key: page.key, state: t.state, output: page.output, reasons: t.reasons });
      }
    }
    if (o.all && !o.json) {
      const w = Math.max(3, ...items.map((i) => i.key.length));
      process.stdout.write(`${'STATE'.padEnd(13)} ${'KEY'.padEnd(w)}  REASONS\n`);
      for (const i of items) {
        const t = plan.targets.get(i.key as never)!;
        const why = i.reasons.map((r) => r.code).join(', ') || t.detail || '';
        process.stdout.write(`${`${i.state.padEnd(13)} ${i.key.padEnd(w)}  ${why}`.trimEnd()}\n`);
      }
    }
    print(o, items.length, counts, p.engine, o.all ? items : undefined);
    return 0;
  } finally {
    p.store.close();
  }
}

/** The counts line (or the JSON object, with the items under --all). */
function print(o: StatusOptions, targets: number, counts: Record<State, number>, engine: EngineName, items?: StatusJson['items']): void {
  if (o.json) {
    const out: StatusJson = { targets, counts, ...(items ? { items } : {}) };
    process.stdout.write(`${JSON.stringify(out)}\n`);
    return;
  }
  const parts = STATES.filter((s) => counts[s] > 0).map((s) => `${counts[s]} ${s}`);
  process.stdout.write(`${targets} pages (${engine} engine): ${parts.join(', ') || 'none'}\n`);
}
