// The result store: every validated output ever produced, gzip-compressed and addressed by the fingerprint
// of the request that produced it. A stale target whose fingerprint is here is restored with no call.
import fs from 'node:fs';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Fingerprint } from '../types.js';
import { removeDeadTemps, writeFileAtomic } from '../util/fs.js';

export class ResultStore {
  readonly #dir: string;
  readonly #tmp: string;
  /**
   * The names in each fan-out folder, read once on first use: planning 100,000 stale pages asks `has` for
   * each, and one readdir per folder is far cheaper than a stat per page. Only `has` trusts it (read is
   * always the file system's answer), and this process's own writes and removals keep it current.
   */
  readonly #listed = new Map<string, Set<string>>();

  constructor(cacheDir: string) {
    this.#dir = path.join(cacheDir, 'objects');
    this.#tmp = path.join(cacheDir, 'tmp');
    // A kill -9 mid-write leaves a temp file behind (objects and outputs are staged in tmp/, the state
    // file beside itself); nothing ever reads them, so the next run clears those of dead processes.
    removeDeadTemps(this.#tmp);
    removeDeadTemps(cacheDir);
  }

  #path(fp: Fingerprint): string {
    return path.join(this.#dir, fp.slice(0, 2), `${fp}.json.gz`);
  }

  has(fp: Fingerprint): boolean {
    return this.#names(fp).has(`${fp}.json.gz`);
  }

  #names(fp: Fingerprint): Set<string> {
    const sub = fp.slice(0, 2);
    let names = this.#listed.get(sub);
    if (!names) {
      try {
        names = new Set(fs.readdirSync(path.join(this.#dir, sub)));
      } catch {
        names = new Set();
      }
      this.#listed.set(sub, names);
    }
    return names;
  }

  /** The exact output bytes stored for a fingerprint, or null (absent or unreadable). */
  read(fp: Fingerprint): Buffer | null {
    try {
      return gunzipSync(fs.readFileSync(this.#path(fp)));
    } catch {
      return null;
    }
  }

  /**
   * Stores the result of a request. An object already holding these exact bytes is left alone; one holding
   * other bytes (a `--force` rebuild of a non-deterministic engine, or an unreadable object) is replaced:
   * the output written next must equal its stored result, or a crash before the cache save would make
   * ocrmake's own output look like a person's edit. Flushed with the outputs at the next cache save.
   */
  write(fp: Fingerprint, bytes: Buffer): void {
    if (this.has(fp) && this.read(fp)?.equals(bytes)) return;
    writeFileAtomic(this.#path(fp), gzipSync(bytes), this.#tmp, { group: true });
    this.#names(fp).add(`${fp}.json.gz`);
  }

  /** Every stored fingerprint (for gc). */
  *list(): Generator<Fingerprint> {
    if (!fs.existsSync(this.#dir)) return;
    for (const sub of fs.readdirSync(this.#dir)) {
      for (const f of fs.readdirSync(path.join(this.#dir, sub))) {
        if (f.endsWith('.json.gz')) yield f.slice(0, -'.json.gz'.length) as Fingerprint;
      }
    }
  }

  remove(fp: Fingerprint): void {
    fs.rmSync(this.#path(fp), { force: true });
    this.#listed.get(fp.slice(0, 2))?.delete(`${fp}.json.gz`);
  }
}
