// What a source file is, from its first bytes (never from its name: a scan saved as `.png` that holds TIFF
// data is read as the TIFF it is), and the quick verdicts that need no decoder.

export type SourceFormat = 'png' | 'jpeg' | 'gif' | 'webp' | 'tiff' | 'bmp' | 'jp2' | 'j2k' | 'pdf' | 'avif' | 'heic';

/** Bytes of the head that sniff() looks at. */
export const SNIFF_BYTES = 64;

export function sniff(head: Buffer): SourceFormat | null {
  const hex = head.subarray(0, 12).toString('hex');
  if (hex.startsWith('89504e470d0a1a0a')) return 'png';
  if (hex.startsWith('ffd8ff')) return 'jpeg';
  if (hex.startsWith('47494638')) return 'gif';
  if (hex.startsWith('49492a00') || hex.startsWith('4d4d002a') || hex.startsWith('49492b00') || hex.startsWith('4d4d002b')) return 'tiff';
  if (hex.startsWith('52494646') && head.subarray(8, 12).toString('latin1') === 'WEBP') return 'webp';
  if (hex.startsWith('0000000c6a5020200d0a870a')) return 'jp2';
  if (hex.startsWith('ff4fff51')) return 'j2k';
  if (hex.startsWith('424d')) return 'bmp';
  // `%PDF-` may follow a little junk (some scanners write a header line before it); PDF readers allow 1 KB.
  if (head.subarray(0, SNIFF_BYTES).toString('latin1').includes('%PDF-')) return 'pdf';
  // ISO base media (HEIF family): an `ftyp` box whose brand says which.
  if (head.subarray(4, 8).toString('latin1') === 'ftyp') {
    const brands = head.subarray(8, Math.min(head.length, head.readUInt32BE(0))).toString('latin1');
    if (/avi[fs]/.test(brands)) return 'avif';
    if (/hei[cxms]|hev[cx]|mif1|msf1/.test(brands)) return 'heic';
  }
  return null;
}

/** Formats whose files may hold several pages (each becomes a page of a multi-page pattern). */
export const MULTI_PAGE: ReadonlySet<SourceFormat> = new Set(['tiff', 'pdf']);

export const MIME: Readonly<Record<'png' | 'jpeg' | 'webp', string>> = { png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp' };

export const EXTENSION: Readonly<Record<'png' | 'jpeg' | 'webp', string>> = { png: 'png', jpeg: 'jpg', webp: 'webp' };

/** The formats that can be read, for messages. */
export const READABLE = 'PNG, JPEG, TIFF, JPEG 2000, PDF, WebP, GIF, BMP or AVIF';

/**
 * Why bytes cannot be a page image at all, judged without a decoder, and what to do about it; or null.
 * `what` follows the file's name: "scans/a.png is empty".
 */
export function quickProblem(bytes: Buffer, format: SourceFormat | null): { what: string; fix: string } | null {
  const replace = 'replace the file with a good copy';
  if (bytes.length === 0) return { what: 'is empty', fix: replace };
  if (format === null) return { what: `is not a readable image (not ${READABLE} data)`, fix: replace };
  // A PNG always ends with its IEND chunk: without one the file was cut short (an interrupted copy or download).
  if (format === 'png' && bytes.lastIndexOf(PNG_IEND) < 0) return { what: 'is truncated (the PNG data ends before its IEND chunk)', fix: replace };
  if (format === 'heic') return { what: 'is a HEIC image, which cannot be decoded here (the prebuilt libvips has no HEVC decoder, a patent-encumbered codec)', fix: 'convert it to PNG, JPEG or AVIF' };
  return null;
}

const PNG_IEND = Buffer.from('49454e44ae426082', 'hex');
