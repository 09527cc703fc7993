// Appends result objects to this process's pack file (packs.ts has the format). A record is written with
// one write(2) into the open file: once it returns, the record survives a kill -9 (it is in the page cache),
// which is all the order of DESIGN §6 needs before the output is written; the pack is flushed to the disk
// at the cache's next sync point (syncGroup), before the records that vouch for it, as the outputs are.
import fs from 'node:fs';
import path from 'node:path';
import { groupSync, writeFileAtomic } from '../util/fs.js';
import type { Fingerprint } from '../types.js';
import { crashPoint } from './crash-points.js';
import { encodeIndex, encodeRecord, indexOf, packName, type PackEntry, type PackedAt } from './packs.js';

/** A pack is closed (indexed) and a new one started past this size. */
const PACK_MAX_BYTES = 64 * 1024 * 1024;

let seq = 0;

export class PackWriter {
  readonly #dir: string;
  #fd: number | null = null;
  #name = '';
  #size = 0;
  #entries: PackEntry[] = [];

  constructor(dir: string) {
    this.#dir = dir;
  }

  /** Appends one object's payload; returns where it is. */
  append(fp: Fingerprint, payload: Buffer): PackedAt {
    if (this.#fd === null || this.#size >= PACK_MAX_BYTES) this.#open();
    const { bytes, headerLength } = encodeRecord(fp, payload);
    const file = path.join(this.#dir, this.#name);
    if (crashPoint('pack-append')) {
      fs.writeSync(this.#fd!, bytes, 0, bytes.length >> 1, this.#size);
      crashPoint.die();
    }
    try {
      // writeSync may write less than asked (a full disk): loop, so the error surfaces here.
      for (let done = 0; done < bytes.length; ) done += fs.writeSync(this.#fd!, bytes, done, bytes.length - done, this.#size + done);
    } catch (err) {
      // Whatever part of the record reached the file fails its checksum and ends the pack for readers;
      // later records go to a new pack rather than after it.
      this.#close(false);
      throw err;
    }
    groupSync(file);
    const at = { pack: this.#name, offset: this.#size + headerLength, length: payload.length };
    this.#entries.push({ fp, offset: at.offset, length: at.length });
    this.#size += bytes.length;
    return at;
  }

  #open(): void {
    this.seal();
    fs.mkdirSync(this.#dir, { recursive: true });
    this.#name = packName(++seq);
    this.#fd = fs.openSync(path.join(this.#dir, this.#name), 'wx');
    this.#size = 0;
    this.#entries = [];
    open.add(this);
  }

  /** Writes the pack's index and closes it; the next append starts a new pack. */
  seal(): void {
    this.#close(true);
  }

  #close(index: boolean): void {
    if (this.#fd === null) return;
    const file = path.join(this.#dir, this.#name);
    try {
      fs.closeSync(this.#fd);
    } catch {
      // Closed already: nothing to lose, the records are written.
    }
    this.#fd = null;
    open.delete(this);
    if (!index || this.#entries.length === 0) return;
    try {
      // A checkpoint only (readers rebuild it from the pack): flushed with the next group, if any.
      writeFileAtomic(indexOf(file), encodeIndex(this.#size, this.#entries), undefined, { group: true });
    } catch {
      // The next reader scans the pack instead.
    }
  }
}

/** Writers with an open pack: indexed when the process exits normally (a kill leaves them to readers). */
const open = new Set<PackWriter>();
process.on('exit', () => {
  for (const w of [...open]) w.seal();
});
