// A build that nothing changed since the last no-op build: proven with the no-op proof (noop-proof.ts) by
// loading the config, discovering the pages and a stat per file, without opening the cache. It says what
// the full path would say (the same notices, warnings, start, plan and summary events, the summary marked
// `quick`), or returns null for the full path at the first difference or error of any kind.
import fs from 'node:fs';
import path from 'node:path';
import type { EngineName } from '../config/define.js';
import { loadConfig } from '../config/load.js';
import { todayUtc } from '../cost/models.js';
import { chooseEngine } from '../engines/resolve.js';
import { ExitCode } from '../errors.js';
import type { BuildEvent as Event } from '../events.js';
import { discover } from '../graph/discover.js';
import type { BuildOptions, BuildResult } from './build.js';
import { modelWarning } from './model-notes.js';
import { pagesHash, provenBasis, readProof, sameFile, stateIdentity, Unproven, type Proof } from './noop-proof.js';
import { CACHE_DIR } from '../cache/dir.js';

/** Whether a build with these options can be a proven no-op: no option that changes what it plans or says. */
export function mayProve(opts: BuildOptions): boolean {
  return !opts.dryRun && !opts.force && opts.selectors.length === 0 && opts.maxCost === undefined && !opts.estimate && opts.deadline === undefined && !opts.createEngine;
}

export async function provenNoop(opts: BuildOptions, started: number): Promise<BuildResult | null> {
  const proven = await proveNothingChanged(opts.root, opts.engine);
  if (!proven) return null;
  const summary = { ...proven.proof.header.summary, seconds: Math.round((Date.now() - started) / 100) / 10, quick: true as const };
  for (const e of proven.said) opts.emit(e);
  opts.emit({ event: 'start', engine: proven.engine, targets: proven.pages, selected: proven.pages });
  if (proven.modelWarning) opts.emit({ event: 'warning', message: proven.modelWarning });
  opts.emit(proven.proof.header.plan);
  opts.emit({ event: 'summary', ...summary });
  return { exitCode: ExitCode.ok, summary };
}

export interface Proven {
  proof: Proof;
  engine: EngineName;
  pages: number;
  /** What opening the project says: the engine choice's notice, discovery's warnings. */
  said: Event[];
  /** The model's deprecation warning for today (Gemini engines), said after `start`. */
  modelWarning: string | null;
}

/**
 * Whether the project is as the last no-op build left it (noop-proof.ts): the same config and request basis,
 * the same pages, every image and output with the stat the proof holds, the cache untouched. Null at the
 * first difference or error of any kind: the caller takes the full path, which meets it and says it well.
 */
export async function proveNothingChanged(root: string, engine: 'auto' | EngineName | undefined): Promise<Proven | null> {
  const cacheDir = path.join(root, CACHE_DIR);
  const proof = readProof(cacheDir);
  if (!proof || !sameState(cacheDir, proof)) return null;
  const said: Event[] = [];
  try {
    const config = await loadConfig(root);
    const choice = chooseEngine(config.engine, engine, root);
    if (choice.name !== proof.header.engine || config.context.deadline !== null) return null;
    if (choice.notice) said.push({ event: 'notice', message: choice.notice });
    if (provenBasis(config, choice.name, proof) !== proof.header.basis) return null;
    const sources = new Map(proof.header.sources.map((s) => [s.path, s]));
    // Without looking for shared outputs: pagesHash covers every output, and the proof's pages had none.
    const found = await discover(config, async (file) => {
      const s = sources.get(file);
      if (!s || !sameFile(path.join(root, file), s.id)) throw new Unproven(`source ${file} changed`);
      return s.count;
    }, { separateOutputs: false });
    if (found.unmatchedFilters.length > 0 || found.pages.length !== proof.header.pages) return null;
    for (const d of found.diagnostics) said.push({ event: 'warning', file: d.file, message: `${d.file}: ${d.message}. ${d.hint}` });
    if (pagesHash(found.pages, config.chain) !== proof.header.pagesHash) return null;
    if (!sameFiles(root, found.pages, proof)) return null;
    const modelWarningNow = choice.name === 'local' ? null : modelWarning(config.rule.model, todayUtc());
    return { proof, engine: choice.name, pages: found.pages.length, said, modelWarning: modelWarningNow ?? null };
  } catch {
    // Whatever failed (a config error, a file that vanished), the full path meets it again and says it well.
    return null;
  }
}

function sameState(cacheDir: string, proof: Proof): boolean {
  const now = stateIdentity(cacheDir);
  const was = proof.header.state;
  return now !== null && now.journal === was.journal && JSON.stringify(now.snapshot) === JSON.stringify(was.snapshot);
}

/** Every page's image and output as the proof has them: a stat each. */
function sameFiles(root: string, pages: readonly { image: string | null; output: string }[], proof: Proof): boolean {
  const body = proof.body;
  for (let i = 0; i < pages.length; i++) {
    const pg = pages[i]!;
    if (!same(root, pg.image, body, i * 6) || !same(root, pg.output, body, i * 6 + 3)) return false;
  }
  return true;
}

function same(root: string, rel: string | null, body: BigInt64Array, at: number): boolean {
  if (rel === null) return body[at] === -1n;
  // Concatenation, as the stat cache does: at a million files path.join shows in profiles.
  const st = fs.statSync(path.isAbsolute(rel) ? rel : `${root}${path.sep}${rel}`, { bigint: true, throwIfNoEntry: false });
  return !!st && st.isFile() && st.size === body[at] && st.mtimeNs === body[at + 1] && BigInt.asIntN(64, st.ino) === body[at + 2];
}
