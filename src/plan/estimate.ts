// The cost estimate of a plan (pure: the I/O that measures images and prompts is in
// execute/estimate-inputs.ts). What a build would send, in tokens and dollars, before anything is sent.
//
// Input tokens per page = image tokens + prompt tokens.
//   Image: Gemini 2.x counts an image whose sides are both ≤ 384 px as 258 tokens; a larger image is cropped
//   and scaled into 768×768 tiles of 258 tokens each (ai.google.dev/gemini-api/docs/tokens, "Gemini 2.0"
//   image rule): ceil(w/768) × ceil(h/768) × 258. A 1100×1500 scan is 2×2 tiles = 1,032 tokens.
//   Prompt: the rendered prompt's characters times a tokens-per-character ratio, measured with countTokens
//   on a sample of prompts when that was possible, else Google's rule of thumb of 4 characters a token.
// Output tokens per page: the mean of the output tokens recorded for pages built before (candidates plus
// thoughts, from usageMetadata), else DEFAULT_OUTPUT_TOKENS.
// Cost: the price table (ocrfile `prices`, else the dated defaults), halved for the Batch API.
//
// The band (±30 %) is a stated error, not a confidence interval: output length varies with the page, the
// image rule differs for other model families, retries of failed pages are not counted, and waiting pages
// (which may turn fresh with no call) are counted as sent. Restored pages cost nothing: they are not sent.
import { BATCH_DISCOUNT, DEFAULT_PRICES, PRICES_AS_OF, type ModelPrice } from '../report/pricing.js';

export const TOKENS_PER_TILE = 258;
export const SMALL_IMAGE_PX = 384;
export const TILE_PX = 768;
/** For an image whose size cannot be read: a typical scanned page (2×2 tiles). */
export const DEFAULT_IMAGE_TOKENS = 4 * TOKENS_PER_TILE;
export const CHARS_PER_TOKEN = 4;
export const DEFAULT_OUTPUT_TOKENS = 1500;
export const ERROR_BAND = 0.3;

/** Gemini 2.x image tokens for a width × height image (see the header). */
export function imageTokens(width: number, height: number): number {
  if (width <= SMALL_IMAGE_PX && height <= SMALL_IMAGE_PX) return TOKENS_PER_TILE;
  return Math.ceil(width / TILE_PX) * Math.ceil(height / TILE_PX) * TOKENS_PER_TILE;
}

export interface EstimatePage {
  /** Image pixel size, or null when its header could not be read. */
  width: number | null;
  height: number | null;
  /** Characters of the rendered prompt (estimated for pages whose previous-page context is not known yet). */
  promptChars: number;
}

export interface EstimateInput {
  engine: string;
  model: string | null;
  /** The pages that would be sent (stale and failed pages not in the result store, plus waiting pages). */
  pages: readonly EstimatePage[];
  /** Pages the result store restores for free. */
  restored: number;
  /** Pages counted although they may turn fresh with no call (their predecessor's context may not change). */
  waiting: number;
  /** Tokens per prompt character measured with countTokens, or null to use CHARS_PER_TOKEN. */
  measured: { tokens: number; chars: number; samples: number } | null;
  /** Output tokens recorded for earlier pages (tokens_out of the cache). */
  recordedOutputs: readonly number[];
  prices: Readonly<Record<string, ModelPrice>>;
}

export interface CostEstimate {
  engine: string;
  model: string | null;
  pages: number;
  restored: number;
  waiting: number;
  imageTokens: number;
  promptTokens: number;
  tokensIn: number;
  tokensOut: number;
  outputPerPage: number;
  /** Where the numbers come from, for the printed estimate. */
  promptSource: 'countTokens' | 'chars-per-token';
  promptSamples: number;
  outputSource: 'recorded' | 'default';
  outputSamples: number;
  /** USD; null when the model has no known price. Low and high are costUsd × (1 ∓ band). */
  costUsd: number | null;
  lowUsd: number | null;
  highUsd: number | null;
  band: number;
  /** The price used (per 1M tokens, after the batch discount), where it came from, and the table's date. */
  price: { input: number; output: number; tier: 'batch' | 'interactive' | 'local'; source: 'ocrfile' | 'default'; asOf: string | null } | null;
}

export function estimateCost(input: EstimateInput): CostEstimate {
  const local = input.engine === 'local';
  let image = 0, chars = 0;
  for (const p of input.pages) {
    image += p.width !== null && p.height !== null ? imageTokens(p.width, p.height) : DEFAULT_IMAGE_TOKENS;
    chars += p.promptChars;
  }
  const measured = input.measured && input.measured.chars > 0 && input.measured.tokens > 0 ? input.measured : null;
  const prompt = Math.round(measured ? (chars * measured.tokens) / measured.chars : chars / CHARS_PER_TOKEN);
  const outputs = input.recordedOutputs.filter((n) => Number.isFinite(n) && n > 0);
  const outputPerPage = outputs.length > 0 ? Math.round(outputs.reduce((a, b) => a + b, 0) / outputs.length) : DEFAULT_OUTPUT_TOKENS;
  const n = input.pages.length;
  const tokensIn = local ? 0 : image + prompt;
  const tokensOut = local ? 0 : n * outputPerPage;
  const price = local ? null : input.model ? priceOf(input.model, input.prices) : null;
  const factor = input.engine === 'gemini-batch' ? BATCH_DISCOUNT : 1;
  const costUsd = local ? 0 : price ? ((tokensIn * price.input + tokensOut * price.output) / 1e6) * factor : null;
  return {
    engine: input.engine,
    model: input.model,
    pages: n,
    restored: input.restored,
    waiting: input.waiting,
    imageTokens: local ? 0 : image,
    promptTokens: local ? 0 : prompt,
    tokensIn,
    tokensOut,
    outputPerPage: local ? 0 : outputPerPage,
    promptSource: measured ? 'countTokens' : 'chars-per-token',
    promptSamples: measured?.samples ?? 0,
    outputSource: outputs.length > 0 ? 'recorded' : 'default',
    outputSamples: outputs.length,
    costUsd,
    lowUsd: costUsd === null ? null : costUsd * (1 - ERROR_BAND),
    highUsd: costUsd === null ? null : costUsd * (1 + ERROR_BAND),
    band: ERROR_BAND,
    price: local
      ? { input: 0, output: 0, tier: 'local', source: 'default', asOf: null }
      : price
        ? { input: price.input * factor, output: price.output * factor, tier: factor < 1 ? 'batch' : 'interactive', source: price.source, asOf: price.source === 'default' ? PRICES_AS_OF : null }
        : null,
  };
}

function priceOf(model: string, overrides: Readonly<Record<string, ModelPrice>>): (ModelPrice & { source: 'ocrfile' | 'default' }) | null {
  const name = model.replace(/^models\//, '');
  const own = overrides[name];
  if (own) return { ...own, source: 'ocrfile' };
  const known = DEFAULT_PRICES[name];
  return known ? { ...known, source: 'default' } : null;
}

/** `$0.0123`, `$4.56`, `$1,234`: enough digits to tell small runs (and the ends of a band) apart. */
export function formatUsd(usd: number): string {
  if (usd === 0) return '$0';
  if (usd < 1) return `$${usd.toFixed(4)}`;
  if (usd < 100) return `$${usd.toFixed(2)}`;
  return `$${Math.round(usd).toLocaleString('en-US')}`;
}
