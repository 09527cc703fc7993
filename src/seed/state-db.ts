// The original pipeline's SQLite state (data/gemini_batches.db), read with sql.js. Its tables (from its
// public repository): active_batches (batch_id, status 'active' | 'completed', created_at, updated_at),
// batch_record_keys, inflight_records (record_key, batch_id), failure_counts (record_key, count,
// last_updated) and failure_logs (record_key, batch_id, attempt_number, error_type, error_message,
// error_traceback, raw_response_text, extracted_text, raw_response_json, model_name, prompt_name,
// prompt_template, generation_config, created_at). Keys are `state:school:year:page`, year and page as
// whole numbers. Times are SQLAlchemy's naive UTC text (`2025-01-31 12:00:00.123456`).
import fs from 'node:fs';

export interface OriginalState {
  /** Batches still running in the original's view (status 'active'), with when they started. */
  activeBatches: { id: string; createdAt: string | null }[];
  /** Pages the original had sent and not yet heard back about. */
  inflight: number;
  failureCounts: { key: string; count: number; at: string | null }[];
  /** null: the database has no failure_logs table (an older version of the original). */
  failureLogs: OriginalFailure[] | null;
}

export interface OriginalFailure {
  key: string;
  batch: string | null;
  attempt: number;
  errorType: string | null;
  message: string | null;
  traceback: string | null;
  rawText: string | null;
  extractedText: string | null;
  rawJson: string | null;
  model: string | null;
  promptName: string | null;
  promptTemplate: string | null;
  generationConfig: string | null;
  at: string | null;
}

export async function readOriginalState(file: string): Promise<OriginalState> {
  const initSqlJs = (await import('sql.js')).default;
  const SQL = await initSqlJs();
  const db = new SQL.Database(fs.readFileSync(file));
  try {
    const tables = new Set((db.exec("SELECT name FROM sqlite_master WHERE type = 'table'")[0]?.values ?? []).map((r) => String(r[0])));
    const rows = (sql: string): Record<string, unknown>[] => {
      const res = db.exec(sql)[0];
      return res ? res.values.map((v) => Object.fromEntries(res.columns.map((c, i) => [c, v[i]]))) : [];
    };
    const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
    return {
      activeBatches: tables.has('active_batches')
        ? rows("SELECT batch_id, created_at FROM active_batches WHERE status = 'active' ORDER BY created_at").map((r) => ({ id: String(r['batch_id']), createdAt: isoTime(r['created_at']) }))
        : [],
      inflight: tables.has('inflight_records') ? Number(rows('SELECT COUNT(*) AS n FROM inflight_records')[0]?.['n'] ?? 0) : 0,
      failureCounts: tables.has('failure_counts')
        ? rows('SELECT record_key, count, last_updated FROM failure_counts').map((r) => ({ key: String(r['record_key']), count: Number(r['count']), at: isoTime(r['last_updated']) }))
        : [],
      failureLogs: tables.has('failure_logs')
        ? rows(
            `SELECT record_key, batch_id, attempt_number, error_type, error_message, error_traceback, raw_response_text, extracted_text,
               raw_response_json, model_name, prompt_name, prompt_template, generation_config, created_at FROM failure_logs ORDER BY id`,
          ).map((r) => ({
            key: String(r['record_key']),
            batch: str(r['batch_id']),
            attempt: Number(r['attempt_number'] ?? 0),
            errorType: str(r['error_type']),
            message: str(r['error_message']),
            traceback: str(r['error_traceback']),
            rawText: str(r['raw_response_text']),
            extractedText: str(r['extracted_text']),
            rawJson: str(r['raw_response_json']),
            model: str(r['model_name']),
            promptName: str(r['prompt_name']),
            promptTemplate: str(r['prompt_template']),
            generationConfig: str(r['generation_config']),
            at: isoTime(r['created_at']),
          }))
        : null,
    };
  } finally {
    db.close();
  }
}

/** `2025-01-31 12:00:00.123456` (naive UTC) → `2025-01-31T12:00:00.123Z`; anything else as it is. */
export function isoTime(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  const s = String(v);
  const m = /^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?$/.exec(s);
  if (!m) return s;
  const ms = (m[3] ?? '').padEnd(3, '0').slice(0, 3);
  const d = new Date(`${m[1]}T${m[2]}.${ms}${m[4] ?? 'Z'}`);
  return Number.isNaN(d.getTime()) ? s : d.toISOString();
}
