// Header reads: what a source file is and how many pages it holds, without decoding any page. For a
// TIFF, libvips walks the directory chain; for a PDF, pdf.js reads the cross-reference table and the page
// tree. Everything else is one page.
import fs from 'node:fs';
import { sniff, SNIFF_BYTES, type SourceFormat } from './format.js';
import type { PrepareProblem } from './types.js';
import { cleanVipsError } from './decode.js';

export interface Probe {
  format: SourceFormat | 'unknown';
  pages: number;
}

export async function probeSource(abs: string): Promise<Probe | PrepareProblem> {
  let head: Buffer;
  try {
    head = readHead(abs);
  } catch (err) {
    return { problem: `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` };
  }
  const format = sniff(head);
  // Only files that may hold pages are opened here. Anything else is one page, good or bad: if it cannot be
  // read, preparing that page says why (a missing-input page in status and explain, not a lost file).
  if (format === 'tiff') {
    const sharp = (await import('sharp')).default;
    try {
      const m = await sharp(abs, { limitInputPixels: false }).metadata();
      return { format, pages: Math.max(1, m.pages ?? 1) };
    } catch (err) {
      return { problem: `its TIFF header cannot be read (${cleanVipsError(err)})` };
    }
  }
  if (format === 'pdf') {
    const { pdfPageCount } = await import('./pdf.js');
    const pages = await pdfPageCount(fs.readFileSync(abs));
    return typeof pages === 'number' ? { format, pages } : pages;
  }
  return { format: format ?? 'unknown', pages: 1 };
}

export function readHead(abs: string, bytes = SNIFF_BYTES): Buffer {
  const fd = fs.openSync(abs, 'r');
  try {
    const b = Buffer.alloc(bytes);
    return b.subarray(0, fs.readSync(fd, b, 0, bytes, 0));
  } finally {
    fs.closeSync(fd);
  }
}
