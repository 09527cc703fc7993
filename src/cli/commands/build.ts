import type { EngineName } from '../../config/define.js';
import { runBuild } from '../../execute/build.js';
import { createReporter } from '../../report/reporter.js';
import { projectRoot } from '../root.js';

export interface BuildCommandOptions {
  selectors: string[];
  dryRun: boolean;
  force: boolean;
  engine: 'auto' | EngineName | undefined;
  json: boolean;
  quiet: boolean;
  pollSeconds?: number | undefined;
  cwd?: string;
}

export async function build(o: BuildCommandOptions): Promise<number> {
  const cwd = o.cwd ?? process.cwd();
  const reporter = await createReporter({ json: o.json, quiet: o.quiet, tty: Boolean(process.stderr.isTTY), out: process.stdout, err: process.stderr });
  const controller = new AbortController();
  // First SIGINT/SIGTERM: stop submitting, save the cache, release the lock. A second one exits at once.
  const stop = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write(`\nocrmake: ${signal}: stopping after the work in progress; press Ctrl-C again to quit now\n`);
    controller.abort();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    const { exitCode } = await runBuild({
      root: projectRoot(cwd),
      cwd,
      selectors: o.selectors,
      dryRun: o.dryRun,
      force: o.force,
      ...(o.engine ? { engine: o.engine } : {}),
      ...(o.pollSeconds !== undefined ? { pollSeconds: o.pollSeconds } : {}),
      emit: (e) => reporter.emit(e),
      signal: controller.signal,
    });
    return exitCode;
  } finally {
    reporter.close();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
