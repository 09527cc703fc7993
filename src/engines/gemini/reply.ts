// Reply handling shared by both Gemini engines (DESIGN §8): the text of candidates[0]'s non-thought parts,
// code fences stripped, JSON parsed. Schema validation happens in the executor, for every engine alike.
import type { Fingerprint, TargetKey } from '../../types.js';
import type { Outcome } from '../engine.js';

interface Part {
  text?: string;
  thought?: boolean;
}

export interface GenerateResponse {
  candidates?: Array<{ content?: { parts?: Part[] }; finishReason?: string }>;
  promptFeedback?: { blockReason?: string };
  usageMetadata?: { promptTokenCount?: number; candidatesTokenCount?: number; thoughtsTokenCount?: number; totalTokenCount?: number };
  /** The model that answered: Google may route a retired model's requests to another. */
  modelVersion?: string;
}

const BLOCKING = new Set(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY', 'LANGUAGE', 'OTHER', 'MALFORMED_FUNCTION_CALL']);

/** Turns one reply into an outcome for `key`. `raw` is kept on failures for the failure log. */
export function outcomeFromResponse(key: TargetKey, fingerprint: Fingerprint, response: GenerateResponse, batch?: string): Outcome {
  const base = { key, fingerprint, ...(batch ? { batch } : {}), ...(typeof response.modelVersion === 'string' && response.modelVersion ? { modelVersion: response.modelVersion } : {}) };
  const raw = (): string => JSON.stringify(response);
  const usage = response.usageMetadata;
  const tokens = {
    tokensIn: usage?.promptTokenCount ?? 0,
    // Thinking tokens are billed as output.
    tokensOut: (usage?.candidatesTokenCount ?? 0) + (usage?.thoughtsTokenCount ?? 0),
  };
  const blockReason = response.promptFeedback?.blockReason;
  if (blockReason) return { ...base, ...tokens, ok: false, class: 'blocked-response', message: `the prompt was blocked (${blockReason})`, rawResponse: raw(), charge: true };
  const candidate = response.candidates?.[0];
  if (!candidate) return { ...base, ...tokens, ok: false, class: 'missing-result', message: 'the reply has no candidates', rawResponse: raw(), charge: true };
  const text = (candidate.content?.parts ?? []).filter((p) => !p.thought && typeof p.text === 'string').map((p) => p.text).join('');
  const finish = candidate.finishReason ?? 'STOP';
  if (finish === 'MAX_TOKENS') {
    return { ...base, ...tokens, ok: false, class: 'truncated', message: `the reply was cut off at maxOutputTokens (finishReason MAX_TOKENS, ${text.length} characters)`, rawResponse: raw(), extractedText: text, charge: true };
  }
  if (BLOCKING.has(finish)) {
    return { ...base, ...tokens, ok: false, class: 'blocked-response', message: `the reply was stopped (finishReason ${finish})`, rawResponse: raw(), extractedText: text, charge: true };
  }
  const json = stripFences(text);
  if (json.length === 0) return { ...base, ...tokens, ok: false, class: 'json-error', message: `the reply has no text (finishReason ${finish})`, rawResponse: raw(), charge: true };
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    return { ...base, ...tokens, ok: false, class: 'json-error', message: `the reply is not valid JSON: ${(err as Error).message}`, rawResponse: raw(), extractedText: text, charge: true };
  }
  // The raw reply of a success is read only if the schema check fails: made then, not for every result.
  return {
    ...base, ...tokens, ok: true, value, text,
    get raw() {
      return JSON.stringify(response);
    },
  };
}

/** Removes a Markdown code fence around the JSON (```json … ```), which models add despite the MIME type. */
export function stripFences(text: string): string {
  const t = text.trim();
  const m = /^```[a-zA-Z0-9_-]*\s*\n?([\s\S]*?)\n?```\s*$/.exec(t);
  return (m ? m[1]! : t).trim();
}
