// How many input tokens an image costs, by model generation (ai.google.dev/gemini-api/docs/tokens and
// /docs/media-resolution; README "Models and prices"):
//   Gemini 2.x: an image whose sides are both ≤ 384 px is 258 tokens; a larger one is cropped and scaled into
//     768×768 tiles of 258 tokens each: ceil(w/768) × ceil(h/768) × 258 (a 1100×1500 scan is 1,032).
//   Gemini 3 and later: a fixed budget per image set by mediaResolution, whatever the pixel size: low 280,
//     medium 560, high 1,120, ultra-high 2,240 (per part only); unset is the image default, 1,120 (= high).
// Gemini 2.x with a global mediaResolution is counted with tiles: Google documents no budgets for it.
import { generationOf, type MediaResolution } from './models.js';

export const TOKENS_PER_TILE = 258;
export const SMALL_IMAGE_PX = 384;
export const TILE_PX = 768;

export const MEDIA_BUDGET: Readonly<Record<MediaResolution, number>> = Object.freeze({ low: 280, medium: 560, high: 1120, 'ultra-high': 2240 });
/** Gemini 3's budget for an image when mediaResolution is unset. */
export const DEFAULT_IMAGE_BUDGET = 1120;

/** For an image whose size cannot be read under the tile rule: a typical scanned page (2×2 tiles). */
export const DEFAULT_TILED_TOKENS = 4 * TOKENS_PER_TILE;

export type ImageRule = { kind: 'tiles' } | { kind: 'budget'; perImage: number; setting: MediaResolution | null };

export function imageRule(model: string, mediaResolution: MediaResolution | null): ImageRule {
  if (generationOf(model) < 3) return { kind: 'tiles' };
  return { kind: 'budget', perImage: mediaResolution ? MEDIA_BUDGET[mediaResolution] : DEFAULT_IMAGE_BUDGET, setting: mediaResolution };
}

/** Tokens of one image of width × height (null: unknown size) under `rule`. */
export function imageTokens(rule: ImageRule, width: number | null, height: number | null): number {
  if (rule.kind === 'budget') return rule.perImage;
  if (width === null || height === null) return DEFAULT_TILED_TOKENS;
  return tiledTokens(width, height);
}

/** The Gemini 2.x tile rule (see the header). */
export function tiledTokens(width: number, height: number): number {
  if (width <= SMALL_IMAGE_PX && height <= SMALL_IMAGE_PX) return TOKENS_PER_TILE;
  return Math.ceil(width / TILE_PX) * Math.ceil(height / TILE_PX) * TOKENS_PER_TILE;
}
