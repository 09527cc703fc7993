// What every page's request shares: the request config (with the local engine's model files), the schema,
// the prompt template, the context function, how images are prepared, and the context policy. A page's
// request adds only its image, its wildcard values and its predecessor's output (snapshot.ts #inputKey), so
// two runs with the same basis key and the same page files make the same requests. The no-op proof
// (execute/noop-proof.ts) relies on exactly that.
import type { EngineName } from '../config/define.js';
import type { ContextMode, DraftSource, ResolvedConfig } from '../config/resolved.js';
import type { ContentHash } from '../types.js';
import { canonicalJson, sha256 } from '../util/hash.js';
import { resolveLocalOcr, type LocalOcrSetup } from './local-ocr.js';
import { compilePrompt, FINGERPRINT_VERSION, prepareHash, requestConfig, type SourceKind } from './request.js';

export interface RequestBasis {
  /** The local engine's model files and settings (null for the Gemini engines). */
  readonly localOcr: LocalOcrSetup | null;
  readonly configHash: ContentHash;
  /** The canonical form of the request config (configHash is its hash). */
  readonly configJson: string;
  readonly prepareHash: Readonly<Record<SourceKind, ContentHash>>;
  /** Whether a page's request carries its predecessor's output (a Gemini engine and a rule with context). */
  readonly usesContext: boolean;
  /** The context function's source: editing it changes every context. */
  readonly contextFnHash: ContentHash | null;
  readonly mode: ContextMode;
  readonly draftSource: DraftSource;
}

/** `hashFile` gives the content hash of a model file found in a folder (null: it cannot be read). */
export function requestBasis(config: ResolvedConfig, engine: EngineName, hashFile: (abs: string) => ContentHash | null): RequestBasis {
  const localOcr = engine === 'local' ? resolveLocalOcr(config, hashFile) : null;
  const rc = requestConfig(config, engine, localOcr);
  const usesContext = engine !== 'local' && config.rule.context !== null;
  return {
    localOcr,
    configHash: rc.hash,
    configJson: rc.json,
    prepareHash: { pdf: prepareHash(config, engine, 'pdf'), raster: prepareHash(config, engine, 'raster') },
    usesContext,
    contextFnHash: config.rule.context ? sha256(String(config.rule.context)) : null,
    mode: usesContext ? config.context.mode : 'exact',
    draftSource: config.context.draft,
  };
}

/** Whether requests embed the rendered prompt template (every Gemini request; a local one only with context). */
export function usesTemplate(engine: EngineName, basis: RequestBasis): boolean {
  return basis.usesContext || engine !== 'local';
}

/**
 * The hash of the basis: everything in a page's input key but the page's own image, wildcard values and
 * predecessor. `templateHash` is the compiled prompt's (null when requests do not embed it).
 */
export function basisKey(config: ResolvedConfig, engine: EngineName, basis: RequestBasis, templateHash: ContentHash | null): ContentHash {
  return sha256(canonicalJson({
    v: FINGERPRINT_VERSION,
    engine,
    config: basis.configHash,
    schema: config.rule.schemaHash,
    template: templateHash,
    contextFn: basis.contextFnHash,
    prepare: basis.prepareHash,
    mode: basis.mode,
    draft: basis.mode === 'exact' ? null : basis.draftSource,
  }));
}

/** The template hash as the fingerprinter computes it, for a basis built outside one. */
export function templateHashOf(config: ResolvedConfig, engine: EngineName, basis: RequestBasis): ContentHash | null {
  return usesTemplate(engine, basis) ? compilePrompt(config).templateHash : null;
}
