// A quick look at an image file's bytes before an engine gets them: the common ways a file is not a
// usable page image, caught without decoding.

/**
 * Why bytes cannot be a page image, or null: checked before any engine is given them (a text file named
 * .png, an empty or cut-short file), so a bad file fails alone as an input-error and is never sent or retried.
 */
export function imageProblem(b: Buffer): string | null {
  if (b.length === 0) return 'is empty';
  if (!looksLikeImage(b)) return 'is not a readable image (not PNG, JPEG, GIF, BMP, TIFF or WebP data)';
  // A PNG always ends with its IEND chunk: without one the file was cut short (an interrupted copy or download).
  if (b.subarray(0, 8).equals(PNG_MAGIC) && b.lastIndexOf(PNG_IEND) < 0) return 'is truncated (the PNG data ends before its IEND chunk)';
  // A JPEG ends with its end-of-image marker (some writers add a few bytes after it).
  if (b[0] === 0xff && b[1] === 0xd8 && b.subarray(-4096).lastIndexOf(JPEG_EOI) < 0) return 'is truncated (the JPEG data ends before its end-of-image marker)';
  return null;
}

const PNG_MAGIC = Buffer.from('89504e470d0a1a0a', 'hex');
const PNG_IEND = Buffer.from('49454e44ae426082', 'hex');
const JPEG_EOI = Buffer.from('ffd9', 'hex');

/** Magic numbers of the formats tesseract.js decodes; anything else would only fail deeper and slower. */
function looksLikeImage(b: Buffer): boolean {
  const hex = b.subarray(0, 12).toString('hex');
  return (
    hex.startsWith('89504e470d0a1a0a') || // PNG
    hex.startsWith('ffd8ff') || // JPEG
    hex.startsWith('47494638') || // GIF
    hex.startsWith('424d') || // BMP
    hex.startsWith('49492a00') || hex.startsWith('4d4d002a') || // TIFF
    (hex.startsWith('52494646') && b.subarray(8, 12).toString('latin1') === 'WEBP') ||
    /^P[1-6]\s/.test(b.subarray(0, 3).toString('latin1')) // PNM
  );
}

