// Pack files of the result store (DESIGN §7, §16): many result objects appended to one file, so that
// ingesting a batch costs one write per result into an open file instead of a file created and renamed per
// result. A pack is the truth; its index file (`.idx` beside it) is only a checkpoint that lets a reader
// skip scanning it, and is rebuilt from the pack whenever it is missing, damaged or behind.
//
//   record: "OCRO" | u8 n | fingerprint (n ASCII bytes) | u32 payload length | u32 crc32(payload) | payload
//   payload: the gzip bytes a loose object file holds (objects/<2 hex>/<fp>.json.gz)
//   index:  "OCRIDX1\n" | u32 covered pack bytes | u32 count | count × (u8 n | fp | u32 offset | u32 length) | u32 crc32
//
// A process appends only to packs it created (the name carries its pid), so a reader needs no lock: a record
// cut short by a kill (a length past the end, a checksum that fails) ends the pack's valid part, and the
// dead writer never appends after it. Later records of a fingerprint win over earlier ones, and later
// packs (names sort by creation time) over earlier packs: a `--force` rebuild's new answer replaces the old.
import fs from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import type { Fingerprint } from '../types.js';
import { alive, writeFileAtomic } from '../util/fs.js';

const RECORD_MAGIC = Buffer.from('OCRO', 'latin1');
const INDEX_MAGIC = Buffer.from('OCRIDX1\n', 'latin1');
export const PACK_EXT = '.pack';
export const INDEX_EXT = '.idx';

/** Where one stored object's payload is. */
export interface PackedAt {
  pack: string;
  offset: number;
  length: number;
}

export interface PackEntry {
  fp: Fingerprint;
  /** Offset of the payload (after the record header) and its length. */
  offset: number;
  length: number;
}

/** The bytes of one record (header and payload). */
export function encodeRecord(fp: Fingerprint, payload: Uint8Array): { bytes: Buffer; headerLength: number } {
  const name = Buffer.from(fp, 'latin1');
  if (name.length > 255) throw new Error(`a fingerprint of ${name.length} characters cannot be packed`);
  const header = Buffer.alloc(4 + 1 + name.length + 8);
  RECORD_MAGIC.copy(header, 0);
  header[4] = name.length;
  name.copy(header, 5);
  header.writeUInt32LE(payload.length, 5 + name.length);
  header.writeUInt32LE(crc32(payload), 9 + name.length);
  return { bytes: Buffer.concat([header, payload]), headerLength: header.length };
}

/**
 * The valid records of `bytes` (a pack's contents from `base` on), in order, and where the valid part ends:
 * the first record that is cut short or fails its checksum ends it.
 */
export function scanRecords(bytes: Buffer, base: number): { entries: PackEntry[]; end: number } {
  const entries: PackEntry[] = [];
  let at = 0;
  for (;;) {
    if (at + 5 > bytes.length || !bytes.subarray(at, at + 4).equals(RECORD_MAGIC)) break;
    const n = bytes[at + 4]!;
    const head = 5 + n + 8;
    if (at + head > bytes.length) break;
    const length = bytes.readUInt32LE(at + 5 + n);
    const sum = bytes.readUInt32LE(at + 9 + n);
    if (at + head + length > bytes.length || crc32(bytes.subarray(at + head, at + head + length)) !== sum) break;
    entries.push({ fp: bytes.toString('latin1', at + 5, at + 5 + n) as Fingerprint, offset: base + at + head, length });
    at += head + length;
  }
  return { entries, end: base + at };
}

export function encodeIndex(covered: number, entries: readonly PackEntry[]): Buffer {
  const parts: Buffer[] = [INDEX_MAGIC, u32(covered), u32(entries.length)];
  for (const e of entries) {
    const name = Buffer.from(e.fp, 'latin1');
    parts.push(Buffer.from([name.length]), name, u32(e.offset), u32(e.length));
  }
  const body = Buffer.concat(parts);
  return Buffer.concat([body, u32(crc32(body))]);
}

/** An index file's entries and the pack bytes they cover, or null when it is not a sound index. */
export function decodeIndex(b: Buffer): { covered: number; entries: PackEntry[] } | null {
  if (b.length < INDEX_MAGIC.length + 12 || !b.subarray(0, INDEX_MAGIC.length).equals(INDEX_MAGIC)) return null;
  if (crc32(b.subarray(0, b.length - 4)) !== b.readUInt32LE(b.length - 4)) return null;
  let at = INDEX_MAGIC.length;
  const covered = b.readUInt32LE(at);
  const count = b.readUInt32LE(at + 4);
  at += 8;
  const entries: PackEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (at + 1 > b.length - 4) return null;
    const n = b[at]!;
    if (at + 1 + n + 8 > b.length - 4) return null;
    entries.push({ fp: b.toString('latin1', at + 1, at + 1 + n) as Fingerprint, offset: b.readUInt32LE(at + 1 + n), length: b.readUInt32LE(at + 5 + n) });
    at += 1 + n + 8;
  }
  return { covered, entries };
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

/** A pack's name: creation time first (so names sort by age), then the writer's pid and a counter. */
export function packName(seq: number): string {
  return `${String(Date.now()).padStart(13, '0')}-${process.pid}-${seq}${PACK_EXT}`;
}

/** The index file of a pack file. */
export function indexOf(packFile: string): string {
  return `${packFile.slice(0, -PACK_EXT.length)}${INDEX_EXT}`;
}

/** The pid of the process that writes (or wrote) a pack, from its name. */
export function writerOf(name: string): number | null {
  const m = /^\d+-(\d+)-\d+\.pack$/.exec(name);
  return m ? Number(m[1]) : null;
}

/**
 * Reads a pack's entries: its index where sound, then a scan of what the pack holds past it. When the
 * writer is gone and the index did not cover the whole pack, a new index is written (a checkpoint for
 * the next reader; nothing depends on it).
 */
export function loadPack(dir: string, name: string): { entries: PackEntry[]; size: number; mtimeMs: number } {
  const file = path.join(dir, name);
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    return { entries: [], size: 0, mtimeMs: 0 };
  }
  let index: ReturnType<typeof decodeIndex> = null;
  try {
    index = decodeIndex(fs.readFileSync(indexOf(file)));
  } catch {
    index = null;
  }
  // An index that claims more than the pack holds (the pack lost its tail in a power cut) is not trusted.
  if (index && index.covered > st.size) index = null;
  const entries = index ? index.entries : [];
  const from = index ? index.covered : 0;
  if (st.size > from) {
    const fd = fs.openSync(file, 'r');
    try {
      const tail = Buffer.alloc(st.size - from);
      let got = 0;
      while (got < tail.length) {
        const n = fs.readSync(fd, tail, got, tail.length - got, from + got);
        if (n === 0) break;
        got += n;
      }
      const scanned = scanRecords(tail.subarray(0, got), from);
      entries.push(...scanned.entries);
      const writer = writerOf(name);
      if (writer !== null && writer !== process.pid && !alive(writer) && scanned.end > from) {
        try {
          writeFileAtomic(indexOf(file), encodeIndex(scanned.end, entries), undefined, { group: true });
        } catch {
          // A read-only cache: the next reader scans again.
        }
      }
    } finally {
      fs.closeSync(fd);
    }
  }
  return { entries, size: st.size, mtimeMs: st.mtimeMs };
}

/** True when a pack's index covers all of it: its writer closed it, and nothing more is appended. */
export function isSealed(dir: string, name: string): boolean {
  const file = path.join(dir, name);
  try {
    return decodeIndex(fs.readFileSync(indexOf(file)))?.covered === fs.statSync(file).size;
  } catch {
    return false;
  }
}

/** The payload at `at`, or null when it cannot be read or fails its checksum. */
export function readPayload(dir: string, at: PackedAt): Buffer | null {
  let fd: number;
  try {
    fd = fs.openSync(path.join(dir, at.pack), 'r');
  } catch {
    return null;
  }
  try {
    // The checksum sits just before the payload in the record header.
    const b = Buffer.alloc(at.length + 4);
    const n = fs.readSync(fd, b, 0, b.length, at.offset - 4);
    if (n !== b.length) return null;
    const payload = b.subarray(4);
    return crc32(payload) === b.readUInt32LE(0) ? payload : null;
  } catch {
    return null;
  } finally {
    fs.closeSync(fd);
  }
}
