// Opening the project for a command that reads or maintains it (explain, graph, report, failures, retry,
// gc): only warnings reach the terminal (on stderr), so stdout stays the command's own output.
import type { EngineName } from '../config/define.js';
import { openProject, type Project } from '../execute/project.js';
import { createReporter } from '../report/reporter.js';

export async function openQuietly(root: string, engine: 'auto' | EngineName | undefined): Promise<Project> {
  const reporter = await createReporter({ json: false, quiet: true, tty: false, out: process.stderr, err: process.stderr });
  return openProject({ root, ...(engine ? { engine } : {}), emit: (e) => (e.event === 'warning' ? reporter.emit(e) : undefined) });
}
