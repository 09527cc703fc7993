// Public, typed helpers for ocrfile.ts and rules/*.ts. They are identity functions: their only job is
// to give editors completion and type errors (like vite's defineConfig).
import type * as z from 'zod';

/** What tesseract.js produced for one page, trimmed to what a rule needs. */
export interface LocalOcrWord {
  text: string;
  confidence: number;
  bbox: { x0: number; y0: number; x1: number; y1: number };
}
export interface LocalOcrLine {
  text: string;
  confidence: number;
  bbox: { x0: number; y0: number; x1: number; y1: number };
  words: LocalOcrWord[];
}
export interface LocalOcrParagraph {
  text: string;
  bbox: { x0: number; y0: number; x1: number; y1: number };
  lines: LocalOcrLine[];
}
export interface LocalOcrBlock {
  text: string;
  confidence: number;
  bbox: { x0: number; y0: number; x1: number; y1: number };
  paragraphs: LocalOcrParagraph[];
}
export interface LocalOcrResult {
  text: string;
  confidence: number;
  blocks: LocalOcrBlock[];
}

/** The page a rule is asked about: its key, its wildcard values and its number in the chain. */
export interface PageInfo {
  key: string;
  vars: Readonly<Record<string, string>>;
  pageNumber: number;
}

export interface RuleDefinition<T = any> {
  /** Stable name; part of every fingerprint. */
  name: string;
  /** Bump to invalidate every output of this rule on purpose. */
  version?: string | number;
  /** EJS template, relative to the project root (e.g. `prompts/page_ocr/v1.ejs`). */
  prompt: string;
  /** Output schema: sent to Gemini as responseJsonSchema and used to validate every reply. */
  schema: z.ZodType<T>;
  /** The text handed to the next page of the chain. Default: none (pages are independent). */
  context?: (previous: T) => string;
  model?: string;
  generationConfig?: Record<string, unknown>;
  /** Maps a tesseract.js result onto the schema for the offline `local` engine. */
  fromLocalOcr?: (ocr: LocalOcrResult, page: PageInfo) => T;
}

export type EngineName = 'gemini-batch' | 'gemini' | 'local';

export type FilterValue = string | number | Array<string | number> | { from?: number; to?: number };

export interface OcrfileInput {
  /** What people call the collection: the title of `ocrmake report`. Default: the project folder's name. */
  name?: string;
  pages: {
    /** Pattern whose matches decide which pages exist (optional; else the images decide). */
    allowList?: string;
    /** Image pattern; `{jpg,png}` alternation allowed for the extension. */
    image: string;
    /** The numeric wildcard that orders pages inside a chain. Default `page`. */
    order?: string;
  };
  /** Output pattern; must use every wildcard of the image pattern. */
  target: string;
  rule: RuleDefinition;
  /** Restrict the collection: `{ state: ['Alabama'], year: { from: 1849, to: 1852 } }`. */
  filters?: Record<string, FilterValue>;
  engine?: 'auto' | EngineName;
  /** `consecutive` (default): a gap in page numbers starts a new chain. `previous-existing` links across gaps. */
  chain?: 'consecutive' | 'previous-existing';
  execution?: {
    maxAttempts?: number;
    batchSize?: number;
    maxConcurrentBatches?: number;
    pollSeconds?: number;
    /** Local OCR workers / interactive calls in flight. Default: number of cores (local), 8 (gemini). */
    concurrency?: number;
  };
  /** Token prices by model, USD per 1M tokens at the interactive tier (batch is half); overrides the dated defaults. */
  prices?: Record<string, { input: number; output: number }>;
  /** Braintrust tracing: the project (BRAINTRUST_PROJECT wins); tracing also needs BRAINTRUST_API_KEY. */
  braintrust?: { project?: string };
}

export function defineRule<T>(rule: RuleDefinition<T>): RuleDefinition<T> {
  return rule;
}

export function defineOcrfile(config: OcrfileInput): OcrfileInput {
  return config;
}
