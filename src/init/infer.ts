// `ocrmake init`'s reading of a folder: from the paths of the files already there (and the page counts of
// the PDFs and TIFFs among them), the page pattern — which folder levels vary, how file names number their
// pages — with sensibly named wildcards, and a target pattern beside it. Pure: the caller lists and probes.
//
//   scans/Alpha/v1/page-0007.tif         →  scans/{collection}/{volume}/page-{page}.tif
//   INPUT_0017.tif …                     →  INPUT_{page}.tif
//   catalogues/1851.pdf (40 pages) …     →  catalogues/{year}.pdf (the page is the index inside the file)

export interface FileInfo {
  /** `/`-separated, relative to the folder being read. */
  readonly path: string;
  /** Pages in the file when it was probed (PDF, TIFF), else null. */
  readonly pages: number | null;
}

export interface Layout {
  /** The image pattern, e.g. `scans/{collection}/{volume}/page-{page}.png`. */
  readonly image: string;
  /** The wildcard that numbers pages (in the file name, or the index inside a multi-page file). */
  readonly order: string;
  /** True when each file is a multi-page source (the pattern has no order wildcard). */
  readonly multiPage: boolean;
  /** The wildcards that name a book, top-down (the chain wildcards). */
  readonly bookWildcards: readonly string[];
  readonly target: string;
}

export type Inference = { ok: true; layout: Layout } | { ok: false; message: string; hint: string };

/** Extensions of the files a page can come from (what the prepare stage decodes). */
export const PAGE_FILE = /\.(png|jpe?g|tiff?|jp2|j2k|jpf|jpx|webp|gif|bmp|avif|pdf)$/i;

/** Characters a literal part of a pattern cannot hold. */
const NOT_LITERAL = /[{}*?[\]]/;

interface Parsed {
  file: FileInfo;
  dirs: string[];
  prefix: string;
  digits: string | null;
  suffix: string;
  ext: string;
}

/** The file name split around its last run of digits: `page-0007.tif` → `page-`, `0007`, ``, `tif`. */
function parse(file: FileInfo): Parsed {
  const segments = file.path.split('/');
  const name = segments.at(-1)!;
  const dot = name.lastIndexOf('.');
  const stem = name.slice(0, dot), ext = name.slice(dot + 1);
  const m = /^(.*?)(\d+)(\D*)$/.exec(stem);
  return { file, dirs: segments.slice(0, -1), prefix: m ? m[1]! : stem, digits: m ? m[2]! : null, suffix: m ? m[3]! : '', ext };
}

/**
 * The layout most page files follow. Files are grouped by folder depth and name shape (what surrounds the
 * page number); the largest group wins, and files outside it are left for the summary to report.
 * `names`: wildcard names chosen by the user, top-down (with or without the order wildcard's, last).
 */
export function inferLayout(files: readonly FileInfo[], o: { names?: readonly string[]; order?: string; target?: string } = {}): Inference {
  const pages = files.filter((f) => PAGE_FILE.test(f.path)).map(parse);
  if (pages.length === 0) return { ok: false, message: 'no page images found (PNG, JPEG, TIFF, JPEG 2000, WebP, GIF, BMP, AVIF or PDF)', hint: 'Put the scans in this folder (any folder layout), or name them with --image PATTERN.' };
  const groups = new Map<string, Parsed[]>();
  for (const p of pages) {
    // PDFs and multi-page TIFFs are books; single images are pages: the two never share a pattern.
    const key = [p.dirs.length, p.digits === null ? 'plain' : 'numbered', p.suffix, isPdf(p) || (p.file.pages ?? 1) > 1 ? 'book' : 'page'].join('\0');
    const list = groups.get(key);
    if (list) list.push(p);
    else groups.set(key, [p]);
  }
  let best: Parsed[] = [];
  for (const g of groups.values()) {
    const group = sharedPrefix(g) ? g : largestPrefix(g);
    if (group.length > best.length || (group.length === best.length && group[0]!.dirs.length < best[0]!.dirs.length)) best = group;
  }
  const multiPage = best.some((p) => (p.file.pages ?? 1) > 1) || (best.every(isPdf) && (best[0]!.digits === null || !sharedPrefix(best) || best.length < 2));
  return build(best, multiPage, o);
}

const isPdf = (p: Parsed): boolean => /^pdf$/i.test(p.ext);

/** True when the files' names agree on the text before the number (or differ only in a shared-suffix way). */
function sharedPrefix(g: readonly Parsed[]): boolean {
  return bookPrefix(g) !== null || g.every((p) => p.prefix === g[0]!.prefix);
}

/**
 * Names like `howard-p01.png` and `hampden-p01.png` in one folder: a book name, a fixed separator, a page
 * number. Returns the separator (`-p`) when every prefix is a non-empty book name followed by it.
 */
function bookPrefix(g: readonly Parsed[]): string | null {
  if (g.length < 2 || g[0]!.digits === null || g.every((p) => p.prefix === g[0]!.prefix)) return null;
  let common = g[0]!.prefix;
  for (const p of g) while (!p.prefix.endsWith(common)) common = common.slice(1);
  // The separator must start with a non-alphanumeric character, so that the book name ends where it starts.
  const at = common.search(/[^A-Za-z0-9]/);
  if (at < 0) return null;
  const sep = common.slice(at);
  return g.every((p) => p.prefix.length > sep.length) ? sep : null;
}

/** The files of the most common exact prefix. */
function largestPrefix(g: readonly Parsed[]): Parsed[] {
  const by = new Map<string, Parsed[]>();
  for (const p of g) by.set(p.prefix, [...(by.get(p.prefix) ?? []), p]);
  return [...by.values()].sort((a, b) => b.length - a.length)[0]!;
}

function build(group: readonly Parsed[], multiPage: boolean, o: { names?: readonly string[]; order?: string; target?: string }): Inference {
  const depth = group[0]!.dirs.length;
  type Part = { literal: string } | { wildcard: number; values: Set<string> };
  const levels: Part[] = [];
  for (let i = 0; i < depth; i++) {
    const values = new Set(group.map((p) => p.dirs[i]!));
    levels.push(values.size === 1 ? { literal: [...values][0]! } : { wildcard: i, values });
  }
  // The file name: literal text, the book-name part (several books in one folder, or a multi-page file's
  // name), and the page number.
  const first = group[0]!;
  const sep = bookPrefix(group);
  const exts = [...new Set(group.map((p) => p.ext))].sort();
  const ext = exts.length === 1 ? exts[0]! : `{${exts.join(',')}}`;
  const stems = new Set(group.map((p) => `${p.prefix}${p.digits ?? ''}${p.suffix}`));
  const bookValues: Set<string>[] = levels.flatMap((l) => ('wildcard' in l ? [l.values] : []));
  let name: Array<string | { book: Set<string> } | 'order'>;
  if (multiPage) {
    if (stems.size === 1) name = [[...stems][0]!];
    else if (first.digits !== null && group.every((p) => p.prefix === first.prefix && p.suffix === first.suffix)) name = [first.prefix, { book: new Set(group.map((p) => p.digits!)) }, first.suffix];
    else name = [{ book: stems }];
  } else if (first.digits === null) {
    return { ok: false, message: `the page files (e.g. ${first.file.path}) have no number in their names, so their order cannot be told`, hint: 'Name them by page (page-0001.png, …), or give the pattern with --image (e.g. --image "scans/{book}/{page}.png").' };
  } else if (sep !== null) {
    name = [{ book: new Set(group.map((p) => p.prefix.slice(0, -sep.length))) }, sep, 'order', first.suffix];
  } else {
    name = [first.prefix, 'order', first.suffix];
  }
  for (const n of name) if (typeof n === 'object') bookValues.push(n.book);

  // Names, top-down: the user's, else guessed from the values.
  const wanted = bookValues.length + (multiPage ? 0 : 1);
  let names: string[];
  let order = o.order ?? 'page';
  if (o.names && o.names.length > 0) {
    const bad = o.names.find((n) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(n));
    if (bad !== undefined) return { ok: false, message: `--names: "${bad}" is not a wildcard name`, hint: 'Use letters, digits and _ (not first): --names collection,volume,page.' };
    if (new Set(o.names).size !== o.names.length) return { ok: false, message: `--names: ${o.names.join(',')} names a wildcard twice`, hint: 'Give each wildcard its own name.' };
    const withOrder = multiPage ? bookValues.length + 1 : wanted;
    if (o.names.length !== bookValues.length && o.names.length !== withOrder) {
      return { ok: false, message: `--names gives ${o.names.length} name${o.names.length === 1 ? '' : 's'}, but the layout found has ${bookValues.length} book wildcard${bookValues.length === 1 ? '' : 's'} and a page number`, hint: `Give ${bookValues.length} name${bookValues.length === 1 ? '' : 's'} (top-down), or ${withOrder} with the page's last.` };
    }
    names = o.names.slice(0, bookValues.length);
    if (o.names.length === withOrder) order = o.names.at(-1)!;
  } else {
    names = guessNames(bookValues, order);
  }

  // The pattern, checking that its literal parts can be literal.
  let next = 0;
  const dirParts = levels.map((l) => ('literal' in l ? l.literal : `{${names[next++]}}`));
  const fileName = name.map((n) => (n === 'order' ? `{${order}}` : typeof n === 'string' ? n : `{${names[next++]}}`)).join('');
  const literalBad = [...levels.flatMap((l) => ('literal' in l ? [l.literal] : [])), ...name.filter((n): n is string => typeof n === 'string' && n !== 'order')].find((t) => NOT_LITERAL.test(t));
  if (literalBad !== undefined) return { ok: false, message: `the name "${literalBad}" holds a character a pattern cannot (one of { } * ? [ ])`, hint: 'Rename that folder or file, or give the pattern with --image.' };
  const image = [...dirParts, `${fileName}.${ext}`].join('/');

  // The target: outputs under ocr/, in the same folders, named like the page (or by page inside a file).
  const leading = levels.findIndex((l) => 'wildcard' in l);
  const kept = leading < 0 ? [] : dirParts.slice(leading);
  const target = o.target ?? ['ocr', ...kept, multiPage ? `${fileName}/{${order}}.json` : `${fileName}.json`].join('/');
  return { ok: true, layout: { image, order, multiPage, bookWildcards: names, target } };
}

const YEAR = /^(1[0-9]|20)\d\d$/;
const VOLUME = /^(vol(ume)?|v|bd|band|tome?|t)[\s._-]*\d+$/i;

/** Names for the book wildcards, top-down: `year` for years, the deepest is the `book` (or `volume`). */
export function guessNames(levels: readonly ReadonlySet<string>[], order = 'page'): string[] {
  const taken = new Set<string>([order]);
  const take = (n: string): string => {
    let name = n;
    for (let i = 2; taken.has(name); i++) name = `${n}${i}`;
    taken.add(name);
    return name;
  };
  const names: string[] = new Array(levels.length);
  const isYears = (v: ReadonlySet<string>) => [...v].every((x) => YEAR.test(x));
  // Years first (a catalogue year is a year wherever it sits), then the deepest level, then the rest.
  levels.forEach((v, i) => {
    if (isYears(v) && !taken.has('year')) names[i] = take('year');
  });
  const deepest = levels.map((_, i) => i).reverse().find((i) => names[i] === undefined);
  if (deepest !== undefined) names[deepest] = take([...levels[deepest]!].every((x) => VOLUME.test(x)) ? 'volume' : 'book');
  const upper = ['collection', 'series', 'part', 'section'];
  levels.forEach((_, i) => {
    if (names[i] === undefined) names[i] = take(upper.shift() ?? 'group');
  });
  return names;
}
