// What an engine's outcome becomes: a reply checked against the rule's schema, a failure-log row, the
// `record` event a tracer reads, and the --max-cost verdict on a plan's estimate.
import type { FailureRow } from '../cache/records.js';
import type { Outcome } from '../engines/engine.js';
import type { RecordEvent } from '../events.js';
import { formatUsd, type CostEstimate } from '../plan/estimate.js';
import type { ContentHash } from '../types.js';
import type { Project } from './project.js';

/** The validated value of a successful outcome, or the schema-error outcome it turns into. */
export function validateReply(p: Project, o: Extract<Outcome, { ok: true }>): { ok: true; value: unknown } | { ok: false; failure: Outcome } {
  const parsed = p.config.rule.schema.safeParse(o.value);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
  return {
    ok: false,
    failure: {
      ok: false, key: o.key, fingerprint: o.fingerprint, class: 'schema-error', message: `the reply does not match the rule's schema: ${issues}`,
      rawResponse: o.raw ?? JSON.stringify(o.value), ...(o.text ? { extractedText: o.text } : {}), charge: true,
      ...(o.batch ? { batch: o.batch } : {}), ...(o.tokensIn !== undefined ? { tokensIn: o.tokensIn } : {}), ...(o.tokensOut !== undefined ? { tokensOut: o.tokensOut } : {}),
      ...(o.modelVersion ? { modelVersion: o.modelVersion } : {}),
    },
  };
}

/** The failure log's row for a failed outcome, with the request's context. */
export function failureRow(p: Project, o: Extract<Outcome, { ok: false }>, promptHash: ContentHash | null): FailureRow {
  const gemini = p.engine !== 'local';
  return {
    key: o.key,
    fingerprint: o.fingerprint,
    class: o.class,
    code: o.code ?? null,
    message: o.message,
    stack: o.stack ?? null,
    rawResponse: o.rawResponse ?? null,
    extractedText: o.extractedText ?? null,
    engine: p.engine,
    model: gemini ? p.config.rule.model : null,
    promptFile: gemini ? p.config.rule.promptFile : null,
    promptHash,
    generationConfig: gemini ? JSON.stringify(p.config.rule.generationConfig) : null,
    batch: o.batch ?? null,
    attempt: 0,
    at: new Date().toISOString(),
  };
}

/** The `record` event of an answered request (whole prompts: for tracers and run reports, not NDJSON). */
export function recordEvent(
  p: Project,
  o: Outcome,
  sent: { at: number; prompt: string | null; previousContext: string | null } | null,
  r: { value?: unknown; attempt: number },
): RecordEvent {
  const gemini = p.engine !== 'local';
  return {
    event: 'record',
    key: o.key,
    vars: p.index.byKey.get(o.key)!.vars,
    engine: p.engine,
    model: gemini ? p.config.rule.model : null,
    modelVersion: o.modelVersion ?? null,
    promptFile: gemini ? p.config.rule.promptFile : null,
    fingerprint: o.fingerprint,
    prompt: sent?.prompt ?? null,
    previousContext: sent?.previousContext ?? null,
    generationConfig: gemini ? { ...p.config.rule.generationConfig } : null,
    batch: o.batch ?? null,
    ok: o.ok,
    output: o.ok ? r.value : null,
    error: o.ok ? null : { class: o.class, message: o.message, code: o.code ?? null, rawResponse: o.rawResponse ?? null },
    attempt: r.attempt,
    tokensIn: o.tokensIn ?? 0,
    tokensOut: o.tokensOut ?? 0,
    latencyMs: sent ? Date.now() - sent.at : null,
  };
}

/** Why the build must not start under --max-cost, or null. An unknown price counts as over any limit. */
export function overBudget(e: CostEstimate | null, max: number | undefined): string | null {
  if (max === undefined || !e || e.pages === 0) return null;
  if (e.costUsd === null) return `--max-cost ${formatUsd(max)}: the cost cannot be estimated (no price for model ${e.model}); nothing was sent. Add the model to the ocrfile's prices.`;
  if (e.costUsd <= max) return null;
  return (
    `the estimated cost ${formatUsd(e.costUsd)} (±${Math.round(e.band * 100)} %: ${formatUsd(e.lowUsd!)}–${formatUsd(e.highUsd!)}; ${e.pages} pages, ` +
    `~${e.tokensIn.toLocaleString('en-US')} tokens in, ~${e.tokensOut.toLocaleString('en-US')} out) is above --max-cost ${formatUsd(max)}: nothing was sent. ` +
    'Raise --max-cost, or select fewer pages.'
  );
}
