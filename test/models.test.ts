// Which model a build asks for, which one answered, and the Gemini 3 request options (mediaResolution,
// thinking): against the fake Gemini server through the real CLI and SDK.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { DEFAULT_MODEL, todayUtc } from '../src/cost/models.js';
import { costOf } from '../src/cost/pricing.js';
import type { FakeGemini } from './fake-gemini/index.js';
import { ALABAMA, buildAgainst, eventsOf, expectExit, explainJson, geminiEnv, keyOf, withFake } from './util/gemini-rig.js';
import { makeProject, runCli } from './util/rig.js';

const RULE = 'rules/page_ocr.ts';
const PAGE = keyOf(ALABAMA, 2);

/** The sample rule with `replace` applied (the line that sets thinking, by default). */
function editRule(dir: string, from: string | RegExp, to: string): void {
  const file = path.join(dir, RULE);
  const text = fs.readFileSync(file, 'utf8');
  const next = text.replace(from, to);
  assert.notEqual(next, text, `the rule contains ${String(from)}`);
  fs.writeFileSync(file, next);
}
const THINKING = "thinking: { level: 'low' },";

/** Every JSONL request line of the batches created since the fake's counters were last reset. */
function sentLines(fake: FakeGemini): Array<{ key: string; request: any }> {
  return fake
    .requestsFor('create')
    .map((q) => String((q.json as any).batch.inputConfig.fileName))
    .flatMap((name) => fake.fileBytes(name)!.toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)));
}

/** Nothing was uploaded, created or generated: the fake saw at most model lookups. */
function assertNothingSent(fake: FakeGemini): void {
  for (const route of ['upload_start', 'upload_chunk', 'create', 'generate', 'stream_generate'] as const) assert.equal(fake.counters[route], 0, `no ${route}`);
}

describe('models: which model is asked, which answered', () => {
  test('a model that does not exist stops the build with exit 2 before any upload, naming it and the available ones', async () => {
    await withFake(async (fake) => {
      const dir = makeProject({ books: [ALABAMA] });
      editRule(dir, THINKING, "model: 'gemini-3.9-flahs',");
      for (const engine of ['gemini-batch', 'gemini']) {
        fake.resetCounters();
        const r = await buildAgainst(dir, fake, ['--engine', engine]);
        assert.equal(r.code, 2, `${engine}: exit 2\n${r.stderr}`);
        assert.match(r.stderr, /^ocrmake: model gemini-3\.9-flahs does not exist or is shut down \(HTTP 404 NOT_FOUND: models\/gemini-3\.9-flahs is not found/m);
        assert.match(r.stderr, /Set the model of rule "page_ocr" to one of the available models: .*gemini-3\.8-flash/);
        if (engine === 'gemini-batch') assert.doesNotMatch(r.stderr, /gemini-3\.5-transcribe/, 'only models that can run batches are offered');
        assert.equal(fake.counters.model_get, 1);
        assertNothingSent(fake);
      }
      const status = JSON.parse((await runCli(dir, ['status', '--json', '--engine', 'gemini-batch'], { env: geminiEnv(fake) })).stdout);
      assert.equal(status.counts.stale, 4, 'no page was charged an attempt');
      assert.equal(status.counts.failed, 0);
      // A dry run says the same (it is where a user checks a plan), after showing nothing was sent.
      const dry = await runCli(dir, ['build', '--dry-run'], { env: geminiEnv(fake) });
      assert.equal(dry.code, 2);
      assert.match(dry.stderr, /model gemini-3\.9-flahs does not exist/);
    });
  });

  test('a model without batch support is refused for gemini-batch with the command that works', async () => {
    await withFake(async (fake) => {
      const dir = makeProject({ books: [ALABAMA] });
      editRule(dir, THINKING, "model: 'gemini-3.5-transcribe',");
      const r = await buildAgainst(dir, fake);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /model gemini-3\.5-transcribe does not support batchGenerateContent, which the gemini-batch engine uses; nothing was sent\.\n {2}Use --engine gemini/);
      assertNothingSent(fake);
    });
  });

  test('a fake that answers with another modelVersion: one warning per build, explain shows both names, cost at the answering model', async () => {
    await withFake(
      async (fake) => {
        const dir = makeProject();
        editRule(dir, THINKING, "model: 'gemini-2.5-flash',");
        const r = await buildAgainst(dir, fake);
        const s = expectExit(r, 0);
        assert.equal(s['built'], 12);
        const warnings = eventsOf(r, 'warning').map((w) => w.message as string);
        const routed = warnings.filter((m) => m.startsWith('requests for gemini-2.5-flash were answered by gemini-3.5-flash-lite'));
        assert.equal(routed.length, 1, `one routing warning for 12 answers:\n${warnings.join('\n')}`);
        assert.match(routed[0]!, /outputs record both names \(ocrmake explain shows them\) and the cost is counted at gemini-3\.5-flash-lite's prices/);
        assert.ok(warnings.some((m) => /^gemini-2\.5-flash (is deprecated: Google shuts it down on 2026-12-01|was retired on 2026-12-01)/.test(m)), 'the catalogue knows 2.5 Flash is going');
        // The bill adds each page's cost; costOf prices the totals: the same sum, up to floating-point rounding.
        assert.ok(Math.abs(s['costUsd']! - costOf('gemini-batch', 'gemini-3.5-flash-lite', s['tokensIn']!, s['tokensOut']!, todayUtc())!) < 1e-12, `${s['costUsd']}`);

        const e = await explainJson(dir, fake, PAGE);
        assert.deepEqual(e.model, { requested: 'gemini-2.5-flash', answered: 'gemini-3.5-flash-lite', current: 'gemini-2.5-flash' });
        const human = await runCli(dir, ['explain', PAGE], { env: geminiEnv(fake) });
        assert.match(human.stdout, /^ {2}model {8}gemini-2\.5-flash, answered by gemini-3\.5-flash-lite$/m);
        const report = JSON.parse(fs.readFileSync(path.join(dir, '.ocrcache/runs', fs.readdirSync(path.join(dir, '.ocrcache/runs')).find((f) => f.endsWith('.json'))!), 'utf8'));
        assert.deepEqual(report.answeredBy, { 'gemini-3.5-flash-lite': 12 });
      },
      { modelVersion: (m) => (m === 'gemini-2.5-flash' ? 'gemini-3.5-flash-lite' : m) },
    );
  });

  test('a versioned modelVersion of the requested model is the same model: no warning', async () => {
    await withFake(
      async (fake) => {
        const dir = makeProject({ books: [ALABAMA] });
        const r = await buildAgainst(dir, fake);
        expectExit(r, 0);
        assert.deepEqual(eventsOf(r, 'warning'), []);
        const e = await explainJson(dir, fake, PAGE);
        assert.deepEqual(e.model, { requested: DEFAULT_MODEL, answered: `${DEFAULT_MODEL}-001`, current: DEFAULT_MODEL });
      },
      { modelVersion: (m) => `${m}-001` },
    );
  });
});

describe('models: Gemini 3 request options', () => {
  test('mediaResolution changes every fingerprint (explain names it), goes into the request, and sets the estimate\'s image budget', async () => {
    await withFake(async (fake) => {
      const dir = makeProject({ books: [ALABAMA] });
      expectExit(await buildAgainst(dir, fake), 0);

      editRule(dir, THINKING, `${THINKING}\n  mediaResolution: 'low',`);
      const dry = await runCli(dir, ['build', '--dry-run', '--json'], { env: geminiEnv(fake) });
      expectExit(dry, 0);
      const stale = eventsOf(dry, 'stale');
      assert.equal(stale.length, 4, 'every page');
      for (const st of stale) assert.deepEqual(st.reasons.map((x: { code: string }) => x.code), ['config-changed'], st.key);
      const estimate = eventsOf(dry, 'plan')[0].estimate;
      assert.equal(estimate.imageTokens, 4 * 280, 'the low budget: 280 tokens an image');
      const e = await explainJson(dir, fake, PAGE);
      assert.deepEqual(e.configChanges, ['generationConfig.mediaResolution: (unset) → "MEDIA_RESOLUTION_LOW"']);
      const human = await runCli(dir, ['explain', PAGE], { env: geminiEnv(fake) });
      assert.match(human.stdout, /reason {7}config-changed: .*\n {17}generationConfig\.mediaResolution: \(unset\) → "MEDIA_RESOLUTION_LOW"/);

      fake.resetCounters();
      const built = await buildAgainst(dir, fake);
      const s = expectExit(built, 0);
      assert.equal(s['built'], 4);
      const lines = sentLines(fake);
      assert.equal(lines.length, 4);
      for (const l of lines) assert.equal(l.request.generationConfig.mediaResolution, 'MEDIA_RESOLUTION_LOW', l.key);
      assert.ok(s['tokensIn']! - estimate.promptTokens <= 4 * 280 + estimate.promptTokens * 0.3, 'billed at the low budget');

      // ultra-high goes on the image part, through v1alpha, at 2,240 tokens an image.
      editRule(dir, "mediaResolution: 'low',", "mediaResolution: 'ultra-high',");
      fake.resetCounters();
      const ultra = await buildAgainst(dir, fake);
      const su = expectExit(ultra, 0);
      assert.equal(eventsOf(ultra, 'plan')[0].estimate, undefined, 'a build without --max-cost does not estimate');
      const parts = sentLines(fake).map((l) => l.request.contents[0].parts[1]);
      assert.equal(parts.length, 4);
      for (const p of parts) assert.deepEqual(p.mediaResolution, { level: 'MEDIA_RESOLUTION_ULTRA_HIGH' });
      assert.ok(fake.requestsFor('create').every((q) => q.path.startsWith('/v1alpha/')), 'per-part media resolution is a v1alpha field');
      assert.ok(su['tokensIn']! >= 4 * 2240, 'billed at the ultra-high budget');

      // Reverting restores every page from the result store: nothing is sent.
      editRule(dir, "\n  mediaResolution: 'ultra-high',", '');
      fake.resetCounters();
      const back = expectExit(await buildAgainst(dir, fake), 0);
      assert.equal(back['restored'], 4);
      assert.equal(fake.counters.create, 0);
    });
  });

  test('thinking options and generation config keys are validated against the model before anything runs', async () => {
    const dir = makeProject({ books: [ALABAMA] });
    const cases: Array<[string, RegExp]> = [
      ["model: 'gemini-2.5-flash', thinking: { level: 'low' },", /rule\.thinking\.level: gemini-2\.5-flash has no thinking levels \(they are Gemini 3 and later\)\n {2}Set thinking\.budget to 0 \(off\), 0–24,576, or -1/],
      ["thinking: { level: 'minimal' },", /rule\.thinking\.level: gemini-3\.8-flash does not accept thinking level "minimal" \(the API answers HTTP 400\)\n {2}Use one of: low, medium, high\./],
      ["thinking: { level: 'low', budget: 100 },", /rule\.thinking: both a thinking level and a thinking budget are set; the API answers HTTP 400 to both/],
      ["model: 'gemini-2.5-pro', thinking: { budget: 0 },", /rule\.thinking\.budget: gemini-2\.5-pro accepts a thinking budget of 128–32,768 or -1 \(dynamic\); got 0/],
      ["model: 'gemini-4-argon', thinking: { budget: 1024 },", /rule\.thinking\.budget: gemini-4-argon takes no thinking budget/],
      ["model: 'gemini-2.5-flash', mediaResolution: 'ultra-high', thinking: { budget: -1 },", /rule\.mediaResolution: 'ultra-high' is a per-image-part setting of Gemini 3 and later; gemini-2\.5-flash does not have it/],
      ["generationConfig: { mediaResolution: 'MEDIA_RESOLUTION_ULTRA_HIGH' }, //", /rule\.generationConfig\.mediaResolution: "MEDIA_RESOLUTION_ULTRA_HIGH" is not a request-wide media resolution/],
      ["thinking: {},", /rule\.thinking: thinking needs "level" \(Gemini 3 and later\) or "budget" \(Gemini 2\.5\)/],
      // A YAML config's snake_case spelling: the batch file would send it verbatim (HTTP 400), the SDK drop it.
      ["generationConfig: { max_output_tokens: 8192, temperature: 0.1 }, //", /rule\.generationConfig\.max_output_tokens: unknown generation config key "max_output_tokens"\n {2}The API spells it "maxOutputTokens" \(camelCase\): rename it\./],
      ["generationConfig: { maxOutputToken: 8192 }, //", /rule\.generationConfig\.maxOutputToken: unknown generation config key "maxOutputToken"\n {2}Did you mean "maxOutputTokens"\?/],
      ["generationConfig: { responseMimeType: 'application/json' }, //", /rule\.generationConfig\.responseMimeType: responseMimeType is set by ocrmake \(JSON replies that follow rule\.schema\)/],
    ];
    for (const [line, message] of cases) {
      const original = fs.readFileSync(path.join(dir, RULE), 'utf8');
      // A line ending in `//` replaces the rule's generationConfig line too (the comment swallows it).
      fs.writeFileSync(path.join(dir, RULE), line.endsWith('//') ? original.replace(THINKING, '').replace('generationConfig: {', `${line} generationConfig: {`) : original.replace(THINKING, line));
      const r = await runCli(dir, ['status']);
      fs.writeFileSync(path.join(dir, RULE), original);
      assert.equal(r.code, 2, `${line}: exit 2\n${r.stderr}`);
      assert.match(r.stderr, message, line);
    }
    // The API's own spelling inside generationConfig is accepted and checked the same way.
    const original = fs.readFileSync(path.join(dir, RULE), 'utf8');
    fs.writeFileSync(path.join(dir, RULE), original.replace(THINKING, "generationConfig: { thinkingConfig: { thinkingLevel: 'high' }, mediaResolution: 'MEDIA_RESOLUTION_MEDIUM' },").replace('  generationConfig: { maxOutputTokens: 8192 },\n', ''));
    const ok = await runCli(dir, ['status']);
    assert.equal(ok.code, 0, ok.stderr);
  });

  test('no key with a Gemini engine is exit 2 before any page is touched', async () => {
    const dir = makeProject({ books: [ALABAMA] });
    const r = await runCli(dir, ['build', '--engine', 'gemini-batch', '--json']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /the gemini-batch engine needs a Gemini API key: set GEMINI_API_KEY/);
    const status = JSON.parse((await runCli(dir, ['status', '--json', '--engine', 'gemini-batch'])).stdout);
    assert.equal(status.counts.stale, 4);
    assert.equal(status.counts.failed + status.counts.dead, 0, 'no attempt charged');
  });
});
