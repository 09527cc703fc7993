// The size an engine will be sent for each page, without preparing anything: the source page's size from
// its header, put through the same geometry as preparation (EXIF orientation, fit to the long edge). This
// is what the cost estimate counts tokens on, so a TIFF master and its PNG twin cost the same, and a
// 6000-px scan costs what its 3072-px prepared image will. A PDF page is counted at the render resolution
// (`images.dpi`), capped by the long edge like everything else; a scanned page later sent at its native
// resolution differs only when that is below both.
import fs from 'node:fs';
import type { ImageSettings } from '../config/images.js';
import { sniff } from './format.js';
import { fitLongEdge, oriented } from './geometry.js';
import { jp2Header } from './jp2.js';
import { PdfDocuments } from './pdf-documents.js';
import { pdfPageSize } from './pdf.js';
import { readHead } from './probe.js';

export interface SizeQuery {
  key: string;
  /** Absolute path of the source file, and the page inside it (null: the file is the page). */
  path: string;
  sourcePage: number | null;
}

type Size = { width: number; height: number };

/** Sizes by key; a page whose header cannot be read is left out (the estimate assumes a typical page). */
export async function preparedSizes(queries: readonly SizeQuery[], settings: ImageSettings, headerSize: (file: string, head: Buffer) => Size | null): Promise<Map<string, Size>> {
  const out = new Map<string, Size>();
  const pdfs = new PdfDocuments();
  try {
    for (const q of queries) {
      const size = await sourceSize(q, settings, headerSize, pdfs).catch(() => null);
      if (size) {
        const fit = fitLongEdge(size.width, size.height, settings.maxLongEdge);
        out.set(q.key, { width: fit.width, height: fit.height });
      }
    }
  } finally {
    await pdfs.close();
  }
  return out;
}

async function sourceSize(q: SizeQuery, settings: ImageSettings, headerSize: (file: string, head: Buffer) => Size | null, pdfs: PdfDocuments): Promise<Size | null> {
  const head = readHead(q.path);
  const format = sniff(head);
  switch (format) {
    case 'png':
    case 'jpeg':
    case 'gif':
    case 'webp':
    case 'bmp':
      // From the bytes sniffed already: one read per page (a JPEG's frame header may lie further on).
      return headerSize(q.path, head);
    case 'tiff':
    case 'avif': {
      const sharp = (await import('sharp')).default;
      const m = await sharp(q.path, { page: (q.sourcePage ?? 1) - 1, limitInputPixels: false }).metadata();
      return m.width && m.height ? oriented(m.width, m.height, m.orientation) : null;
    }
    case 'jp2':
    case 'j2k':
      return jp2Header(readHead(q.path, 64 * 1024));
    case 'pdf': {
      const doc = await pdfs.open(q.path, fs.readFileSync(q.path));
      if ('problem' in doc) return null;
      const pt = await pdfPageSize(doc, q.sourcePage ?? 1);
      return 'problem' in pt ? null : { width: Math.round((pt.width * settings.dpi) / 72), height: Math.round((pt.height * settings.dpi) / 72) };
    }
    case 'heic':
    case null:
      return null;
  }
}
