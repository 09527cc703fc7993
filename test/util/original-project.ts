// A project of the original course-catalog pipeline, written from its documented formats: config.yaml, a
// Jinja prompt, the fixed layout (labels `{page}.json`, images `{page}.jpg`, outputs `{page}.json` under
// state/school/year), outputs in its output model (test/fixtures/original-pipeline/outputs), and its SQLite
// state, data/gemini_batches.db, with the tables its SQLAlchemy models create.
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { makeProject, REPO } from './rig.js';

export const FIXTURE = path.join(REPO, 'test/fixtures/original-pipeline');

export const BOOKS = {
  alabama: { dir: 'Alabama/Howard College/1849', key: 'Alabama:Howard College:1849', pages: [1, 2, 3, 4] },
  virginia: { dir: 'Virginia/Hampden-Sydney College/1851', key: 'Virginia:Hampden-Sydney College:1851', pages: [1, 2, 3, 4] },
  california: { dir: 'California/College of California/1860', key: 'California:College of California:1860', pages: [3, 4, 5] },
} as const;

/** Pages the original gave up on (3 failures of 3), pages it will try again, and a key of no page here. */
export const DEAD = `${BOOKS.virginia.key}:2`;
export const FAILED_ONCE = `${BOOKS.california.key}:4`;
export const STRANGER = 'Texas:Nowhere College:1850:1';
/** The first page with no output whose previous page has one: what the original would send next. */
export const NEXT_NEW = `${BOOKS.alabama.key}:3`;

const TIME = (minute: number) => `2025-03-01 10:${String(minute).padStart(2, '0')}:00.000000`;

export interface OriginalOptions {
  /** Leave batches active in the state (the original is still running). */
  active?: boolean;
}

export async function originalProject(o: OriginalOptions = {}): Promise<string> {
  const dir = makeProject({ dataset: false });
  // makeProject copies ocrmake's sample ocrfile, rules and prompts: this is not an ocrmake project.
  for (const f of ['ocrfile.ts', 'rules', 'prompts']) fs.rmSync(path.join(dir, f), { recursive: true, force: true });
  fs.cpSync(path.join(FIXTURE, 'config.yaml'), path.join(dir, 'config.yaml'));
  fs.cpSync(path.join(FIXTURE, 'prompts'), path.join(dir, 'prompts'), { recursive: true });
  fs.cpSync(path.join(FIXTURE, 'outputs'), path.join(dir, 'dataset/output_results'), { recursive: true });
  for (const book of Object.values(BOOKS)) {
    for (const page of book.pages) {
      const label = path.join(dir, 'dataset/label_to_curricular', book.dir, `${page}.json`);
      fs.mkdirSync(path.dirname(label), { recursive: true });
      fs.writeFileSync(label, `${JSON.stringify({ page, is_curricular: true })}\n`);
      // The original reads `{page}.jpg` only: the sample's PNG scans, re-encoded.
      const image = path.join(dir, 'dataset/raw_image_dataset', book.dir, `${page}.jpg`);
      fs.mkdirSync(path.dirname(image), { recursive: true });
      await sharp(path.join(REPO, 'dataset/raw_image_dataset', book.dir, `${page}.png`)).jpeg({ quality: 80 }).toFile(image);
    }
  }
  await writeState(path.join(dir, 'data/gemini_batches.db'), o);
  return dir;
}

async function writeState(file: string, o: OriginalOptions): Promise<void> {
  const initSqlJs = (await import('sql.js')).default;
  const SQL = await initSqlJs();
  const db = new SQL.Database();
  db.run(`
    CREATE TABLE active_batches (batch_id VARCHAR NOT NULL, created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL, status VARCHAR NOT NULL, PRIMARY KEY (batch_id));
    CREATE INDEX idx_active_batches_created_at ON active_batches (created_at);
    CREATE INDEX idx_active_batches_status ON active_batches (status);
    CREATE TABLE batch_record_keys (batch_id VARCHAR NOT NULL, record_key VARCHAR NOT NULL, created_at DATETIME NOT NULL, PRIMARY KEY (batch_id, record_key));
    CREATE TABLE failure_counts (record_key VARCHAR NOT NULL, count INTEGER NOT NULL, last_updated DATETIME NOT NULL, PRIMARY KEY (record_key));
    CREATE TABLE inflight_records (record_key VARCHAR NOT NULL, batch_id VARCHAR NOT NULL, created_at DATETIME NOT NULL, PRIMARY KEY (record_key));
    CREATE TABLE failure_logs (
      id INTEGER NOT NULL, record_key VARCHAR NOT NULL, batch_id VARCHAR NOT NULL, attempt_number INTEGER NOT NULL,
      error_type VARCHAR, error_message TEXT, error_traceback TEXT, raw_response_text TEXT, extracted_text TEXT,
      raw_response_json TEXT, model_name VARCHAR, prompt_name VARCHAR, prompt_template VARCHAR, generation_config TEXT,
      created_at DATETIME NOT NULL, PRIMARY KEY (id));
  `);
  for (const [id, minute] of [['batches/first', 1], ['batches/second', 20], ['batches/third', 40]] as const) {
    db.run('INSERT INTO active_batches VALUES (?, ?, ?, ?)', [id, TIME(minute), TIME(minute + 10), 'completed']);
  }
  if (o.active) {
    db.run('INSERT INTO active_batches VALUES (?, ?, ?, ?)', ['batches/still-running', TIME(50), TIME(50), 'active']);
    for (const key of [`${BOOKS.alabama.key}:3`, FAILED_ONCE]) {
      db.run('INSERT INTO batch_record_keys VALUES (?, ?, ?)', ['batches/still-running', key, TIME(50)]);
      db.run('INSERT INTO inflight_records VALUES (?, ?, ?)', [key, 'batches/still-running', TIME(50)]);
    }
  }
  db.run('INSERT INTO failure_counts VALUES (?, ?, ?)', [DEAD, 3, TIME(41)]);
  db.run('INSERT INTO failure_counts VALUES (?, ?, ?)', [FAILED_ONCE, 1, TIME(21)]);
  db.run('INSERT INTO failure_counts VALUES (?, ?, ?)', [STRANGER, 2, TIME(21)]);
  const config = JSON.stringify({ temperature: 0.1, max_output_tokens: 8192, response_mime_type: 'application/json' });
  const log = (key: string, batch: string, attempt: number, type: string, message: string, minute: number) =>
    db.run('INSERT INTO failure_logs (id, record_key, batch_id, attempt_number, error_type, error_message, error_traceback, raw_response_text, extracted_text, raw_response_json, model_name, prompt_name, prompt_template, generation_config, created_at) VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', [
      key, batch, attempt, type, message, `Traceback (most recent call last):\n  ${type}: ${message}`, '{"raw_ocr": ', '{"raw_ocr": ', '{"candidates": []}', 'gemini-2.5-flash', 'page_ocr', 'v1.1.jinja', config, TIME(minute),
    ]);
  log(DEAD, 'batches/first', 1, 'ValidationError', '1 validation error for OcrPageResult\ncourses\n  Field required', 11);
  log(DEAD, 'batches/second', 2, 'JSONDecodeError', 'Expecting value: line 1 column 14 (char 13)', 21);
  log(DEAD, 'batches/third', 3, 'ValidationError', '1 validation error for OcrPageResult\npage_info\n  Field required', 41);
  log(FAILED_ONCE, 'batches/second', 1, 'APIError', '500 INTERNAL', 21);
  log(STRANGER, 'batches/second', 1, 'APIError', '500 INTERNAL', 21);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, db.export());
  db.close();
}
