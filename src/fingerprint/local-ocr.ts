// Which tesseract model files the local engine uses for the configured languages, and their identity for
// the fingerprint. A language is looked up, in order:
//   1. `local.langPath` (a folder of `<lang>.traineddata` or `<lang>.traineddata.gz`), when set;
//   2. the npm package `@tesseract.js-data/<lang>` (eng, fra, osd exist), its `4.0.0_best_int` model;
//   3. `$TESSDATA_PREFIX`, then the system tessdata folders Debian's `tesseract-ocr-<lang>` packages fill.
// The identity of a packaged model is its package and version; of a file found in a folder, its content
// hash (stat-cached, so checking it costs a stat): replacing a model re-plans every page, moving it does not.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { ResolvedConfig } from '../config/resolved.js';
import { usageError } from '../errors.js';
import type { ContentHash } from '../types.js';
import { relPath } from '../util/fs.js';

export interface TessLanguage {
  readonly code: string;
  /** Absolute path of the model file. */
  readonly file: string;
  readonly gzip: boolean;
  /** What the fingerprint records: `npm:@tesseract.js-data/eng@1.0.0/4.0.0_best_int` or `sha256:<hex>`. */
  readonly identity: string;
}

export interface LocalOcrSetup {
  readonly languages: readonly TessLanguage[];
  readonly psm: number;
  readonly dpi: 'auto' | number;
}

/** The npm models ship two variants; `best_int` reads as well as the legacy one at a third of the size. */
export const NPM_MODEL = '4.0.0_best_int';

/** Where Debian (and most Linux distributions) install tesseract's language files. */
export const SYSTEM_TESSDATA = ['/usr/share/tesseract-ocr/5/tessdata', '/usr/share/tesseract-ocr/4.00/tessdata', '/usr/share/tessdata', '/usr/local/share/tessdata'];

/** Resolves every language or throws a usage error naming the ones not found and where they were looked for. */
export function resolveLocalOcr(config: ResolvedConfig, hashFile: (abs: string) => ContentHash | null): LocalOcrSetup {
  const local = config.local;
  const folders = [...(local.langPath ? [local.langPath] : []), ...(process.env['TESSDATA_PREFIX'] ? [process.env['TESSDATA_PREFIX']] : []), ...SYSTEM_TESSDATA];
  const languages: TessLanguage[] = [];
  const missing: string[] = [];
  for (const code of local.languages) {
    const found = (local.langPath ? inFolder(local.langPath, code, hashFile) : null) ?? fromNpm(code) ?? firstInFolders(folders.slice(local.langPath ? 1 : 0), code, hashFile);
    if (found) languages.push(found);
    else missing.push(code);
  }
  if (missing.length > 0) {
    const rel = relPath(config.root, config.file);
    const looked = [...(local.langPath ? [relPath(config.root, local.langPath)] : []), ...missing.map((c) => `@tesseract.js-data/${c}`), ...folders.slice(local.langPath ? 1 : 0)];
    throw usageError([{
      reason: 'config-invalid',
      file: rel,
      at: 'local.languages',
      message: `no tesseract model for ${missing.map((m) => `"${m}"`).join(', ')} (looked in ${[...new Set(looked)].join(', ')})`,
      hint: `Install Debian's ${missing.map((m) => `tesseract-ocr-${m}`).join(' ')}, or put ${missing.map((m) => `${m}.traineddata`).join(', ')} in a folder and set local.langPath to it.`,
    }]);
  }
  return { languages, psm: local.psm, dpi: local.dpi };
}

function inFolder(folder: string, code: string, hashFile: (abs: string) => ContentHash | null): TessLanguage | null {
  for (const gzip of [false, true]) {
    const file = path.join(folder, `${code}.traineddata${gzip ? '.gz' : ''}`);
    if (!isFile(file)) continue;
    const hash = hashFile(file);
    if (hash) return { code, file, gzip, identity: `sha256:${hash}` };
  }
  return null;
}

function firstInFolders(folders: readonly string[], code: string, hashFile: (abs: string) => ContentHash | null): TessLanguage | null {
  for (const folder of folders) {
    const found = inFolder(folder, code, hashFile);
    if (found) return found;
  }
  return null;
}

function fromNpm(code: string): TessLanguage | null {
  const req = createRequire(import.meta.url);
  let pkgJson: string;
  try {
    pkgJson = req.resolve(`@tesseract.js-data/${code}/package.json`);
  } catch {
    return null;
  }
  const file = path.join(path.dirname(pkgJson), NPM_MODEL, `${code}.traineddata.gz`);
  if (!isFile(file)) return null;
  const version = (JSON.parse(fs.readFileSync(pkgJson, 'utf8')) as { version?: string }).version ?? '?';
  return { code, file, gzip: true, identity: `npm:@tesseract.js-data/${code}@${version}/${NPM_MODEL}` };
}

function isFile(file: string): boolean {
  return fs.statSync(file, { throwIfNoEntry: false })?.isFile() ?? false;
}
