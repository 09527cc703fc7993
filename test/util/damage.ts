// Damaging one page of a multi-page file, for tests of "a corrupt page fails alone". The rest of the file
// stays intact: the page count is still readable, the other pages still decode.

/**
 * A TIFF whose page `page` (1-based) has its compressed strips overwritten with noise: its header and the
 * other pages are untouched, so only decoding that page fails. Walks the IFD chain (classic TIFF only).
 */
export function damageTiffPage(tiff: Buffer, page: number): Buffer {
  const out = Buffer.from(tiff);
  const le = out.toString('latin1', 0, 2) === 'II';
  const u16 = (at: number) => (le ? out.readUInt16LE(at) : out.readUInt16BE(at));
  const u32 = (at: number) => (le ? out.readUInt32LE(at) : out.readUInt32BE(at));
  let ifd = u32(4);
  for (let n = 1; n < page; n++) ifd = u32(ifd + 2 + u16(ifd) * 12);
  const tags = new Map<number, number[]>();
  for (let i = 0, count = u16(ifd); i < count; i++) {
    const entry = ifd + 2 + i * 12;
    const [tag, type, values] = [u16(entry), u16(entry + 2), u32(entry + 4)];
    const size = type === 3 ? 2 : 4;
    const at = values * size <= 4 ? entry + 8 : u32(entry + 8);
    tags.set(tag, Array.from({ length: values }, (_, k) => (size === 2 ? u16(at + 2 * k) : u32(at + 4 * k))));
  }
  const offsets = tags.get(273), counts = tags.get(279);
  if (!offsets || !counts) throw new Error(`page ${page} has no strips`);
  offsets.forEach((offset, i) => {
    for (let b = 0, x = 97 + i; b < counts[i]!; b++) out[offset + b] = x = (x * 1103515245 + 12345) & 0xff;
  });
  return out;
}

/**
 * A PDF whose `n`th image (1-based, in file order) has the start of its data zeroed: for a JPEG (DCT)
 * image the start-of-image marker is gone, so no decoder can read it; the file's structure is untouched.
 */
export function damagePdfImage(pdf: Buffer, n: number): Buffer {
  const out = Buffer.from(pdf);
  const text = out.toString('latin1');
  let at = -1;
  for (let i = 0; i < n; i++) at = text.indexOf('/Subtype /Image', at + 1);
  if (at < 0) throw new Error(`no image ${n} in the PDF`);
  const stream = text.indexOf('stream', at) + 'stream'.length;
  const data = stream + (text[stream] === '\r' ? 2 : 1);
  out.fill(0, data, data + 64);
  return out;
}
