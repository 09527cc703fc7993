// The models the fake serves: models.get / models.list, the 404 for a model that does not exist (on
// every model route, as the live API answers), the modelVersion a reply names (which a test may set to
// another model, to play Google routing a retired model), and the image tokens a model bills.
import { paginate, errorReply, json, type Reply } from './wire.js';

export interface FakeModel {
  /** `gemini-3.8-flash` (served as `models/gemini-3.8-flash`). */
  readonly id: string;
  readonly generation: number;
  readonly displayName?: string;
  /** Default: generateContent, countTokens, createCachedContent, batchGenerateContent. */
  readonly methods?: readonly string[];
}

const CHAT = ['generateContent', 'countTokens', 'createCachedContent', 'batchGenerateContent'] as const;

/** What a late-2026 key lists (README "Models and prices"); a test may pass its own. */
export const DEFAULT_FAKE_MODELS: readonly FakeModel[] = [
  { id: 'gemini-4-argon', generation: 4 },
  { id: 'gemini-3.8-flash', generation: 3 },
  { id: 'gemini-3.6-flash', generation: 3 },
  { id: 'gemini-3.5-flash-lite', generation: 3 },
  { id: 'gemini-3.1-flash-lite', generation: 3 },
  { id: 'gemini-3.1-pro-preview', generation: 3 },
  { id: 'gemini-3-flash-preview', generation: 3 },
  { id: 'gemini-2.5-pro', generation: 2 },
  { id: 'gemini-2.5-flash', generation: 2 },
  { id: 'gemini-2.5-flash-lite', generation: 2 },
  { id: 'gemini-3.5-transcribe', generation: 3, methods: ['generateContent', 'countTokens'] },
];

/** Gemini 3 image budgets by media resolution (what the live API bills); unset is 1,120. */
const BUDGET: Readonly<Record<string, number>> = { MEDIA_RESOLUTION_LOW: 280, MEDIA_RESOLUTION_MEDIUM: 560, MEDIA_RESOLUTION_HIGH: 1120, MEDIA_RESOLUTION_ULTRA_HIGH: 2240 };

export class ModelCatalogue {
  readonly #models: Map<string, FakeModel>;
  readonly #version: (model: string) => string;

  constructor(models: readonly FakeModel[], modelVersion: string | ((model: string) => string) | undefined) {
    this.#models = new Map(models.map((m) => [m.id, m]));
    this.#version = typeof modelVersion === 'function' ? modelVersion : typeof modelVersion === 'string' ? () => modelVersion : (m) => m;
  }

  /** `models/x` or `x` → the served model, or undefined. */
  find(model: string): FakeModel | undefined {
    return this.#models.get(model.replace(/^(models|tunedModels)\//, ''));
  }

  /** The live API's answer to a model it does not serve. */
  notFound(model: string, apiVersion: string): Reply {
    const name = model.startsWith('models/') ? model : `models/${model}`;
    return errorReply(404, `${name} is not found for API version ${apiVersion}, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.`);
  }

  get(model: string, apiVersion: string): Reply {
    const m = this.find(model);
    return m ? json(resource(m)) : this.notFound(model, apiVersion);
  }

  list(query: URLSearchParams): Reply {
    const page = paginate([...this.#models.values()], query, 50, 1000);
    if (!page.ok) return page.reply;
    return json({ models: page.items.map(resource), ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}) });
  }

  /** The modelVersion a reply to `model` names. */
  versionOf(model: string): string {
    return this.#version(model.replace(/^(models|tunedModels)\//, ''));
  }

  /**
   * Tokens one image costs on `model`: Gemini 3 and later a budget by media resolution (the part's, else
   * the request's, else 1,120); Gemini 2 768-px tiles of 258 (258 for an image of at most 384 px).
   */
  imageTokens(model: string, image: { bytes: Buffer; mediaResolution: string | undefined }, requestResolution: unknown): number {
    const generation = this.find(model)?.generation ?? 3;
    if (generation >= 3) return BUDGET[String(image.mediaResolution ?? requestResolution ?? '').toUpperCase()] ?? 1120;
    const size = pixelSize(image.bytes);
    if (!size) return 258;
    if (size.width <= 384 && size.height <= 384) return 258;
    return Math.ceil(size.width / 768) * Math.ceil(size.height / 768) * 258;
  }
}

function resource(m: FakeModel): Record<string, unknown> {
  return {
    name: `models/${m.id}`,
    version: m.generation >= 3 ? m.id.replace(/^gemini-/, '') : '001',
    displayName: m.displayName ?? m.id.replace(/^gemini-/, 'Gemini ').replace(/-/g, ' '),
    description: `Fake ${m.id}`,
    inputTokenLimit: 1_048_576,
    outputTokenLimit: 65_536,
    supportedGenerationMethods: [...(m.methods ?? CHAT)],
    temperature: 1,
    topP: 0.95,
    topK: 64,
    maxTemperature: 2,
    thinking: true,
  };
}

/** Width and height of a PNG (IHDR) or JPEG (first start-of-frame), else null. */
function pixelSize(b: Buffer): { width: number; height: number } | null {
  if (b.length >= 24 && b.readUInt32BE(0) === 0x89504e47) return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return null;
  for (let at = 2; at + 9 <= b.length; ) {
    if (b[at] !== 0xff) return null;
    const marker = b[at + 1]!;
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) return { width: b.readUInt16BE(at + 7), height: b.readUInt16BE(at + 5) };
    at += marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) ? 2 : 2 + b.readUInt16BE(at + 2);
  }
  return null;
}
