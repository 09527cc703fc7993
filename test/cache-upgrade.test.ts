// A cache written by the ocrmake before the journal (test/fixtures/cache-before-journal, schema version 4)
// is migrated on open (to the compact layout of schema 5) and taken over: no page rebuilt, no request sent,
// the journal started, and what the cache knew (outputs, the result store) still restores pages for free.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import initSqlJs from 'sql.js';
import { JOURNAL_FILE, readJournal } from '../src/cache/journal.js';
import { SCHEMA_VERSION } from '../src/cache/schema.js';
import { loadGroundTruth, startFakeGemini } from './fake-gemini/index.js';
import { makeProject, REPO, runCli, summaryOf } from './util/rig.js';

const FIXTURE = path.join(REPO, 'test/fixtures/cache-before-journal');
const BOOKS = ['Alabama/Howard College/1849', 'California/College of California/1860', 'Virginia/Hampden-Sydney College/1851'];
const ARGS = ['build', '--json', '--poll-seconds', '0.05'];

test('a cache from before the journal opens with no page rebuilt and no request; it then saves through the journal', { timeout: 120_000 }, async () => {
  const dir = makeProject({ books: BOOKS });
  for (const entry of ['ocrfile.ts', 'rules', 'prompts', 'dataset/output_results']) {
    fs.rmSync(path.join(dir, entry), { recursive: true, force: true });
    fs.cpSync(path.join(FIXTURE, entry), path.join(dir, entry), { recursive: true });
  }
  fs.cpSync(path.join(FIXTURE, 'ocrcache'), path.join(dir, '.ocrcache'), { recursive: true });
  const old = fs.readFileSync(path.join(dir, '.ocrcache/state.sqlite'));
  const fake = await startFakeGemini({ groundTruth: await loadGroundTruth(path.join(REPO, 'dataset')), startTime: Date.now() });
  try {
    const env = { GEMINI_API_KEY: 'test-key', GOOGLE_GEMINI_BASE_URL: fake.url, OCRMAKE_RETRY_BASE_MS: '20' };
    const status = JSON.parse((await runCli(dir, ['status', '--json'], { env })).stdout);
    assert.equal(status.counts.fresh, 12, JSON.stringify(status));

    const first = await runCli(dir, ARGS, { env });
    assert.equal(first.code, 0, first.stderr);
    const s = summaryOf(first);
    assert.deepEqual([s['built'], s['restored'], s['requests'], s['fresh']], [0, 0, 0, 12], JSON.stringify(s));
    assert.equal(fake.counters.requests, 0, 'no API call');

    // A deleted output comes back from the result store the old cache filled: the build saves, through the journal.
    fs.rmSync(path.join(dir, 'dataset/output_results/Alabama/Howard College/1849/2.json'));
    const second = await runCli(dir, ARGS, { env });
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual([summaryOf(second)['restored'], summaryOf(second)['requests']], [1, 0]);
    const journal = readJournal(path.join(dir, '.ocrcache', JOURNAL_FILE));
    assert.ok(journal.header, 'the journal was started');
    const SQL = await initSqlJs();
    const db = new SQL.Database(fs.readFileSync(path.join(dir, '.ocrcache/state.sqlite')));
    const meta = Object.fromEntries(db.exec('SELECT key, value FROM meta')[0]!.values.map((r) => [r[0], r[1]]));
    assert.equal(meta['journal_generation'], journal.header.generation, 'the snapshot and its journal belong together');
    assert.equal(db.exec('SELECT COUNT(*) FROM targets')[0]!.values[0]![0], 12);
    // Migrated to the compact layout (schema 5): hashes as bytes, the shared components stored once.
    assert.equal(meta['schema_version'], String(SCHEMA_VERSION));
    assert.deepEqual(db.exec('SELECT DISTINCT typeof(fingerprint), typeof(output_hash) FROM targets')[0]!.values, [['blob', 'blob']]);
    assert.equal(db.exec('SELECT COUNT(*) FROM component_sets')[0]!.values[0]![0], 1);
    db.close();
    // explain still names every component, recorded as it was.
    const e = JSON.parse((await runCli(dir, ['explain', 'Virginia:Hampden-Sydney College:1851:3', '--json'], { env })).stdout);
    assert.equal(e.state, 'fresh');
    for (const [name, c] of Object.entries(e.components as Record<string, { recorded: string | null; current: string | null }>)) {
      assert.equal(c.recorded, c.current, `component ${name}`);
    }
    assert.ok(e.components.context.recorded, 'a page with a predecessor has a context');
    assert.ok(!old.equals(fs.readFileSync(path.join(dir, '.ocrcache/state.sqlite'))), 'the old snapshot was folded into a new one');
    assert.equal(fake.counters.requests, 0);
  } finally {
    await fake.close();
  }
});
