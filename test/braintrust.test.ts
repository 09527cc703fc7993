// Braintrust tracing, end to end: the real CLI builds against the fake Gemini server (so records carry
// prompts, tokens and batches, and scripted faults make some fail) while the real braintrust SDK logs to a
// fake Braintrust endpoint (test/fake-braintrust.ts). Also: tracing off says so once and sends nothing,
// never even loading the package; and a Braintrust that is down does not hold a build up.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, test } from 'node:test';
import { closedPortUrl, startFakeBraintrust, type BtRow } from './fake-braintrust.js';
import { eventsOf, expectExit, geminiEnv, withFake } from './util/gemini-rig.js';
import { makeProject, runCli, type CliResult, tempDir } from './util/rig.js';
import type { FakeGemini } from './fake-gemini/index.js';

const GEMINI_KEY = 'gm-secret-4711-do-not-log';
const BT_KEY = 'bt-secret-0815-api-key';
const PROJECT = 'ocrmake-tests';
/** Scripted faults: a page answered off-schema every time (dead after 3 attempts), and two that fail once. */
const DEAD = 'Virginia:Hampden-Sydney College:1851:4';
const ERROR_ONCE = 'California:College of California:1860:3';
const MALFORMED_ONCE = 'Alabama:Howard College:1849:2';

/**
 * A module-resolution hook for the CLI child that appends every URL under node_modules/braintrust to a
 * file: how the tests see whether the package was loaded at all.
 */
function loadProbe(): { env: Record<string, string>; loaded: () => string[] } {
  const dir = tempDir('ocrmake-bt-probe-');
  const mark = path.join(dir, 'loaded.txt');
  fs.writeFileSync(
    path.join(dir, 'hooks.mjs'),
    `import fs from 'node:fs';\nexport async function resolve(s, c, next) {\n  const r = await next(s, c);\n` +
      `  if (r.url.includes('/node_modules/braintrust/')) fs.appendFileSync(${JSON.stringify(mark)}, r.url + '\\n');\n  return r;\n}\n`,
  );
  fs.writeFileSync(path.join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(path.join(dir, 'hooks.mjs')).href)});\n`);
  return {
    env: { NODE_OPTIONS: `--import=${pathToFileURL(path.join(dir, 'register.mjs')).href}` },
    loaded: () => (fs.existsSync(mark) ? fs.readFileSync(mark, 'utf8').split('\n').filter(Boolean) : []),
  };
}

function build(dir: string, fake: FakeGemini, env: Record<string, string>, args: string[] = []): Promise<CliResult> {
  return runCli(dir, ['build', '--json', '--poll-seconds', '0.05', ...args], { env: { ...geminiEnv(fake), GEMINI_API_KEY: GEMINI_KEY, ...env } });
}

const notices = (r: CliResult) => eventsOf(r, 'notice').map((e) => e.message as string).filter((m) => /Braintrust/.test(m));

describe('Braintrust tracing', () => {
  test('one merged row per record: input, output, metadata, error fields and metrics', async () => {
    const bt = await startFakeBraintrust();
    const probe = loadProbe();
    try {
      await withFake(async (fake) => {
        fake.faults.record(DEAD, 'schema', 'always');
        fake.faults.record(ERROR_ONCE, 'error', 1);
        fake.faults.record(MALFORMED_ONCE, 'malformed', 1);
        const dir = makeProject();
        const r = await build(dir, fake, { BRAINTRUST_API_KEY: BT_KEY, BRAINTRUST_PROJECT: PROJECT, BRAINTRUST_APP_URL: bt.url, ...probe.env });
        const s = expectExit(r, 1);
        assert.equal(s['built'], 11);
        assert.equal(s['failed'], 5, '3 schema errors, 1 api error, 1 json error');
        assert.equal(s['dead'], 1);
        assert.deepEqual(notices(r), [`Braintrust tracing is on: one span per request in project "${PROJECT}".`]);
        assert.equal(r.events.at(-1)?.event, 'summary', 'the summary stays the last event');
        assert.ok(probe.loaded().length > 0, 'the probe sees the braintrust package load when tracing is on');

        const rows = bt.rows();
        assert.equal(rows.length, s['built'] + s['failed'], 'one row per record');
        assert.deepEqual([...bt.projects.keys()], [PROJECT]);
        assert.deepEqual(bt.unknown, []);
        const byKey = new Map<string, BtRow[]>();
        for (const row of rows) byKey.set(row['input'].key, [...(byKey.get(row['input'].key) ?? []), row]);
        assert.equal(byKey.size, 12);

        for (const row of rows) {
          const key: string = row['input'].key;
          const [state, school, year, page] = key.split(':');
          assert.equal(row['span_attributes']?.name, `page ${key}`);
          assert.equal(row['span_attributes']?.type, 'llm');
          assert.equal(row['project_id'], 'proj-1');
          assert.equal(row['log_id'], 'g');
          // input: key, rendered prompt, previous context, generation config
          assert.match(row['input'].prompt, new RegExp(`This page belongs to ${school} \\(${state}\\), catalogue of ${year}, page ${page} of the scan`));
          assert.deepEqual(row['input'].generation_config, { maxOutputTokens: 8192, thinkingConfig: { thinkingLevel: 'low' } });
          const first = key === 'Alabama:Howard College:1849:1' || key === 'California:College of California:1860:3' || key === 'California:College of California:1860:12' || key === 'Virginia:Hampden-Sydney College:1851:1';
          if (first) assert.equal(row['input'].previous_context, null, `${key} has no previous page`);
          else assert.match(row['input'].previous_context, /^LAST_500_CHARS:\n[^]*\n\nLAST_3_COURSES:\n/, `${key} carries its previous page's context, in the original pipeline's format`);
          // metadata: batch, wildcard values, model, prompt file, fingerprint, engine
          assert.deepEqual(row['metadata'].vars, { state, school, year, page });
          assert.equal(row['metadata'].engine, 'gemini-batch');
          assert.equal(row['metadata'].model, 'gemini-3.8-flash');
          assert.equal(row['metadata'].prompt_file, 'prompts/page_ocr/v1.ejs');
          assert.match(row['metadata'].fingerprint, /^[0-9a-f]{64}$/);
          assert.match(row['metadata'].batch, /^batches\/[a-z0-9]+$/);
          // ...and the original pipeline's names beside ours, so its Braintrust queries keep working.
          assert.equal(row['input'].page_id, key);
          assert.deepEqual([row['metadata'].state, row['metadata'].school, row['metadata'].year, row['metadata'].page], [state, school, Number(year), Number(page)]);
          assert.equal(row['metadata'].batch_id, row['metadata'].batch);
          assert.deepEqual([row['metadata'].prompt_name, row['metadata'].prompt_template], ['page_ocr', 'v1.ejs']);
          // metrics: attempt, tokens, latency; the span lasts as long as the request did
          const m = row['metrics'];
          assert.ok(m.attempt >= 1);
          assert.equal(m.tokens, m.prompt_tokens + m.completion_tokens);
          assert.ok(typeof m.latency === 'number' && m.latency >= 0);
          assert.ok(Math.abs(m.end - m.start - m.latency) < 0.01, 'span start/end = sent/answered');
          if (row['scores'].success === 1) {
            assert.equal(row['error'], undefined);
            assert.ok(Array.isArray(row['output']?.raw_ocr?.text_blocks), `${key}: the validated output`);
            assert.ok(m.prompt_tokens > 0 && m.completion_tokens > 0);
          } else {
            assert.equal(row['scores'].success, 0);
            assert.equal(row['output'], null);
            assert.equal(typeof row['error'].message, 'string');
            assert.equal(typeof row['error'].raw_response, 'string');
          }
        }
        const sorted = (key: string) => byKey.get(key)!.sort((a, b) => a['metrics'].attempt - b['metrics'].attempt || Number(b['scores'].success) - Number(a['scores'].success));
        assert.deepEqual(sorted(DEAD).map((x) => [x['error']?.class, x['metrics'].attempt]), [['schema-error', 1], ['schema-error', 2], ['schema-error', 3]]);
        assert.deepEqual(sorted(ERROR_ONCE).map((x) => [x['error']?.class ?? 'ok', x['metrics'].attempt]), [['api-error', 1], ['ok', 2]]);
        assert.equal(sorted(ERROR_ONCE)[0]!['error'].code, '13');
        assert.deepEqual(sorted(MALFORMED_ONCE).map((x) => [x['error']?.class ?? 'ok', x['metrics'].attempt]), [['json-error', 1], ['ok', 2]]);
        assert.equal(rows.reduce((n, x) => n + x['metrics'].prompt_tokens, 0), s['tokensIn'], 'the spans carry every billed prompt token');
        assert.equal(rows.reduce((n, x) => n + x['metrics'].completion_tokens, 0), s['tokensOut']);

        // Secrets: Braintrust sees its own key in the header and nowhere else; never the Gemini key.
        for (const req of bt.requests) {
          assert.equal(req.authorization, `Bearer ${BT_KEY}`);
          assert.ok(!req.body.includes(GEMINI_KEY) && !req.body.includes(BT_KEY), `${req.method} ${req.path} carries no key`);
        }
        assert.ok(!r.stdout.includes(GEMINI_KEY) && !r.stderr.includes(GEMINI_KEY) && !r.stdout.includes(BT_KEY));
      });
    } finally {
      await bt.close();
    }
  });

  test('off without a key or a project: one notice, no request, the package never loaded', async () => {
    const bt = await startFakeBraintrust();
    try {
      await withFake(async (fake) => {
        const dir = makeProject({ books: ['Alabama/Howard College/1849'] });
        const probe = loadProbe();
        const noKey = await build(dir, fake, { BRAINTRUST_PROJECT: PROJECT, BRAINTRUST_APP_URL: bt.url, ...probe.env });
        expectExit(noKey, 0);
        assert.deepEqual(notices(noKey), ['Braintrust tracing is off: BRAINTRUST_API_KEY is not set.']);
        assert.deepEqual(probe.loaded(), [], 'braintrust is not loaded');
        const human = await runCli(dir, ['build', '--force', '--poll-seconds', '0.05'], { env: { ...geminiEnv(fake), BRAINTRUST_PROJECT: PROJECT, BRAINTRUST_APP_URL: bt.url } });
        assert.equal(human.code, 0);
        assert.equal(`${human.stdout}${human.stderr}`.split('\n').filter((l) => /braintrust/i.test(l)).length, 1, 'exactly one line about Braintrust');
        assert.match(human.stdout, /^\d\d:\d\d:\d\d Braintrust tracing is off: BRAINTRUST_API_KEY is not set\.$/m);

        const noProject = await build(dir, fake, { BRAINTRUST_API_KEY: BT_KEY, BRAINTRUST_APP_URL: bt.url, ...probe.env }, ['--force']);
        expectExit(noProject, 0);
        assert.deepEqual(notices(noProject), ['Braintrust tracing is off: no project: set BRAINTRUST_PROJECT (or BRAINTRUST_PROJECT_NAME), or braintrust: { project } in the ocrfile.']);
        assert.deepEqual(probe.loaded(), []);
        assert.equal(bt.requests.length, 0, 'no request reached Braintrust');

        // The ocrfile names the project: tracing is on with BRAINTRUST_API_KEY alone.
        const ocrfile = path.join(dir, 'ocrfile.ts');
        fs.writeFileSync(ocrfile, fs.readFileSync(ocrfile, 'utf8').replace("engine: 'auto',", "engine: 'auto',\n  braintrust: { project: 'from-the-ocrfile' },"));
        const fromOcrfile = await build(dir, fake, { BRAINTRUST_API_KEY: BT_KEY, BRAINTRUST_APP_URL: bt.url }, ['--force']);
        const s = expectExit(fromOcrfile, 0);
        assert.deepEqual([...bt.projects.keys()], ['from-the-ocrfile']);
        assert.equal(bt.rows().length, s['built']);

        // The original pipeline's variable names the project too, and wins over the ocrfile.
        const original = await build(dir, fake, { BRAINTRUST_API_KEY: BT_KEY, BRAINTRUST_PROJECT_NAME: 'from-the-original', BRAINTRUST_APP_URL: bt.url }, ['--force']);
        expectExit(original, 0);
        assert.deepEqual(notices(original), ['Braintrust tracing is on: one span per request in project "from-the-original".']);
        assert.ok(bt.projects.has('from-the-original'));
      });
    } finally {
      await bt.close();
    }
  });

  test('Braintrust down: the build completes, warns once, and takes only seconds longer', async (t) => {
    const down = await closedPortUrl();
    await withFake(async (fake) => {
      const timed = async (env: Record<string, string>) => {
        const dir = makeProject();
        const started = Date.now();
        const r = await build(dir, fake, env);
        return { r, ms: Date.now() - started };
      };
      const off = await timed({});
      const on = await timed({ BRAINTRUST_API_KEY: BT_KEY, BRAINTRUST_PROJECT: PROJECT, BRAINTRUST_APP_URL: down });
      const sOff = expectExit(off.r, 0), sOn = expectExit(on.r, 0);
      assert.equal(sOn['built'], 12);
      assert.equal(sOn['built'], sOff['built']);
      const warnings = eventsOf(on.r, 'warning').map((w) => w.message as string);
      assert.equal(warnings.length, 1, warnings.join('\n'));
      assert.match(warnings[0]!, new RegExp(`^Braintrust \\(${down.replaceAll('.', '\\.')}\\) did not take every span \\(.+\\); some of the 12 spans of this run may be missing\\. The build is not affected\\.$`));
      assert.ok(!warnings[0]!.includes(BT_KEY) && !warnings[0]!.includes(GEMINI_KEY));
      assert.equal(on.r.events.at(-1)?.event, 'summary');
      t.diagnostic(`build with Braintrust off: ${off.ms} ms; with Braintrust down: ${on.ms} ms (difference ${on.ms - off.ms} ms)`);
      // "A few seconds at most": a down Braintrust must not add its retries and timeouts (tens of seconds) to
      // the build. The bound grows with the machine's pace (the build without Braintrust), so a busy machine
      // makes it looser, never wrong.
      assert.ok(on.ms - off.ms < 5000 + off.ms, `Braintrust down cost ${on.ms - off.ms} ms more than off (${off.ms} ms)`);
    });
  });
});
