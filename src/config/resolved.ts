// The read-only resolved config: the only place defaults live (STYLE §9).
import type * as z from 'zod';
import type { EngineName, LocalOcrResult, PageInfo } from './define.js';
import type { Pattern } from '../graph/pattern.js';
import type { ContentHash } from '../types.js';
import type { MediaResolution } from '../cost/models.js';
import type { ModelPrice } from '../cost/pricing.js';
import type { ImageFamily, ImageSettings, LocalOcrSettings } from './images.js';

export interface ResolvedRule {
  readonly name: string;
  readonly version: string;
  /** Prompt file relative to the root, and its absolute path; null for a rule used only with the local engine. */
  readonly promptFile: string | null;
  readonly promptPath: string | null;
  readonly schema: z.ZodType;
  /** The model-facing JSON schema (zod's, without `$schema`). */
  readonly jsonSchema: Record<string, unknown>;
  readonly schemaHash: ContentHash;
  readonly context: ((previous: unknown) => string) | null;
  readonly model: string;
  /** The generationConfig as sent (thinkingConfig and a request-wide mediaResolution merged in). */
  readonly generationConfig: Readonly<Record<string, unknown>>;
  /** The effective media resolution (Gemini 3 image budgets), null when unset. */
  readonly mediaResolution: MediaResolution | null;
  /** The level enum to put on the image part (ultra-high only), or null. */
  readonly partMediaResolution: string | null;
  /** The API version requests go to: v1alpha only for a per-part media resolution. */
  readonly apiVersion: 'v1beta' | 'v1alpha';
  readonly fromLocalOcr: ((ocr: LocalOcrResult, page: PageInfo) => unknown) | null;
  /** Hash of fromLocalOcr's source: the local engine's "request" includes the mapping code. */
  readonly fromLocalOcrHash: ContentHash | null;
  /** The rule's `text(output)`, or null: eval then uses defaultText (eval/json-metrics.ts). */
  readonly text: ((output: unknown) => string) | null;
}

/** A variant (DESIGN §17): the rule and context policy with its settings applied. */
export interface ResolvedVariant {
  readonly name: string;
  /** The settings as written (JSON), for reports, the variant area's variant.json and Braintrust. */
  readonly settings: Readonly<Record<string, unknown>>;
  readonly rule: ResolvedRule;
  readonly context: ResolvedConfig['context'];
}

export interface GroundTruth {
  readonly pattern: Pattern;
  /** By the pattern's extension: `.json` files hold outputs in the rule's schema; anything else is text. */
  readonly format: 'text' | 'json';
  readonly match: Readonly<Record<string, string>>;
}

export interface Filter {
  readonly wildcard: string;
  readonly describe: string;
  test(value: string): boolean;
}

export interface ResolvedConfig {
  readonly root: string;
  /** The collection's name for people (the report's title); null: none given (the folder's name is used). */
  readonly name: string | null;
  /** Absolute path of the ocrfile and of every project file it imported (watch reloads on these). */
  readonly file: string;
  readonly imports: readonly string[];
  readonly allowList: Pattern | null;
  readonly image: Pattern;
  readonly order: string;
  /**
   * True when the image pattern has no order wildcard: each file is a multi-page source (PDF, multi-page
   * TIFF) and the page number is the 1-based page index inside it.
   */
  readonly pageInFile: boolean;
  /** The wildcards of a key, in key order: the image pattern's, then the order wildcard if the pattern has none. */
  readonly keyWildcards: readonly string[];
  readonly target: Pattern;
  /** The wildcards that identify a chain (all but the order wildcard), in pattern order. */
  readonly chainWildcards: readonly string[];
  readonly rule: ResolvedRule;
  readonly filters: readonly Filter[];
  readonly engine: 'auto' | EngineName;
  readonly chain: 'consecutive' | 'previous-existing';
  readonly execution: {
    readonly maxAttempts: number;
    readonly batchSize: number;
    readonly maxConcurrentBatches: number;
    readonly pollSeconds: number;
    readonly concurrency: number | null;
    /** How long the Gemini API may fail every call (no connection, timeouts, 429, 5xx) before the build stops. */
    readonly outageSeconds: number;
  };
  /** Price overrides by model name (USD per 1M tokens, interactive tier); empty: the dated defaults. */
  readonly prices: Readonly<Record<string, ModelPrice>>;
  /** Braintrust project from the ocrfile (BRAINTRUST_PROJECT or BRAINTRUST_PROJECT_NAME in the environment win); null: none. */
  readonly braintrust: { readonly project: string | null };
  /** Context policy (DESIGN §15): mode, how drafts are made, and the deadline in ms from a build's start (null: none). */
  readonly context: { readonly mode: ContextMode; readonly draft: DraftSource; readonly deadline: string | null; readonly turnaroundMs: number | null };
  /** How images are prepared for each engine family (config/images.ts). */
  readonly images: Readonly<Record<ImageFamily, ImageSettings>>;
  readonly local: LocalOcrSettings;
  readonly groundTruth: GroundTruth | null;
  readonly variants: ReadonlyMap<string, ResolvedVariant>;
}

export { DEFAULT_MODEL } from '../cost/models.js';

export type ContextMode = 'exact' | 'draft' | 'speculative';
export type DraftSource = 'first-pass' | 'local';

/**
 * When a deadline falls: a duration ('6h') counts from `now`, a date and time ('2026-12-01T09:00Z') is
 * absolute. Null when the text is neither.
 */
export function deadlineAt(text: string, now: number): number | null {
  const ms = durationMs(text);
  if (ms !== null) return now + ms;
  if (!/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(text.trim())) return null;
  const at = Date.parse(text.trim());
  return Number.isFinite(at) ? at : null;
}

/** '6h' → 21,600,000; null when not a duration. */
export function durationMs(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d)\s*$/.exec(text);
  if (!m) return null;
  const unit = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms'];
  return Math.round(Number(m[1]) * unit);
}
export const DEFAULTS = { maxAttempts: 3, batchSize: 100, maxConcurrentBatches: 10, pollSeconds: 30, outageSeconds: 60 } as const;
