// `ocrmake eval [selectors..]`: scores outputs against the ocrfile's ground truth (README "Measuring
// accuracy"): the real outputs, or a variant's (`--variant NAME`) from its area. Reads only; sends nothing.
import path from 'node:path';
import type { EngineName } from '../../config/define.js';
import { usageError } from '../../errors.js';
import { evalCsv, evalJson, evalText } from '../../eval/format.js';
import { evaluate, type EvalResult } from '../../eval/score.js';
import type { Project } from '../../execute/project.js';
import { resolveSelection } from '../../execute/selection.js';
import { createReporter } from '../../report/reporter.js';
import { relPath, writeFileAtomic } from '../../util/fs.js';
import { CURRENT, openNamed } from '../../variants/area.js';
import { projectRoot } from '../root.js';

export interface EvalOptions {
  selectors: string[];
  variant: string;
  json: boolean;
  csv: string | undefined;
  engine: 'auto' | EngineName | undefined;
  cwd?: string;
}

export async function evalCommand(o: EvalOptions): Promise<number> {
  const cwd = o.cwd ?? process.cwd();
  const root = projectRoot(cwd);
  const reporter = await createReporter({ json: false, quiet: true, tty: false, out: process.stderr, err: process.stderr });
  const { project: p } = await openNamed(root, o.variant, { ...(o.engine ? { engine: o.engine } : {}), emit: (e) => (e.event === 'warning' ? reporter.emit(e) : undefined) });
  try {
    const result = scoreProject(p, o.selectors, cwd);
    if (o.csv !== undefined) {
      const text = evalCsv(result);
      if (o.csv === '-') process.stdout.write(text);
      else {
        const file = path.resolve(cwd, o.csv);
        writeFileAtomic(file, text);
        const shown = path.relative(cwd, file) || file;
        process.stdout.write(o.json ? `${JSON.stringify({ csv: shown, pages: result.pages.length })}\n` : `wrote the scores of ${result.pages.length} pages to ${shown}\n`);
      }
      return 0;
    }
    process.stdout.write(o.json ? `${JSON.stringify(evalJson(result, o.variant))}\n` : evalText(result, o.variant));
    return 0;
  } finally {
    p.store.close();
  }
}

/** The selected pages of an open project (real or variant) scored against the ground truth. */
export function scoreProject(p: Project, selectors: readonly string[], cwd: string): EvalResult {
  if (!p.config.groundTruth) {
    throw usageError([{
      reason: 'config-invalid',
      file: relPath(p.config.root, p.config.file),
      at: 'groundTruth',
      message: 'no ground truth: eval and compare score outputs against it',
      hint: "Add groundTruth: 'dataset/ground_truth/{state}/{school}/{year}/{page}.txt' (a pattern of .txt or .json files with the pages' wildcards) to the ocrfile.",
    }]);
  }
  const chosen = resolveSelection(p, selectors, cwd).explicit;
  const pages = p.index.chains.flatMap((c) => c.pages).filter((pg) => chosen.has(pg.key));
  return evaluate(p.config, p.config.rule, pages, (pg) => pg.output);
}

export { CURRENT };
