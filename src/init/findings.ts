// What `ocrmake init` tells about a folder once the page pattern is known: the books, their pages and the
// gaps between them, the file formats, and the files the pattern leaves out. Pure.
import { parsePattern } from '../graph/pattern.js';
import { PAGE_FILE, type FileInfo, type Layout } from './infer.js';

export interface Book {
  /** The book's wildcard values joined by `/` (empty for a collection that is one book). */
  readonly id: string;
  /** Page numbers, ascending, without repeats. */
  readonly pages: readonly number[];
  /** Numbers missing between the first and the last page. */
  readonly gaps: readonly number[];
}

export interface Findings {
  readonly pattern: string;
  readonly books: readonly Book[];
  readonly pages: number;
  /** Page files by extension (lower case), and for multi-page files the pages they hold. */
  readonly formats: Readonly<Record<string, { files: number; pages: number }>>;
  /** Pages named by two files (`page-1.png` and `page-01.png`): discovery will refuse them. */
  readonly conflicts: readonly string[];
  /** Page-like files the pattern does not match, and how many other files there were. */
  readonly ignored: readonly string[];
  readonly otherFiles: number;
}

export function findings(layout: Layout, files: readonly FileInfo[]): Findings {
  const parsed = parsePattern(layout.image);
  if (!parsed.ok) throw new Error(`init: the pattern it made is not valid: ${parsed.message}`);
  const pattern = parsed.pattern;
  const books = new Map<string, Map<number, string[]>>();
  const formats: Record<string, { files: number; pages: number }> = {};
  const ignored: string[] = [];
  let otherFiles = 0;
  for (const f of files) {
    if (!PAGE_FILE.test(f.path)) {
      otherFiles++;
      continue;
    }
    const vars = pattern.match(f.path);
    if (!vars) {
      ignored.push(f.path);
      continue;
    }
    const id = layout.bookWildcards.map((w) => vars[w]!).join('/');
    const numbers = layout.multiPage ? Array.from({ length: f.pages ?? 1 }, (_, i) => i + 1) : [Number(vars[layout.order])];
    let book = books.get(id);
    if (!book) books.set(id, (book = new Map()));
    for (const n of numbers) book.set(n, [...(book.get(n) ?? []), f.path]);
    const ext = f.path.slice(f.path.lastIndexOf('.') + 1).toLowerCase();
    const format = (formats[ext] ??= { files: 0, pages: 0 });
    format.files++;
    format.pages += numbers.length;
  }
  const list: Book[] = [...books.entries()]
    .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))
    .map(([id, byNumber]) => {
      const pages = [...byNumber.keys()].sort((a, b) => a - b);
      const gaps: number[] = [];
      for (let i = 1; i < pages.length; i++) for (let n = pages[i - 1]! + 1; n < pages[i]!; n++) gaps.push(n);
      return { id, pages, gaps };
    });
  const conflicts = [...books.values()].flatMap((b) => [...b.values()].filter((paths) => paths.length > 1).map((paths) => paths.join(' and ')));
  return { pattern: layout.image, books: list, pages: list.reduce((n, b) => n + b.pages.length, 0), formats, conflicts, ignored, otherFiles };
}

/** `1–4, 6, 9–12` */
export function ranges(numbers: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < numbers.length; ) {
    let j = i;
    while (j + 1 < numbers.length && numbers[j + 1] === numbers[j]! + 1) j++;
    out.push(i === j ? String(numbers[i]) : `${numbers[i]}–${numbers[j]}`);
    i = j + 1;
  }
  return out.join(', ');
}

/** The findings as the lines init prints. */
export function describe(f: Findings, layout: Layout, scanned: number): string[] {
  const plural = (n: number, w: string) => `${n.toLocaleString('en-US')} ${w}${n === 1 ? '' : 's'}`;
  const lines = [`looked at ${plural(scanned, 'file')}`, `  pattern  ${f.pattern}${layout.multiPage ? `   (each file holds a book; {${layout.order}} is the page inside it)` : ''}`];
  const bookWord = layout.bookWildcards.length > 0 ? ` ({${layout.bookWildcards.join('}/{')}})` : '';
  const shown = f.books.slice(0, 6).map((b) => `${b.id || '(one book)'}: ${plural(b.pages.length, 'page')} (${ranges(b.pages)})`);
  lines.push(`  books    ${f.books.length}${bookWord}${shown.length ? `: ${shown.join('; ')}` : ''}${f.books.length > 6 ? `; and ${f.books.length - 6} more` : ''}`);
  lines.push(`  pages    ${f.pages.toLocaleString('en-US')}`);
  const gapBooks = f.books.filter((b) => b.gaps.length > 0);
  const gapCount = gapBooks.reduce((n, b) => n + b.gaps.length, 0);
  lines.push(`  gaps     ${gapCount === 0 ? 'none' : `${plural(gapCount, 'missing page')}: ${gapBooks.slice(0, 6).map((b) => `${b.id || '(one book)'} ${ranges(b.gaps)}`).join('; ')}${gapBooks.length > 6 ? '; …' : ''} (a gap starts a new chain)`}`);
  const formats = Object.entries(f.formats).sort(([, a], [, b]) => b.files - a.files).map(([ext, n]) => (layout.multiPage ? `${ext} ${plural(n.files, 'file')} (${plural(n.pages, 'page')})` : `${ext} ${n.files.toLocaleString('en-US')}`));
  lines.push(`  formats  ${formats.join(', ') || 'none'}`);
  if (f.conflicts.length > 0) lines.push(`  conflict ${f.conflicts.slice(0, 3).join('; ')}${f.conflicts.length > 3 ? `; and ${f.conflicts.length - 3} more` : ''}: two files name one page; keep one of each`);
  if (f.ignored.length > 0) lines.push(`  ignored  ${plural(f.ignored.length, 'image')} that do${f.ignored.length === 1 ? 'es' : ''} not follow the pattern: ${f.ignored.slice(0, 3).join(', ')}${f.ignored.length > 3 ? ', …' : ''} (give another with --image)`);
  return lines;
}
