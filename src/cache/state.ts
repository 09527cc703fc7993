// The cache database: sql.js (SQLite in wasm), whole database in memory, saved atomically (export, temp
// file, fsync, rename) at chosen moments, never per record. Targets and the stat cache are read into maps
// once and written back in one transaction per save; the rest is written through.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Database, SqlJsStatic } from 'sql.js';
import { asFingerprint, asHash, asKey, type Fingerprint, type TargetKey } from '../types.js';
import { writeFileAtomic } from '../util/fs.js';
import { redactDeep } from '../util/secrets.js';
import { MIGRATIONS, SCHEMA_VERSION } from './schema.js';
import type { AttemptRow, FailureRow, FileHashRow, SourceRow, TargetRecord } from './records.js';

export const STATE_FILE = 'state.sqlite';

let sqlPromise: Promise<SqlJsStatic> | null = null;
async function sql(): Promise<SqlJsStatic> {
  // require, not import: sql.js is CommonJS, and an ESM import scans it for export names first.
  sqlPromise ??= (createRequire(import.meta.url)('sql.js') as typeof import('sql.js').default)();
  return sqlPromise;
}

export interface OpenResult {
  store: StateStore;
  /** Set when the previous file could not be opened and was moved aside. */
  movedAside: string | null;
  movedReason: string | null;
}

export class StateStore {
  readonly #db: Database;
  readonly #file: string;
  readonly targets = new Map<TargetKey, TargetRecord>();
  readonly fileHashes = new Map<string, FileHashRow>();
  readonly #dirtyTargets = new Set<TargetKey>();
  readonly #deletedTargets = new Set<TargetKey>();
  readonly #dirtyHashes = new Set<string>();
  #dirty = false;

  private constructor(db: Database, file: string) {
    this.#db = db;
    this.#file = file;
  }

  /**
   * Opens (or creates) `<dir>/state.sqlite`. A file that is not a sound cache (not SQLite, truncated, failing
   * SQLite's quick check, or not our tables) is moved aside, never deleted, and a new cache is started.
   */
  static async open(dir: string): Promise<OpenResult> {
    const SQL = await sql();
    const file = path.join(dir, STATE_FILE);
    fs.mkdirSync(dir, { recursive: true });
    let bytes: Buffer | null;
    try {
      bytes = fs.readFileSync(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') throw new CacheAccessError(file, (err as Error).message);
      bytes = null;
    }
    if (bytes !== null) {
      let problem = damage(bytes);
      if (!problem) {
        let db: Database | null = null;
        try {
          db = new SQL.Database(bytes);
          const check = db.exec('PRAGMA quick_check')[0]?.values.map((r) => String(r[0])) ?? [];
          if (check.join() !== 'ok') throw new Error(`SQLite's check failed: ${check.slice(0, 2).join('; ')}`);
          const store = new StateStore(db, file);
          store.#migrate();
          store.#load();
          return { store, movedAside: null, movedReason: null };
        } catch (err) {
          if (err instanceof NewerCacheError) throw err;
          db?.close();
          problem = (err as Error).message;
        }
      }
      const aside = `${file}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      try {
        fs.renameSync(file, aside);
      } catch (err) {
        throw new CacheAccessError(file, `it is damaged (${problem}) and cannot be moved aside: ${(err as Error).message}`);
      }
      const store = new StateStore(new SQL.Database(), file);
      store.#migrate();
      store.#dirty = true;
      return { store, movedAside: aside, movedReason: problem };
    }
    const store = new StateStore(new SQL.Database(), file);
    store.#migrate();
    store.#dirty = true;
    return { store, movedAside: null, movedReason: null };
  }

  #migrate(): void {
    const db = this.#db;
    db.run('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
    const row = db.exec("SELECT value FROM meta WHERE key = 'schema_version'")[0]?.values[0]?.[0];
    const have = row === undefined ? 0 : Number(row);
    if (!Number.isInteger(have)) throw new Error(`schema_version is "${row}"`);
    if (have > SCHEMA_VERSION) throw new NewerCacheError(have);
    if (have === SCHEMA_VERSION) {
      // A real SQLite file that is not ours (or was truncated to a valid header) fails here, not later.
      db.exec('SELECT key, fingerprint, components, output_hash FROM targets LIMIT 1');
      return;
    }
    db.run('BEGIN');
    for (let v = have; v < SCHEMA_VERSION; v++) db.run(MIGRATIONS[v]!);
    db.run("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)", [String(SCHEMA_VERSION)]);
    db.run('COMMIT');
    this.#dirty = true;
  }

  #load(): void {
    const t = this.#db.prepare(
      'SELECT key, output, fingerprint, components, input_key, output_hash, engine, model, prompt_file, origin, built_at, batch, tokens_in, tokens_out, model_version, context_source FROM targets',
    );
    while (t.step()) {
      const r = t.get() as [string, string, string, string, string | null, string, string, string | null, string | null, string, string, string | null, number | null, number | null, string | null, string | null];
      this.targets.set(asKey(r[0]), {
        key: asKey(r[0]),
        output: r[1],
        fingerprint: asFingerprint(r[2]),
        components: JSON.parse(r[3]),
        inputKey: r[4],
        outputHash: asHash(r[5]),
        engine: r[6],
        model: r[7],
        promptFile: r[8],
        origin: r[9] as TargetRecord['origin'],
        builtAt: r[10],
        batch: r[11],
        tokensIn: r[12],
        tokensOut: r[13],
        modelVersion: r[14],
        contextSource: r[15] ? JSON.parse(r[15]) : null,
      });
    }
    t.free();
    const h = this.#db.prepare('SELECT path, size, mtime_ns, ino, hash, hashed_at_ns FROM file_hashes');
    while (h.step()) {
      const r = h.get() as [string, number, string, string, string, string];
      this.fileHashes.set(r[0], { path: r[0], size: r[1], mtimeNs: BigInt(r[2]), ino: BigInt(r[3]), hash: asHash(r[4]), hashedAtNs: BigInt(r[5]) });
    }
    h.free();
  }

  setTarget(rec: TargetRecord): void {
    this.targets.set(rec.key, rec);
    this.#dirtyTargets.add(rec.key);
    this.#deletedTargets.delete(rec.key);
    this.#dirty = true;
  }

  deleteTarget(key: TargetKey): void {
    if (this.targets.delete(key)) {
      this.#deletedTargets.add(key);
      this.#dirtyTargets.delete(key);
      this.#dirty = true;
    }
  }

  // --- source files: what a header read found (written through: a probe is rare, and never repeated) ---

  #sources: Map<string, SourceRow> | null = null;

  /** The recorded header read of the source file with this content hash, or null. */
  source(hash: string): SourceRow | null {
    if (!this.#sources) {
      this.#sources = new Map();
      const res = this.#db.exec('SELECT hash, format, pages, info FROM sources')[0];
      for (const r of res?.values ?? []) this.#sources.set(String(r[0]), { hash: String(r[0]), format: String(r[1]), pages: Number(r[2]), info: JSON.parse(String(r[3])) });
    }
    return this.#sources.get(hash) ?? null;
  }

  setSource(row: SourceRow): void {
    this.source(row.hash);
    this.#sources!.set(row.hash, row);
    this.#db.run('INSERT OR REPLACE INTO sources (hash, format, pages, info) VALUES (?, ?, ?, ?)', [row.hash, row.format, row.pages, JSON.stringify(row.info)]);
    this.#dirty = true;
  }

  setFileHash(row: FileHashRow): void {
    this.fileHashes.set(row.path, row);
    this.#dirtyHashes.add(row.path);
    this.#dirty = true;
  }

  get dirty(): boolean {
    return this.#dirty;
  }

  // --- request configs (one row per distinct config: written through) ---

  /** Keeps the canonical form of a config hash (once), for explain to name what changed. */
  rememberConfig(hash: string, json: string): void {
    if (this.#db.exec('SELECT 1 FROM configs WHERE hash = ?', [hash]).length > 0) return;
    this.#db.run('INSERT INTO configs (hash, json) VALUES (?, ?)', [hash, json]);
    this.#dirty = true;
  }

  configJson(hash: string): string | null {
    const v = this.#db.exec('SELECT json FROM configs WHERE hash = ?', [hash])[0]?.values[0]?.[0];
    return typeof v === 'string' ? v : null;
  }

  // --- attempts and failures (small tables: written through) ---

  /** Every (key, fingerprint) failure counter. */
  allAttempts(): AttemptRow[] {
    const res = this.#db.exec('SELECT key, fingerprint, count, last_class, last_message, updated_at FROM attempts')[0];
    return (res?.values ?? []).map((r) => ({
      key: asKey(String(r[0])),
      fingerprint: asFingerprint(String(r[1])),
      count: Number(r[2]),
      lastClass: (r[3] as AttemptRow['lastClass']) ?? null,
      lastMessage: (r[4] as string | null) ?? null,
      updatedAt: String(r[5]),
    }));
  }

  attemptFor(key: TargetKey, fingerprint: Fingerprint): AttemptRow | null {
    const res = this.#db.exec('SELECT count, last_class, last_message, updated_at FROM attempts WHERE key = ? AND fingerprint = ?', [key, fingerprint])[0];
    const r = res?.values[0];
    if (!r) return null;
    return { key, fingerprint, count: Number(r[0]), lastClass: r[1] as AttemptRow['lastClass'], lastMessage: r[2] as string | null, updatedAt: String(r[3]) };
  }

  /** Records one failed attempt: bumps the (key, fingerprint) counter and appends to the failure log. */
  recordFailure(raw: FailureRow, charge: boolean): number {
    // An error body may echo the API key back: nothing secret is stored.
    const f = redactDeep(raw);
    const prev = this.attemptFor(f.key, f.fingerprint)?.count ?? 0;
    const count = charge ? prev + 1 : prev;
    this.#db.run(
      `INSERT INTO attempts (key, fingerprint, count, last_class, last_message, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (key, fingerprint) DO UPDATE SET count = excluded.count, last_class = excluded.last_class,
         last_message = excluded.last_message, updated_at = excluded.updated_at`,
      [f.key, f.fingerprint, count, f.class, f.message, f.at],
    );
    this.#db.run(
      `INSERT INTO failure_log (key, fingerprint, class, code, message, stack, raw_response, extracted_text, engine, model,
         prompt_file, prompt_hash, generation_config, batch, attempt, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [f.key, f.fingerprint, f.class, f.code ?? null, f.message, f.stack ?? null, f.rawResponse ?? null, f.extractedText ?? null, f.engine,
        f.model ?? null, f.promptFile ?? null, f.promptHash ?? null, f.generationConfig ?? null, f.batch ?? null, count, f.at],
    );
    this.#dirty = true;
    return count;
  }

  /**
   * Attempts made elsewhere (the original pipeline's failure counts): the counter of (key, fingerprint)
   * becomes at least `row.count`. Importing twice changes nothing.
   */
  importAttempts(row: AttemptRow): void {
    const prev = this.attemptFor(row.key, row.fingerprint)?.count ?? 0;
    if (prev >= row.count) return;
    const r = redactDeep(row);
    this.#db.run(
      `INSERT INTO attempts (key, fingerprint, count, last_class, last_message, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (key, fingerprint) DO UPDATE SET count = excluded.count, last_class = excluded.last_class,
         last_message = excluded.last_message, updated_at = excluded.updated_at`,
      [r.key, r.fingerprint, r.count, r.lastClass, r.lastMessage, r.updatedAt],
    );
    this.#dirty = true;
  }

  /**
   * A failed attempt made elsewhere, as history only (no counter changes). Returns false when the log
   * already has it (same page, batch, attempt and time): importing twice adds nothing.
   */
  importFailure(raw: FailureRow): boolean {
    const f = redactDeep(raw);
    const seen = this.#db.exec('SELECT 1 FROM failure_log WHERE key = ? AND batch IS ? AND attempt = ? AND at = ?', [f.key, f.batch ?? null, f.attempt, f.at]);
    if (seen.length > 0) return false;
    this.#db.run(
      `INSERT INTO failure_log (key, fingerprint, class, code, message, stack, raw_response, extracted_text, engine, model,
         prompt_file, prompt_hash, generation_config, batch, attempt, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [f.key, f.fingerprint, f.class, f.code ?? null, f.message, f.stack ?? null, f.rawResponse ?? null, f.extractedText ?? null, f.engine,
        f.model ?? null, f.promptFile ?? null, f.promptHash ?? null, f.generationConfig ?? null, f.batch ?? null, f.attempt, f.at],
    );
    this.#dirty = true;
    return true;
  }

  /** A success ends the failure streak of that (key, fingerprint). */
  clearAttempts(key: TargetKey): void {
    this.#db.run('DELETE FROM attempts WHERE key = ?', [key]);
    this.#dirty = true;
  }

  /** Rows of the failure log, newest last. */
  failureLog(key?: TargetKey, o: { brief?: boolean } = {}): FailureRow[] {
    // Brief: without the bulky columns (stack, raw response, extracted text, generation config), for summaries.
    const bulky = o.brief ? 'NULL, NULL, NULL' : 'stack, raw_response, extracted_text';
    const config = o.brief ? 'NULL' : 'generation_config';
    const res = this.#db.exec(
      `SELECT key, fingerprint, class, code, message, ${bulky}, engine, model, prompt_file, prompt_hash,
         ${config}, batch, attempt, at FROM failure_log ${key ? 'WHERE key = ?' : ''} ORDER BY id`,
      key ? [key] : [],
    )[0];
    return (res?.values ?? []).map((r) => ({
      key: asKey(String(r[0])),
      fingerprint: asFingerprint(String(r[1])),
      class: r[2] as FailureRow['class'],
      code: r[3] as string | null,
      message: String(r[4]),
      stack: r[5] as string | null,
      rawResponse: r[6] as string | null,
      extractedText: r[7] as string | null,
      engine: String(r[8]),
      model: r[9] as string | null,
      promptFile: r[10] as string | null,
      promptHash: r[11] as string | null,
      generationConfig: r[12] as string | null,
      batch: r[13] as string | null,
      attempt: Number(r[14]),
      at: String(r[15]),
    }));
  }

  recordRun(id: string, command: string, startedAt: string, finishedAt: string, exitCode: number, summary: unknown): void {
    this.#db.run('INSERT OR REPLACE INTO runs (id, command, started_at, finished_at, exit_code, summary) VALUES (?, ?, ?, ?, ?, ?)', [
      id, command, startedAt, finishedAt, exitCode, JSON.stringify(summary),
    ]);
    this.#dirty = true;
  }

  /** Writes pending rows and saves the database atomically. Cheap when nothing changed. */
  save(): void {
    if (!this.#dirty) return;
    this.#flush();
    writeFileAtomic(this.#file, this.#db.export());
    this.#dirty = false;
  }

  #flush(): void {
    const db = this.#db;
    if (this.#dirtyTargets.size === 0 && this.#deletedTargets.size === 0 && this.#dirtyHashes.size === 0) return;
    db.run('BEGIN');
    try {
      const up = db.prepare(
        `INSERT INTO targets (key, output, fingerprint, components, input_key, output_hash, engine, model, prompt_file, origin, built_at, batch, tokens_in, tokens_out, model_version, context_source)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET output = excluded.output, fingerprint = excluded.fingerprint, components = excluded.components,
           input_key = excluded.input_key, output_hash = excluded.output_hash, engine = excluded.engine, model = excluded.model,
           prompt_file = excluded.prompt_file, origin = excluded.origin, built_at = excluded.built_at, batch = excluded.batch,
           tokens_in = excluded.tokens_in, tokens_out = excluded.tokens_out, model_version = excluded.model_version, context_source = excluded.context_source`,
      );
      for (const key of this.#dirtyTargets) {
        const r = this.targets.get(key);
        if (!r) continue;
        up.run([r.key, r.output, r.fingerprint, JSON.stringify(r.components), r.inputKey, r.outputHash, r.engine, r.model, r.promptFile, r.origin, r.builtAt, r.batch, r.tokensIn, r.tokensOut, r.modelVersion, r.contextSource ? JSON.stringify(r.contextSource) : null]);
      }
      up.free();
      const del = db.prepare('DELETE FROM targets WHERE key = ?');
      for (const key of this.#deletedTargets) del.run([key]);
      del.free();
      const fh = db.prepare(
        `INSERT INTO file_hashes (path, size, mtime_ns, ino, hash, hashed_at_ns) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (path) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns, ino = excluded.ino, hash = excluded.hash, hashed_at_ns = excluded.hashed_at_ns`,
      );
      for (const p of this.#dirtyHashes) {
        const r = this.fileHashes.get(p);
        if (r) fh.run([r.path, r.size, String(r.mtimeNs), String(r.ino), r.hash, String(r.hashedAtNs)]);
      }
      fh.free();
      db.run('COMMIT');
    } catch (err) {
      db.run('ROLLBACK');
      throw err;
    }
    this.#dirtyTargets.clear();
    this.#deletedTargets.clear();
    this.#dirtyHashes.clear();
  }

  /** Raw access for commands that read small tables (failures, runs). */
  query(sqlText: string, params: (string | number | null)[] = []): Record<string, unknown>[] {
    const res = this.#db.exec(sqlText, params)[0];
    if (!res) return [];
    return res.values.map((v) => Object.fromEntries(res.columns.map((c, i) => [c, v[i]])));
  }

  run(sqlText: string, params: (string | number | null)[] = []): void {
    this.#db.run(sqlText, params);
    this.#dirty = true;
  }

  // --- read helpers for `failures` and `retry` ---

  /** The failure log without its bulky columns (stack, raw response, extracted text), newest last: for summaries. */
  failureLogBrief(): FailureRow[] {
    return this.failureLog(undefined, { brief: true });
  }

  /**
   * Deletes the failure counter of `key` for one request (`fingerprint`), or for every request (null), so the
   * next build tries it again. The failure log is history and stays. Returns how many counters were removed.
   */
  resetAttempts(key: TargetKey, fingerprint: Fingerprint | null): number {
    if (fingerprint === null) this.#db.run('DELETE FROM attempts WHERE key = ?', [key]);
    else this.#db.run('DELETE FROM attempts WHERE key = ? AND fingerprint = ?', [key, fingerprint]);
    const removed = this.#db.getRowsModified();
    if (removed > 0) this.#dirty = true;
    return removed;
  }

  close(): void {
    this.#db.close();
  }
}

/** What is wrong with a cache file on its face (before SQLite reads it), or null. */
function damage(b: Buffer): string | null {
  if (b.length === 0) return 'the file is empty';
  if (b.length < 100 || b.subarray(0, 16).toString('latin1') !== 'SQLite format 3\0') return 'not an SQLite database';
  // The header's page size and page count (valid when the change counter matches "version-valid-for").
  const pageSize = b.readUInt16BE(16) === 1 ? 65536 : b.readUInt16BE(16);
  const pages = b.readUInt32BE(24) === b.readUInt32BE(92) ? b.readUInt32BE(28) : 0;
  if (pages > 0 && b.length < pages * pageSize) return `the file is truncated (${b.length} of ${pages * pageSize} bytes)`;
  return null;
}

/** The cache file exists but cannot be read or moved (permissions, a folder in its place). */
export class CacheAccessError extends Error {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`cannot use the cache ${file}: ${detail}`);
  }
}

export class NewerCacheError extends Error {
  constructor(readonly version: number) {
    super(`the cache was written by a newer ocrmake (schema version ${version}, this one knows up to ${SCHEMA_VERSION})`);
  }
}
