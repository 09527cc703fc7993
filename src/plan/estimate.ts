// The cost estimate of a plan (pure: the I/O that measures images and prompts is in
// execute/estimate-inputs.ts). What a build would send, in tokens and dollars, before anything is sent.
//
// Input tokens per page = image tokens + prompt tokens.
//   Image: by the model's generation (cost/image-tokens.ts): Gemini 2.x tiles of 768 px at 258 tokens,
//   Gemini 3 and later a fixed budget per image set by mediaResolution (1,120 when unset).
//   Prompt: the rendered prompt's characters times a tokens-per-character ratio, measured with countTokens
//   on a sample of prompts when that was possible, else Google's rule of thumb of 4 characters a token.
// Output tokens per page: the mean of the output tokens recorded for pages built before with the same model
// (candidates plus thoughts, from usageMetadata: thinking is billed as output), else DEFAULT_OUTPUT_TOKENS.
// Cost: the dated price table (ocrfile `prices` win) for the day of the estimate, at the engine's tier; a
// model Google routes to another is priced as that one.
//
// The band (±30 %) is a stated error, not a confidence interval: output length varies with the page, and
// thinking with it; retries of failed pages are not counted, and waiting pages (which may turn fresh with
// no call) are counted as sent. Restored pages cost nothing: they are not sent.
import { imageRule, imageTokens, type ImageRule } from '../cost/image-tokens.js';
import type { MediaResolution } from '../cost/models.js';
import { priceFor, type ModelPrice, type PriceQuote } from '../cost/pricing.js';

export const CHARS_PER_TOKEN = 4;
export const DEFAULT_OUTPUT_TOKENS = 1500;
export const ERROR_BAND = 0.3;

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
  /** The rule's media resolution (Gemini 3 image budgets), null when unset. */
  mediaResolution: MediaResolution | null;
  /** The pages that would be sent (stale and failed pages not in the result store, plus waiting pages). */
  pages: readonly EstimatePage[];
  /** Pages the result store restores for free. */
  restored: number;
  /** Pages counted although they may turn fresh with no call (their predecessor's context may not change). */
  waiting: number;
  /** Tokens per prompt character measured with countTokens, or null to use CHARS_PER_TOKEN. */
  measured: { tokens: number; chars: number; samples: number } | null;
  /** Output tokens recorded for earlier pages built with this model (tokens_out of the cache). */
  recordedOutputs: readonly number[];
  prices: Readonly<Record<string, ModelPrice>>;
  /** The day the requests would be sent (YYYY-MM-DD, UTC): prices change on announced dates. */
  today: string;
}

export interface CostEstimate {
  engine: string;
  model: string | null;
  pages: number;
  restored: number;
  waiting: number;
  imageTokens: number;
  /** How images were counted: tiles (Gemini 2.x) or a per-image budget (Gemini 3+, with its setting). */
  imageRule: ImageRule | null;
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
  /** The price used (per 1M tokens at the engine's tier) and where it came from; null for local or unknown. */
  price: PriceQuote | null;
}

export function estimateCost(input: EstimateInput): CostEstimate {
  const local = input.engine === 'local' || input.model === null;
  const rule = local ? null : imageRule(input.model!, input.mediaResolution);
  let image = 0, chars = 0;
  for (const p of input.pages) {
    if (rule) image += imageTokens(rule, p.width, p.height);
    chars += p.promptChars;
  }
  const measured = input.measured && input.measured.chars > 0 && input.measured.tokens > 0 ? input.measured : null;
  const prompt = Math.round(measured ? (chars * measured.tokens) / measured.chars : chars / CHARS_PER_TOKEN);
  const outputs = input.recordedOutputs.filter((n) => Number.isFinite(n) && n > 0);
  const outputPerPage = outputs.length > 0 ? Math.round(outputs.reduce((a, b) => a + b, 0) / outputs.length) : DEFAULT_OUTPUT_TOKENS;
  const n = input.pages.length;
  const tokensIn = local ? 0 : image + prompt;
  const tokensOut = local ? 0 : n * outputPerPage;
  const price = local ? null : priceFor(input.model!, input.engine, input.today, input.prices);
  const costUsd = local ? 0 : price ? (tokensIn * price.input + tokensOut * price.output) / 1e6 : null;
  return {
    engine: input.engine,
    model: input.model,
    pages: n,
    restored: input.restored,
    waiting: input.waiting,
    imageTokens: local ? 0 : image,
    imageRule: rule,
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
    price,
  };
}

/** `$0.0123`, `$4.56`, `$1,234`: enough digits to tell small runs (and the ends of a band) apart. */
export function formatUsd(usd: number): string {
  if (usd === 0) return '$0';
  if (usd < 1) return `$${usd.toFixed(4)}`;
  if (usd < 100) return `$${usd.toFixed(2)}`;
  return `$${Math.round(usd).toLocaleString('en-US')}`;
}
