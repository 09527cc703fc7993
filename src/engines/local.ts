// The offline engine: tesseract.js workers, one per core, fully offline (the English model ships in
// @tesseract.js-data/eng; nothing is fetched and nothing is written to the working directory). The OCR
// result is mapped onto the rule's schema by rule.fromLocalOcr.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { ResolvedConfig } from '../config/resolved.js';
import type { LocalOcrBlock, LocalOcrResult } from '../config/define.js';
import { ExitCode, ExitSignal } from '../errors.js';
import type { Request } from '../fingerprint/snapshot.js';
import { LOCAL_OCR_SETTINGS } from '../fingerprint/request.js';
import type { Engine, EngineCounters, Job, Outcome } from './engine.js';

type Scheduler = import('tesseract.js').Scheduler;
type Worker = import('tesseract.js').Worker;

export function createLocalEngine(config: ResolvedConfig, pages: number): Engine {
  const mapper = config.rule.fromLocalOcr;
  if (!mapper) {
    throw new ExitSignal(
      ExitCode.usage,
      `${path.relative(config.root, config.file)}: rule "${config.rule.name}" has no fromLocalOcr, so the local engine cannot map OCR text onto its schema.\n  Add fromLocalOcr to the rule, or set GEMINI_API_KEY to use Gemini.`,
    );
  }
  const workers = Math.max(1, Math.min(config.execution.concurrency ?? os.availableParallelism(), pages || 1));
  let scheduler: Promise<{ scheduler: Scheduler; workers: Worker[] }> | null = null;
  const counters: EngineCounters = { requests: 0, batches: 0, uploads: 0 };

  async function start(): Promise<{ scheduler: Scheduler; workers: Worker[] }> {
    const { createScheduler, createWorker, OEM, PSM } = await import('tesseract.js');
    const req = createRequire(import.meta.url);
    const langPath = path.join(path.dirname(req.resolve('@tesseract.js-data/eng/package.json')), LOCAL_OCR_SETTINGS.model);
    const s = createScheduler();
    const ws = await Promise.all(
      Array.from({ length: workers }, async () => {
        // errorHandler is mandatory: without it an undecodable image crashes the whole process.
        const w = await createWorker(LOCAL_OCR_SETTINGS.lang, OEM.LSTM_ONLY, { langPath, cacheMethod: 'none', errorHandler: () => {} });
        await w.setParameters({ tessedit_pageseg_mode: PSM.AUTO, user_defined_dpi: '150' });
        s.addWorker(w);
        return w;
      }),
    );
    return { scheduler: s, workers: ws };
  }

  async function recognize(request: Request): Promise<Outcome> {
    const base = { key: request.key, fingerprint: request.fingerprint };
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(request.imagePath);
    } catch (err) {
      return { ...base, ok: false, class: 'input-error', message: `cannot read ${request.page.image}: ${(err as Error).message}`, charge: true };
    }
    if (!looksLikeImage(bytes)) {
      return { ...base, ok: false, class: 'input-error', message: `${request.page.image} is not a readable image (not PNG, JPEG, GIF, BMP, TIFF or WebP data); replace the file`, charge: true };
    }
    scheduler ??= start();
    const { scheduler: s } = await scheduler;
    counters.requests++;
    let data: { text: string; confidence: number; blocks: unknown };
    try {
      ({ data } = (await s.addJob('recognize', bytes, {}, { text: true, blocks: true })) as unknown as { data: typeof data });
    } catch (err) {
      return { ...base, ok: false, class: 'input-error', message: `${request.page.image} could not be decoded (${String((err as Error)?.message ?? err)}); replace the file`, charge: true };
    }
    const ocr: LocalOcrResult = { text: data.text, confidence: data.confidence, blocks: toBlocks(data.blocks) };
    try {
      const value = mapper!(ocr, { key: request.key, vars: request.page.vars, pageNumber: request.page.pageNumber });
      return { ...base, ok: true, value, text: ocr.text };
    } catch (err) {
      return { ...base, ok: false, class: 'schema-error', message: `rule.fromLocalOcr failed: ${(err as Error).message}`, stack: (err as Error).stack, extractedText: ocr.text, charge: true };
    }
  }

  return {
    name: 'local',
    jobSize: 1,
    maxJobs: workers * 2,
    counters,
    async *run(job: Job, signal: AbortSignal) {
      for (const request of job.requests) {
        if (signal.aborted) return;
        yield await recognize(request);
      }
    },
    async close() {
      if (!scheduler) return;
      const { scheduler: s } = await scheduler;
      await s.terminate();
    },
  };
}

/** Magic numbers of the formats tesseract.js decodes; anything else would only fail deeper and slower. */
function looksLikeImage(b: Buffer): boolean {
  const hex = b.subarray(0, 12).toString('hex');
  return (
    hex.startsWith('89504e470d0a1a0a') || // PNG
    hex.startsWith('ffd8ff') || // JPEG
    hex.startsWith('47494638') || // GIF
    hex.startsWith('424d') || // BMP
    hex.startsWith('49492a00') || hex.startsWith('4d4d002a') || // TIFF
    (hex.startsWith('52494646') && b.subarray(8, 12).toString('latin1') === 'WEBP') ||
    /^P[1-6]\s/.test(b.subarray(0, 3).toString('latin1')) // PNM
  );
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
        text: String(l.text ?? ''),
        confidence: Number(l.confidence ?? 0),
        bbox: bbox(l.bbox),
        words: ((l.words as any[]) ?? []).map((w) => ({ text: String(w.text ?? ''), confidence: Number(w.confidence ?? 0), bbox: bbox(w.bbox) })),
      })),
    })),
  }));
}
