// Atomic file writes: temp file, fsync, rename. A reader (or a crash) sees either the old bytes or the new
// ones, never a half-written file. Temp files are named `.<name>.tmp-<pid>-<n>`, so the ones a killed
// process left behind can be told from those of a live one and swept.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

let counter = 0;

/**
 * Whether writes are flushed to the disk before they are renamed into place. Always on in ocrmake: a
 * `kill -9` needs only the rename, but a power cut without the fsync can leave a renamed file empty,
 * which would then look like a person's edit. The bench turns it off for the in-process build that
 * populates its throwaway collection (2 fsyncs per page dominate that step); nothing else may.
 */
export const durability = { fsync: true };

const TEMP = /^\..+\.tmp-(\d+)-\d+$/;

/**
 * A failed atomic write, saying which side failed: `temp` (writing the temp file, in `tmpDir` when given)
 * or `target` (putting it in place: the target's folder, or the target itself). Callers that keep temps
 * elsewhere than their targets (outputs staged in the cache) tell a cache problem from an output problem by it.
 */
export class WriteError extends Error {
  constructor(
    readonly step: 'temp' | 'target',
    readonly file: string,
    override readonly cause: NodeJS.ErrnoException,
  ) {
    super(`cannot write ${file}: ${cause.code ?? cause.message}`);
    this.name = 'WriteError';
  }

  get code(): string | undefined {
    return this.cause.code;
  }
}

/**
 * Group commit (DESIGN §16): files written with `group: true` are renamed into place at once, unflushed, and
 * made durable together at the next sync point, which the cache's save calls before it makes its records
 * durable. A kill -9 needs no flush (the renamed file is in the page cache, whole); a power cut needs the
 * data on disk before a record vouches for it, and the sync point keeps that order: objects and outputs,
 * then the journal. The sync point is one syncfs(2) per file system (coreutils `sync -f`): measured on
 * ext4, 2,000 small files take 40 ms that way and 1.2 s as one fsync each (each fsync flushes the disk's
 * cache again). Groups under SYNCFS_FROM files, and systems where `sync -f` is missing or fails, fsync
 * each file.
 */
const unsynced = new Set<string>();
let syncfsWorks: boolean | null = null;
const SYNCFS_FROM = 64;

/** Flushes every file written with `group: true` since the last sync point. */
export function syncGroup(): void {
  if (!durability.fsync || unsynced.size === 0) {
    if (!durability.fsync) unsynced.clear();
    return;
  }
  // A few files are flushed one by one: syncfs flushes everything dirty on the file system, other programs'
  // writes included, which on a busy disk costs more than a handful of fsyncs.
  if (syncfsWorks !== false && unsynced.size >= SYNCFS_FROM) {
    // One path per file system is enough for syncfs.
    const byDevice = new Map<number, string>();
    for (const file of unsynced) {
      try {
        const dev = fs.statSync(file).dev;
        if (!byDevice.has(dev)) byDevice.set(dev, file);
      } catch {
        // Removed since: nothing to flush.
      }
    }
    const r = spawnSync('sync', ['-f', ...byDevice.values()], { stdio: 'ignore' });
    syncfsWorks = !r.error && r.status === 0;
    if (syncfsWorks) {
      unsynced.clear();
      return;
    }
  }
  for (const file of unsynced) {
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch (err) {
      // Removed since, or its folder replaced by a file: nothing to flush.
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        unsynced.delete(file);
        continue;
      }
      throw err;
    }
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    unsynced.delete(file);
  }
}

/** Flushes `file` (written in place, e.g. appended to) at the next sync point, with the group. */
export function groupSync(file: string): void {
  unsynced.add(file);
}

export interface WriteOptions {
  /** Flush at the next sync point (syncGroup) instead of before the rename. */
  group?: boolean;
  /** Given the file's stat as written (the same inode, size and mtime after the rename): no stat after. */
  onStat?: (st: fs.BigIntStats) => void;
}

export function writeFileAtomic(file: string, data: string | Uint8Array, tmpDir?: string, o: WriteOptions = {}): void {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const flush = !o.group;
  const tmp = step('temp', tmpDir ?? path.dirname(file), () => writeTemp(tmpDir ?? path.dirname(file), file, bytes, flush, o.onStat));
  try {
    renameInto(tmp, file);
    // Only a file that is in place waits for the sync point: one that failed (a file in the way of its
    // folder) is reported by the caller, and must not fail the cache's next save.
    if (o.group) unsynced.add(file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    // A temp folder on another file system than the target (e.g. the outputs on a mounted disk, the cache
    // in the project): rename cannot cross devices, so write the temp beside the target instead.
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV' || !tmpDir) throw new WriteError('target', file, err as NodeJS.ErrnoException);
    const beside = step('target', file, () => writeTemp(path.dirname(file), file, bytes, flush, o.onStat));
    try {
      renameInto(beside, file);
    } catch (err2) {
      fs.rmSync(beside, { force: true });
      throw new WriteError('target', file, err2 as NodeJS.ErrnoException);
    }
    if (o.group) unsynced.add(file);
  }
}

function step<T>(which: 'temp' | 'target', file: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new WriteError(which, file, err as NodeJS.ErrnoException);
  }
}

/** What an errno means for the person who has to fix it. */
export function fsAdvice(code: string | undefined, file: string): string {
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return `ocrmake may not write there: fix the permissions (ls -ld "${path.dirname(file)}"), or remove an immutable flag (lsattr)`;
    case 'EROFS':
      return 'the file system is mounted read-only: remount it writable, or move the project';
    case 'ENOSPC':
      return 'the disk is full: free some space';
    case 'EDQUOT':
      return 'your disk quota is used up: free some space';
    case 'EISDIR':
    case 'ENOTEMPTY':
    case 'EEXIST':
      return 'a folder is in the way of the file: move or rename it';
    case 'ENOTDIR':
      return 'a file is in the way of a folder on this path: move or rename it';
    default:
      return 'check that the folder exists and can be written';
  }
}

// Folders are created only when a write finds one missing: a mkdir per file costs as much as the write
// itself (100,000 outputs are 200,000 needless system calls), and it is almost always there already.

function renameInto(tmp: string, file: string): void {
  try {
    fs.renameSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.renameSync(tmp, file);
  }
}

function writeTemp(dir: string, file: string, bytes: Uint8Array, flush: boolean, onStat?: (st: fs.BigIntStats) => void): string {
  const tmp = path.join(dir, `.${path.basename(file)}.tmp-${process.pid}-${++counter}`);
  let fd: number;
  try {
    fd = fs.openSync(tmp, 'w');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    fs.mkdirSync(dir, { recursive: true });
    fd = fs.openSync(tmp, 'w');
  }
  try {
    // writeSync may write less than asked (a full disk): loop, so that the error surfaces here instead
    // of a truncated file being renamed over a good one.
    for (let done = 0; done < bytes.length; ) done += fs.writeSync(fd, bytes, done, bytes.length - done);
    if (flush && durability.fsync) fs.fsyncSync(fd);
    if (onStat) onStat(fs.fstatSync(fd, { bigint: true }));
  } catch (err) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fs.closeSync(fd);
  return tmp;
}

/** A path for a working file in `dir` that removeDeadTemps sweeps once its process is gone (kill -9). */
export function tempPath(dir: string, name: string): string {
  return path.join(dir, `.${name}.tmp-${process.pid}-${++counter}`);
}

/**
 * Removes the temp files that processes which no longer exist left in `dir` (a `kill -9` between write
 * and rename). Temp files of live processes are theirs and stay. Returns how many were removed.
 */
export function removeDeadTemps(dir: string): number {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const pid = TEMP.exec(name)?.[1];
    if (pid === undefined || Number(pid) === process.pid || alive(Number(pid))) continue;
    fs.rmSync(path.join(dir, name), { force: true });
    removed++;
  }
  return removed;
}

/** True when a process with this pid exists (EPERM: it exists but belongs to someone else). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function exists(file: string): boolean {
  return fs.existsSync(file);
}

/** Path relative to root with forward slashes (what users see and what selectors compare). */
export function relPath(root: string, file: string): string {
  return path.relative(root, file).split(path.sep).join('/');
}
