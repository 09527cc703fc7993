// `ocrmake watch --json` as a child process whose NDJSON events are read as they arrive, so a test can wait
// for a given event (with a timeout) instead of sleeping.
import type { ChildProcess } from 'node:child_process';
import { startCli } from './rig.js';

export type WatchEvent = Record<string, any> & { event: string };

/** The events of one build: from its `start` to its `summary`. */
export interface BuildRun {
  start: WatchEvent;
  events: WatchEvent[];
  summary: WatchEvent;
}

const live = new Set<WatchSession>();

/** Kills every watch still running (for `after` hooks): nothing may outlive the test file. */
export async function killAll(): Promise<void> {
  await Promise.all([...live].map((w) => w.kill()));
}

export class WatchSession {
  readonly child: ChildProcess;
  readonly events: WatchEvent[] = [];
  stdout = '';
  stderr = '';
  /** Index of the first event `next()` looks at. */
  #cursor = 0;
  #partial = '';
  #listeners = new Set<() => void>();
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(dir: string, args: string[], env: Record<string, string> = {}) {
    this.child = startCli(dir, ['watch', '--json', ...args], env);
    live.add(this);
    this.child.stdout!.setEncoding('utf8');
    this.child.stderr!.setEncoding('utf8');
    this.child.stdout!.on('data', (chunk: string) => {
      this.stdout += chunk;
      const lines = (this.#partial + chunk).split('\n');
      this.#partial = lines.pop()!;
      for (const line of lines) {
        if (!line.startsWith('{')) continue;
        try {
          this.events.push(JSON.parse(line) as WatchEvent);
        } catch {
          continue;
        }
      }
      this.#notify();
    });
    this.child.stderr!.on('data', (chunk: string) => {
      this.stderr += chunk;
      this.#notify();
    });
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        live.delete(this);
        resolve({ code, signal });
        this.#notify();
      });
    });
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  #notify(): void {
    for (const l of [...this.#listeners]) l();
  }

  /** Resolves once `check` returns a value other than undefined (checked on every output and at exit). */
  until<T>(check: () => T | undefined, what: string, timeoutMs = 300_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const done = (fn: () => void) => {
        clearTimeout(timer);
        this.#listeners.delete(listener);
        fn();
      };
      const listener = () => {
        let value: T | undefined;
        try {
          value = check();
        } catch (err) {
          return done(() => reject(err));
        }
        if (value !== undefined) return done(() => resolve(value));
        if (!this.running) done(() => reject(new Error(`ocrmake watch exited while waiting for ${what}\n${this.transcript()}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${this.transcript()}`))), timeoutMs);
      this.#listeners.add(listener);
      listener();
    });
  }

  /** The next event (after the previous one `next` returned) that matches; moves past it. */
  async next(match: (e: WatchEvent) => boolean, what: string, timeoutMs?: number): Promise<WatchEvent> {
    const i = await this.until(() => {
      for (let j = this.#cursor; j < this.events.length; j++) if (match(this.events[j]!)) return j;
      return undefined;
    }, what, timeoutMs);
    this.#cursor = i + 1;
    return this.events[i]!;
  }

  /**
   * The next build, from its `start` to its `summary`; with `started`, the build whose `start` the last
   * `next()` already returned.
   */
  async build(what: string, timeoutMs = 120_000, o: { started?: boolean } = {}): Promise<BuildRun> {
    const start = o.started ? this.events[this.#cursor - 1] : await this.next((e) => e.event === 'start', `the start of ${what}`, timeoutMs);
    if (start?.event !== 'start') throw new Error(`build(${what}, { started: true }): the last event returned is not a start`);
    const from = this.#cursor - 1;
    const summary = await this.next((e) => e.event === 'summary', `the summary of ${what}`, timeoutMs);
    return { start, events: this.events.slice(from, this.#cursor), summary };
  }

  /** Where the event log stands now (for `since`). */
  mark(): number {
    return this.events.length;
  }

  since(mark: number, event?: string): WatchEvent[] {
    return this.events.slice(mark).filter((e) => event === undefined || e.event === event);
  }

  /** Sends a signal and waits for the exit. */
  async stop(signal: NodeJS.Signals, timeoutMs = 60_000): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
    const t0 = Date.now();
    this.child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`ocrmake watch did not exit within ${timeoutMs} ms of ${signal}\n${this.transcript()}`)), timeoutMs);
    });
    try {
      const r = await Promise.race([this.exited, timeout]);
      return { ...r, ms: Date.now() - t0 };
    } finally {
      clearTimeout(timer);
    }
  }

  async kill(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  transcript(): string {
    return `--- stdout (last 6000) ---\n${this.stdout.slice(-6000)}\n--- stderr (last 3000) ---\n${this.stderr.slice(-3000)}`;
  }
}

/** Polls a condition outside the watch process (the fake server's counters) until it holds. */
export async function waitUntil(check: () => boolean, what: string, timeoutMs = 60_000, everyMs = 10): Promise<void> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
