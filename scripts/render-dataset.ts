// Renders the sample collection: every dataset/ground_truth/{state}/{school}/{year}/{page}.txt becomes
// dataset/raw_image_dataset/{state}/{school}/{year}/{page}.png, a page that looks like a light scan of a
// printed college catalogue. The text files are the ground truth, so OCR accuracy can be measured exactly.
//
// Text format (one paragraph per line, paragraphs separated by a blank line):
//   - a page whose first paragraph is a running head (`HOWARD COLLEGE. 3`) is a listing page: the head and
//     every all-caps paragraph (department headings) are centred, the rest is justified body text;
//   - any other page is a title page: every paragraph is centred, the first one large.
//
// Output is deterministic: the noise comes from a PRNG seeded by the page's path and the PNG is written by a
// small encoder here (no timestamps, fixed zlib level), so re-running produces byte-identical files.
import type { SKRSContext2D } from '@napi-rs/canvas';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateSync } from 'node:zlib';
import { pngChunk, PNG_SIGNATURE } from './png.js';
import { mulberry32 } from './prng.js';

// Compiled to dist/scripts/, so the project root is two levels up.
const DATASET = fileURLToPath(new URL('../../dataset/', import.meta.url));
const TEXT_DIR = path.join(DATASET, 'ground_truth');
const IMAGE_DIR = path.join(DATASET, 'raw_image_dataset');
const FONT_PATH = '/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf';
const FONT_FAMILY = 'DejaVu Serif';

/** A catalogue page at about 150 dpi (7.3 x 10 inches). */
const PAGE = { width: 1100, height: 1500, left: 115, right: 985, top: 110, bottom: 1400 } as const;
const BODY_PX = 24;
const HEADING_PX = 28;
const TITLE_PX = 42;
const LINE_HEIGHT = 1.5; // times the font size
const PARAGRAPH_GAP = 16; // px between listing paragraphs; tesseract splits paragraphs on it
const TITLE_GAP = 40; // px between title-page paragraphs
const INDENT = 2 * BODY_PX;

/** Paper and ink tones (0 = black, 255 = white): off-white paper, not-quite-black ink. */
const PAPER = 238;
const INK = 38;
/** Specks keep this many px away from any ink. */
const SPECK_CLEARANCE = 8;

type Align = 'centre' | 'justify';
interface Block {
  text: string;
  px: number;
  align: Align;
  indent: number;
  /** Justify the last line too: the paragraph runs on to the next page. */
  runsOn: boolean;
  gapBefore: number;
  /** Set at the foot of the page (a title page's imprint). */
  atFoot: boolean;
}
interface Page {
  txtFile: string;
  pngFile: string;
  seed: number;
}

// ---------------------------------------------------------------------------------------------- main

async function main(): Promise<void> {
  if (!existsSync(FONT_PATH)) {
    console.error(`render-dataset: font ${FONT_PATH} not found; install the Debian package fonts-dejavu-core`);
    process.exit(2);
  }
  // @napi-rs/canvas is a devDependency: import it only here, so the message above comes first.
  const { createCanvas, GlobalFonts } = await import('@napi-rs/canvas');
  if (!GlobalFonts.registerFromPath(FONT_PATH, FONT_FAMILY)) {
    console.error(`render-dataset: could not load ${FONT_PATH}; reinstall the Debian package fonts-dejavu-core`);
    process.exit(2);
  }

  const pages = await findPages();
  if (pages.length === 0) throw new Error(`no ground-truth pages under ${TEXT_DIR}`);
  for (const page of pages) {
    const text = await readFile(page.txtFile, 'utf8');
    const canvas = createCanvas(PAGE.width, PAGE.height);
    const ctx = canvas.getContext('2d');
    const rng = mulberry32(page.seed);
    drawText(ctx, layoutPage(parseParagraphs(text, page.txtFile)), page.txtFile, rng);
    const coverage = inkCoverage(ctx.getImageData(0, 0, PAGE.width, PAGE.height).data);
    const gray = ageAsScan(coverage, rng);
    await mkdir(path.dirname(page.pngFile), { recursive: true });
    const png = encodeGrayPng(gray, PAGE.width, PAGE.height);
    await writeFile(page.pngFile, png);
    console.log(`${path.relative(DATASET, page.pngFile)}  ${(png.length / 1024).toFixed(0)} KB`);
  }
  console.log(`rendered ${pages.length} pages`);
}

/** Every `{state}/{school}/{year}/{page}.txt`, sorted so runs log in a stable order. */
async function findPages(): Promise<Page[]> {
  const entries = await readdir(TEXT_DIR, { recursive: true });
  return entries
    .filter((rel) => /^[^/]+\/[^/]+\/\d{4}\/\d+\.txt$/.test(rel.split(path.sep).join('/')))
    .sort()
    .map((rel) => ({
      txtFile: path.join(TEXT_DIR, rel),
      pngFile: path.join(IMAGE_DIR, rel.replace(/\.txt$/, '.png')),
      seed: crc32(rel.split(path.sep).join('/')),
    }));
}

// ---------------------------------------------------------------------------------------------- layout

/** Paragraphs are separated by blank lines; inner whitespace is collapsed, as the word wrap re-flows it. */
function parseParagraphs(text: string, file: string): string[] {
  if (/[^\x20-\x7e\n\r\t]/.test(text)) throw new Error(`${file}: ground truth must be plain printable ASCII`);
  return text
    .split(/\r?\n\s*\r?\n/)
    .map((p) => p.replace(/\s+/g, ' ').trim())
    .filter((p) => p.length > 0);
}

const RUNNING_HEAD = /^[A-Z][A-Z .,'-]+ \d+$/;
/** `<Course>. <Level> Class. ` opens a course; a body paragraph that does not is a continuation. */
const COURSE_START = /^[A-Z][^.]{1,80}\. (Preparatory|Freshman|Sophomore|Junior|Senior)(?: Class)?\. /;

function layoutPage(paragraphs: string[]): Block[] {
  const isListing = paragraphs[0] !== undefined && RUNNING_HEAD.test(paragraphs[0]);
  return isListing ? layoutListing(paragraphs) : layoutTitle(paragraphs);
}

/** A block with the body-text defaults, changed where `options` says. */
function block(text: string, options: Partial<Omit<Block, 'text'>>): Block {
  return { text, px: BODY_PX, align: 'justify', indent: 0, runsOn: false, gapBefore: PARAGRAPH_GAP, atFoot: false, ...options };
}

function layoutListing(paragraphs: string[]): Block[] {
  return paragraphs.map((text, i) => {
    if (i === 0) return block(text, { align: 'centre', gapBefore: 0 });
    const heading = !/[a-z]/.test(text);
    // A heading gets extra air above it, as a printer would leave before a new department.
    const gapBefore = PARAGRAPH_GAP + (heading || i === 1 ? 2 * PARAGRAPH_GAP : 0);
    if (heading) return block(text, { px: HEADING_PX, align: 'centre', gapBefore });
    // A paragraph carried over from the previous page is not indented; one cut off at the foot of the
    // page is justified to the last line, since in print it goes on.
    const indent = i === 1 && !COURSE_START.test(text) ? 0 : INDENT;
    const runsOn = i === paragraphs.length - 1 && !/[.:]$/.test(text);
    return block(text, { indent, runsOn, gapBefore });
  });
}

/** Title page: all centred, the school's name large, the imprint (last paragraph) at the foot. */
function layoutTitle(paragraphs: string[]): Block[] {
  return paragraphs.map((text, i) => {
    const px = i === 0 ? TITLE_PX : /[a-z]/.test(text) ? BODY_PX : HEADING_PX;
    const atFoot = i > 0 && i === paragraphs.length - 1;
    return block(text, { px, align: 'centre', gapBefore: i === 0 ? 120 : TITLE_GAP, atFoot });
  });
}

/** Greedy word wrap; the first line is shorter by the indent. Words are never hyphenated. */
function wrap(ctx: SKRSContext2D, words: string[], width: number, indent: number): string[][] {
  const lines: string[][] = [];
  let line: string[] = [];
  for (const word of words) {
    const candidate = [...line, word].join(' ');
    const room = width - (lines.length === 0 ? indent : 0);
    if (line.length > 0 && ctx.measureText(candidate).width > room) {
      lines.push(line);
      line = [word];
    } else {
      line.push(word);
    }
  }
  if (line.length > 0) lines.push(line);
  return lines;
}

// ---------------------------------------------------------------------------------------------- drawing

/** Draws black text on white; the paper and ink tones are applied afterwards, pixel by pixel. */
function drawText(ctx: SKRSContext2D, blocks: Block[], file: string, rng: () => number): void {
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, PAGE.width, PAGE.height);
  ctx.fillStyle = '#000';
  ctx.textBaseline = 'alphabetic';
  // A scanned page never lies perfectly square on the glass: tilt it by up to a quarter of a degree.
  ctx.translate(PAGE.width / 2, PAGE.height / 2);
  ctx.rotate(((rng() - 0.5) * 0.5 * Math.PI) / 180);
  ctx.translate(-PAGE.width / 2, -PAGE.height / 2);

  const width = PAGE.right - PAGE.left;
  let y: number = PAGE.top;
  for (const block of blocks) {
    ctx.font = `${block.px}px "${FONT_FAMILY}"`;
    const lineHeight = Math.round(block.px * LINE_HEIGHT);
    const lines = wrap(ctx, block.text.split(' '), width, block.indent);
    y += block.gapBefore;
    if (block.atFoot) y = Math.max(y, PAGE.bottom - lines.length * lineHeight);
    lines.forEach((words, n) => {
      y += lineHeight;
      const indent = n === 0 ? block.indent : 0;
      const last = n === lines.length - 1 && !block.runsOn;
      if (block.align === 'centre') drawCentred(ctx, words.join(' '), y);
      else if (last || words.length === 1) ctx.fillText(words.join(' '), PAGE.left + indent, y);
      else drawJustified(ctx, words, PAGE.left + indent, width - indent, y);
    });
  }
  if (y > PAGE.bottom) throw new Error(`${file}: text runs ${Math.ceil(y - PAGE.bottom)} px past the foot of the page`);
  ctx.resetTransform();
}

function drawCentred(ctx: SKRSContext2D, text: string, y: number): void {
  const w = ctx.measureText(text).width;
  ctx.fillText(text, Math.round(PAGE.left + (PAGE.right - PAGE.left - w) / 2), y);
}

/** Spreads the slack of a line evenly over its word gaps, as a compositor would. */
function drawJustified(ctx: SKRSContext2D, words: string[], x: number, width: number, y: number): void {
  const wordWidths = words.map((w) => ctx.measureText(w).width);
  const gap = (width - wordWidths.reduce((a, b) => a + b, 0)) / (words.length - 1);
  let cursor = x;
  words.forEach((word, i) => {
    ctx.fillText(word, Math.round(cursor), y);
    cursor += (wordWidths[i] ?? 0) + gap;
  });
}

// ---------------------------------------------------------------------------------------------- scan look

/** 0..1 ink coverage per pixel, from the black-on-white RGBA render. */
function inkCoverage(rgba: Uint8ClampedArray): Float32Array {
  const out = new Float32Array(rgba.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = 1 - (rgba[i * 4] ?? 255) / 255;
  return out;
}

/**
 * Turns ink coverage into a grey scan: off-white paper with a faint uneven tone, a shadow along the
 * edges, not-quite-black ink, and sparse specks of dirt. The noise is sparse and low-frequency on
 * purpose: per-pixel grain would multiply the PNG size and cost OCR accuracy for no realism gained.
 */
function ageAsScan(coverage: Float32Array, rng: () => number): Uint8Array {
  const { width, height } = PAGE;
  const phase = [rng(), rng(), rng()].map((r) => r * 2 * Math.PI);
  const gray = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const paper = PAPER + paperTone(x, y, phase) - edgeShadow(x, y);
      const ink = coverage[i] ?? 0;
      gray[i] = Math.round(paper * (1 - ink) + INK * ink);
    }
  }
  sprinkleSpecks(gray, coverage, rng);
  return gray;
}

/** A slow +-3 level undulation across the sheet, like paper of uneven thickness. */
function paperTone(x: number, y: number, phase: number[]): number {
  const [a = 0, b = 0, c = 0] = phase;
  return 2 * Math.sin(x / 170 + a) * Math.cos(y / 230 + b) + Math.sin((x + y) / 400 + c);
}

/** The scanner lid lets light in at the edges: darken the outer 30 px by up to 30 levels. */
function edgeShadow(x: number, y: number): number {
  const d = Math.min(x, y, PAGE.width - 1 - x, PAGE.height - 1 - y);
  return d >= 30 ? 0 : 30 * (1 - d / 30) ** 2;
}

/**
 * A few hundred specks of dust, one to three pixels across, on open paper only: a speck touching a word
 * is read as a stray full stop or accent, which would measure the dust rather than the OCR.
 */
function sprinkleSpecks(gray: Uint8Array, coverage: Float32Array, rng: () => number): void {
  const { width, height } = PAGE;
  for (let n = 0; n < 400; n++) {
    const cx = Math.floor(rng() * width);
    const cy = Math.floor(rng() * height);
    const radius = rng() < 0.85 ? 0.8 : 1.6;
    // Lighter than the grey where tesseract's binarisation cuts (about midway between paper and ink).
    const tone = 160 + Math.floor(rng() * 60);
    if (nearInk(coverage, cx, cy, SPECK_CLEARANCE)) continue;
    for (let dy = -2; dy <= 2; dy++) {
      for (let dx = -2; dx <= 2; dx++) {
        const x = cx + dx;
        const y = cy + dy;
        if (x < 0 || y < 0 || x >= width || y >= height || dx * dx + dy * dy > radius * radius) continue;
        const i = y * width + x;
        gray[i] = Math.min(gray[i] ?? 255, tone);
      }
    }
  }
}

function nearInk(coverage: Float32Array, cx: number, cy: number, reach: number): boolean {
  for (let y = Math.max(0, cy - reach); y <= Math.min(PAGE.height - 1, cy + reach); y++) {
    for (let x = Math.max(0, cx - reach); x <= Math.min(PAGE.width - 1, cx + reach); x++) {
      if ((coverage[y * PAGE.width + x] ?? 0) > 0.05) return true;
    }
  }
  return false;
}


// ---------------------------------------------------------------------------------------------- PNG

/**
 * An 8-bit greyscale PNG. Canvas only encodes RGBA, which is four times the data for a grey scan; this
 * writes colour type 0 with the usual per-row filter choice (least sum of absolute residuals).
 */
function encodeGrayPng(gray: Uint8Array, width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 0, 0, 0, 0], 8); // bit depth 8, greyscale, deflate, adaptive filtering, no interlace
  const raw = Buffer.alloc((width + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = gray.subarray(y * width, (y + 1) * width);
    const above = y > 0 ? gray.subarray((y - 1) * width, y * width) : new Uint8Array(width);
    const [filter, bytes] = bestFilter(row, above);
    raw[y * (width + 1)] = filter;
    raw.set(bytes, y * (width + 1) + 1);
  }
  return Buffer.concat([
    PNG_SIGNATURE,
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(raw, { level: 9 })),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

function bestFilter(row: Uint8Array, above: Uint8Array): [number, Uint8Array] {
  let best: [number, Uint8Array] = [0, row];
  let bestCost = Infinity;
  for (let type = 0; type <= 4; type++) {
    const out = new Uint8Array(row.length);
    let cost = 0;
    for (let x = 0; x < row.length; x++) {
      const a = x > 0 ? (row[x - 1] ?? 0) : 0;
      const b = above[x] ?? 0;
      const c = x > 0 ? (above[x - 1] ?? 0) : 0;
      const predicted = predict(type, a, b, c);
      const v = ((row[x] ?? 0) - predicted) & 0xff;
      out[x] = v;
      cost += v < 128 ? v : 256 - v;
    }
    if (cost < bestCost) [best, bestCost] = [[type, out], cost];
  }
  return best;
}

/** PNG filter predictors: none, left, up, average of left and up, Paeth. */
function predict(type: number, a: number, b: number, c: number): number {
  switch (type) {
    case 1:
      return a;
    case 2:
      return b;
    case 3:
      return (a + b) >> 1;
    case 4:
      return paeth(a, b, c);
    default:
      return 0;
  }
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

main().catch((err: unknown) => {
  console.error(`render-dataset: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
