// Pruning the prepared-image cache (.ocrcache/prepared/): an image is only needed again if its page is sent
// again with the same preparation, so one unused for a while can go; it is remade (decoded again) if needed.
// A prepared image's mtime is renewed each time it is used (preparer.ts), so age means "not used since".
import fs from 'node:fs';
import path from 'node:path';

export interface PruneResult {
  /** Prepared images (and their records) found, their bytes, and what was (or would be) deleted. */
  images: number;
  bytes: number;
  deleted: number;
  bytesFreed: number;
}

export function prunePrepared(cacheDir: string, cutoffMs: number, dryRun: boolean): PruneResult {
  const dir = path.join(cacheDir, 'prepared');
  const out: PruneResult = { images: 0, bytes: 0, deleted: 0, bytesFreed: 0 };
  let subs: string[];
  try {
    subs = fs.readdirSync(dir);
  } catch {
    return out;
  }
  for (const sub of subs) {
    let names: string[];
    try {
      names = fs.readdirSync(path.join(dir, sub));
    } catch {
      continue;
    }
    // Each prepared image is a record (<key>.json) and, unless the source is sent as it is, its bytes.
    for (const meta of names.filter((n) => n.endsWith('.json'))) {
      const key = meta.slice(0, -'.json'.length);
      const files = names.filter((n) => n.startsWith(`${key}.`)).map((n) => path.join(dir, sub, n));
      const stats = files.map((f) => fs.statSync(f, { throwIfNoEntry: false })).filter((s): s is fs.Stats => !!s);
      const size = stats.reduce((n, s) => n + s.size, 0);
      out.images++;
      out.bytes += size;
      if (Math.max(...stats.map((s) => s.mtimeMs)) > cutoffMs) continue;
      out.deleted++;
      out.bytesFreed += size;
      // The record first: an image without its record is never used (and is swept next time).
      if (!dryRun) for (const f of [...files.filter((f) => f.endsWith('.json')), ...files.filter((f) => !f.endsWith('.json'))]) fs.rmSync(f, { force: true });
    }
    if (!dryRun) {
      try {
        fs.rmdirSync(path.join(dir, sub)); // only when empty
      } catch {
        // Still in use.
      }
    }
  }
  return out;
}
