// `ocrmake gc [--keep-days N] [--dry-run]`: prunes the result store (.ocrcache/objects/).
//
// Kept, whatever their age: every object a recorded target references (its recorded fingerprint, also for
// pages no longer discovered or filtered out: their outputs may still be restored if the filter comes
// back), and every page's current fingerprint when it differs (what a build would restore now). Kept too:
// anything younger than --keep-days (by file mtime; a packed object's is its pack's), so that reverting a recent prompt edit stays free.
// Kept too: every result a variant area records (`ocrmake try`). The rest is deleted. The command holds the project lock, so no build writes objects meanwhile.
// Prepared images (.ocrcache/prepared/) not used for --keep-days are deleted too: they are remade on need.
import fs from 'node:fs';
import path from 'node:path';
import type { EngineName } from '../../config/define.js';
import { acquireLock } from '../../cache/lock.js';
import { ExitCode } from '../../errors.js';
import { CACHE_DIR } from '../../execute/project.js';
import { runId } from '../../report/run-report.js';
import type { Fingerprint } from '../../types.js';
import { projectRoot } from '../root.js';
import { prunePrepared, type PruneResult } from '../../prepare/prune.js';
import { openQuietly } from '../open.js';
import { variantFingerprints } from '../../variants/area.js';

export interface GcOptions {
  keepDays: number;
  dryRun: boolean;
  json: boolean;
  engine: 'auto' | EngineName | undefined;
  cwd?: string;
}

export interface GcJson {
  dryRun: boolean;
  keepDays: number;
  /** Objects in the store before gc, and their bytes. */
  objects: number;
  bytes: number;
  referenced: number;
  young: number;
  deleted: number;
  bytesFreed: number;
  /** The prepared-image cache: images found, their bytes, and those not used within --keep-days deleted. */
  prepared: PruneResult;
}

export async function gc(o: GcOptions): Promise<number> {
  const started = new Date();
  const root = projectRoot(o.cwd ?? process.cwd());
  const cacheDir = path.join(root, CACHE_DIR);
  const lock = o.dryRun ? null : acquireLock(cacheDir, 'gc');
  try {
    const p = await openQuietly(root, o.engine);
    try {
      const referenced = new Set<Fingerprint>();
      for (const r of p.store.targets.values()) referenced.add(r.fingerprint);
      for (const input of p.fingerprints.inputs.values()) if (input.current) referenced.add(input.current.fingerprint);
      // What variants built (ocrmake try): adopting their settings restores it with no request.
      for (const fp of await variantFingerprints(root)) referenced.add(fp);
      const cutoff = started.getTime() - o.keepDays * 86_400_000;
      const out: GcJson = { dryRun: o.dryRun, keepDays: o.keepDays, objects: 0, bytes: 0, referenced: 0, young: 0, deleted: 0, bytesFreed: 0, prepared: { images: 0, bytes: 0, deleted: 0, bytesFreed: 0 } };
      const doomed: Fingerprint[] = [];
      for (const o of p.objects.objects()) {
        out.objects++;
        out.bytes += o.bytes;
        if (referenced.has(o.fp)) out.referenced++;
        else if (o.mtimeMs > cutoff) out.young++;
        else {
          doomed.push(o.fp);
          out.deleted++;
          out.bytesFreed += o.bytes;
        }
      }
      out.prepared = prunePrepared(cacheDir, cutoff, o.dryRun);
      if (!o.dryRun) {
        p.objects.remove(doomed);
        removeEmptyDirs(path.join(cacheDir, 'objects'));
        p.store.recordRun(runId(started), 'gc', started.toISOString(), new Date().toISOString(), ExitCode.ok, out);
        p.store.save();
      }
      process.stdout.write(o.json ? `${JSON.stringify(out)}\n` : render(out));
      return ExitCode.ok;
    } finally {
      p.store.close();
    }
  } finally {
    lock?.release();
  }
}

function removeEmptyDirs(dir: string): void {
  let subs: string[];
  try {
    subs = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const s of subs) {
    try {
      fs.rmdirSync(path.join(dir, s)); // only succeeds when empty
    } catch {
      // Not empty, or not a folder.
    }
  }
}

function render(g: GcJson): string {
  const verb = g.dryRun ? 'would delete' : 'deleted';
  const lines = [
    `result store: ${g.objects} objects (${bytes(g.bytes)}); kept ${g.referenced} referenced by current pages and ${g.young} younger than ${g.keepDays} days`,
    `${verb} ${g.deleted} unreferenced object${g.deleted === 1 ? '' : 's'}, ${g.dryRun ? 'freeing' : 'freed'} ${bytes(g.bytesFreed)}${g.dryRun ? ' (dry run: nothing was deleted)' : ''}`,
  ];
  const pr = g.prepared;
  if (pr.images > 0) lines.push(`prepared images: ${pr.images} (${bytes(pr.bytes)}); ${verb} ${pr.deleted} not used in ${g.keepDays} days, ${g.dryRun ? 'freeing' : 'freed'} ${bytes(pr.bytesFreed)}`);
  return `${lines.join('\n')}\n`;
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} kB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}
