// jiti's own file cache keys its entries by a file's absolute path, so the same ocrfile or rule in another
// folder (a copy of the project, each `init`ed collection, every test project) is transpiled again: ~0.3 s of
// babel, loaded for that alone, on a command that otherwise starts in 0.5 s. This transform keys the
// transpiled code by what it is made from (the source, the transform's options, the file's extension and
// jiti's version) and keeps it in the system temp folder, so any copy of a file is transpiled once per machine.
//
// An entry is written to a temp name and renamed into place, so a reader never sees half an entry (commands
// run side by side); a failed transform (a syntax error, reported with the file's own path) is never kept.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { TransformOptions, TransformResult } from 'jiti';

const CACHE = path.join(os.tmpdir(), 'ocrmake-jiti-cache', 'by-content');
const require = createRequire(import.meta.url);

let babel: ((o: TransformOptions) => TransformResult) | null = null;
let version: string | null = null;

/** jiti's babel transform, loaded only on a miss (jiti does not export it; it sits beside its entry point). */
function jitiTransform(o: TransformOptions): TransformResult {
  babel ??= require(path.join(path.dirname(require.resolve('jiti')), '../dist/babel.cjs')) as (o: TransformOptions) => TransformResult;
  return babel(o);
}

function jitiVersion(): string {
  version ??= (JSON.parse(fs.readFileSync(path.join(path.dirname(require.resolve('jiti')), '../package.json'), 'utf8')) as { version: string }).version;
  return version;
}

/** The transform jiti is given: the cached code for this source and these options, else jiti's own (and keep it). */
export function cachedTransform(o: TransformOptions): TransformResult {
  const { source, filename, ...options } = o;
  const key = crypto
    .createHash('sha256')
    .update(JSON.stringify({ jiti: jitiVersion(), ext: path.extname(filename ?? ''), options }))
    .update('\0')
    .update(source)
    .digest('hex');
  const file = path.join(CACHE, `${key}.js`);
  try {
    return { code: fs.readFileSync(file, 'utf8') };
  } catch {
    // Not there yet (or unreadable): transpile.
  }
  const result = jitiTransform(o);
  if (!result.error && !result.code.includes('__JITI_ERROR__')) keep(file, result.code);
  return result;
}

/** Best effort: a full temp folder or a read-only one only costs the next command the transpile again. */
function keep(file: string, code: string): void {
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  try {
    fs.mkdirSync(CACHE, { recursive: true });
    fs.writeFileSync(tmp, code);
    fs.renameSync(tmp, file);
  } catch {
    fs.rmSync(tmp, { force: true });
  }
}
