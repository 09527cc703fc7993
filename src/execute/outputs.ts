// Writing results: result-store object first, then the output file (atomically), then the cache record
// (saved with the next cache save, which first flushes the objects and outputs written since: group commit). A crash between any two steps loses nothing: see Fingerprinter's
// recovery of outputs that equal their stored result.
import path from 'node:path';
import type { ContextSource, Origin } from '../cache/records.js';
import type { ContentHash, TargetKey } from '../types.js';
import fs from 'node:fs';
import { cacheProblem, isFsRefusal } from '../cache/problems.js';
import { fsAdvice, relPath, writeFileAtomic, WriteError } from '../util/fs.js';
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
  /** Set when a speculative send's result is the page's output (its guess was verified). */
  contextSource?: 'speculative';
  /** The engine that sent the request, when not the build's (the interactive tail of a Batch build). */
  engine?: string;
}

/** A page's output cannot be written (its folder, a folder in its place, a path leaving the project). */
export class OutputError extends Error {
  constructor(
    readonly key: TargetKey,
    readonly output: string,
    message: string,
  ) {
    super(message);
    this.name = 'OutputError';
  }
}

/**
 * Writes the output of `key` for its current request and records it. The result goes to the result store
 * first, so when the output itself cannot be written (OutputError: that page's problem) the next build
 * restores it with no call once the path is fixed. A cache that cannot be written is an ExitSignal.
 */
export function writeOutput(p: Project, key: TargetKey, bytes: Buffer, meta: WriteMeta): void {
  const input = p.fingerprints.inputs.get(key);
  const page = p.index.byKey.get(key);
  if (!input?.current || !page) throw new Error(`writeOutput: ${key} has no current request`);
  const hash = sha256(bytes);
  try {
    p.objects.write(input.current.fingerprint, bytes);
  } catch (err) {
    if (isFsRefusal(err)) throw cacheProblem(err, p.config.root, 'the result store');
    throw err;
  }
  const abs = path.join(p.config.root, page.output);
  const escape = outsideProject(p, page.output);
  if (escape) throw new OutputError(key, page.output, `its output ${page.output} would be written outside the project (${escape}); nothing was written there. Keep the target pattern's folders inside the project, or remove the link`);
  let written: fs.BigIntStats | undefined;
  try {
    writeFileAtomic(abs, bytes, path.join(p.cacheDir, 'tmp'), { group: true, onStat: (st) => (written = st) });
  } catch (err) {
    if (err instanceof WriteError && err.step === 'target') {
      throw new OutputError(key, page.output, `cannot write its output ${page.output} (${err.code ?? err.cause.message}): ${fsAdvice(err.code, abs)}; the result is kept and the next build writes it with no request`);
    }
    if (isFsRefusal(err)) throw cacheProblem(err, p.config.root, 'staging an output in .ocrcache/tmp');
    throw err;
  }
  p.hashes.wrote(page.output, hash, written);
  p.fingerprints.noteWritten(page.output, hash, bytes);
  recordOutput(p, key, hash, meta);
}

/**
 * Why an output path resolves outside the project (a symbolic link on its way), or null. Folders are
 * resolved once per run; a folder that does not exist yet is judged by its nearest existing parent.
 */
function outsideProject(p: Project, output: string): string | null {
  let seen = resolved.get(p);
  if (!seen) resolved.set(p, (seen = { root: fs.realpathSync.native(p.config.root), dirs: new Map() }));
  const { root, dirs } = seen;
  let dir = path.dirname(path.join(p.config.root, output));
  const cached = dirs.get(dir);
  if (cached !== undefined) return cached;
  const start = dir;
  for (;;) {
    let real: string;
    try {
      // The system's realpath(3): one call, where fs.realpathSync makes an lstat per path component.
      real = fs.realpathSync.native(dir);
    } catch {
      const up = path.dirname(dir);
      if (up === dir) return null;
      dir = up;
      continue;
    }
    const rel = path.relative(root, real);
    const verdict = rel.startsWith('..') || path.isAbsolute(rel) ? `${relPath(p.config.root, dir) || '.'} leads to ${real}` : null;
    dirs.set(start, verdict);
    return verdict;
  }
}

/** Per open project: its real root and the verdict for each output folder. */
const resolved = new WeakMap<Project, { root: string; dirs: Map<string, string | null> }>();

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
    engine: meta.engine ?? p.engine,
    model: gemini ? p.config.rule.model : null,
    modelVersion: meta.modelVersion ?? null,
    promptFile: gemini ? p.config.rule.promptFile : null,
    origin: meta.origin,
    builtAt: new Date().toISOString(),
    batch: meta.batch ?? null,
    tokensIn: meta.tokensIn ?? null,
    tokensOut: meta.tokensOut ?? null,
    contextSource: contextSourceOf(p, key, input.current.components.context !== null, meta.contextSource),
  });
}

/** Which context an output is built with: none, the predecessor's final output, its draft, or a verified guess. */
function contextSourceOf(p: Project, key: TargetKey, hasContext: boolean, speculative: 'speculative' | undefined): ContextSource | null {
  const pred = p.index.predecessor.get(key);
  if (!hasContext || !pred) return null;
  if (p.fingerprints.contextMode === 'draft') return { kind: 'draft', of: pred, hash: p.fingerprints.draftOf(pred) };
  return { kind: speculative ?? 'final', of: pred, hash: p.fingerprints.inputs.get(pred)?.outputHash ?? null };
}
