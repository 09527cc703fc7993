// The scale benchmark: `npm run bench` (10,000 then 100,000 pages), `npm run bench -- --pages N` (any sizes),
// `npm run bench -- --million` (adds 1,000,000; hours and ~10 GB of small files: run it on a quiet machine).
//
// It generates a synthetic collection shaped like the sample (allow-list JSON + tiny PNG per page, 100
// pages per book, the repository's ocrfile.ts, rules/ and prompts/) in a temp dir and measures, through the
// real CLI as a child process (wall time, CPU time, and peak RSS from /usr/bin/time or VmHWM):
//   - the cold plan: `status --json` and `build --dry-run --json` with no cache (every image hashed);
//   - the first build, by runBuild with an injected instant fake engine (this script run with --populate):
//     ocrmake's own cost of writing N outputs, result objects and records, with the shipped durability;
//   - the state's size per page, one save after a 1,000-page batch (--save-probe) and the fold after it;
//   - the no-op build, beside a no-op `ninja` over the same tree (scripts/bench-ninja.ts) when ninja is
//     installed; `status` with every page fresh;
//   - the chained planning of gemini-batch (`--engine gemini-batch --dry-run`, needs no key) over the built
//     collection, where every page's request depends on the previous page's output;
//   - `adopt` of every output into an empty cache;
// and once, result ingestion from the fake Gemini server in 1,000-page batches (scripts/bench-ingest.ts).
// It ends with the table of issue 13: each measure, its figure, ninja's, and the goal.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { tinyPng } from './png.js';
import { benchIngest, ingestCollection, type IngestFigure } from './bench-ingest.js';
import { findNinja, writeNinja, type Book } from './bench-ninja.js';
import { bestOf, expectRun, haveTime, measure, since, type Run } from './bench-run.js';
import type { Engine, EngineCounters, Job, Outcome } from '../src/engines/engine.js';
import { StateStore } from '../src/cache/state.js';
import { runBuild } from '../src/execute/build.js';

// Compiled to dist/scripts/, so the repository (or the frozen copy of dist/, below) is two levels up.
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SELF = fileURLToPath(import.meta.url);
const PAGES_PER_BOOK = 100;

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

/** The figures the summary table needs, per collection size. */
interface Headline {
  pages: number;
  noop: Run;
  /** The no-op without the no-op proof: the cache loaded. */
  noopFull: Run;
  ninjaNoop: Run | null;
  firstBuild: Run;
  stateBytes: number;
  save: { saveMs: number; foldMs: number };
  coldStatus: Run;
  dryGeminiBuilt: Run;
  adopt: Run;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      pages: { type: 'string', multiple: true },
      million: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      'no-ingest': { type: 'boolean', default: false },
      populate: { type: 'string' },
      'save-probe': { type: 'string' },
    },
  });
  const sizes = (values.pages ?? ['10000', '100000']).flatMap((v) => v.split(',')).map(Number);
  if (values.million) sizes.push(1_000_000);
  if (sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--pages takes positive integers, got ${values.pages?.join(' ')}`);
  if (values.populate) return populate(values.populate, sizes[0]!); // children run by benchOne
  if (values['save-probe']) return saveProbe(values['save-probe']);
  const frozen = freezeDist();
  const ninja = findNinja();
  if (!ninja) process.stderr.write('bench: ninja is not installed (apt-get install ninja-build): ocrmake\'s figures are printed alone\n');
  try {
    const figures: Figure[] = [];
    const heads: Headline[] = [];
    for (const n of sizes) {
      const r = await benchOne(frozen, ninja, n, values.keep);
      figures.push(...r.figures);
      heads.push(r.head);
    }
    const ingest = values['no-ingest'] ? null : await benchIngestOnce(frozen);
    process.stdout.write(`\n${report(figures, heads, ingest, ninja)}\n`);
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

async function benchOne(frozen: Frozen, ninja: string | null, pages: number, keep: boolean): Promise<{ figures: Figure[]; head: Headline }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocrmake-bench-'));
  const out: Figure[] = [];
  const log = (what: string, r: Pick<Run, 'seconds' | 'cpuSeconds' | 'rssMb'>, note = '') => {
    out.push({ what, pages, seconds: r.seconds, cpuSeconds: r.cpuSeconds, rssMb: r.rssMb, note });
    const cpu = r.cpuSeconds === null ? '' : ` (CPU ${r.cpuSeconds.toFixed(2)} s)`;
    process.stderr.write(`  ${what}: ${r.seconds.toFixed(2)} s${cpu}${r.rssMb === null ? '' : `, peak RSS ${r.rssMb} MiB`}${note ? ` (${note})` : ''}\n`);
  };
  const cli = (args: string[]) => measure(process.execPath, [frozen.cli, ...args], dir);
  const noopOk = (r: Run) => expectRun(r, (o) => isNoop(lastEvent(o), pages), 'a no-op');
  process.stderr.write(`bench: ${pages} pages in ${dir}\n`);
  try {
    let t = performance.now();
    const books = generate(dir, pages);
    log('generate the collection (not ocrmake)', { seconds: since(t), cpuSeconds: null, rssMb: null }, `${books.length} books, ${2 * pages} files`);

    const coldStatus = await cli(['status', '--json']);
    expectRun(coldStatus, (o) => JSON.parse(o).counts.stale === pages, 'every page stale');
    log('cold status (discover, hash every image, plan)', coldStatus, 'empty cache');

    const dry = await cli(['build', '--dry-run', '--json']);
    expectRun(dry, (o) => lastEvent(o).targets === pages, 'a summary of every page');
    log('cold build --dry-run', dry, `empty cache; ${pages} stale events printed`);

    const firstBuild = await measure(process.execPath, [frozen.bench, '--populate', dir, '--pages', String(pages)], dir);
    expectRun(firstBuild, () => true, 'the collection built');
    log('first build: runBuild with an instant fake engine', firstBuild, 'no OCR; writes outputs, packed result objects and records, group commit and journal on');
    const stateBytes = ['state.sqlite', 'state.journal'].reduce((n, f) => n + (fs.statSync(path.join(dir, '.ocrcache', f), { throwIfNoEntry: false })?.size ?? 0), 0);
    log('state size (state.sqlite + state.journal)', { seconds: 0, cpuSeconds: null, rssMb: null }, `${(stateBytes / 2 ** 20).toFixed(1)} MiB, ${Math.round(stateBytes / pages)} B per page`);

    const noop1 = await cli(['build', '--json']);
    noopOk(noop1);
    log('first no-op build after the build', noop1, 're-hashes outputs whose hash was recorded within 2 s of their mtime (racy, as git)');
    const noop = await bestOf(3, () => cli(['build', '--json']), noopOk);
    log('no-op build (best of 3)', noop, `every page fresh: ${lastEvent(noop.stdout).quick ? 'proven by the no-op proof, a stat per file, the cache not loaded' : 'the full path (no proof: racy files)'}`);
    fs.rmSync(path.join(dir, '.ocrcache/noop-proof'), { force: true });
    const noopFull = await cli(['build', '--json']);
    noopOk(noopFull);
    log('no-op build without the proof (full path)', noopFull, 'loads every record of the cache, a stat per file; writes the proof again');

    let ninjaNoop: Run | null = null;
    if (ninja) {
      writeNinja(dir, books);
      const first = await measure(ninja, ['-j2'], dir);
      expectRun(first, () => true, 'ninja to build');
      log('ninja: first build (touch each output)', first, 'not compared: a process per page');
      ninjaNoop = await bestOf(3, () => measure(ninja, [], dir), (r) => expectRun(r, (o) => o.includes('no work to do'), 'a ninja no-op'));
      log('ninja: no-op build (best of 3)', ninjaNoop, 'a stat per file, .ninja_log loaded');
    }

    const statusWarm = await cli(['status', '--json']);
    expectRun(statusWarm, (o) => JSON.parse(o).counts.fresh === pages, 'every page fresh');
    log('status, every page fresh', statusWarm);

    const probe = await measure(process.execPath, [frozen.bench, '--save-probe', dir], dir);
    expectRun(probe, () => true, 'the save probe');
    const save = JSON.parse(probe.stdout.trim().split('\n').at(-1)!) as { saveMs: number; foldMs: number };
    log('one save after a 1,000-page batch (journal append + fsync)', { seconds: save.saveMs / 1000, cpuSeconds: null, rssMb: null }, `then the fold at close: ${(save.foldMs / 1000).toFixed(2)} s`);

    const dryGeminiBuilt = await cli(['build', '--dry-run', '--json', '--engine', 'gemini-batch']);
    expectRun(dryGeminiBuilt, (o) => lastEvent(o).targets === pages, 'a summary of every page');
    log('build --dry-run --engine gemini-batch over built outputs', dryGeminiBuilt, 'every request depends on the previous output');

    for (const f of ['state.sqlite', 'state.journal']) fs.rmSync(path.join(dir, '.ocrcache', f), { force: true });
    const adopt = await cli(['adopt', '--json']);
    expectRun(adopt, () => true, 'adopt to finish');
    const after = await cli(['status', '--json']);
    expectRun(after, (o) => JSON.parse(o).counts.fresh === pages, 'every page fresh after adopt');
    log('adopt every output into an empty cache', adopt, 'reads, validates and records each output');
    return { figures: out, head: { pages, noop, noopFull, ninjaNoop, firstBuild, stateBytes, save, coldStatus, dryGeminiBuilt, adopt } };
  } finally {
    if (keep) process.stderr.write(`  kept ${dir}\n`);
    else {
      const t = performance.now();
      fs.rmSync(dir, { recursive: true, force: true });
      process.stderr.write(`  removed the collection in ${since(t).toFixed(1)} s\n`);
    }
  }
}

async function benchIngestOnce(frozen: Frozen): Promise<IngestFigure> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocrmake-bench-ingest-'));
  try {
    process.stderr.write(`bench: ingestion, 3 batches of 1,000 pages from the fake Gemini server in ${dir}\n`);
    ingestCollection(dir, 1000, 3);
    const f = await benchIngest(frozen.cli, dir, 1000, 3);
    process.stderr.write(`  ${f.resultsPerSecond.toFixed(0)} results/s (${f.perBatch.map((s) => s.toFixed(2)).join(', ')} s per batch)\n`);
    return f;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// --- the synthetic collection ---

const STATES = ['Alabama', 'California', 'Georgia', 'Illinois', 'Maine', 'Ohio', 'Pennsylvania', 'Tennessee', 'Vermont', 'Virginia'];

/** `books` = pages / 100 books as `{state}/{school}/{year}`: 10 states, up to 100 schools, 10 years each. */
function generate(dir: string, pages: number): Book[] {
  const out: Book[] = [];
  for (const entry of ['ocrfile.ts', 'rules', 'prompts']) fs.cpSync(path.join(REPO, entry), path.join(dir, entry), { recursive: true });
  const books = Math.ceil(pages / PAGES_PER_BOOK);
  for (let b = 0; b < books; b++) {
    const book = `${STATES[b % 10]}/School ${String(Math.floor(b / 100)).padStart(3, '0')} College/${1850 + (Math.floor(b / 10) % 10)}`;
    const labels = path.join(dir, 'dataset/label_to_curricular', book);
    const images = path.join(dir, 'dataset/raw_image_dataset', book);
    fs.mkdirSync(labels, { recursive: true });
    fs.mkdirSync(images, { recursive: true });
    const count = Math.min(PAGES_PER_BOOK, pages - b * PAGES_PER_BOOK);
    out.push({ path: book, pages: count });
    for (let p = 1; p <= count; p++) {
      fs.writeFileSync(path.join(labels, `${p}.json`), `{"label":"course_listing","page":${p}}\n`);
      fs.writeFileSync(path.join(images, `${p}.png`), tinyPng(`${book}/${p}`));
    }
  }
  return out;
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
  // With the cache's durability as shipped: group commit of outputs and objects, journal saves.
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
}

/**
 * One save after a 1,000-page batch, on the state of a built collection: 1,000 target records and their
 * stat-cache rows change (as an ingested batch changes them), then `save` is timed; then the fold a clean
 * close makes. Printed as JSON for the parent.
 */
async function saveProbe(dir: string): Promise<void> {
  const { store } = await StateStore.open(path.join(dir, '.ocrcache'));
  const keys = [...store.targets.keys()].slice(0, 1000);
  const now = new Date().toISOString();
  for (const key of keys) {
    const r = store.targets.get(key)!;
    store.setTarget({ ...r, builtAt: now, batch: 'bench-probe' });
    const h = store.fileHashes.get(r.output);
    if (h) store.setFileHash({ ...h, hashedAtNs: h.hashedAtNs + 1n });
  }
  let t = performance.now();
  store.save();
  const saveMs = performance.now() - t;
  t = performance.now();
  store.close();
  const foldMs = performance.now() - t;
  process.stdout.write(`${JSON.stringify({ changed: keys.length, saveMs, foldMs })}\n`);
}

function lastEvent(stdout: string): Record<string, number> {
  return JSON.parse(stdout.trimEnd().split('\n').at(-1)!);
}

function isNoop(s: Record<string, number>, pages: number): boolean {
  return s.requests === 0 && s.built === 0 && s.restored === 0 && s.fresh === pages;
}

// --- the report ---

function report(figures: Figure[], heads: Headline[], ingest: IngestFigure | null, ninja: string | null): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const n = (x: number) => x.toLocaleString('en-US');
  const s = (r: Run) => `${r.seconds.toFixed(2)} s wall, ${r.cpuSeconds?.toFixed(2) ?? '—'} s CPU, ${r.rssMb ?? '—'} MiB`;
  const ratio = (a: Run, b: Run | null) =>
    b ? `${(a.seconds / b.seconds).toFixed(1)}× wall, ${a.cpuSeconds !== null && b.cpuSeconds ? `${(a.cpuSeconds / b.cpuSeconds).toFixed(1)}× CPU` : '—'}` : '—';
  const rows: string[][] = [];
  for (const h of heads) {
    const goal = h.pages >= 1_000_000 ? '≤ 10 s, ≤ 2 GiB' : h.pages >= 100_000 ? '≤ 1.5× ninja, ≤ 300 MiB' : '≤ 3× ninja';
    rows.push([`no-op build, ${n(h.pages)} pages`, s(h.noop), h.ninjaNoop ? s(h.ninjaNoop) : 'not installed', ratio(h.noop, h.ninjaNoop), goal]);
    rows.push([`no-op build without the no-op proof, ${n(h.pages)} pages`, s(h.noopFull), h.ninjaNoop ? s(h.ninjaNoop) : 'not installed', ratio(h.noopFull, h.ninjaNoop), goal]);
  }
  if (ingest) rows.push([`result ingestion (gemini-batch, 1,000-page batches, fake server)`, `${n(Math.round(ingest.resultsPerSecond))} results/s; ${ingest.perBatch.map((x) => x.toFixed(2)).join(', ')} s per batch`, '', '', '≥ 5,000 results/s']);
  for (const h of heads) rows.push([`first build of ${n(h.pages)} pages with an instant engine`, s(h.firstBuild), '', '', '≤ 60 s at 100k']);
  for (const h of heads) rows.push([`one cache save after a 1,000-page batch, ${n(h.pages)} pages`, `${h.save.saveMs.toFixed(0)} ms (fold at close ${h.save.foldMs.toFixed(0)} ms)`, '', '', '≤ 200 ms at 1M']);
  for (const h of heads) rows.push([`state size, ${n(h.pages)} pages`, `${Math.round(h.stateBytes / h.pages)} B per page (${(h.stateBytes / 2 ** 20).toFixed(1)} MiB)`, '', '', '≤ 250 B per page']);
  for (const h of heads) rows.push([`cold \`status\`, ${n(h.pages)} pages`, s(h.coldStatus), '', '', '≤ 30 s, ≤ 2 GiB at 1M']);
  for (const h of heads) rows.push([`\`build --dry-run --engine gemini-batch\` over built ${n(h.pages)}`, s(h.dryGeminiBuilt), '', '', '≤ 10 s at 100k']);
  for (const h of heads) rows.push([`\`adopt\` of ${n(h.pages)} outputs`, s(h.adopt), '', '', '≤ 60 s at 500k']);
  const lines = [
    `ocrmake bench — ${os.availableParallelism()} cores (${cpu}), ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, node ${process.version}, ${os.platform()} ${os.release()}${ninja ? `, ninja at ${ninja}` : ''}`,
    `Collection on ${os.tmpdir()} (warm page cache: the files were just written). Peak RSS from ${haveTime ? 'GNU time (%M)' : 'VmHWM sampled every 20 ms'}.`,
    `Load average at the end: ${os.loadavg().map((l) => l.toFixed(1)).join(', ')} (wall times stretch on a busy machine; CPU s much less).`,
    '',
    '| measure | ocrmake | ninja | ocrmake / ninja | goal |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    '',
    '| pages | step | wall s | CPU s | peak RSS MiB | note |',
    '|---:|---|---:|---:|---:|---|',
    ...figures.map((f) => `| ${n(f.pages)} | ${f.what} | ${f.seconds.toFixed(2)} | ${f.cpuSeconds?.toFixed(2) ?? '—'} | ${f.rssMb ?? '—'} | ${f.note} |`),
  ];
  return lines.join('\n');
}

main().catch((err) => {
  process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
