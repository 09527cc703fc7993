// The cache database: sql.js (SQLite in wasm), whole database in memory. Targets and the stat cache are read
// into maps once and written back in one transaction per save; the rest is written through. A save appends
// what changed to the journal beside the snapshot (journal.ts) and fsyncs it: its cost follows the change,
// not the collection. The snapshot is rewritten atomically (export, temp file, fsync, rename) only when the
// journal has grown past a fraction of it, and when a writer closes the store cleanly.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Database, SqlJsStatic } from 'sql.js';
import { asFingerprint, asHash, asKey, type Fingerprint, type TargetKey } from '../types.js';
import { syncGroup, tempPath, writeFileAtomic } from '../util/fs.js';
import { redactDeep } from '../util/secrets.js';
import { crashPoint } from './crash-points.js';
import { JOURNAL_FILE, JournalWriter, readJournal, type Op } from './journal.js';
import { MIGRATIONS, SCHEMA_VERSION } from './schema.js';
import { DELETE_TARGET, fileHashParams, STATEMENTS, targetParams, UPSERT_FILE_HASH, UPSERT_TARGET, type Param } from './statements.js';
import type { AttemptRow, FailureRow, FileHashRow, SourceRow, TargetRecord } from './records.js';

export const STATE_FILE = 'state.sqlite';

/** The journal is folded into a new snapshot once it passes this share of the snapshot's size… */
const FOLD_RATIO = 0.25;
/** …and this many bytes (small caches would otherwise fold at nearly every save). */
const FOLD_MIN_BYTES = 256 * 1024;

let sqlPromise: Promise<SqlJsStatic> | null = null;
async function sql(): Promise<SqlJsStatic> {
  sqlPromise ??= import('sql.js').then((m) => m.default());
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
  readonly #journal: JournalWriter;
  readonly targets = new Map<TargetKey, TargetRecord>();
  readonly fileHashes = new Map<string, FileHashRow>();
  readonly #dirtyTargets = new Set<TargetKey>();
  readonly #deletedTargets = new Set<TargetKey>();
  readonly #dirtyHashes = new Set<string>();
  #dirty = false;
  /** Changes made since the last save, in order: the next journal frame. */
  #pending: Op[] = [];
  /** The next save must write a whole snapshot (a new or migrated cache, or no journal continues it). */
  #needsFold = true;
  /** This process appended to the journal since the last fold (so a clean close folds). */
  #appended = false;
  #snapshotBytes = 0;

  private constructor(db: Database, file: string, journalBytes: number) {
    this.#db = db;
    this.#file = file;
    this.#journal = new JournalWriter(path.join(path.dirname(file), JOURNAL_FILE), journalBytes);
  }

  /**
   * Opens (or creates) `<dir>/state.sqlite` and replays the journal written since it. A file that is not a
   * sound cache (not SQLite, truncated, failing SQLite's quick check, or not our tables) is moved aside
   * with its journal, never deleted, and a new cache is started. The quick check runs only when the last
   * writer did not close cleanly (the journal has frames) or the snapshot predates the journal.
   */
  static async open(dir: string): Promise<OpenResult> {
    const SQL = await sql();
    const file = path.join(dir, STATE_FILE);
    const journalFile = path.join(dir, JOURNAL_FILE);
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
          const journal = readJournal(journalFile);
          const generation = metaValue(db, 'journal_generation');
          const continues = journal.header !== null && journal.header.generation === generation;
          if (!continues || journal.frames.length > 0 || journal.tornBytes > 0) {
            const check = db.exec('PRAGMA quick_check')[0]?.values.map((r) => String(r[0])) ?? [];
            if (check.join() !== 'ok') throw new Error(`SQLite's check failed: ${check.slice(0, 2).join('; ')}`);
          }
          const store = new StateStore(db, file, continues ? journal.goodBytes : 0);
          store.#snapshotBytes = bytes.length;
          if (continues) {
            // The journal's statements were written against its own schema version: replay them there.
            if (journal.header!.schema > SCHEMA_VERSION) throw new NewerCacheError(journal.header!.schema);
            store.#migrate(journal.header!.schema);
            store.#replay(journal.frames);
          }
          const migrated = store.#migrate(SCHEMA_VERSION);
          store.#needsFold = !continues || migrated;
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
      moveAsideIfPresent(journalFile, aside.replace(STATE_FILE, JOURNAL_FILE));
      const store = new StateStore(new SQL.Database(), file, 0);
      store.#migrate(SCHEMA_VERSION);
      store.#dirty = true;
      return { store, movedAside: aside, movedReason: problem };
    }
    // No snapshot: a journal alone (its snapshot deleted by hand) continues nothing and is overwritten.
    const store = new StateStore(new SQL.Database(), file, 0);
    store.#migrate(SCHEMA_VERSION);
    store.#dirty = true;
    return { store, movedAside: null, movedReason: null };
  }

  /** Applies the migrations up to version `upTo`; true when any ran. */
  #migrate(upTo: number): boolean {
    const db = this.#db;
    db.run('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
    const row = metaValue(db, 'schema_version');
    const have = row === null ? 0 : Number(row);
    if (!Number.isInteger(have)) throw new Error(`schema_version is "${row}"`);
    if (have > SCHEMA_VERSION) throw new NewerCacheError(have);
    if (have >= upTo) {
      // A real SQLite file that is not ours (or was truncated to a valid header) fails here, not later.
      if (upTo === SCHEMA_VERSION) db.exec('SELECT key, fingerprint, components, output_hash FROM targets LIMIT 1');
      return false;
    }
    db.run('BEGIN');
    for (let v = have; v < upTo; v++) db.run(MIGRATIONS[v]!);
    db.run("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)", [String(upTo)]);
    db.run('COMMIT');
    this.#dirty = true;
    return true;
  }

  /** Re-applies the changes of the journal's frames, in order, in one transaction. */
  #replay(frames: readonly Op[][]): void {
    if (frames.length === 0) return;
    const db = this.#db;
    const prepared = STATEMENTS.map((s) => db.prepare(s));
    db.run('BEGIN');
    try {
      for (const ops of frames) {
        for (const [statement, ...params] of ops) {
          if (typeof statement === 'number') {
            const st = prepared[statement];
            if (!st) throw new Error(`the journal names statement ${statement}, which this ocrmake does not know`);
            st.run(params);
          } else db.run(statement, params);
        }
      }
      db.run('COMMIT');
    } catch (err) {
      db.run('ROLLBACK');
      throw new Error(`the journal ${JOURNAL_FILE} cannot be replayed: ${(err as Error).message}`);
    } finally {
      for (const st of prepared) st.free();
    }
  }

  /** Runs a write-through statement and queues it for the journal. */
  #exec(sqlText: string, params: Param[]): void {
    this.#db.run(sqlText, params);
    this.#pending.push([sqlText, ...params]);
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
    this.#exec('INSERT OR REPLACE INTO sources (hash, format, pages, info) VALUES (?, ?, ?, ?)', [row.hash, row.format, row.pages, JSON.stringify(row.info)]);
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
    this.#exec('INSERT INTO configs (hash, json) VALUES (?, ?)', [hash, json]);
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
    this.#exec(
      `INSERT INTO attempts (key, fingerprint, count, last_class, last_message, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (key, fingerprint) DO UPDATE SET count = excluded.count, last_class = excluded.last_class,
         last_message = excluded.last_message, updated_at = excluded.updated_at`,
      [f.key, f.fingerprint, count, f.class, f.message, f.at],
    );
    this.#exec(
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
    this.#exec(
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
    this.#exec(
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
    this.#exec('DELETE FROM attempts WHERE key = ?', [key]);
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
    this.#exec('INSERT OR REPLACE INTO runs (id, command, started_at, finished_at, exit_code, summary) VALUES (?, ?, ?, ?, ?, ?)', [
      id, command, startedAt, finishedAt, exitCode, JSON.stringify(summary),
    ]);
    this.#dirty = true;
  }

  /**
   * Makes every change so far durable: appends them to the journal as one frame and fsyncs it, or folds
   * them into a new snapshot when the journal has grown large (or no journal continues the snapshot yet).
   * Cheap when nothing changed.
   */
  save(): void {
    if (!this.#dirty) return;
    // The sync point of the group commit: the files the records vouch for are durable before the records.
    syncGroup();
    this.#flush();
    if (this.#needsFold) this.#fold();
    else {
      if (this.#pending.length > 0) this.#journal.append(this.#pending);
      this.#pending = [];
      this.#appended = true;
      if (this.#journal.size > Math.max(FOLD_MIN_BYTES, FOLD_RATIO * this.#snapshotBytes)) this.#fold();
    }
    this.#dirty = false;
  }

  /**
   * Writes the whole database as a new snapshot under a new generation, then starts an empty journal that
   * continues it. A kill between the two leaves a journal of the old generation, which open ignores.
   */
  #fold(): void {
    this.#needsFold = true; // until the new journal is in place
    const generation = randomBytes(8).toString('hex');
    this.#db.run("INSERT OR REPLACE INTO meta (key, value) VALUES ('journal_generation', ?)", [generation]);
    const bytes = this.#db.export();
    if (crashPoint('fold')) {
      fs.writeFileSync(tempPath(path.dirname(this.#file), STATE_FILE), bytes.subarray(0, bytes.length >> 1));
      crashPoint.die();
    }
    writeFileAtomic(this.#file, bytes);
    this.#snapshotBytes = bytes.length;
    if (crashPoint('fold-renamed')) crashPoint.die();
    this.#journal.reset({ generation, schema: SCHEMA_VERSION });
    this.#pending = [];
    this.#needsFold = false;
    this.#appended = false;
  }

  #flush(): void {
    const db = this.#db;
    if (this.#dirtyTargets.size === 0 && this.#deletedTargets.size === 0 && this.#dirtyHashes.size === 0) return;
    const ops: Op[] = [];
    db.run('BEGIN');
    try {
      const up = db.prepare(STATEMENTS[UPSERT_TARGET]!);
      for (const key of this.#dirtyTargets) {
        const r = this.targets.get(key);
        if (!r) continue;
        const params = targetParams(r);
        up.run(params);
        ops.push([UPSERT_TARGET, ...params]);
      }
      up.free();
      const del = db.prepare(STATEMENTS[DELETE_TARGET]!);
      for (const key of this.#deletedTargets) {
        del.run([key]);
        ops.push([DELETE_TARGET, key]);
      }
      del.free();
      const fh = db.prepare(STATEMENTS[UPSERT_FILE_HASH]!);
      for (const p of this.#dirtyHashes) {
        const r = this.fileHashes.get(p);
        if (!r) continue;
        const params = fileHashParams(r);
        fh.run(params);
        ops.push([UPSERT_FILE_HASH, ...params]);
      }
      fh.free();
      db.run('COMMIT');
    } catch (err) {
      db.run('ROLLBACK');
      throw err;
    }
    this.#pending.push(...ops);
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
    this.#exec(sqlText, params);
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
    if (fingerprint === null) this.#exec('DELETE FROM attempts WHERE key = ?', [key]);
    else this.#exec('DELETE FROM attempts WHERE key = ? AND fingerprint = ?', [key, fingerprint]);
    const removed = this.#db.getRowsModified();
    if (removed > 0) this.#dirty = true;
    return removed;
  }

  /**
   * Closes the store. A writer whose every change is saved folds its journal into a new snapshot first, so
   * the next open has nothing to replay and no check to run. The journal already holds those changes: a
   * fold that fails here (a full disk) loses nothing, and the next open replays them instead.
   */
  close(): void {
    try {
      syncGroup();
    } catch {
      // Best effort: whatever no saved record vouches for is found again by the next build (recovered or sent).
    }
    if (this.#appended && !this.#dirty) {
      try {
        this.#fold();
      } catch {
        // Kept in the journal (above).
      }
    }
    this.#journal.close();
    this.#db.close();
  }
}

function metaValue(db: Database, key: string): string | null {
  try {
    const v = db.exec('SELECT value FROM meta WHERE key = ?', [key])[0]?.values[0]?.[0];
    return v === undefined || v === null ? null : String(v);
  } catch {
    return null; // no meta table yet
  }
}

function moveAsideIfPresent(file: string, aside: string): void {
  try {
    fs.renameSync(file, aside);
  } catch {
    // Absent, or it cannot move: a journal whose generation matches no snapshot is never replayed anyway.
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
