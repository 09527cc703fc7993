// Slow set-up, done once and shared: the sample project after its first build with the local engine (12
// pages through tesseract.js, ~15 s of CPU), and the README's examples (~40 real commands). Every test file
// and script that needs a built sample gets its own copy of it, with the first build's output; only the
// first one to ask pays for the build.
//
// A fixture lives in the system temp folder under a key that hashes everything it depends on (the compiled
// code, the sample's ocrfile, rules, prompts and dataset, the lock file of node_modules, the Node version),
// so a changed ocrmake never reuses an old result. Test processes run side by side: the first takes a lock
// (an exclusive mkdir) and makes the fixture; the others wait for it (bounded), and take over the lock if
// its holder died.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeProject, REPO, runCli, type CliResult } from './rig.js';

const ROOT = path.join(os.tmpdir(), 'ocrmake-test-fixtures');
/** A fixture build may take long on a busy machine; waiting longer than this means something is wrong. */
const WAIT_MS = 15 * 60_000;

export interface BuiltSample {
  /** A fresh copy of the built project, the caller's to change. */
  dir: string;
  /** The first build (`ocrmake build`, plain output, no key) as it ran. */
  firstBuild: Pick<CliResult, 'code' | 'stdout' | 'stderr'>;
}

/** The inputs of everything the fixtures hold: the CLI, and the sample it runs on. */
const SAMPLE_INPUTS = ['dist/src', 'rules', 'prompts', 'dataset/raw_image_dataset', 'dataset/label_to_curricular', 'ocrfile.ts', 'package-lock.json'];

/** A copy of the sample project built with the local engine, and that build's output. */
export async function builtSample(): Promise<BuiltSample> {
  const home = await fixture('sample-local', SAMPLE_INPUTS, async (project) => {
    const r = await runCli(project, ['build'], { timeoutMs: WAIT_MS });
    if (r.code !== 0) throw new Error(`the fixture build failed (exit ${r.code})\n${r.stdout}\n${r.stderr}`);
    return { code: r.code, stdout: r.stdout, stderr: r.stderr };
  });
  const dir = makeProject({ dataset: false });
  fs.cpSync(path.join(home, 'project'), dir, { recursive: true });
  const firstBuild = JSON.parse(fs.readFileSync(path.join(home, 'result.json'), 'utf8')) as BuiltSample['firstBuild'];
  return { dir, firstBuild };
}

/**
 * `make()`'s result (JSON), made once for these inputs (files and folders of the repository, whose content
 * is the key) and kept; `fresh` makes it again and keeps the new one.
 */
export async function cached<T>(name: string, inputs: readonly string[], make: () => Promise<T>, fresh = false): Promise<T> {
  if (fresh) fs.rmSync(path.join(ROOT, `${name}-${inputsKey(inputs)}`), { recursive: true, force: true });
  const home = await fixture(name, inputs, () => make(), false);
  return JSON.parse(fs.readFileSync(path.join(home, 'result.json'), 'utf8')) as T;
}

/**
 * The folder of a finished fixture: `result.json` (and, with `keepProject`, the `project/` that `make` was
 * given), made unless already there.
 */
async function fixture(name: string, inputs: readonly string[], make: (project: string) => Promise<unknown>, keepProject = true): Promise<string> {
  const home = path.join(ROOT, `${name}-${inputsKey(inputs)}`);
  const done = path.join(home, 'result.json');
  const lock = `${home}.lock`;
  fs.mkdirSync(ROOT, { recursive: true });
  const t0 = Date.now();
  for (;;) {
    if (fs.existsSync(done)) return home;
    if (tryLock(lock)) break;
    if (Date.now() - t0 > WAIT_MS) throw new Error(`waited ${WAIT_MS / 60_000} min for the fixture ${home} (lock ${lock})`);
    await new Promise((r) => setTimeout(r, 200));
  }
  try {
    if (fs.existsSync(done)) return home;
    const work = `${home}.tmp-${process.pid}`;
    fs.rmSync(work, { recursive: true, force: true });
    const project = keepProject ? makeProject() : '';
    const result = await make(project);
    fs.mkdirSync(work, { recursive: true });
    if (keepProject) fs.cpSync(project, path.join(work, 'project'), { recursive: true });
    fs.writeFileSync(path.join(work, 'result.json'), JSON.stringify(result));
    fs.rmSync(home, { recursive: true, force: true });
    fs.renameSync(work, home);
    prune(name, home);
    return home;
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

/** An exclusive lock; a lock whose holder is gone is taken over. */
function tryLock(lock: string): boolean {
  try {
    fs.mkdirSync(lock);
    fs.writeFileSync(path.join(lock, 'pid'), String(process.pid));
    return true;
  } catch {
    const pid = Number(readOr(path.join(lock, 'pid'), '0'));
    if (pid > 0 && !alive(pid)) fs.rmSync(lock, { recursive: true, force: true });
    return false;
  }
}

const readOr = (file: string, fallback: string) => {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
};

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const keys = new Map<string, string>();

/** Hash of the content of `inputs` (files, or folders walked in full; source maps and .d.ts left out). */
export function inputsKey(inputs: readonly string[]): string {
  const id = inputs.join('\n');
  const known = keys.get(id);
  if (known) return known;
  const h = crypto.createHash('sha256').update(process.version);
  const add = (file: string) => h.update(path.relative(REPO, file)).update('\0').update(fs.readFileSync(file)).update('\0');
  for (const input of inputs) {
    const top = path.join(REPO, input);
    if (!fs.existsSync(top)) continue;
    if (fs.statSync(top).isFile()) {
      add(top);
      continue;
    }
    for (const f of (fs.readdirSync(top, { recursive: true }) as string[]).sort()) {
      const file = path.join(top, f);
      if (fs.statSync(file).isFile() && !f.endsWith('.map') && !f.endsWith('.d.ts')) add(file);
    }
  }
  const key = h.digest('hex').slice(0, 16);
  keys.set(id, key);
  return key;
}

/** Fixtures of older keys go (they are never used again); a day's grace for runs still reading them. */
function prune(name: string, keep: string): void {
  for (const entry of fs.readdirSync(ROOT)) {
    const full = path.join(ROOT, entry);
    if (full === keep || !entry.startsWith(`${name}-`)) continue;
    try {
      if (Date.now() - fs.statSync(full).mtimeMs > 24 * 3600_000) fs.rmSync(full, { recursive: true, force: true });
    } catch {
      // Another process pruned it.
    }
  }
}
