// The cache's tables as the rest of ocrmake sees them. Targets and the stat cache are read into maps once
// and written back in one transaction per save; the rest is written through. How the database reaches the
// disk (a snapshot, and a journal of each save's changes) is durable.ts's concern.
import { asFingerprint, asHash, asKey, type ContentHash, type Fingerprint, type TargetKey } from '../types.js';
import { redactDeep } from '../util/secrets.js';
import { DurableDb } from './durable.js';
import type { Op } from './journal.js';
import { ADD_COMPONENT_SET, DELETE_TARGET, fileHashParams, SELECT_FILE_HASHES, SELECT_TARGETS, sharedJson, STATEMENTS, targetParams, UPSERT_FILE_HASH, UPSERT_TARGET, type Param } from './statements.js';
import type { AttemptRow, Components, FailureRow, FileHashRow, SourceRow, TargetRecord } from './records.js';

export { CacheAccessError, NewerCacheError, STATE_FILE } from './durable.js';

export interface OpenResult {
  store: StateStore;
  /** Set when the previous file could not be opened and was moved aside. */
  movedAside: string | null;
  movedReason: string | null;
}

export class StateStore {
  readonly #durable: DurableDb;
  readonly targets = new Map<TargetKey, TargetRecord>();
  readonly fileHashes = new Map<string, FileHashRow>();
  readonly #dirtyTargets = new Set<TargetKey>();
  readonly #deletedTargets = new Set<TargetKey>();
  readonly #dirtyHashes = new Set<string>();
  /** The shared-component sets the database holds (component_sets.json). */
  readonly #knownSets = new Set<string>();

  private constructor(db: DurableDb) {
    this.#durable = db;
  }

  get #db() {
    return this.#durable.sql;
  }

  /**
   * Opens (or creates) the cache database in `dir` (see DurableDb.open: a damaged one is moved aside, never
   * deleted, and a new one started) and reads the targets and the stat cache.
   */
  static async open(dir: string): Promise<OpenResult> {
    const { db, movedAside, movedReason } = await DurableDb.open(dir);
    const store = new StateStore(db);
    store.#load();
    return { store, movedAside, movedReason };
  }

  /** Runs a write-through statement (journaled). */
  #exec(sqlText: string, params: Param[]): void {
    this.#durable.exec(sqlText, params);
  }

  #load(): void {
    const sets = new Map<number, Record<string, unknown>>();
    const cs = this.#db.prepare('SELECT id, json FROM component_sets');
    while (cs.step()) {
      const [id, json] = cs.get() as [number, string];
      sets.set(id, JSON.parse(json));
      this.#knownSets.add(json);
    }
    cs.free();
    const t = this.#db.prepare(SELECT_TARGETS);
    while (t.step()) {
      const r = t.get() as [string, string, string, string | null, string | null, string | null, number, string | null, string, string, string | null, string | null, string, string, string | null, number | null, number | null, string | null, string | null];
      this.targets.set(asKey(r[0]), {
        key: asKey(r[0]),
        output: r[1],
        fingerprint: asFingerprint(r[2]),
        components: { image: r[3] as ContentHash | null, prompt: r[4] as ContentHash | null, context: r[5] as ContentHash | null, ...sets.get(r[6]) } as Components,
        inputKey: r[7],
        outputHash: asHash(r[8]),
        engine: r[9],
        model: r[10],
        promptFile: r[11],
        origin: r[12] as TargetRecord['origin'],
        builtAt: r[13],
        batch: r[14],
        tokensIn: r[15],
        tokensOut: r[16],
        modelVersion: r[17],
        contextSource: r[18] ? JSON.parse(r[18]) : null,
      });
    }
    t.free();
    const h = this.#db.prepare(SELECT_FILE_HASHES);
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
  }

  deleteTarget(key: TargetKey): void {
    if (this.targets.delete(key)) {
      this.#deletedTargets.add(key);
      this.#dirtyTargets.delete(key);
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
  }

  setFileHash(row: FileHashRow): void {
    this.fileHashes.set(row.path, row);
    this.#dirtyHashes.add(row.path);
  }

  get dirty(): boolean {
    return this.#durable.dirty || this.#dirtyTargets.size + this.#deletedTargets.size + this.#dirtyHashes.size > 0;
  }

  // --- request configs (one row per distinct config: written through) ---

  /** Keeps the canonical form of a config hash (once), for explain to name what changed. */
  rememberConfig(hash: string, json: string): void {
    if (this.#db.exec('SELECT 1 FROM configs WHERE hash = ?', [hash]).length > 0) return;
    this.#exec('INSERT INTO configs (hash, json) VALUES (?, ?)', [hash, json]);
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
    return true;
  }

  /** A success ends the failure streak of that (key, fingerprint). */
  clearAttempts(key: TargetKey): void {
    this.#exec('DELETE FROM attempts WHERE key = ?', [key]);
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
  }

  /** Writes pending rows and makes every change durable (durable.ts). Cheap when nothing changed. */
  save(): void {
    this.#flush();
    this.#durable.save();
  }

  #flush(): void {
    const db = this.#db;
    if (this.#dirtyTargets.size === 0 && this.#deletedTargets.size === 0 && this.#dirtyHashes.size === 0) return;
    const ops: Op[] = [];
    db.run('BEGIN');
    try {
      const up = db.prepare(STATEMENTS[UPSERT_TARGET]!);
      const addSet = db.prepare(STATEMENTS[ADD_COMPONENT_SET]!);
      for (const key of this.#dirtyTargets) {
        const r = this.targets.get(key);
        if (!r) continue;
        const shared = sharedJson(r.components);
        if (!this.#knownSets.has(shared)) {
          addSet.run([shared]);
          ops.push([ADD_COMPONENT_SET, shared]);
          this.#knownSets.add(shared);
        }
        const params = targetParams(r);
        up.run(params);
        ops.push([UPSERT_TARGET, ...params]);
      }
      up.free();
      addSet.free();
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
    this.#durable.record(ops);
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
    return removed;
  }

  /** Closes the store (a writer's clean close folds its journal: durable.ts). */
  close(): void {
    this.#durable.close();
  }
}
