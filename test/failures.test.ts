// `ocrmake failures`, `ocrmake retry` and explain's attempts, on failures produced for real: the CLI builds
// against the fake Gemini server with per-record faults until pages are failed or dead.
//
// The story: a first build with maxAttempts 1 leaves Alabama page 2 (malformed JSON) and Virginia page 4
// (MAX_TOKENS) dead after one attempt each. Raising maxAttempts to 3 turns both into `failed` (1/3). A second
// build of Alabama page 2 alone, now answered with schema-invalid JSON, kills it (3/3); Virginia page 4 stays
// failed. So the log holds 4 rows of 3 classes, one page is dead and one failed.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadGroundTruth, startFakeGemini, type FakeGemini } from './fake-gemini/index.js';
import { makeProject, REPO, runCli, summaryOf, type CliResult } from './util/rig.js';

const BOOKS = ['Alabama/Howard College/1849', 'Virginia/Hampden-Sydney College/1851'];
const DEAD = 'Alabama:Howard College:1849:2';
const DEAD_OUT = 'dataset/output_results/Alabama/Howard College/1849/2.json';
const FAILED = 'Virginia:Hampden-Sydney College:1851:4';
const CSV_COLUMNS = ['key', 'fingerprint', 'class', 'code', 'message', 'stack', 'raw_response', 'extracted_text', 'engine', 'model', 'prompt_file', 'prompt_hash', 'generation_config', 'batch', 'attempt', 'at'];

/** RFC 4180: CRLF records, fields in double quotes may hold commas, CR, LF and doubled quotes. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [], field = '', quoted = false, i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), (i += 2);
      else if (c === '"') (quoted = false), i++;
      else (field += c), i++;
    } else if (c === '"') (quoted = true), i++;
    else if (c === ',') row.push(field), (field = ''), i++;
    else if (c === '\r' && text[i + 1] === '\n') row.push(field), rows.push(row), (row = []), (field = ''), (i += 2);
    else if (c === '\n' || c === '\r') throw new Error(`bare line break at ${i}: records must end with CRLF`);
    else (field += c), i++;
  }
  assert.equal(field, '', 'the last record ends with CRLF');
  assert.equal(row.length, 0, 'the last record ends with CRLF');
  return rows;
}

describe('ocrmake failures and retry against the fake Gemini server', () => {
  let fake: FakeGemini;
  let dir: string;
  let env: Record<string, string>;
  const cli = (...args: string[]) => runCli(dir, args, { env });
  const build = (...args: string[]) => cli('build', '--json', '--poll-seconds', '0.05', ...args);
  const json = (r: CliResult) => {
    assert.equal(r.code, 0, `exit ${r.code}\n${r.stdout}\n${r.stderr}`);
    return JSON.parse(r.stdout);
  };

  before(async () => {
    // The fake's clock starts now so uploads are reused as they would be against Google.
    fake = await startFakeGemini({ groundTruth: await loadGroundTruth(path.join(REPO, 'dataset')), startTime: Date.now() });
    env = { GEMINI_API_KEY: 'test-key', GOOGLE_GEMINI_BASE_URL: fake.url, OCRMAKE_RETRY_BASE_MS: '20' };
    dir = makeProject({ books: BOOKS });
    const ocrfile = path.join(dir, 'ocrfile.ts');
    fs.writeFileSync(ocrfile, fs.readFileSync(ocrfile, 'utf8').replace('maxAttempts: 3', 'maxAttempts: 1'));

    fake.faults.record(DEAD, 'malformed', 'always');
    fake.faults.record(FAILED, 'max-tokens', 'always');
    const first = await build();
    assert.equal(first.code, 1, first.stderr);
    const s1 = summaryOf(first);
    assert.equal(s1['dead'], 2);
    assert.equal(s1['built'], 4); // Alabama 1 and Virginia 1-3; Alabama 3-4 wait behind the dead page 2
    assert.equal(s1['blocked'], 2);

    fs.writeFileSync(ocrfile, fs.readFileSync(ocrfile, 'utf8').replace('maxAttempts: 1', 'maxAttempts: 3'));
    fake.faults.clear();
    fake.faults.record(DEAD, 'schema', 'always');
    const second = await build(DEAD);
    assert.equal(second.code, 1, second.stderr);
    const fails = second.events.filter((e) => e.event === 'failed');
    assert.deepEqual(fails.map((e) => [e.key, e.class, e.attempt, e.dead]), [[DEAD, 'schema-error', 2, false], [DEAD, 'schema-error', 3, true]]);
  });

  after(async () => {
    await fake?.close();
  });

  test('explain shows attempts and the last error of a dead and of a failed page', async () => {
    const dead = json(await cli('explain', DEAD, '--json'));
    assert.equal(dead.state, 'dead');
    assert.equal(dead.attempts, 3);
    assert.equal(dead.lastError.class, 'schema-error');
    assert.match(dead.lastError.message, /the reply does not match the rule's schema/);
    const failed = json(await cli('explain', FAILED, '--json'));
    assert.equal(failed.state, 'failed');
    assert.equal(failed.attempts, 1);
    assert.equal(failed.lastError.class, 'truncated');
    const human = await cli('explain', FAILED);
    assert.match(human.stdout, /^Virginia:Hampden-Sydney College:1851:4: failed \(1 failed attempt\(s\); last: truncated: .+\)$/m);
    assert.match(human.stdout, /^ {2}attempts {5}1; last error truncated: .+ \(\d{4}-\d\d-\d\dT[\d:.]+Z\)$/m);
    const humanDead = await cli('explain', DEAD_OUT);
    assert.match(humanDead.stdout, /^Alabama:Howard College:1849:2: dead \(3 failed attempts; last: schema-error: /m);
    assert.match(humanDead.stdout, /^ {2}attempts {5}3; last error schema-error: the reply does not match the rule's schema/m);
  });

  test('failures: a summary by class, then the pages failed or dead now', async () => {
    const r = await cli('failures');
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    assert.equal(lines[0], '4 failed attempts on 2 pages recorded; now 1 failed, 1 dead (at most 3 attempts per request)');
    assert.match(r.stdout, /^CLASS +ATTEMPTS +PAGES +FAILED +DEAD$/m);
    assert.match(r.stdout, /^schema-error +2 +1 +0 +1$/m);
    assert.match(r.stdout, /^json-error +1 +1 +0 +0$/m);
    assert.match(r.stdout, /^truncated +1 +1 +1 +0$/m);
    assert.match(r.stdout, /^failed or dead now:$/m);
    assert.match(r.stdout, /^ {2}dead +3\/3 +Alabama:Howard College:1849:2 +schema-error: the reply does not match the rule's schema/m);
    assert.match(r.stdout, /^ {2}failed +1\/3 +Virginia:Hampden-Sydney College:1851:4 +truncated: /m);
    assert.doesNotMatch(r.stdout, /and \d+ more/);
  });

  test('failures --limit N lists N pages failed or dead now, and with a key the newest N attempts', async () => {
    const r = await cli('failures', '--limit', '1');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ {2}dead +3\/3 +Alabama:Howard College:1849:2 /m);
    assert.doesNotMatch(r.stdout, /Virginia:Hampden-Sydney College:1851:4/);
    assert.match(r.stdout, /^ {2}… and 1 more \(--limit 2 lists them all; --json has them too\)$/m);
    assert.equal(json(await cli('failures', '--json', '--limit', '1')).current.length, 1);
    assert.equal(json(await cli('failures', '--json')).current.length, 2, 'JSON has every page unless --limit is given');
    const h = await cli('failures', DEAD, '--limit', '1');
    assert.match(h.stdout, /3 failed attempts recorded, 3 for the current request; the newest 1 shown \(--limit\)/);
    assert.match(h.stdout, /^ {2}3\. \S+ {2}[a-z-]+ {2}attempt 3$/m);
    assert.doesNotMatch(h.stdout, /^ {2}[12]\. /m);
    const bad = await cli('failures', '--limit', '-1');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--limit must be a whole number, 0 or more/);
  });

  test('failures --json: totals, groups and the current failures', async () => {
    const out = json(await cli('failures', '--json'));
    assert.equal(out.by, 'class');
    assert.equal(out.maxAttempts, 3);
    assert.deepEqual(out.totals, { failures: 4, pages: 2, failed: 1, dead: 1 });
    assert.deepEqual(
      out.groups.map((g: any) => [g.group, g.failures, g.pages, g.failed, g.dead]),
      [['schema-error', 2, 1, 0, 1], ['json-error', 1, 1, 0, 0], ['truncated', 1, 1, 1, 0]],
    );
    assert.deepEqual(out.current.map((c: any) => [c.key, c.state, c.attempts, c.lastError.class]), [[DEAD, 'dead', 3, 'schema-error'], [FAILED, 'failed', 1, 'truncated']]);
    assert.equal(out.current[0].output, DEAD_OUT);
    const batches = new Set(fake.batches().map((b) => b.name));
    for (const c of out.current) assert.ok(batches.has(c.lastError.batch), `${c.lastError.batch} is a batch the fake made`);
  });

  test('failures --by state and --by chain group by a wildcard and by book', async () => {
    const byState = json(await cli('failures', '--by', 'state', '--json'));
    assert.equal(byState.by, 'state');
    assert.deepEqual(
      byState.groups.map((g: any) => [g.group, g.failures, g.pages, g.failed, g.dead, g.classes]),
      [['Alabama', 3, 1, 0, 1, { 'json-error': 1, 'schema-error': 2 }], ['Virginia', 1, 1, 1, 0, { truncated: 1 }]],
    );
    const text = await cli('failures', '--by', 'state');
    assert.match(text.stdout, /^STATE +ATTEMPTS +PAGES +FAILED +DEAD +CLASSES$/m);
    assert.match(text.stdout, /^Alabama +3 +1 +0 +1 +schema-error 2, json-error 1$/m);
    const byChain = json(await cli('failures', '--by', 'chain', '--json'));
    assert.deepEqual(byChain.groups.map((g: any) => g.group), ['Alabama:Howard College:1849', 'Virginia:Hampden-Sydney College:1851']);
    const bad = await cli('failures', '--by', 'colour');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--by colour: there is no such grouping\n {2}Group by class, chain, or a wildcard of this collection: state, school, year, page\./);
  });

  test('failures <key> prints the page\'s whole history; --verbose adds the raw reply; --json has every field', async () => {
    const r = await cli('failures', DEAD);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Alabama:Howard College:1849:2: dead, 3 of 3 attempts used on the current request$/m);
    assert.match(r.stdout, /^ {2}3 failed attempts recorded, 3 for the current request$/m);
    const heads = [...r.stdout.matchAll(/^ {2}(\d)\. (\S+) {2}(\S+) {2}attempt (\d)$/gm)].map((m) => [m[1], m[3], m[4]]);
    assert.deepEqual(heads, [['1', 'json-error', '1'], ['2', 'schema-error', '2'], ['3', 'schema-error', '3']]);
    assert.match(r.stdout, /^ {5}model {4}gemini-3\.8-flash \(gemini-batch\)$/m);
    assert.match(r.stdout, /^ {5}prompt {3}prompts\/page_ocr\/v1\.ejs, rendered [0-9a-f]{12}$/m);
    assert.match(r.stdout, /^ {5}batch {4}batches\/\S+$/m);
    assert.doesNotMatch(r.stdout, /^ {5}response/m);

    const byPath = await cli('failures', DEAD_OUT);
    assert.equal(byPath.stdout, r.stdout, 'the output path selects the same page');

    const v = await cli('failures', DEAD, '--verbose');
    assert.match(v.stdout, /^ {5}config {3}\{"maxOutputTokens":8192,"thinkingConfig":\{"thinkingLevel":"low"\}\}$/m);
    assert.match(v.stdout, /^ {5}response {1}\{"candidates":/m);
    assert.match(v.stdout, /^ {5}text {5}\{"raw_ocr":/m);

    const h = json(await cli('failures', DEAD, '--json'));
    assert.equal(h.pages.length, 1);
    const page = h.pages[0];
    assert.equal(page.key, DEAD);
    assert.equal(page.state, 'dead');
    assert.equal(page.attempts, 3);
    assert.equal(page.history.length, 3);
    const [first, second] = page.history;
    assert.equal(first.class, 'json-error');
    assert.ok(first.rawResponse.startsWith('{"candidates":'), 'the raw response of the malformed reply is kept');
    assert.ok(first.extractedText.startsWith('{"raw_ocr":'));
    assert.equal(second.class, 'schema-error');
    for (const e of page.history) {
      assert.equal(e.currentRequest, true);
      assert.equal(e.engine, 'gemini-batch');
      assert.equal(e.promptFile, 'prompts/page_ocr/v1.ejs');
      assert.match(e.promptHash, /^[0-9a-f]{64}$/);
      assert.match(e.fingerprint, /^[0-9a-f]{64}$/);
    }
    // A page with no failures says so.
    const clean = await cli('failures', 'Alabama:Howard College:1849:1');
    assert.equal(clean.stdout, 'Alabama:Howard College:1849:1: fresh; no failed attempts recorded\n');
  });

  test('failures --csv writes every failure-log row with all its columns (RFC 4180)', async () => {
    const r = await cli('failures', '--csv', 'failures.csv');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `wrote 4 failure-log rows (${CSV_COLUMNS.length} columns) to failures.csv\n`);
    const rows = parseCsv(fs.readFileSync(path.join(dir, 'failures.csv'), 'utf8'));
    assert.deepEqual(rows[0], CSV_COLUMNS);
    const body = rows.slice(1).map((cells) => {
      assert.equal(cells.length, CSV_COLUMNS.length);
      return Object.fromEntries(CSV_COLUMNS.map((c, i) => [c, cells[i]!]));
    });
    assert.deepEqual(body.map((x) => [x['key'], x['class'], x['attempt']]), [[DEAD, 'json-error', '1'], [FAILED, 'truncated', '1'], [DEAD, 'schema-error', '2'], [DEAD, 'schema-error', '3']]);
    // Quoting round-trips: the raw reply (quotes, commas) reads back exactly as --json gives it.
    const history = json(await cli('failures', DEAD, '--json')).pages[0].history;
    assert.equal(body[0]!['raw_response'], history[0].rawResponse);
    assert.equal(body[0]!['extracted_text'], history[0].extractedText);
    assert.equal(body[2]!['message'], history[1].message);
    assert.equal(body[0]!['generation_config'], '{"maxOutputTokens":8192,"thinkingConfig":{"thinkingLevel":"low"}}');
    assert.equal(body[0]!['model'], 'gemini-3.8-flash');
    assert.equal(body[0]!['code'], '');
    // With a selector, only that page's rows.
    await cli('failures', FAILED, '--csv', 'one.csv');
    assert.equal(parseCsv(fs.readFileSync(path.join(dir, 'one.csv'), 'utf8')).length, 2);
  });

  test('retry --dry-run lists what it would reset and changes nothing', async () => {
    const cache = path.join(dir, '.ocrcache/state.sqlite');
    const before = fs.readFileSync(cache);
    const r = await cli('retry', '--dry-run');
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 3, r.stdout);
    assert.match(lines[0]!, /^would reset {2}Alabama:Howard College:1849:2 {11}dead, 3\/3 attempts; last schema-error: /);
    assert.match(lines[1]!, /^would reset {2}Virginia:Hampden-Sydney College:1851:4 {2}failed, 1\/3 attempts; last truncated: /);
    assert.equal(lines[2], 'dry run: 2 pages would be reset; nothing was changed');
    assert.ok(fs.readFileSync(cache).equals(before), 'the cache is untouched');
    const e = json(await cli('explain', DEAD, '--json'));
    assert.equal(e.attempts, 3);
    assert.equal(e.state, 'dead');
  });

  test('retry takes the project lock', async () => {
    const lock = path.join(dir, '.ocrcache/lock');
    fs.writeFileSync(lock, JSON.stringify({ pid: process.pid, command: 'build', startedAt: new Date().toISOString() }));
    try {
      const r = await cli('retry', DEAD);
      assert.equal(r.code, 3);
      assert.match(r.stderr, new RegExp(`another ocrmake is running in this project: pid ${process.pid}`));
      assert.equal(json(await cli('explain', DEAD, '--json')).attempts, 3);
      assert.equal((await cli('retry', DEAD, '--dry-run')).code, 0, 'a dry run only reads');
    } finally {
      fs.rmSync(lock, { force: true });
    }
  });

  test('retry <key> resets that page only, keeps the log, and the next build builds it', async () => {
    const bad = await cli('retry', 'Alabama:Nowhere:1849:2');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /"Alabama:Nowhere:1849:2" matches no page/);

    const r = await cli('retry', DEAD);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^reset {8}Alabama:Howard College:1849:2 {2}dead, 3\/3 attempts; last schema-error: .+\n1 page reset: the next build tries it again \(ocrmake failures keeps the history\)\n$/);
    const e = json(await cli('explain', DEAD, '--json'));
    assert.equal(e.state, 'stale');
    assert.equal(e.attempts, 0);
    assert.equal(e.lastError.class, 'schema-error', 'explain still names the last error from the log');
    assert.equal(json(await cli('explain', FAILED, '--json')).attempts, 1, 'the other page keeps its counter');
    const f = json(await cli('failures', '--json'));
    assert.equal(f.totals.failures, 4, 'the failure log is history: nothing was deleted');
    assert.deepEqual(f.current.map((c: any) => c.key), [FAILED]);
    assert.equal(json(await cli('failures', DEAD, '--json')).pages[0].history.length, 3);
    assert.equal((await cli('retry', DEAD)).stdout, 'nothing to reset: none of the 1 selected page has failed attempts on its current request\n');

    fake.faults.clear();
    fake.resetCounters();
    const b = await build('state=Alabama');
    assert.equal(b.code, 0, b.stderr);
    const built = b.events.filter((x) => x.event === 'built').map((x) => x.key);
    assert.deepEqual(built, [DEAD, 'Alabama:Howard College:1849:3', 'Alabama:Howard College:1849:4']);
    assert.equal(fake.counters.records, 3, 'one request per page');
    assert.equal(json(await cli('explain', DEAD, '--json')).state, 'fresh');
  });

  test('retry with no selectors resets every failed or dead page', async () => {
    const r = await cli('retry', '--json');
    const out = json(r);
    assert.equal(out.reset[0].lastError.class, 'truncated');
    assert.deepEqual(out, { dryRun: false, reset: [{ key: FAILED, state: 'failed', attempts: 1, lastError: out.reset[0].lastError, counters: 1 }], total: 1 });
    const again = await cli('retry');
    assert.equal(again.stdout, 'nothing to reset: no page has failed attempts on its current request\n');
    const f = await cli('failures');
    assert.match(f.stdout, /^4 failed attempts on 2 pages recorded; now 0 failed, 0 dead/);
    assert.doesNotMatch(f.stdout, /failed or dead now/);
  });
});
