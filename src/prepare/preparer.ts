// The prepare stage (DESIGN §13): the image an engine receives is derived from the page's source —
// decoded, page-extracted, oriented (EXIF), optionally grey, downscaled to a long edge and encoded as a
// format the engine accepts — and cached by content under .ocrcache/prepared/, keyed by the source's
// content hash, the page inside it and the settings (the same profile the fingerprint records), so it is
// made once and the same bytes come out every time. A source the engine can take as it is (a PNG or JPEG
// that needs no change) is sent as it is, after a full decode to make sure it is whole.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Sharp } from 'sharp';
import { IMAGE_ACCEPTS, type ImageAccepts, type ImageFamily, type ImageSettings, type PreparedFormat } from '../config/images.js';
import { prepareProfile, sourceKind } from '../fingerprint/request.js';
import type { ContentHash } from '../types.js';
import { canonicalJson, sha256 } from '../util/hash.js';
import { syncGroup, writeFileAtomic, WriteError } from '../util/fs.js';
import { cleanVipsError, decodePage, type DecodedPage } from './decode.js';
import { EXTENSION, MIME, quickProblem, sniff, type SourceFormat } from './format.js';
import { clampDpi, derivedDpi, fitLongEdge, oriented } from './geometry.js';
import { PdfDocuments } from './pdf-documents.js';
import type { PreparedImage, PrepareProblem } from './types.js';

export interface PrepareTarget {
  /** Absolute path of the source file, and the same relative to the project root (for messages). */
  path: string;
  rel: string;
  sourceHash: ContentHash;
  /** The page inside a multi-page source; null: the file is the page. */
  sourcePage: number | null;
}

export interface PreparerOptions {
  cacheDir: string;
  family: ImageFamily;
  settings: ImageSettings;
  /** A non-fatal note about a source (a multi-page file read as one page). */
  warn?: (message: string) => void;
  /** What the engine takes; default the family's (config/images.ts). Tests give smaller limits. */
  accepts?: ImageAccepts;
}

/** Leave the file alone: a retry (or the next build) would meet the same bytes. */
const REPLACE = 'replace the file with a good copy';

export class Preparer {
  readonly #dir: string;
  readonly #tmp: string;
  readonly #family: ImageFamily;
  readonly #settings: ImageSettings;
  readonly #accepts: ImageAccepts;
  readonly #warn: (message: string) => void;
  readonly #pdfs = new PdfDocuments();
  readonly #warned = new Set<string>();
  #active = 0;
  readonly #queue: Array<() => void> = [];
  readonly #limit = Math.max(1, os.availableParallelism());
  /**
   * The records of images made since the last flush, by key: on disk only once their images are (flush).
   * Until then this process finds them here.
   */
  readonly #pending = new Map<string, { file: string; meta: PreparedMeta }>();
  /** Images decoded by this process (cache hits decode nothing): a measure for tests and the summary. */
  decoded = 0;

  constructor(o: PreparerOptions) {
    this.#dir = path.join(o.cacheDir, 'prepared');
    this.#tmp = path.join(o.cacheDir, 'tmp');
    this.#family = o.family;
    this.#settings = o.settings;
    this.#accepts = o.accepts ?? IMAGE_ACCEPTS[o.family];
    this.#warn = o.warn ?? (() => {});
  }

  async prepare(t: PrepareTarget): Promise<PreparedImage | PrepareProblem> {
    const profile = { ...prepareProfile(this.#settings, this.#family, sourceKind(t.rel)), accepts: this.#accepts };
    const key = sha256(canonicalJson({ profile, source: t.sourceHash, page: t.sourcePage }));
    const cached = this.#cached(key, t);
    if (cached) return cached;
    await this.#slot();
    try {
      return await this.#make(key, t);
    } finally {
      this.#release();
    }
  }

  /**
   * Group commit for the prepared images (DESIGN §16): the images made since the last flush were renamed
   * into place unflushed; one sync point makes them all durable, and only then are their records written
   * (flushed at the cache's next sync point). A record never vouches for an image a power cut could lose,
   * and a job of 1,000 pages costs one syncfs instead of 2,000 fsyncs (2 ms each on this machine's disk).
   * A kill before the flush leaves images without records: made again next time, never trusted.
   */
  flush(): void {
    if (this.#pending.size === 0) return;
    syncGroup();
    const records = [...this.#pending.values()];
    this.#pending.clear(); // a failed write below is not retried: that image is made again next time
    for (const { file, meta } of records) writeFileAtomic(file, JSON.stringify(meta), this.#tmp, { group: true });
  }

  async close(): Promise<void> {
    try {
      this.flush();
    } catch {
      // The cache's disk refused, and the job that met it said so: the images are made again next time.
    }
    await this.#pdfs.close();
  }

  #where(key: string): { image: (ext: string) => string; meta: string } {
    const sub = path.join(this.#dir, key.slice(0, 2));
    return { image: (ext) => path.join(sub, `${key}.${ext}`), meta: path.join(sub, `${key}.json`) };
  }

  /** A prepared image made before (its record, and its bytes unless they are the source's own). */
  #cached(key: string, t: PrepareTarget): PreparedImage | null {
    const where = this.#where(key);
    let meta: PreparedMeta;
    const pending = this.#pending.get(key);
    if (pending) meta = pending.meta;
    else {
      try {
        meta = JSON.parse(fs.readFileSync(where.meta, 'utf8'));
      } catch {
        return null;
      }
    }
    const file = meta.passthrough ? t.path : where.image(EXTENSION[meta.format]);
    const st = fs.statSync(file, { throwIfNoEntry: false });
    if (!st || st.size !== meta.bytes) return null;
    if (!meta.passthrough) touch(file);
    return { ...meta, path: file };
  }

  async #make(key: string, t: PrepareTarget): Promise<PreparedImage | PrepareProblem> {
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(t.path);
    } catch (err) {
      return { problem: `cannot read ${t.rel}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; check that the file is there and readable` };
    }
    const format = sniff(bytes);
    const quick = quickProblem(bytes, format);
    if (quick || !format) return { problem: quick ? `${t.rel} ${quick.what}; ${quick.fix}` : `${t.rel} cannot be read` };
    const where = t.sourcePage === null ? t.rel : `${t.rel} page ${t.sourcePage}`;
    const page = t.sourcePage ?? 1;
    this.decoded++;
    const decoded = await decodePage({ path: t.path, bytes, format, page, settings: this.#settings, pdf: () => this.#pdfs.open(t.sourceHash, bytes) });
    if ('problem' in decoded) return { problem: `${where} could not be decoded (${decoded.problem}); ${REPLACE}` };
    if (t.sourcePage === null && decoded.pages > 1 && !this.#warned.has(t.rel)) {
      this.#warned.add(t.rel);
      this.#warn(`${t.rel} has ${decoded.pages} pages, but the image pattern names one page per file: only its first page is read. To read every page, leave the page number out of the file name in pages.image (README "PDFs and multi-page TIFFs").`);
    }
    try {
      return await this.#encode(key, t, format, bytes, decoded);
    } catch (err) {
      if (isWriteError(err)) throw err; // the cache's disk, not the file: stops the build (DESIGN §14)
      return { problem: `${where} could not be decoded (${cleanVipsError(err)}); ${REPLACE}` };
    }
  }

  async #encode(key: string, t: PrepareTarget, source: SourceFormat, bytes: Buffer, d: DecodedPage): Promise<PreparedImage> {
    const s = this.#settings;
    const accepts = this.#accepts;
    const upright = oriented(d.width, d.height, d.orientation);
    let fit = fitLongEdge(upright.width, upright.height, s.maxLongEdge);
    const turn = (d.orientation ?? 1) > 1;
    const grey = s.grayscale || d.grey;
    const own = source === 'png' || source === 'jpeg' || source === 'webp' ? source : null;
    const want: PreparedFormat = s.format !== 'auto' ? s.format : own && accepts.formats.includes(own) ? own : 'png';
    const where = this.#where(key);
    const dpiOf = (scale: number) => (d.dpi !== null && d.dpiSource ? { dpi: clampDpi(d.dpi * scale), dpiSource: d.dpiSource } : null);
    const sendAsIs = own === want && fit.scale === 1 && !turn && !d.hasAlpha && !d.unusual && (!s.grayscale || d.grey) && d.pages === 1 && (accepts.maxBytes === null || bytes.length <= accepts.maxBytes);
    if (sendAsIs) {
      await d.image.stats(); // decodes every pixel: a damaged file fails here, not at the engine
      const meta = { hash: sha256(bytes), format: want, mime: MIME[want], bytes: bytes.length, width: upright.width, height: upright.height, scale: 1, ...(dpiOf(1) ?? { dpi: derivedDpi(upright.width, upright.height), dpiSource: 'derived' as const }), passthrough: true };
      this.#pending.set(key, { file: where.meta, meta });
      return { ...meta, path: t.path };
    }
    let format = want;
    let out: Buffer;
    for (let tries = 0; ; tries++) {
      out = await encode(pipeline(d.image.clone(), turn, d.hasAlpha, fit, upright, grey), format, s.quality);
      if (accepts.maxBytes === null || out.length <= accepts.maxBytes || tries >= 12) break;
      // Too large for the engine: JPEG first (a colour scan as PNG can be huge), then smaller steps.
      if (format === 'png' && accepts.formats.includes('jpeg')) format = 'jpeg';
      else fit = fitLongEdge(fit.width, fit.height, Math.round(Math.max(fit.width, fit.height) * 0.85));
    }
    const meta = {
      hash: sha256(out), format, mime: MIME[format], bytes: out.length, width: fit.width, height: fit.height, scale: (fit.width / upright.width) * d.reduced,
      ...(dpiOf(fit.width / upright.width) ?? { dpi: derivedDpi(fit.width, fit.height), dpiSource: 'derived' as const }), passthrough: false,
    };
    // The image now, the record that vouches for it once the image is durable (flush).
    const file = where.image(EXTENSION[format]);
    writeFileAtomic(file, out, this.#tmp, { group: true });
    this.#pending.set(key, { file: where.meta, meta });
    return { ...meta, path: file };
  }

  #slot(): Promise<void> {
    if (this.#active < this.#limit) {
      this.#active++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#queue.push(resolve));
  }

  #release(): void {
    const next = this.#queue.shift();
    if (next) next();
    else this.#active--;
  }
}

/** A prepared image's record (`<key>.json`): everything but where the image is. */
type PreparedMeta = Omit<PreparedImage, 'path'>;

function pipeline(image: Sharp, turn: boolean, alpha: boolean, fit: { width: number; height: number; scale: number }, upright: { width: number; height: number }, grey: boolean): Sharp {
  let p = image;
  if (turn) p = p.rotate(); // no angle: by the EXIF orientation, which is then dropped
  if (alpha) p = p.flatten({ background: '#ffffff' });
  if (fit.width !== upright.width || fit.height !== upright.height) p = p.resize(fit.width, fit.height, { fit: 'fill', kernel: 'lanczos3' });
  return p.toColourspace(grey ? 'b-w' : 'srgb');
}

function encode(p: Sharp, format: PreparedFormat, quality: number): Promise<Buffer> {
  switch (format) {
    case 'png':
      return p.png({ compressionLevel: 6, adaptiveFiltering: false }).toBuffer();
    case 'jpeg':
      // 4:4:4: no colour blur around thin strokes (red rubrics, coloured inks).
      return p.jpeg({ quality, chromaSubsampling: '4:4:4', mozjpeg: false }).toBuffer();
    case 'webp':
      return p.webp({ quality, effort: 4 }).toBuffer();
  }
}

/** Keeps a used prepared image young for `gc --keep-days`. */
function touch(file: string): void {
  const now = new Date();
  try {
    fs.utimesSync(file, now, now);
  } catch {
    // Read-only cache: the image is still good.
  }
}

function isWriteError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code;
  return err instanceof WriteError || (typeof code === 'string' && ['ENOSPC', 'EACCES', 'EPERM', 'EROFS', 'EDQUOT', 'EIO', 'EMFILE', 'ENFILE', 'ENOTDIR', 'EISDIR'].includes(code));
}
