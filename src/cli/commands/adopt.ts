// `ocrmake adopt [selectors..]`: records existing outputs as fresh without any request (a collection built
// by an older pipeline, or outputs kept while the cache was rebuilt). See execute/adopt.ts for how.
// It writes the cache, so it holds the project lock, taken before the cache is read (as retry does).
import path from 'node:path';
import type { EngineName } from '../../config/define.js';
import { acquireLock } from '../../cache/lock.js';
import { ExitCode } from '../../errors.js';
import { adoptOutputs, type AdoptResult } from '../../execute/adopt.js';
import { CACHE_DIR, openProject } from '../../execute/project.js';
import { resolveSelection } from '../../execute/selection.js';
import { createReporter } from '../../report/reporter.js';
import { runId } from '../../report/run-report.js';
import { projectRoot } from '../root.js';

export interface AdoptOptions {
  selectors: string[];
  dryRun: boolean;
  json: boolean;
  engine: 'auto' | EngineName | undefined;
  cwd?: string;
}

export interface AdoptJson {
  dryRun: boolean;
  engine: string;
  adopted: Array<{ key: string; output: string }>;
  fresh: number;
  noOutput: number;
  skipped: Array<{ key: string; output: string; reason: string; message: string }>;
}

export async function adopt(o: AdoptOptions): Promise<number> {
  const started = new Date();
  const cwd = o.cwd ?? process.cwd();
  const root = projectRoot(cwd);
  const lock = o.dryRun ? null : acquireLock(path.join(root, CACHE_DIR), 'adopt');
  try {
    const reporter = await createReporter({ json: false, quiet: o.json, tty: false, out: process.stderr, err: process.stderr });
    const p = await openProject({ root, ...(o.engine ? { engine: o.engine } : {}), emit: (e) => reporter.emit(e) });
    try {
      const { keys } = resolveSelection(p, o.selectors, cwd);
      const result = adoptOutputs(p, keys, { dryRun: o.dryRun });
      if (!o.dryRun) {
        p.store.recordRun(runId(started), 'adopt', started.toISOString(), new Date().toISOString(), result.skipped.length ? ExitCode.failed : ExitCode.ok, {
          adopted: result.adopted, fresh: result.fresh, noOutput: result.noOutput, skipped: result.skipped.length,
        });
        p.store.save();
      }
      const out: AdoptJson = {
        dryRun: o.dryRun,
        engine: p.engine,
        adopted: result.verdicts.flatMap((v) => (v.kind === 'adopted' ? [{ key: v.key, output: v.output }] : [])),
        fresh: result.fresh,
        noOutput: result.noOutput,
        skipped: result.skipped.map((s) => ({ key: s.key, output: s.output, reason: s.reason, message: s.message })),
      };
      process.stdout.write(o.json ? `${JSON.stringify(out)}\n` : render(out, result));
      // Every selected output that exists was adopted (or was fresh already): 0; some could not be: 1.
      return result.skipped.length > 0 ? ExitCode.failed : ExitCode.ok;
    } finally {
      p.objects.close();
      p.store.close();
    }
  } finally {
    lock?.release();
  }
}

function render(out: AdoptJson, r: AdoptResult): string {
  const lines: string[] = [];
  if (out.dryRun) for (const a of out.adopted) lines.push(`would adopt  ${a.key} <- ${a.output}`);
  for (const s of out.skipped) lines.push(`skipped      ${s.output} (${s.key}): ${s.message}`);
  const verb = out.dryRun ? 'would adopt' : 'adopted';
  const parts = [`${r.fresh} already fresh`, `${r.noOutput} without an output`];
  if (r.skipped.length) parts.push(`${r.skipped.length} skipped`);
  lines.push(`${verb} ${r.adopted} output${r.adopted === 1 ? '' : 's'} as fresh with the ${out.engine} engine (no request)${out.dryRun ? '; nothing was written' : ''}; ${parts.join(', ')}`);
  if (r.skipped.some((s) => s.reason === 'schema' || s.reason === 'invalid-json')) {
    lines.push('  Fix the skipped files and run adopt again, or delete them and build to regenerate them.');
  }
  return `${lines.join('\n')}\n`;
}
