// How the bench runs a program and measures it: wall time, CPU time (user + system) and peak RSS, from GNU
// time when installed (else VmHWM sampled every 20 ms, and no CPU time).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const TIME = '/usr/bin/time';
export const haveTime = fs.existsSync(TIME);

export interface Run {
  seconds: number;
  cpuSeconds: number | null;
  rssMb: number | null;
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `cmd args` in `dir` with no API keys in its environment, and measures it. */
export function measure(cmd: string, args: string[], dir: string, extraEnv: Record<string, string> = {}): Promise<Run> {
  const rssFile = path.join(os.tmpdir(), `.ocrmake-bench-rss-${process.pid}`);
  const [bin, argv] = haveTime ? [TIME, ['-f', '%M %U %S', '-o', rssFile, cmd, ...args]] : [cmd, args];
  const env: NodeJS.ProcessEnv = { ...process.env, ...extraEnv };
  for (const k of ['GEMINI_API_KEY', 'GOOGLE_API_KEY', 'BRAINTRUST_API_KEY']) delete env[k];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(bin, argv, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    // Keep only the tail of stdout: a dry run prints one line per page.
    let stdout = '', stderr = '', hwm = 0;
    child.stdout.on('data', (d: Buffer) => (stdout = (stdout + d.toString()).slice(-1_000_000)));
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-100_000)));
    const sampler = haveTime ? null : setInterval(() => (hwm = Math.max(hwm, vmHwmKb(child.pid!))), 20);
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = since(started);
      if (sampler) clearInterval(sampler);
      let kb: number | null = hwm || null;
      let cpuSeconds: number | null = null;
      if (haveTime) {
        // The last line: "<max RSS KiB> <user s> <system s>" (earlier lines, if any, are time's own notes).
        const [rss, user, sys] = fs.readFileSync(rssFile, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number);
        kb = rss ?? null;
        cpuSeconds = (user ?? 0) + (sys ?? 0);
        fs.rmSync(rssFile, { force: true });
      }
      resolve({ seconds, cpuSeconds, rssMb: kb === null || !Number.isFinite(kb) ? null : Math.round(kb / 1024), code, stdout, stderr });
    });
  });
}

function vmHwmKb(pid: number): number {
  try {
    return Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** The best (lowest wall time) of `n` runs, each checked by `ok`. */
export async function bestOf(n: number, go: () => Promise<Run>, ok: (r: Run) => void): Promise<Run> {
  let best: Run | null = null;
  for (let i = 0; i < n; i++) {
    const r = await go();
    ok(r);
    if (!best || r.seconds < best.seconds) best = r;
  }
  return best!;
}

export function expectRun(run: Run, ok: (stdout: string) => boolean, what: string): void {
  let good = false;
  try {
    good = run.code === 0 && ok(run.stdout);
  } catch {
    good = false;
  }
  if (!good) throw new Error(`expected ${what}; exit ${run.code}\nstdout (tail): ${run.stdout.slice(-2000)}\nstderr: ${run.stderr.slice(-4000)}`);
}

export const since = (t: number): number => (performance.now() - t) / 1000;
