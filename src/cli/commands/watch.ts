import type { EngineName } from '../../config/define.js';
import { createReporter } from '../../report/reporter.js';
import { Watcher } from '../../watch/watcher.js';
import { projectRoot } from '../root.js';

export interface WatchCommandOptions {
  engine: 'auto' | EngineName | undefined;
  json: boolean;
  quiet: boolean;
  pollSeconds?: number | undefined;
  debounceMs: number;
  cwd?: string;
}

export async function watch(o: WatchCommandOptions): Promise<number> {
  const root = projectRoot(o.cwd ?? process.cwd());
  // Plain lines even on a terminal: a progress bar per build would scroll the log away.
  const reporter = await createReporter({ json: o.json, quiet: o.quiet, tty: false, out: process.stdout, err: process.stderr });
  const controller = new AbortController();
  const stop = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write(`\nocrmake watch: ${signal}: saving the cache and stopping (batches in flight are picked up by the next build or watch)\n`);
    controller.abort();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    const builds = await new Watcher({
      root,
      ...(o.engine ? { engine: o.engine } : {}),
      ...(o.pollSeconds ? { pollSeconds: o.pollSeconds } : {}),
      debounceMs: o.debounceMs,
      emit: (e) => reporter.emit(e),
      signal: controller.signal,
    }).run();
    reporter.emit({ event: 'watch', state: 'watching', message: `stopped after ${builds} build(s)` });
    return 0;
  } finally {
    reporter.close();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
