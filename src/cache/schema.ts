// The cache's SQL schema and its migrations. `meta.schema_version` says which migrations ran; a newer
// ocrmake applies the missing ones in order, an older one refuses a newer cache instead of corrupting it.

export const SCHEMA_VERSION = 5;

export const MIGRATIONS: readonly string[] = [
  // 1: the first schema (DESIGN §7).
  `
  CREATE TABLE targets (
    key TEXT PRIMARY KEY,
    output TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    components TEXT NOT NULL,      -- JSON {image, prompt, context, config, schema, template}
    input_key TEXT,                -- hash of everything the request is derived from (fast path, see fingerprint/)
    output_hash TEXT NOT NULL,
    engine TEXT NOT NULL,
    model TEXT,
    prompt_file TEXT,
    origin TEXT NOT NULL,          -- built | restored | recovered | adopted
    built_at TEXT NOT NULL,
    batch TEXT,
    tokens_in INTEGER,
    tokens_out INTEGER
  );
  CREATE TABLE file_hashes (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns TEXT NOT NULL,
    ino TEXT NOT NULL,
    hash TEXT NOT NULL,
    hashed_at_ns TEXT NOT NULL
  );
  CREATE TABLE batches (
    display_name TEXT PRIMARY KEY,
    name TEXT,
    engine TEXT NOT NULL,
    model TEXT,
    state TEXT NOT NULL,
    records INTEGER NOT NULL,
    input_file TEXT,
    result_file TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE TABLE batch_records (
    display_name TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    PRIMARY KEY (display_name, key)
  );
  CREATE TABLE attempts (
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    count INTEGER NOT NULL,
    last_class TEXT,
    last_message TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (key, fingerprint)
  );
  CREATE TABLE failure_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    class TEXT NOT NULL,
    code TEXT,
    message TEXT NOT NULL,
    stack TEXT,
    raw_response TEXT,
    extracted_text TEXT,
    engine TEXT NOT NULL,
    model TEXT,
    prompt_file TEXT,
    prompt_hash TEXT,
    generation_config TEXT,
    batch TEXT,
    attempt INTEGER NOT NULL,
    at TEXT NOT NULL
  );
  CREATE INDEX failure_log_key ON failure_log (key);
  CREATE TABLE uploads (
    image_hash TEXT PRIMARY KEY,
    file_name TEXT NOT NULL,
    uri TEXT NOT NULL,
    mime TEXT NOT NULL,
    expires_at TEXT NOT NULL
  );
  CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    command TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    exit_code INTEGER,
    summary TEXT
  );
  `,
  // 2: which model answered each output (Google may route a retired model's requests to another), and the
  //    canonical form of each request config once, so that explain can name what changed in it.
  `
  ALTER TABLE targets ADD COLUMN model_version TEXT;
  CREATE TABLE configs (
    hash TEXT PRIMARY KEY,
    json TEXT NOT NULL
  );
  `,
  // 3: what a header read found in a source file (format and page count), by content hash, so discovery of
  //    multi-page sources (PDF, TIFF) and the cost estimate never open a file twice (prepare/sources.ts).
  `
  CREATE TABLE sources (
    hash TEXT PRIMARY KEY,
    format TEXT NOT NULL,
    pages INTEGER NOT NULL,
    info TEXT NOT NULL              -- JSON: {problem} when the file could not be read (pages = 0)
  );
  `,
  // 4: which context an output was built with (context policies): final, draft or speculative, and of
  //    which predecessor output or draft (JSON {kind, of, hash}).
  `
  ALTER TABLE targets ADD COLUMN context_source TEXT;
  `,
  // 5: compact state (issue 13). A sha256 in hex (64 characters) is kept as its 32 bytes (other values, such
  //    as an imported fingerprint, stay text); the components every page shares (config, schema, template,
  //    preparation) are stored once in component_sets; targets and the stat cache have no rowid, so a key
  //    or a path is stored once, not again in an index. statements.ts reads and writes this layout.
  `
  CREATE TABLE component_sets (
    id INTEGER PRIMARY KEY,
    json TEXT NOT NULL UNIQUE      -- the components without image, prompt and context (JSON)
  );
  INSERT OR IGNORE INTO component_sets (json) SELECT json_remove(components, '$.image', '$.prompt', '$.context') FROM targets;
  CREATE TABLE targets_v5 (
    key TEXT PRIMARY KEY,
    output TEXT NOT NULL,
    fingerprint BLOB NOT NULL,
    image BLOB,
    prompt BLOB,
    context BLOB,
    shared INTEGER NOT NULL,       -- component_sets.id
    input_key BLOB,
    output_hash BLOB NOT NULL,
    engine TEXT NOT NULL,
    model TEXT,
    prompt_file TEXT,
    origin TEXT NOT NULL,
    built_at TEXT NOT NULL,
    batch TEXT,
    tokens_in INTEGER,
    tokens_out INTEGER,
    model_version TEXT,
    context_source TEXT
  ) WITHOUT ROWID;
  INSERT INTO targets_v5 SELECT key, output, CASE WHEN length(fingerprint) = 64 AND fingerprint = lower(fingerprint) AND unhex(fingerprint) IS NOT NULL THEN unhex(fingerprint) ELSE fingerprint END,
    CASE WHEN length(json_extract(components, '$.image')) = 64 AND json_extract(components, '$.image') = lower(json_extract(components, '$.image')) AND unhex(json_extract(components, '$.image')) IS NOT NULL THEN unhex(json_extract(components, '$.image')) ELSE json_extract(components, '$.image') END,
    CASE WHEN length(json_extract(components, '$.prompt')) = 64 AND json_extract(components, '$.prompt') = lower(json_extract(components, '$.prompt')) AND unhex(json_extract(components, '$.prompt')) IS NOT NULL THEN unhex(json_extract(components, '$.prompt')) ELSE json_extract(components, '$.prompt') END,
    CASE WHEN length(json_extract(components, '$.context')) = 64 AND json_extract(components, '$.context') = lower(json_extract(components, '$.context')) AND unhex(json_extract(components, '$.context')) IS NOT NULL THEN unhex(json_extract(components, '$.context')) ELSE json_extract(components, '$.context') END,
    (SELECT id FROM component_sets WHERE json = json_remove(t.components, '$.image', '$.prompt', '$.context')),
    CASE WHEN length(input_key) = 64 AND input_key = lower(input_key) AND unhex(input_key) IS NOT NULL THEN unhex(input_key) ELSE input_key END, CASE WHEN length(output_hash) = 64 AND output_hash = lower(output_hash) AND unhex(output_hash) IS NOT NULL THEN unhex(output_hash) ELSE output_hash END,
    engine, model, prompt_file, origin, built_at, batch, tokens_in, tokens_out, model_version, context_source FROM targets t;
  DROP TABLE targets;
  ALTER TABLE targets_v5 RENAME TO targets;
  CREATE TABLE file_hashes_v5 (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns TEXT NOT NULL,
    ino TEXT NOT NULL,
    hash BLOB NOT NULL,
    hashed_at_ns TEXT NOT NULL
  ) WITHOUT ROWID;
  INSERT INTO file_hashes_v5 SELECT path, size, mtime_ns, ino, CASE WHEN length(hash) = 64 AND hash = lower(hash) AND unhex(hash) IS NOT NULL THEN unhex(hash) ELSE hash END, hashed_at_ns FROM file_hashes;
  DROP TABLE file_hashes;
  ALTER TABLE file_hashes_v5 RENAME TO file_hashes;
  `,
];
