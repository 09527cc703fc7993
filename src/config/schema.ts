// Step 1 of config validation: the shape of the ocrfile's default export (zod parse, every problem at once).
import * as z from 'zod';

const fn = (what: string) => z.custom<(...args: any[]) => any>((v) => typeof v === 'function', { message: `${what} must be a function` });
const zodSchema = z.custom<z.ZodType>(
  (v) => typeof v === 'object' && v !== null && typeof (v as { safeParse?: unknown }).safeParse === 'function' && '_zod' in (v as object),
  { message: 'schema must be a zod 4 schema (import { z } from "ocrmake")' },
);

const ThinkingShape = z.object({ level: z.enum(['minimal', 'low', 'medium', 'high']).optional(), budget: z.number().optional() }).strict();

export const RuleShape = z.object({
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'rule name may contain letters, digits, _ . - only'),
  version: z.union([z.string(), z.number()]).optional(),
  prompt: z.string().min(1).optional(),
  schema: zodSchema,
  context: fn('context').optional(),
  model: z.string().min(1).optional(),
  mediaResolution: z.enum(['low', 'medium', 'high', 'ultra-high']).optional(),
  thinking: ThinkingShape.refine((t) => t.level !== undefined || t.budget !== undefined, 'thinking needs "level" (Gemini 3 and later) or "budget" (Gemini 2.5)').optional(),
  generationConfig: z.record(z.string(), z.unknown()).optional(),
  fromLocalOcr: fn('fromLocalOcr').optional(),
  text: fn('text').optional(),
}).strict();

const filterValue = z.union([
  z.string(),
  z.number(),
  z.array(z.union([z.string(), z.number()])).min(1),
  z
    .object({ from: z.number().optional(), to: z.number().optional() })
    .strict()
    .refine((r) => r.from !== undefined || r.to !== undefined, 'a range needs "from", "to" or both'),
]);

const PagesShape = z
  .object({
    allowList: z.string().min(1).optional(),
    image: z.string().min(1),
    order: z.string().min(1).optional(),
  })
  .strict();

const ExecutionShape = z
  .object({
    maxAttempts: z.number().int().min(1).max(100).optional(),
    batchSize: z.number().int().min(1).max(100_000).optional(),
    maxConcurrentBatches: z.number().int().min(1).max(100).optional(),
    pollSeconds: z.number().positive().max(3600).optional(),
    concurrency: z.number().int().min(1).max(256).optional(),
    outageSeconds: z.number().positive().max(86_400).optional(),
  })
  .strict();

/** USD per million tokens, interactive tier (batch is half of it), e.g. { 'gemini-3.8-flash': { input: 1.5, output: 7.5 } }. */
const PricesShape = z.record(z.string().min(1), z.object({ input: z.number().nonnegative(), output: z.number().nonnegative() }).strict());

const BraintrustShape = z
  .object({
    /** The Braintrust project that gets one span per request (tracing also needs BRAINTRUST_API_KEY). */
    project: z.string().min(1).optional(),
  })
  .strict();

const ImageOptionsShape = {
  maxLongEdge: z.number().int().min(64).max(100_000).nullable().optional(),
  format: z.enum(['auto', 'png', 'jpeg', 'webp']).optional(),
  quality: z.number().int().min(1).max(100).optional(),
  grayscale: z.boolean().optional(),
  dpi: z.number().int().min(36).max(1200).optional(),
};
const ImageFamilyShape = z.object(ImageOptionsShape).strict();
const ImagesShape = z.object({ ...ImageOptionsShape, local: ImageFamilyShape.optional(), gemini: ImageFamilyShape.optional() }).strict();

const LocalShape = z
  .object({
    languages: z.array(z.string().regex(/^[A-Za-z0-9_-]+$/, 'a tesseract language code such as "eng" or "deu"')).min(1).optional(),
    langPath: z.string().min(1).optional(),
    dpi: z.union([z.literal('auto'), z.number().int().min(36).max(2400)]).optional(),
    psm: z.number().int().min(0).max(13).optional(),
  })
  .strict();

/** How a page gets its predecessor's context (DESIGN §15): a duration like '6h', '90m', '45s' or '2d'. */
export const DURATION = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d)\s*$/;
/** An ISO 8601 date and time (a zone is optional: without one it is local time). */
export const DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;
const ContextShape = z
  .object({
    mode: z.enum(['exact', 'draft', 'speculative']).optional(),
    draft: z.enum(['first-pass', 'local']).optional(),
    deadline: z
      .string()
      .refine((t) => DURATION.test(t) || DATE_TIME.test(t), 'a duration such as "6h", "90m" or "2d", or a date and time such as "2026-12-01T09:00Z"')
      .optional(),
    turnaround: z.string().regex(DURATION, 'a duration such as "45m" or "2h"').optional(),
  })
  .strict();

/** Ground truth (DESIGN §17): a pattern of .txt files (text) or .json files (in the rule's schema). */
const GroundTruthObjectShape = z
  .object({
    pattern: z.string().min(1),
    /** List fields: the item field that matches output items to truth items, e.g. { courses: 'course_name' }. */
    match: z.record(z.string().min(1), z.string().min(1)).optional(),
  })
  .strict();
const GroundTruthShape = z.union([z.string().min(1), GroundTruthObjectShape]);

/** A variant: request settings tried with `ocrmake try` beside the rule's own (DESIGN §17). */
export const VariantShape = z
  .object({
    prompt: z.string().min(1).optional(),
    model: z.string().min(1).optional(),
    mediaResolution: RuleShape.shape.mediaResolution,
    thinking: RuleShape.shape.thinking,
    generationConfig: z.record(z.string(), z.unknown()).optional(),
    context: ContextShape.optional(),
  })
  .strict();
/** Variant names become folder names under .ocrcache/variants/, and `current` names the real outputs. */
export const VARIANT_NAME = /^(?!current$)[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

export const OcrfileShape = z
  .object({
    name: z.string().min(1).optional(),
    pages: PagesShape,
    target: z.string().min(1),
    rule: RuleShape,
    filters: z.record(z.string(), filterValue).optional(),
    engine: z.enum(['auto', 'gemini-batch', 'gemini', 'local']).optional(),
    chain: z.enum(['consecutive', 'previous-existing']).optional(),
    execution: ExecutionShape.optional(),
    prices: PricesShape.optional(),
    braintrust: BraintrustShape.optional(),
    context: ContextShape.optional(),
    images: ImagesShape.optional(),
    local: LocalShape.optional(),
    groundTruth: GroundTruthShape.optional(),
    variants: z.record(z.string().regex(VARIANT_NAME, 'a variant name: letters, digits, _ . - (up to 64), not "current"'), VariantShape).optional(),
  })
  .strict();

/** The option names allowed at a config path (`''` is the top level), for "did you mean" hints. */
export function knownKeys(at: string): string[] | null {
  const shapes: Record<string, { shape: object }> = {
    '': OcrfileShape, pages: PagesShape, execution: ExecutionShape, rule: RuleShape, 'rule.thinking': ThinkingShape, braintrust: BraintrustShape, context: ContextShape,
    images: ImagesShape, 'images.local': ImageFamilyShape, 'images.gemini': ImageFamilyShape, local: LocalShape,
  };
  if (/^variants\.[^.]+$/.test(at)) return Object.keys(VariantShape.shape);
  if (at === 'groundTruth') return Object.keys(GroundTruthObjectShape.shape);
  const s = shapes[at];
  return s ? Object.keys(s.shape) : null;
}
