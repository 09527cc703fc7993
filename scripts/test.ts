// `npm test` (after compiling): every dist/test/*.test.js through node:test's run(), three files at a time,
// the slowest first. Three on two cores: most files spend half their time waiting (on child processes, the
// fake server's polls, quiet periods), so a third lane fills the cores the other two leave idle. The last
// file to start decides when the suite ends: started last, a long file runs alone at the end while the
// other lanes idle (longest-first scheduling). `node --test` sorts its files by name, so the order is kept
// by calling run() here. Files not named below go after, by name. OCRMAKE_TEST_CONCURRENCY overrides the 3.
// The per-test timeout only catches a hang: a busy machine is slow, not wrong, and the tests' own waits are
// on events, with generous bounds.
import fs from 'node:fs';
import path from 'node:path';
import { run } from 'node:test';
import { spec, tap } from 'node:test/reporters';
import { fileURLToPath } from 'node:url';

const TESTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../test');
/**
 * Measured on 2 cores, longest first (README "Development" has the figures); `watch` leads although it is
 * not the heaviest: it waits on quiet periods more than it computes, so it overlaps the others best, and
 * `readme` is instant when the README's stamp is current (CI) but runs ~40 commands when it is not.
 */
const SLOWEST = ['watch', 'readme', 'gemini-batch', 'failures', 'formats', 'adopt-gc', 'context-policies', 'variants', 'gemini-crash', 'secrets', 'bad-input-catalogue', 'edges', 'models', 'crash', 'bad-inputs', 'config-option', 'prepare-gemini', 'cost', 'braintrust', 'cli-build', 'run-report', 'journal', 'report', 'install', 'eval', 'original-pipeline', 'graph', 'tty', 'cache-upgrade', 'prepare', 'init', 'fake-gemini', 'chain-semantics'];
const HANG_MS = 20 * 60_000;

const rank = (f: string) => {
  const i = SLOWEST.indexOf(f.replace(/\.test\.js$/, ''));
  return i < 0 ? SLOWEST.length : i;
};
const only = process.argv.slice(2);
const files = fs
  .readdirSync(TESTS)
  .filter((f) => f.endsWith('.test.js') && (only.length === 0 || only.some((o) => f.startsWith(o))))
  .sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : 1))
  .map((f) => path.join(TESTS, f));

let failed = false;
const stream = run({ files, concurrency: Number(process.env['OCRMAKE_TEST_CONCURRENCY'] ?? 3), timeout: HANG_MS });
/** Seconds each file's top-level tests took: printed at the end, to keep SLOWEST in measured order. */
const perFile = new Map<string, number>();
const time = (e: { file?: string; nesting?: number; details?: { duration_ms?: number } }) => {
  if (e?.file && e.nesting === 0) perFile.set(e.file, (perFile.get(e.file) ?? 0) + (e.details?.duration_ms ?? 0) / 1000);
};
stream.on('test:pass', time);
stream.on('test:fail', (e: { file?: string; nesting?: number; details?: { duration_ms?: number } }) => {
  // A failing suite also reports its failing tests; any failure fails the run.
  if (e) failed = true;
  time(e);
});
// As `node --test` does: the spec reporter on a terminal, TAP otherwise.
(process.stdout.isTTY ? stream.compose(new spec()) : stream.compose(tap)).pipe(process.stdout);
stream.on('end', () => {
  const slowest = [...perFile].sort((a, b) => b[1] - a[1]).map(([f, s]) => `${path.basename(f, '.test.js')} ${s.toFixed(0)} s`);
  process.stderr.write(`# files by time: ${slowest.join(', ')}\n`);
  process.exitCode = failed ? 1 : 0;
});
