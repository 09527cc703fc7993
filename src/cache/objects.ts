// The result store: every validated output ever produced, gzip-compressed and addressed by the fingerprint
// of the request that produced it. A stale target whose fingerprint is here is restored with no call.
import fs from 'node:fs';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Fingerprint } from '../types.js';
import { writeFileAtomic } from '../util/fs.js';

export class ResultStore {
  readonly #dir: string;
  readonly #tmp: string;

  constructor(cacheDir: string) {
    this.#dir = path.join(cacheDir, 'objects');
    this.#tmp = path.join(cacheDir, 'tmp');
  }

  #path(fp: Fingerprint): string {
    return path.join(this.#dir, fp.slice(0, 2), `${fp}.json.gz`);
  }

  has(fp: Fingerprint): boolean {
    return fs.existsSync(this.#path(fp));
  }

  /** The exact output bytes stored for a fingerprint, or null (absent or unreadable). */
  read(fp: Fingerprint): Buffer | null {
    try {
      return gunzipSync(fs.readFileSync(this.#path(fp)));
    } catch {
      return null;
    }
  }

  write(fp: Fingerprint, bytes: Buffer): void {
    if (this.has(fp)) return;
    writeFileAtomic(this.#path(fp), gzipSync(bytes), this.#tmp);
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
  }
}
