// Discovery: which pages exist (the allow-list decides, else the images), which image belongs to each, and
// where its output goes. Files that cannot be pages become diagnostics naming the file; the rest goes on.
// When the image pattern has no order wildcard (`scans/{book}.pdf`), every file is a multi-page source and
// its pages are counted by a PageCounter (a cached header read: discovery never decodes an image).
import type { Dirent } from 'node:fs';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Filter, ResolvedConfig } from '../config/resolved.js';
import type { Pattern } from './pattern.js';
import { asKey } from '../types.js';
import { badValue, joinKey, keyPart } from './keys.js';
import type { Diagnostic, Page } from './page.js';

export interface Discovery {
  readonly pages: readonly Page[];
  readonly diagnostics: readonly Diagnostic[];
  /**
   * The ocrfile's filters that no file the pattern matched gets through (a misspelt value, a range beside
   * the data), with the values that were found for their wildcard. Empty when nothing matched at all.
   */
  readonly unmatchedFilters: readonly { filter: Filter; found: readonly string[] }[];
}

interface Found {
  file: string;
  vars: Record<string, string>;
  pageNumber: number;
  /** The page inside a multi-page source (null: the file is the page). */
  sourcePage: number | null;
}

/**
 * The files that give each page key: one, or a list of several (a problem the page reports). Not a list
 * each: that would be a million arrays of one at a million pages.
 */
type FilesByKey = Map<string, Found | Found[]>;

function addFile(byKey: FilesByKey, key: string, found: Found): void {
  const had = byKey.get(key);
  if (had === undefined) byKey.set(key, found);
  else if (Array.isArray(had)) had.push(found);
  else byKey.set(key, [had, found]);
}

const NO_VARS: Record<string, string> = Object.freeze({});

/** How many pages a source file holds (relative path), or why it cannot be read. */
export type PageCount = { pages: number } | { problem: string };
export type PageCounter = (file: string) => Promise<PageCount>;

export interface DiscoverOptions {
  /**
   * Whether to look for pages whose outputs land on one path (default true). Only a caller that knows the
   * outputs are distinct without looking may skip it: the no-op proof, whose page hash covers every output
   * and which is only written for pages with distinct outputs (a million outputs in a set is not free).
   */
  readonly separateOutputs?: boolean;
}

export async function discover(config: ResolvedConfig, countPages?: PageCounter, options: DiscoverOptions = {}): Promise<Discovery> {
  const diagnostics: Diagnostic[] = [];
  const [imageFiles, allowFiles] = await Promise.all([
    list(config.root, config.image, diagnostics),
    config.allowList ? list(config.root, config.allowList, diagnostics) : Promise.resolve(null),
  ]);
  const unreadable = new Map<string, string>();
  // Filters are judged on the files that decide which pages exist: the allow-list's, else the images'.
  const tally = new FilterTally(config.filters);
  const images = config.pageInFile
    ? await expandSources(config, imageFiles, countPages, diagnostics, unreadable, allowFiles ? null : tally)
    : group(config, config.image, imageFiles, diagnostics, 'image', allowFiles ? null : tally, !allowFiles);
  const pages: Page[] = [];
  const chainIds = new ChainIds(config.chainWildcards);
  if (allowFiles && config.allowList) {
    const allowed = group(config, config.allowList, allowFiles, diagnostics, 'allow-list file', tally);
    allowed.forEach((entries, key) => {
      const first = Array.isArray(entries) ? entries[0]! : entries;
      if (Array.isArray(entries)) {
        diagnostics.push({
          file: entries.map((e) => e.file).join(', '),
          message: `several allow-list files name page ${key}`,
          hint: `Keep one of them; ${first.file} is used.`,
        });
      }
      pages.push(makePage(config, key, first, images.get(key), first.file, unreadable, chainIds));
    });
  } else {
    images.forEach((entries, key) => pages.push(makePage(config, key, Array.isArray(entries) ? entries[0]! : entries, entries, null, unreadable, chainIds)));
  }
  const separated = options.separateOutputs === false ? pages : separateOutputs(pages, diagnostics);
  return { pages: sortPages(separated), diagnostics, unmatchedFilters: tally.unmatched() };
}

/** Which filters let at least one matched file through, and the values seen per filtered wildcard. */
class FilterTally {
  readonly #filters: readonly Filter[];
  readonly #passed = new Set<Filter>();
  readonly #seen = new Map<string, Set<string>>();
  #any = false;

  constructor(filters: readonly Filter[]) {
    this.#filters = filters;
  }

  /** One file's wildcard values (a multi-page source's pages are fed one by one, with their number). */
  see(vars: Readonly<Record<string, string>>): void {
    if (this.#filters.length === 0) return;
    this.#any = true;
    for (const f of this.#filters) {
      const value = vars[f.wildcard];
      if (value === undefined) continue;
      let seen = this.#seen.get(f.wildcard);
      if (!seen) this.#seen.set(f.wildcard, (seen = new Set()));
      if (seen.size < 1000) seen.add(value);
      if (!this.#passed.has(f) && f.test(value)) this.#passed.add(f);
    }
  }

  unmatched(): { filter: Filter; found: string[] }[] {
    if (!this.#any) return [];
    return this.#filters
      .filter((f) => !this.#passed.has(f))
      .map((filter) => ({ filter, found: [...(this.#seen.get(filter.wildcard) ?? [])].sort((a, b) => a.localeCompare(b, 'en', { numeric: true })) }));
  }
}

/**
 * Two pages whose outputs land on one path (a target pattern that does not keep its wildcards apart:
 * `{state}-{school}` for `A-B/C` and `A/B-C`) would overwrite each other's result. Both are taken out of
 * the build, each naming the other; the rest goes on.
 */
function separateOutputs(pages: Page[], diagnostics: Diagnostic[]): Page[] {
  // A set first: outputs are almost always distinct, and a list per page would be 100,000 arrays for nothing.
  const outputs = new Set<string>();
  for (const page of pages) outputs.add(page.output);
  if (outputs.size === pages.length) return pages;
  const byOutput = new Map<string, Page[]>();
  for (const page of pages) {
    const list = byOutput.get(page.output);
    if (list) list.push(page);
    else byOutput.set(page.output, [page]);
  }
  return pages.map((page) => {
    const shared = byOutput.get(page.output)!;
    if (shared.length === 1) return page;
    const others = shared.filter((q) => q !== page).map((q) => q.key);
    if (shared[0] === page) {
      diagnostics.push({
        file: page.output,
        message: `pages ${shared.map((q) => q.key).join(' and ')} have this one output path, so one result would overwrite the other; none of them is built`,
        hint: 'Change the target pattern so that every wildcard has its own place (e.g. its own folder: out/{state}/{school}/...).',
      });
    }
    return { ...page, imageProblem: `its output path ${page.output} is also the output of ${others.join(', ')}; change the target pattern so that each page has its own path` };
  });
}

/**
 * The files (relative paths, `/`-separated, in path order) that can match `pattern`. Patterns have no `**`,
 * so the walk goes exactly one folder level per path segment and reads only folders a segment can match:
 * at 100,000 pages this is several times faster than a glob library, and allocates far less. Symbolic
 * links are followed; names starting with a dot are skipped unless the pattern spells the dot (as globs do).
 */
async function list(root: string, pattern: Pattern, diagnostics: Diagnostic[]): Promise<string[]> {
  const segments = pattern.source.split('/');
  let level: string[] = [''];
  for (const [i, segment] of segments.entries()) {
    const last = i === segments.length - 1;
    if (!last && !segment.includes('{')) {
      // A literal folder: no need to read its parent. If it does not exist, reading it below finds out.
      level = level.map((dir) => (dir ? `${dir}/${segment}` : segment));
      continue;
    }
    const test = segmentTest(segment);
    const found = await mapLimit(level, READDIR_CONCURRENCY, async (dir) => {
      let entries: Dirent[];
      try {
        entries = await fs.readdir(path.join(root, dir), { withFileTypes: true });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' && code !== 'ENOTDIR') {
          diagnostics.push({ file: dir || '.', message: `cannot read this folder (${code ?? (err as Error).message})`, hint: 'Fix its permissions; the pages under it are left out of this run.' });
        }
        return [];
      }
      const names: string[] = [];
      if (entries.some((e) => e.name.includes('\uFFFD'))) undecodable(root, dir, diagnostics);
      for (const e of entries) {
        if (e.name.includes('\uFFFD')) continue;
        if (!test(e.name)) continue;
        let isDir = e.isDirectory(), isFile = e.isFile();
        if (e.isSymbolicLink()) {
          const st = await fs.stat(path.join(root, dir, e.name)).catch(() => null);
          isDir = st?.isDirectory() ?? false;
          isFile = st?.isFile() ?? false;
        }
        if (last ? isFile : isDir) names.push(e.name);
      }
      // Directory order is the file system's; sort for a deterministic result (and "first" duplicate).
      names.sort();
      // Joined, not `${dir}/${n}`: the path is kept (a page's image), and a concatenation keeps its pieces too.
      return dir ? names.map((n) => [dir, n].join('/')) : names;
    });
    level = found.flat();
  }
  return level;
}

const READDIR_CONCURRENCY = 16;

/**
 * Names that are not valid UTF-8 reach Node with U+FFFD in place of their bad bytes, and no file call can
 * open them by that name: their pages would vanish without a word. Each gets a warning naming its folder.
 */
function undecodable(root: string, dir: string, diagnostics: Diagnostic[]): void {
  let raw: Buffer[];
  try {
    raw = fsSync.readdirSync(path.join(root, dir), { encoding: 'buffer' });
  } catch {
    return;
  }
  const strict = new TextDecoder('utf-8', { fatal: true });
  for (const name of raw) {
    try {
      strict.decode(name);
    } catch {
      const shown = [...name].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`)).join('');
      diagnostics.push({
        file: dir || '.',
        message: `the name "${shown}" in this folder is not valid UTF-8, so what it holds cannot be read and is left out`,
        hint: 'Rename it to a UTF-8 name (e.g. convmv -f latin1 -t utf8 --notest, or rename it by hand).',
      });
    }
  }
}

/**
 * A quick test of one folder or file name against one segment of a pattern: a superset of what the full
 * pattern accepts there (the full match runs afterwards), used to skip folders that cannot hold pages.
 */
function segmentTest(segment: string): (name: string) => boolean {
  const regex = new RegExp(
    `^${segment
      .split(/(\{[^}]*\})/)
      .map((part) => {
        if (!part.startsWith('{')) return escapeRegex(part);
        const body = part.slice(1, -1);
        return body.includes(',') ? `(?:${body.split(',').map(escapeRegex).join('|')})` : '[^/]+';
      })
      .join('')}$`,
  );
  const dotAllowed = segment.startsWith('.');
  return (name) => (dotAllowed || !name.startsWith('.')) && regex.test(name);
}

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `fn` over `items` with at most `limit` running at once; results in input order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * Multi-page sources: each matching file is counted and becomes one entry per page, its page number the
 * 1-based page index inside the file. A file that cannot be counted is a diagnostic (and, for pages an
 * allow-list names, the reason they have no image).
 */
async function expandSources(config: ResolvedConfig, files: string[], countPages: PageCounter | undefined, diagnostics: Diagnostic[], unreadable: Map<string, string>, tally: FilterTally | null): Promise<FilesByKey> {
  if (!countPages) throw new Error('discover: a multi-page image pattern needs a page counter');
  const sourceFilters = config.filters.filter((f) => f.wildcard !== config.order);
  const pageFilters = config.filters.filter((f) => f.wildcard === config.order);
  const sources: { file: string; vars: Record<string, string> }[] = [];
  for (const file of files) {
    const vars = config.image.match(file);
    if (vars) tally?.see(vars);
    if (!vars || !sourceFilters.every((f) => f.test(vars[f.wildcard] ?? ''))) continue;
    const bad = badVar(vars);
    if (bad) {
      diagnostics.push({ file, message: `its name gives {${bad[0]}} a value that ${bad[1]}, so its pages are left out`, hint: 'Rename the file or folder (a wildcard value cannot be empty, "." or "..").' });
      continue;
    }
    sources.push({ file, vars });
  }
  const counts = await mapLimit(sources, COUNT_CONCURRENCY, (s) => countPages(s.file));
  const byKey: FilesByKey = new Map();
  sources.forEach((s, i) => {
    const count = counts[i]!;
    if ('problem' in count) {
      unreadable.set(s.file, count.problem);
      diagnostics.push({ file: s.file, message: `its pages cannot be counted: ${count.problem}`, hint: 'Replace it with a good copy; its pages are left out until then.' });
      return;
    }
    for (let n = 1; n <= count.pages; n++) {
      const page = String(n);
      if (pageFilters.length > 0) tally?.see({ [config.order]: page });
      if (!pageFilters.every((f) => f.test(page))) continue;
      const vars = { ...s.vars, [config.order]: page };
      const key = keyOf(config.keyWildcards, vars, null);
      addFile(byKey, key, { file: s.file, vars, pageNumber: n, sourcePage: n });
    }
  });
  return byKey;
}

/** Header reads at once while counting pages (each is a small read, often served by the stat cache). */
const COUNT_CONCURRENCY = 8;

/** The first wildcard whose value cannot be part of a key and a path, and why; null when all can. */
function badVar(vars: Readonly<Record<string, string>>): [string, string] | null {
  for (const w in vars) {
    const why = badValue(vars[w]!);
    if (why !== null) return [w, why];
  }
  return null;
}

/**
 * Matches files against a pattern, checks the order wildcard, applies filters, groups by key.
 * `keepVars` false: the files' values are not kept (NO_VARS instead), only their keys: images beside an
 * allow-list, whose pages take their values from the allow-list file. A million value objects kept to the
 * end of discovery are a million objects the garbage collector copies twice.
 */
function group(config: ResolvedConfig, pattern: Pattern, files: string[], diagnostics: Diagnostic[], what: string, tally: FilterTally | null, keepVars = true): FilesByKey {
  const byKey: FilesByKey = new Map();
  const filtered = config.filters.length > 0;
  // The key is the wildcard values in key order, the page number without leading zeros.
  const keyParts = config.keyWildcards.map((w) => (w === config.order ? null : w));
  for (const file of files) {
    const vars = pattern.match(file);
    if (vars) tally?.see(vars);
    // Files the ocrfile's filters leave out are none of this run's business, valid names or not.
    if (!vars || (filtered && !config.filters.every((f) => f.test(vars[f.wildcard] ?? '')))) continue;
    const bad = badVar(vars);
    if (bad) {
      diagnostics.push({
        file,
        message: `its name gives {${bad[0]}} a value that ${bad[1]}, so this file is not a page`,
        hint: 'Rename the file or folder (a wildcard value cannot be empty, "." or "..").',
      });
      continue;
    }
    const order = vars[config.order]!;
    if (!/^\d+$/.test(order)) {
      diagnostics.push({
        file,
        message: `${what} name "${order}" is not a page number, so this file is not a page`,
        hint: `Rename it to its page number (e.g. 12${file.slice(file.lastIndexOf('.'))}) or move it out of the collection.`,
      });
      continue;
    }
    const pageNumber = Number(order);
    const key = keyOf(keyParts, vars, pageNumber);
    addFile(byKey, key, { file, vars: keepVars ? vars : NO_VARS, pageNumber, sourcePage: null });
  }
  return byKey;
}

/**
 * The key of a page: the values of `parts` (wildcard names; null for the page number, written without
 * leading zeros) as joinKey joins them, without an array per file.
 */
function keyOf(parts: readonly (string | null)[], vars: Readonly<Record<string, string>>, pageNumber: number | null): string {
  // Joined, not concatenated: a map hashes the key, which would first copy a chain of pieces into one.
  const values = keyScratch;
  values.length = parts.length;
  for (let i = 0; i < parts.length; i++) {
    const w = parts[i]!;
    values[i] = w === null ? String(pageNumber) : keyPart(vars[w]!);
  }
  return values.join(':');
}

const keyScratch: string[] = [];

/**
 * Chain ids by the chain wildcards' values. Pages come folder by folder, so a page's chain is almost always
 * the previous page's: they share one string, which is cheaper to build, to hash in a map and to compare.
 */
class ChainIds {
  readonly #wildcards: readonly string[];
  #last: Readonly<Record<string, string>> | null = null;
  #lastId = '';

  constructor(wildcards: readonly string[]) {
    this.#wildcards = wildcards;
  }

  of(vars: Readonly<Record<string, string>>): string {
    const last = this.#last;
    if (last !== null) {
      let same = true;
      for (const w of this.#wildcards) if (last[w] !== vars[w]) same = false;
      if (same) return this.#lastId;
    }
    this.#last = vars;
    this.#lastId = joinKey(this.#wildcards.map((w) => vars[w]!));
    return this.#lastId;
  }
}

function makePage(config: ResolvedConfig, key: string, source: Found, images: Found | Found[] | undefined, allowListFile: string | null, unreadable: ReadonlyMap<string, string>, chainIds: ChainIds): Page {
  const image = Array.isArray(images) ? null : (images ?? null);
  let imageProblem: string | null = null;
  if (images === undefined) {
    const expected = config.image.display({ ...source.vars });
    const drop = allowListFile ? `, or delete ${allowListFile} if the page does not exist` : '';
    const broken = config.pageInFile ? [...unreadable].find(([file]) => config.image.match(file) && sameSource(config, config.image.match(file)!, source.vars)) : undefined;
    if (broken) imageProblem = `${broken[0]} cannot be read (${broken[1]}); replace it with a good copy${drop}`;
    else if (config.pageInFile) imageProblem = `no page ${source.pageNumber} in ${expected}: the file is missing or has fewer pages; add the page${drop}`;
    else imageProblem = `no image for this page: expected ${expected}; add the image${drop}`;
  } else if (Array.isArray(images)) {
    const files = images.map((i) => i.file).sort((a, b) => a.localeCompare(b));
    imageProblem = `${files.length} images for one page: ${files.slice(0, -1).join(', ')} and ${files.at(-1)}; keep one and delete or rename the other${files.length > 2 ? 's' : ''}`;
  }
  // The page's values with its number as in its key; the file's own values when they are already that (a
  // copy per page is a million objects at a million pages). Nothing changes a Found's values afterwards.
  const number = String(source.pageNumber);
  const vars = source.vars[config.order] === number ? source.vars : { ...source.vars, [config.order]: number };
  return {
    key: asKey(key),
    vars: Object.freeze(vars),
    pageNumber: source.pageNumber,
    chainId: chainIds.of(source.vars),
    image: image?.file ?? null,
    sourcePage: image?.sourcePage ?? null,
    imageProblem,
    allowListFile,
    // Outputs keep the spelling of the page's own file name (01.jpg → 01.json).
    output: config.target.format(source.vars),
  };
}

/** True when a source file's wildcard values are those of the page's (its book). */
function sameSource(config: ResolvedConfig, fileVars: Record<string, string>, pageVars: Readonly<Record<string, string>>): boolean {
  return config.image.wildcards.every((w) => fileVars[w] === pageVars[w]);
}

/**
 * Pages by chain id (code-unit order), then page number. Sorting the few chain ids and each chain's
 * numbers apart is much cheaper than comparing long chain ids of 100,000 pages against each other.
 */
function sortPages(pages: Page[]): Page[] {
  const chains = new Map<string, Page[]>();
  // Pages come chain by chain (folder by folder): the map is looked up only when the chain changes.
  let id: string | null = null;
  let chain: Page[] = [];
  for (const page of pages) {
    if (page.chainId !== id) {
      id = page.chainId;
      const known = chains.get(id);
      if (known) chain = known;
      else chains.set(id, (chain = []));
    }
    chain.push(page);
  }
  const ids = [...chains.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return ids.flatMap((id) => chains.get(id)!.sort((a, b) => a.pageNumber - b.pageNumber));
}
