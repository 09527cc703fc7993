// The project lock (`.ocrcache/lock`): one build or watch at a time. The file holds the holder's pid; a
// lock whose process is gone (kill -9, a crash) is taken over.
//
// The lock file appears complete or not at all (written to a temp file, then hard-linked into place, which
// fails if a lock exists), so an unreadable lock is garbage, never a contender's half-written one.
import fs from 'node:fs';
import path from 'node:path';
import { ExitCode, ExitSignal } from '../errors.js';

export interface Lock {
  release(): void;
}

interface Holder {
  pid: number;
  command: string;
  startedAt: string;
}

export function acquireLock(cacheDir: string, command: string): Lock {
  // A run that stops before it writes anything (a config error, a command run in the wrong folder) leaves
  // no empty cache folder behind.
  const created = fs.mkdirSync(cacheDir, { recursive: true }) !== undefined;
  const file = path.join(cacheDir, 'lock');
  sweep(cacheDir);
  const me: Holder = { pid: process.pid, command, startedAt: new Date().toISOString() };
  const mine = JSON.stringify(me);
  for (let tries = 0; tries < 5; tries++) {
    if (create(file, mine)) {
      return {
        release() {
          // Only our own lock: a lock someone took over from us is theirs.
          if (readRaw(file) === mine) fs.rmSync(file, { force: true });
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
    const raw = readRaw(file);
    if (raw === null) continue; // released in the meantime: try again
    const holder = parseHolder(raw);
    if (holder && holder.pid !== process.pid && alive(holder.pid)) {
      const shown = path.relative(process.cwd(), file) || file;
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

/** Removes the temp files of lock attempts by processes that died in the middle of one (kill -9). */
function sweep(cacheDir: string): void {
  for (const name of fs.readdirSync(cacheDir)) {
    const pid = /^lock\.(?:new|stale)-(\d+)$/.exec(name)?.[1];
    if (pid && Number(pid) !== process.pid && !alive(Number(pid))) fs.rmSync(path.join(cacheDir, name), { force: true });
  }
}

/** Creates the lock with its full content, atomically; false when a lock exists. */
function create(file: string, content: string): boolean {
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
    return typeof h.pid === 'number' && Number.isInteger(h.pid) && h.pid > 0 ? { pid: h.pid, command: String(h.command ?? '?'), startedAt: String(h.startedAt ?? '?') } : null;
  } catch {
    return null;
  }
}

/** Whether the holder still runs. On Linux a pid reused by some other program does not count. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  let cmdline: string;
  try {
    cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return true; // no /proc (macOS, Windows) or not ours to read: trust the pid
  }
  return /node|ocrmake/i.test(cmdline);
}
