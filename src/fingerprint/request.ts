// The request is the unit of truth (DESIGN §4). A target's fingerprint is the hash of the canonical form
// of what would be sent for it. What is in it, and why:
//   config  — engine, model, generation config, rule name and version (and, for the local engine, the
//             source of rule.fromLocalOcr, since that code is what turns OCR into the output);
//   schema  — the JSON schema sent as responseJsonSchema and used to validate;
//   prompt  — the rendered prompt: template + wildcard values + previous-page context; for `local`, which
//             sends no prompt (so prompt edits leave its outputs alone), the page's wildcard values that
//             rule.fromLocalOcr is given;
//   image   — the image's content hash.
// The component hashes are kept beside the fingerprint so explain can name what changed.
import ejs from 'ejs';
import fs from 'node:fs';
import type { EngineName } from '../config/define.js';
import type { ResolvedConfig } from '../config/resolved.js';
import type { Components } from '../cache/records.js';
import { usageError } from '../errors.js';
import { asFingerprint, type ContentHash, type Fingerprint } from '../types.js';
import { canonicalJson, sha256 } from '../util/hash.js';

/** Bumped when what goes into a fingerprint changes (2: local requests include the page's wildcard values). */
export const FINGERPRINT_VERSION = 2;

/** The local engine's fixed OCR settings; part of its config hash. */
export const LOCAL_OCR_SETTINGS = { lang: 'eng', model: '4.0.0_best_int', oem: 'LSTM_ONLY', psm: 'AUTO' } as const;

/**
 * The config component: what the request's settings are, in canonical form (kept in the cache once per
 * distinct config, so that explain can name a changed setting), and its hash.
 */
export function requestConfig(config: ResolvedConfig, engine: EngineName): { hash: ContentHash; json: string } {
  const rule = config.rule;
  const value = engine === 'local'
    ? { engine, ocr: LOCAL_OCR_SETTINGS, rule: { name: rule.name, version: rule.version }, mapper: rule.fromLocalOcrHash }
    : {
        engine,
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
  return asFingerprint(sha256(canonicalJson({ v: FINGERPRINT_VERSION, config: c.config, schema: c.schema, prompt: c.prompt, image: c.image })));
}

export type PromptRenderer = (vars: Readonly<Record<string, string>>, previousContext: string | null) => string;

/** Compiles the rule's template once per run. A template error names the file and stops the command. */
export function compilePrompt(config: ResolvedConfig): { render: PromptRenderer; templateHash: ContentHash } {
  const file = config.rule.promptFile;
  const text = fs.readFileSync(config.rule.promptPath, 'utf8');
  let template: ejs.TemplateFunction;
  try {
    template = ejs.compile(text, { filename: config.rule.promptPath, strict: false });
  } catch (err) {
    throw usageError([{ reason: 'prompt-syntax', file, message: `the prompt template does not compile: ${(err as Error).message.split('\n')[0]}`, hint: 'Fix the EJS syntax (<% %>, <%= %>, <%- %>) in this file.' }]);
  }
  const render: PromptRenderer = (vars, previousContext) => {
    try {
      return template({ ...vars, previousContext: previousContext ?? '' }) as string;
    } catch (err) {
      throw usageError([{ reason: 'prompt-syntax', file, message: `the prompt template failed to render: ${(err as Error).message.split('\n').at(-1)}`, hint: `Templates receive the wildcards (${config.image.wildcards.join(', ')}) and previousContext.` }]);
    }
  };
  return { render, templateHash: sha256(text) };
}
