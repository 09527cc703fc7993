// Atomic file writes: temp file in the same directory tree, fsync, rename. A reader (or a crash) sees
// either the old bytes or the new ones, never a half-written file.
import fs from 'node:fs';
import path from 'node:path';

let counter = 0;

export function writeFileAtomic(file: string, data: string | Uint8Array, tmpDir?: string): void {
  const dir = tmpDir ?? path.dirname(file);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  if (tmpDir) fs.mkdirSync(tmpDir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.tmp-${process.pid}-${++counter}`);
  const fd = fs.openSync(tmp, 'w');
  try {
    if (typeof data === 'string') fs.writeSync(fd, data);
    else fs.writeSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

export function exists(file: string): boolean {
  return fs.existsSync(file);
}

/** Path relative to root with forward slashes (what users see and what selectors compare). */
export function relPath(root: string, file: string): string {
  return path.relative(root, file).split(path.sep).join('/');
}
