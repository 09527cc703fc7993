// A build's entry: the lock, then the no-op proof (proven-noop.ts), and the build itself only when the proof
// cannot settle it. The build's modules (the cache, the planner, the engines: about half of the ones a build
// loads) are imported then, so a proven no-op never loads them.
import path from 'node:path';
import { CACHE_DIR } from '../cache/dir.js';
import { acquireLock } from '../cache/lock.js';
import type { BuildOptions, BuildResult } from './build.js';
import { dropProof } from './noop-proof.js';
import { mayProve, provenNoop } from './proven-noop.js';

export async function runBuild(opts: BuildOptions): Promise<BuildResult> {
  const started = Date.now();
  // The lock comes first: opening the cache may move a corrupt file aside, which only the holder may do.
  const cacheDir = path.join(opts.root, CACHE_DIR);
  const lock = opts.dryRun ? null : acquireLock(cacheDir, 'build');
  try {
    const proving = mayProve(opts);
    if (proving) {
      const quick = await provenNoop(opts, started);
      if (quick) return quick;
      dropProof(cacheDir); // only this build's own proof may stand
    }
    const { buildOnProject } = await import('./build.js');
    return await buildOnProject(opts, started, proving);
  } finally {
    lock?.release();
  }
}
