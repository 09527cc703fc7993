// Running the real CLI for README examples: stdout and stderr through one pipe, so the text is in the
// order a terminal shows it, and the command line as a reader would type it.
import { spawn, type ChildProcess } from 'node:child_process';
import { CLI, cleanEnv } from '../../test/util/rig.js';

export interface Ran {
  /** `$ npx ocrmake …` as shown in the README. */
  command: string;
  code: number | null;
  /** stdout and stderr as one terminal would show them. */
  output: string;
}

/** How a reader types the arguments: quoted when the shell needs it. */
export function shellWords(args: readonly string[]): string {
  return args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

function spawnCli(dir: string, args: readonly string[], env: Record<string, string>): ChildProcess {
  // One pipe for both streams (2>&1): the interleaving is the real one.
  // `exec`: the child is ocrmake itself, so a signal sent to it reaches ocrmake.
  return spawn('/bin/sh', ['-c', 'exec "$0" "$@" 2>&1 < /dev/null', process.execPath, CLI, ...args], { cwd: dir, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'ignore'] });
}

/** Runs `ocrmake args` in `dir` to its end. `shown` replaces the displayed arguments (e.g. to add `< /dev/null`). */
export function ocrmake(dir: string, args: readonly string[], env: Record<string, string> = {}, shown?: string): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawnCli(dir, args, env);
    let output = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => (output += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`ocrmake ${args.join(' ')} did not finish in 10 minutes:\n${output}`));
    }, 10 * 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ command: `$ npx ocrmake ${shown ?? shellWords(args)}`, code, output });
    });
  });
}

/** A long-running command (watch) whose output a script reacts to, line by line. */
export class Session {
  readonly child: ChildProcess;
  output = '';
  readonly #waiters = new Set<() => void>();
  readonly exited: Promise<number | null>;

  constructor(dir: string, args: readonly string[], env: Record<string, string> = {}) {
    this.child = spawnCli(dir, args, env);
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (d: string) => {
      this.output += d;
      for (const w of [...this.#waiters]) w();
    });
    this.exited = new Promise((resolve) => this.child.on('close', (code) => {
      resolve(code);
      for (const w of [...this.#waiters]) w();
    }));
  }

  /** Waits until the output after `from` matches `re` (bounded); returns the index just past the match. */
  until(re: RegExp, from: number, what: string, timeoutMs = 5 * 60_000): Promise<number> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = re.exec(this.output.slice(from));
        if (m) return done(() => resolve(from + m.index + m[0].length));
        if (this.child.exitCode !== null) done(() => reject(new Error(`watch ended while waiting for ${what}:\n${this.output}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`timed out waiting for ${what}:\n${this.output}`))), timeoutMs);
      const done = (f: () => void) => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        f();
      };
      this.#waiters.add(check);
      check();
    });
  }
}
