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
});

const filterValue = z.union([
  z.string(),
  z.number(),
  z.array(z.union([z.string(), z.number()])).min(1),
  z
    .object({ from: z.number().optional(), to: z.number().optional() })
    .strict()
    .refine((r) => r.from !== undefined || r.to !== undefined, 'a range needs "from", "to" or both'),
]);

export const OcrfileShape = z
  .object({
    pages: z
      .object({
        allowList: z.string().min(1).optional(),
        image: z.string().min(1),
        order: z.string().min(1).optional(),
      })
      .strict(),
    target: z.string().min(1),
    rule: RuleShape,
    filters: z.record(z.string(), filterValue).optional(),
    engine: z.enum(['auto', 'gemini-batch', 'gemini', 'local']).optional(),
    chain: z.enum(['consecutive', 'previous-existing']).optional(),
    execution: z
      .object({
        maxAttempts: z.number().int().min(1).max(100).optional(),
        batchSize: z.number().int().min(1).max(100_000).optional(),
        maxConcurrentBatches: z.number().int().min(1).max(100).optional(),
        pollSeconds: z.number().positive().max(3600).optional(),
        concurrency: z.number().int().min(1).max(256).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
