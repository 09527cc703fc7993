// A real terminal for tests of the live panel: the CLI runs in a detached tmux session on a private socket,
// and the test reads the screen with capture-pane. Waits poll the screen for what they expect (bounded),
// never sleep for a fixed time.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The tmux binary, or null when it is not installed. */
export const TMUX: string | null = ['/usr/bin/tmux', '/usr/local/bin/tmux', '/bin/tmux'].find((p) => fs.existsSync(p)) ?? null;

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export class TmuxScreen {
  readonly #socket: string;
  readonly #tmp: string;
  readonly columns: number;

  /** Starts `command` (argv) in `cwd` with `env` on a terminal of `columns` × `rows`. */
  constructor(o: { command: string[]; cwd: string; env: NodeJS.ProcessEnv; columns: number; rows: number }) {
    if (!TMUX) throw new Error('tmux is not installed');
    this.#tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ocrmake-tmux-'));
    this.#socket = path.join(this.#tmp, 'socket');
    this.columns = o.columns;
    // The shell line keeps the pane open after the command, with its exit code on screen.
    const line = `cd ${quote(o.cwd)} && ${o.command.map(quote).join(' ')}; echo "[exit $?]"; exec sleep 3600`;
    execFileSync(TMUX, ['-S', this.#socket, '-f', '/dev/null', 'new-session', '-d', '-s', 'ocrmake', '-x', String(o.columns), '-y', String(o.rows), line], {
      env: { ...o.env, TERM: 'xterm-256color' },
    });
  }

  /** The screen as text (with `escapes`: its colours as SGR sequences too). */
  capture(escapes = false): string {
    const r = spawnSync(TMUX!, ['-S', this.#socket, 'capture-pane', '-p', ...(escapes ? ['-e'] : []), '-t', 'ocrmake'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tmux capture-pane failed: ${r.stderr}`);
    return r.stdout;
  }

  /** Resolves with the first screen for which `check` holds; every screen seen goes into `seen`. */
  async until(check: (screen: string) => boolean, what: string, o: { timeoutMs?: number; seen?: string[] } = {}): Promise<string> {
    const t0 = Date.now();
    for (;;) {
      const screen = this.capture();
      if (o.seen && o.seen.at(-1) !== screen) o.seen.push(screen);
      if (check(screen)) return screen;
      if (/^\[exit \d+\]$/m.test(screen) && !what.includes('exit')) throw new Error(`the command ended while waiting for ${what}:\n${screen}`);
      if (Date.now() - t0 > (o.timeoutMs ?? 300_000)) throw new Error(`timed out waiting for ${what}; the screen:\n${screen}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  close(): void {
    spawnSync(TMUX!, ['-S', this.#socket, 'kill-server']);
    fs.rmSync(this.#tmp, { recursive: true, force: true });
  }
}
