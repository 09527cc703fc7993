// The offline engine: tesseract.js workers, one per core, fully offline (the English model ships in
// @tesseract.js-data/eng, other languages come from a folder; nothing is fetched and nothing is written to
// the working directory). Each page's image comes prepared (PNG or JPEG, at most images.local.maxLongEdge
// pixels long) with its resolution, which tesseract is told. The OCR result is mapped onto the rule's
// schema by rule.fromLocalOcr.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Worker as NodeWorker } from 'node:worker_threads';
import type { ResolvedConfig } from '../config/resolved.js';
import type { LocalOcrBlock, LocalOcrResult } from '../config/define.js';
import { ExitCode, ExitSignal } from '../errors.js';
import type { LocalOcrSetup } from '../fingerprint/local-ocr.js';
import type { PreparedImage, PreparedRequest } from '../prepare/types.js';
import { clampDpi } from '../prepare/geometry.js';
import type { Engine, EngineCounters, Job, Outcome } from './engine.js';
import { tessdataFolder } from './tessdata.js';

type TessWorker = import('tesseract.js').Worker;
type RecognizeData = { text: string; confidence: number; blocks: unknown };

/**
 * A page that takes longer than this is given up on (its worker is replaced): tesseract takes seconds on a
 * normal page, so only a worker stuck in a loop gets here, and a stuck worker must not hang the build.
 */
const PAGE_TIMEOUT_MS = 10 * 60_000;

export function createLocalEngine(config: ResolvedConfig, pages: number, setup: LocalOcrSetup, cacheDir: string): Engine {
  const mapper = config.rule.fromLocalOcr;
  if (!mapper) {
    throw new ExitSignal(
      ExitCode.usage,
      `${path.relative(config.root, config.file)}: rule "${config.rule.name}" has no fromLocalOcr, so the local engine cannot map OCR text onto its schema.\n  Add fromLocalOcr to the rule, or set GEMINI_API_KEY to use Gemini.`,
    );
  }
  const workers = Math.max(1, Math.min(config.execution.concurrency ?? os.availableParallelism(), pages || 1));
  const pool = new LanePool(workers, setup, cacheDir);
  const counters: EngineCounters = { requests: 0, batches: 0, uploads: 0 };

  async function recognize(request: PreparedRequest, signal: AbortSignal): Promise<Outcome | null> {
    const base = { key: request.key, fingerprint: request.fingerprint };
    const prepared = request.image;
    if (!prepared) throw new Error(`local engine: ${request.key} came without its prepared image`);
    const image = request.sourcePage === null ? request.page.image : `${request.page.image} page ${request.sourcePage}`;
    const bad = (message: string): Outcome => ({ ...base, ok: false, class: 'input-error', message, charge: true });
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(prepared.path);
    } catch (err) {
      return bad(`cannot read ${image}: ${(err as Error).message}; check that the file is there and readable`);
    }
    counters.requests++;
    const r = await pool.recognize(bytes, dpiHint(prepared, setup), signal);
    if (!r.ok && r.aborted) return null;
    if (!r.ok && r.undecodable) return bad(`${image} could not be decoded (${r.message}); replace the file with a good copy`);
    if (!r.ok) {
      // Perhaps the image, perhaps the machine: a failed attempt, retried up to maxAttempts, not a verdict on the file.
      return { ...base, ok: false, class: 'api-error', code: 'local-ocr', message: `OCR of ${image} failed: ${r.message}; if it fails again, check that the image opens in a viewer`, charge: true };
    }
    const blocks = toBlocks(r.data.blocks);
    const lines = blocks.flatMap((b) => b.paragraphs.flatMap((p) => p.lines));
    const ocr: LocalOcrResult = {
      text: r.data.text,
      confidence: r.data.confidence,
      blocks,
      lines,
      words: lines.flatMap((l) => l.words),
      image: { width: prepared.width, height: prepared.height, scale: prepared.scale, dpi: prepared.dpi },
    };
    try {
      const value = mapper!(ocr, { key: request.key, vars: request.page.vars, pageNumber: request.page.pageNumber });
      return { ...base, ok: true, value, text: ocr.text };
    } catch (err) {
      return { ...base, ok: false, class: 'schema-error', message: `rule.fromLocalOcr failed: ${(err as Error).message}`, stack: (err as Error).stack, extractedText: ocr.text, charge: true };
    }
  }

  return {
    name: 'local',
    images: 'local',
    jobSize: 1,
    maxJobs: workers * 2,
    counters,
    async *run(job: Job, signal: AbortSignal) {
      for (const request of job.requests) {
        if (signal.aborted) return;
        const outcome = await recognize(request, signal);
        if (outcome) yield outcome;
      }
    },
    close: () => pool.close(),
  };
}

/**
 * One tesseract.js worker thread. What the thread prints (Leptonica's "Error in pixRead…", libpng's
 * complaints) is kept here instead of reaching the terminal: the first line becomes the page's error message.
 */
interface Lane {
  tess: TessWorker;
  printed: string[];
  /** Settles when the thread dies (a crash in the wasm core), with why. */
  gone: Promise<string>;
  dead: boolean;
}

/** Lines of a worker's printout kept per page (a huge image can make Leptonica print thousands). */
const PRINTED_LINES = 20;

/**
 * The resolution tesseract is told, which sets its expectations of glyph and noise sizes: the prepared
 * image's own (from its file or PDF page, scaled with any downscale; else derived from its size), or, when
 * `local.dpi` is a number, that number scaled the same way (PDF pages keep their exact resolution).
 */
export function dpiHint(image: PreparedImage, ocr: LocalOcrSetup): number {
  return ocr.dpi === 'auto' || image.dpiSource === 'pdf' ? image.dpi : clampDpi(ocr.dpi * image.scale);
}

/** A fixed number of lanes, started on first use; a lane that dies or hangs is replaced. */
class LanePool {
  readonly #size: number;
  readonly #ocr: LocalOcrSetup;
  readonly #cacheDir: string;
  readonly #idle: Lane[] = [];
  readonly #all = new Set<Lane>();
  readonly #waiting: Array<(lane: Lane | Error) => void> = [];
  #starting = 0;
  #closed = false;

  constructor(size: number, ocr: LocalOcrSetup, cacheDir: string) {
    this.#size = size;
    this.#ocr = ocr;
    this.#cacheDir = cacheDir;
  }

  /** `undecodable`: tesseract could not read the image (always the file's fault, unlike a crash or a hang). */
  async recognize(bytes: Buffer, dpi: number, signal: AbortSignal): Promise<{ ok: true; data: RecognizeData } | { ok: false; undecodable: boolean; aborted?: boolean; message: string }> {
    const lane = await this.#acquire();
    lane.printed.length = 0;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const outcome = await Promise.race([
      // Ctrl-C must not wait for a page (a huge one takes long): the worker is dropped and the page left for the next build.
      new Promise<{ kind: 'aborted' }>((resolve) => {
        onAbort = () => resolve({ kind: 'aborted' });
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      }),
      lane.tess.setParameters({ user_defined_dpi: String(dpi) }).then(() => lane.tess.recognize(bytes, {}, { text: true, blocks: true })).then(
        (r) => ({ kind: 'done' as const, data: (r as unknown as { data: RecognizeData }).data }),
        (err: unknown) => ({ kind: 'error' as const, message: String((err as Error)?.message ?? err).replace(/^Error: /, '') }),
      ),
      lane.gone.then((why) => ({ kind: 'gone' as const, message: why })),
      new Promise<{ kind: 'timeout' }>((resolve) => (timer = setTimeout(() => resolve({ kind: 'timeout' }), PAGE_TIMEOUT_MS))),
    ]);
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
    if (outcome.kind === 'aborted') {
      void this.#discard(lane);
      return { ok: false, undecodable: false, aborted: true, message: 'interrupted' };
    }
    if (outcome.kind === 'done') {
      this.#release(lane);
      return { ok: true, data: outcome.data };
    }
    // The thread's printout travels on its own channel and may trail the rejection: wait (briefly) for
    // tesseract's last word on an unreadable image.
    for (let waited = 0; outcome.kind === 'error' && waited < 1000 && !lane.printed.some((l) => /cannot be read/.test(l)); waited += 10) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const printed = lane.printed.find((l) => l.trim() !== '')?.trim();
    if (outcome.kind === 'error') {
      this.#release(lane);
      // tesseract.js says only "Error attempting to read image."; libpng or Leptonica printed the reason.
      const undecodable = /attempting to read image/i.test(outcome.message);
      return { ok: false, undecodable, message: (undecodable && printed) || outcome.message };
    }
    void this.#discard(lane);
    return outcome.kind === 'gone'
      ? { ok: false, undecodable: false, message: `the OCR worker crashed (${printed ?? outcome.message})` }
      : { ok: false, undecodable: false, message: `it did not finish within ${PAGE_TIMEOUT_MS / 60_000} minutes` };
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const w of this.#waiting.splice(0)) w(new Error('the local engine was closed'));
    await Promise.all([...this.#all].map((lane) => this.#discard(lane)));
  }

  #acquire(): Promise<Lane> {
    for (let lane = this.#idle.pop(); lane; lane = this.#idle.pop()) {
      if (!lane.dead) return Promise.resolve(lane);
      this.#all.delete(lane); // died while idle: not any page's fault
    }
    if (this.#all.size + this.#starting < this.#size) return this.#start();
    return new Promise((resolve, reject) => this.#waiting.push((l) => (l instanceof Error ? reject(l) : resolve(l))));
  }

  #release(lane: Lane): void {
    const next = this.#waiting.shift();
    if (next) next(lane);
    else this.#idle.push(lane);
  }

  /** Drops a lane (dead, stuck or closing) and, if someone waits for one, starts its replacement. */
  async #discard(lane: Lane): Promise<void> {
    this.#all.delete(lane);
    const i = this.#idle.indexOf(lane);
    if (i >= 0) this.#idle.splice(i, 1);
    const next = this.#closed ? undefined : this.#waiting.shift();
    if (next) this.#start().then(next, next);
    await lane.tess.terminate().catch(() => {});
  }

  async #start(): Promise<Lane> {
    this.#starting++;
    try {
      const { createWorker, OEM } = await import('tesseract.js');
      // Every language's model in one folder, uncompressed (tesseract.js reads all of them from one place).
      const langPath = tessdataFolder(this.#ocr, this.#cacheDir);
      const langs = this.#ocr.languages.map((l) => l.code).join('+');
      // errorHandler is mandatory: without it an undecodable image throws inside tesseract.js and crashes the process.
      const tess = await createWorker(langs, OEM.LSTM_ONLY, { langPath, gzip: false, cacheMethod: 'none', errorHandler: () => {} });
      await tess.setParameters({ tessedit_pageseg_mode: String(this.#ocr.psm) as never });
      const lane: Lane = { tess, printed: [], gone: Promise.resolve(''), dead: false };
      const thread = (tess as unknown as { worker: NodeWorker }).worker;
      // The thread's stdout and stderr are piped to ours by default: keep them instead (stdout is the NDJSON of --json).
      for (const stream of [thread.stdout, thread.stderr]) {
        stream.unpipe();
        stream.setEncoding('utf8');
        stream.on('data', (chunk: string) => lane.printed.push(...chunk.split('\n').slice(0, PRINTED_LINES - lane.printed.length)));
        stream.resume(); // unpipe paused it
      }
      lane.gone = new Promise((resolve) => {
        const die = (why: string) => ((lane.dead = true), resolve(why));
        thread.once('error', (err) => die(String(err?.message ?? err)));
        thread.once('exit', (code) => die(`the worker thread exited with code ${code}`));
      });
      this.#all.add(lane);
      return lane;
    } finally {
      this.#starting--;
    }
  }
}

function toBlocks(blocks: unknown): LocalOcrBlock[] {
  const bbox = (b: any) => ({ x0: b?.x0 ?? 0, y0: b?.y0 ?? 0, x1: b?.x1 ?? 0, y1: b?.y1 ?? 0 });
  return ((blocks as any[]) ?? []).map((b) => ({
    text: String(b.text ?? ''),
    confidence: Number(b.confidence ?? 0),
    bbox: bbox(b.bbox),
    paragraphs: ((b.paragraphs as any[]) ?? []).map((p) => ({
      text: String(p.text ?? ''),
      bbox: bbox(p.bbox),
      lines: ((p.lines as any[]) ?? []).map((l) => ({
        text: String(l.text ?? '').replace(/\n$/, ''),
        confidence: Number(l.confidence ?? 0),
        bbox: bbox(l.bbox),
        words: ((l.words as any[]) ?? []).map((w) => ({ text: String(w.text ?? ''), confidence: Number(w.confidence ?? 0), bbox: bbox(w.bbox) })),
      })),
    })),
  }));
}
