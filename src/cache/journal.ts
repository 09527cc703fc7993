// The change journal beside the state snapshot (DESIGN §16): what each save changed, appended as one
// checksummed frame and fsynced, so a save costs what changed instead of a whole-database export. The
// snapshot is rewritten ("folded") only now and then; on open the frames written since are replayed.
//
// File layout: frames, each `u32 LE length, u32 LE crc32(payload), payload` (UTF-8 JSON). The first frame
// is the header `{generation, schema}`: the generation names the snapshot the journal continues (the
// snapshot keeps the same id in its `meta` table), so a journal left behind by a fold that died between
// renaming the new snapshot in and resetting the journal is recognised as already folded, never replayed
// twice. A frame cut short by a kill (or failing its checksum) ends the journal: it and anything after it
// were never acknowledged, and the next append overwrites them.
import fs from 'node:fs';
import { crc32 } from 'node:zlib';
import { durability, writeFileAtomic } from '../util/fs.js';
import { crashPoint } from './crash-points.js';

export const JOURNAL_FILE = 'state.journal';

export interface JournalHeader {
  /** The id of the snapshot this journal continues (meta `journal_generation`). */
  generation: string;
  /** The schema version the journal's statements were written against. */
  schema: number;
}

/** One change: a numbered statement of the store (see state.ts) or SQL text, then its parameters. */
export type Op = [statement: number | string, ...params: (string | number | null)[]];

export interface JournalContents {
  header: JournalHeader | null;
  /** Each save's changes, in order. */
  frames: Op[][];
  /** Bytes up to the end of the last sound frame: where the next append goes. */
  goodBytes: number;
  /** Bytes after that (a torn or damaged tail), ignored. */
  tornBytes: number;
}

const HEAD = 8;

/** Reads a journal; a missing file reads as an empty one with no header. */
export function readJournal(file: string): JournalContents {
  let b: Buffer;
  try {
    b = fs.readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { header: null, frames: [], goodBytes: 0, tornBytes: 0 };
    throw err;
  }
  const payloads: Buffer[] = [];
  let at = 0;
  while (at + HEAD <= b.length) {
    const len = b.readUInt32LE(at);
    const end = at + HEAD + len;
    // No frame is empty (a run of zeros would otherwise pass: the CRC-32 of nothing is 0).
    if (len === 0 || end > b.length) break;
    const payload = b.subarray(at + HEAD, end);
    if (crc32(payload) !== b.readUInt32LE(at + 4)) break;
    payloads.push(payload);
    at = end;
  }
  let header: JournalHeader | null = null;
  const frames: Op[][] = [];
  try {
    const h = payloads[0] ? JSON.parse(payloads[0].toString('utf8')) : null;
    if (h && typeof h.generation === 'string' && Number.isInteger(h.schema)) header = { generation: h.generation, schema: h.schema };
    for (const p of payloads.slice(1)) frames.push(JSON.parse(p.toString('utf8')) as Op[]);
  } catch {
    // A frame that passes its checksum but is not JSON was not written by ocrmake: trust nothing in the file.
    return { header: null, frames: [], goodBytes: 0, tornBytes: b.length };
  }
  return { header, frames, goodBytes: header ? at : 0, tornBytes: b.length - (header ? at : 0) };
}

function frame(payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(HEAD + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out.writeUInt32LE(crc32(payload), 4);
  payload.copy(out, HEAD);
  return out;
}

/** Appends frames to the journal of this process's store (only a lock holder writes). */
export class JournalWriter {
  readonly #file: string;
  #fd: number | null = null;
  /** Where the next frame goes (the end of the last sound frame). */
  #size: number;

  /** The header this writer continues (null: none yet; the first write must be a reset). */
  #header: JournalHeader | null;

  constructor(file: string, goodBytes: number, header: JournalHeader | null) {
    this.#file = file;
    this.#size = goodBytes;
    this.#header = header;
  }

  get size(): number {
    return this.#size;
  }

  /** Writes one save's changes and makes them durable before returning. */
  append(ops: readonly Op[]): void {
    const bytes = frame(Buffer.from(JSON.stringify(ops), 'utf8'));
    if (this.#fd === null) {
      // The journal must still be the one this store read: another store of this process (watch reopens
      // the project) may have folded it since. Then appending here would continue the wrong snapshot.
      const onDisk = readJournal(this.#file);
      if (!this.#header || onDisk.header?.generation !== this.#header.generation || onDisk.goodBytes !== this.#size) throw new JournalMovedOn(this.#file);
      this.#fd = fs.openSync(this.#file, 'r+');
      // A torn tail left by a killed writer is cut off, so that the new frame follows a sound one.
      if (fs.fstatSync(this.#fd).size !== this.#size) fs.ftruncateSync(this.#fd, this.#size);
    }
    const fd = this.#fd;
    if (crashPoint('journal-append')) {
      // The test hook: half a frame reaches the file, then the process dies (a torn tail).
      fs.writeSync(fd, bytes, 0, bytes.length >> 1, this.#size);
      fs.fsyncSync(fd);
      crashPoint.die();
    }
    for (let done = 0; done < bytes.length; ) done += fs.writeSync(fd, bytes, done, bytes.length - done, this.#size + done);
    if (durability.fsync) fs.fdatasyncSync(fd);
    this.#size += bytes.length;
  }

  /** Starts an empty journal continuing the snapshot `header.generation` (atomically: header only). */
  reset(header: JournalHeader): void {
    this.close();
    const bytes = frame(Buffer.from(JSON.stringify(header), 'utf8'));
    writeFileAtomic(this.#file, bytes);
    this.#size = bytes.length;
    this.#header = header;
  }

  close(): void {
    if (this.#fd !== null) fs.closeSync(this.#fd);
    this.#fd = null;
  }
}

/** The journal on disk is no longer the one this store continues: the store must fold instead of appending. */
export class JournalMovedOn extends Error {
  constructor(file: string) {
    super(`${file} was folded by another store since this one opened`);
  }
}
