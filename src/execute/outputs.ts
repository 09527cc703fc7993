// Writing results: result-store object first, then the output file (atomically), then the cache record
// (saved with the next cache save). A crash between any two steps loses nothing: see Fingerprinter's
// recovery of outputs that equal their stored result.
import path from 'node:path';
import type { Origin } from '../cache/records.js';
import type { ContentHash, TargetKey } from '../types.js';
import { writeFileAtomic } from '../util/fs.js';
import { sha256 } from '../util/hash.js';
import type { Project } from './project.js';

/** The bytes of an output file for a validated value: stable, human-readable JSON. */
export function serialise(value: unknown): Buffer {
  return Buffer.from(`${JSON.stringify(value, null, 2)}\n`, 'utf8');
}

export interface WriteMeta {
  origin: Origin;
  batch?: string | null;
  tokensIn?: number | null;
  tokensOut?: number | null;
  /** The model that answered, when the engine said. */
  modelVersion?: string | null;
}

/** Writes the output of `key` for its current request and records it. */
export function writeOutput(p: Project, key: TargetKey, bytes: Buffer, meta: WriteMeta): void {
  const input = p.fingerprints.inputs.get(key);
  const page = p.index.byKey.get(key);
  if (!input?.current || !page) throw new Error(`writeOutput: ${key} has no current request`);
  const hash = sha256(bytes);
  p.objects.write(input.current.fingerprint, bytes);
  writeFileAtomic(path.join(p.config.root, page.output), bytes, path.join(p.cacheDir, 'tmp'));
  p.hashes.wrote(page.output, hash);
  recordOutput(p, key, hash, meta);
}

/** Records `key` as built for its current request, with output bytes of hash `hash` (already on disk). */
export function recordOutput(p: Project, key: TargetKey, hash: ContentHash, meta: WriteMeta): void {
  const input = p.fingerprints.inputs.get(key);
  const page = p.index.byKey.get(key);
  if (!input?.current || !page) throw new Error(`recordOutput: ${key} has no current request`);
  const gemini = p.engine !== 'local';
  p.fingerprints.keepConfig();
  p.store.setTarget({
    key,
    output: page.output,
    fingerprint: input.current.fingerprint,
    components: input.current.components,
    inputKey: input.inputKey,
    outputHash: hash,
    engine: p.engine,
    model: gemini ? p.config.rule.model : null,
    modelVersion: meta.modelVersion ?? null,
    promptFile: gemini ? p.config.rule.promptFile : null,
    origin: meta.origin,
    builtAt: new Date().toISOString(),
    batch: meta.batch ?? null,
    tokensIn: meta.tokensIn ?? null,
    tokensOut: meta.tokensOut ?? null,
  });
}
