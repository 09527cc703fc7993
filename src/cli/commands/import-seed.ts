// `ocrmake import-seed <dir>`: take over a project of the original course-catalog pipeline (seed/import.ts).
import path from 'node:path';
import { chosenOcrfile } from '../../config/load.js';
import { ExitCode, ExitSignal } from '../../errors.js';
import { importSeed, ORIGINAL_STATE, type SeedResult } from '../../seed/import.js';

export interface ImportSeedOptions {
  dir: string;
  state: string | undefined;
  force: boolean;
  json: boolean;
  cwd?: string;
}

export async function importSeedCommand(o: ImportSeedOptions): Promise<number> {
  const cwd = o.cwd ?? process.cwd();
  const root = path.resolve(cwd, o.dir);
  const chosen = chosenOcrfile();
  if (chosen && path.dirname(chosen) !== root) {
    throw new ExitSignal(ExitCode.usage, `import-seed writes the ocrfile into the original project's folder (${o.dir}), where its paths point; --config ${path.relative(cwd, chosen)} is elsewhere.\n  Drop --config, or name a file in ${o.dir}.`);
  }
  const notices: string[] = [];
  const r = await importSeed({
    root,
    stateFile: o.state ? path.resolve(cwd, o.state) : path.join(root, ORIGINAL_STATE),
    force: o.force,
    emit: (m) => notices.push(m),
  });
  if (o.json) {
    process.stdout.write(`${JSON.stringify({
      root, written: r.written, pages: r.pages,
      adopted: r.adopt.adopted, fresh: r.adopt.fresh, noOutput: r.adopt.noOutput,
      skipped: r.adopt.skipped.map((s) => ({ key: s.key, output: s.output, reason: s.reason, message: s.message })),
      failureCounts: r.counts, failureLogs: r.logs, notes: r.config.notes,
    })}\n`);
  } else {
    process.stdout.write(render(r, o, notices));
  }
  return r.adopt.skipped.length > 0 ? ExitCode.failed : ExitCode.ok;
}

function render(r: SeedResult, o: ImportSeedOptions, notices: string[]): string {
  const n = (x: number, w: string) => `${x} ${w}${x === 1 ? '' : 's'}`;
  const state = o.state ?? ORIGINAL_STATE;
  const lines = [
    `read config.yaml: ${n(r.pages, 'page')} (allow-list ${r.config.labels}), model ${r.config.model}, prompt ${r.config.prompt}`,
    `wrote ${r.written.join(', ')}`,
  ];
  for (const s of r.adopt.skipped) lines.push(`skipped      ${s.output} (${s.key}): ${s.message}`);
  lines.push(`adopted ${n(r.adopt.adopted, 'output')} from ${r.config.outputs} as fresh (no request)${r.adopt.fresh ? `; ${r.adopt.fresh} already fresh` : ''}${r.adopt.skipped.length ? `; ${r.adopt.skipped.length} skipped: fix them and run ocrmake adopt` : ''}`);
  if (!r.logs.stateFound) {
    lines.push(`no ${state}: no failure counts to import`);
  } else {
    const c = r.counts;
    lines.push(`imported the failure counts of ${n(c.imported, 'page')} from ${state}: ${c.dead} dead (the original gave up on them; ocrmake retry gives them new attempts), ${c.failed} failed (retried up to ${r.config.maxAttempts} attempts in all)`);
    if (c.untied.length) lines.push(`  ${n(c.untied.length, 'page')} not counted, as their previous page has no output yet (their history is kept): ${c.untied.slice(0, 5).join(', ')}${c.untied.length > 5 ? ', …' : ''}`);
    if (c.unknown.length) lines.push(`  ${n(c.unknown.length, 'key')} of pages this collection does not have: ${c.unknown.slice(0, 5).join(', ')}${c.unknown.length > 5 ? ', …' : ''}`);
    lines.push(
      r.logs.missingTable
        ? `  ${state} has no failure_logs table (an older version of the original): no failure history to import`
        : `imported ${n(r.logs.imported, 'failure-log row')} as history (ocrmake failures KEY shows them)${r.logs.repeated ? `; ${r.logs.repeated} imported before` : ''}${r.logs.unknown ? `; ${r.logs.unknown} of unknown pages left out` : ''}`,
    );
  }
  if (r.config.notes.length) lines.push('not carried over:', ...r.config.notes.map((x) => `  - ${x}`));
  for (const m of notices) lines.push(`note: ${m}`);
  lines.push('next: ocrmake status, then ocrmake build (GEMINI_API_KEY and BRAINTRUST_PROJECT_NAME are read from the environment or .env, as before)');
  return `${lines.join('\n')}\n`;
}
