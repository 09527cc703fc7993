// Token prices, USD per million tokens, by model and by date: Google changes them on announced dates
// (Gemini 3.8 Flash doubles on 2027-01-01), so each row is a period and every price is looked up for the
// day it applies to. Output prices include thinking tokens (Google bills thoughts as output). The ocrfile
// can override any model (top-level `prices`), and every estimate says which table and period it used.
//
// Sources (README "Models and prices" has the links): Google's pricing page
// ai.google.dev/gemini-api/docs/pricing as transcribed on the dates below; the Gemini 4 rows come from
// third-party transcriptions only, and are marked so. Only prompts ≤ 200k tokens are priced (a page is
// a few thousand): the long-context tiers of the Pro models never apply here.
import { bareModel, billedModel } from './models.js';

export interface ModelPrice {
  /** USD per 1M input (prompt) tokens. */
  input: number;
  /** USD per 1M output tokens (candidates and thoughts). */
  output: number;
}

export interface PricePeriod {
  /** First day (UTC, inclusive) the price applies; absent: since the model launched. */
  readonly from?: string;
  /** Last day (inclusive); absent: until further notice. */
  readonly until?: string;
  readonly standard: ModelPrice;
  readonly batch: ModelPrice;
  /** Where the figures were read, and when. */
  readonly source: string;
}

/** When the table was last checked against its sources. */
export const PRICES_AS_OF = '2026-11-29';

const half = (p: ModelPrice): ModelPrice => ({ input: p.input / 2, output: p.output / 2 });
const period = (standard: ModelPrice, source: string, range: { from?: string; until?: string } = {}): PricePeriod => ({ ...range, standard, batch: half(standard), source });

const PAGE = 'ai.google.dev/gemini-api/docs/pricing';
const PAGE_OCT = `${PAGE} (transcribed 2026-10-07)`;
const PAGE_AUG = `${PAGE} (captured 2026-08-04)`;
const THIRD_PARTY_GEMINI_4 = 'third-party transcriptions (LiteLLM #46238, TokenMeter 2026-10-13, apidog 2026-11-11); not read on Google\'s page';

/**
 * Batch is half the standard price for every model on Google's page ("Batch API (50% cost reduction)");
 * where the page prints batch rows they say the same.
 */
export const DEFAULT_PRICES: Readonly<Record<string, readonly PricePeriod[]>> = Object.freeze({
  'gemini-4-carbon': [
    period({ input: 2, output: 10 }, THIRD_PARTY_GEMINI_4, { until: '2026-11-30' }),
    period({ input: 4, output: 20 }, THIRD_PARTY_GEMINI_4, { from: '2026-12-01' }),
  ],
  'gemini-4-argon': [
    period({ input: 2, output: 10 }, THIRD_PARTY_GEMINI_4, { until: '2026-11-30' }),
    period({ input: 4, output: 20 }, THIRD_PARTY_GEMINI_4, { from: '2026-12-01' }),
  ],
  'gemini-3.8-flash': [
    period({ input: 0.75, output: 3.75 }, PAGE_OCT, { until: '2026-12-31' }),
    period({ input: 1.5, output: 7.5 }, PAGE_OCT, { from: '2027-01-01' }),
  ],
  'gemini-3.7-flash': [
    period({ input: 0.75, output: 3.75 }, PAGE_OCT, { until: '2026-12-31' }),
    period({ input: 1.5, output: 7.5 }, PAGE_OCT, { from: '2027-01-01' }),
  ],
  'gemini-3.6-flash': [
    period({ input: 0.75, output: 3.75 }, `${PAGE_OCT}; output from Google Cloud's pricing banner`, { until: '2026-12-31' }),
    period({ input: 1.5, output: 7.5 }, `${PAGE_OCT}; ai.google.dev/gemini-api/docs/whats-new-gemini-3.6`, { from: '2027-01-01' }),
  ],
  'gemini-3.5-flash': [period({ input: 1.5, output: 9 }, PAGE_OCT)],
  'gemini-3.5-flash-lite': [period({ input: 0.3, output: 2.5 }, PAGE_OCT)],
  'gemini-3.1-flash-lite': [period({ input: 0.25, output: 1.5 }, `${PAGE} (transcribed 2026-09-26)`)],
  'gemini-3.1-pro-preview': [period({ input: 2, output: 12 }, PAGE_OCT)],
  'gemini-3-flash-preview': [period({ input: 0.5, output: 3 }, `${PAGE} (copy of 2026-03)`)],
  'gemini-2.5-pro': [period({ input: 1.25, output: 10 }, PAGE_AUG)],
  'gemini-2.5-flash': [period({ input: 0.3, output: 2.5 }, PAGE_AUG)],
  'gemini-2.5-flash-lite': [period({ input: 0.1, output: 0.4 }, PAGE_AUG)],
});

export type Tier = 'batch' | 'interactive';

export interface PriceQuote extends ModelPrice {
  tier: Tier;
  /** The model whose price this is: the requested one, or the one Google routes it to. */
  model: string;
  source: 'ocrfile' | 'default';
  /** The default table's date and the period's last day (null: open-ended or ocrfile). */
  asOf: string | null;
  until: string | null;
}

const tierOf = (engine: string): Tier => (engine === 'gemini-batch' ? 'batch' : 'interactive');

/**
 * The price per 1M tokens for requests of `model` sent with `engine` on `today`. A model Google routes to
 * another is billed at that model's price. Ocrfile prices (interactive tier; batch is half) win. Null when
 * neither knows the model.
 */
export function priceFor(model: string, engine: string, today: string, overrides: Readonly<Record<string, ModelPrice>> = {}): PriceQuote | null {
  const tier = tierOf(engine);
  const name = bareModel(model);
  const own = overrides[name];
  if (own) return { ...(tier === 'batch' ? half(own) : own), tier, model: name, source: 'ocrfile', asOf: null, until: null };
  const billed = billedModel(name, today);
  const ownBilled = overrides[billed];
  if (ownBilled) return { ...(tier === 'batch' ? half(ownBilled) : ownBilled), tier, model: billed, source: 'ocrfile', asOf: null, until: null };
  const p = (DEFAULT_PRICES[billed] ?? []).find((row) => (row.from === undefined || row.from <= today) && (row.until === undefined || today <= row.until));
  if (!p) return null;
  return { ...(tier === 'batch' ? p.batch : p.standard), tier, model: billed, source: 'default', asOf: PRICES_AS_OF, until: p.until ?? null };
}

/** USD for the given tokens; null when the model has no known price. Local OCR costs nothing. */
export function costOf(engine: string, model: string | null, tokensIn: number, tokensOut: number, today: string, overrides: Readonly<Record<string, ModelPrice>> = {}): number | null {
  if (engine === 'local') return 0;
  const p = model ? priceFor(model, engine, today, overrides) : null;
  return p ? costAt(p, tokensIn, tokensOut) : null;
}

/** USD for these tokens at a quote's prices (per 1M tokens). */
export function costAt(quote: PriceQuote, tokensIn: number, tokensOut: number): number {
  return (tokensIn * quote.input + tokensOut * quote.output) / 1e6;
}
