// `ocrmake init [dir]`: a project for the scans already in a folder. It reads the folder (init/scan.ts),
// infers the page pattern (init/infer.ts), says what it found (init/findings.ts), and writes an ocrfile, a
// rule and a prompt (init/write.ts) that build as they are. It never overwrites a file without --force.
import fs from 'node:fs';
import path from 'node:path';
import { chosenOcrfile, loadConfig, OCRFILE } from '../../config/load.js';
import { geminiKey } from '../../engines/resolve.js';
import { ExitCode, ExitSignal } from '../../errors.js';
import { describe, findings, type Findings } from '../../init/findings.js';
import { inferLayout, type Layout } from '../../init/infer.js';
import { listFiles, withPageCounts } from '../../init/scan.js';
import { plan, SHIPPED, type RuleChoice } from '../../init/write.js';
import { parsePattern } from '../../graph/pattern.js';

export interface InitOptions {
  dir: string | undefined;
  rule: RuleChoice;
  image: string | undefined;
  target: string | undefined;
  names: string[] | undefined;
  /** The page wildcard's name (default page); a --image pattern without it names multi-page files. */
  order: string;
  engine: 'auto' | 'gemini-batch' | 'gemini' | 'local';
  force: boolean;
  dryRun: boolean;
  json: boolean;
  cwd?: string;
}

export async function init(o: InitOptions): Promise<number> {
  const cwd = o.cwd ?? process.cwd();
  const chosen = chosenOcrfile();
  if (chosen && o.dir !== undefined && path.resolve(cwd, o.dir) !== path.dirname(chosen)) {
    throw new ExitSignal(ExitCode.usage, `ocrmake init: the folder ${o.dir} and --config ${path.relative(cwd, chosen)} disagree about the project folder.\n  Give one of them: the project root is the ocrfile's folder.`);
  }
  const root = chosen ? path.dirname(chosen) : path.resolve(cwd, o.dir ?? '.');
  const ocrfile = chosen ?? path.join(root, OCRFILE);
  if (!/\.(ts|mts|js|mjs)$/.test(ocrfile)) throw new ExitSignal(ExitCode.usage, `ocrmake init: the ocrfile ${path.relative(cwd, ocrfile)} must be a .ts (or .js) file.`);
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) throw new ExitSignal(ExitCode.usage, `ocrmake init: there is no folder ${path.relative(cwd, root) || root}.\n  Create it and put the scans in it, or name the folder that holds them.`);

  const files = await withPageCounts(root, listFiles(root));
  const layout = o.image ? givenLayout(o) : inferred(o, files);
  const found = findings(layout, files);
  if (found.pages === 0) {
    throw new ExitSignal(ExitCode.usage, `ocrmake init: the pattern ${layout.image} matches no file under ${path.relative(cwd, root) || '.'}.\n  Check it against the files there (ocrmake init without --image infers one).`);
  }
  const planned = plan({ root, ocrfile, rule: o.rule, engine: o.engine, layout, found: summaryLine(found) });
  const existing = planned.filter((f) => fs.existsSync(f.path)).map((f) => path.relative(cwd, f.path));
  const rel = (p: string) => path.relative(cwd, p) || p;
  if (existing.length > 0 && !o.force && !o.dryRun) {
    throw new ExitSignal(ExitCode.usage, `ocrmake init would overwrite ${existing.join(', ')}; nothing was written.\n  Use --force to replace ${existing.length === 1 ? 'it' : 'them'}, or init another folder.`);
  }
  if (!o.dryRun) {
    for (const f of planned) {
      fs.mkdirSync(path.dirname(f.path), { recursive: true });
      fs.writeFileSync(f.path, f.content);
    }
    // What was written must load: a build right after init works with no edit.
    await loadConfig(root, ocrfile);
  }
  if (o.json) {
    process.stdout.write(`${JSON.stringify({ dryRun: o.dryRun, root, layout, findings: found, files: planned.map((f) => rel(f.path)), rule: o.rule })}\n`);
    return ExitCode.ok;
  }
  const lines = describe(found, layout, files.length);
  lines.push(`${o.dryRun ? 'would write' : 'wrote'} ${planned.map((f) => rel(f.path)).join(', ')} (rule ${o.rule}: ${SHIPPED[o.rule].about})`);
  if (!o.dryRun) {
    const here = path.resolve(cwd) === root ? '' : ` (in ${rel(root)}, or with --config ${rel(ocrfile)})`;
    const engine = o.engine === 'auto' ? (geminiKey(root) ? 'with Gemini Batch (a key is set)' : 'offline with tesseract.js (set GEMINI_API_KEY for Gemini)') : `with the ${o.engine} engine`;
    lines.push(`next: ocrmake build${here}, ${engine}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return ExitCode.ok;
}

function inferred(o: InitOptions, files: Parameters<typeof inferLayout>[0]): Layout {
  const r = inferLayout(files, { order: o.order, ...(o.names ? { names: o.names } : {}), ...(o.target ? { target: o.target } : {}) });
  if (!r.ok) throw new ExitSignal(ExitCode.usage, `ocrmake init: ${r.message}.\n  ${r.hint}`);
  return r.layout;
}

/** A pattern given with --image, read as the ocrfile reads it: no {order} wildcard means multi-page files. */
function givenLayout(o: InitOptions): Layout {
  const parsed = parsePattern(o.image!);
  if (!parsed.ok) throw new ExitSignal(ExitCode.usage, `ocrmake init: --image: ${parsed.message}.\n  Patterns are relative paths with {name} wildcards, e.g. "scans/{book}/page-{page}.png".`);
  const order = o.order;
  const multiPage = !parsed.pattern.wildcards.includes(order);
  const books = parsed.pattern.wildcards.filter((w) => w !== order);
  // Outputs under ocr/, in the pattern's folders from its first wildcard on.
  const stem = o.image!.replace(/\.(\{[^}]*\}|[^./{}]+)$/, '');
  const target = o.target ?? `ocr/${stem.replace(/^[^{]*?\/(?=[^/]*\{)/, '')}${multiPage ? `/{${order}}` : ''}.json`;
  return { image: o.image!, order, multiPage, bookWildcards: books, target };
}

function summaryLine(f: Findings): string {
  return `${f.pages.toLocaleString('en-US')} page${f.pages === 1 ? '' : 's'} in ${f.books.length.toLocaleString('en-US')} book${f.books.length === 1 ? '' : 's'}`;
}
