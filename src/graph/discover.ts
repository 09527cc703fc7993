// Discovery: which pages exist (the allow-list decides, else the images), which image belongs to each, and
// where its output goes. Files that cannot be pages become diagnostics naming the file; the rest goes on.
import fg from 'fast-glob';
import type { ResolvedConfig } from '../config/resolved.js';
import type { Pattern } from './pattern.js';
import { asKey } from '../types.js';
import type { Diagnostic, Page } from './page.js';

export interface Discovery {
  readonly pages: readonly Page[];
  readonly diagnostics: readonly Diagnostic[];
}

interface Found {
  file: string;
  vars: Record<string, string>;
  pageNumber: number;
}

export async function discover(config: ResolvedConfig): Promise<Discovery> {
  const diagnostics: Diagnostic[] = [];
  const [imageFiles, allowFiles] = await Promise.all([
    list(config.root, config.image),
    config.allowList ? list(config.root, config.allowList) : Promise.resolve(null),
  ]);
  const images = group(config, config.image, imageFiles, diagnostics, 'image');
  const pages: Page[] = [];
  if (allowFiles && config.allowList) {
    const allowed = group(config, config.allowList, allowFiles, diagnostics, 'allow-list file');
    for (const [key, entries] of allowed) {
      const first = entries[0]!;
      if (entries.length > 1) {
        diagnostics.push({
          file: entries.map((e) => e.file).join(', '),
          message: `several allow-list files name page ${key}`,
          hint: `Keep one of them; ${first.file} is used.`,
        });
      }
      pages.push(makePage(config, key, first, images.get(key) ?? [], first.file));
    }
  } else {
    for (const [key, entries] of images) pages.push(makePage(config, key, entries[0]!, entries, null));
  }
  pages.sort(comparePages);
  return { pages, diagnostics };
}

async function list(root: string, pattern: Pattern): Promise<string[]> {
  return fg(pattern.glob, { cwd: root, onlyFiles: true, dot: false, followSymbolicLinks: true });
}

/** Matches files against a pattern, checks the order wildcard, applies filters, groups by key. */
function group(config: ResolvedConfig, pattern: Pattern, files: string[], diagnostics: Diagnostic[], what: string): Map<string, Found[]> {
  const byKey = new Map<string, Found[]>();
  for (const file of files) {
    const vars = pattern.match(file);
    if (!vars) continue;
    const order = vars[config.order]!;
    if (!/^\d+$/.test(order)) {
      diagnostics.push({
        file,
        message: `${what} name "${order}" is not a page number, so this file is not a page`,
        hint: `Rename it to its page number (e.g. 12${file.slice(file.lastIndexOf('.'))}) or move it out of the collection.`,
      });
      continue;
    }
    if (!config.filters.every((f) => f.test(vars[f.wildcard] ?? ''))) continue;
    const pageNumber = Number(order);
    const keyVars = { ...vars, [config.order]: String(pageNumber) };
    const key = config.image.wildcards.map((w) => keyVars[w]).join(':');
    const entries = byKey.get(key);
    if (entries) entries.push({ file, vars, pageNumber });
    else byKey.set(key, [{ file, vars, pageNumber }]);
  }
  return byKey;
}

function makePage(config: ResolvedConfig, key: string, source: Found, images: Found[], allowListFile: string | null): Page {
  const sorted = [...images].sort((a, b) => a.file.localeCompare(b.file));
  let imageProblem: string | null = null;
  if (sorted.length === 0) {
    imageProblem = `no image for this page: expected ${config.image.format({ ...source.vars })}${config.image.hasAlternation ? ' (any listed extension)' : ''}`;
  } else if (sorted.length > 1) {
    imageProblem = `several images for one page: ${sorted.map((i) => i.file).join(' and ')}; keep exactly one`;
  }
  return {
    key: asKey(key),
    vars: Object.freeze({ ...source.vars, [config.order]: String(source.pageNumber) }),
    pageNumber: source.pageNumber,
    chainId: config.chainWildcards.map((w) => source.vars[w]).join(':'),
    image: sorted.length === 1 ? sorted[0]!.file : null,
    imageProblem,
    allowListFile,
    // Outputs keep the spelling of the page's own file name (01.jpg → 01.json).
    output: config.target.format(source.vars),
  };
}

function comparePages(a: Page, b: Page): number {
  return a.chainId < b.chainId ? -1 : a.chainId > b.chainId ? 1 : a.pageNumber - b.pageNumber;
}
