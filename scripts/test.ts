// `npm test` (after compiling): every dist/test/*.test.js through `node --test`, the slowest files first. With
// two files at a time, the last file to start decides when the suite ends: started last, a long file runs
// alone at the end while the other lane idles (longest-first scheduling). Files not named here go after, in
// name order. The per-test timeout only catches a hang: a busy machine is slow, not wrong, and the tests'
// own waits are on events, with generous bounds.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const TESTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../test');
/** Measured on 2 cores, longest first (README "Development" has the figures). */
const SLOWEST = ['watch', 'secrets', 'adopt-gc', 'bad-inputs', 'gemini-batch', 'failures', 'readme', 'crash', 'cli-build', 'gemini-crash', 'braintrust', 'cost', 'run-report', 'report', 'tty'];
const HANG_MS = 20 * 60_000;

const files = fs.readdirSync(TESTS).filter((f) => f.endsWith('.test.js'));
const rank = (f: string) => {
  const i = SLOWEST.indexOf(f.replace(/\.test\.js$/, ''));
  return i < 0 ? SLOWEST.length : i;
};
files.sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : 1));
const concurrency = process.env['OCRMAKE_TEST_CONCURRENCY'] ?? '2';
const child = spawn(process.execPath, ['--test', `--test-concurrency=${concurrency}`, `--test-timeout=${HANG_MS}`, ...process.argv.slice(2), ...files.map((f) => path.join(TESTS, f))], { stdio: 'inherit' });
child.on('close', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
