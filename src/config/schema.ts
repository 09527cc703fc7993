// Step 1 of config validation: the shape of the ocrfile's default export (zod parse, every problem at once).
import * as z from 'zod';

const fn = (what: string) => z.custom<(...args: any[]) => any>((v) => typeof v === 'function', { message: `${what} must be a function` });
const zodSchema = z.custom<z.ZodType>(
  (v) => typeof v === 'object' && v !== null && typeof (v as { safeParse?: unknown }).safeParse === 'function' && '_zod' in (v as object),
  { message: 'schema must be a zod 4 schema (import { z } from "ocrmake")' },
);

export const RuleShape = z.object({
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'rule name may contain letters, digits, _ . - only'),
  version: z.union([z.string(), z.number()]).optional(),
  prompt: z.string().min(1),
  schema: zodSchema,
  context: fn('context').optional(),
  model: z.string().min(1).optional(),
  generationConfig: z.record(z.string(), z.unknown()).optional(),
  fromLocalOcr: fn('fromLocalOcr').optional(),
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
  })
  .strict();

/** USD per million tokens, interactive tier (batch is half of it), e.g. { 'gemini-2.5-flash': { input: 0.3, output: 2.5 } }. */
const PricesShape = z.record(z.string().min(1), z.object({ input: z.number().nonnegative(), output: z.number().nonnegative() }).strict());

const BraintrustShape = z
  .object({
    /** The Braintrust project that gets one span per request (tracing also needs BRAINTRUST_API_KEY). */
    project: z.string().min(1).optional(),
  })
  .strict();

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
  })
  .strict();

/** The option names allowed at a config path (`''` is the top level), for "did you mean" hints. */
export function knownKeys(at: string): string[] | null {
  const shapes: Record<string, { shape: object }> = { '': OcrfileShape, pages: PagesShape, execution: ExecutionShape, rule: RuleShape, braintrust: BraintrustShape };
  const s = shapes[at];
  return s ? Object.keys(s.shape) : null;
}
