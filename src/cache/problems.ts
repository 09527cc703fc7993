// A cache that cannot be written (read-only folder, immutable file, full disk) stops the build: without a
// saved cache nothing can be promised. The message names the path and what to do, and says what the next
// build will find: the last saved state, intact, and every result received so far.
import path from 'node:path';
import { ExitCode, ExitSignal } from '../errors.js';
import { fsAdvice, WriteError } from '../util/fs.js';

export function cacheProblem(err: unknown, root: string, what: string): ExitSignal {
  const e = err instanceof WriteError ? err : null;
  const code = e?.code ?? (err as NodeJS.ErrnoException)?.code;
  const file = e?.file ?? (err as NodeJS.ErrnoException)?.path ?? '.ocrcache';
  const shown = path.isAbsolute(file) ? path.relative(root, file) || file : file;
  return new ExitSignal(
    ExitCode.failed,
    `cannot write the cache (${what}): ${shown}: ${code ?? (err as Error)?.message ?? String(err)}. ${capitalise(fsAdvice(code, file))}, then build again.\n` +
      '  The cache keeps its last saved state, and results already received are not lost: the next build finds them.',
  );
}

const capitalise = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** Whether an error is the file system refusing a write (not a bug). */
export function isFsRefusal(err: unknown): boolean {
  if (err instanceof WriteError) return true;
  const code = (err as NodeJS.ErrnoException)?.code;
  return typeof code === 'string' && ['EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'EDQUOT', 'EISDIR', 'ENOTDIR', 'ENOTEMPTY', 'EEXIST', 'EIO'].includes(code);
}
