// Public, typed helpers for ocrfile.ts and rules/*.ts. They are identity functions: their only job is
// to give editors completion and type errors (like vite's defineConfig).
import type * as z from 'zod';

/**
 * A rectangle in pixels of the image tesseract read: the prepared image (images.local: at most 3000 px on the
 * long side by default), whose size is LocalOcrResult.image. Divide by `image.scale` for source pixels.
 */
export interface LocalOcrBox {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** One word. `confidence` is tesseract's, 0–100. */
export interface LocalOcrWord {
  text: string;
  confidence: number;
  bbox: LocalOcrBox;
}

/** One line of print: its text (no trailing newline), its words in reading order and their mean confidence. */
export interface LocalOcrLine {
  text: string;
  confidence: number;
  bbox: LocalOcrBox;
  words: LocalOcrWord[];
}

/** A paragraph: lines that tesseract grouped together (a blank line in `text` separates paragraphs). */
export interface LocalOcrParagraph {
  text: string;
  bbox: LocalOcrBox;
  lines: LocalOcrLine[];
}

/** A block: a column, a heading, a table cell — a region of the page read as one. */
export interface LocalOcrBlock {
  text: string;
  confidence: number;
  bbox: LocalOcrBox;
  paragraphs: LocalOcrParagraph[];
}

/**
 * What the local engine (tesseract.js) read on one page: the argument of a rule's `fromLocalOcr`. A stable
 * shape: fields may be added, none renamed or removed without a major version. Reading order throughout.
 *
 * - `text`: the whole page, lines separated by `\n`, paragraphs by a blank line;
 * - `confidence`: the page's mean word confidence, 0–100;
 * - `blocks` → `paragraphs` → `lines` → `words`: the layout tesseract found, each with its box;
 * - `lines`, `words`: the same lines and words in one flat list each, for rules that need no layout;
 * - `image`: the size of the image read (the prepared image), and its scale to the source page.
 */
export interface LocalOcrResult {
  text: string;
  confidence: number;
  blocks: LocalOcrBlock[];
  lines: LocalOcrLine[];
  words: LocalOcrWord[];
  image: { width: number; height: number; scale: number; dpi: number };
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
  /**
   * The prompt template, relative to the project root: EJS (`prompts/page_ocr/v1.ejs`), or Jinja for `.jinja`
   * and `.j2` (rendered by nunjucks). Optional for a rule used only with the local engine, which sends none.
   */
  prompt?: string;
  /** Output schema: sent to Gemini as responseJsonSchema and used to validate every reply. */
  schema: z.ZodType<T>;
  /** The text handed to the next page of the chain. Default: none (pages are independent). */
  context?: (previous: T) => string;
  /** Gemini model. Default: gemini-3.8-flash (README "Models and prices" says why). */
  model?: string;
  /**
   * Tokens each page image costs on Gemini 3 and later: low 280, medium 560, high 1,120 (what the API uses
   * when unset), ultra-high 2,240 (sent on the image part, API v1alpha). Gemini 2.x counts 768-px tiles.
   */
  mediaResolution?: 'low' | 'medium' | 'high' | 'ultra-high';
  /**
   * Thinking: `level` for Gemini 3 and later (minimal, low, medium, high; not every model takes every
   * level), or `budget` in tokens for Gemini 2.5 (0 off where allowed, -1 dynamic). Thoughts are billed as output.
   */
  thinking?: { level?: 'minimal' | 'low' | 'medium' | 'high'; budget?: number };
  /** Sent as the request's generationConfig (camelCase API field names); responseMimeType and responseJsonSchema are set by ocrmake. */
  generationConfig?: Record<string, unknown>;
  /** Maps a tesseract.js result onto the schema for the offline `local` engine. */
  fromLocalOcr?: (ocr: LocalOcrResult, page: PageInfo) => T;
  /**
   * The plain text of an output, for `ocrmake eval` (CER, WER). Default: every string under a key named
   * `text`, depth first, one per line.
   */
  text?: (output: T) => string;
}

/** Request settings tried beside the rule's own with `ocrmake try NAME` (README "Prompt iteration"). */
export interface VariantDefinition {
  /** Another prompt template. */
  prompt?: string;
  model?: string;
  mediaResolution?: RuleDefinition['mediaResolution'];
  thinking?: RuleDefinition['thinking'];
  /** Replaces the rule's generationConfig. */
  generationConfig?: Record<string, unknown>;
  /** Another context policy (merged over the ocrfile's `context`). */
  context?: OcrfileInput['context'];
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
    /** Seconds the Gemini API may fail every call (unreachable, timeouts, 429, 5xx) before the build stops, uncharged. Default 60. */
    outageSeconds?: number;
  };
  /** Token prices by model, USD per 1M tokens at the interactive tier (batch is half); overrides the dated defaults. */
  prices?: Record<string, { input: number; output: number }>;
  /** Braintrust tracing: the project (BRAINTRUST_PROJECT, then BRAINTRUST_PROJECT_NAME, win); tracing also needs BRAINTRUST_API_KEY. */
  braintrust?: { project?: string };
  /**
   * Where a page's previous-page context comes from (README "Context policies"): `exact` (the default: the
   * predecessor's final output), `draft` (a draft of the predecessor made without its own context: every page
   * of a book can go out at once), or `speculative` (sent early with the draft's context, checked when the
   * predecessor's final output arrives; the end state equals exact's). `draft` says how drafts are made:
   * `first-pass` (a request without context, the default) or `local` (the offline engine's OCR, free).
   * `deadline` ('6h' from the build's start, or a date and time such as '2026-12-01T09:00Z'): a Batch build
   * sends the pages of chains that batch turnaround would make miss it through interactive calls (the tail).
   * `turnaround` ('2h'): the batch turnaround the tail plans with, instead of the one measured on this project's
   * batches (1 h is assumed before any batch has ended).
   */
  context?: { mode?: 'exact' | 'draft' | 'speculative'; draft?: 'first-pass' | 'local'; deadline?: string; turnaround?: string };
  /** How the image each engine receives is prepared; `local` and `gemini` override the rest for that engine. */
  images?: ImageOptions & { local?: ImageOptions; gemini?: ImageOptions };
  /** Settings of the offline local engine (tesseract.js). */
  local?: {
    /** tesseract languages, e.g. `['deu', 'eng']`. Default `['eng']`. */
    languages?: string[];
    /** A folder of `<lang>.traineddata` files (relative to the project root), searched before the others. */
    langPath?: string;
    /** The sources' resolution for tesseract: `auto` (default) reads it from the file, else derives it from the page size. */
    dpi?: number | 'auto';
    /** tesseract page segmentation mode, 0–13. Default 3 (fully automatic). */
    psm?: number;
  };
  /**
   * Ground truth for `ocrmake eval` and `compare`: a pattern with the pages' wildcards, of `.txt` files (the
   * page's text) or `.json` files (the output in the rule's schema). `match` names, per list field, the item
   * field that pairs output items with truth items (default: a `name`-like field).
   */
  groundTruth?: string | { pattern: string; match?: Record<string, string> };
  /** Variants to try with `ocrmake try NAME` without touching the outputs; names: letters, digits, _ . - */
  variants?: Record<string, VariantDefinition>;
}

export interface ImageOptions {
  /** Longer side in pixels after preparation (never enlarged); null keeps the source size. */
  maxLongEdge?: number | null;
  /** `auto` keeps JPEG and WebP sources as they are encoded and makes PNG of everything else. */
  format?: 'auto' | 'png' | 'jpeg' | 'webp';
  /** JPEG/WebP quality, 1–100. Default 90. */
  quality?: number;
  /** Convert to grey. Default false. */
  grayscale?: boolean;
  /** Resolution for rendering PDF pages that are not one scanned image. Default 300. */
  dpi?: number;
}

export function defineRule<T>(rule: RuleDefinition<T>): RuleDefinition<T> {
  return rule;
}

export function defineOcrfile(config: OcrfileInput): OcrfileInput {
  return config;
}
