// The request is the unit of truth (DESIGN §4). A target's fingerprint is the hash of the canonical form
// of what would be sent for it. What is in it, and why:
//   config  — the API (Gemini, or the local OCR engine), model, generation config, rule name and version
//             (and, for the local engine, the source of rule.fromLocalOcr, since that code is what turns
//             OCR into the output). The two Gemini engines are one API: batch and interactive send the same
//             request and get equivalent answers, so switching between them re-sends nothing;
//   schema  — the JSON schema sent as responseJsonSchema and used to validate;
//   prompt  — the rendered prompt: template + wildcard values + previous-page context; for `local`, which
//             sends no prompt (so prompt edits leave its outputs alone), the page's wildcard values that
//             rule.fromLocalOcr is given;
//   image   — the image's identity: its file's content hash, or, for a page inside a multi-page source
//             (PDF, TIFF), the hash of (the file's content hash, the page index);
//   prepare — how the image is prepared for the engine (decoding, page extraction, orientation, grey,
//             downscale, encoding): the engine family's `images` settings that apply to the source, and the
//             formats the engine accepts. The prepared bytes are not hashed: they are derived, and deriving
//             them would mean decoding every image to plan (a no-op build decodes none).
// The component hashes are kept beside the fingerprint so explain can name what changed.
import type { EngineName } from '../config/define.js';
import type { ResolvedConfig } from '../config/resolved.js';
import { IMAGE_ACCEPTS, imageFamily, type ImageFamily, type ImageSettings } from '../config/images.js';
import type { Components } from '../cache/records.js';
import type { LocalOcrSetup } from './local-ocr.js';
import { usageError, type Problem } from '../errors.js';
import { compilePromptFile, type CompiledPrompt } from '../config/prompt-template.js';
import { relPath } from '../util/fs.js';
import { asFingerprint, type ContentHash, type Fingerprint } from '../types.js';
import { canonicalJson, sha256 } from '../util/hash.js';

/**
 * Bumped when what goes into a fingerprint changes (2: local requests include the page's wildcard values;
 * 3: the prepare component, page identity inside multi-page sources, and the local OCR settings).
 */
export const FINGERPRINT_VERSION = 3;

/**
 * Bumped when the prepare stage would make different pixels or bytes from the same source and settings
 * (another resize kernel, encoder options, DPI rule): every prepared image, and every request, is new then.
 */
export const PREPARE_VERSION = 1;

/** The local engine's OCR engine mode; tesseract.js's LSTM-only engine with the `best_int` models. */
export const LOCAL_OEM = 'LSTM_ONLY';

/**
 * The config component: what the request's settings are, in canonical form (kept in the cache once per
 * distinct config, so that explain can name a changed setting), and its hash.
 */
export function requestConfig(config: ResolvedConfig, engine: EngineName, ocr: LocalOcrSetup | null = null): { hash: ContentHash; json: string } {
  const rule = config.rule;
  const value = engine === 'local'
    ? {
        engine,
        ocr: ocr ? { oem: LOCAL_OEM, languages: ocr.languages.map((l) => ({ code: l.code, model: l.identity })), psm: ocr.psm, dpi: ocr.dpi } : null,
        rule: { name: rule.name, version: rule.version },
        mapper: rule.fromLocalOcrHash,
      }
    : {
        // Not the engine: gemini-batch and gemini send this very request (one through a batch file, one
        // inline), so a page built by either is fresh for both.
        api: 'gemini',
        model: rule.model,
        generationConfig: rule.generationConfig,
        rule: { name: rule.name, version: rule.version },
        // Only when set, so that configs without them keep their hash.
        ...(rule.partMediaResolution ? { imagePart: { mediaResolution: rule.partMediaResolution }, apiVersion: rule.apiVersion } : {}),
      };
  const json = canonicalJson(value);
  return { hash: sha256(json), json };
}

export function fingerprintOf(c: Components): Fingerprint {
  return asFingerprint(sha256(canonicalJson({ v: FINGERPRINT_VERSION, config: c.config, schema: c.schema, prompt: c.prompt, image: c.image, prepare: c.prepare ?? null })));
}

/** The kind of source a page comes from, as far as preparing it goes: PDF pages may be rendered (at `dpi`). */
export type SourceKind = 'pdf' | 'raster';

export const sourceKind = (file: string): SourceKind => (/\.pdf$/i.test(file) ? 'pdf' : 'raster');

/**
 * The prepare component: the settings of the engine's family that can change the prepared image of a source
 * of this kind (the PDF render resolution is left out for raster sources, so changing it re-plans only PDF
 * pages), and what the engine accepts.
 */
export function prepareHash(config: ResolvedConfig, engine: EngineName, kind: SourceKind): ContentHash {
  const family = imageFamily(engine);
  return sha256(canonicalJson(prepareProfile(config.images[family], family, kind)));
}

/** What decides the prepared image of a source of this kind (also the prepare cache's key, with the source). */
export function prepareProfile(settings: ImageSettings, family: ImageFamily, kind: SourceKind): Record<string, unknown> {
  const { dpi, ...raster } = settings;
  return { v: PREPARE_VERSION, accepts: IMAGE_ACCEPTS[family], settings: kind === 'pdf' ? { ...raster, dpi } : raster };
}

/** A page's image identity: its file's hash, or (file hash, page index) for a page inside a multi-page source. */
export function imageIdentity(fileHash: ContentHash, sourcePage: number | null): ContentHash {
  return sourcePage === null ? fileHash : sha256(canonicalJson({ source: fileHash, page: sourcePage }));
}

export type { PromptRenderer } from '../config/prompt-template.js';

/**
 * Compiles the rule's template once per run (EJS, or Jinja for `.jinja`/`.j2`: config/prompt-template.ts).
 * A template error names the file and stops the command.
 */
export function compilePrompt(config: ResolvedConfig): CompiledPrompt {
  const { promptFile, promptPath } = config.rule;
  if (promptFile === null || promptPath === null) throw usageError([noPromptProblem(config)]);
  return compilePromptFile(promptPath, promptFile, config.keyWildcards);
}

/** A rule without a prompt serves the local engine only: what to say when a Gemini engine is asked for. */
export function noPromptProblem(config: ResolvedConfig): Problem {
  return {
    reason: 'prompt-missing',
    file: relPath(config.root, config.file),
    at: 'rule.prompt',
    message: `rule "${config.rule.name}" has no prompt, so it can only be built with the local engine`,
    hint: "Add prompt: 'prompts/<name>.ejs' (or .jinja) to the rule to build it with Gemini, or use --engine local.",
  };
}
