import type { EngineName } from '../../config/define.js';
import type { Components, ContextSource } from '../../cache/records.js';
import { usageError } from '../../errors.js';
import { planProject } from '../../execute/project.js';
import { select } from '../../graph/select.js';
import type { StateStore } from '../../cache/state.js';
import { sameModel } from '../../cost/models.js';
import { diffJson } from '../../util/diff-json.js';
import { editsOf } from '../../execute/edits.js';
import type { Reason, State } from '../../plan/types.js';
import { projectRoot } from '../root.js';
import { openQuietly } from '../open.js';

export interface ExplainOptions {
  target: string;
  json: boolean;
  engine: 'auto' | EngineName | undefined;
  cwd?: string;
}

type ComponentName = 'image' | 'prepare' | 'prompt' | 'context' | 'config' | 'schema';
const COMPONENTS: readonly ComponentName[] = ['image', 'prepare', 'prompt', 'context', 'config', 'schema'];

export interface ExplainJson {
  key: string;
  state: State;
  output: string;
  image: string | null;
  /** The page inside the image file when it is a multi-page source (PDF, TIFF), else null. */
  imagePage: number | null;
  reasons: Reason[];
  detail: string | null;
  predecessor: { key: string; state: State } | null;
  blockedBy: string | null;
  components: Record<ComponentName, { recorded: string | null; current: string | null }>;
  fingerprint: { recorded: string | null; current: string | null };
  attempts: number;
  lastError: { class: string; message: string; at: string } | null;
  batch: string | null;
  /** The engine that built the recorded output (gemini for a page of a Batch build's interactive tail). */
  engine: string | null;
  builtAt: string | null;
  origin: string | null;
  /** The model the recorded output was asked of, and the one that answered it (null when not said). */
  model: { requested: string | null; answered: string | null; current: string | null };
  /** What changed in the request's settings, when the config component changed: `path: recorded → current`. */
  configChanges: string[];
  /** Copies of hand-edited outputs kept before `build --force` rebuilt them, oldest first. */
  keptEdits: string[];
  /** The previous-page context the recorded output was built with (context policies), null when none. */
  context: ContextSource | null;
}

export async function explain(o: ExplainOptions): Promise<number> {
  const cwd = o.cwd ?? process.cwd();
  const root = projectRoot(cwd);
  const p = await openQuietly(root, o.engine);
  try {
    const s = select(p.pages, [o.target], { root, cwd, wildcards: p.config.keyWildcards });
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
    const pick = (c: Components | undefined, k: ComponentName) => (c ? c[k] ?? null : null);
    const out: ExplainJson = {
      key,
      state: t.state,
      output: page.output,
      image: page.image,
      imagePage: page.sourcePage,
      reasons: t.reasons,
      detail: t.detail,
      predecessor: pred ? { key: pred, state: plan.targets.get(pred)!.state } : null,
      blockedBy: t.blockedBy,
      components: Object.fromEntries(COMPONENTS.map((k) => [k, { recorded: pick(record?.components, k), current: pick(current?.components, k) }])) as ExplainJson['components'],
      fingerprint: { recorded: record?.fingerprint ?? null, current: current?.fingerprint ?? null },
      attempts: attempt?.count ?? 0,
      lastError: lastFailure ? { class: lastFailure.class, message: lastFailure.message, at: lastFailure.at } : null,
      batch: record?.batch ?? null,
      engine: record?.engine ?? null,
      builtAt: record?.builtAt ?? null,
      origin: record?.origin ?? null,
      model: { requested: record?.model ?? null, answered: record?.modelVersion ?? null, current: p.engine === 'local' ? null : p.config.rule.model },
      configChanges: configChanges(p.store, record?.components.config ?? null, current ? { hash: current.components.config, json: p.fingerprints.configJson } : null),
      keptEdits: editsOf(p, key),
      context: record?.contextSource ?? null,
    };
    process.stdout.write(o.json ? `${JSON.stringify(out)}\n` : human(out, p.engine));
    return 0;
  } finally {
    p.store.close();
  }
}

const short = (h: string | null) => (h === null ? '-' : h.slice(0, 12));

function modelLine(m: ExplainJson['model']): string {
  if (!m.requested) return `${m.current} (nothing built yet)`;
  const answered = m.answered && !sameModel(m.requested, m.answered) ? `, answered by ${m.answered}` : m.answered ? '' : ', answering model not recorded';
  const now = m.current && m.current !== m.requested ? `; the current request asks ${m.current}` : '';
  return `${m.requested}${answered}${now}`;
}

function contextLine(c: ContextSource): string {
  const h = short(c.hash);
  if (c.kind === 'draft') return `the draft of ${c.of} (draft ${h})`;
  if (c.kind === 'speculative') return `sent early with ${c.of}'s draft context, verified equal to its final output (${h})`;
  return `the final output of ${c.of} (${h})`;
}

/** The settings that differ between two recorded configs, as `path: recorded → current` lines. */
function configChanges(store: StateStore, recorded: string | null, current: { hash: string; json: string } | null): string[] {
  if (!recorded || !current || recorded === current.hash) return [];
  const before = store.configJson(recorded);
  if (before === null) return ['(the recorded settings were not kept: built by an older ocrmake)'];
  return diffJson(JSON.parse(before), JSON.parse(current.json));
}

function human(e: ExplainJson, engine: string): string {
  const lines = [`${e.key}: ${e.state}${e.detail ? ` (${e.detail})` : ''}`];
  lines.push(`  output       ${e.output}`);
  lines.push(`  image        ${e.image ?? '(none)'}${e.imagePage !== null ? ` (page ${e.imagePage})` : ''}`);
  if (e.predecessor) lines.push(`  predecessor  ${e.predecessor.key} (${e.predecessor.state})`);
  else lines.push('  predecessor  none (first page of its chain)');
  if (e.blockedBy) lines.push(`  blocked by   ${e.blockedBy}`);
  if (e.model.requested || e.model.current) lines.push(`  model        ${modelLine(e.model)}`);
  if (e.engine && e.engine !== engine) lines.push(`  built by     ${e.engine}${e.engine === 'gemini' && engine === 'gemini-batch' ? ' (interactive: the tail before a deadline)' : ''}`);
  if (e.context) lines.push(`  context      ${contextLine(e.context)}`);
  for (const r of e.reasons) {
    lines.push('recorded' in r ? `  reason       ${r.code}: recorded ${short(r.recorded)}, current ${short(r.current)}` : `  reason       ${r.code}`);
    if (r.code === 'config-changed') for (const c of e.configChanges) lines.push(`                 ${c}`);
  }
  if (e.state === 'fresh') lines.push(`  why fresh    the output is what ocrmake wrote (${e.origin ?? 'built'} ${e.builtAt ?? ''}) and the request (${engine}) is unchanged`.trimEnd());
  if (e.state === 'edited') lines.push(`  why edited   the output differs from what ocrmake wrote; it is kept as is (ocrmake build --force '${e.key.replace(/'/g, "'\\''")}' rebuilds it, keeping a copy of your edit)`);
  for (const kept of e.keptEdits) lines.push(`  kept edit    ${kept} (cp it over the output to restore it)`);
  lines.push(`  components   ${'recorded'.padEnd(14)}current`);
  for (const [k, v] of Object.entries(e.components)) {
    const mark = v.recorded !== v.current && e.fingerprint.recorded !== null ? '  changed' : '';
    lines.push(`    ${k.padEnd(10)} ${short(v.recorded).padEnd(14)}${short(v.current).padEnd(14)}${mark}`.trimEnd());
  }
  lines.push(`  fingerprint  ${short(e.fingerprint.recorded).padEnd(14)}${short(e.fingerprint.current)}`);
  if (e.attempts > 0 || e.lastError) lines.push(`  attempts     ${e.attempts}${e.lastError ? `; last error ${e.lastError.class}: ${e.lastError.message} (${e.lastError.at})` : ''}`);
  return `${lines.join('\n')}\n`;
}
