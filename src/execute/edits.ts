// Hand edits are sacred (DESIGN §5): an output that differs from what ocrmake last wrote is a person's
// work. A result that arrives for it (a batch sent before the edit) goes to the result store only; and
// when the person asks for a rebuild anyway (`build --force KEY`), their bytes are copied aside first, to
// `.ocrcache/edits/`, where `explain` lists them.
import fs from 'node:fs';
import path from 'node:path';
import type { TargetKey } from '../types.js';
import { EMPTY_HASH, sha256 } from '../util/hash.js';
import { relPath, writeFileAtomic } from '../util/fs.js';
import type { Project } from './project.js';

export const EDITS_DIR = 'edits';

/** Whether the file now at `key`'s output path is someone's edit: it exists and is not what ocrmake recorded. */
export function isEdited(p: Project, key: TargetKey): boolean {
  const page = p.index.byKey.get(key);
  if (!page) return false;
  const now = p.hashes.hash(page.output);
  if (now.kind !== 'ok' || now.hash === EMPTY_HASH) return false;
  return now.hash !== p.store.targets.get(key)?.outputHash;
}

/** Copies the edited output of `key` aside before a forced rebuild overwrites it; returns where it went. */
export function keepEdit(p: Project, key: TargetKey): string | null {
  const page = p.index.byKey.get(key);
  if (!page) return null;
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(path.join(p.config.root, page.output));
  } catch {
    return null;
  }
  const dir = editsDir(p, key);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = path.join(dir, `${stamp}-${sha256(bytes).slice(0, 12)}${path.extname(page.output)}`);
  writeFileAtomic(path.join(dir, 'key.txt'), `${key}\n${page.output}\n`);
  writeFileAtomic(file, bytes);
  return relPath(p.config.root, file);
}

/** The edits kept for `key`, oldest first, as paths relative to the project root. */
export function editsOf(p: Project, key: TargetKey): string[] {
  const dir = editsDir(p, key);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => n !== 'key.txt' && !n.startsWith('.')).sort().map((n) => relPath(p.config.root, path.join(dir, n)));
}

/** One folder per page, named by a hash of its key (keys may hold any character). */
const editsDir = (p: Project, key: TargetKey): string => path.join(p.cacheDir, EDITS_DIR, sha256(key).slice(0, 16));
