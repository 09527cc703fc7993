// Selectors on the command line: a key (`Alabama:Howard College:1849:14`), a path (output, image or
// allow-list file), or `wildcard=value` / `wildcard=from..to`. Several selectors are a union.
import path from 'node:path';
import type { Problem } from '../errors.js';
import type { TargetKey } from '../types.js';
import { relPath } from '../util/fs.js';
import type { Page } from './page.js';

export type Selection = { ok: true; keys: Set<TargetKey> } | { ok: false; problems: Problem[] };

export function select(pages: readonly Page[], selectors: readonly string[], opts: { root: string; cwd: string; wildcards: readonly string[] }): Selection {
  const keys = new Set<TargetKey>();
  const problems: Problem[] = [];
  // A path names the pages of its file: one page, or every page of a multi-page source.
  const byPath = new Map<string, Page[]>();
  const add = (file: string, p: Page) => {
    const known = byPath.get(file);
    if (known) known.push(p);
    else byPath.set(file, [p]);
  };
  for (const p of pages) {
    add(p.output, p);
    if (p.image) add(p.image, p);
    if (p.allowListFile) add(p.allowListFile, p);
  }
  const byKey = new Map(pages.map((p) => [p.key as string, p]));
  for (const sel of selectors) {
    const matched = match(sel);
    if (matched === null) continue;
    if (matched.length === 0) {
      problems.push({
        reason: 'selector-invalid',
        message: `"${sel}" matches no page`,
        hint: 'Use a key (ocrmake status --all lists them), an output, image or allow-list path, or wildcard=value.',
      });
    }
    for (const p of matched) keys.add(p.key);
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, keys };

  function match(sel: string): Page[] | null {
    const eq = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(sel);
    if (eq && !byKey.has(sel)) {
      const [, wildcard, value] = eq as unknown as [string, string, string];
      if (!opts.wildcards.includes(wildcard)) {
        problems.push({ reason: 'selector-invalid', message: `"${sel}": there is no wildcard {${wildcard}}`, hint: `Wildcards of this collection: ${opts.wildcards.join(', ')}.` });
        return null;
      }
      const range = /^(-?\d+)?\.\.(-?\d+)?$/.exec(value);
      if (range) {
        const from = range[1] === undefined ? -Infinity : Number(range[1]);
        const to = range[2] === undefined ? Infinity : Number(range[2]);
        return pages.filter((p) => {
          const n = Number(p.vars[wildcard]);
          return Number.isFinite(n) && n >= from && n <= to;
        });
      }
      return pages.filter((p) => p.vars[wildcard] === value);
    }
    const byK = byKey.get(sel);
    if (byK) return [byK];
    const rel = relPath(opts.root, path.resolve(opts.cwd, sel));
    return byPath.get(rel) ?? [];
  }
}
