// Content hashes of files, cached by (size, mtime in ns, inode) as git's index does. A file modified
// within RACY_NS of when it was hashed is re-hashed next time: its mtime alone cannot prove it unchanged.
import fs from 'node:fs';
import path from 'node:path';
import type { StateStore } from '../cache/state.js';
import type { ContentHash } from '../types.js';
import { sha256 } from '../util/hash.js';

export const RACY_NS = 2_000_000_000n;

export type HashResult = { kind: 'ok'; hash: ContentHash } | { kind: 'missing' } | { kind: 'error'; message: string };

export class HashCache {
  readonly #root: string;
  readonly #store: StateStore;
  /** Files hashed (not served from the stat cache) in this process: a measure for tests and bench. */
  hashed = 0;

  constructor(root: string, store: StateStore) {
    this.#root = root;
    this.#store = store;
  }

  /** `rel` is relative to the project root; an absolute path (a file outside the project) is taken as it is. */
  hash(rel: string): HashResult {
    // Concatenation, not path.join: `rel` is already a clean relative path, and join's normalisation
    // shows in profiles at 200,000 files.
    const abs = path.isAbsolute(rel) ? rel : `${this.#root}${path.sep}${rel}`;
    let st: fs.BigIntStats | undefined;
    try {
      // throwIfNoEntry: a missing file (every output before the first build) is the common case, and
      // an exception per file costs ~7 µs more than the stat itself.
      st = fs.statSync(abs, { bigint: true, throwIfNoEntry: false });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR') return { kind: 'missing' };
      return { kind: 'error', message: (err as Error).message };
    }
    if (!st) return { kind: 'missing' };
    if (!st.isFile()) return { kind: 'error', message: `${rel} is not a regular file` };
    const row = this.#store.fileHashes.get(rel);
    if (row && row.size === Number(st.size) && row.mtimeNs === st.mtimeNs && row.ino === st.ino && row.hashedAtNs - row.mtimeNs >= RACY_NS) {
      return { kind: 'ok', hash: row.hash };
    }
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(abs);
    } catch (err) {
      return { kind: 'error', message: (err as Error).message };
    }
    return { kind: 'ok', hash: this.#remember(rel, st, sha256(bytes)) };
  }

  /** Records the hash of bytes we just wrote, without reading them back (`st`: their stat, when the writer had it). */
  wrote(rel: string, hash: ContentHash, st?: fs.BigIntStats): void {
    if (st) {
      this.#remember(rel, st, hash);
      return;
    }
    try {
      this.#remember(rel, fs.statSync(path.join(this.#root, rel), { bigint: true }), hash);
    } catch {
      // Gone already: the next run hashes it again.
    }
  }

  #remember(rel: string, st: fs.BigIntStats, hash: ContentHash): ContentHash {
    this.hashed++;
    const prev = this.#store.fileHashes.get(rel);
    const now = BigInt(Date.now()) * 1_000_000n;
    if (prev && prev.hash === hash && prev.size === Number(st.size) && prev.mtimeNs === st.mtimeNs && prev.ino === st.ino && prev.hashedAtNs - prev.mtimeNs >= RACY_NS) {
      return hash;
    }
    this.#store.setFileHash({ path: rel, size: Number(st.size), mtimeNs: st.mtimeNs, ino: st.ino, hash, hashedAtNs: now });
    return hash;
  }
}
