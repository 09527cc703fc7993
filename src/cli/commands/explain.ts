import type { EngineName } from '../../config/define.js';
import type { Components } from '../../cache/records.js';
import { usageError } from '../../errors.js';
import { planProject } from '../../execute/project.js';
import { select } from '../../graph/select.js';
import type { Reason, State } from '../../plan/types.js';
import { projectRoot } from '../root.js';
import { openQuietly } from '../open.js';

export interface ExplainOptions {
  target: string;
  json: boolean;
  engine: 'auto' | EngineName | undefined;
  cwd?: string;
}

type ComponentName = 'image' | 'prompt' | 'context' | 'config' | 'schema';
const COMPONENTS: readonly ComponentName[] = ['image', 'prompt', 'context', 'config', 'schema'];

export interface ExplainJson {
  key: string;
  state: State;
  output: string;
  image: string | null;
  reasons: Reason[];
  detail: string | null;
  predecessor: { key: string; state: State } | null;
  blockedBy: string | null;
  components: Record<ComponentName, { recorded: string | null; current: string | null }>;
  fingerprint: { recorded: string | null; current: string | null };
  attempts: number;
  lastError: { class: string; message: string; at: string } | null;
  batch: string | null;
  builtAt: string | null;
  origin: string | null;
}

export async function explain(o: ExplainOptions): Promise<number> {
  const cwd = o.cwd ?? process.cwd();
  const root = projectRoot(cwd);
  const p = await openQuietly(root, o.engine);
  try {
    const s = select(p.pages, [o.target], { root, cwd, wildcards: p.config.image.wildcards });
    if (!s.ok) throw usageError(s.problems);
    if (s.keys.size !== 1) throw usageError([{ reason: 'selector-invalid', message: `"${o.target}" names ${s.keys.size} pages; explain takes one`, hint: 'Give a key or a path.' }]);
    const key = [...s.keys][0]!;
    const plan = planProject(p);
    const t = plan.targets.get(key)!;
    const page = p.index.byKey.get(key)!;
    const input = p.fingerprints.inputs.get(key)!;
    const record = p.store.targets.get(key) ?? null;
    const pred = p.index.predecessor.get(key) ?? null;
    const current = input.current;
    const attempt = current ? p.store.attemptFor(key, current.fingerprint) : null;
    const lastFailure = p.store.failureLog(key).at(-1) ?? null;
    const pick = (c: Components | undefined, k: ComponentName) => (c ? c[k] : null);
    const out: ExplainJson = {
      key,
      state: t.state,
      output: page.output,
      image: page.image,
      reasons: t.reasons,
      detail: t.detail,
      predecessor: pred ? { key: pred, state: plan.targets.get(pred)!.state } : null,
      blockedBy: t.blockedBy,
      components: Object.fromEntries(COMPONENTS.map((k) => [k, { recorded: pick(record?.components, k), current: pick(current?.components, k) }])) as ExplainJson['components'],
      fingerprint: { recorded: record?.fingerprint ?? null, current: current?.fingerprint ?? null },
      attempts: attempt?.count ?? 0,
      lastError: lastFailure ? { class: lastFailure.class, message: lastFailure.message, at: lastFailure.at } : null,
      batch: record?.batch ?? null,
      builtAt: record?.builtAt ?? null,
      origin: record?.origin ?? null,
    };
    process.stdout.write(o.json ? `${JSON.stringify(out)}\n` : human(out, p.engine));
    return 0;
  } finally {
    p.store.close();
  }
}

const short = (h: string | null) => (h === null ? '-' : h.slice(0, 12));

function human(e: ExplainJson, engine: string): string {
  const lines = [`${e.key}: ${e.state}${e.detail ? ` (${e.detail})` : ''}`];
  lines.push(`  output       ${e.output}`);
  lines.push(`  image        ${e.image ?? '(none)'}`);
  if (e.predecessor) lines.push(`  predecessor  ${e.predecessor.key} (${e.predecessor.state})`);
  else lines.push('  predecessor  none (first page of its chain)');
  if (e.blockedBy) lines.push(`  blocked by   ${e.blockedBy}`);
  for (const r of e.reasons) {
    lines.push('recorded' in r ? `  reason       ${r.code}: recorded ${short(r.recorded)}, current ${short(r.current)}` : `  reason       ${r.code}`);
  }
  if (e.state === 'fresh') lines.push(`  why fresh    the output is what ocrmake wrote (${e.origin ?? 'built'} ${e.builtAt ?? ''}) and the request (${engine}) is unchanged`.trimEnd());
  if (e.state === 'edited') lines.push('  why edited   the output differs from what ocrmake wrote; it is kept as is (build --force to regenerate)');
  lines.push(`  components   ${'recorded'.padEnd(14)}current`);
  for (const [k, v] of Object.entries(e.components)) {
    const mark = v.recorded !== v.current && e.fingerprint.recorded !== null ? '  changed' : '';
    lines.push(`    ${k.padEnd(10)} ${short(v.recorded).padEnd(14)}${short(v.current).padEnd(14)}${mark}`.trimEnd());
  }
  lines.push(`  fingerprint  ${short(e.fingerprint.recorded).padEnd(14)}${short(e.fingerprint.current)}`);
  if (e.attempts > 0 || e.lastError) lines.push(`  attempts     ${e.attempts}${e.lastError ? `; last error ${e.lastError.class}: ${e.lastError.message} (${e.lastError.at})` : ''}`);
  return `${lines.join('\n')}\n`;
}
