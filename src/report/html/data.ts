// The data embedded in the HTML report, built compactly enough for 100,000 pages: per book a string of one
// digit per page (its state), page numbers as a run when consecutive, paths as a shared prefix plus a
// suffix, explain details only for the pages that have any, and every repeated string (reason codes,
// hashes, error classes and messages, keys) once in a string table. The page's script expands a page's
// details only when it is shown.
import type { Reason, State } from '../../plan/types.js';
import { STATES } from '../../plan/types.js';

export const REPORT_VERSION = 2;

/** Hashes are shown shortened (as `explain` does); 12 hex digits tell any two requests apart in practice. */
const HASH_CHARS = 12;

/** What the report needs of one page, in chain order. */
export interface ReportPageInput {
  key: string;
  /** The book: wildcard values but the page. */
  book: string;
  page: number;
  state: State;
  output: string;
  image: string | null;
  hasPredecessor: boolean;
  reasons: readonly Reason[];
  blockedBy: string | null;
  detail: string | null;
  /** Failed attempts charged to the current request. */
  attempts: number;
  lastError: { class: string; message: string; at: string } | null;
}

export interface ReportFailureInput {
  key: string;
  class: string;
  code: string | null;
  message: string;
  attempt: number;
  at: string;
}

export interface ReportInput {
  /** The title: the ocrfile's `name`, else the project folder's name. */
  project: string;
  engine: string;
  /** False for engines that send no context: predecessors are book order only. */
  dependent: boolean;
  generatedAt: string;
  maxAttempts: number;
  /** Names of the wildcards of a book id, in order. */
  bookWildcards: readonly string[];
  pages: Iterable<ReportPageInput>;
  /** Newest first, at most as many as the report should show. */
  failures: readonly ReportFailureInput[];
  /** Rows in the whole failure log. */
  failureTotal: number;
  /** Where the project root is seen from the report's folder (`../`), for links to images and outputs. */
  base?: string;
  /** How page details (thumbnails, outputs) were embedded (see media.ts); absent: none. */
  media?: { embedded: number; limit: number; linkImages: boolean; variant?: string | null };
}

/** A path column: `prefix + page + suffix` for every page, or `prefix + names[i]` (null: no such file). */
export type PathColumn = [prefix: string, suffix: string] | [prefix: string, names: (string | null)[]];

export interface ReportBook {
  id: string;
  /** The key of page n is `k[0] + n + k[1]`; absent when it is `id + ':' + n`. */
  k?: [string, string];
  /** Each page's key (string indices), when no template spells them. */
  keys?: number[];
  /** Page numbers: the first of a consecutive run, or all of them. */
  p: number | number[];
  /** One digit per page: the index of its state in `states`. */
  s: string;
  /** Indices of pages after the first that have no predecessor (a gap starts a new chain). */
  br?: number[];
  o: PathColumn;
  i: PathColumn;
  /** Details of the pages that have any, by page index. String values are indices into `strings`. */
  x?: Record<number, ReportPageExtra>;
}

export interface ReportPageExtra {
  /** Reasons: `[code]`, or `[code, recorded, current]` with -1 for a missing hash. */
  r?: number[][];
  /** The key at the root of a block. */
  b?: number;
  d?: number;
  a?: number;
  /** Last error: class, message, time. */
  e?: [number, number, number];
}

/** A failure-log row: key, class, code (-1: none), message, attempt, time. All but attempt index `strings`. */
export type ReportFailureRow = [number, number, number, number, number, number];

export interface ReportData {
  v: typeof REPORT_VERSION;
  project: string;
  base: string;
  media: { embedded: number; limit: number; linkImages: boolean; variant?: string | null };
  engine: string;
  dependent: boolean;
  generatedAt: string;
  maxAttempts: number;
  states: readonly State[];
  bookWildcards: readonly string[];
  strings: string[];
  books: ReportBook[];
  failures: { total: number; rows: ReportFailureRow[] };
}

class Strings {
  readonly list: string[] = [];
  readonly #ids = new Map<string, number>();
  id(s: string): number {
    let id = this.#ids.get(s);
    if (id === undefined) {
      id = this.list.length;
      this.list.push(s);
      this.#ids.set(s, id);
    }
    return id;
  }
  opt(s: string | null): number {
    return s === null ? -1 : this.id(s);
  }
}

const stateIndex = new Map<State, number>(STATES.map((s, i) => [s, i]));

export function buildReportData(input: ReportInput): ReportData {
  const strings = new Strings();
  const books: ReportBook[] = [];
  let current: ReportPageInput[] = [];
  const flush = () => {
    if (current.length > 0) books.push(book(current, strings));
    current = [];
  };
  for (const page of input.pages) {
    if (current.length > 0 && current[0]!.book !== page.book) flush();
    current.push(page);
  }
  flush();
  const rows = input.failures.map((f): ReportFailureRow => [strings.id(f.key), strings.id(f.class), strings.opt(f.code), strings.id(f.message), f.attempt, strings.id(f.at)]);
  return {
    v: REPORT_VERSION,
    project: input.project,
    base: input.base ?? '',
    media: input.media ?? { embedded: 0, limit: 0, linkImages: false },
    engine: input.engine,
    dependent: input.dependent,
    generatedAt: input.generatedAt,
    maxAttempts: input.maxAttempts,
    states: STATES,
    bookWildcards: input.bookWildcards,
    strings: strings.list,
    books,
    failures: { total: input.failureTotal, rows },
  };
}

function book(pages: readonly ReportPageInput[], strings: Strings): ReportBook {
  const first = pages[0]!;
  const numbers = pages.map((p) => p.page);
  const b: ReportBook = {
    id: first.book,
    p: numbers.every((n, i) => n === first.page + i) ? first.page : numbers,
    s: pages.map((p) => stateIndex.get(p.state)!).join(''),
    o: pathColumn(pages.map((p) => p.output), numbers),
    i: pathColumn(pages.map((p) => p.image), numbers),
  };
  const k = keyTemplate(first);
  if (k && pages.every((p) => p.key === `${k[0]}${p.page}${k[1]}`)) {
    if (k[0] !== `${first.book}:` || k[1] !== '') b.k = k;
  } else {
    // Keys the template cannot spell (a page number also found elsewhere in the key): name each one.
    b.keys = pages.map((p) => strings.id(p.key));
  }
  const breaks = pages.flatMap((p, i) => (i > 0 && !p.hasPredecessor ? [i] : []));
  if (breaks.length > 0) b.br = breaks;
  const x: Record<number, ReportPageExtra> = {};
  let any = false;
  for (const [i, p] of pages.entries()) {
    const e = extra(p, strings);
    if (e) {
      x[i] = e;
      any = true;
    }
  }
  if (any) b.x = x;
  return b;
}

/** `[before, after]` around the page number in the key (`book:page` is the common case). */
function keyTemplate(p: ReportPageInput): [string, string] | null {
  const n = String(p.page);
  if (p.key === `${p.book}:${n}`) return [`${p.book}:`, ''];
  const at = p.key.indexOf(n);
  return at < 0 ? null : [p.key.slice(0, at), p.key.slice(at + n.length)];
}

function pathColumn(paths: readonly (string | null)[], numbers: readonly number[]): PathColumn {
  const present = paths.filter((p): p is string => p !== null);
  if (present.length === 0) return ['', paths.map(() => null)];
  let prefix = present[0]!.slice(0, present[0]!.lastIndexOf('/') + 1);
  while (prefix && !present.every((p) => p.startsWith(prefix))) prefix = prefix.slice(0, prefix.slice(0, -1).lastIndexOf('/') + 1);
  const names = paths.map((p) => (p === null ? null : p.slice(prefix.length)));
  const n0 = String(numbers[0]);
  const suffix = names[0]?.startsWith(n0) ? names[0].slice(n0.length) : null;
  if (suffix !== null && names.every((name, i) => name === `${numbers[i]}${suffix}`)) return [prefix, suffix];
  return [prefix, names];
}

function extra(p: ReportPageInput, strings: Strings): ReportPageExtra | null {
  const e: ReportPageExtra = {};
  if (p.reasons.length > 0) {
    e.r = p.reasons.map((r) => ('recorded' in r ? [strings.id(r.code), hash(r.recorded, strings), hash(r.current, strings)] : [strings.id(r.code)]));
  }
  if (p.blockedBy) e.b = strings.id(p.blockedBy);
  if (p.detail) e.d = strings.id(p.detail);
  if (p.attempts > 0) e.a = p.attempts;
  if (p.lastError) e.e = [strings.id(p.lastError.class), strings.id(p.lastError.message), strings.id(p.lastError.at)];
  return Object.keys(e).length > 0 ? e : null;
}

const hash = (h: string | null, strings: Strings) => (h === null ? -1 : strings.id(h.slice(0, HASH_CHARS)));
