// The read-only resolved config: the only place defaults live (STYLE §9).
import type * as z from 'zod';
import type { EngineName, LocalOcrResult, PageInfo } from './define.js';
import type { Pattern } from '../graph/pattern.js';
import type { ContentHash } from '../types.js';
import type { ModelPrice } from '../report/pricing.js';

export interface ResolvedRule {
  readonly name: string;
  readonly version: string;
  /** Prompt file relative to the root, and its absolute path. */
  readonly promptFile: string;
  readonly promptPath: string;
  readonly schema: z.ZodType;
  /** The model-facing JSON schema (zod's, without `$schema`). */
  readonly jsonSchema: Record<string, unknown>;
  readonly schemaHash: ContentHash;
  readonly context: ((previous: unknown) => string) | null;
  readonly model: string;
  readonly generationConfig: Readonly<Record<string, unknown>>;
  readonly fromLocalOcr: ((ocr: LocalOcrResult, page: PageInfo) => unknown) | null;
  /** Hash of fromLocalOcr's source: the local engine's "request" includes the mapping code. */
  readonly fromLocalOcrHash: ContentHash | null;
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
  };
  /** Price overrides by model name (USD per 1M tokens, interactive tier); empty: the dated defaults. */
  readonly prices: Readonly<Record<string, ModelPrice>>;
  /** Braintrust project from the ocrfile (BRAINTRUST_PROJECT in the environment wins); null: none. */
  readonly braintrust: { readonly project: string | null };
}

export const DEFAULT_MODEL = 'gemini-2.5-flash';
export const DEFAULTS = { maxAttempts: 3, batchSize: 100, maxConcurrentBatches: 10, pollSeconds: 30 } as const;
