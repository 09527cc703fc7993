#!/usr/bin/env node
// The thin CLI (STYLE §14): parse into validated options, lazy-import one module per command, map the
// outcome to an exit code in one place (STYLE §7).
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { ExitCode, ExitSignal } from '../errors.js';
import { VERSION } from '../version.js';

const ENGINES = ['auto', 'gemini-batch', 'gemini', 'local'] as const;

export async function main(argv: string[]): Promise<number> {
  let result: number = ExitCode.ok;
  const run = (p: Promise<number>) => p.then((code) => void (result = code));
  const common = { json: { type: 'boolean', default: false, describe: 'machine-readable output (see README "JSON contracts")' } } as const;
  try {
    await yargs(argv)
      .scriptName('ocrmake')
      .usage('$0 <command> [options]')
      .command(
        'build [selectors..]',
        'bring pages up to date (all, or those selected)',
        (y) =>
          y
            .positional('selectors', { type: 'string', array: true, describe: 'a key, an output/image/allow-list path, or wildcard=value / wildcard=from..to' })
            .options({
              ...common,
              'dry-run': { type: 'boolean', default: false, describe: 'show the plan (states, reasons, what would be restored or sent); send nothing' },
              force: { type: 'boolean', default: false, describe: 'rebuild the selected pages even if fresh or edited' },
              engine: { choices: ENGINES, describe: 'override the ocrfile\'s engine' },
              quiet: { type: 'boolean', default: false, describe: 'print only warnings, errors and the summary' },
            }),
        (a) => run(import('./commands/build.js').then((m) => m.build({ selectors: a.selectors ?? [], dryRun: a['dry-run'], force: a.force, engine: a.engine, json: a.json, quiet: a.quiet }))),
      )
      .command(
        'status',
        'count pages by state',
        (y) => y.options({ ...common, all: { type: 'boolean', default: false, describe: 'list every page with its state and reasons' }, engine: { choices: ENGINES, describe: 'plan as this engine would' } }),
        (a) => run(import('./commands/status.js').then((m) => m.status({ json: a.json, all: a.all, engine: a.engine }))),
      )
      .command(
        'explain <target>',
        'say why a page is in its state',
        (y) => y.positional('target', { type: 'string', demandOption: true, describe: 'a key, or an output, image or allow-list path' }).options({ ...common, engine: { choices: ENGINES, describe: 'explain as this engine would plan' } }),
        (a) => run(import('./commands/explain.js').then((m) => m.explain({ target: a.target, json: a.json, engine: a.engine }))),
      )
      .command(
        'clean',
        'delete outputs ocrmake wrote (never edited ones) and/or the cache',
        (y) =>
          y.options({
            outputs: { type: 'boolean', default: false, describe: 'delete outputs ocrmake wrote and nobody edited' },
            cache: { type: 'boolean', default: false, describe: 'delete .ocrcache/ (state and result store)' },
            yes: { type: 'boolean', default: false, describe: 'do not ask for confirmation' },
          }),
        (a) => run(import('./commands/clean.js').then((m) => m.clean({ outputs: a.outputs, cache: a.cache, yes: a.yes }))),
      )
      .demandCommand(1, 'Name a command: build, status, explain or clean (ocrmake --help lists them).')
      .strict()
      .version(VERSION)
      .help()
      .wrap(Math.min(110, process.stdout.columns || 100))
      .fail((msg, err) => {
        if (err) throw err;
        throw new ExitSignal(ExitCode.usage, `${msg}\n  Run ocrmake --help for the commands and their options.`);
      })
      .parseAsync();
  } catch (err) {
    return report(err);
  }
  return result;
}

function report(err: unknown): number {
  if (err instanceof ExitSignal) {
    if (err.message) process.stderr.write(`ocrmake: ${err.message}\n`);
    return err.code;
  }
  process.stderr.write(`ocrmake: internal error: ${(err as Error)?.stack ?? String(err)}\nThis is a bug in ocrmake ${VERSION}; please report it with the lines above.\n`);
  return ExitCode.failed;
}

main(hideBin(process.argv)).then(
  (code) => (process.exitCode = code),
  (err) => (process.exitCode = report(err)),
);
