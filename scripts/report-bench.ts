// The HTML report at scale: `node dist/scripts/report-bench.js [--books 1000] [--pages 100]`.
//
// Renders a synthetic 100,000-page report (1,000 books × 100 pages, mixed states, reasons with hashes,
// dead pages with blocked successors, a long failure log) through the real renderer, opens it in Debian's
// headless Chromium (playwright-core) and measures load-to-interactive: the time from navigation until the
// page's script has drawn its first rows and set its ready marker; then scrolling to the last book and
// opening one of its pages. test/report.test.ts runs the same measurement.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Browser } from 'playwright-core';
import type { Reason, State } from '../src/plan/types.js';
import { buildReportData, type ReportData, type ReportFailureInput, type ReportPageInput } from '../src/report/html/data.js';
import { renderReportHtml } from '../src/report/html/render.js';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/** A small deterministic PRNG (mulberry32), so every run measures the same page. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STATES_US = ['Alabama', 'California', 'Georgia', 'Illinois', 'Kentucky', 'Maryland', 'New York', 'Ohio', 'Pennsylvania', 'Virginia'];
const hex = (rnd: () => number) => Array.from({ length: 64 }, () => Math.floor(rnd() * 16).toString(16)).join('');

/** A report of `books` × `pages` pages: mostly fresh, with every other state and its details in the mix. */
export function syntheticReport(o: { books: number; pages: number; seed?: number }): ReportData {
  const rnd = random(o.seed ?? 1);
  const pages: ReportPageInput[] = [];
  const failures: ReportFailureInput[] = [];
  const at = (i: number) => new Date(Date.UTC(2026, 10, 24, 12) - i * 37_000).toISOString();
  for (let b = 0; b < o.books; b++) {
    const vars = [STATES_US[b % STATES_US.length]!, `College ${String(Math.floor(b / STATES_US.length) + 1).padStart(3, '0')}`, String(1840 + (b % 30))];
    const book = vars.join(':');
    const dir = vars.join('/');
    let dead: string | null = null;
    let deadWhy = 'dead';
    let rebuilding = false;
    for (let n = 1; n <= o.pages; n++) {
      const key = `${book}:${n}`;
      const r = rnd();
      let state: State = 'fresh';
      let reasons: Reason[] = [];
      let detail: string | null = null;
      let attempts = 0;
      let lastError: ReportPageInput['lastError'] = null;
      // Plausible chains: after a page that is being rebuilt, in flight or failed, the rest of the book
      // waits (or is stale on its own account); after a dead or missing page, the rest is blocked.
      if (dead) {
        state = 'blocked';
        detail = `${dead} is ${deadWhy}`;
      } else if (rebuilding) {
        state = r < 0.05 ? 'stale' : 'waiting';
        if (state === 'stale') reasons = [{ code: 'image-changed', recorded: hex(rnd) as never, current: hex(rnd) as never }];
        else detail = 'its predecessor is not fresh yet';
      } else if (r < 0.0015) {
        state = 'stale';
        reasons = [r < 0.001 ? { code: 'prompt-changed', recorded: hex(rnd) as never, current: hex(rnd) as never } : { code: 'output-missing' }];
        rebuilding = true;
      } else if (r < 0.02) state = 'edited';
      else if (r < 0.0215) {
        state = 'inflight';
        rebuilding = true;
      } else if (r < 0.025 || r > 0.9996) {
        const count = r > 0.9996 ? 3 : 1 + Math.floor(rnd() * 2);
        state = count >= 3 ? 'dead' : 'failed';
        attempts = count;
        const cls = ['json-error', 'schema-error', 'truncated', 'api-error'][Math.floor(rnd() * 4)]!;
        lastError = { class: cls, message: `synthetic ${cls} on page ${n}`, at: at(failures.length) };
        for (let a = 1; a <= count; a++) failures.push({ key, class: cls, code: cls === 'api-error' ? '500' : null, message: lastError.message, attempt: a, at: at(failures.length) });
        detail = `${count} failed attempts; last: ${cls}`;
        if (state === 'dead') {
          dead = key;
          deadWhy = 'dead';
        } else rebuilding = true;
      } else if (r > 0.9993) {
        state = 'missing-input';
        detail = 'no image';
        dead = key;
        deadWhy = 'missing its input';
      }
      pages.push({
        key, book, page: n, state, reasons, detail, attempts, lastError, blockedBy: state === 'blocked' ? dead : null,
        output: `dataset/output_results/${dir}/${n}.json`,
        image: state === 'missing-input' ? null : `dataset/raw_image_dataset/${dir}/${n}.png`,
        hasPredecessor: n > 1,
      });
    }
  }
  failures.reverse();
  return buildReportData({
    project: 'synthetic-collection', engine: 'gemini-batch', dependent: true, generatedAt: new Date(Date.UTC(2026, 10, 24, 16)).toISOString(),
    maxAttempts: 3, bookWildcards: ['state', 'school', 'year'], pages, failures: failures.slice(0, 2000), failureTotal: failures.length,
  });
}

export interface Measurement {
  bytes: number;
  /** From navigation start to the page's ready marker (performance.now() in the page). */
  readyMs: number;
  /** goto() until the marker is seen, as the test harness observes it. */
  wallMs: number;
  /** Scroll to the bottom, wait for the last book's row, click its last page and see the details panel. */
  scrollClickMs: number;
  /** Cells in the DOM after load: only the rows in view are rendered. */
  cellsInDom: number;
  lastKey: string;
  errors: string[];
}

/** Loads `file` in a fresh page and measures it. The last book must be the last row (key order). */
export async function measureReport(browser: Browser, file: string, expectedLastKey: string): Promise<Measurement> {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const errors: string[] = [];
  // The synthetic collection has no image files, so an opened page's linked scan cannot load: not a fault of the page.
  page.on('console', (m) => void (m.type() === 'error' && !/^Failed to load resource: net::ERR_FILE_NOT_FOUND$/.test(m.text()) && errors.push(`console: ${m.text()}`)));
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  try {
    const t0 = performance.now();
    await page.goto(pathToFileURL(file).href);
    await page.locator('html[data-ready="true"]').waitFor({ state: 'attached', timeout: 60_000 });
    const wallMs = performance.now() - t0;
    const readyMs = (await page.evaluate('window.__ocrmakeReport.readyMs')) as number;
    const cellsInDom = (await page.evaluate('document.querySelectorAll("#canvas .c").length')) as number;
    const t1 = performance.now();
    await page.evaluate('(() => { const g = document.getElementById("grid"); g.scrollTop = g.scrollHeight; })()');
    const lastRow = page.locator('#canvas .row').last();
    await lastRow.locator('.c').last().waitFor();
    await lastRow.locator('.c').last().click();
    const lastKey = (await page.locator('#d-key').textContent()) ?? '';
    const scrollClickMs = performance.now() - t1;
    if (lastKey !== expectedLastKey) errors.push(`the last cell opened ${lastKey}, expected ${expectedLastKey}`);
    return { bytes: fs.statSync(file).size, readyMs, wallMs, scrollClickMs, cellsInDom, lastKey, errors };
  } finally {
    await page.close();
  }
}

/** A picture for the README: the report with a stale page's reasons open (`--screenshot docs/report.png`). */
async function screenshot(browser: Browser, file: string, data: ReportData, out: string): Promise<void> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 820 } });
  try {
    await page.goto(pathToFileURL(file).href);
    const b = data.books.findIndex((book) => Object.values(book.x ?? {}).some((x) => x.r?.[0]?.length === 3));
    const i = Object.entries(data.books[b]!.x!).find(([, x]) => x.r?.[0]?.length === 3)![0];
    await page.locator(`.row[data-b="${b}"] .c[data-i="${i}"]`).click();
    await page.mouse.move(0, 0);
    await page.screenshot({ path: out });
    process.stdout.write(`screenshot: ${out}\n`);
  } finally {
    await page.close();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { books: { type: 'string', default: '1000' }, pages: { type: 'string', default: '100' }, keep: { type: 'boolean', default: false }, screenshot: { type: 'string' } },
  });
  const books = Number(values.books), perBook = Number(values.pages);
  if (!fs.existsSync(CHROMIUM)) {
    process.stderr.write(`report-bench needs Chromium at ${CHROMIUM} (Debian: apt-get install chromium)\n`);
    process.exitCode = 2;
    return;
  }
  const t0 = performance.now();
  const data = syntheticReport({ books, pages: perBook });
  const html = renderReportHtml(data);
  const renderMs = performance.now() - t0;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocrmake-report-bench-'));
  const file = path.join(dir, 'report.html');
  fs.writeFileSync(file, html);
  const last = data.books.at(-1)!;
  const browser = await launchChromium();
  try {
    const m = await measureReport(browser, file, `${last.id}:${perBook}`);
    const mb = (m.bytes / 1024 / 1024).toFixed(1);
    process.stdout.write(
      `report of ${(books * perBook).toLocaleString('en-US')} pages (${books} books × ${perBook}): ${mb} MiB, rendered in ${renderMs.toFixed(0)} ms\n` +
        `load to interactive: ${m.readyMs.toFixed(0)} ms (in page), ${m.wallMs.toFixed(0)} ms (seen by the harness); ${m.cellsInDom} cells in the DOM\n` +
        `scroll to the last book and open its last page: ${m.scrollClickMs.toFixed(0)} ms\n`,
    );
    if (values.screenshot) await screenshot(browser, file, data, values.screenshot);
    if (m.errors.length > 0) {
      process.stderr.write(`${m.errors.join('\n')}\n`);
      process.exitCode = 1;
    }
  } finally {
    await browser.close();
    if (!values.keep) fs.rmSync(dir, { recursive: true, force: true });
    else process.stdout.write(`kept ${file}\n`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((err) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  });
}
