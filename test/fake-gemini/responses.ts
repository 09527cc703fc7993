// Renders a replier's ReplySpec, spoiled by an optional record fault, into an Outcome: the
// GenerateContentResponse (or error, or absence) that a batch line, an inline response or a
// generateContent reply is made of. Never emits continuationToken (trap §10.13).
import { createHash } from 'node:crypto';
import type { RecordFault } from './faults.js';
import type { ReplySpec } from './replies.js';
import { promptTokens, type ImageInput, type ReplyRequest } from './requests.js';

export type Outcome =
  | { kind: 'response'; response: Record<string, unknown> }
  /** google.rpc code and message. */
  | { kind: 'error'; error: { code: number; message: string } }
  | { kind: 'missing' }
  | { kind: 'key-only' };

export interface RenderOptions {
  /** thoughtsTokenCount when the spec does not say; 0 omits the field. */
  readonly thoughtsTokenCount: number;
  /** The modelVersion a reply to this model names. */
  readonly modelVersion: (model: string) => string;
  /** Tokens one image costs on this model. */
  readonly imageTokens: (model: string, image: ImageInput, requestResolution: unknown) => number;
}

export function renderOutcome(request: ReplyRequest, spec: ReplySpec, fault: RecordFault | undefined, options: RenderOptions): Outcome {
  const kind = fault === undefined ? undefined : typeof fault === 'string' ? fault : fault.kind;
  if (kind === 'missing') return { kind: 'missing' };
  if (kind === 'key-only') return { kind: 'key-only' };
  if (fault !== undefined && typeof fault !== 'string' && fault.kind === 'error') {
    return { kind: 'error', error: { code: fault.code ?? 13, message: fault.message ?? 'Internal error encountered.' } };
  }
  if (kind === 'error') return { kind: 'error', error: { code: 13, message: 'Internal error encountered.' } };
  if ('error' in spec) return { kind: 'error', error: spec.error };

  let text = 'json' in spec ? JSON.stringify(spec.json) : spec.text;
  let finishReason = 'json' in spec ? 'STOP' : (spec.finishReason ?? 'STOP');
  let parts: Array<Record<string, unknown>> | undefined;
  let promptFeedback: Record<string, unknown> | undefined;
  switch (kind) {
    case undefined:
    case 'thoughts':
      break;
    case 'fenced':
      text = '```json\n' + text + '\n```';
      break;
    case 'malformed':
      text = /\}\s*$/.test(text) ? text.replace(/\}\s*$/, ',}') : `${text}\n}`;
      break;
    case 'schema':
      text = JSON.stringify(violateSchema(text));
      break;
    case 'max-tokens':
      text = text.slice(0, Math.max(1, Math.floor(text.length * 0.6)));
      finishReason = 'MAX_TOKENS';
      break;
    case 'safety':
    case 'recitation':
      finishReason = kind.toUpperCase();
      parts = [];
      break;
    case 'blocked-prompt':
      promptFeedback = { blockReason: 'SAFETY', safetyRatings: [{ category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'HIGH', blocked: true }] };
      break;
    case 'text':
      if (typeof fault === 'object' && fault.kind === 'text') {
        text = fault.text;
        finishReason = fault.finishReason ?? 'STOP';
      }
      break;
    default: {
      const never: never = kind;
      throw new Error(`unhandled record fault ${String(never)}`);
    }
  }
  parts ??= kind === 'thoughts'
    ? [{ text: 'Reading the page before answering.', thought: true }, { text, thoughtSignature: signature(text) }]
    : [{ text }];

  const prompt = promptTokens(request, options.imageTokens);
  const promptTokenCount = prompt.text + prompt.image;
  const candidatesTokenCount = promptFeedback ? 0 : parts.reduce((n, p) => n + (p['thought'] === true ? 0 : Math.ceil(String(p['text']).length / 4)), 0);
  const thoughts = promptFeedback ? 0 : (spec.thoughtsTokenCount ?? options.thoughtsTokenCount);
  const usageMetadata: Record<string, unknown> = { promptTokenCount };
  if (candidatesTokenCount > 0) usageMetadata['candidatesTokenCount'] = candidatesTokenCount;
  usageMetadata['totalTokenCount'] = promptTokenCount + candidatesTokenCount + thoughts;
  usageMetadata['promptTokensDetails'] = [
    { modality: 'TEXT', tokenCount: prompt.text },
    ...(prompt.image > 0 ? [{ modality: 'IMAGE', tokenCount: prompt.image }] : []),
  ];
  if (thoughts > 0) usageMetadata['thoughtsTokenCount'] = thoughts;

  const modelVersion = options.modelVersion(request.model);
  const response: Record<string, unknown> = promptFeedback
    ? { promptFeedback }
    : { candidates: [{ ...(parts.length > 0 ? { content: { role: 'model', parts } } : {}), finishReason, index: 0, ...(parts.length === 0 ? { safetyRatings: [{ category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'HIGH', blocked: true }] } : {}) }] };
  response['usageMetadata'] = usageMetadata;
  response['modelVersion'] = modelVersion;
  response['responseId'] = signature(`${modelVersion}\n${finishReason}\n${text}`).slice(0, 22);
  return { kind: 'response', response };
}

/** An empty generateContent reply: what 'missing' and 'key-only' mean outside a batch. */
export function emptyResponse(request: ReplyRequest, options: RenderOptions): Record<string, unknown> {
  const prompt = promptTokens(request, options.imageTokens);
  return {
    usageMetadata: { promptTokenCount: prompt.text + prompt.image, totalTokenCount: prompt.text + prompt.image },
    modelVersion: options.modelVersion(request.model),
    responseId: signature(`empty\n${request.promptText}`).slice(0, 22),
  };
}

/** The SSE chunks of a streamed reply: the text in three pieces, finishReason and usage on the last. */
export function streamChunks(response: Record<string, unknown>): Array<Record<string, unknown>> {
  const candidates = response['candidates'];
  const first = Array.isArray(candidates) ? (candidates[0] as Record<string, unknown> | undefined) : undefined;
  const parts = (first?.['content'] as { parts?: Array<Record<string, unknown>> } | undefined)?.parts;
  const only = parts?.length === 1 ? parts[0] : undefined;
  if (!first || !only || typeof only['text'] !== 'string') return [response];
  const chars = Array.from(only['text']);
  const cut = [0, Math.floor(chars.length / 3), Math.floor((2 * chars.length) / 3), chars.length];
  const usage = response['usageMetadata'] as Record<string, unknown>;
  const chunks: Array<Record<string, unknown>> = [];
  for (let i = 0; i < 3; i++) {
    const piece = chars.slice(cut[i], cut[i + 1]).join('');
    const last = i === 2;
    if (piece === '' && !last) continue;
    chunks.push({
      candidates: [{ content: { role: 'model', parts: [{ text: piece }] }, ...(last ? { finishReason: first['finishReason'] } : {}), index: 0 }],
      usageMetadata: last ? usage : { promptTokenCount: usage['promptTokenCount'], totalTokenCount: usage['promptTokenCount'] },
      modelVersion: response['modelVersion'],
      responseId: response['responseId'],
    });
  }
  return chunks;
}

/** HTTP status for a google.rpc code, for per-record errors surfaced by generateContent. */
export function httpStatusOf(rpcCode: number): number {
  const table: Record<number, number> = { 1: 499, 2: 500, 3: 400, 4: 504, 5: 404, 6: 409, 7: 403, 8: 429, 9: 400, 10: 409, 11: 400, 12: 501, 13: 500, 14: 503, 15: 500, 16: 401 };
  return table[rpcCode] ?? (rpcCode >= 400 && rpcCode <= 599 ? rpcCode : 500);
}

function violateSchema(text: string): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { unexpected: true };
  const { courses: _dropped, ...rest } = parsed as Record<string, unknown>;
  return { ...rest, raw_ocr: { text_blocks: 'not-a-list', layout_description: 42 } };
}

function signature(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}
