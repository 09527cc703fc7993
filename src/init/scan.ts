// The I/O half of `ocrmake init`: listing a folder's files, and counting the pages of its PDFs and TIFFs
// (a header read each, no page decoded) where that decides the layout.
import fs from 'node:fs';
import path from 'node:path';
import type { FileInfo } from './infer.js';
import { PAGE_FILE } from './infer.js';

/** Folders never read: dependencies, version control, ocrmake's own cache, anything hidden. */
const SKIP = new Set(['node_modules', '.ocrcache', '.git']);

/** Every file under `root` (relative, `/`-separated, sorted), following folder links once. At most `limit`. */
export function listFiles(root: string, limit = 2_000_000): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const walk = (rel: string) => {
    const abs = path.join(root, rel);
    let real: string;
    try {
      real = fs.realpathSync(abs);
    } catch {
      return;
    }
    if (seen.has(real)) return;
    seen.add(real);
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(abs, { withFileTypes: true });
    } catch {
      return; // an unreadable folder: discovery reports it when it matters
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (out.length >= limit) return;
      if (e.name.startsWith('.') || SKIP.has(e.name)) continue;
      const child = rel ? `${rel}/${e.name}` : e.name;
      let isDir = e.isDirectory(), isFile = e.isFile();
      if (e.isSymbolicLink()) {
        const st = fs.statSync(path.join(root, child), { throwIfNoEntry: false });
        isDir = st?.isDirectory() ?? false;
        isFile = st?.isFile() ?? false;
      }
      if (isDir) walk(child);
      else if (isFile) out.push(child);
    }
  };
  walk('');
  return out;
}

const MULTI = /\.(pdf|tiff?)$/i;
/** PDFs and TIFFs probed before deciding whether they are multi-page sources. */
const SAMPLE = 24;

/**
 * The files with the page counts init needs: a sample of the PDFs and TIFFs first; when one of them holds
 * several pages (or they are PDFs, which usually do), all of them, since each is then a book to count.
 */
export async function withPageCounts(root: string, files: readonly string[]): Promise<FileInfo[]> {
  const { probeSource } = await import('../prepare/probe.js');
  const multi = files.filter((f) => PAGE_FILE.test(f) && MULTI.test(f));
  const pages = new Map<string, number | null>();
  const probe = async (list: readonly string[]) => {
    let next = 0;
    const worker = async () => {
      while (next < list.length) {
        const f = list[next++]!;
        if (pages.has(f)) continue;
        const r = await probeSource(path.join(root, f));
        pages.set(f, 'problem' in r ? null : r.pages);
      }
    };
    await Promise.all(Array.from({ length: Math.min(8, list.length) }, worker));
  };
  await probe(multi.slice(0, SAMPLE));
  if ([...pages.values()].some((n) => (n ?? 1) > 1) || multi.some((f) => /\.pdf$/i.test(f))) await probe(multi);
  return files.map((f) => ({ path: f, pages: pages.get(f) ?? null }));
}
