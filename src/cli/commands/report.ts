// `ocrmake report`: a self-contained HTML status page (every page coloured by state; on click, its scan beside
// its output and its explain details; filters, search, the failure log), written to .ocrcache/report.html
// or --out. Prints its path.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { EngineName } from '../../config/define.js';
import { planProject } from '../../execute/project.js';
import { collectReport } from '../../report/html/collect.js';
import { buildReportData } from '../../report/html/data.js';
import { collectMedia } from '../../report/html/media.js';
import { renderReportHtml } from '../../report/html/render.js';
import { relPath, writeFileAtomic } from '../../util/fs.js';
import { usageError } from '../../errors.js';
import { recordedVariants, variantDir } from '../../variants/area.js';
import { projectRoot } from '../root.js';
import { openQuietly } from '../open.js';

export const REPORT_FILE = 'report.html';
/** Pages whose details are embedded by default: ~45 kB each, so a report stays under ~10 MB. */
export const DEFAULT_THUMBNAILS = 200;

export interface ReportOptions {
  /** Where to write; default `.ocrcache/report.html`. */
  out: string | undefined;
  /** Open the file in the default browser. */
  open: boolean;
  /** Pages whose thumbnail and output are embedded (the others are linked); default 200. */
  thumbnails?: number | undefined;
  /** Embed no thumbnail: every image is linked relative to the report. */
  linkImages?: boolean | undefined;
  /** A variant tried with `ocrmake try`, whose outputs are shown beside the pages' own. */
  variant?: string | undefined;
  engine: 'auto' | EngineName | undefined;
  cwd?: string;
}

export async function report(o: ReportOptions): Promise<number> {
  const cwd = o.cwd ?? process.cwd();
  const root = projectRoot(cwd);
  const p = await openQuietly(root, o.engine);
  let file: string;
  try {
    file = o.out ? path.resolve(cwd, o.out) : path.join(p.cacheDir, REPORT_FILE);
    const plan = planProject(p);
    const variant = o.variant === undefined ? null : triedVariant(p.config.root, p.config.file, o.variant);
    const media = await collectMedia(p, plan, { limit: o.thumbnails ?? DEFAULT_THUMBNAILS, linkImages: o.linkImages ?? false, variant });
    // Links to images and outputs are relative to where the report is written.
    const up = path.relative(path.dirname(file), p.config.root).split(path.sep).filter(Boolean);
    const base = up.length ? `${up.map(encodeURIComponent).join('/')}/` : '';
    const input = { ...collectReport(p, plan, new Date()), base, media: { embedded: media.embedded, limit: media.limit, linkImages: media.linkImages, variant: media.variant } };
    const html = renderReportHtml(buildReportData(input), media.pages);
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

/** The variant `name` as its last `try` left it: where its outputs are and which pages it built. */
function triedVariant(root: string, file: string, name: string): { name: string; outputs: string; pages: readonly string[] } {
  const tried = recordedVariants(root);
  const record = tried.get(name);
  if (!record) {
    throw usageError([{
      reason: 'config-invalid',
      file: relPath(root, file),
      at: '--variant',
      message: `no variant "${name}" has been tried in this project, so there is nothing to show beside the outputs`,
      hint: tried.size > 0 ? `Tried so far: ${[...tried.keys()].join(', ')}. Or run ocrmake try ${name} first.` : `Run ocrmake try ${name} first (ocrmake try --help).`,
    }]);
  }
  return { name, outputs: path.join(variantDir(root, name), 'outputs'), pages: record.pages };
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
