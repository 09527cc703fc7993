// What the report shows of a page beside its explain details: its scan and its output. A scan is either a
// thumbnail embedded as a data URL (640 px WebP, ~30 kB, made with sharp and kept in .ocrcache/thumbs/ by the
// image's content hash, so a second report makes none) or a link to the image file relative to the report;
// an output is embedded as its text.
//
// Embedding everything would make a 100,000-page report gigabytes, so only `limit` pages get embedded
// details: the pages that need attention first (a person looks at those), then the others in chain order.
// Every other page links its image and output files: they show when the report is opened where it was
// written.
import fs from 'node:fs';
import path from 'node:path';
import type { Project } from '../../execute/project.js';
import type { Plan, State } from '../../plan/types.js';
import type { TargetKey } from '../../types.js';
import { writeFileAtomic } from '../../util/fs.js';

export const THUMB_EDGE = 640;
/** Outputs bigger than this are embedded cut, with a note (the file has all of it). */
const MAX_OUTPUT_CHARS = 200_000;
/** Image types a browser shows from a link; other scans (TIFF, PDF) only as thumbnails. */
const BROWSER_IMAGES = /\.(png|jpe?g|gif|webp|avif|bmp)$/i;

export interface MediaOptions {
  /** Pages whose details are embedded (thumbnail and output); 0: none. */
  limit: number;
  /** Link images even for those pages (embed no thumbnail). */
  linkImages: boolean;
  /** A variant whose outputs (from `ocrmake try`) are shown beside the page's own; its pages come first. */
  variant?: { name: string; outputs: string; pages: readonly string[] } | null;
}

/** One page's embedded details: a thumbnail data URL, the output text, or why there is no thumbnail. */
export interface PageMedia {
  t?: string;
  o?: string;
  /** Why no thumbnail could be made (the image is unreadable). */
  n?: string;
  /** The output of the compared variant (absent: the variant has none for this page). */
  v?: string;
}

export interface ReportMedia {
  /** Embedded details by page key. */
  pages: Record<string, PageMedia>;
  /** How many pages have embedded details, and how many could have. */
  embedded: number;
  limit: number;
  linkImages: boolean;
  /** The variant shown beside the outputs, or null. */
  variant: string | null;
}

/** Who is looked at first: pages that need attention, then edited ones, then the rest. */
const PRIORITY: Record<State, number> = { failed: 0, dead: 0, 'missing-input': 1, blocked: 2, stale: 3, edited: 4, waiting: 5, inflight: 6, fresh: 7 };

export async function collectMedia(p: Project, plan: Plan, o: MediaOptions): Promise<ReportMedia> {
  const order: Array<{ key: TargetKey; rank: number; n: number }> = [];
  let n = 0;
  // With a variant, the pages it was tried on come first: they are the ones to compare.
  const tried = new Set(o.variant?.pages ?? []);
  for (const chain of p.index.chains) for (const page of chain.pages) order.push({ key: page.key, rank: tried.has(page.key) ? -1 : PRIORITY[plan.targets.get(page.key)?.state ?? 'fresh'], n: n++ });
  order.sort((a, b) => a.rank - b.rank || a.n - b.n);
  const chosen = order.slice(0, Math.max(0, o.limit));
  const pages: Record<string, PageMedia> = {};
  const thumbs = o.linkImages ? null : new Thumbnails(p);
  // A few at a time: libvips uses threads of its own.
  const queue = [...chosen];
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const page = p.index.byKey.get(next.key)!;
      const m: PageMedia = {};
      const output = readOutput(p.config.root, page.output);
      if (output !== null) m.o = output;
      const theirs = o.variant ? readOutput(o.variant.outputs, page.output) : null;
      if (theirs !== null) m.v = theirs;
      if (thumbs && page.image) {
        const t = await thumbs.of(page.image);
        if ('url' in t) m.t = t.url;
        else m.n = t.problem;
      }
      pages[next.key] = m;
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  return { pages, embedded: chosen.length, limit: o.limit, linkImages: o.linkImages, variant: o.variant?.name ?? null };
}

function readOutput(root: string, rel: string): string | null {
  let text: string;
  try {
    text = fs.readFileSync(path.join(root, rel), 'utf8');
  } catch {
    return null;
  }
  return text.length > MAX_OUTPUT_CHARS ? `${text.slice(0, MAX_OUTPUT_CHARS)}\n… (cut at ${MAX_OUTPUT_CHARS.toLocaleString('en-US')} characters: the file has the rest)` : text;
}

/** Thumbnails by image content hash, made once and kept in `.ocrcache/thumbs/`. */
export class Thumbnails {
  readonly #p: Project;
  #sharp: Promise<typeof import('sharp')> | null = null;

  constructor(p: Project) {
    this.#p = p;
  }

  async of(image: string): Promise<{ url: string } | { problem: string }> {
    const h = this.#p.hashes.hash(image);
    if (h.kind !== 'ok') return { problem: h.kind === 'missing' ? 'the image is missing' : h.message };
    const file = path.join(this.#p.cacheDir, 'thumbs', h.hash.slice(0, 2), `${h.hash}-${THUMB_EDGE}.webp`);
    let bytes: Buffer | null = null;
    try {
      bytes = fs.readFileSync(file);
    } catch {
      bytes = null;
    }
    if (!bytes) {
      try {
        // sharp (libvips) loads only when a thumbnail is made: a report of cached thumbnails never loads it.
        const sharp = (await (this.#sharp ??= import('sharp'))).default;
        bytes = await sharp(path.join(this.#p.config.root, image), { limitInputPixels: false })
          .rotate()
          .resize({ width: THUMB_EDGE, height: THUMB_EDGE, fit: 'inside', withoutEnlargement: true })
          .webp({ quality: 60 })
          .toBuffer();
      } catch (err) {
        return { problem: `no thumbnail: ${(err as Error).message}` };
      }
      try {
        writeFileAtomic(file, bytes, path.join(this.#p.cacheDir, 'tmp'));
      } catch {
        // A cache that cannot be written costs only the next report's time.
      }
    }
    return { url: `data:image/webp;base64,${bytes.toString('base64')}` };
  }
}

/** The href of a project file seen from the report's folder (`../dataset/…`), or null for types a browser cannot show. */
export function linkTo(fromDir: string, root: string, rel: string, imagesOnly = false): string | null {
  if (imagesOnly && !BROWSER_IMAGES.test(rel)) return null;
  const up = path.relative(fromDir, root).split(path.sep).filter(Boolean);
  return [...up, ...rel.split('/')].map((s) => encodeURIComponent(s)).join('/');
}
