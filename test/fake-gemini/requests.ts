// Turns a GenerateContentRequest (from a JSONL line, an inline batch request or generateContent) into the
// ReplyRequest a replier sees: prompt text, resolved image bytes with their sha256, and the page context.
import { createHash } from 'node:crypto';
import type { FileStore } from './files.js';
import { asObject, field } from './wire.js';

export interface ImageInput {
  readonly mimeType: string;
  readonly bytes: Buffer;
  /** sha256 of the bytes, lowercase hex. */
  readonly sha256: string;
  readonly via: 'inline' | 'file';
  /** `files/<id>` when the image came by fileData. */
  readonly fileName: string | undefined;
  /** The part's own mediaResolution level (Gemini 3 per-part setting), if any. */
  readonly mediaResolution: string | undefined;
}

export type RequestVia = 'batch-file' | 'batch-inline' | 'generate' | 'stream';

export interface ReplyRequest {
  /** `models/<m>`. */
  readonly model: string;
  /** The JSONL `key` (or inline `metadata.key`); undefined for generateContent. */
  readonly key: string | undefined;
  readonly via: RequestVia;
  /** The batch that carried the request, `batches/<id>`. */
  readonly batch: string | undefined;
  /** Every text part of `contents`, in order. */
  readonly texts: readonly string[];
  /** The text parts joined with newlines. */
  readonly promptText: string;
  readonly images: readonly ImageInput[];
  /** sha256 hex of the first image, the one the default replier reads. */
  readonly imageSha256: string | undefined;
  /** The text between the PREVIOUS PAGE CONTEXT markers, trimmed; null when the prompt has none. */
  readonly context: string | null;
  /** First 16 hex digits of sha256(context); null when there is no context. */
  readonly contextHash: string | null;
  readonly generationConfig: Record<string, unknown>;
  /** The request exactly as received. */
  readonly raw: Record<string, unknown>;
}

export type BuiltRequest =
  | { ok: true; request: ReplyRequest }
  /** A request the API would refuse: `code` is the google.rpc code, `httpStatus` its HTTP twin. */
  | { ok: false; code: number; httpStatus: number; message: string };

export const CONTEXT_START = '--- PREVIOUS PAGE CONTEXT ---';
export const CONTEXT_END = '--- END PREVIOUS PAGE CONTEXT ---';

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function buildRequest(
  raw: Record<string, unknown>,
  meta: { model: string; key: string | undefined; via: RequestVia; batch: string | undefined },
  files: FileStore,
): BuiltRequest {
  const contents = field(raw, 'contents');
  if (!Array.isArray(contents) || contents.length === 0) {
    return { ok: false, code: 3, httpStatus: 400, message: '* GenerateContentRequest.contents: contents is not specified' };
  }
  const texts: string[] = [];
  const images: ImageInput[] = [];
  for (const content of contents) {
    const parts = field(asObject(content), 'parts');
    if (!Array.isArray(parts)) return { ok: false, code: 3, httpStatus: 400, message: '* GenerateContentRequest.contents[].parts: must be a list' };
    for (const rawPart of parts) {
      const part = asObject(rawPart);
      const text = field(part, 'text');
      if (typeof text === 'string') texts.push(text);
      const level = field(asObject(field(part, 'mediaResolution')), 'level');
      const mediaResolution = typeof level === 'string' ? level : undefined;
      const inline = asObject(field(part, 'inlineData'));
      if (inline) {
        const bytes = Buffer.from(String(field(inline, 'data') ?? ''), 'base64');
        images.push({ mimeType: String(field(inline, 'mimeType') ?? ''), bytes, sha256: sha256Hex(bytes), via: 'inline', fileName: undefined, mediaResolution });
      }
      const fileData = asObject(field(part, 'fileData'));
      if (fileData) {
        const uri = String(field(fileData, 'fileUri') ?? '');
        const file = files.find(uri);
        if (!file) {
          return { ok: false, code: 7, httpStatus: 403, message: `You do not have permission to access the File ${uri} or it may not exist.` };
        }
        const mimeType = String(field(fileData, 'mimeType') ?? file.mimeType);
        images.push({ mimeType, bytes: file.bytes, sha256: sha256Hex(file.bytes), via: 'file', fileName: file.name, mediaResolution });
      }
    }
  }
  const promptText = texts.join('\n');
  const context = extractContext(promptText);
  return {
    ok: true,
    request: {
      model: meta.model,
      key: meta.key,
      via: meta.via,
      batch: meta.batch,
      texts,
      promptText,
      images,
      imageSha256: images[0]?.sha256,
      context,
      contextHash: context === null ? null : sha256Hex(context).slice(0, 16),
      generationConfig: asObject(field(raw, 'generationConfig')) ?? {},
      raw,
    },
  };
}

/** The text between a `--- PREVIOUS PAGE CONTEXT ---` line and the `--- END … ---` line, trimmed. */
export function extractContext(prompt: string): string | null {
  const lines = prompt.split(/\r?\n/);
  const start = lines.findIndex((l) => l.trim() === CONTEXT_START);
  if (start < 0) return null;
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((l) => l.trim() === CONTEXT_END);
  return (end < 0 ? rest : rest.slice(0, end)).join('\n').trim();
}

/** Deterministic token counts: four characters a token; images as the model bills them (see ModelCatalogue). */
export function promptTokens(
  request: Pick<ReplyRequest, 'promptText' | 'images' | 'model' | 'generationConfig'>,
  imageTokens: (model: string, image: ImageInput, requestResolution: unknown) => number,
): { text: number; image: number } {
  const resolution = field(request.generationConfig, 'mediaResolution');
  return { text: Math.ceil(request.promptText.length / 4), image: request.images.reduce((n, img) => n + imageTokens(request.model, img, resolution), 0) };
}
