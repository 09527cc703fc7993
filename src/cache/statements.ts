// The statements that save the in-memory maps (targets, stat cache) into the database, and the query that
// reads them back. A journal op names a statement by its index instead of repeating the SQL text for each of
// a batch's thousand rows, so each list is part of the journal format: append, never reorder. A journal is
// replayed with the statements of the schema version it was written against (statementsFor).
//
// Since schema 5 (compact state) a sha256 in hex is stored as its 32 bytes: the conversion is done by SQL
// here (H on the way in, D on the way out), so records, journal frames and the rest of ocrmake keep hex.
import type { Components, FileHashRow, TargetRecord } from './records.js';

export const UPSERT_TARGET = 0;
export const DELETE_TARGET = 1;
export const UPSERT_FILE_HASH = 2;
/** Schema 5: a set of shared components (its JSON), before the first target that refers to it. */
export const ADD_COMPONENT_SET = 3;

/** Hex of 64 lower-case digits as its bytes; any other value (an imported fingerprint) as it is. */
const H = (p: string) => `CASE WHEN length(${p}) = 64 AND ${p} = lower(${p}) AND unhex(${p}) IS NOT NULL THEN unhex(${p}) ELSE ${p} END`;
/** Back to hex. */
const D = (c: string) => `CASE WHEN typeof(${c}) = 'blob' THEN lower(hex(${c})) ELSE ${c} END`;

const TARGET_COLUMNS = ['output', 'fingerprint', 'image', 'prompt', 'context', 'shared', 'input_key', 'output_hash', 'engine', 'model', 'prompt_file', 'origin', 'built_at', 'batch', 'tokens_in', 'tokens_out', 'model_version', 'context_source'];

export const STATEMENTS: readonly string[] = [
  `INSERT INTO targets (key, ${TARGET_COLUMNS.join(', ')})
   VALUES (?1, ?2, ${H('?3')}, ${H('?4')}, ${H('?5')}, ${H('?6')}, (SELECT id FROM component_sets WHERE json = ?7), ${H('?8')}, ${H('?9')},
     ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)
   ON CONFLICT (key) DO UPDATE SET ${TARGET_COLUMNS.map((c) => `${c} = excluded.${c}`).join(', ')}`,
  'DELETE FROM targets WHERE key = ?',
  `INSERT INTO file_hashes (path, size, mtime_ns, ino, hash, hashed_at_ns) VALUES (?1, ?2, ?3, ?4, ${H('?5')}, ?6)
   ON CONFLICT (path) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns, ino = excluded.ino, hash = excluded.hash, hashed_at_ns = excluded.hashed_at_ns`,
  'INSERT OR IGNORE INTO component_sets (json) VALUES (?)',
];

/**
 * The statements a journal written against `schema` was made with. Journals began with schema 5; a later
 * migration that changes these statements keeps the old list here for the journals written before it.
 */
export function statementsFor(schema: number): readonly string[] {
  if (schema < 5) throw new Error(`no journal was written against schema ${schema}`);
  return STATEMENTS;
}

export const SELECT_TARGETS = `SELECT key, output, ${D('fingerprint')}, ${D('image')}, ${D('prompt')}, ${D('context')}, shared, ${D('input_key')}, ${D('output_hash')},
  engine, model, prompt_file, origin, built_at, batch, tokens_in, tokens_out, model_version, context_source FROM targets`;
export const SELECT_FILE_HASHES = `SELECT path, size, mtime_ns, ino, ${D('hash')}, hashed_at_ns FROM file_hashes`;

export type Param = string | number | null;

/** The components every page of a configuration shares, as stored once (component_sets.json). */
export function sharedJson(c: Components): string {
  const { image: _i, prompt: _p, context: _c, ...shared } = c;
  return JSON.stringify(shared);
}

export function targetParams(r: TargetRecord): Param[] {
  const c = r.components;
  return [
    r.key, r.output, r.fingerprint, c.image, c.prompt, c.context, sharedJson(c), r.inputKey, r.outputHash, r.engine, r.model, r.promptFile,
    r.origin, r.builtAt, r.batch, r.tokensIn, r.tokensOut, r.modelVersion, r.contextSource ? JSON.stringify(r.contextSource) : null,
  ];
}

export function fileHashParams(r: FileHashRow): Param[] {
  return [r.path, r.size, String(r.mtimeNs), String(r.ino), r.hash, String(r.hashedAtNs)];
}
