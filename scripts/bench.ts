// The scale benchmark: `npm run bench -- --pages 10000` (default: 10,000 then 100,000).
//
// It generates a synthetic collection shaped like the sample (allow-list JSON + tiny PNG per page, 100
// pages per book, the repository's ocrfile.ts, rules/ and prompts/) in a temp dir and measures, through the
// real CLI as a child process (wall time, CPU time, and peak RSS from /usr/bin/time or VmHWM):
//   - the cold plan: `status --json` and `build --dry-run --json` with no cache (every image hashed);
//   - the no-op build: `build --json` when every page is fresh. The state is populated first by runBuild
//     with an injected instant fake engine (no tesseract; this script run with --populate), so the
//     figure is ocrmake's own cost;
//   - the chained planning of gemini-batch (`--engine gemini-batch --dry-run`, needs no key): cold, where
//     only the first page of each book can be planned, and over the built collection, where every page's
//     prompt is rendered with the previous page's output as context.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { tinyPng } from './png.js';
import type { Engine, EngineCounters, Job, Outcome } from '../src/engines/engine.js';
import { runBuild } from '../src/execute/build.js';
import { durability } from '../src/util/fs.js';

// Compiled to dist/scripts/, so the repository (or the frozen copy of dist/, below) is two levels up.
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SELF = fileURLToPath(import.meta.url);
const PAGES_PER_BOOK = 100;
const TIME = '/usr/bin/time';

interface Figure {
  what: string;
  pages: number;
  seconds: number;
  /** CPU time (user + system) of the child, or null when not measured. */
  cpuSeconds: number | null;
  /** Peak resident set size in MiB, or null when not measured (in-process steps). */
  rssMb: number | null;
  note: string;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { pages: { type: 'string', multiple: true }, keep: { type: 'boolean', default: false }, populate: { type: 'string' } },
  });
  const sizes = (values.pages ?? ['10000', '100000']).flatMap((v) => v.split(',')).map(Number);
  if (sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--pages takes positive integers, got ${values.pages?.join(' ')}`);
  if (values.populate) return populate(values.populate, sizes[0]!); // the child run by benchOne
  const frozen = freezeDist();
  try {
    const figures: Figure[] = [];
    for (const n of sizes) figures.push(...(await benchOne(frozen, n, values.keep)));
    process.stdout.write(`\n${report(figures)}\n`);
  } finally {
    fs.rmSync(frozen.root, { recursive: true, force: true });
  }
}

interface Frozen {
  root: string;
  cli: string;
  bench: string;
}

/**
 * A private copy of dist/ for the whole run: a rebuild while the bench runs (tsc --watch, a colleague's
 * npm test) would otherwise mix two versions of ocrmake, whose fingerprints need not agree.
 */
function freezeDist(): Frozen {
  const dist = path.join(REPO, 'dist');
  if (!fs.existsSync(path.join(dist, 'src/cli/main.js'))) throw new Error(`${dist} has no build: run npm run build first`);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ocrmake-bench-dist-'));
  fs.cpSync(dist, path.join(root, 'dist'), { recursive: true });
  fs.cpSync(path.join(REPO, 'package.json'), path.join(root, 'package.json'));
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(root, 'node_modules'), 'dir');
  return { root, cli: path.join(root, 'dist/src/cli/main.js'), bench: path.join(root, path.relative(REPO, SELF)) };
}

async function benchOne(frozen: Frozen, pages: number, keep: boolean): Promise<Figure[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocrmake-bench-'));
  const out: Figure[] = [];
  const log = (f: Figure) => {
    out.push(f);
    const cpu = f.cpuSeconds === null ? '' : ` (CPU ${f.cpuSeconds.toFixed(2)} s)`;
    process.stderr.write(`  ${f.what}: ${f.seconds.toFixed(2)} s${cpu}${f.rssMb === null ? '' : `, peak RSS ${f.rssMb} MiB`}${f.note ? ` (${f.note})` : ''}\n`);
  };
  process.stderr.write(`bench: ${pages} pages in ${dir}\n`);
  try {
    let t = performance.now();
    generate(dir, pages);
    log({ what: 'generate the collection (not ocrmake)', pages, seconds: since(t), cpuSeconds: null, rssMb: null, note: `${Math.ceil(pages / PAGES_PER_BOOK)} books, ${2 * pages} files` });

    const status = await cli(frozen, dir, ['status', '--json']);
    expect(status, (o) => JSON.parse(o).counts.stale === pages, 'every page stale');
    log({ what: 'cold status (discover, hash every image, plan)', pages, seconds: status.seconds, cpuSeconds: status.cpuSeconds, rssMb: status.rssMb, note: 'empty cache' });

    const dry = await cli(frozen, dir, ['build', '--dry-run', '--json']);
    expect(dry, (o) => lastEvent(o).targets === pages, 'a summary of every page');
    log({ what: 'cold build --dry-run', pages, seconds: dry.seconds, cpuSeconds: dry.cpuSeconds, rssMb: dry.rssMb, note: `empty cache; ${pages} stale events printed` });

    const dryGemini = await cli(frozen, dir, ['build', '--dry-run', '--json', '--engine', 'gemini-batch']);
    expect(dryGemini, (o) => lastEvent(o).targets === pages, 'a summary of every page');
    log({ what: 'cold build --dry-run --engine gemini-batch', pages, seconds: dryGemini.seconds, cpuSeconds: dryGemini.cpuSeconds, rssMb: dryGemini.rssMb, note: 'only the first page of each book has a request yet' });

    const filled = await run(frozen, dir, [frozen.bench, '--populate', dir, '--pages', String(pages)]);
    expect(filled, () => true, 'the collection populated');
    log({ what: 'populate: runBuild with an instant fake engine', pages, seconds: filled.seconds, cpuSeconds: filled.cpuSeconds, rssMb: filled.rssMb, note: 'no tesseract; writes outputs, result store and state without fsync' });

    const noop1 = await cli(frozen, dir, ['build', '--json']);
    expect(noop1, (o) => isNoop(lastEvent(o), pages), 'a no-op');
    log({ what: 'first no-op build after the build', pages, seconds: noop1.seconds, cpuSeconds: noop1.cpuSeconds, rssMb: noop1.rssMb, note: 're-hashes outputs whose hash was recorded within 2 s of their mtime (racy, as git)' });

    let noop2: CliRun | null = null;
    for (let i = 0; i < 3; i++) {
      const r = await cli(frozen, dir, ['build', '--json']);
      expect(r, (o) => isNoop(lastEvent(o), pages), 'a no-op');
      if (!noop2 || r.seconds < noop2.seconds) noop2 = r;
    }
    log({ what: 'no-op build (best of 3)', pages, seconds: noop2!.seconds, cpuSeconds: noop2!.cpuSeconds, rssMb: noop2!.rssMb, note: 'every page fresh: a stat per file' });

    const statusWarm = await cli(frozen, dir, ['status', '--json']);
    expect(statusWarm, (o) => JSON.parse(o).counts.fresh === pages, 'every page fresh');
    log({ what: 'status, every page fresh', pages, seconds: statusWarm.seconds, cpuSeconds: statusWarm.cpuSeconds, rssMb: statusWarm.rssMb, note: '' });

    const switchGemini = await cli(frozen, dir, ['build', '--dry-run', '--json', '--engine', 'gemini-batch']);
    expect(switchGemini, (o) => lastEvent(o).targets === pages, 'a summary of every page');
    log({ what: 'build --dry-run --engine gemini-batch over built outputs', pages, seconds: switchGemini.seconds, cpuSeconds: switchGemini.cpuSeconds, rssMb: switchGemini.rssMb, note: 'renders every prompt with its previous page as context' });
  } finally {
    if (keep) process.stderr.write(`  kept ${dir}\n`);
    else {
      const t = performance.now();
      fs.rmSync(dir, { recursive: true, force: true });
      process.stderr.write(`  removed the collection in ${since(t).toFixed(1)} s\n`);
    }
  }
  return out;
}

// --- the synthetic collection ---

const STATES = ['Alabama', 'California', 'Georgia', 'Illinois', 'Maine', 'Ohio', 'Pennsylvania', 'Tennessee', 'Vermont', 'Virginia'];

/** `books` = pages / 100 books as `{state}/{school}/{year}`: 10 states, up to 100 schools, 10 years each. */
function generate(dir: string, pages: number): void {
  for (const entry of ['ocrfile.ts', 'rules', 'prompts']) fs.cpSync(path.join(REPO, entry), path.join(dir, entry), { recursive: true });
  const books = Math.ceil(pages / PAGES_PER_BOOK);
  for (let b = 0; b < books; b++) {
    const book = `${STATES[b % 10]}/School ${String(Math.floor(b / 100)).padStart(3, '0')} College/${1850 + (Math.floor(b / 10) % 10)}`;
    const labels = path.join(dir, 'dataset/label_to_curricular', book);
    const images = path.join(dir, 'dataset/raw_image_dataset', book);
    fs.mkdirSync(labels, { recursive: true });
    fs.mkdirSync(images, { recursive: true });
    const count = Math.min(PAGES_PER_BOOK, pages - b * PAGES_PER_BOOK);
    for (let p = 1; p <= count; p++) {
      fs.writeFileSync(path.join(labels, `${p}.json`), `{"label":"course_listing","page":${p}}\n`);
      fs.writeFileSync(path.join(images, `${p}.png`), tinyPng(`${book}/${p}`));
    }
  }
}

// --- populating the state without OCR ---

/** An engine that answers every request at once with a tiny value valid under rules/page_ocr.ts. */
function instantEngine(): Engine {
  const counters: EngineCounters = { requests: 0, batches: 0, uploads: 0 };
  return {
    name: 'local',
    images: null, // reads no image: nothing is prepared (OCR-ing is not what is measured)
    jobSize: 500,
    maxJobs: 2,
    counters,
    async *run(job: Job): AsyncIterable<Outcome> {
      for (const r of job.requests) {
        counters.requests++;
        const value = {
          raw_ocr: { text_blocks: [{ block_id: 1, position: 'body', text: `Synthetic page ${r.page.pageNumber} of ${r.page.chainId}.`, font_style: 'regular' }], layout_description: 'synthetic' },
          page_info: { page_number: String(r.page.pageNumber), is_complete_page: true, content_type: 'other' },
          school_name: r.page.vars['school'] ?? null,
          catalog_year: r.page.vars['year'] ?? null,
          academic_year: null,
          courses: [],
        };
        yield { ok: true, key: r.key, fingerprint: r.fingerprint, value };
      }
    },
    async close() {},
  };
}

async function populate(dir: string, pages: number): Promise<void> {
  // A throwaway collection need not survive a power cut; 2 fsyncs per page would dominate this step.
  durability.fsync = false;
  try {
    const { exitCode, summary } = await runBuild({
      root: dir,
      cwd: dir,
      selectors: [],
      dryRun: false,
      force: false,
      engine: 'local',
      emit: () => {},
      createEngine: () => instantEngine(),
    });
    if (exitCode !== 0 || summary.built !== pages) throw new Error(`populate: exit ${exitCode}, built ${summary.built} of ${pages}`);
  } finally {
    durability.fsync = true;
  }
}

// --- running the CLI ---

interface CliRun {
  seconds: number;
  cpuSeconds: number | null;
  rssMb: number | null;
  code: number | null;
  stdout: string;
  stderr: string;
}

const haveTime = fs.existsSync(TIME);

/** Runs node with `args` in `dir` and measures wall time, CPU time and peak RSS (GNU time, else VmHWM sampled). */
function run(frozen: Frozen, dir: string, args: string[]): Promise<CliRun> {
  const rssFile = path.join(frozen.root, '.bench-rss');
  const [cmd, argv] = haveTime ? [TIME, ['-f', '%M %U %S', '-o', rssFile, process.execPath, ...args]] : [process.execPath, args];
  const env = { ...process.env };
  for (const k of ['GEMINI_API_KEY', 'GOOGLE_API_KEY', 'BRAINTRUST_API_KEY']) delete env[k];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(cmd, argv, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    // Keep only the tail of stdout: a dry run prints one line per page.
    let stdout = '', stderr = '', hwm = 0;
    child.stdout.on('data', (d: Buffer) => (stdout = (stdout + d.toString()).slice(-1_000_000)));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
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

/** Runs the (frozen) CLI in `dir`. */
const cli = (frozen: Frozen, dir: string, args: string[]): Promise<CliRun> => run(frozen, dir, [frozen.cli, ...args]);

function vmHwmKb(pid: number): number {
  try {
    return Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

function expect(run: CliRun, ok: (stdout: string) => boolean, what: string): void {
  let good = false;
  try {
    good = run.code === 0 && ok(run.stdout);
  } catch {
    good = false;
  }
  if (!good) throw new Error(`expected ${what}; exit ${run.code}\nstdout (tail): ${run.stdout.slice(-2000)}\nstderr: ${run.stderr.slice(-4000)}`);
}

function lastEvent(stdout: string): Record<string, number> {
  return JSON.parse(stdout.trimEnd().split('\n').at(-1)!);
}

function isNoop(s: Record<string, number>, pages: number): boolean {
  return s.requests === 0 && s.built === 0 && s.restored === 0 && s.fresh === pages;
}

const since = (t: number): number => (performance.now() - t) / 1000;

// --- the report ---

function report(figures: Figure[]): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const lines = [
    `ocrmake bench — ${os.availableParallelism()} cores (${cpu}), ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, node ${process.version}, ${os.platform()} ${os.release()}`,
    `Collection on ${os.tmpdir()} (warm page cache: the files were just written). Peak RSS from ${haveTime ? 'GNU time (%M)' : 'VmHWM sampled every 20 ms'}.`,
    `Load average at the end: ${os.loadavg().map((l) => l.toFixed(1)).join(', ')} (wall times stretch on a busy machine; CPU s much less).`,
    '',
    '| pages | step | wall s | CPU s | peak RSS MiB | note |',
    '|---:|---|---:|---:|---:|---|',
    ...figures.map((f) => `| ${f.pages.toLocaleString('en-US')} | ${f.what} | ${f.seconds.toFixed(2)} | ${f.cpuSeconds?.toFixed(2) ?? '—'} | ${f.rssMb ?? '—'} | ${f.note} |`),
  ];
  return lines.join('\n');
}

main().catch((err) => {
  process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
