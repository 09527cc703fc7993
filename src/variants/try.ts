// `ocrmake try <variant>` (DESIGN §17): builds a variant's requests for the selected pages (or a sample of
// them) into the result store and the variant's area, never into the real outputs. The build is the real
// build loop on a project whose config is the variant's and whose state is the area's, so batching, crash
// safety, restores from the result store, --max-cost and the cost estimate all behave as in `build`.
import path from 'node:path';
import { acquireLock } from '../cache/lock.js';
import type { ResolvedVariant } from '../config/resolved.js';
import { usageError } from '../errors.js';
import { evaluate, type EvalResult } from '../eval/score.js';
import { buildProject, type BuildOptions, type BuildResult } from '../execute/build.js';
import { CACHE_DIR, type Project } from '../execute/project.js';
import { resolveSelection } from '../execute/selection.js';
import type { TargetKey } from '../types.js';
import { relPath } from '../util/fs.js';
import { canonicalJson } from '../util/hash.js';
import { loadWithVariant, openVariant, variantOf, writeVariantRecord } from './area.js';
import { samplePages } from './sample.js';

export interface TryOptions extends Omit<BuildOptions, 'force'> {
  name: string;
  /** Try on this many pages of the selection (samplePages); all selected pages when unset. */
  sample?: number;
  /** Settings from command-line flags: the variant is defined by them (it must not be in the ocrfile too). */
  settings?: Record<string, unknown>;
}

export interface TryResult extends BuildResult {
  variant: ResolvedVariant;
  /** The pages tried, in chain order. */
  pages: TargetKey[];
  /** Their scores against the ground truth, when the ocrfile has one and this was not a dry run. */
  scores: EvalResult | null;
}

export async function runTry(o: TryOptions, after?: (p: Project, r: TryResult) => Promise<void>): Promise<TryResult> {
  // The project's lock: a try and a build share the result store and the prepare cache.
  const lock = o.dryRun ? null : acquireLock(path.join(o.root, CACHE_DIR), 'try');
  try {
    const config = await loadWithVariant(o.root, o.name, o.settings);
    const v = variantOf(config, o.name);
    if (o.settings && canonicalJson(v.settings) !== canonicalJson(o.settings)) {
      throw usageError([{
        reason: 'config-invalid',
        file: relPath(config.root, config.file),
        at: `variants.${o.name}`,
        message: `variant "${o.name}" is defined in the ocrfile, so its settings cannot also come from --prompt, --model, --generation-config or --context`,
        hint: `Try it as defined (ocrmake try ${o.name}), or give the flags another variant name.`,
      }]);
    }
    const p = await openVariant(config, v, { ...(o.engine ? { engine: o.engine } : {}), emit: o.emit });
    try {
      const selected = resolveSelection(p, o.selectors, o.cwd);
      const order = p.index.chains.flatMap((c) => c.pages.map((pg) => pg.key));
      const chosen = o.sample === undefined ? order.filter((k) => selected.explicit.has(k)) : samplePages(p.index.chains, selected.explicit, o.sample);
      const pages = order.filter((k) => new Set(chosen).has(k));
      if (pages.length === 0) throw usageError([{ reason: 'config-invalid', file: relPath(config.root, config.file), at: 'selectors', message: 'no page to try', hint: 'Select pages that exist (ocrmake status --all lists them), or a sample of 1 or more.' }]);
      const built = await buildProject(p, { ...o, selectors: pages, force: false, estimate: true });
      let scores: EvalResult | null = null;
      if (!o.dryRun) {
        writeVariantRecord(o.root, { name: v.name, settings: { ...v.settings }, pages, triedAt: new Date().toISOString() });
        if (p.config.groundTruth) {
          const byKey = new Set(pages);
          scores = evaluate(p.config, p.config.rule, p.index.chains.flatMap((c) => c.pages).filter((pg) => byKey.has(pg.key)), (pg) => pg.output);
        }
      }
      const result: TryResult = { ...built, variant: v, pages, scores };
      await after?.(p, result);
      return result;
    } finally {
      p.objects.close();
      p.store.close();
    }
  } finally {
    lock?.release();
  }
}
