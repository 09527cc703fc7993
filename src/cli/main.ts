#!/usr/bin/env node
// The thin CLI (STYLE §14): parse into validated options, lazy-import one module per command, map the
// outcome to an exit code in one place (STYLE §7).
import fs from 'node:fs';
import path from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { ExitCode, ExitSignal } from '../errors.js';
import { VERSION } from '../version.js';
import { redact } from '../util/secrets.js';
import { deadlineAt } from '../config/resolved.js';

const ENGINES = ['auto', 'gemini-batch', 'gemini', 'local'] as const;

export async function main(rawArgv: string[]): Promise<number> {
  // yargs reads a lone `-` as a positional, so `--csv -` (stdout) would lose its value: join the pair.
  const argv = rawArgv.flatMap((a, i) => (a === '-' && rawArgv[i - 1] === '--csv' ? [] : a === '--csv' && rawArgv[i + 1] === '-' ? ['--csv=-'] : [a]));
  let result: number = ExitCode.ok;
  const run = (p: Promise<number>) => p.then((code) => void (result = code));
  const common = { json: { type: 'boolean', default: false, describe: 'machine-readable output (see README "JSON contracts")' } } as const;
  try {
    await yargs(argv)
      .scriptName('ocrmake')
      .usage('$0 <command> [options]')
      .option('config', { type: 'string', global: true, describe: 'the ocrfile to use (default: ocrfile.ts here or in a parent folder); the project root is its folder. Also OCRMAKE_CONFIG' })
      .middleware((a) => chooseOcrfile(a.config, String(a._[0] ?? '')))
      .command(
        'init [dir]',
        'start a project for the scans in a folder: infer the page pattern, say what was found, write ocrfile.ts, a rule and a prompt',
        (y) =>
          y
            .positional('dir', { type: 'string', describe: 'the folder holding the scans (default: the current folder); it becomes the project root' })
            .options({
              ...common,
              rule: { choices: ['text', 'course-catalog'] as const, default: 'text' as const, describe: 'text: a faithful transcription of each page; course-catalog: the course-catalog extraction' },
              image: { type: 'string', describe: 'use this image pattern instead of inferring one (e.g. "scans/{book}/page-{page}.png")' },
              target: { type: 'string', describe: 'the output pattern (default: ocr/ plus the image pattern\'s folders, .json)' },
              names: { type: 'string', describe: 'names for the inferred wildcards, top-down, comma-separated (e.g. collection,volume); the page\'s may come last' },
              order: { type: 'string', default: 'page', describe: 'the name of the wildcard that numbers pages; an --image pattern without it names multi-page files (PDF, TIFF)' },
              engine: { choices: ENGINES, default: 'auto' as const, describe: 'the engine the ocrfile names' },
              force: { type: 'boolean', default: false, describe: 'overwrite ocrfile.ts, the rule and the prompt if they exist' },
              'dry-run': { type: 'boolean', default: false, describe: 'say what was found and what would be written; write nothing' },
            })
            .check((a) => (a.names === undefined || a.names.trim() !== '') || '--names needs names, e.g. --names collection,volume'),
        (a) =>
          run(
            import('./commands/init.js').then((m) =>
              m.init({
                dir: a.dir, rule: a.rule, image: a.image, target: a.target, order: a.order, engine: a.engine, force: a.force, dryRun: a['dry-run'], json: a.json,
                names: a.names === undefined ? undefined : a.names.split(',').map((n) => n.trim()).filter(Boolean),
              }),
            ),
          ),
      )
      .command(
        'import-seed <dir>',
        'take over a project of the original course-catalog pipeline: write the ocrfile for its config.yaml, adopt its outputs, import its failure counts and logs',
        (y) =>
          y
            .positional('dir', { type: 'string', demandOption: true, describe: 'the original project\'s folder (config.yaml, dataset/, data/gemini_batches.db)' })
            .options({
              ...common,
              state: { type: 'string', describe: 'the original\'s state database (default: <dir>/data/gemini_batches.db)' },
              force: { type: 'boolean', default: false, describe: 'overwrite ocrfile.ts and rules/page_ocr.ts if they exist' },
            }),
        (a) => run(import('./commands/import-seed.js').then((m) => m.importSeedCommand({ dir: a.dir, state: a.state, force: a.force, json: a.json }))),
      )
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
              'poll-seconds': { type: 'number', describe: 'seconds between batch status polls (fractions allowed); overrides execution.pollSeconds' },
              'max-cost': { type: 'number', describe: 'USD: refuse to start (exit 1, nothing sent) if the estimated cost is above this' },
              deadline: { type: 'string', describe: 'a duration (6h) or date and time: chains batch rounds would make miss it go interactive; overrides context.deadline' },
            })
            .check((a) => {
              // A returned string is a usage error (exit 2): .fail() gets it as both msg and err.
              if (a['poll-seconds'] !== undefined && !(a['poll-seconds'] > 0)) return '--poll-seconds must be a number above 0';
              if (a['max-cost'] !== undefined && !(a['max-cost'] >= 0)) return '--max-cost must be an amount in USD, 0 or more';
              if (a.deadline !== undefined && deadlineAt(a.deadline, Date.now()) === null) return `--deadline "${a.deadline}": give a duration such as 6h, 90m or 2d, or a date and time such as 2026-12-01T09:00Z`;
              return true;
            }),
        (a) =>
          run(
            import('./commands/build.js').then((m) =>
              m.build({ selectors: a.selectors ?? [], dryRun: a['dry-run'], force: a.force, engine: a.engine, json: a.json, quiet: a.quiet, pollSeconds: a['poll-seconds'], maxCost: a['max-cost'], deadline: a.deadline }),
            ),
          ),
      )
      .command(
        'eval [selectors..]',
        'score outputs against the ground truth (CER, WER; field accuracy for JSON truth): per page, per chain, overall',
        (y) =>
          y
            .positional('selectors', { type: 'string', array: true, describe: 'a key, a path, or wildcard=value / wildcard=from..to' })
            .options({
              ...common,
              variant: { type: 'string', default: 'current', describe: 'score this variant\'s outputs (from its area) instead of the real ones ("current")' },
              csv: { type: 'string', describe: 'write the scores (a row per page, chain and overall) to this CSV file; - for stdout' },
              engine: { choices: ENGINES, describe: 'open the project as this engine would' },
            })
            .check((a) => a.csv !== '' || '--csv needs a file name, or - for stdout'),
        (a) => run(import('./commands/eval.js').then((m) => m.evalCommand({ selectors: a.selectors ?? [], variant: a.variant, json: a.json, csv: a.csv, engine: a.engine }))),
      )
      .command(
        'try <variant> [selectors..]',
        'build a variant (other prompt, model, generation config or context policy) into its own area, never into the outputs; show its cost first and its scores after',
        (y) =>
          y
            .positional('variant', { type: 'string', demandOption: true, describe: 'a variant of the ocrfile\'s variants, or a new name with --prompt/--model/--generation-config/--context' })
            .positional('selectors', { type: 'string', array: true, describe: 'a key, a path, or wildcard=value / wildcard=from..to' })
            .options({
              ...common,
              sample: { type: 'number', describe: 'try on this many pages: the first page of every book, then the second, … (the same pages for every variant)' },
              'dry-run': { type: 'boolean', default: false, describe: 'show the plan and the cost estimate; send nothing' },
              engine: { choices: ENGINES, describe: 'override the ocrfile\'s engine' },
              quiet: { type: 'boolean', default: false, describe: 'print only warnings, errors, the summary and the scores' },
              'poll-seconds': { type: 'number', describe: 'seconds between batch status polls (fractions allowed)' },
              'max-cost': { type: 'number', describe: 'USD: refuse to start (exit 1, nothing sent) if the estimated cost is above this' },
              prompt: { type: 'string', describe: 'a variant not in the ocrfile: this prompt template' },
              model: { type: 'string', describe: 'a variant not in the ocrfile: this model' },
              'generation-config': { type: 'string', describe: 'a variant not in the ocrfile: this generationConfig (JSON)' },
              context: { choices: ['exact', 'draft', 'speculative'] as const, describe: 'a variant not in the ocrfile: this context mode' },
            })
            .check((a) => {
              if (a.sample !== undefined && !(Number.isInteger(a.sample) && a.sample >= 1)) return '--sample must be a whole number of pages, 1 or more';
              if (a['poll-seconds'] !== undefined && !(a['poll-seconds'] > 0)) return '--poll-seconds must be a number above 0';
              if (a['max-cost'] !== undefined && !(a['max-cost'] >= 0)) return '--max-cost must be an amount in USD, 0 or more';
              if (a['generation-config'] !== undefined) {
                try {
                  const g = JSON.parse(a['generation-config']) as unknown;
                  if (typeof g !== 'object' || g === null || Array.isArray(g)) return '--generation-config must be a JSON object, e.g. \'{"temperature":0}\'';
                } catch (err) {
                  return `--generation-config is not JSON (${(err as Error).message}); give an object, e.g. '{"temperature":0}'`;
                }
              }
              return true;
            }),
        (a) => {
          const settings = {
            ...(a.prompt !== undefined ? { prompt: a.prompt } : {}),
            ...(a.model !== undefined ? { model: a.model } : {}),
            ...(a['generation-config'] !== undefined ? { generationConfig: JSON.parse(a['generation-config']) as Record<string, unknown> } : {}),
            ...(a.context !== undefined ? { context: { mode: a.context } } : {}),
          };
          return run(
            import('./commands/try.js').then((m) =>
              m.tryCommand({
                name: a.variant, selectors: a.selectors ?? [], sample: a.sample, dryRun: a['dry-run'], engine: a.engine, json: a.json, quiet: a.quiet,
                pollSeconds: a['poll-seconds'], maxCost: a['max-cost'], settings: Object.keys(settings).length > 0 ? settings : undefined,
              }),
            ),
          );
        },
      )
      .command(
        'compare <a> <b> [selectors..]',
        'compare two variants (or "current", the real outputs) page by page: scores against the ground truth, text differences, tokens and cost',
        (y) =>
          y
            .positional('a', { type: 'string', demandOption: true, describe: 'a variant, or current' })
            .positional('b', { type: 'string', demandOption: true, describe: 'a variant, or current' })
            .positional('selectors', { type: 'string', array: true, describe: 'a key, a path, or wildcard=value / wildcard=from..to' })
            .options({
              ...common,
              diffs: { type: 'number', default: 3, describe: 'text differences shown per page (0: none)' },
              html: { type: 'string', describe: 'also write a side-by-side HTML view (the scan, both outputs) to this file' },
              engine: { choices: ENGINES, describe: 'open the projects as this engine would' },
            }),
        (a) => run(import('./commands/compare.js').then((m) => m.compareCommand({ a: a.a, b: a.b, selectors: a.selectors ?? [], json: a.json, diffs: a.diffs, html: a.html, engine: a.engine }))),
      )
      .command(
        'watch',
        'keep every page up to date as images, prompts, rules, the ocrfile and outputs change',
        (y) =>
          y.options({
            ...common,
            engine: { choices: ENGINES, describe: 'override the ocrfile\'s engine' },
            quiet: { type: 'boolean', default: false, describe: 'print only warnings, errors and summaries' },
            'poll-seconds': { type: 'number', describe: 'seconds between batch status polls (fractions allowed)' },
            debounce: { type: 'number', default: 300, describe: 'milliseconds of quiet after a change before a build starts' },
          }),
        (a) => run(import('./commands/watch.js').then((m) => m.watch({ engine: a.engine, json: a.json, quiet: a.quiet, pollSeconds: a['poll-seconds'], debounceMs: a.debounce }))),
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
        'failures [selectors..]',
        'summarise the failure log, or show the full history of the selected pages',
        (y) =>
          y
            .positional('selectors', { type: 'string', array: true, describe: 'pages whose full history to show: a key, a path, or wildcard=value' })
            .options({
              ...common,
              by: { type: 'string', default: 'class', describe: 'group the summary by class, chain, or a wildcard of the pattern (e.g. state)' },
              csv: { type: 'string', describe: 'write every failure-log row (of the selected pages) to this CSV file; - for stdout' },
              verbose: { type: 'boolean', default: false, describe: 'history: add the generation config, stack, raw response and extracted text' },
              limit: { type: 'number', describe: 'list at most N pages failed or dead now (default 20; 0: all); with selectors, the newest N attempts of each page' },
              engine: { choices: ENGINES, describe: 'judge failed and dead as this engine would plan' },
            })
            .check((a) => a.csv !== '' || '--csv needs a file name, or - for stdout')
            .check((a) => a.limit === undefined || (Number.isInteger(a.limit) && a.limit >= 0) || '--limit must be a whole number, 0 or more'),
        (a) => run(import('./commands/failures.js').then((m) => m.failures({ selectors: a.selectors ?? [], by: a.by, csv: a.csv, json: a.json, verbose: a.verbose, limit: a.limit, engine: a.engine }))),
      )
      .command(
        'retry [selectors..]',
        'give failed and dead pages new attempts (all of them, or those selected); the failure log is kept',
        (y) =>
          y
            .positional('selectors', { type: 'string', array: true, describe: 'a key, an output/image/allow-list path, or wildcard=value / wildcard=from..to' })
            .options({
              ...common,
              'dry-run': { type: 'boolean', default: false, describe: 'list what would be reset; change nothing' },
              'all-fingerprints': { type: 'boolean', default: false, describe: 'also reset the counters of earlier requests (before a prompt or image change)' },
              engine: { choices: ENGINES, describe: 'judge the current request as this engine would' },
            }),
        (a) => run(import('./commands/retry.js').then((m) => m.retry({ selectors: a.selectors ?? [], dryRun: a['dry-run'], allFingerprints: a['all-fingerprints'], json: a.json, engine: a.engine }))),
      )
      .command(
        'adopt [selectors..]',
        'record existing outputs as fresh without any request (e.g. a collection built by an older pipeline)',
        (y) =>
          y
            .positional('selectors', { type: 'string', array: true, describe: 'a key, an output/image/allow-list path, or wildcard=value / wildcard=from..to' })
            .options({
              ...common,
              'dry-run': { type: 'boolean', default: false, describe: 'show what would be adopted; write nothing' },
              engine: { choices: ENGINES, describe: 'adopt for this engine\'s requests (the engine later builds will use)' },
            }),
        (a) => run(import('./commands/adopt.js').then((m) => m.adopt({ selectors: a.selectors ?? [], dryRun: a['dry-run'], json: a.json, engine: a.engine }))),
      )
      .command(
        'gc',
        'prune the result store: delete objects no page references that are older than --keep-days',
        (y) =>
          y
            .options({
              ...common,
              'keep-days': { type: 'number', default: 30, describe: 'also keep unreferenced objects younger than this many days' },
              'dry-run': { type: 'boolean', default: false, describe: 'say what would be deleted; delete nothing' },
              engine: { choices: ENGINES, describe: 'keep the current requests of this engine' },
            })
            // A string, not a throw: yargs hands a thrown error to .fail() as a crash.
            .check((a) => a['keep-days'] >= 0 || '--keep-days must be a number of days, 0 or more'),
        (a) => run(import('./commands/gc.js').then((m) => m.gc({ keepDays: a['keep-days'], dryRun: a['dry-run'], json: a.json, engine: a.engine }))),
      )
      .command(
        'runs [id]',
        'list recent build and watch runs, or show one run\'s report',
        (y) =>
          y
            .positional('id', { type: 'string', describe: 'a run id from the list, any unique part of one, or latest' })
            .options({ ...common, limit: { type: 'number', default: 20, describe: 'how many runs to list, newest first' } })
            .check((a) => (Number.isInteger(a.limit) && a.limit > 0) || '--limit must be a whole number above 0'),
        (a) => run(import('./commands/runs.js').then((m) => m.runs({ id: a.id, json: a.json, limit: a.limit }))),
      )
      .command(
        'graph [selectors..]',
        'print the dependency graph (pages coloured by state, predecessor -> page edges, a cluster per book)',
        (y) =>
          y
            .positional('selectors', { type: 'string', array: true, describe: 'only these pages: a key, a path, or wildcard=value / wildcard=from..to' })
            .options({
              format: { choices: ['dot', 'mermaid', 'json'] as const, default: 'dot' as const, describe: 'Graphviz DOT, Mermaid flowchart, or JSON {nodes, edges}' },
              out: { type: 'string', describe: 'write to this file instead of stdout' },
              engine: { choices: ENGINES, describe: 'plan states as this engine would' },
            }),
        (a) => run(import('./commands/graph.js').then((m) => m.graph({ format: a.format, out: a.out, selectors: a.selectors ?? [], engine: a.engine }))),
      )
      .command(
        'report',
        'write a self-contained HTML status page (default .ocrcache/report.html) and print its path',
        (y) =>
          y.options({
            out: { type: 'string', describe: 'write the page to this file' },
            open: { type: 'boolean', default: false, describe: 'open it in the default browser' },
            thumbnails: { type: 'number', default: 200, describe: 'embed the scan thumbnail and output of this many pages (those needing attention first); the others are linked' },
            'link-images': { type: 'boolean', default: false, describe: 'embed no thumbnails: show every scan from its file, linked relative to the report (huge collections)' },
            variant: { type: 'string', describe: 'show this variant\'s outputs (from ocrmake try) beside the pages\' own, its pages first' },
            engine: { choices: ENGINES, describe: 'plan states as this engine would' },
          })
          .check((a) => (Number.isInteger(a.thumbnails) && a.thumbnails >= 0) || '--thumbnails must be a whole number, 0 or more'),
        (a) => run(import('./commands/report.js').then((m) => m.report({ out: a.out, open: a.open, thumbnails: a.thumbnails, linkImages: a['link-images'], variant: a.variant, engine: a.engine }))),
      )
      .command(
        'batches',
        'list the Gemini batches this project recorded: name, state, age, pages, tokens',
        (y) => y.options({ ...common, all: { type: 'boolean', default: false, describe: 'also list every finished batch (default: the open ones and the 20 newest finished)' } }),
        (a) => run(import('./commands/batches.js').then((m) => m.batches({ json: a.json, all: a.all }))),
      )
      .command(
        'cancel [batch]',
        'cancel open batches at the API and free their pages (uncharged) for the next build',
        (y) =>
          y
            .positional('batch', { type: 'string', describe: 'a batch name (batches/…) or display name (ocrmake-…) from ocrmake batches' })
            .options({ ...common, all: { type: 'boolean', default: false, describe: 'cancel every open batch' } }),
        (a) => run(import('./commands/cancel.js').then((m) => m.cancel({ batch: a.batch, all: a.all, json: a.json }))),
      )
      .command(
        'clean',
        'delete outputs ocrmake wrote (never edited ones) and/or the cache',
        (y) =>
          y.options({
            outputs: { type: 'boolean', default: false, describe: 'delete outputs ocrmake wrote and nobody edited' },
            cache: { type: 'boolean', default: false, describe: 'delete .ocrcache/ (state, result store and run reports)' },
            yes: { type: 'boolean', default: false, describe: 'do not ask for confirmation' },
          }),
        (a) => run(import('./commands/clean.js').then((m) => m.clean({ outputs: a.outputs, cache: a.cache, yes: a.yes }))),
      )
      .demandCommand(1, 'Name a command: init, import-seed, build, watch, status, explain, failures, retry, adopt, gc, runs, graph, report, batches, cancel or clean (ocrmake --help lists them).')
      .recommendCommands()
      .strict()
      .version(VERSION)
      .help()
      .wrap(Math.min(110, process.stdout.columns || 100))
      .fail((msg, err) => {
        if (err instanceof Error) throw err; // a .check() that returns a string passes it as err too
        throw new ExitSignal(ExitCode.usage, usageMessage(msg, argv));
      })
      .parseAsync();
  } catch (err) {
    return report(err);
  }
  return result;
}

/**
 * `--config FILE` (or a folder holding ocrfile.ts) wins over OCRMAKE_CONFIG; either is made absolute and
 * kept in OCRMAKE_CONFIG, where config/load.ts and cli/root.ts read it. `init` and `import-seed` write the
 * file; every other command needs it to exist.
 */
function chooseOcrfile(option: string | undefined, command: string): void {
  const given = option ?? process.env['OCRMAKE_CONFIG'];
  if (!given) return;
  const from = option !== undefined ? '--config' : 'OCRMAKE_CONFIG';
  if (given.trim() === '') throw new ExitSignal(ExitCode.usage, `${from} needs the path of an ocrfile (e.g. ${from === '--config' ? '--config catalog/ocrfile.ts' : 'OCRMAKE_CONFIG=catalog/ocrfile.ts'})`);
  let file = path.resolve(given);
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'ocrfile.ts');
  if (command !== 'init' && command !== 'import-seed' && !fs.existsSync(file)) {
    throw new ExitSignal(ExitCode.usage, `${from} ${given}: there is no such file${file !== path.resolve(given) ? ` (looked for ${path.relative(process.cwd(), file)})` : ''}.\n  Check the path, or run ocrmake init to write an ocrfile.`);
  }
  process.env['OCRMAKE_CONFIG'] = file;
}

const COMMANDS = ['init', 'import-seed', 'build', 'eval', 'try', 'compare', 'watch', 'status', 'explain', 'failures', 'retry', 'adopt', 'gc', 'runs', 'graph', 'report', 'batches', 'cancel', 'clean'];

/** yargs' complaint, restated to name the command, option or argument at fault and where help is. */
function usageMessage(msg: string, argv: readonly string[]): string {
  const command = COMMANDS.includes(argv[0] ?? '') ? argv[0]! : null;
  const help = command ? `Run ocrmake ${command} --help for its options.` : 'Run ocrmake --help for the commands and their options.';
  const suggested = /^Did you mean (\S+)\?$/.exec(msg);
  if (suggested) return `unknown command "${argv[0]}": did you mean ${suggested[1]}?\n  ${help}`;
  const unknown = /^Unknown arguments?: (.*)$/.exec(msg);
  if (unknown) {
    const what = unknown[1]!.split(', ').map((name) => {
      const flag = argv.find((a) => a === `--${name}` || a.startsWith(`--${name}=`) || a === `-${name}` || a === `--no-${name}`);
      if (flag) return `unknown option ${flag.split('=')[0]}${command ? ` for ocrmake ${command}` : ''}`;
      return command ? `unexpected argument "${name}" for ocrmake ${command}` : `unknown command "${name}"`;
    });
    return `${what.join('; ')}\n  ${help}`;
  }
  const choice = /Argument: (\S+), Given: (.*?), Choices: (.*)$/m.exec(msg);
  if (choice) return `--${choice[1]} ${choice[2]} is not one of ${choice[3]}\n  ${help}`;
  if (command === 'explain' && /^Not enough non-option arguments/.test(msg)) return `ocrmake explain needs a target: a key, or an output, image or allow-list path\n  ${help}`;
  if (command === 'import-seed' && /^Not enough non-option arguments/.test(msg)) return `ocrmake import-seed needs the original project's folder (the one with config.yaml)\n  ${help}`;
  return msg.includes('--help') ? msg : `${msg}\n  ${help}`;
}

function report(err: unknown): number {
  if (err instanceof ExitSignal) {
    if (err.message) process.stderr.write(`ocrmake: ${redact(err.message)}\n`);
    return err.code;
  }
  process.stderr.write(`ocrmake: internal error: ${redact((err as Error)?.stack ?? String(err))}\nThis is a bug in ocrmake ${VERSION}; please report it with the lines above.\n`);
  return ExitCode.failed;
}

// `ocrmake status --all | head`: a reader that stops early is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

main(hideBin(process.argv)).then(
  (code) => {
    process.exitCode = code;
    // Interrupted: everything worth keeping is saved and flushed by now, but a request the API never
    // answers (a hung upload) would hold the process for its timeout. Leave once stdout and stderr drain.
    if (code === ExitCode.interrupted) process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
  },
  (err) => (process.exitCode = report(err)),
);
