// Decoding one page of a source into a sharp image, whatever the format: libvips through sharp for TIFF,
// PNG, JPEG, WebP, GIF and AVIF; OpenJPEG (wasm) for JPEG 2000; pdf.js for PDF; bmp-js (tesseract.js's own
// BMP reader) for BMP. Nothing here orients, resizes or encodes: that is the preparer's job.
import type { Sharp } from 'sharp';
import type { ImageSettings } from '../config/images.js';
import type { SourceFormat } from './format.js';
import { decodeJp2 } from './jp2.js';
import { pdfPagePixels, type openPdf } from './pdf.js';
import type { PrepareProblem } from './types.js';
import { trustedDpi } from './geometry.js';

export interface DecodedPage {
  /** The page's pixels, not yet oriented, flattened, resized or encoded. */
  image: Sharp;
  /** Size as stored, before EXIF orientation. */
  width: number;
  height: number;
  /** EXIF orientation (1–8) when the file has one. */
  orientation: number | undefined;
  grey: boolean;
  hasAlpha: boolean;
  /** More than 8 bits per sample, or not sRGB/grey (CMYK, Lab): the bytes cannot be sent as they are. */
  unusual: boolean;
  /** The resolution of these pixels when the file says (believably), or a PDF's exact one. */
  dpi: number | null;
  dpiSource: 'file' | 'pdf' | null;
  /** Pages in the file (to warn when a multi-page file is read as one page). */
  pages: number;
  /** Decoded width over the source's full width: below 1 when a JPEG 2000 was decoded at a reduced level. */
  reduced: number;
}

/** Pixel bounds sharp accepts: a gigapixel, well above any scan, well below what would exhaust memory. */
const MAX_INPUT_PIXELS = 1_000_000_000;

type PdfDoc = Exclude<Awaited<ReturnType<typeof openPdf>>, PrepareProblem>;

export interface DecodeInput {
  path: string;
  bytes: Buffer;
  format: SourceFormat;
  /** 1-based page inside the file. */
  page: number;
  settings: ImageSettings;
  /** An open PDF document for `path` (PDF sources only; opened and cached by the preparer). */
  pdf?: () => Promise<PdfDoc | PrepareProblem>;
}

export async function decodePage(input: DecodeInput): Promise<DecodedPage | PrepareProblem> {
  const sharp = (await import('sharp')).default;
  sharp.cache(false); // no file handles or decoded images kept between pages
  const raw = (data: Buffer, width: number, height: number, channels: 1 | 2 | 3 | 4) => sharp(data, { raw: { width, height, channels } });
  switch (input.format) {
    case 'jp2':
    case 'j2k': {
      const px = await decodeJp2(input.bytes, input.settings.maxLongEdge);
      if ('problem' in px) return px;
      // A reduced-resolution decode has fewer pixels per inch than the file's capture resolution.
      const dpi = px.density === null ? null : trustedDpi(px.density * (px.width / px.fullWidth));
      return { image: raw(px.data, px.width, px.height, px.channels), width: px.width, height: px.height, orientation: undefined, grey: px.channels <= 2, hasAlpha: px.channels === 2 || px.channels === 4, unusual: false, dpi, dpiSource: dpi === null ? null : 'file', pages: 1, reduced: px.width / px.fullWidth };
    }
    case 'pdf': {
      const doc = await input.pdf!();
      if ('problem' in doc) return doc;
      const px = await pdfPagePixels(doc, input.page, input.settings.dpi, input.settings.maxLongEdge);
      if ('problem' in px) return px;
      return { image: raw(px.data, px.width, px.height, px.channels), width: px.width, height: px.height, orientation: undefined, grey: px.channels === 1, hasAlpha: px.channels === 4, unusual: false, dpi: px.dpi, dpiSource: 'pdf', pages: doc.numPages, reduced: 1 };
    }
    case 'bmp': {
      let bmp: { width: number; height: number; data: Buffer };
      try {
        bmp = (await import('bmp-js')).default.decode(input.bytes);
      } catch (err) {
        return { problem: String((err as Error)?.message ?? err) };
      }
      // bmp-js gives A, B, G, R per pixel (A unused): reorder to RGB.
      const rgb = Buffer.alloc(bmp.width * bmp.height * 3);
      for (let i = 0, j = 0; j < rgb.length; i += 4, j += 3) {
        rgb[j] = bmp.data[i + 3]!;
        rgb[j + 1] = bmp.data[i + 2]!;
        rgb[j + 2] = bmp.data[i + 1]!;
      }
      return { image: raw(rgb, bmp.width, bmp.height, 3), width: bmp.width, height: bmp.height, orientation: undefined, grey: false, hasAlpha: false, unusual: false, dpi: null, dpiSource: null, pages: 1, reduced: 1 };
    }
    case 'heic':
      return { problem: 'HEIC cannot be decoded here' };
    default: {
      // libvips reads from the path, a strip at a time: a 60 MB TIFF master is never all in memory at once.
      const image = sharp(input.path, { page: input.page - 1, limitInputPixels: MAX_INPUT_PIXELS, failOn: 'error' });
      let m;
      try {
        m = await image.metadata();
      } catch (err) {
        return { problem: cleanVipsError(err) };
      }
      if (!m.width || !m.height) return { problem: 'it has no image size' };
      const grey = m.space === 'b-w' || m.space === 'grey16' || m.channels === 1 || (m.channels === 2 && !!m.hasAlpha);
      const unusual = (m.depth !== 'uchar' && m.depth !== 'char') || !(m.space === 'srgb' || m.space === 'b-w' || m.space === 'rgb');
      const dpi = trustedDpi(m.density);
      return {
        image, width: m.width, height: m.height, orientation: m.orientation, grey, hasAlpha: !!m.hasAlpha, unusual, dpi, dpiSource: dpi === null ? null : 'file', pages: m.pages ?? 1, reduced: 1,
      };
    }
  }
}

/** libvips errors end with a newline and may repeat the loader's name; keep the first informative line. */
export function cleanVipsError(err: unknown): string {
  const text = String((err as Error)?.message ?? err).trim();
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  const line = lines.find((l) => !/^(VipsJpeg|vips2|pngload|tiffload|heifload|gifload|webpload).*: ?$/.test(l)) ?? lines[0] ?? 'unknown error';
  // libvips keeps one error buffer for every thread: when two images are decoded at once, sharp sometimes
  // reads it after another thread cleared it, and says "Input file has corrupt header: " with nothing after.
  return line.replace(/: *$/, '');
}
