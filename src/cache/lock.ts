// The project lock: one build or watch at a time. Two lock files hold the holder's identity (pid, process
// start time, command): `.ocrcache/lock`, and an anchor outside the project's cache, in the temp folder,
// named by the project's real path, so that deleting `.ocrcache` (rm -rf while watch runs) does not let a
// second writer in. The holder also re-creates a lock file it finds gone. A lock whose process is gone
// (kill -9, a crash), or whose pid now belongs to another process, is taken over.
//
// A lock file appears complete or not at all (written to a temp file, then hard-linked into place, which
// fails if a lock exists), so an unreadable lock is garbage, never a contender's half-written one.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { ExitCode, ExitSignal } from '../errors.js';
import { fsAdvice } from '../util/fs.js';

export interface Lock {
  release(): void;
}

interface Holder {
  pid: number;
  /** The process's start time (Linux: clock ticks since boot, /proc/<pid>/stat), to tell a reused pid from the holder. */
  start: string | null;
  command: string;
  startedAt: string;
}

/** How often a holder checks that its lock files are still there. */
const VERIFY_MS = 1000;

export function acquireLock(cacheDir: string, command: string): Lock {
  let created: boolean;
  try {
    // A run that stops before it writes anything (a config error, a command run in the wrong folder) leaves
    // no empty cache folder behind.
    created = fs.mkdirSync(cacheDir, { recursive: true }) !== undefined;
    sweep(cacheDir);
  } catch (err) {
    throw lockProblem(err, cacheDir);
  }
  const me: Holder = { pid: process.pid, start: startOf(process.pid), command, startedAt: new Date().toISOString() };
  const mine = JSON.stringify(me);
  const files = [anchorOf(cacheDir), path.join(cacheDir, 'lock')];
  try {
    sweep(path.dirname(files[0]!));
  } catch {
    // No anchor folder yet.
  }
  const taken: string[] = [];
  try {
    // Messages name .ocrcache/lock whichever file found the holder: the anchor is an implementation detail.
    const shown = path.relative(process.cwd(), files[1]!) || files[1]!;
    for (const file of files) {
      take(file, mine, shown);
      taken.push(file);
    }
  } catch (err) {
    for (const file of taken) if (readRaw(file) === mine) fs.rmSync(file, { force: true });
    throw err;
  }
  // While held, put back a lock file that someone deleted (the cache folder removed under a running watch).
  const timer = setInterval(() => {
    for (const file of files) {
      if (readRaw(file) !== null) continue;
      try {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        create(file, mine);
      } catch {
        // Tried again at the next tick.
      }
    }
  }, VERIFY_MS);
  timer.unref();
  return {
    release() {
      clearInterval(timer);
      // Only our own lock: a lock someone took over from us is theirs.
      for (const file of files) if (readRaw(file) === mine) fs.rmSync(file, { force: true });
      if (created) {
        try {
          fs.rmdirSync(cacheDir); // only if still empty
        } catch {
          // Not empty: the run wrote its cache.
        }
      }
    },
  };
}

/** Takes one lock file, taking over a stale one; throws the exit-3 signal when a live process holds it. */
function take(file: string, mine: string, shown: string): void {
  for (let tries = 0; tries < 5; tries++) {
    try {
      if (create(file, mine)) return;
    } catch (err) {
      throw lockProblem(err, file);
    }
    const raw = readRaw(file);
    if (raw === null) continue; // released in the meantime: try again
    const holder = parseHolder(raw);
    if (holder && holder.pid !== process.pid && alive(holder)) {
      throw new ExitSignal(
        ExitCode.locked,
        `another ocrmake is running in this project: pid ${holder.pid} (ocrmake ${holder.command}, started ${holder.startedAt}) holds ${shown}.\n` +
          `  Wait for it to finish, or stop it (kill ${holder.pid}); a lock left by a process that no longer exists is taken over automatically.`,
      );
    }
    takeOver(file, raw);
  }
  throw new ExitSignal(
    ExitCode.locked,
    `could not take the lock ${file}: other ocrmake processes keep taking it.\n  Make sure no other ocrmake runs in this project, delete the file and run again.`,
  );
}

/** The anchor lock of a project: in the temp folder, named by the project's real path. */
function anchorOf(cacheDir: string): string {
  let root = path.dirname(path.resolve(cacheDir));
  try {
    root = fs.realpathSync(root);
  } catch {
    // The real path is only for naming: the resolved one names the same project for this run.
  }
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  return path.join(os.tmpdir(), `ocrmake-${uid}`, 'locks', `${createHash('sha256').update(root).digest('hex').slice(0, 24)}.lock`);
}

function lockProblem(err: unknown, file: string): ExitSignal {
  const code = (err as NodeJS.ErrnoException)?.code;
  return new ExitSignal(ExitCode.failed, `cannot take the project's lock ${file}: ${code ?? (err as Error)?.message}. ${fsAdvice(code, file)}; nothing was built.`);
}

/** Removes the temp files of lock attempts by processes that died in the middle of one (kill -9). */
function sweep(dir: string): void {
  for (const name of fs.readdirSync(dir)) {
    const pid = /^(?:lock|.*\.lock)\.(?:new|stale)-(\d+)$/.exec(name)?.[1];
    if (pid && Number(pid) !== process.pid && !pidExists(Number(pid))) fs.rmSync(path.join(dir, name), { force: true });
  }
}

/** Creates the lock with its full content, atomically; false when a lock exists. */
function create(file: string, content: string): boolean {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.new-${process.pid}`;
  fs.writeFileSync(tmp, content);
  try {
    fs.linkSync(tmp, file);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw err;
    // No hard links on this file system: exclusive create, then write (a tiny window where the file is empty).
    try {
      fs.writeFileSync(file, content, { flag: 'wx' });
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    }
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/**
 * Removes a lock judged stale (its holder is dead, or it is unreadable). Another contender may have taken it
 * over and locked again between our read and the move: what we moved is then checked and put back.
 */
function takeOver(file: string, judged: string): void {
  const aside = `${file}.stale-${process.pid}`;
  try {
    fs.renameSync(file, aside);
  } catch {
    return; // gone already: retry
  }
  if (readRaw(aside) !== judged) {
    try {
      fs.linkSync(aside, file); // a live lock: restore it (fails only if yet another one exists)
    } catch {
      // Nothing better to do: the retry reads whatever lock is there now.
    }
  }
  fs.rmSync(aside, { force: true });
}

function readRaw(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

function parseHolder(raw: string): Holder | null {
  try {
    const h = JSON.parse(raw) as Partial<Holder>;
    if (typeof h.pid !== 'number' || !Number.isInteger(h.pid) || h.pid <= 0) return null;
    return { pid: h.pid, start: typeof h.start === 'string' ? h.start : null, command: String(h.command ?? '?'), startedAt: String(h.startedAt ?? '?') };
  } catch {
    return null;
  }
}

/** A process's start time from /proc (field 22 of stat, after the parenthesised name), or null. */
export function startOf(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether the holder still runs: its pid exists and, where /proc tells, the process there started when the
 * holder did (a pid reused by any other process, even another node, does not count). Without /proc, a pid
 * that exists is trusted.
 */
function alive(h: Holder): boolean {
  if (!pidExists(h.pid)) return false;
  const start = startOf(h.pid);
  if (start !== null && h.start !== null) return start === h.start;
  if (start === null) return true; // no /proc (macOS, Windows): trust the pid
  // A lock from an older ocrmake without a start time: a pid of something that is not node is not ours.
  try {
    return /node|ocrmake/i.test(fs.readFileSync(`/proc/${h.pid}/cmdline`, 'utf8'));
  } catch {
    return true;
  }
}
