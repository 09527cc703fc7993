// JPEG 2000 (.jp2 boxes or a raw .j2k codestream) through OpenJPEG compiled to WebAssembly
// (@cornerstonejs/codec-openjpeg, its decode-only wasm build, 5× faster than its asm.js main entry): the
// prebuilt libvips has no JPEG 2000 decoder. The decoder hands back raw samples, which become a sharp image.
// A large image is decoded at a reduced resolution level when that still leaves at least `minLongEdge`
// pixels: JPEG 2000 stores halvings, and decoding one is several times faster than decoding everything and
// throwing most of it away.
import type { PrepareProblem } from './types.js';

export interface Jp2Pixels {
  /** 8-bit samples, interleaved. */
  data: Buffer;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
  /** Full-resolution size (before any reduction) and the capture resolution the header gives, if any. */
  fullWidth: number;
  fullHeight: number;
  density: number | null;
}

interface J2KDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  getDecodedBuffer(): Uint8Array;
  decode(): void;
  decodeSubResolution(level: number, layer: number): void;
  calculateSizeAtDecompositionLevel(level: number): { width: number; height: number };
  getFrameInfo(): { width: number; height: number; bitsPerSample: number; componentCount: number; isSigned: boolean };
  delete?(): void;
}
interface OpenJpeg {
  J2KDecoder: new () => J2KDecoder;
}

/** What the wasm module printed during the current decode: OpenJPEG reports errors there, it does not throw. */
const printed: string[] = [];
let codec: Promise<OpenJpeg> | null = null;

function openjpeg(): Promise<OpenJpeg> {
  codec ??= import('@cornerstonejs/codec-openjpeg/decodewasmjs').then(async (m) => {
    return (await m.default({ print: (s: string) => printed.push(s), printErr: (s: string) => printed.push(s) })) as OpenJpeg;
  });
  return codec;
}

export async function decodeJp2(bytes: Buffer, minLongEdge: number | null): Promise<Jp2Pixels | PrepareProblem> {
  const header = jp2Header(bytes);
  if (!header) return { problem: 'its JPEG 2000 header cannot be read' };
  const oj = await openjpeg();
  // Halvings that keep the long edge at or above what preparation will scale it to anyway.
  let level = 0;
  if (minLongEdge !== null) while (Math.max(header.width, header.height) / 2 ** (level + 1) >= minLongEdge && level < 5) level++;
  for (;; level--) {
    const decoder = new oj.J2KDecoder();
    try {
      printed.length = 0;
      decoder.getEncodedBuffer(bytes.length).set(bytes);
      if (level > 0) decoder.decodeSubResolution(level, 0);
      else decoder.decode();
      const errors = printed.filter((l) => l.includes('[ERROR]')).map((l) => l.replace(/^\[ERROR\]\s*/, '').trim());
      const info = decoder.getFrameInfo();
      if (errors.length > 0 || info.width === 0 || info.height === 0) {
        // A level the codestream does not have: try a smaller reduction before blaming the file.
        if (level > 0) continue;
        return { problem: errors[0] ?? 'the codestream holds no image' };
      }
      const samples = decoder.getDecodedBuffer();
      const { width, height } = level > 0 ? decoder.calculateSizeAtDecompositionLevel(level) : info;
      const channels = info.componentCount;
      if (channels < 1 || channels > 4) return { problem: `it has ${channels} colour components (1 to 4 are supported)` };
      return { data: to8bit(samples, info.bitsPerSample, info.isSigned, width * height * channels), width, height, channels: channels as Jp2Pixels['channels'], fullWidth: header.width, fullHeight: header.height, density: header.density };
    } catch (err) {
      if (level > 0) continue;
      return { problem: String((err as Error)?.message ?? err) };
    } finally {
      decoder.delete?.();
    }
  }
}

/** Copies the decoder's samples (they live in wasm memory) as 8-bit values. */
function to8bit(samples: Uint8Array, bits: number, signed: boolean, count: number): Buffer {
  const out = Buffer.alloc(count);
  if (bits <= 8) {
    const shift = 8 - bits;
    for (let i = 0; i < count; i++) out[i] = ((signed ? (samples[i]! ^ 0x80) & 0xff : samples[i]!) << shift) & 0xff;
    return out;
  }
  const view = new DataView(samples.buffer, samples.byteOffset, samples.byteLength);
  const shift = bits - 8;
  for (let i = 0; i < count; i++) {
    let v = signed ? view.getInt16(i * 2, true) + (1 << (bits - 1)) : view.getUint16(i * 2, true);
    v >>= shift;
    out[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
  return out;
}

/**
 * Size and capture resolution from the header: the `ihdr` and `res ` boxes of a JP2 file, or the SIZ marker
 * of a raw codestream. No samples are decoded.
 */
export function jp2Header(b: Buffer): { width: number; height: number; density: number | null } | null {
  if (b.length >= 16 && b.readUInt32BE(0) === 0xff4fff51) return siz(b, 0);
  let density: number | null = null;
  let size: { width: number; height: number } | null = null;
  const walk = (from: number, to: number): void => {
    for (let at = from; at + 8 <= to; ) {
      let len = b.readUInt32BE(at);
      const type = b.toString('latin1', at + 4, at + 8);
      let head = 8;
      if (len === 1 && at + 16 <= to) {
        len = Number(b.readBigUInt64BE(at + 8));
        head = 16;
      } else if (len === 0) len = to - at;
      if (len < head || at + len > to) return;
      const body = at + head;
      if (type === 'jp2h' || type === 'res ') walk(body, at + len);
      else if (type === 'ihdr' && len >= head + 8) size = { height: b.readUInt32BE(body), width: b.readUInt32BE(body + 4) };
      else if ((type === 'resc' || (type === 'resd' && density === null)) && len >= head + 10) density = resolution(b, body);
      else if (type === 'jp2c' && !size) {
        const s = siz(b, body);
        if (s) size = { width: s.width, height: s.height };
      }
      at += len;
    }
  };
  walk(0, b.length);
  const found = size as { width: number; height: number } | null;
  return found ? { ...found, density } : null;
}

function siz(b: Buffer, at: number): { width: number; height: number; density: null } | null {
  if (at + 24 > b.length || b.readUInt32BE(at) !== 0xff4fff51) return null;
  // SIZ: Lsiz(2) Rsiz(2) Xsiz(4) Ysiz(4) XOsiz(4) YOsiz(4) ...
  const xsiz = b.readUInt32BE(at + 8), ysiz = b.readUInt32BE(at + 12), xo = b.readUInt32BE(at + 16), yo = b.readUInt32BE(at + 20);
  return xsiz > xo && ysiz > yo ? { width: xsiz - xo, height: ysiz - yo, density: null } : null;
}

/** A resolution box: vertical grid points per metre as N/D × 10^E (the horizontal one is usually equal). */
function resolution(b: Buffer, at: number): number | null {
  const n = b.readUInt16BE(at), d = b.readUInt16BE(at + 2), e = b.readInt8(at + 8);
  if (d === 0) return null;
  return (n / d) * 10 ** e * 0.0254;
}
