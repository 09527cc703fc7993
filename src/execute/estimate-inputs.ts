// What the cost estimate (plan/estimate.ts) needs from the world: each page's image size as it will be
// sent (its source's header size through the prepare stage's geometry; nothing is decoded), the length of
// its rendered prompt, output tokens recorded in the cache, and, for a dry run with a key, a countTokens
// measurement of a few prompts.
import fs from 'node:fs';
import path from 'node:path';
import { estimateCost, type CostEstimate, type EstimatePage } from '../plan/estimate.js';
import { compilePrompt, type PromptRenderer } from '../fingerprint/request.js';
import { geminiKey } from '../engines/resolve.js';
import { todayUtc } from '../cost/models.js';
import type { TargetKey } from '../types.js';
import type { Project } from './project.js';
import { imageFamily } from '../config/images.js';
import { preparedSizes } from '../prepare/size.js';

/** Context length assumed for a page whose predecessor has no output yet and no known context to measure. */
export const DEFAULT_CONTEXT_CHARS = 1000;
/** Prompts measured with countTokens (a few suffice: the template dominates and the ratio is stable). */
const COUNT_SAMPLES = 3;

export interface EstimateOptions {
  /** Stale and failed pages that the result store cannot restore. */
  send: readonly TargetKey[];
  /** Pages waiting for their predecessor: counted as sent (an upper bound; they may turn fresh). */
  waiting: readonly TargetKey[];
  restored: number;
  /** Measure the prompt token ratio with countTokens when a key is set (only a dry run does: a build sends nothing first). */
  countTokens: boolean;
  /** Reports a countTokens failure (the estimate falls back to 4 characters a token). */
  warn?: (message: string) => void;
}

export async function estimatePlan(p: Project, o: EstimateOptions): Promise<CostEstimate> {
  const local = p.engine === 'local';
  const keys = [...o.send, ...o.waiting];
  const prompts = local ? null : promptLengths(p, keys);
  // The size each page's prepared image will have (prepare/size.ts), not its source's: tokens are counted on what is sent.
  const sizes = local ? new Map<string, { width: number; height: number }>() : await preparedSizes(keys.flatMap((key) => {
    const page = p.index.byKey.get(key);
    return page?.image ? [{ key, path: path.join(p.config.root, page.image), sourcePage: page.sourcePage }] : [];
  }), p.config.images[imageFamily(p.engine)], imageSize);
  const pages: EstimatePage[] = keys.map((key) => {
    const size = sizes.get(key) ?? null;
    return { width: size?.width ?? null, height: size?.height ?? null, promptChars: prompts?.lengths.get(key) ?? 0 };
  });
  const canCount = prompts !== null && o.countTokens && prompts.lengths.size > 0 && geminiKey(p.config.root) !== null;
  const measured = canCount ? await measureTokens(p, pickSample([...prompts.lengths.keys()], COUNT_SAMPLES).map(prompts.text), o.warn) : null;
  // Only pages built with this model say how long its answers (and its thinking) run.
  const model = p.config.rule.model;
  const recordedOutputs: number[] = [];
  for (const r of p.store.targets.values()) if (r.engine !== 'local' && r.tokensOut && r.model === model) recordedOutputs.push(r.tokensOut);
  return estimateCost({
    engine: p.engine,
    model: local ? null : model,
    mediaResolution: p.config.rule.mediaResolution,
    today: todayUtc(),
    pages,
    restored: o.restored,
    waiting: o.waiting.length,
    measured,
    recordedOutputs,
    prices: p.config.prices,
  });
}

/**
 * The length of each page's rendered prompt, and a way to get the text of a few (for countTokens). A page
 * whose request is known has its exact length: kept by the fingerprinter when it rendered the prompt to
 * find the request (nothing is rendered twice), or rendered now when the request came from its record.
 * A page whose predecessor has not been built yet gets its template rendered with a stand-in context as
 * long as the mean known context (or DEFAULT_CONTEXT_CHARS).
 */
function promptLengths(p: Project, keys: readonly TargetKey[]): { lengths: Map<TargetKey, number>; text: (key: TargetKey) => string } {
  const lengths = new Map<TargetKey, number>();
  let contextSum = 0, contexts = 0;
  const unknown: TargetKey[] = [];
  const exact = (key: TargetKey): { prompt: string; previousContext: string | null } | null => {
    try {
      const r = p.fingerprints.request(key);
      return { prompt: r.prompt ?? '', previousContext: r.previousContext };
    } catch {
      return null;
    }
  };
  for (const key of keys) {
    if (!p.fingerprints.inputs.get(key)?.current) {
      unknown.push(key);
      continue;
    }
    const kept = p.fingerprints.promptSize(key);
    const size = kept ?? (() => {
      const r = exact(key);
      return r ? { prompt: r.prompt.length, context: r.previousContext?.length ?? null } : null;
    })();
    if (!size) {
      unknown.push(key);
      continue;
    }
    lengths.set(key, size.prompt);
    if (size.context !== null) {
      contextSum += size.context;
      contexts++;
    }
  }
  let render: PromptRenderer | null = null;
  const standIn = 'x'.repeat(contexts > 0 ? Math.round(contextSum / contexts) : DEFAULT_CONTEXT_CHARS);
  const guess = (key: TargetKey): string | null => {
    const page = p.index.byKey.get(key);
    if (!page) return null;
    try {
      render ??= compilePrompt(p.config).render;
      return render(page.vars, p.fingerprints.chainDependent && p.index.predecessor.has(key) ? standIn : null);
    } catch {
      return null; // a broken template is reported by the build itself
    }
  };
  const guessed = new Set<TargetKey>();
  for (const key of unknown) {
    const text = guess(key);
    if (text === null) continue;
    lengths.set(key, text.length);
    guessed.add(key);
  }
  return { lengths, text: (key) => (guessed.has(key) ? guess(key) : exact(key)?.prompt) ?? '' };
}

/** Tokens per character of a few prompts, by countTokens; null (with a warning) when that fails. */
async function measureTokens(p: Project, prompts: readonly string[], warn?: (m: string) => void): Promise<{ tokens: number; chars: number; samples: number } | null> {
  const sample = pickSample(prompts, COUNT_SAMPLES);
  try {
    const { createClient } = await import('../engines/gemini/client.js');
    const { ai } = await createClient({ root: p.config.root, engine: p.engine, timeoutMs: 10_000 });
    let tokens = 0, chars = 0;
    for (const text of sample) {
      const r = await ai.models.countTokens({ model: p.config.rule.model, contents: [{ role: 'user', parts: [{ text }] }] });
      if (typeof r.totalTokens !== 'number') throw new Error('countTokens returned no totalTokens');
      tokens += r.totalTokens;
      chars += text.length;
    }
    return { tokens, chars, samples: sample.length };
  } catch (err) {
    warn?.(`countTokens failed (${(err as Error)?.message?.split('\n')[0] ?? String(err)}): the prompt tokens are estimated at 4 characters a token`);
    return null;
  }
}

/** Up to n prompts spread over the list (first, middle, last…), so one odd page does not decide the ratio. */
function pickSample<T>(items: readonly T[], n: number): T[] {
  if (items.length <= n) return [...items];
  return Array.from({ length: n }, (_, i) => items[Math.floor((i * (items.length - 1)) / (n - 1))]!);
}

/** Width and height from an image file's header (PNG, JPEG, GIF, WebP, BMP); null when unknown or unreadable. */
export function imageSize(file: string, first?: Buffer): { width: number; height: number } | null {
  let fd: number | null = null;
  try {
    const read = (offset: number, length: number): Buffer => {
      // Within the bytes the caller read already (the sniffed head): no file access.
      if (first && offset + length <= first.length) return first.subarray(offset, offset + length);
      fd ??= fs.openSync(file, 'r');
      const b = Buffer.alloc(length);
      const n = fs.readSync(fd, b, 0, length, offset);
      return b.subarray(0, n);
    };
    const head = read(0, 32);
    if (head.length >= 24 && head.readUInt32BE(0) === 0x89504e47 && head.toString('latin1', 12, 16) === 'IHDR') {
      return { width: head.readUInt32BE(16), height: head.readUInt32BE(20) };
    }
    if (head.length >= 10 && head.toString('latin1', 0, 4) === 'GIF8') return { width: head.readUInt16LE(6), height: head.readUInt16LE(8) };
    if (head.length >= 26 && head.toString('latin1', 0, 2) === 'BM') return { width: Math.abs(head.readInt32LE(18)), height: Math.abs(head.readInt32LE(22)) };
    if (head.length >= 30 && head.toString('latin1', 0, 4) === 'RIFF' && head.toString('latin1', 8, 12) === 'WEBP') return webpSize(head);
    if (head.length >= 4 && head[0] === 0xff && head[1] === 0xd8) return jpegSize(read);
    return null;
  } catch {
    return null;
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}

/** Walks JPEG segments to the first start-of-frame marker (EXIF thumbnails may come first). */
function jpegSize(read: (offset: number, length: number) => Buffer): { width: number; height: number } | null {
  let at = 2;
  for (let guard = 0; guard < 10_000; guard++) {
    const m = read(at, 9);
    if (m.length < 4 || m[0] !== 0xff) return null;
    const marker = m[1]!;
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd9)) {
      at += 2; // no length
      continue;
    }
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) return m.length >= 9 ? { width: m.readUInt16BE(7), height: m.readUInt16BE(5) } : null;
    at += 2 + m.readUInt16BE(2);
  }
  return null;
}

function webpSize(h: Buffer): { width: number; height: number } | null {
  const chunk = h.toString('latin1', 12, 16);
  if (chunk === 'VP8 ') return { width: h.readUInt16LE(26) & 0x3fff, height: h.readUInt16LE(28) & 0x3fff };
  if (chunk === 'VP8L') {
    const b = h.subarray(21, 25);
    return { width: 1 + (b[0]! | ((b[1]! & 0x3f) << 8)), height: 1 + ((b[1]! >> 6) | (b[2]! << 2) | ((b[3]! & 0x0f) << 10)) };
  }
  if (chunk === 'VP8X') return { width: 1 + h.readUIntLE(24, 3), height: 1 + h.readUIntLE(27, 3) };
  return null;
}
