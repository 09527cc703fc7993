// `ocrmake report`: a self-contained HTML status page (every page coloured by state, explain details on
// click, filters, search, the failure log), written to .ocrcache/report.html or --out. Prints its path.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { EngineName } from '../../config/define.js';
import { planProject } from '../../execute/project.js';
import { collectReport } from '../../report/html/collect.js';
import { buildReportData } from '../../report/html/data.js';
import { renderReportHtml } from '../../report/html/render.js';
import { writeFileAtomic } from '../../util/fs.js';
import { projectRoot } from '../root.js';
import { openQuietly } from '../open.js';

export const REPORT_FILE = 'report.html';

export interface ReportOptions {
  /** Where to write; default `.ocrcache/report.html`. */
  out: string | undefined;
  /** Open the file in the default browser. */
  open: boolean;
  engine: 'auto' | EngineName | undefined;
  cwd?: string;
}

export async function report(o: ReportOptions): Promise<number> {
  const cwd = o.cwd ?? process.cwd();
  const root = projectRoot(cwd);
  const p = await openQuietly(root, o.engine);
  let file: string;
  try {
    const html = renderReportHtml(buildReportData(collectReport(p, planProject(p), new Date())));
    file = o.out ? path.resolve(cwd, o.out) : path.join(p.cacheDir, REPORT_FILE);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    writeFileAtomic(file, html);
  } finally {
    p.store.close();
  }
  const shown = path.relative(cwd, file);
  process.stdout.write(`${shown.startsWith('..') || path.isAbsolute(shown) ? file : shown}\n`);
  if (o.open) openInBrowser(file);
  return 0;
}

/** Hands the file to the desktop's opener; says so when there is none (a server, a container). */
function openInBrowser(file: string): void {
  const [cmd, args] =
    process.platform === 'darwin' ? ['open', [file]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '""', file]] : ['xdg-open', [file]];
  const failed = () => process.stderr.write(`ocrmake: could not open a browser (${cmd}); open ${file} yourself\n`);
  try {
    const child = spawn(cmd, args as string[], { detached: true, stdio: 'ignore' });
    child.on('error', failed);
    child.unref();
  } catch {
    failed();
  }
}
