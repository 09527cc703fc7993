// The project lock (`.ocrcache/lock`): one build or watch at a time. The file holds the holder's pid; a
// lock whose process is gone (kill -9, a crash) is taken over.
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
  fs.mkdirSync(cacheDir, { recursive: true });
  const file = path.join(cacheDir, 'lock');
  const me: Holder = { pid: process.pid, command, startedAt: new Date().toISOString() };
  for (let tries = 0; tries < 5; tries++) {
    try {
      const fd = fs.openSync(file, 'wx');
      fs.writeSync(fd, JSON.stringify(me));
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      return {
        release() {
          try {
            const holder = readHolder(file);
            if (holder?.pid === process.pid) fs.rmSync(file, { force: true });
          } catch {
            // Already gone: nothing to release.
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = readHolder(file);
    if (holder && holder.pid !== process.pid && alive(holder.pid)) {
      throw new ExitSignal(
        ExitCode.locked,
        `another ocrmake is running in this project: pid ${holder.pid} (ocrmake ${holder.command}, started ${holder.startedAt}) holds ${path.relative(process.cwd(), file) || file}.\n` +
          `  Wait for it to finish, or stop it (kill ${holder.pid}); a lock left by a process that no longer exists is taken over automatically.`,
      );
    }
    // Stale (dead holder, or unreadable half-written file): move it aside atomically so that only one
    // contender wins the retry.
    try {
      fs.renameSync(file, `${file}.stale-${process.pid}`);
      fs.rmSync(`${file}.stale-${process.pid}`, { force: true });
    } catch {
      // Someone else took it over first; retry.
    }
  }
  throw new ExitSignal(ExitCode.locked, `could not take ${file}; remove it if no ocrmake is running`);
}

function readHolder(file: string): Holder | null {
  try {
    const h = JSON.parse(fs.readFileSync(file, 'utf8')) as Holder;
    return typeof h.pid === 'number' ? h : null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
