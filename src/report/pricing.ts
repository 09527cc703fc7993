// Token prices, per million tokens, interactive (standard) tier. Batch is half price (reference §5.7).
// The defaults are dated: prices change, so the ocrfile can override them (top-level `prices`) and every
// estimate says which table it used.

export interface ModelPrice {
  /** USD per 1M input (prompt) tokens. */
  input: number;
  /** USD per 1M output tokens (candidates and thoughts). */
  output: number;
}

export const PRICES_AS_OF = '2025-06-17';

/** Google's published prices for prompts up to 200k tokens (ai.google.dev/gemini-api/docs/pricing). */
export const DEFAULT_PRICES: Readonly<Record<string, ModelPrice>> = Object.freeze({
  'gemini-2.5-pro': { input: 1.25, output: 10 },
  'gemini-2.5-flash': { input: 0.3, output: 2.5 },
  'gemini-2.5-flash-lite': { input: 0.1, output: 0.4 },
  'gemini-2.0-flash': { input: 0.1, output: 0.4 },
  'gemini-2.0-flash-lite': { input: 0.075, output: 0.3 },
});

export const BATCH_DISCOUNT = 0.5;

export function priceFor(model: string, overrides: Readonly<Record<string, ModelPrice>> = {}): ModelPrice | null {
  const name = model.replace(/^models\//, '');
  return overrides[name] ?? DEFAULT_PRICES[name] ?? null;
}

/** USD for the given tokens; null when the model has no known price. Local OCR costs nothing. */
export function costOf(engine: string, model: string | null, tokensIn: number, tokensOut: number, overrides: Readonly<Record<string, ModelPrice>> = {}): number | null {
  if (engine === 'local') return 0;
  const p = model ? priceFor(model, overrides) : null;
  if (!p) return null;
  const factor = engine === 'gemini-batch' ? BATCH_DISCOUNT : 1;
  return ((tokensIn * p.input + tokensOut * p.output) / 1e6) * factor;
}
