// The statements that save the in-memory maps (targets, stat cache) into the database. A journal op names
// them by their index here instead of repeating the SQL text for each of a batch's thousand rows, so the
// order of this list is part of the journal format: append, never reorder.
import type { FileHashRow, TargetRecord } from './records.js';

export const UPSERT_TARGET = 0;
export const DELETE_TARGET = 1;
export const UPSERT_FILE_HASH = 2;

export const STATEMENTS: readonly string[] = [
  `INSERT INTO targets (key, output, fingerprint, components, input_key, output_hash, engine, model, prompt_file, origin, built_at, batch, tokens_in, tokens_out, model_version, context_source)
   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
   ON CONFLICT (key) DO UPDATE SET output = excluded.output, fingerprint = excluded.fingerprint, components = excluded.components,
     input_key = excluded.input_key, output_hash = excluded.output_hash, engine = excluded.engine, model = excluded.model,
     prompt_file = excluded.prompt_file, origin = excluded.origin, built_at = excluded.built_at, batch = excluded.batch,
     tokens_in = excluded.tokens_in, tokens_out = excluded.tokens_out, model_version = excluded.model_version, context_source = excluded.context_source`,
  'DELETE FROM targets WHERE key = ?',
  `INSERT INTO file_hashes (path, size, mtime_ns, ino, hash, hashed_at_ns) VALUES (?, ?, ?, ?, ?, ?)
   ON CONFLICT (path) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns, ino = excluded.ino, hash = excluded.hash, hashed_at_ns = excluded.hashed_at_ns`,
];

export type Param = string | number | null;

export function targetParams(r: TargetRecord): Param[] {
  return [
    r.key, r.output, r.fingerprint, JSON.stringify(r.components), r.inputKey, r.outputHash, r.engine, r.model, r.promptFile, r.origin,
    r.builtAt, r.batch, r.tokensIn, r.tokensOut, r.modelVersion, r.contextSource ? JSON.stringify(r.contextSource) : null,
  ];
}

export function fileHashParams(r: FileHashRow): Param[] {
  return [r.path, r.size, String(r.mtimeNs), String(r.ino), r.hash, String(r.hashedAtNs)];
}
