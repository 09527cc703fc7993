// How the cache database reaches the disk (DESIGN §16): sql.js keeps the whole database in memory; a
// snapshot (`state.sqlite`) holds it as of the last fold, and the journal beside it (journal.ts) holds each
// save's changes since, appended and fsynced. A save costs what changed; the snapshot is rewritten (export,
// temp file, fsync, rename) only when the journal has grown past a share of it, and when a writer closes
// cleanly. On open the journal is replayed; the integrity check runs only when the last writer did not close
// cleanly (the journal has frames) or the snapshot predates the journal.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import v8 from 'node:v8';
import type { Database, SqlJsStatic } from 'sql.js';
import { syncGroup, tempPath, writeFileAtomic } from '../util/fs.js';
import { crashPoint } from './crash-points.js';
import { JOURNAL_FILE, JournalMovedOn, JournalWriter, readJournal, type JournalHeader, type Op } from './journal.js';
import { MIGRATIONS, SCHEMA_VERSION } from './schema.js';
import { statementsFor, type Param } from './statements.js';

export const STATE_FILE = 'state.sqlite';

/** The journal is folded into a new snapshot once it passes this share of the snapshot's size… */
const FOLD_RATIO = 0.25;
/** …and this many bytes (small caches would otherwise fold at nearly every save). */
const FOLD_MIN_BYTES = 256 * 1024;

/** A cache up to this size is opened with sql.js's wasm compiled by Liftoff alone (see sql()). */
const LIFTOFF_MAX_BYTES = 16 * 2 ** 20;

let sqlPromise: Promise<SqlJsStatic> | null = null;
/**
 * sql.js, for a cache of `bytes` (snapshot and journal). A small one is served by V8's baseline wasm code
 * (Liftoff) alone: optimising sql.js's 650 KB of wasm with TurboFan costs every command ~0.17 s of CPU
 * (status on the sample: 0.49 -> 0.30 s of CPU), more than the SQL work of a small cache. A big cache
 * keeps the optimised code for its longer work (at 100,000 pages either way loads in the same CPU time).
 * The flag must be set before the module is compiled.
 */
async function sql(bytes = 0): Promise<SqlJsStatic> {
  if (sqlPromise) return sqlPromise;
  const baseline = bytes <= LIFTOFF_MAX_BYTES;
  if (baseline) v8.setFlagsFromString('--liftoff-only');
  // require, not import: sql.js is CommonJS, and an ESM import scans it for export names first.
  sqlPromise = (createRequire(import.meta.url)('sql.js') as typeof import('sql.js').default)();
  // The flag is the process's: other wasm (tesseract.js's OCR, the JPEG 2000 decoder) is compiled in full.
  if (baseline) {
    const restore = () => v8.setFlagsFromString('--no-liftoff-only');
    sqlPromise.then(restore, restore);
  }
  return sqlPromise;
}

export interface Opened {
  db: DurableDb;
  /** Set when the previous file could not be opened and was moved aside. */
  movedAside: string | null;
  movedReason: string | null;
}

export class DurableDb {
  /** The database, for reads and for the store's own prepared statements. Changes go through exec/record. */
  readonly sql: Database;
  readonly #file: string;
  readonly #journal: JournalWriter;
  /** Changes made since the last save, in order: the next journal frame. */
  #pending: Op[] = [];
  #dirty = false;
  /** The next save must write a whole snapshot (a new or migrated cache, or no journal continues it). */
  #needsFold = true;
  /** This process appended to the journal since the last fold (so a clean close folds). */
  #appended = false;
  #snapshotBytes = 0;

  private constructor(db: Database, file: string, journal: { bytes: number; header: JournalHeader | null }) {
    this.sql = db;
    this.#file = file;
    this.#journal = new JournalWriter(path.join(path.dirname(file), JOURNAL_FILE), journal.bytes, journal.header);
    // The newest store of a file is the only one that may fold it when it closes (see close).
    latest.set(file, this);
  }

  /**
   * Opens (or creates) `<dir>/state.sqlite` and replays the journal written since it. A file that is not a
   * sound cache (not SQLite, truncated, failing SQLite's quick check, not our tables, or a journal that cannot
   * be replayed) is moved aside (with its journal, if that holds changes), never deleted, and a new cache is started.
   */
  static async open(dir: string): Promise<Opened> {
    const file = path.join(dir, STATE_FILE);
    const journalFile = path.join(dir, JOURNAL_FILE);
    const size = (f: string) => fs.statSync(f, { throwIfNoEntry: false })?.size ?? 0;
    const SQL = await sql(size(file) + size(journalFile));
    fs.mkdirSync(dir, { recursive: true });
    let bytes: Buffer | null;
    try {
      bytes = fs.readFileSync(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') throw new CacheAccessError(file, (err as Error).message);
      bytes = null;
    }
    const fresh = (): DurableDb => {
      const db = new DurableDb(new SQL.Database(), file, { bytes: 0, header: null });
      db.#migrate(SCHEMA_VERSION);
      db.#dirty = true;
      return db;
    };
    // No snapshot: a journal alone (its snapshot deleted by hand) continues nothing and is overwritten.
    if (bytes === null) return { db: fresh(), movedAside: null, movedReason: null };
    let problem = damage(bytes);
    if (!problem) {
      let raw: Database | null = null;
      try {
        raw = new SQL.Database(bytes);
        const journal = readJournal(journalFile);
        const generation = metaValue(raw, 'journal_generation');
        const continues = journal.header !== null && journal.header.generation === generation;
        const unclean = !continues || journal.frames.length > 0 || journal.tornBytes > 0;
        if (unclean) {
          const check = raw.exec('PRAGMA quick_check')[0]?.values.map((r) => String(r[0])) ?? [];
          if (check.join() !== 'ok') throw new Error(`SQLite's check failed: ${check.slice(0, 2).join('; ')}`);
        }
        const db = new DurableDb(raw, file, continues ? { bytes: journal.goodBytes, header: journal.header } : { bytes: 0, header: null });
        db.#snapshotBytes = bytes.length;
        if (continues) {
          // The journal's statements were written against its own schema version: replay them there.
          if (journal.header!.schema > SCHEMA_VERSION) throw new NewerCacheError(journal.header!.schema);
          db.#migrate(journal.header!.schema);
          db.#replay(journal.frames, journal.header!.schema);
        }
        const migrated = db.#migrate(SCHEMA_VERSION);
        // After an unclean end, the first save writes a new snapshot (a checkpoint, as databases make after
        // recovery): the next open then has nothing to replay and no check to run.
        db.#needsFold = unclean || migrated;
        return { db, movedAside: null, movedReason: null };
      } catch (err) {
        if (err instanceof NewerCacheError) throw err;
        raw?.close();
        problem = (err as Error).message;
      }
    }
    const aside = `${file}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    try {
      fs.renameSync(file, aside);
    } catch (err) {
      throw new CacheAccessError(file, `it is damaged (${problem}) and cannot be moved aside: ${(err as Error).message}`);
    }
    // Its journal goes with it when it holds changes (a header alone says nothing, and is overwritten).
    try {
      if (readJournal(journalFile).frames.length > 0) moveAside(journalFile, `${aside}.journal`);
    } catch {
      // Unreadable: left where it is; its generation matches no new snapshot, so it is never replayed.
    }
    return { db: fresh(), movedAside: aside, movedReason: problem };
  }

  /** Applies the migrations up to version `upTo`; true when any ran. */
  #migrate(upTo: number): boolean {
    const db = this.sql;
    db.run('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
    const row = metaValue(db, 'schema_version');
    const have = row === null ? 0 : Number(row);
    if (!Number.isInteger(have)) throw new Error(`schema_version is "${row}"`);
    if (have > SCHEMA_VERSION) throw new NewerCacheError(have);
    if (have >= upTo) {
      // A real SQLite file that is not ours (or was truncated to a valid header) fails here, not later.
      if (upTo === SCHEMA_VERSION) db.exec('SELECT key, fingerprint, shared, output_hash FROM targets LIMIT 1');
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
  #replay(frames: readonly Op[][], schema: number): void {
    if (frames.length === 0) return;
    const db = this.sql;
    const prepared = statementsFor(schema).map((s) => db.prepare(s));
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

  get dirty(): boolean {
    return this.#dirty;
  }

  /** Runs a statement and queues it for the journal. */
  exec(sqlText: string, params: Param[]): void {
    this.sql.run(sqlText, params);
    this.#pending.push([sqlText, ...params]);
    this.#dirty = true;
  }

  /** Queues changes the caller has already applied to `sql` (with the numbered STATEMENTS). */
  record(ops: readonly Op[]): void {
    if (ops.length === 0) return;
    // One by one: a spread of 100,000 ops (an adopt, a first build's save) overflows the call stack.
    for (const op of ops) this.#pending.push(op);
    this.#dirty = true;
  }

  /**
   * Makes every change so far durable: appends them to the journal as one frame and fsyncs it, or folds
   * them into a new snapshot when no journal continues the snapshot yet. Cheap when nothing changed.
   */
  save(): void {
    if (!this.#dirty) return;
    // The sync point of the group commit: the files the records vouch for are durable before the records.
    syncGroup();
    if (this.#needsFold) this.#fold();
    else if (this.#pending.length > 0 && !this.#append()) this.#fold();
    else {
      this.#pending = [];
      this.#appended = true;
      if (this.#journal.size > Math.max(FOLD_MIN_BYTES, FOLD_RATIO * this.#snapshotBytes)) {
        try {
          this.#fold();
        } catch {
          // The changes are durable in the journal already; the next save or a clean close folds again.
          this.#needsFold = false;
        }
      }
    }
    this.#dirty = false;
  }

  /** Appends the pending changes; false when the journal moved on (folded by a newer store) and a fold must write them. */
  #append(): boolean {
    try {
      this.#journal.append(this.#pending);
      return true;
    } catch (err) {
      if (err instanceof JournalMovedOn) return false;
      throw err;
    }
  }

  /**
   * Writes the whole database as a new snapshot under a new generation, then starts an empty journal that
   * continues it. A kill between the two leaves a journal of the old generation, which open ignores.
   */
  #fold(): void {
    this.#needsFold = true; // until the new journal is in place
    const generation = randomBytes(8).toString('hex');
    this.sql.run("INSERT OR REPLACE INTO meta (key, value) VALUES ('journal_generation', ?)", [generation]);
    const bytes = this.sql.export();
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

  /**
   * Closes the database. A writer whose every change is saved folds its journal into a new snapshot first,
   * so the next open has nothing to replay and no check to run. The journal already holds those changes: a
   * fold that fails here (a full disk) loses nothing, and the next open replays them instead.
   */
  close(): void {
    try {
      syncGroup();
    } catch {
      // Best effort: whatever no saved record vouches for is found again by the next build (recovered or sent).
    }
    // Only the newest store of the file folds: an older one (watch keeps it open while the new one opens)
    // would otherwise fold under the newer store, whose journal would then continue a snapshot gone by.
    if (this.#appended && !this.#dirty && latest.get(this.#file) === this) {
      try {
        this.#fold();
      } catch {
        // Kept in the journal (above).
      }
    }
    this.#journal.close();
    this.sql.close();
    if (latest.get(this.#file) === this) latest.delete(this.#file);
  }
}

/** The newest open store of each state file in this process. */
const latest = new Map<string, DurableDb>();

function metaValue(db: Database, key: string): string | null {
  try {
    const v = db.exec('SELECT value FROM meta WHERE key = ?', [key])[0]?.values[0]?.[0];
    return v === undefined || v === null ? null : String(v);
  } catch {
    return null; // no meta table yet
  }
}

function moveAside(file: string, aside: string): void {
  try {
    fs.renameSync(file, aside);
  } catch {
    // It cannot move: a journal whose generation matches no snapshot is never replayed anyway.
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
