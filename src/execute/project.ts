// Opening a project: config, cache, discovery, chains and fingerprints — everything build, status and
// explain share before they diverge.
import path from 'node:path';
import type { EngineName } from '../config/define.js';
import { loadConfig } from '../config/load.js';
import type { ResolvedConfig } from '../config/resolved.js';
import { ResultStore } from '../cache/objects.js';
import { CacheAccessError, NewerCacheError, StateStore } from '../cache/state.js';
import { cacheProblem, isFsRefusal } from '../cache/problems.js';
import { ExitCode, ExitSignal, usageError } from '../errors.js';
import { noPromptProblem } from '../fingerprint/request.js';
import { relPath } from '../util/fs.js';
import type { Emit } from '../events.js';
import { buildChains, type ChainIndex } from '../graph/chains.js';
import { discover } from '../graph/discover.js';
import type { Page } from '../graph/page.js';
import { HashCache } from '../fingerprint/hash-cache.js';
import { Fingerprinter } from '../fingerprint/snapshot.js';
import { SourceCatalog } from '../prepare/sources.js';
import type { PageCount } from '../graph/discover.js';
import { chooseEngine } from '../engines/resolve.js';
import { plan } from '../plan/planner.js';
import { cacheJournal } from './journal.js';
import type { AttemptInfo, Plan } from '../plan/types.js';
import type { TargetKey } from '../types.js';

export { CACHE_DIR } from '../cache/dir.js';
import { CACHE_DIR } from '../cache/dir.js';

export interface Project {
  config: ResolvedConfig;
  engine: EngineName;
  cacheDir: string;
  store: StateStore;
  objects: ResultStore;
  hashes: HashCache;
  /** Page counts of multi-page sources (header reads, cached by content hash). */
  sources: SourceCatalog;
  /** Each multi-page source file discovery counted (relative path), and what the count came to. */
  counted: ReadonlyMap<string, PageCount>;
  pages: readonly Page[];
  index: ChainIndex;
  fingerprints: Fingerprinter;
}

export interface OpenOptions {
  root: string;
  engine?: 'auto' | EngineName;
  emit: Emit;
  /**
   * A variant's build (DESIGN §17): its config (the rule's settings replaced, outputs in the variant area) and
   * the folder of its own state.sqlite. The result store and every other cache stay the project's.
   */
  variant?: { config: ResolvedConfig; stateDir: string };
}

export async function openProject(opts: OpenOptions): Promise<Project> {
  const config = opts.variant?.config ?? (await loadConfig(opts.root));
  const choice = chooseEngine(config.engine, opts.engine, opts.root);
  if (choice.notice) opts.emit({ event: 'notice', message: choice.notice });
  if (choice.name !== 'local' && config.rule.promptPath === null) throw usageError([noPromptProblem(config)]);
  const cacheDir = path.join(opts.root, CACHE_DIR);
  let opened;
  try {
    opened = await StateStore.open(opts.variant?.stateDir ?? cacheDir);
  } catch (err) {
    if (err instanceof NewerCacheError) throw new ExitSignal(ExitCode.usage, `${CACHE_DIR}/state.sqlite: ${err.message}.\n  Upgrade ocrmake, or move the cache away to start a new one.`);
    if (err instanceof CacheAccessError) throw new ExitSignal(ExitCode.failed, `${err.message.replace(opts.root + path.sep, '')}.\n  Fix its permissions (or move it away), then run again.`);
    if (isFsRefusal(err)) throw cacheProblem(err, opts.root, 'opening .ocrcache');
    throw err;
  }
  if (opened.movedAside) {
    const aside = path.relative(opts.root, opened.movedAside);
    opts.emit({
      event: 'warning',
      file: aside,
      message:
        `the cache ${CACHE_DIR}/state.sqlite is damaged (${opened.movedReason}): it was moved to ${aside} (nothing deleted) and a new cache started.\n` +
        '  Outputs equal to a stored result count as fresh; any other output shows as edited until you rebuild it with build --force.',
    });
  }
  const store = opened.store;
  const objects = new ResultStore(cacheDir);
  const hashes = new HashCache(opts.root, store);
  const sources = new SourceCatalog(opts.root, store, hashes);
  // What each multi-page source's count came to, kept for the no-op proof (execute/noop-proof.ts).
  const counted = new Map<string, PageCount>();
  const found = await discover(config, async (file) => {
    const c = await sources.count(file);
    counted.set(file, c);
    return c;
  });
  if (found.unmatchedFilters.length > 0) {
    store.close();
    throw usageError(found.unmatchedFilters.map(({ filter, found: values }) => ({
      reason: 'config-invalid' as const,
      file: relPath(opts.root, config.file),
      at: `filters.${filter.wildcard}`,
      message: `${filter.describe} matches no page, so nothing would be built`,
      hint: values.length > 0 ? `Values of {${filter.wildcard}} found: ${preview(values)}.` : `No file gives {${filter.wildcard}} a value.`,
    })));
  }
  for (const d of found.diagnostics) opts.emit({ event: 'warning', file: d.file, message: `${d.file}: ${d.message}. ${d.hint}` });
  const index = buildChains(found.pages, config.chain);
  const fingerprints = new Fingerprinter(config, choice.name, store, hashes, objects, index);
  fingerprints.computeAll();
  return { config, engine: choice.name, cacheDir, store, objects, hashes, sources, counted, pages: found.pages, index, fingerprints };
}

/** The first values of a list and how many more there are. */
function preview(values: readonly string[]): string {
  return values.length <= 8 ? values.join(', ') : `${values.slice(0, 8).join(', ')} and ${values.length - 8} more`;
}

export interface PlanExtras {
  inflight?: ReadonlyMap<TargetKey, import('../types.js').Fingerprint>;
  forced?: ReadonlySet<TargetKey>;
  chains?: readonly (readonly TargetKey[])[];
}

/** The failure counter of each target's current request (counters of older requests do not count). */
export function attemptsOf(p: Project): Map<TargetKey, AttemptInfo> {
  const out = new Map<TargetKey, AttemptInfo>();
  for (const a of p.store.allAttempts()) {
    if (p.fingerprints.inputs.get(a.key)?.current?.fingerprint !== a.fingerprint) continue;
    out.set(a.key, { fingerprint: a.fingerprint, count: a.count, lastClass: a.lastClass, lastMessage: a.lastMessage });
  }
  return out;
}

/** Pages in batches that are still submitting or running, with the fingerprint they were sent with. */
export function inflightOf(p: Project): Map<TargetKey, import('../types.js').Fingerprint> {
  const out = new Map<TargetKey, import('../types.js').Fingerprint>();
  for (const b of cacheJournal(p.store, p.engine).open()) for (const r of b.records) out.set(r.key, r.fingerprint);
  return out;
}

export function planProject(p: Project, extras: PlanExtras = {}, attempts = attemptsOf(p)): Plan {
  return plan({
    chains: extras.chains ?? p.index.chains.map((c) => c.pages.map((pg) => pg.key)),
    targets: p.fingerprints.inputs,
    inflight: extras.inflight ?? inflightOf(p),
    attempts,
    forced: extras.forced ?? new Set(),
    maxAttempts: p.config.execution.maxAttempts,
    chainDependent: p.fingerprints.chainDependent,
  });
}
