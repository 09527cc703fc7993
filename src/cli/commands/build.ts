import type { EngineName } from '../../config/define.js';
import { abortOnSignals } from '../interrupt.js';
import { runBuild } from '../../execute/run-build.js';
import { createReporter } from '../../report/reporter.js';
import { createRunReporter } from '../../report/run-report.js';
import { createTracer, ocrfileProject } from '../../report/braintrust.js';
import type { Emit } from '../../events.js';
import { projectRoot } from '../root.js';
import { redacting } from '../../util/secrets.js';

export interface BuildCommandOptions {
  selectors: string[];
  dryRun: boolean;
  force: boolean;
  engine: 'auto' | EngineName | undefined;
  json: boolean;
  quiet: boolean;
  pollSeconds?: number | undefined;
  /** USD: refuse to start when the estimate is above it. */
  maxCost?: number | undefined;
  /** A duration from the start or a date and time (overrides the ocrfile's context.deadline). */
  deadline?: string | undefined;
  cwd?: string;
}

export async function build(o: BuildCommandOptions): Promise<number> {
  const cwd = o.cwd ?? process.cwd();
  const root = projectRoot(cwd);
  const reporter = await createReporter({ json: o.json, quiet: o.quiet, tty: Boolean(process.stderr.isTTY), out: process.stdout, err: process.stderr });
  // The run report (.ocrcache/runs/) listens to the same events; a dry run writes nothing, so no report.
  const runReport = o.dryRun ? null : createRunReporter({ root, command: 'build', err: process.stderr });
  const downstream: Emit = (e) => {
    reporter.emit(e);
    runReport?.emit(e);
  };
  // Braintrust gets one span per request of a real build (a dry run sends nothing, so it has none).
  const tracer = o.dryRun ? null : await createTracer({ root, downstream, holdSummary: true, configProject: () => ocrfileProject(root) });
  const emit: Emit = redacting(tracer?.emit ?? downstream);
  const controller = new AbortController();
  const unlisten = abortOnSignals(controller, (signal) => `ocrmake: ${signal}: stopping after the work in progress; press Ctrl-C again to quit now`);
  try {
    const { exitCode } = await runBuild({
      root,
      cwd,
      selectors: o.selectors,
      dryRun: o.dryRun,
      force: o.force,
      ...(o.engine ? { engine: o.engine } : {}),
      ...(o.pollSeconds !== undefined ? { pollSeconds: o.pollSeconds } : {}),
      ...(o.maxCost !== undefined ? { maxCost: o.maxCost } : {}),
      ...(o.deadline !== undefined ? { deadline: o.deadline } : {}),
      emit,
      signal: controller.signal,
    });
    return exitCode;
  } finally {
    await tracer?.close(); // before the run report closes: it releases the held summary
    runReport?.close();
    reporter.close();
    unlisten();
  }
}
