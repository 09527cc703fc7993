// The few bytes of the PNG format the scripts write by hand (render-dataset's pages, bench's tiny images).
import { crc32 } from 'node:zlib';

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** One PNG chunk: length, type, data, CRC-32 of type and data. */
export function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

// 1x1 grayscale, one white pixel (zlib stream of the bytes 00 ff).
const TINY_IHDR = pngChunk('IHDR', Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]));
const TINY_IDAT = pngChunk('IDAT', Buffer.from([0x78, 0x9c, 0x63, 0xf8, 0x0f, 0x00, 0x01, 0x01, 0x01, 0x00]));
const TINY_IEND = pngChunk('IEND', Buffer.alloc(0));

/** A valid ~90-byte PNG whose tEXt chunk makes every page's content (and hash) distinct. */
export function tinyPng(id: string): Buffer {
  return Buffer.concat([PNG_SIGNATURE, TINY_IHDR, pngChunk('tEXt', Buffer.from(`Comment\0${id}`, 'latin1')), TINY_IDAT, TINY_IEND]);
}
