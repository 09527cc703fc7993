// The test rig: a temporary copy of the sample project and a way to run the real CLI in it (STYLE §13).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file runs from dist/test/util/). */
export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const CLI = path.join(REPO, 'dist/src/cli/main.js');

export interface ProjectOptions {
  /** Only these books (`state/school/year` folders); default all. */
  books?: string[];
  /** Extra or replacement files, path → content. */
  files?: Record<string, string | Buffer>;
  /** Copy the sample dataset (default true). */
  dataset?: boolean;
}

const tmpRoots: string[] = [];
process.on('exit', () => {
  if (process.env['OCRMAKE_KEEP_TMP']) return;
  for (const d of tmpRoots) fs.rmSync(d, { recursive: true, force: true });
});

/** A new empty folder in the temp dir (`prefix` + random), removed when the test process exits. */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tmpRoots.push(dir);
  return dir;
}

/** A fresh project in a temp dir: ocrfile.ts, rules/, prompts/ and (a subset of) the sample dataset. */
export function makeProject(o: ProjectOptions = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocrmake-test-'));
  tmpRoots.push(dir);
  fs.cpSync(path.join(REPO, 'ocrfile.ts'), path.join(dir, 'ocrfile.ts'));
  fs.cpSync(path.join(REPO, 'rules'), path.join(dir, 'rules'), { recursive: true });
  fs.cpSync(path.join(REPO, 'prompts'), path.join(dir, 'prompts'), { recursive: true });
  if (o.dataset !== false) {
    for (const sub of ['label_to_curricular', 'raw_image_dataset', 'ground_truth']) {
      const from = path.join(REPO, 'dataset', sub);
      for (const book of o.books ?? listBooks()) {
        const src = path.join(from, book);
        if (fs.existsSync(src)) fs.cpSync(src, path.join(dir, 'dataset', sub, book), { recursive: true });
      }
    }
  }
  for (const [file, content] of Object.entries(o.files ?? {})) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), content);
  }
  return dir;
}

/** `state/school/year` of every sample book. */
export function listBooks(): string[] {
  const root = path.join(REPO, 'dataset', 'raw_image_dataset');
  return fs.readdirSync(root).flatMap((s) => fs.readdirSync(path.join(root, s)).flatMap((c) => fs.readdirSync(path.join(root, s, c)).map((y) => `${s}/${c}/${y}`)));
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as NDJSON (lines that are not JSON are skipped). */
  events: any[];
}

/** Environment for child processes: no Gemini or Braintrust keys (and no colour settings) unless a test adds them. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  // Colour settings too: tests read plain text unless they ask for colour.
  for (const k of ['GEMINI_API_KEY', 'GOOGLE_API_KEY', 'GOOGLE_GEMINI_BASE_URL', 'BRAINTRUST_API_KEY', 'BRAINTRUST_PROJECT', 'BRAINTRUST_PROJECT_NAME', 'OCRMAKE_CONFIG', 'GOOGLE_GENAI_USE_VERTEXAI', 'FORCE_COLOR', 'NO_COLOR']) delete env[k];
  return { ...env, ...extra };
}

export function startCli(dir: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  const traced = process.env['OCRMAKE_TEST_TRACE'] ? ['--import', CPU_TRACE] : [];
  // OCRMAKE_TEST_PROFILE=dir: a V8 CPU profile of every CLI run, for finding what a test's commands spend.
  if (process.env['OCRMAKE_TEST_PROFILE']) traced.push('--cpu-prof', `--cpu-prof-dir=${process.env['OCRMAKE_TEST_PROFILE']}`);
  return spawn(process.execPath, [...traced, CLI, ...args], { cwd: dir, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
}

export function runCli(dir: string, args: string[], o: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = startCli(dir, args, o.env);
    let stdout = '', stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`ocrmake ${args.join(' ')} timed out\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, o.timeoutMs ?? 600_000);
    const t0 = Date.now();
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result = { code, signal, stdout, stderr, events: parseNdjson(stdout) };
      trace(args, child.pid, Date.now() - t0, result);
      resolve(result);
    });
  });
}

/** With OCRMAKE_TEST_TRACE=file, one line per CLI run (test file, command, wall ms, engine of its build): where the suite's time goes. */
/** Preloaded in traced CLI runs: the process's own CPU seconds, appended to the trace file + '.cpu' at exit. */
const CPU_TRACE = `data:text/javascript,${encodeURIComponent("import fs from 'node:fs'; process.on('exit', () => { const u = process.cpuUsage(); fs.appendFileSync(process.env.OCRMAKE_TEST_TRACE + '.cpu', process.pid + '\\t' + ((u.user + u.system) / 1e6).toFixed(2) + '\\n'); });")}`;

function trace(args: string[], pid: number | undefined, ms: number, r: CliResult): void {
  const file = process.env['OCRMAKE_TEST_TRACE'];
  if (!file) return;
  const built = /(\d+) built/.exec(r.stdout + r.stderr)?.[1] ?? r.events.findLast((e) => e.event === 'summary')?.built ?? '';
  fs.appendFileSync(file, `${path.basename(process.argv[1] ?? '?')}\t${ms}\t${built}\t${pid}\t${args.join(' ')}\n`);
}

export function parseNdjson(text: string): any[] {
  return text.split('\n').flatMap((l) => {
    try {
      return l.startsWith('{') ? [JSON.parse(l)] : [];
    } catch {
      return [];
    }
  });
}

export function summaryOf(r: CliResult): Record<string, number> {
  const s = r.events.findLast((e) => e.event === 'summary');
  if (!s) throw new Error(`no summary event\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return s;
}

export const read = (dir: string, file: string) => fs.readFileSync(path.join(dir, file), 'utf8');
export const write = (dir: string, file: string, content: string | Buffer) => {
  fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
  fs.writeFileSync(path.join(dir, file), content);
};
