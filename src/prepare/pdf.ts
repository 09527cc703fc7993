// PDF pages through pdf.js (pdfjs-dist, legacy build for Node; Apache-2.0). A scanned page, whose only
// visible content is one image (an invisible OCR text layer is allowed), gives that image at its native
// resolution; any other page is rendered with @napi-rs/canvas at the configured resolution. pdf.js is
// told to stop at errors, so a damaged page is reported instead of being drawn half blank.
import path from 'node:path';
import { createRequire } from 'node:module';
import type { PrepareProblem } from './types.js';

type PdfJs = typeof import('pdfjs-dist/legacy/build/pdf.mjs');
type PdfDocument = import('pdfjs-dist/legacy/build/pdf.mjs').PDFDocumentProxy;
type PdfPage = import('pdfjs-dist/legacy/build/pdf.mjs').PDFPageProxy;

export interface PdfPixels {
  data: Buffer;
  width: number;
  height: number;
  channels: 1 | 3 | 4;
  /** The resolution of these pixels on the page (exact: the page size is known). */
  dpi: number;
  /** How the page was read: its one image, or rendered. */
  via: 'image' | 'render';
}

let lib: Promise<PdfJs> | null = null;
const pdfjs = (): Promise<PdfJs> => (lib ??= import('pdfjs-dist/legacy/build/pdf.mjs'));

/** Folders pdf.js loads data from (fonts, CMaps, its wasm decoders), as the paths it expects. */
function assets(): { standardFontDataUrl: string; cMapUrl: string; wasmUrl: string } {
  const root = path.dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json'));
  return { standardFontDataUrl: `${root}/standard_fonts/`, cMapUrl: `${root}/cmaps/`, wasmUrl: `${root}/wasm/` };
}

export async function openPdf(bytes: Uint8Array): Promise<PdfDocument | PrepareProblem> {
  const { getDocument } = await pdfjs();
  try {
    // pdf.js takes over (detaches) the buffer it is given: hand it a copy.
    return await getDocument({ data: new Uint8Array(bytes), ...assets(), cMapPacked: true, stopAtErrors: true, isEvalSupported: false, verbosity: 0, useSystemFonts: false }).promise;
  } catch (err) {
    const e = err as Error;
    if (e?.name === 'PasswordException') return { problem: 'the PDF is protected by a password' };
    return { problem: `the PDF cannot be opened (${e?.message ?? String(err)})` };
  }
}

/** The number of pages; reads the cross-reference table and the page tree, no page content. */
export async function pdfPageCount(bytes: Uint8Array): Promise<number | PrepareProblem> {
  const doc = await openPdf(bytes);
  if ('problem' in doc) return doc;
  try {
    return doc.numPages;
  } finally {
    await doc.destroy();
  }
}

/** Page size in points (after /Rotate) and the /Rotate itself; no content is read. */
export async function pdfPageSize(doc: PdfDocument, pageNumber: number): Promise<{ width: number; height: number } | PrepareProblem> {
  try {
    const page = await doc.getPage(pageNumber);
    const vp = page.getViewport({ scale: 1 });
    return { width: vp.width, height: vp.height };
  } catch (err) {
    return { problem: `page ${pageNumber} cannot be read (${(err as Error)?.message ?? err})` };
  }
}

/**
 * The pixels of one page. `renderDpi` is used when the page must be rendered; `maxLongEdge` caps that
 * rendering (rendering larger only to be downscaled wastes time).
 */
export async function pdfPagePixels(doc: PdfDocument, pageNumber: number, renderDpi: number, maxLongEdge: number | null): Promise<PdfPixels | PrepareProblem> {
  const { OPS } = await pdfjs();
  let page: PdfPage;
  let ops: { fnArray: number[]; argsArray: unknown[][] };
  try {
    page = await doc.getPage(pageNumber);
    ops = (await page.getOperatorList()) as unknown as typeof ops;
  } catch (err) {
    return { problem: `pdf.js cannot read it (${(err as Error)?.message ?? err})` };
  }
  const single = singleImage(ops, OPS, page.view as number[]);
  if (single) {
    const img = await imageObject(page, single.id);
    if (!img) return { problem: 'its scanned image cannot be decoded' };
    const pixels = fromImage(img);
    if (!pixels) return { problem: 'its scanned image is in a form pdf.js does not hand out' };
    // The image's width on the page, in points, gives its resolution exactly.
    const dpi = (pixels.width * 72) / single.widthPt;
    const turned = ((page.rotate % 360) + 360) % 360;
    return { ...pixels, dpi, via: 'image', ...(turned ? await rotate(pixels, turned) : {}) };
  }
  return render(page, renderDpi, maxLongEdge);
}

/** Longest side a rendering may have, whatever the settings: ~100 megapixels of canvas is plenty. */
const MAX_RENDER_EDGE = 12_000;

async function render(page: PdfPage, renderDpi: number, maxLongEdge: number | null): Promise<PdfPixels | PrepareProblem> {
  const unit = page.getViewport({ scale: 1 });
  const longPt = Math.max(unit.width, unit.height);
  const cap = Math.min(maxLongEdge ?? MAX_RENDER_EDGE, MAX_RENDER_EDGE);
  const dpi = Math.min(renderDpi, (cap * 72) / longPt);
  const viewport = page.getViewport({ scale: dpi / 72 });
  const width = Math.max(1, Math.round(viewport.width)), height = Math.max(1, Math.round(viewport.height));
  const { createCanvas } = await import('@napi-rs/canvas');
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, width, height);
  try {
    await page.render({ canvas: canvas as never, canvasContext: ctx as never, viewport }).promise;
  } catch (err) {
    return { problem: `pdf.js cannot render it (${(err as Error)?.message ?? err})` };
  }
  const rgba = Buffer.from(ctx.getImageData(0, 0, width, height).data.buffer);
  // Drop alpha (the page was painted on white), and colour when there is none.
  const rgb = Buffer.alloc(width * height * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
    rgb[j] = rgba[i]!;
    rgb[j + 1] = rgba[i + 1]!;
    rgb[j + 2] = rgba[i + 2]!;
  }
  return { ...greyIfGrey(rgb, width, height), dpi, via: 'render' };
}

/**
 * The page's one image and its width on the page, if the page shows nothing else: no visible text (text in
 * render mode 3, invisible, is an OCR layer), no paths painted, no second image, and the image upright and
 * covering most of the page. Anything else is rendered, which is always right, only slower.
 */
function singleImage(ops: { fnArray: number[]; argsArray: unknown[][] }, OPS: Record<string, number>, view: number[]): { id: string; widthPt: number } | null {
  const allowed = new Set(SILENT_OPS.map((n) => OPS[n]).filter((n): n is number => n !== undefined));
  const showText = new Set(TEXT_SHOWING_OPS.map((n) => OPS[n]));
  let ctm = [1, 0, 0, 1, 0, 0];
  const stack: number[][] = [];
  let textMode = 0;
  let found: { id: string; ctm: number[] } | null = null;
  for (let i = 0; i < ops.fnArray.length; i++) {
    const fn = ops.fnArray[i]!;
    const args = ops.argsArray[i] ?? [];
    if (fn === OPS['save']) stack.push(ctm);
    else if (fn === OPS['restore']) ctm = stack.pop() ?? ctm;
    else if (fn === OPS['transform']) ctm = multiply(ctm, args as number[]);
    else if (fn === OPS['paintFormXObjectBegin']) {
      stack.push(ctm);
      if (Array.isArray(args[0]) && args[0].length === 6) ctm = multiply(ctm, args[0] as number[]);
    } else if (fn === OPS['paintFormXObjectEnd']) ctm = stack.pop() ?? ctm;
    else if (fn === OPS['setTextRenderingMode']) textMode = Number(args[0]);
    else if (showText.has(fn)) {
      if (textMode !== 3 && textMode !== 7) return null; // visible text
    } else if (fn === OPS['constructPath']) {
      if (args[0] !== OPS['endPath']) return null; // a painted path (a path only used to clip is fine)
    } else if (fn === OPS['paintImageXObject']) {
      if (found) return null;
      found = { id: String(args[0]), ctm };
    } else if (!allowed.has(fn)) return null;
  }
  if (!found) return null;
  const [a, b, c, d, e, f] = found.ctm as [number, number, number, number, number, number];
  // Upright and unflipped: the unit square maps to [e, e+a] × [f, f+d].
  if (a <= 0 || d <= 0 || Math.abs(b) > 1e-6 * a || Math.abs(c) > 1e-6 * d) return null;
  const [x0, y0, x1, y1] = view as [number, number, number, number];
  const pageArea = Math.abs((x1 - x0) * (y1 - y0));
  const left = Math.max(e, Math.min(x0, x1)), right = Math.min(e + a, Math.max(x0, x1));
  const bottom = Math.max(f, Math.min(y0, y1)), top = Math.min(f + d, Math.max(y0, y1));
  const covered = Math.max(0, right - left) * Math.max(0, top - bottom);
  return pageArea > 0 && covered / pageArea >= MIN_COVERAGE ? { id: found.id, widthPt: a } : null;
}

/** An image smaller than this share of the page is a picture on a page, not the scan of it. */
const MIN_COVERAGE = 0.85;

/** Operators that paint nothing (state, clipping, marked content, text positioning). */
const SILENT_OPS = [
  'dependency', 'setLineWidth', 'setLineCap', 'setLineJoin', 'setMiterLimit', 'setDash', 'setRenderingIntent', 'setFlatness', 'setGState',
  'endPath', 'clip', 'eoClip', 'beginText', 'endText', 'setCharSpacing', 'setWordSpacing', 'setHScale', 'setLeading', 'setFont', 'setTextRise',
  'moveText', 'setLeadingMoveText', 'setTextMatrix', 'nextLine', 'setCharWidth', 'setCharWidthAndBounds', 'setStrokeColorSpace', 'setFillColorSpace',
  'setStrokeColor', 'setStrokeColorN', 'setFillColor', 'setFillColorN', 'setStrokeGray', 'setFillGray', 'setStrokeRGBColor', 'setFillRGBColor',
  'setStrokeCMYKColor', 'setFillCMYKColor', 'markPoint', 'markPointProps', 'beginMarkedContent', 'beginMarkedContentProps', 'endMarkedContent',
  'beginCompat', 'endCompat', 'setStrokeTransparent', 'setFillTransparent',
];
const TEXT_SHOWING_OPS = ['showText', 'showSpacedText', 'nextLineShowText', 'nextLineSetSpacingShowText'];

function multiply(m: number[], n: number[]): number[] {
  const [a, b, c, d, e, f] = m as [number, number, number, number, number, number];
  const [a2, b2, c2, d2, e2, f2] = n as [number, number, number, number, number, number];
  return [a2 * a + b2 * c, a2 * b + b2 * d, c2 * a + d2 * c, c2 * b + d2 * d, e2 * a + f2 * c + e, e2 * b + f2 * d + f];
}

interface PdfImage {
  width: number;
  height: number;
  kind?: number;
  data?: Uint8Array | Uint8ClampedArray;
}

/** The decoded image pdf.js made for the page (null: it could not decode it). */
function imageObject(page: PdfPage, id: string): Promise<PdfImage | null> {
  // Images used on several pages live in the document's common objects (ids starting with g_).
  const objs = (id.startsWith('g_') ? page.commonObjs : page.objs) as unknown as { get(id: string, cb: (v: unknown) => void): void };
  return new Promise((resolve) => objs.get(id, (v) => resolve((v as PdfImage | null) ?? null)));
}

/** pdf.js image kinds: 1 = 1-bit grey, packed by rows; 2 = RGB; 3 = RGBA. */
function fromImage(img: PdfImage): Omit<PdfPixels, 'dpi' | 'via'> | null {
  const { width, height, kind, data } = img;
  if (!data || !width || !height) return null;
  if (kind === 1) {
    const rowBytes = (width + 7) >> 3;
    const out = Buffer.alloc(width * height);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) out[y * width + x] = (data[y * rowBytes + (x >> 3)]! >> (7 - (x & 7))) & 1 ? 255 : 0;
    }
    return { data: out, width, height, channels: 1 };
  }
  if (kind === 2) return greyIfGrey(Buffer.from(data.buffer, data.byteOffset, data.byteLength), width, height);
  if (kind === 3) return { data: Buffer.from(data.buffer, data.byteOffset, data.byteLength), width, height, channels: 4 };
  return null;
}

/** pdf.js hands grey images out as RGB; a page whose three channels agree everywhere is kept as grey. */
function greyIfGrey(rgb: Buffer, width: number, height: number): Omit<PdfPixels, 'dpi' | 'via'> {
  for (let i = 0; i < rgb.length; i += 3) {
    if (rgb[i] !== rgb[i + 1] || rgb[i] !== rgb[i + 2]) return { data: rgb, width, height, channels: 3 };
  }
  const grey = Buffer.alloc(width * height);
  for (let i = 0, j = 0; j < grey.length; i += 3, j++) grey[j] = rgb[i]!;
  return { data: grey, width, height, channels: 1 };
}

/** Applies the page's /Rotate (clockwise) to its image, as a viewer shows the page. */
async function rotate(p: Omit<PdfPixels, 'dpi' | 'via'>, degrees: number): Promise<Omit<PdfPixels, 'dpi' | 'via'>> {
  const sharp = (await import('sharp')).default;
  const { data, info } = await sharp(p.data, { raw: { width: p.width, height: p.height, channels: p.channels } }).rotate(degrees).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: p.channels };
}
