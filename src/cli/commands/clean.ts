import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline/promises';
import { acquireLock } from '../../cache/lock.js';
import { StateStore } from '../../cache/state.js';
import { ExitCode, ExitSignal } from '../../errors.js';
import { CACHE_DIR } from '../../execute/project.js';
import { sha256 } from '../../util/hash.js';
import { projectRoot } from '../root.js';

export interface CleanOptions {
  outputs: boolean;
  cache: boolean;
  yes: boolean;
  cwd?: string;
}

export async function clean(o: CleanOptions): Promise<number> {
  const root = projectRoot(o.cwd ?? process.cwd());
  const both = !o.outputs && !o.cache;
  const doOutputs = both || o.outputs, doCache = both || o.cache;
  const cacheDir = path.join(root, CACHE_DIR);
  if (!fs.existsSync(cacheDir)) {
    process.stdout.write('nothing to clean: there is no .ocrcache/ here\n');
    return 0;
  }
  const lock = acquireLock(cacheDir, 'clean');
  let removeCacheDir = false;
  try {
    const { store, movedAside } = await StateStore.open(cacheDir);
    if (movedAside) {
      process.stderr.write(`warning: ${CACHE_DIR}/state.sqlite is damaged and was moved to ${path.relative(root, movedAside)}: no output is known to be ocrmake's, so none will be deleted\n`);
    }
    // Only outputs whose bytes are still exactly what ocrmake wrote: edited outputs are a person's work.
    const ours: string[] = [];
    let edited = 0;
    for (const r of store.targets.values()) {
      const file = path.join(root, r.output);
      if (!fs.existsSync(file)) continue;
      if (sha256(fs.readFileSync(file)) === r.outputHash) ours.push(file);
      else edited++;
    }
    // Batches a build left running (killed, interrupted): their results are paid for and only the cache knows them.
    const running = doCache ? Number(store.query("SELECT COUNT(*) AS n FROM batches WHERE state IN ('submitting', 'active')")[0]?.['n'] ?? 0) : 0;
    store.close();
    if (!doCache && ours.length === 0) {
      process.stdout.write(`nothing to delete: no output is as ocrmake wrote it${edited ? ` (${edited} edited outputs are kept)` : ''}\n`);
      return 0;
    }
    if (running > 0) {
      process.stderr.write(
        `warning: ${running} batch${running === 1 ? ' is' : 'es are'} still running; deleting the cache forgets ${running === 1 ? 'it' : 'them'}, and ${running === 1 ? 'its' : 'their'} results (already paid for) would never be collected.\n` +
          '  Run ocrmake build first to collect them, unless you mean to drop them.\n',
      );
    }
    const what = [doOutputs ? `${ours.length} outputs` : '', doCache ? `${CACHE_DIR}/ (state, result store and run reports)` : ''].filter(Boolean).join(' and ');
    if (!o.yes) {
      if (!process.stdin.isTTY) throw new ExitSignal(ExitCode.usage, `clean would delete ${what}; pass --yes to confirm (no terminal to ask on).`);
      const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
      const answer = await rl.question(`Delete ${what}? [y/N] `);
      rl.close();
      if (!/^y(es)?$/i.test(answer.trim())) {
        process.stdout.write('nothing deleted\n');
        return 0;
      }
    }
    if (doOutputs) for (const f of ours) fs.rmSync(f, { force: true });
    if (doCache) {
      for (const entry of fs.readdirSync(cacheDir)) if (entry !== 'lock') fs.rmSync(path.join(cacheDir, entry), { recursive: true, force: true });
      removeCacheDir = true;
    }
    process.stdout.write(`deleted ${what}${doOutputs && edited ? `; kept ${edited} edited outputs` : ''}\n`);
    // What the next build will do with what is left.
    if (doOutputs && !doCache && ours.length > 0) process.stdout.write('  The result store keeps them: the next build restores them with no request.\n');
    if (doCache && !doOutputs && ours.length + edited > 0) {
      process.stdout.write('  The outputs stay but are no longer recorded: they show as edited until ocrmake adopt records them as fresh (or build --force rebuilds them).\n');
    }
    return 0;
  } finally {
    lock.release();
    // Only if nothing new appeared since the lock was released (another ocrmake may hold a new lock there).
    if (removeCacheDir) {
      try {
        fs.rmdirSync(cacheDir);
      } catch {
        // Not empty: someone else's now.
      }
    }
  }
}
