// `ocrmake compare <a> <b> [selectors..]`: two variants, or a variant and `current` (the real outputs), page
// by page (src/variants/compare.ts). Reads only; sends nothing. `--html FILE` adds the side-by-side view.
import path from 'node:path';
import type { EngineName } from '../../config/define.js';
import { resolveSelection } from '../../execute/selection.js';
import { Thumbnails } from '../../report/html/media.js';
import { createReporter } from '../../report/reporter.js';
import { writeFileAtomic } from '../../util/fs.js';
import { openNamed } from '../../variants/area.js';
import { compareSides } from '../../variants/compare.js';
import { compareHtml, compareJson, compareText } from '../../variants/compare-view.js';
import { projectRoot } from '../root.js';

export interface CompareOptions {
  a: string;
  b: string;
  selectors: string[];
  json: boolean;
  diffs: number;
  html: string | undefined;
  engine: 'auto' | EngineName | undefined;
  cwd?: string;
}

export async function compareCommand(o: CompareOptions): Promise<number> {
  const cwd = o.cwd ?? process.cwd();
  const root = projectRoot(cwd);
  const reporter = await createReporter({ json: false, quiet: true, tty: false, out: process.stderr, err: process.stderr });
  const open = (name: string) => openNamed(root, name, { ...(o.engine ? { engine: o.engine } : {}), emit: (e) => (e.event === 'warning' ? reporter.emit(e) : undefined) });
  const a = await open(o.a);
  try {
    const b = await open(o.b);
    try {
      const keys = resolveSelection(a.project, o.selectors, cwd).explicit;
      const result = compareSides({ a: o.a, b: o.b }, a.project, b.project, keys);
      let wrote: string | null = null;
      if (o.html) {
        const thumbs = new Map<string, string>();
        const maker = new Thumbnails(a.project);
        for (const p of result.pages) {
          if (!p.image) continue;
          const t = await maker.of(p.image);
          if ('url' in t) thumbs.set(p.key, t.url);
        }
        const file = path.resolve(cwd, o.html);
        writeFileAtomic(file, compareHtml(result, thumbs, `${o.a} vs ${o.b} — ${a.project.config.name ?? path.basename(root)}`));
        wrote = path.relative(cwd, file) || file;
      }
      if (o.json) process.stdout.write(`${JSON.stringify({ ...compareJson(result), ...(wrote ? { html: wrote } : {}) })}\n`);
      else process.stdout.write(`${compareText(result, o.diffs)}${wrote ? `wrote the side-by-side view to ${wrote}\n` : ''}`);
      return 0;
    } finally {
      b.project.store.close();
    }
  } finally {
    a.project.store.close();
  }
}
