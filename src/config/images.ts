// How the image an engine receives is prepared (DESIGN §13), and the local OCR settings: the resolved form
// of the ocrfile's `images` and `local` options, with their defaults. Both are part of the fingerprint, so
// they live here, in the config stage, where the fingerprint and the engines can both read them.
import path from 'node:path';
import type { EngineName } from './define.js';

/** The encodings an engine may be sent; nothing else ever reaches it. */
export type PreparedFormat = 'png' | 'jpeg' | 'webp';

export interface ImageSettings {
  /** Longer side in pixels after preparation (never enlarged); null: keep the source's size. */
  readonly maxLongEdge: number | null;
  /** `auto`: keep a JPEG or WebP source's encoding (re-encoding would add loss), PNG for everything else. */
  readonly format: 'auto' | PreparedFormat;
  /** JPEG and WebP quality, 1–100. */
  readonly quality: number;
  readonly grayscale: boolean;
  /** Resolution at which PDF pages that are not a single scanned image are rendered. */
  readonly dpi: number;
}

/** What an engine family accepts: its formats and the largest encoded image it takes. */
export interface ImageAccepts {
  readonly formats: readonly PreparedFormat[];
  /** Bytes; an image over it is re-encoded as JPEG, then made smaller, until it fits. null: no limit. */
  readonly maxBytes: number | null;
}

/** The two families of engines that get their own image settings (`images.local`, `images.gemini`). */
export type ImageFamily = 'local' | 'gemini';

export const imageFamily = (engine: EngineName): ImageFamily => (engine === 'local' ? 'local' : 'gemini');

/**
 * tesseract.js reads PNG and JPEG well (it also reads WebP, GIF and BMP, but nothing gains from them).
 * Gemini takes PNG, JPEG, WebP, HEIC and HEIF; HEIC is left out because nothing here can encode it. An
 * inline request (the interactive engine) must stay under 20 MB with the image base64-encoded (4/3) and the
 * prompt beside it, so images are kept under 14 MiB for both Gemini engines: one setting, one prepared image.
 */
export const IMAGE_ACCEPTS: Readonly<Record<ImageFamily, ImageAccepts>> = {
  local: { formats: ['png', 'jpeg'], maxBytes: null },
  gemini: { formats: ['png', 'jpeg', 'webp'], maxBytes: 14 * 1024 * 1024 },
};

/**
 * Defaults (README "Preparing images" gives the measurements behind them):
 *  - gemini 3072 px: Gemini 2.x bills 258 tokens per started 768-px tile, so a 4000×6000 master costs 48 tiles
 *    (12,384 tokens) and the same page at 3072 px 12 tiles (3,096); 3072 px still gives a 10-inch book page
 *    300 dpi, and Gemini 3 scales every image down to its media-resolution budget anyway.
 *  - local 3000 px: tesseract's time and memory grow with the pixel count while its accuracy on normal
 *    print stops improving well below that (measured on a 4000×6000 newspaper-like page).
 */
export const DEFAULT_IMAGES: Readonly<Record<ImageFamily, ImageSettings>> = {
  local: { maxLongEdge: 3000, format: 'auto', quality: 90, grayscale: false, dpi: 300 },
  gemini: { maxLongEdge: 3072, format: 'auto', quality: 90, grayscale: false, dpi: 300 },
};

export interface LocalOcrSettings {
  /** tesseract language codes, in priority order (`['deu', 'eng']`). */
  readonly languages: readonly string[];
  /** Absolute folder of `<lang>.traineddata` files, searched first; null: none given. */
  readonly langPath: string | null;
  /** `auto`: the file's own resolution, else one derived from the page size; a number: the sources' dpi. */
  readonly dpi: 'auto' | number;
  /** tesseract page segmentation mode (3: fully automatic, the default). */
  readonly psm: number;
}

export const DEFAULT_LOCAL: LocalOcrSettings = { languages: ['eng'], langPath: null, dpi: 'auto', psm: 3 };

type ImageInput = { maxLongEdge?: number | null; format?: ImageSettings['format']; quality?: number; grayscale?: boolean; dpi?: number };

/** `images` of the ocrfile: common settings, then `images.local` / `images.gemini` on top for their family. */
export function resolveImages(input: (ImageInput & { local?: ImageInput; gemini?: ImageInput }) | undefined): Readonly<Record<ImageFamily, ImageSettings>> {
  const { local, gemini, ...common } = input ?? {};
  const merge = (family: ImageFamily, own: ImageInput | undefined): ImageSettings => Object.freeze({ ...DEFAULT_IMAGES[family], ...defined(common), ...defined(own ?? {}) });
  return Object.freeze({ local: merge('local', local), gemini: merge('gemini', gemini) });
}

export function resolveLocal(root: string, input: { languages?: string[]; langPath?: string; dpi?: number | 'auto'; psm?: number } | undefined): LocalOcrSettings {
  return Object.freeze({
    languages: Object.freeze([...(input?.languages ?? DEFAULT_LOCAL.languages)]),
    langPath: input?.langPath === undefined ? null : path.resolve(root, input.langPath),
    dpi: input?.dpi ?? DEFAULT_LOCAL.dpi,
    psm: input?.psm ?? DEFAULT_LOCAL.psm,
  });
}

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
