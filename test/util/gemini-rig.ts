// Helpers for end-to-end tests of the Gemini engines: the real CLI in a temp project, the real
// @google/genai SDK inside it, and the fake Gemini server (test/fake-gemini) in this process.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadGroundTruth, startFakeGemini, type FakeGemini, type FakeGeminiOptions, type GroundTruth } from '../fake-gemini/index.js';
import { REPO, runCli, summaryOf, type CliResult } from './rig.js';

export const ALABAMA = 'Alabama/Howard College/1849';
export const CALIFORNIA = 'California/College of California/1860';
export const VIRGINIA = 'Virginia/Hampden-Sydney College/1851';

/** `Alabama:Howard College:1849:2` from a book folder and a page number. */
export const keyOf = (book: string, page: number | string): string => `${book.split('/').join(':')}:${page}`;

let groundTruth: Promise<GroundTruth> | null = null;

/**
 * A fake Gemini whose logical clock starts now: the engine compares uploaded files' expirationTime with the
 * real clock, so a clock left in the past would make every upload look expired.
 */
export async function startFake(options: FakeGeminiOptions = {}): Promise<FakeGemini> {
  groundTruth ??= loadGroundTruth(path.join(REPO, 'dataset'));
  return startFakeGemini({ groundTruth: await groundTruth, startTime: Date.now(), ...options });
}

/** Runs `body` against a fresh fake, then checks the fake saw no internal error, and closes it. */
export async function withFake(body: (fake: FakeGemini) => Promise<void>, options: FakeGeminiOptions = {}): Promise<void> {
  const fake = await startFake(options);
  try {
    await body(fake);
    assert.deepEqual(fake.errors, [], 'the fake Gemini server saw no internal error');
  } finally {
    await fake.close();
  }
}

export function geminiEnv(fake: FakeGemini): Record<string, string> {
  // A create whose outcome is unknown waits for lists across this window before creating again (default 60 s).
  return { GEMINI_API_KEY: 'test-key', GOOGLE_GEMINI_BASE_URL: fake.url, OCRMAKE_RETRY_BASE_MS: '20', OCRMAKE_CREATE_LAG_MS: '300' };
}

/** `ocrmake build --json --poll-seconds 0.05 [args]` against the fake. */
export function buildAgainst(dir: string, fake: FakeGemini, args: string[] = [], timeoutMs?: number): Promise<CliResult> {
  return runCli(dir, ['build', '--json', '--poll-seconds', '0.05', ...args], { env: geminiEnv(fake), ...(timeoutMs ? { timeoutMs } : {}) });
}

/** `ocrmake explain KEY --json [args]`, parsed. */
export async function explainJson(dir: string, fake: FakeGemini, key: string, args: string[] = []): Promise<any> {
  const r = await runCli(dir, ['explain', key, '--json', ...args], { env: geminiEnv(fake) });
  assert.equal(r.code, 0, `explain ${key}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** The NDJSON events of one kind. */
export const eventsOf = (r: CliResult, event: string): any[] => r.events.filter((e) => e.event === event);

/** The summary, after checking the run exited as expected (with its output in the message if not). */
export function expectExit(r: CliResult, code: number): Record<string, number> {
  assert.equal(r.code, code, `exit code\nstdout: ${r.stdout.slice(-4000)}\nstderr: ${r.stderr.slice(-4000)}`);
  return summaryOf(r);
}

/**
 * Files for makeProject's `files` option: books made of sample page images. `books` maps a new book folder
 * (`state/school/year`) to the sample images of its pages 1, 2, … (paths under dataset/raw_image_dataset);
 * each page gets its image and an allow-list label.
 */
export function bookFiles(books: Record<string, readonly string[]>): Record<string, Buffer | string> {
  const files: Record<string, Buffer | string> = {};
  for (const [book, images] of Object.entries(books)) {
    images.forEach((image, i) => {
      const page = i + 1;
      files[`dataset/raw_image_dataset/${book}/${page}.png`] = fs.readFileSync(path.join(REPO, 'dataset/raw_image_dataset', image));
      files[`dataset/label_to_curricular/${book}/${page}.json`] = `${JSON.stringify({ page, is_curricular: true, label: 'course_listing' })}\n`;
    });
  }
  return files;
}

/** The sample ocrfile.ts with other execution settings. */
export function ocrfileWith(execution: string): string {
  const text = fs.readFileSync(path.join(REPO, 'ocrfile.ts'), 'utf8');
  const line = /execution: \{[^}]*\},/;
  assert.match(text, line, 'the sample ocrfile has an execution line');
  return text.replace(line, `execution: ${execution},`);
}

export interface PageRule {
  PageOcr: { safeParse(value: unknown): { success: boolean; error?: unknown; data?: unknown } };
  pageContext(previous: unknown): string;
}

/** The project's rules/page_ocr.ts, loaded the way the CLI loads it (jiti, 'ocrmake' → the built package). */
export async function loadPageRule(dir: string): Promise<PageRule> {
  const { createJiti } = await import('jiti');
  const file = path.join(dir, 'rules/page_ocr.ts');
  const jiti = createJiti(file, {
    alias: { ocrmake: path.join(REPO, 'dist/src/index.js') },
    nativeModules: ['ocrmake', 'zod'],
    moduleCache: false,
    fsCache: false,
    interopDefault: false,
  });
  return (await jiti.import(file)) as PageRule;
}

/** Every file under `dir`, recursively. */
export function* walk(dir: string): Generator<string> {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else yield p;
  }
}

/** Nothing paid twice: each of the `pages` keys is in exactly one batch the fake received. */
export function expectEachSentOnce(fake: FakeGemini, pages: number): void {
  const keys = fake.batches().flatMap((b) => b.keys);
  assert.equal(keys.length, pages, `every page sent once: ${keys.join(', ')}`);
  assert.equal(new Set(keys).size, pages);
}

/** One more build (`args`) has nothing to send: no request in its summary, none at the fake. */
export async function expectNothingToSend(dir: string, args: string[], env: Record<string, string>, fake: FakeGemini): Promise<void> {
  fake.resetCounters();
  const again = await runCli(dir, args, { env });
  assert.equal(summaryOf(again)['requests'], 0);
  assert.equal(fake.counters.requests, 0);
}
