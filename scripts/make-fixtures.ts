// Test fixtures for every source format ocrmake reads, made from the sample pages (dataset/): each file holds
// a known page, so a test can build it and compare the text with the same page built from its PNG.
//
//   npm run make-fixtures -- <folder>        writes the files and manifest.json into <folder>
//
// What is made (deterministic; about 3 MB, 3 s):
//   TIFF     8-bit grey in every compression libvips writes (none, LZW, PackBits, Deflate, JPEG), RGB JPEG,
//            1-bit (CCITT G4, PackBits, LZW), 2-bit LZW, 4-bit Deflate (newspaper masters), 16-bit none and
//            Deflate, CCITT G3 when libtiff's `tiffcp` is installed (libvips cannot write G3), and a 3-page TIFF;
//   JPEG 2000 a JP2 file and a raw J2K codestream, lossless, encoded with OpenJPEG (wasm);
//   PDF      a 3-page scan (image-only pages: PNG, JPEG, PNG) and a 2-page vector-text PDF (pdf-lib);
//   others   WebP, GIF, AVIF, BMP, a JPEG whose pixels lie on their side with an EXIF orientation to right
//            them, and the PNG twins of the three pages used;
//   German   a page of German text (umlauts, ß) for the local engine's language setting.
// Bilevel fixtures are thresholded from a 2× Lanczos upscale of the page (300 dpi), as a bilevel scanner
// works at 300 dpi or more: a 150-dpi threshold destroys serifs any scanner would keep.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { renderTextPage } from './text-page.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
/**
 * The sample pages used, by short name: the two title pages (the lightest text, so OCR-ing 30-odd fixtures
 * stays quick) and a course listing. Single-page fixtures hold the first; multi-page fixtures hold all three,
 * so a page read from the wrong place inside a file would not match.
 */
const SAMPLES = { a1: 'Alabama/Howard College/1849/1', v1: 'Virginia/Hampden-Sydney College/1851/1', c6: 'California/College of California/1860/6' } as const;
type Sample = keyof typeof SAMPLES;
const PAGES: readonly Sample[] = ['a1', 'v1', 'c6'];

export interface FixturePage {
  /** Page inside the file (1-based). */
  page: number;
  /** The text on it, and the PNG fixture holding the same page (null when there is none: vector text). */
  text: string;
  twin: string | null;
}

export interface Fixture {
  /** File name inside the fixture folder; its base name (without extension) is unique. */
  file: string;
  kind: string;
  pages: FixturePage[];
}

export interface Manifest {
  fixtures: Fixture[];
  /** Formats that could not be made here, and why. */
  skipped: { kind: string; why: string }[];
}

const groundTruth = (n: Sample): string => fs.readFileSync(path.join(REPO, 'dataset/ground_truth', `${SAMPLES[n]}.txt`), 'utf8');
const samplePng = (n: Sample): string => path.join(REPO, 'dataset/raw_image_dataset', `${SAMPLES[n]}.png`);

export async function makeFixtures(dir: string): Promise<Manifest> {
  const sharp = (await import('sharp')).default;
  fs.mkdirSync(dir, { recursive: true });
  const fixtures: Fixture[] = [];
  const skipped: Manifest['skipped'] = [];
  const at = (file: string) => path.join(dir, file);
  const one = (file: string, kind: string, n: Sample = 'a1'): void => void fixtures.push({ file, kind, pages: [{ page: 1, text: groundTruth(n), twin: `png-${n}.png` }] });
  const RES = { xres: 150 / 25.4, yres: 150 / 25.4 };
  const grey = () => sharp(samplePng('a1')).toColourspace('b-w');
  const upscaled = await sharp(samplePng('a1')).resize(2200, 3000, { kernel: 'lanczos3' }).toColourspace('b-w').raw().toBuffer();
  const bilevel = () => sharp(upscaled, { raw: { width: 2200, height: 3000, channels: 1 } }).threshold(150).toColourspace('b-w');

  for (const n of PAGES) {
    fs.copyFileSync(samplePng(n), at(`png-${n}.png`));
    one(`png-${n}.png`, 'PNG 8-bit grey (twin)', n);
  }
  for (const compression of ['none', 'lzw', 'packbits', 'deflate', 'jpeg'] as const) {
    await grey().tiff({ compression, predictor: 'none', quality: 90, ...RES }).toFile(at(`tiff-${compression}-8.tif`));
    one(`tiff-${compression}-8.tif`, `TIFF ${compression} 8-bit grey`);
  }
  await sharp(samplePng('a1')).toColourspace('srgb').tiff({ compression: 'jpeg', quality: 90, ...RES }).toFile(at('tiff-jpeg-rgb.tif'));
  one('tiff-jpeg-rgb.tif', 'TIFF JPEG RGB');
  for (const [compression, name] of [['ccittfax4', 'g4'], ['packbits', 'packbits'], ['lzw', 'lzw']] as const) {
    await bilevel().tiff({ compression, bitdepth: 1, predictor: 'none', xres: 300 / 25.4, yres: 300 / 25.4 }).toFile(at(`tiff-${name}-1.tif`));
    one(`tiff-${name}-1.tif`, `TIFF ${name} 1-bit`);
  }
  await grey().tiff({ compression: 'lzw', bitdepth: 2, predictor: 'none', ...RES }).toFile(at('tiff-lzw-2.tif'));
  one('tiff-lzw-2.tif', 'TIFF LZW 2-bit grey');
  await grey().tiff({ compression: 'deflate', bitdepth: 4, predictor: 'none', ...RES }).toFile(at('tiff-deflate-4.tif'));
  one('tiff-deflate-4.tif', 'TIFF Deflate 4-bit grey');
  for (const compression of ['none', 'deflate'] as const) {
    await sharp(samplePng('a1')).toColourspace('grey16').tiff({ compression, predictor: 'horizontal', ...RES }).toFile(at(`tiff-${compression}-16.tif`));
    one(`tiff-${compression}-16.tif`, `TIFF ${compression} 16-bit grey`);
  }
  // CCITT G3: libvips writes G4 only; libtiff's own tool converts.
  const tiffcp = spawnSync('tiffcp', ['-c', 'g3:2d', at('tiff-packbits-1.tif'), at('tiff-g3-1.tif')], { encoding: 'utf8' });
  if (tiffcp.status === 0) one('tiff-g3-1.tif', 'TIFF CCITT G3 1-bit');
  else skipped.push({ kind: 'TIFF CCITT G3', why: 'tiffcp (Debian package libtiff-tools) is not installed' });
  await sharp(PAGES.map(samplePng), { join: { animated: true } }).removeAlpha().toColourspace('b-w').tiff({ compression: 'lzw', predictor: 'horizontal', ...RES }).toFile(at('tiff-3-page.tif'));
  fixtures.push({ file: 'tiff-3-page.tif', kind: 'TIFF 3 pages', pages: PAGES.map((n, i) => ({ page: i + 1, text: groundTruth(n), twin: `png-${n}.png` })) });

  const j2k = await jpeg2000(samplePng('a1'));
  fs.writeFileSync(at('jp2-lossless.jp2'), j2k.jp2);
  one('jp2-lossless.jp2', 'JPEG 2000 (JP2)');
  fs.writeFileSync(at('j2k-lossless.j2k'), j2k.codestream);
  one('j2k-lossless.j2k', 'JPEG 2000 codestream (J2K)');

  fs.writeFileSync(at('pdf-scan-3.pdf'), await scannedPdf());
  fixtures.push({ file: 'pdf-scan-3.pdf', kind: 'PDF scan, 3 image-only pages', pages: PAGES.map((n, i) => ({ page: i + 1, text: groundTruth(n), twin: `png-${n}.png` })) });
  const vector = await vectorPdf(groundTruth('a1'));
  fs.writeFileSync(at('pdf-vector-2.pdf'), vector.bytes);
  fixtures.push({ file: 'pdf-vector-2.pdf', kind: 'PDF vector text, 2 pages', pages: vector.pages.map((text, i) => ({ page: i + 1, text, twin: null })) });

  await grey().webp({ quality: 90 }).toFile(at('webp.webp'));
  one('webp.webp', 'WebP');
  await grey().gif().toFile(at('gif.gif'));
  one('gif.gif', 'GIF');
  await grey().avif({ quality: 80, effort: 0 }).toFile(at('avif.avif'));
  one('avif.avif', 'AVIF');
  fs.writeFileSync(at('bmp.bmp'), bmp24(await grey().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true })));
  one('bmp.bmp', 'BMP 24-bit');
  // Pixels turned a quarter to the left; EXIF orientation 6 says to turn them right to view.
  await grey().rotate(-90).jpeg({ quality: 92 }).withMetadata({ orientation: 6 }).toFile(at('jpeg-exif6.jpg'));
  one('jpeg-exif6.jpg', 'JPEG with EXIF orientation 6');

  fixtures.push(await makeGermanPage(dir));

  const manifest: Manifest = { fixtures, skipped };
  fs.writeFileSync(at('manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** A page of German text (`german.png`): umlauts and ß, which the English model cannot read. */
export async function makeGermanPage(dir: string): Promise<Fixture> {
  const sharp = (await import('sharp')).default;
  const german = await renderTextPage(GERMAN, { width: 1100, height: 1500, px: 24 });
  fs.mkdirSync(dir, { recursive: true });
  await sharp(german.grey, { raw: { width: german.width, height: german.height, channels: 1 } }).png().toFile(path.join(dir, 'german.png'));
  return { file: 'german.png', kind: 'German text', pages: [{ page: 1, text: german.text, twin: null }] };
}

/** A lossless JPEG 2000 of a grey page: the bare codestream, and a JP2 file around it (signature, ftyp, jp2h with ihdr, colr and res). */
async function jpeg2000(png: string): Promise<{ codestream: Buffer; jp2: Buffer }> {
  const sharp = (await import('sharp')).default;
  const { data, info } = await sharp(png).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
  const oj = (await (await import('@cornerstonejs/codec-openjpeg/wasmjs')).default({ print: () => {}, printErr: () => {} })) as {
    J2KEncoder: new () => { getDecodedBuffer(i: object): Uint8Array; setQuality(lossless: boolean, q: number): void; encode(): void; getEncodedBuffer(): Uint8Array };
  };
  const enc = new oj.J2KEncoder();
  enc.getDecodedBuffer({ width: info.width, height: info.height, bitsPerSample: 8, componentCount: 1, isSigned: false, isUsingColorTransform: false }).set(data);
  enc.setQuality(true, 0);
  enc.encode();
  const codestream = Buffer.from(enc.getEncodedBuffer());
  const box = (type: string, body: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, 0].map((_, i) => ((8 + body.length) >>> (24 - 8 * i)) & 0xff)), Buffer.from(type, 'latin1'), body]);
  const ihdr = Buffer.alloc(14);
  ihdr.writeUInt32BE(info.height, 0);
  ihdr.writeUInt32BE(info.width, 4);
  ihdr.writeUInt16BE(1, 8); // components
  ihdr.set([7, 7, 0, 0], 10); // 8 bits unsigned, wavelet compression, colourspace known, no IPR
  const colr = Buffer.from([1, 0, 0, 0, 0, 0, 0, 17]); // enumerated colourspace 17: greyscale
  // Capture resolution 150 dpi = 5906 grid points per metre (N/D × 10^E, vertical then horizontal).
  const resc = Buffer.alloc(10);
  resc.writeUInt16BE(5906, 0);
  resc.writeUInt16BE(1, 2);
  resc.writeUInt16BE(5906, 4);
  resc.writeUInt16BE(1, 6);
  const jp2 = Buffer.concat([
    box('jP  ', Buffer.from([0x0d, 0x0a, 0x87, 0x0a])),
    box('ftyp', Buffer.concat([Buffer.from('jp2 '), Buffer.alloc(4), Buffer.from('jp2 ')])),
    box('jp2h', Buffer.concat([box('ihdr', ihdr), box('colr', colr), box('res ', box('resc', resc))])),
    box('jp2c', codestream),
  ]);
  return { codestream, jp2 };
}

/** Three scanned pages, each one image covering the page at 150 dpi: PNG (Flate), JPEG (DCT), PNG: a damaged JPEG is the usual broken scan. */
async function scannedPdf(): Promise<Uint8Array> {
  const sharp = (await import('sharp')).default;
  const { PDFDocument } = await import('pdf-lib');
  const doc = await PDFDocument.create();
  // Fixed dates and ids: the same bytes every run.
  doc.setCreationDate(new Date(0));
  doc.setModificationDate(new Date(0));
  for (const n of PAGES) {
    const png = fs.readFileSync(samplePng(n));
    const img = n === 'v1' ? await doc.embedJpg(await sharp(png).jpeg({ quality: 92 }).toBuffer()) : await doc.embedPng(png);
    const page = doc.addPage([(1100 * 72) / 150, (1500 * 72) / 150]);
    page.drawImage(img, { x: 0, y: 0, width: page.getWidth(), height: page.getHeight() });
  }
  return doc.save({ useObjectStreams: false });
}

/** The paragraphs of a page as real PDF text (Times-Roman, 12 pt, on letter pages): half on each page. */
async function vectorPdf(text: string): Promise<{ bytes: Uint8Array; pages: string[] }> {
  const { PDFDocument, StandardFonts } = await import('pdf-lib');
  const doc = await PDFDocument.create();
  doc.setCreationDate(new Date(0));
  doc.setModificationDate(new Date(0));
  const font = await doc.embedFont(StandardFonts.TimesRoman);
  const paragraphs = text.split(/\n\s*\n/).map((p) => p.replace(/\s+/g, ' ').trim()).filter(Boolean);
  const half = Math.ceil(paragraphs.length / 2);
  const pages = [paragraphs.slice(0, half), paragraphs.slice(half)];
  for (const paras of pages) {
    const page = doc.addPage([612, 792]);
    let y = 720;
    for (const p of paras) {
      let line = '';
      const flush = () => {
        page.drawText(line, { x: 72, y, size: 12, font });
        y -= 16;
      };
      for (const word of p.split(' ')) {
        const next = line ? `${line} ${word}` : word;
        if (line && font.widthOfTextAtSize(next, 12) > 468) {
          flush();
          line = word;
        } else line = next;
      }
      if (line) flush();
      y -= 10;
    }
  }
  return { bytes: await doc.save({ useObjectStreams: false }), pages: pages.map((p) => p.join('\n\n')) };
}

/** A 24-bit bottom-up BMP (the plainest kind) of RGB pixels. */
function bmp24({ data, info }: { data: Buffer; info: { width: number; height: number } }): Buffer {
  const rowBytes = Math.ceil((info.width * 3) / 4) * 4;
  const header = Buffer.alloc(54);
  header.write('BM', 0, 'latin1');
  header.writeUInt32LE(54 + rowBytes * info.height, 2);
  header.writeUInt32LE(54, 10);
  header.writeUInt32LE(40, 14);
  header.writeInt32LE(info.width, 18);
  header.writeInt32LE(info.height, 22);
  header.writeUInt16LE(1, 26);
  header.writeUInt16LE(24, 28);
  header.writeUInt32LE(rowBytes * info.height, 34);
  const pixels = Buffer.alloc(rowBytes * info.height);
  for (let y = 0; y < info.height; y++) {
    const row = pixels.subarray((info.height - 1 - y) * rowBytes);
    for (let x = 0; x < info.width; x++) {
      const i = (y * info.width + x) * 3;
      row[x * 3] = data[i + 2]!;
      row[x * 3 + 1] = data[i + 1]!;
      row[x * 3 + 2] = data[i]!;
    }
  }
  return Buffer.concat([header, pixels]);
}

/** German text in the style of a 19th-century university calendar (written for this repository). */
export const GERMAN = [
  'Verzeichniß der Vorlesungen, welche auf der Königlichen Universität im Sommerhalbjahre gehalten werden.',
  'Die Übungen über die Grundzüge der Naturlehre hält der ordentliche Professor täglich von zehn bis elf Uhr. Größere Abhandlungen über die Geschichte des deutschen Volkes und über die Verfassung der Städte werden öffentlich vorgetragen.',
  'Mathematik. Die Anfangsgründe der Größenlehre, nach seinem Lehrbuche, fünfmal wöchentlich. Die Lehre von den Kegelschnitten, in Verbindung mit praktischen Übungen, Mittwochs und Sonnabends.',
  'Physik. Über die Wärme, das Licht und die Electricität, mit Versuchen, viermal wöchentlich. Die Grundsätze der Mechanik fester Körper, Dienstags und Freitags.',
  'Philologie. Erklärung der Oden des Horaz; lateinische Stilübungen für die Mitglieder des Seminars. Über die Behandlung griechischer Schriftsteller auf gelehrten Schulen.',
  'Geschichte. Allgemeine Weltgeschichte, von der ältesten Zeit bis auf die Gegenwart, sechsmal wöchentlich. Über die Kunst der Griechen und Römer, Dienstags und Freitags.',
  'Die Bibliothek ist täglich, mit Ausnahme der Sonn- und Festtage, von zwei bis vier Uhr geöffnet. Bücher werden gegen Empfangsschein ausgeliehen; für Beschädigungen haftet der Entleiher.',
];

async function main(): Promise<void> {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: npm run make-fixtures -- <folder>');
    process.exit(2);
  }
  const m = await makeFixtures(path.resolve(dir));
  for (const f of m.fixtures) console.log(`${f.file.padEnd(22)} ${String(fs.statSync(path.join(dir, f.file)).size).padStart(8)} B  ${f.kind}`);
  for (const s of m.skipped) console.log(`skipped: ${s.kind}: ${s.why}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(`make-fixtures: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
