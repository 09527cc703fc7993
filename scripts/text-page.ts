// A page of text set in columns, as an 8-bit grey image: for fixtures whose ground truth is the text itself
// (the German sample page, the 4000×6000 newspaper-like page of the prepare bench). Paper is light grey and
// ink near-black, like a clean scan; the layout is plain (left-aligned, no hyphenation), so tesseract's
// reading order is the text's. Needs DejaVu Serif (Debian's fonts-dejavu-core).
import { existsSync } from 'node:fs';

export const FONT_PATH = '/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf';

export interface TextPageOptions {
  width: number;
  height: number;
  /** Font size in pixels. */
  px: number;
  columns?: number;
  margin?: number;
}

export interface TextPage {
  /** Raw 8-bit grey pixels, row by row. */
  grey: Buffer;
  width: number;
  height: number;
  /** The paragraphs that fit, in reading order (the page's ground truth). */
  text: string;
}

/** Sets paragraphs column by column until the page is full; returns the pixels and the text that fit. */
export async function renderTextPage(paragraphs: readonly string[], o: TextPageOptions): Promise<TextPage> {
  if (!existsSync(FONT_PATH)) throw new Error(`font ${FONT_PATH} not found; install the Debian package fonts-dejavu-core`);
  const { createCanvas, GlobalFonts } = await import('@napi-rs/canvas');
  GlobalFonts.registerFromPath(FONT_PATH, 'DejaVu Serif');
  const columns = o.columns ?? 1, margin = o.margin ?? Math.round(o.width * 0.1), gap = Math.round(o.px * 2);
  const colWidth = (o.width - 2 * margin - (columns - 1) * gap) / columns;
  const canvas = createCanvas(o.width, o.height);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ececec';
  ctx.fillRect(0, 0, o.width, o.height);
  ctx.fillStyle = '#262626';
  ctx.font = `${o.px}px "DejaVu Serif"`;
  const lineHeight = Math.round(o.px * 1.4);
  const used: string[] = [];
  let column = 0, y = margin + o.px;
  for (const paragraph of paragraphs) {
    const lines: string[] = [];
    let line = '';
    for (const word of paragraph.split(/\s+/)) {
      const next = line ? `${line} ${word}` : word;
      if (line && ctx.measureText(next).width > colWidth) {
        lines.push(line);
        line = word;
      } else line = next;
    }
    if (line) lines.push(line);
    if (y + lines.length * lineHeight > o.height - margin) {
      column++;
      y = margin + o.px;
    }
    if (column >= columns || y + lines.length * lineHeight > o.height - margin) break;
    for (const l of lines) {
      ctx.fillText(l, margin + column * (colWidth + gap), y);
      y += lineHeight;
    }
    y += Math.round(lineHeight * 0.6);
    used.push(paragraph);
  }
  const rgba = ctx.getImageData(0, 0, o.width, o.height).data;
  const grey = Buffer.alloc(o.width * o.height);
  for (let i = 0; i < grey.length; i++) grey[i] = rgba[i * 4]!;
  return { grey, width: o.width, height: o.height, text: used.join('\n\n') };
}
