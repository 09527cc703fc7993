// The API key never leaves the process (DESIGN §7: "API keys and other secrets are never written to the
// cache, the logs or reports"). A distinctive key goes to the fake Gemini server through builds that succeed,
// builds with per-record failures, a 400 on batch create, a dropped connection, an auth failure
// (API_KEY_INVALID: the fake expects another key), the interactive engine, and the reading commands (status,
// explain, failures with --verbose and --csv, retry). Then every byte the CLI printed and every file under
// the projects (outputs, .ocrcache/ with state.sqlite and the gunzipped result store) is searched for it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { ResultStore } from '../src/cache/objects.js';
import { loadGroundTruth, startFakeGemini } from './fake-gemini/index.js';
import { makeProject, REPO, runCli, type CliResult } from './util/rig.js';

const KEY = 'sk-test-SECRET-12345';
/** The key and recognisable pieces and encodings of it: a truncated or encoded copy is a leak too. */
const NEEDLES = [KEY, 'SECRET-12345', Buffer.from(KEY).toString('base64').slice(0, 20), encodeURIComponent(KEY), KEY.split('').reverse().join('')];
const BOOKS = ['Alabama/Howard College/1849', 'Virginia/Hampden-Sydney College/1851'];

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

/** Every place in `text` where a needle occurs, with some context, or []. */
function leaks(where: string, bytes: Buffer): string[] {
  const out: string[] = [];
  for (const form of [bytes.toString('utf8'), bytes.toString('latin1'), bytes.toString('utf16le')]) {
    for (const n of NEEDLES) {
      const i = form.indexOf(n);
      if (i >= 0) out.push(`${where}: …${form.slice(Math.max(0, i - 60), i + n.length + 20)}…`);
    }
  }
  return out;
}

test('the Gemini API key appears in no output, log, cache or result file', async (t) => {
  const groundTruth = await loadGroundTruth(path.join(REPO, 'dataset'));
  const good = await startFakeGemini({ groundTruth, apiKey: KEY, startTime: Date.now() });
  const wrong = await startFakeGemini({ groundTruth, apiKey: 'other', startTime: Date.now() });
  const runs: Array<{ what: string; r: CliResult }> = [];
  const projects: Array<{ dir: string; skip: string[] }> = [];
  try {
    const dir = makeProject({ books: BOOKS });
    projects.push({ dir, skip: [] });
    const env = { GEMINI_API_KEY: KEY, GOOGLE_GEMINI_BASE_URL: good.url, OCRMAKE_RETRY_BASE_MS: '20' };
    const cli = async (what: string, args: string[], e = env) => {
      const r = await runCli(dir, args, { env: e });
      runs.push({ what, r });
      return r;
    };
    const build = (what: string, ...args: string[]) => cli(what, ['build', '--json', '--poll-seconds', '0.05', ...args]);

    // Failures of every kind the fake can give, with their raw replies in the failure log.
    good.faults.record('Alabama:Howard College:1849:2', 'malformed', 'always');
    good.faults.record('Virginia:Hampden-Sydney College:1851:2', 'safety', 1);
    good.faults.record('Virginia:Hampden-Sydney College:1851:3', 'error', 1);
    good.faults.record('Virginia:Hampden-Sydney College:1851:4', 'max-tokens', 1);
    const first = await build('a build with record faults');
    assert.equal(first.code, 1, first.stderr);
    assert.ok(first.events.some((e) => e.event === 'failed' && e.class === 'json-error'));
    assert.ok(first.events.some((e) => e.event === 'built'));

    good.faults.clear();
    good.faults.route('create', '400', 1);
    await cli('retry after the record faults', ['retry']);
    const rejected = await build('a build whose batch create is rejected (400)', 'state=Alabama');
    assert.ok(rejected.events.some((e) => e.event === 'failed' && /could not be created/.test(e.message)), rejected.stdout);
    good.faults.route('upload_start', 'destroy', 1);
    good.faults.route('batch_get', '503', 2);
    await cli('a plain-text build with a dropped connection and 503s', ['build', '--poll-seconds', '0.05']);

    // The wrong key: every call is refused with API_KEY_INVALID.
    const denied = await cli('a build with an invalid key (batch)', ['build', '--json', '--poll-seconds', '0.05', '--force', 'Alabama:Howard College:1849:1'], { ...env, GOOGLE_GEMINI_BASE_URL: wrong.url });
    assert.ok(wrong.counters.auth_failures > 0, 'the fake refused the key');
    assert.match(denied.stdout + denied.stderr, /API key not valid/);
    // --force: the page is fresh for the interactive engine too (the same request as the batch's).
    const deniedInteractive = await cli('a build with an invalid key (interactive)', ['build', '--json', '--engine', 'gemini', '--force', 'Alabama:Howard College:1849:1'], { ...env, GOOGLE_GEMINI_BASE_URL: wrong.url });
    assert.match(deniedInteractive.stdout + deniedInteractive.stderr, /API key not valid/);
    good.faults.record((r) => r.key === undefined, 'schema', 1);
    await cli('an interactive build with a schema failure', ['build', '--json', '--engine', 'gemini', '--force', 'Alabama:Howard College:1849:2']);

    // The reading and repairing commands.
    await cli('status', ['status']);
    await cli('status --all --json', ['status', '--all', '--json']);
    for (const key of ['Alabama:Howard College:1849:1', 'Alabama:Howard College:1849:2', 'Virginia:Hampden-Sydney College:1851:3']) {
      await cli(`explain ${key}`, ['explain', key]);
      await cli(`explain ${key} --json`, ['explain', key, '--json']);
      await cli(`failures ${key} --verbose`, ['failures', key, '--verbose']);
      await cli(`failures ${key} --json`, ['failures', key, '--json']);
    }
    await cli('failures', ['failures']);
    await cli('failures --by chain --json', ['failures', '--by', 'chain', '--json']);
    const csv = await cli('failures --csv', ['failures', '--csv', 'failures.csv']);
    assert.equal(csv.code, 0, csv.stderr);
    await cli('failures --csv -', ['failures', '--csv', '-']);
    await cli('retry --dry-run', ['retry', '--dry-run']);
    await cli('build --dry-run', ['build', '--dry-run']);
    const log = JSON.parse((await cli('failures --json', ['failures', '--json'])).stdout);
    const classes = new Set(log.groups.map((g: { group: string }) => g.group));
    for (const c of ['json-error', 'blocked-response', 'api-error', 'truncated', 'schema-error']) assert.ok(classes.has(c), `the log has a ${c} failure: ${[...classes].join(', ')}`);

    // The key in .env instead of the environment: nothing copies it elsewhere either.
    const dotenvDir = makeProject({ books: ['Alabama/Howard College/1849'], files: { '.env': `GEMINI_API_KEY=${KEY}\nGOOGLE_GEMINI_BASE_URL=${good.url}\n` } });
    projects.push({ dir: dotenvDir, skip: ['.env'] });
    good.faults.record('Alabama:Howard College:1849:3', 'recitation', 1);
    const viaDotenv = await runCli(dotenvDir, ['build', '--json', '--poll-seconds', '0.05'], { env: { OCRMAKE_RETRY_BASE_MS: '20' } });
    runs.push({ what: 'a build with the key in .env', r: viaDotenv });
    assert.equal(viaDotenv.code, 0, viaDotenv.stderr);
    for (const args of [['status', '--all'], ['failures', '--verbose', 'Alabama:Howard College:1849:3'], ['failures', '--csv', 'f.csv']]) {
      runs.push({ what: `.env project: ${args.join(' ')}`, r: await runCli(dotenvDir, args) });
    }

    // The key really was in use: every request to the good fake carried it.
    assert.ok(good.requests.length > 50);
    assert.ok(good.requests.every((r) => r.headers['x-goog-api-key'] === KEY), 'every request carried the key');

    const found: string[] = [];
    for (const { what, r } of runs) {
      found.push(...leaks(`stdout of ${what}`, Buffer.from(r.stdout)), ...leaks(`stderr of ${what}`, Buffer.from(r.stderr)));
    }
    let files = 0, objects = 0;
    for (const { dir: root, skip } of projects) {
      for (const file of walk(root)) {
        const rel = path.relative(root, file);
        if (skip.includes(rel)) continue;
        const bytes = fs.readFileSync(file);
        files++;
        found.push(...leaks(rel, bytes));
        if (rel.endsWith('.gz')) {
          objects++;
          found.push(...leaks(`${rel} (gunzipped)`, gunzipSync(bytes)));
        }
      }
      // Packed objects are gzip inside pack files: searched as the result store gives them back.
      const store = new ResultStore(path.join(root, '.ocrcache'));
      for (const fp of store.list()) {
        const bytes = store.read(fp);
        if (!bytes) continue;
        objects++;
        found.push(...leaks(`result-store object ${fp} (unpacked)`, bytes));
      }
      assert.ok(fs.existsSync(path.join(root, '.ocrcache/state.sqlite')));
    }
    assert.ok(objects > 0, 'the result store was searched');
    t.diagnostic(`searched ${runs.length} command outputs, ${files} files (${objects} result-store objects gunzipped)`);
    assert.deepEqual(found, [], `the API key leaked:\n${found.join('\n')}`);
  } finally {
    await good.close();
    await wrong.close();
  }
});
