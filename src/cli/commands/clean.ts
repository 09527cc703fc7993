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
    const { store } = await StateStore.open(cacheDir);
    // Only outputs whose bytes are still exactly what ocrmake wrote: edited outputs are a person's work.
    const ours: string[] = [];
    let edited = 0;
    for (const r of store.targets.values()) {
      const file = path.join(root, r.output);
      if (!fs.existsSync(file)) continue;
      if (sha256(fs.readFileSync(file)) === r.outputHash) ours.push(file);
      else edited++;
    }
    store.close();
    const what = [doOutputs ? `${ours.length} outputs` : '', doCache ? `${CACHE_DIR}/ (state and result store)` : ''].filter(Boolean).join(' and ');
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
    return 0;
  } finally {
    lock.release();
    if (removeCacheDir) fs.rmSync(cacheDir, { recursive: true, force: true });
  }
}
