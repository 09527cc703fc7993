import type { EngineName } from '../../config/define.js';
import { abortOnSignals } from '../interrupt.js';
import { ExitCode, ExitSignal } from '../../errors.js';
import { createReporter } from '../../report/reporter.js';
import { createRunReporter } from '../../report/run-report.js';
import { createTracer, ocrfileProject } from '../../report/braintrust.js';
import { Watcher } from '../../watch/watcher.js';
import { projectRoot } from '../root.js';
import { redacting } from '../../util/secrets.js';

export interface WatchCommandOptions {
  engine: 'auto' | EngineName | undefined;
  json: boolean;
  quiet: boolean;
  pollSeconds?: number | undefined;
  debounceMs: number;
  cwd?: string;
}

export async function watch(o: WatchCommandOptions): Promise<number> {
  // yargs lets NaN and negative numbers through; a NaN debounce would make every change a build at once.
  if (!(o.debounceMs >= 0)) throw new ExitSignal(ExitCode.usage, '--debounce must be a number of milliseconds, 0 or more.\n  Run ocrmake watch --help for its options.');
  if (o.pollSeconds !== undefined && !(o.pollSeconds > 0)) throw new ExitSignal(ExitCode.usage, '--poll-seconds must be a number above 0.\n  Run ocrmake watch --help for its options.');
  const root = projectRoot(o.cwd ?? process.cwd());
  // Plain lines even on a terminal: a progress bar per build would scroll the log away.
  const reporter = await createReporter({ json: o.json, quiet: o.quiet, tty: false, out: process.stdout, err: process.stderr });
  // One run report (.ocrcache/runs/) per build cycle, from the same events.
  const runReport = createRunReporter({ root, command: 'watch', err: process.stderr });
  // Braintrust: one span per request; spans are flushed after each build and at the end.
  const tracer = await createTracer({
    root,
    holdSummary: false,
    configProject: () => ocrfileProject(root),
    downstream: (e) => {
      reporter.emit(e);
      runReport.emit(e);
    },
  });
  const controller = new AbortController();
  const unlisten = abortOnSignals(controller, (signal) => `ocrmake watch: ${signal}: saving the cache and stopping (batches in flight are picked up by the next build or watch)`);
  try {
    const builds = await new Watcher({
      root,
      ...(o.engine ? { engine: o.engine } : {}),
      ...(o.pollSeconds ? { pollSeconds: o.pollSeconds } : {}),
      debounceMs: o.debounceMs,
      emit: redacting(tracer.emit),
      signal: controller.signal,
    }).run();
    reporter.emit({ event: 'watch', state: 'watching', message: `stopped after ${builds} build(s)` });
    return 0;
  } finally {
    await tracer.close();
    runReport.close();
    reporter.close();
    unlisten();
  }
}
