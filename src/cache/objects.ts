// The result store: every validated output ever produced, gzip-compressed and addressed by the fingerprint
// of the request that produced it. A stale target whose fingerprint is here is restored with no call.
//
// New results are appended to pack files (`packs/`, see packs.ts): one open file per process, one write per
// result, flushed with the outputs at the cache's next sync point (group commit). Objects stored one file
// each (`objects/<2 hex>/<fp>.json.gz`, what ocrmake wrote before packs) are still read, and a packed
// object of the same fingerprint is newer, so it wins.
import fs from 'node:fs';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Fingerprint } from '../types.js';
import { alive, removeDeadTemps, syncGroup } from '../util/fs.js';
import { INDEX_EXT, indexOf, isSealed, loadPack, PACK_EXT, readPayload, writerOf, type PackedAt } from './packs.js';
import { PackWriter } from './pack-writer.js';

/** One stored object, as gc sees it. */
export interface StoredObject {
  fp: Fingerprint;
  /** Its compressed size. */
  bytes: number;
  /** When it was written (a packed object: when its pack was last written). */
  mtimeMs: number;
}

/**
 * A smaller hash table than zlib's default (memLevel 8): setting it up is most of what gzip costs on an
 * object of a few KiB (measured: 21 µs against 46 µs on a 1.8 KB page), and such objects compress about as
 * well (~1 % larger: the window, which decides most of it, is the default 32 KiB). Any gunzip reads it.
 */
const GZIP = { memLevel: 4 } as const;

export class ResultStore {
  readonly #dir: string;
  readonly #packs: string;
  readonly #tmp: string;
  /**
   * The names in each loose fan-out folder, read once on first use: planning 100,000 stale pages asks `has`
   * for each, and one readdir per folder is far cheaper than a stat per page.
   */
  readonly #listed = new Map<string, Set<string>>();
  readonly #writer: PackWriter;
  #packed: PackIndex | null = null;

  constructor(cacheDir: string) {
    this.#dir = path.join(cacheDir, 'objects');
    this.#packs = path.join(cacheDir, 'packs');
    this.#tmp = path.join(cacheDir, 'tmp');
    // A kill -9 mid-write leaves a temp file behind (outputs are staged in tmp/, the state file and pack
    // indexes beside themselves); nothing ever reads them, so the next run clears those of dead processes.
    removeDeadTemps(this.#tmp);
    removeDeadTemps(cacheDir);
    removeDeadTemps(this.#packs);
    this.#writer = new PackWriter(this.#packs);
  }

  /** Where each packed object is: the packs are listed and read on first use. */
  #index(): PackIndex {
    this.#packed ??= new PackIndex(this.#packs);
    this.#packed.refresh(false);
    return this.#packed;
  }

  #loosePath(fp: Fingerprint): string {
    return path.join(this.#dir, fp.slice(0, 2), `${fp}.json.gz`);
  }

  has(fp: Fingerprint): boolean {
    return this.#index().at.has(fp) || this.#names(fp).has(`${fp}.json.gz`);
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
    const index = this.#index();
    let at = index.at.get(fp);
    // Another process may have packed it since this one looked (a new pack file changes the folder).
    if (!at && index.refresh(true)) at = index.at.get(fp);
    if (at) {
      const payload = readPayload(this.#packs, at);
      if (payload) {
        try {
          return gunzipSync(payload);
        } catch {
          // Damaged: fall back to a loose copy, if any.
        }
      }
    }
    // Loose objects are no longer written (only packs are), so their folder listing is final: a first build
    // asks for 100,000 results that are not there, and a failed open each would cost more than the listing.
    if (!this.#names(fp).has(`${fp}.json.gz`)) return null;
    try {
      return gunzipSync(fs.readFileSync(this.#loosePath(fp)));
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
    const at = this.#writer.append(fp, gzipSync(bytes, GZIP));
    this.#index().set(fp, at, Date.now());
  }

  /** Every stored fingerprint. */
  *list(): Generator<Fingerprint> {
    for (const o of this.objects()) yield o.fp;
  }

  /** Every stored object with its size and age (for gc). */
  *objects(): Generator<StoredObject> {
    const index = this.#index();
    for (const [fp, at] of index.at) yield { fp, bytes: at.length, mtimeMs: index.mtimeOf(at.pack) };
    let subs: string[];
    try {
      subs = fs.readdirSync(this.#dir);
    } catch {
      return;
    }
    for (const sub of subs) {
      let names: string[];
      try {
        names = fs.readdirSync(path.join(this.#dir, sub));
      } catch {
        continue;
      }
      for (const f of names) {
        if (!f.endsWith('.json.gz')) continue;
        const fp = f.slice(0, -'.json.gz'.length) as Fingerprint;
        if (index.at.has(fp)) continue; // a packed copy is newer
        try {
          const st = fs.statSync(path.join(this.#dir, sub, f));
          yield { fp, bytes: st.size, mtimeMs: st.mtimeMs };
        } catch {
          // Gone meanwhile.
        }
      }
    }
  }

  /**
   * Deletes objects (gc). A pack holding any of them is rewritten: its other live objects are copied into a
   * new pack, made durable, and only then is the old pack deleted; a kill in between leaves both copies of
   * the same bytes, and the newer pack wins.
   */
  remove(fps: Iterable<Fingerprint>): void {
    const doomed = new Set(fps);
    const index = this.#index();
    this.#writer.seal();
    const touched = new Set<string>();
    for (const fp of doomed) {
      fs.rmSync(this.#loosePath(fp), { force: true });
      this.#listed.get(fp.slice(0, 2))?.delete(`${fp}.json.gz`);
      const at = index.at.get(fp);
      if (at) touched.add(at.pack);
    }
    if (touched.size === 0) return;
    // A pack another live process may still append to is left whole (gc holds the lock, so none should).
    for (const pack of touched) {
      const writer = writerOf(pack);
      if (writer !== null && writer !== process.pid && alive(writer) && !isSealed(this.#packs, pack)) touched.delete(pack);
    }
    const moved: [Fingerprint, PackedAt][] = [];
    for (const [fp, at] of index.at) {
      if (!touched.has(at.pack) || doomed.has(fp)) continue;
      const payload = readPayload(this.#packs, at);
      if (payload) moved.push([fp, this.#writer.append(fp, payload)]);
    }
    this.#writer.seal();
    syncGroup();
    index.forget(touched);
    for (const [fp, at] of moved) index.set(fp, at, Date.now());
    for (const pack of touched) {
      fs.rmSync(indexOf(path.join(this.#packs, pack)), { force: true });
      fs.rmSync(path.join(this.#packs, pack), { force: true });
    }
    // An index a reader wrote for a pack deleted meanwhile (readers take no lock) indexes nothing: removed.
    const names = new Set(fs.readdirSync(this.#packs));
    for (const name of names) {
      if (name.endsWith(INDEX_EXT) && !names.has(`${name.slice(0, -INDEX_EXT.length)}${PACK_EXT}`)) fs.rmSync(path.join(this.#packs, name), { force: true });
    }
  }

  /** Writes the current pack's index (a checkpoint for readers); the next write starts a new pack. */
  close(): void {
    this.#writer.seal();
  }
}

/** The packed objects of one cache, as this process knows them. */
class PackIndex {
  readonly at = new Map<Fingerprint, PackedAt>();
  readonly #dir: string;
  readonly #seen = new Set<string>();
  readonly #mtimes = new Map<string, number>();
  /** The folder's mtime when last listed (null: never). */
  #listedAt: bigint | null = null;

  constructor(dir: string) {
    this.#dir = dir;
  }

  /**
   * Loads packs not seen yet. `ifChanged`: only when the folder changed since it was last listed (a
   * stat), the cheap test a miss makes; otherwise only on first use.
   */
  refresh(ifChanged: boolean): boolean {
    if (this.#listedAt !== null && !ifChanged) return false;
    let mtime: bigint;
    try {
      mtime = fs.statSync(this.#dir, { bigint: true, throwIfNoEntry: false })?.mtimeNs ?? -1n;
    } catch {
      mtime = -1n;
    }
    if (mtime === this.#listedAt) return false;
    this.#listedAt = mtime;
    if (mtime === -1n) return false;
    const all = new Set(fs.readdirSync(this.#dir).filter((n) => n.endsWith(PACK_EXT)));
    // Packs gc rewrote (in another process) are gone: so are their copies.
    this.forget(new Set([...this.#seen].filter((name) => !all.has(name))));
    const names = [...all].filter((n) => !this.#seen.has(n)).sort();
    for (const name of names) {
      this.#seen.add(name);
      const loaded = loadPack(this.#dir, name);
      this.#mtimes.set(name, loaded.mtimeMs);
      for (const e of loaded.entries) this.#place(e.fp, { pack: name, offset: e.offset, length: e.length });
    }
    return names.length > 0;
  }

  /** Keeps the newer of two copies: a later pack, or later in the same pack. */
  #place(fp: Fingerprint, at: PackedAt): void {
    const had = this.at.get(fp);
    if (had && (had.pack > at.pack || (had.pack === at.pack && had.offset > at.offset))) return;
    this.at.set(fp, at);
  }

  set(fp: Fingerprint, at: PackedAt, mtimeMs: number): void {
    this.#seen.add(at.pack);
    this.#mtimes.set(at.pack, mtimeMs);
    this.at.set(fp, at);
  }

  mtimeOf(pack: string): number {
    return this.#mtimes.get(pack) ?? 0;
  }

  /** Drops the packs (deleted) and every copy they held, in one pass. */
  forget(packs: ReadonlySet<string>): void {
    if (packs.size === 0) return;
    for (const pack of packs) {
      this.#seen.delete(pack);
      this.#mtimes.delete(pack);
    }
    for (const [fp, at] of this.at) if (packs.has(at.pack)) this.at.delete(fp);
  }
}
