// The Gemini request for one page: the rendered prompt, the image (inline or as an uploaded file) and the
// generation config with the rule's JSON schema. The same body goes into a batch JSONL line and into
// generateContent, so both engines send exactly what was fingerprinted.
import type { ResolvedConfig } from '../../config/resolved.js';
import type { Request } from '../../fingerprint/snapshot.js';

export type ImagePart = ({ inlineData: { mimeType: string; data: string } } | { fileData: { fileUri: string; mimeType: string } }) & { mediaResolution?: { level: string } };

/** The image part with the rule's per-part media resolution (ultra-high), when it has one. */
export function withMediaResolution(config: ResolvedConfig, part: ImagePart): ImagePart {
  const level = config.rule.partMediaResolution;
  return level ? { ...part, mediaResolution: { level } } : part;
}

export function generationConfig(config: ResolvedConfig): Record<string, unknown> {
  return { ...config.rule.generationConfig, responseMimeType: 'application/json', responseJsonSchema: config.rule.jsonSchema };
}

/** A raw REST GenerateContentRequest (the batch JSONL form). */
export function restRequest(config: ResolvedConfig, request: Request, image: ImagePart): Record<string, unknown> {
  return {
    contents: [{ role: 'user', parts: [{ text: request.prompt ?? '' }, withMediaResolution(config, image)] }],
    generationConfig: generationConfig(config),
  };
}
