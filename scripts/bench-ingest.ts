// Result ingestion through the real CLI against the fake Gemini server (test/fake-gemini): `books` one-line
// chains of `depth` pages, so each wave is one batch of `books` pages (batchSize = books). Ingestion is timed
// from the moment the fake has served a batch's result file to the moment the CLI reports the batch ended
// (every result parsed, validated, written to the result store and the outputs, and recorded).
//
// Run alone: `node dist/scripts/bench-ingest.js [--books 1000] [--depth 3] [--profile DIR]` (DIR: a CPU profile of the build); `npm run bench` runs it too.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startFakeGemini } from '../test/fake-gemini/index.js';
import { tinyPng } from './png.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface IngestFigure {
  results: number;
  batches: number;
  /** Seconds spent ingesting each batch, in order. */
  perBatch: number[];
  resultsPerSecond: number;
  /** The whole build, uploads and polls included. */
  wallSeconds: number;
}

/** A collection of `books` chains of `depth` pages, with the repository's rule and an ocrfile for gemini-batch. */
export function ingestCollection(dir: string, books: number, depth: number): void {
  for (const entry of ['rules', 'prompts']) fs.cpSync(path.join(REPO, entry), path.join(dir, entry), { recursive: true });
  const ocrfile = fs.readFileSync(path.join(REPO, 'ocrfile.ts'), 'utf8')
    .replace("engine: 'auto'", "engine: 'gemini-batch'")
    .replace(/execution: \{[^}]*\}/, `execution: { maxAttempts: 3, batchSize: ${books}, maxConcurrentBatches: 10, pollSeconds: 0.05 }`);
  fs.writeFileSync(path.join(dir, 'ocrfile.ts'), ocrfile);
  for (let b = 0; b < books; b++) {
    const book = `Ohio/School ${String(b).padStart(5, '0')} College/1850`;
    fs.mkdirSync(path.join(dir, 'dataset/label_to_curricular', book), { recursive: true });
    fs.mkdirSync(path.join(dir, 'dataset/raw_image_dataset', book), { recursive: true });
    for (let p = 1; p <= depth; p++) {
      fs.writeFileSync(path.join(dir, 'dataset/label_to_curricular', book, `${p}.json`), `{"page":${p}}\n`);
      fs.writeFileSync(path.join(dir, 'dataset/raw_image_dataset', book, `${p}.png`), tinyPng(`${book}/${p}`));
    }
  }
}

/** Builds the collection in `dir` with `cli` (a path to main.js) against a fresh fake; returns the figures. */
export async function benchIngest(cli: string, dir: string, books: number, depth: number, profileDir?: string): Promise<IngestFigure> {
  const fake = await startFakeGemini({ startTime: Date.now(), batchTiming: { pendingPolls: 0, runningPolls: 0 } });
  try {
    const env: NodeJS.ProcessEnv = { ...process.env, GEMINI_API_KEY: 'bench-key', GOOGLE_GEMINI_BASE_URL: fake.url, OCRMAKE_RETRY_BASE_MS: '20' };
    for (const k of ['GOOGLE_API_KEY', 'BRAINTRUST_API_KEY']) delete env[k];
    const started = performance.now();
    const perBatch: number[] = [];
    let downloadedAt: number | null = null;
    let downloads = 0;
    // The fake runs in this process: watch its download counter on every turn of the event loop.
    const watch = setInterval(() => {
      if (fake.counters.download > downloads) {
        downloads = fake.counters.download;
        downloadedAt = performance.now();
      }
    }, 1);
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, [...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []), cli, 'build', '--json'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let buf = '', stderr = '';
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (!line.includes('"phase":"ended"')) continue;
          if (downloadedAt !== null) perBatch.push((performance.now() - downloadedAt) / 1000);
          downloadedAt = null;
        }
      });
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (c) => (c === 0 ? resolve(c) : reject(new Error(`build exited ${c}: ${stderr.slice(-2000)}`))));
    });
    clearInterval(watch);
    const wallSeconds = (performance.now() - started) / 1000;
    const results = books * depth;
    if (code !== 0 || perBatch.length !== depth) throw new Error(`expected ${depth} batches, timed ${perBatch.length}`);
    return { results, batches: perBatch.length, perBatch, resultsPerSecond: results / perBatch.reduce((a, b) => a + b, 0), wallSeconds };
  } finally {
    await fake.close();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { books: { type: 'string', default: '1000' }, depth: { type: 'string', default: '3' }, keep: { type: 'boolean', default: false }, profile: { type: 'string' } } });
  const books = Number(values.books), depth = Number(values.depth);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocrmake-bench-ingest-'));
  try {
    ingestCollection(dir, books, depth);
    const f = await benchIngest(path.join(REPO, 'dist/src/cli/main.js'), dir, books, depth, values.profile);
    process.stdout.write(`${f.results} results in ${f.batches} batches of ${books}: ${f.resultsPerSecond.toFixed(0)} results/s while ingesting (${f.perBatch.map((s) => s.toFixed(2)).join(', ')} s per batch); whole build ${f.wallSeconds.toFixed(1)} s\n`);
  } finally {
    if (values.keep) process.stderr.write(`kept ${dir}\n`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    process.stderr.write(`bench-ingest: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  });
}
