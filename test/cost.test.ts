// The cost estimate (build --dry-run, --max-cost) and the cost in every build summary.
//
// Pure tests pin the counting rules: image tokens by model generation (Gemini 2.x tiles, Gemini 3
// media-resolution budgets), the dated price table, routing of retired models. The end-to-end tests run the
// real CLI against the fake Gemini server and compare the estimate with the tokens the build was billed:
//   - prompt tokens: the fake bills ceil(characters / 4), and its countTokens answers the same, so the
//     estimate's prompt tokens must match the bill closely;
//   - image tokens: the fake bills what Gemini documents (1,120 an image on Gemini 3 with mediaResolution
//     unset, 768-px tiles on Gemini 2), so the estimate's image tokens equal the bill;
//   - output tokens: the first estimate has no history and assumes 1,500 a page; the fake's answers are
//     ~880 (ceil(characters/4) + 32 thought tokens), outside the ±30 % band, as a real first run may be.
//     Once pages are recorded, the estimate uses their mean, and a rebuild must land within the band.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { estimateCost, type CostEstimate, DEFAULT_OUTPUT_TOKENS, ERROR_BAND } from '../src/plan/estimate.js';
import { imageSize } from '../src/execute/estimate-inputs.js';
import { imageRule, imageTokens, tiledTokens } from '../src/cost/image-tokens.js';
import { billedModel, DEFAULT_MODEL, lifecycle, sameModel, todayUtc } from '../src/cost/models.js';
import { costOf, priceFor, PRICES_AS_OF } from '../src/cost/pricing.js';
import { buildAgainst, eventsOf, expectExit, geminiEnv, withFake } from './util/gemini-rig.js';
import { makeProject, REPO, runCli, type CliResult, summaryOf, tempDir } from './util/rig.js';

const MODEL = DEFAULT_MODEL;
const PAGES = 12;
/** Gemini 3 bills an image 1,120 tokens with mediaResolution unset; the fake does the same. */
const IMAGE_TOKENS = 1120;
const TODAY = todayUtc();

const planEstimate = (r: CliResult): CostEstimate => {
  const plan = eventsOf(r, 'plan')[0];
  assert.ok(plan?.estimate, `the plan event carries an estimate\n${r.stdout}\n${r.stderr}`);
  return plan.estimate;
};
const within = (actual: number, estimate: number, what: string) =>
  assert.ok(Math.abs(actual - estimate) <= ERROR_BAND * estimate, `${what}: actual ${actual} is outside the estimate ${estimate} ±${ERROR_BAND * 100} %`);

describe('cost estimate: counting rules', () => {
  test('image tokens: Gemini 2.x counts 768-px tiles of 258, Gemini 3 and later a budget by mediaResolution', () => {
    assert.equal(tiledTokens(384, 384), 258);
    assert.equal(tiledTokens(100, 50), 258);
    assert.equal(tiledTokens(385, 100), 258);
    assert.equal(tiledTokens(768, 768), 258);
    assert.equal(tiledTokens(769, 768), 516);
    assert.equal(tiledTokens(1100, 1500), 1032);
    assert.equal(tiledTokens(2480, 3508), 4 * 5 * 258);
    const tiles = imageRule('gemini-2.5-flash', null);
    assert.deepEqual(tiles, { kind: 'tiles' });
    assert.equal(imageTokens(tiles, 1100, 1500), 1032);
    assert.equal(imageTokens(tiles, null, null), 1032, 'an unreadable size counts as a 2×2-tile page');
    assert.equal(imageTokens(imageRule('gemini-2.5-flash', 'low'), 1100, 1500), 1032, 'Gemini 2.x: no documented budgets, tiles stay');
    for (const [setting, tokens] of [[null, 1120], ['low', 280], ['medium', 560], ['high', 1120], ['ultra-high', 2240]] as const) {
      const rule = imageRule('gemini-3.8-flash', setting);
      assert.equal(imageTokens(rule, 1100, 1500), tokens, `Gemini 3, mediaResolution ${setting}`);
      assert.equal(imageTokens(rule, 4000, 6000), tokens, 'whatever the pixel size');
    }
    assert.equal(imageTokens(imageRule('gemini-4-argon', 'medium'), 10, 10), 560);
    assert.equal(imageTokens(imageRule('gemini-7-future', null), 10, 10), 1120, 'an unknown model is read by its name');
  });

  test('the price table is dated: periods by day, batch half, routed models at the answering model\'s price', () => {
    assert.equal(PRICES_AS_OF, '2026-11-29');
    assert.deepEqual(priceFor('gemini-3.8-flash', 'gemini-batch', '2026-11-29'), { input: 0.375, output: 1.875, tier: 'batch', model: 'gemini-3.8-flash', source: 'default', asOf: PRICES_AS_OF, until: '2026-12-31' });
    assert.deepEqual(priceFor('models/gemini-3.8-flash', 'gemini', '2026-12-31'), { input: 0.75, output: 3.75, tier: 'interactive', model: 'gemini-3.8-flash', source: 'default', asOf: PRICES_AS_OF, until: '2026-12-31' });
    assert.deepEqual(priceFor('gemini-3.8-flash', 'gemini-batch', '2027-01-01'), { input: 0.75, output: 3.75, tier: 'batch', model: 'gemini-3.8-flash', source: 'default', asOf: PRICES_AS_OF, until: null });
    // gemini-2.5-pro is routed to gemini-3.8-flash from 2026-12-01, billed at that model's price.
    assert.equal(priceFor('gemini-2.5-pro', 'gemini-batch', '2026-11-30')?.input, 0.625);
    assert.deepEqual(priceFor('gemini-2.5-pro', 'gemini-batch', '2026-12-01'), { input: 0.375, output: 1.875, tier: 'batch', model: 'gemini-3.8-flash', source: 'default', asOf: PRICES_AS_OF, until: '2026-12-31' });
    assert.equal(billedModel('gemini-2.5-flash', '2026-12-01'), 'gemini-3.5-flash-lite');
    assert.deepEqual(lifecycle('gemini-2.5-flash', '2026-11-29'), { kind: 'deprecated', on: '2026-12-01', routedTo: 'gemini-3.5-flash-lite', replacement: 'gemini-3.5-flash-lite' });
    assert.deepEqual(lifecycle('gemini-2.0-flash', '2026-11-29'), { kind: 'shut-down', since: '2026-06-01', replacement: 'gemini-3.6-flash' });
    assert.deepEqual(lifecycle('gemini-3.8-flash', '2026-11-29'), { kind: 'current' });
    assert.equal(priceFor('gemini-unknown', 'gemini-batch', TODAY), null);
    assert.equal(costOf('gemini-batch', 'gemini-3.8-flash', 1_000_000, 1_000_000, '2026-11-29'), 0.375 + 1.875);
    assert.equal(costOf('local', null, 5, 5, TODAY), 0);
  });

  test('an answer names the model asked for when modelVersion is the same id or a version of it', () => {
    assert.ok(sameModel('gemini-3.8-flash', 'gemini-3.8-flash'));
    assert.ok(sameModel('models/gemini-2.5-flash', 'gemini-2.5-flash-001'));
    assert.ok(sameModel('gemini-3.1-pro-preview', 'gemini-3.1-pro-preview-05-14'));
    assert.ok(!sameModel('gemini-3.5-flash', 'gemini-3.5-flash-lite'), 'flash-lite is another model, not a version of flash');
    assert.ok(!sameModel('gemini-2.5-flash', 'gemini-3.5-flash-lite'));
  });

  test('image sizes come from PNG, JPEG (past an EXIF segment), GIF and WebP headers', () => {
    assert.deepEqual(imageSize(path.join(REPO, 'dataset/raw_image_dataset/Alabama/Howard College/1849/1.png')), { width: 1100, height: 1500 });
    const dir = tempDir('ocrmake-size-');
    const file = (name: string, bytes: number[]) => {
      fs.writeFileSync(path.join(dir, name), Buffer.from(bytes));
      return path.join(dir, name);
    };
    const app1 = [0xff, 0xe1, 0x00, 0x08, 0x45, 0x78, 0x69, 0x66, 0x00, 0x00];
    const sof2 = [0xff, 0xc2, 0x00, 0x11, 0x08, 0x07, 0xd0, 0x05, 0xdc, 0x03];
    assert.deepEqual(imageSize(file('a.jpg', [0xff, 0xd8, ...app1, ...sof2, 0, 0, 0])), { width: 1500, height: 2000 });
    assert.deepEqual(imageSize(file('a.gif', [0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x20, 0x03, 0x58, 0x02, 0, 0])), { width: 800, height: 600 });
    const webp = Buffer.alloc(30);
    webp.write('RIFF', 0, 'latin1');
    webp.write('WEBPVP8X', 8, 'latin1');
    webp.writeUIntLE(1199, 24, 3);
    webp.writeUIntLE(1599, 27, 3);
    fs.writeFileSync(path.join(dir, 'a.webp'), webp);
    assert.deepEqual(imageSize(path.join(dir, 'a.webp')), { width: 1200, height: 1600 });
    assert.equal(imageSize(file('a.txt', [0x68, 0x69])), null);
    assert.equal(imageSize(path.join(dir, 'missing.png')), null);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('batch is half price; recorded outputs replace the default; ocrfile prices win; local is free', () => {
    const pages = [{ width: 1100, height: 1500, promptChars: 4000 }, { width: null, height: null, promptChars: 4000 }];
    const base = { model: MODEL, mediaResolution: null, pages, restored: 3, waiting: 0, measured: null, recordedOutputs: [], prices: {}, today: '2026-11-29' };
    const batch = estimateCost({ ...base, engine: 'gemini-batch' });
    assert.equal(batch.imageTokens, 2 * IMAGE_TOKENS, 'Gemini 3: the budget, known size or not');
    assert.equal(batch.promptTokens, 2000);
    assert.equal(batch.tokensOut, 2 * DEFAULT_OUTPUT_TOKENS);
    assert.equal(batch.outputSource, 'default');
    assert.equal(batch.costUsd, costOf('gemini-batch', MODEL, batch.tokensIn, batch.tokensOut, '2026-11-29'));
    assert.deepEqual(batch.price, { input: 0.375, output: 1.875, tier: 'batch', model: MODEL, source: 'default', asOf: PRICES_AS_OF, until: '2026-12-31' });
    const low = estimateCost({ ...base, engine: 'gemini-batch', mediaResolution: 'low' });
    assert.equal(low.imageTokens, 2 * 280);
    assert.deepEqual(low.imageRule, { kind: 'budget', perImage: 280, setting: 'low' });
    const tiles = estimateCost({ ...base, engine: 'gemini-batch', model: 'gemini-2.5-flash' });
    assert.equal(tiles.imageTokens, 2 * 1032, 'Gemini 2.x: tiles; an unreadable image counts as a 2×2-tile page');
    const interactive = estimateCost({ ...base, engine: 'gemini' });
    assert.equal(interactive.costUsd, batch.costUsd! * 2);
    assert.equal(batch.lowUsd, batch.costUsd! * (1 - ERROR_BAND));
    const nextYear = estimateCost({ ...base, engine: 'gemini-batch', today: '2027-01-01' });
    assert.equal(nextYear.costUsd, batch.costUsd! * 2, 'the price doubles on 2027-01-01');
    const measured = estimateCost({ ...base, engine: 'gemini-batch', measured: { tokens: 300, chars: 1000, samples: 2 }, recordedOutputs: [800, 1000, 0] });
    assert.equal(measured.promptTokens, 2400);
    assert.equal(measured.promptSource, 'countTokens');
    assert.equal(measured.outputPerPage, 900, 'mean of the recorded outputs (a zero is no record)');
    assert.equal(measured.outputSource, 'recorded');
    const own = estimateCost({ ...base, engine: 'gemini-batch', prices: { [MODEL]: { input: 1, output: 10 } } });
    assert.equal(own.price?.source, 'ocrfile');
    assert.equal(own.costUsd, ((own.tokensIn * 1 + own.tokensOut * 10) / 1e6) * 0.5);
    assert.equal(estimateCost({ ...base, engine: 'gemini-batch', model: 'gemini-unknown' }).costUsd, null);
    const local = estimateCost({ ...base, engine: 'local', model: null });
    assert.equal(local.costUsd, 0);
    assert.equal(local.tokensIn + local.tokensOut, 0);
  });
});

describe('cost estimate and actual cost against the fake Gemini server', () => {
  test('dry run estimates; the build is billed within the band once outputs are recorded', async (t) => {
    await withFake(async (fake) => {
      const dir = makeProject();
      // 1. Dry run: the estimate, with countTokens on a sample of prompts and nothing else sent.
      const dry = await runCli(dir, ['build', '--dry-run', '--json'], { env: geminiEnv(fake) });
      expectExit(dry, 0);
      const first = planEstimate(dry);
      assert.equal(first.pages, PAGES);
      assert.equal(first.engine, 'gemini-batch');
      assert.equal(first.model, MODEL, 'no model in the rule: the default');
      assert.equal(first.imageTokens, PAGES * IMAGE_TOKENS);
      assert.equal(first.promptSource, 'countTokens');
      assert.equal(first.promptSamples, 3);
      assert.equal(first.outputSource, 'default');
      assert.equal(first.tokensOut, PAGES * DEFAULT_OUTPUT_TOKENS);
      assert.equal(first.price?.tier, 'batch');
      assert.equal(first.price?.asOf, PRICES_AS_OF);
      assert.equal(first.costUsd, costOf('gemini-batch', MODEL, first.tokensIn, first.tokensOut, TODAY));
      assert.equal(fake.counters.count_tokens, 3);
      assert.equal(fake.counters.model_get, 1, 'the dry run checks the model exists');
      assert.equal(fake.counters.requests, 4, 'a dry run sends nothing but a model check and countTokens');
      assert.equal(eventsOf(dry, 'summary')[0].costUsd, 0);
      const human = await runCli(dir, ['build', '--dry-run'], { env: geminiEnv(fake) });
      assert.match(human.stdout, /^estimate: 12 pages to send with gemini-batch \(gemini-3\.8-flash\)$/m);
      assert.match(human.stdout, /^ {2}input {2}~[\d,]+ tokens: 13,440 image \(1,120 per image at mediaResolution unset \(high\), Gemini 3 rule\), [\d,]+ prompt \(countTokens on 3 prompts\)$/m);
      const p = priceFor(MODEL, 'gemini-batch', TODAY)!;
      const until = p.until ? `; this price until ${p.until}` : '';
      assert.ok(human.stdout.includes(`at batch prices: $${p.input} in, $${p.output} out per 1M tokens (price table of 2026-11-29${until})`), human.stdout);

      // 2. The build (under a --max-cost above the estimate): actual tokens and cost in the summary.
      fake.resetCounters();
      const built = await buildAgainst(dir, fake, ['--max-cost', '1']);
      const s1 = expectExit(built, 0) as Record<string, any>;
      assert.equal(s1['built'], PAGES);
      // The bill adds each page's cost; costOf prices the totals: the same sum, up to floating-point rounding.
      assert.ok(Math.abs(s1['costUsd'] - costOf('gemini-batch', MODEL, s1['tokensIn'], s1['tokensOut'], TODAY)!) < 1e-12, `${s1['costUsd']}`);
      assert.ok(s1['tokensIn'] > 0 && s1['tokensOut'] > 0);
      assert.equal(planEstimate(built).promptSource, 'chars-per-token', 'a build asks countTokens nothing');
      assert.equal(fake.counters.count_tokens, 0);
      const billedPrompt1 = s1['tokensIn'] - PAGES * IMAGE_TOKENS;
      within(billedPrompt1, first.promptTokens, 'prompt tokens (the context of pages 2+ was estimated)');
      assert.ok(first.costUsd! > (s1['costUsd'] as number), 'with no history the estimate is on the high side here (1,500 output tokens vs ~880)');
      t.diagnostic(`first build: estimate ${first.tokensIn} in / ${first.tokensOut} out, $${first.costUsd!.toFixed(4)}; billed ${s1['tokensIn']} in / ${s1['tokensOut']} out, $${(s1['costUsd'] as number).toFixed(4)}`);

      // 3. A prompt edit makes every page stale; the estimate now uses the recorded output tokens.
      const promptPath = path.join(dir, 'prompts/page_ocr/v1.ejs');
      fs.writeFileSync(promptPath, fs.readFileSync(promptPath, 'utf8').replace('Answer with JSON only', 'Keep line breaks out of text blocks. Answer with JSON only'));
      fake.resetCounters();
      const second = planEstimate(expectExitDry(await runCli(dir, ['build', '--dry-run', '--json'], { env: geminiEnv(fake) })));
      assert.equal(second.pages, PAGES);
      assert.equal(second.outputSource, 'recorded');
      assert.equal(second.outputSamples, PAGES);
      assert.equal(second.outputPerPage, Math.round(s1['tokensOut'] / PAGES));
      fake.resetCounters();
      const rebuilt = await buildAgainst(dir, fake);
      const s2 = expectExit(rebuilt, 0) as Record<string, any>;
      assert.equal(s2['built'], PAGES);
      within(s2['tokensOut'], second.tokensOut, 'output tokens');
      assert.equal(second.imageTokens, PAGES * IMAGE_TOKENS);
      within(s2['tokensIn'] - PAGES * IMAGE_TOKENS, second.promptTokens, 'prompt tokens');
      within(s2['costUsd'], second.costUsd!, 'cost');
      t.diagnostic(`after a prompt edit: estimate ${second.tokensIn} in (${second.promptTokens} prompt) / ${second.tokensOut} out, $${second.costUsd!.toFixed(4)}; billed ${s2['tokensIn']} in / ${s2['tokensOut']} out, $${(s2['costUsd'] as number).toFixed(4)}`);
      const line = await runCli(dir, ['build'], { env: geminiEnv(fake) });
      assert.match(line.stdout, /^done: 0 built, 0 restored, .*; 0 requests, 0 batches, 0 uploads; 12\/12 up to date/m);
      assert.doesNotMatch(line.stdout, /^tokens:/m, 'a no-op build bills nothing, so it prints no tokens line');
      assert.equal(summaryOf(await runCli(dir, ['build', '--json'], { env: geminiEnv(fake) }))['costUsd'], 0, 'a no-op build costs nothing');
    });
  });

  test('--max-cost below the estimate: exit 1 before anything is sent', async () => {
    await withFake(async (fake) => {
      const dir = makeProject();
      const r = await buildAgainst(dir, fake, ['--max-cost', '0.001']);
      const s = expectExit(r, 1);
      const estimate = planEstimate(r);
      assert.ok(estimate.costUsd! > 0.001);
      const stopped = eventsOf(r, 'stopped')[0];
      assert.match(stopped?.message ?? '', /^the estimated cost \$0\.\d{4} \(±30 %: .*12 pages, .*\) is above --max-cost \$0\.0010: nothing was sent\./);
      assert.equal(s['requests'], 0);
      assert.equal(s['built'], 0);
      for (const [name, n] of Object.entries(fake.counters)) assert.equal(n, 0, `fake counter ${name}`);
      assert.equal(fs.existsSync(path.join(dir, 'dataset/output_results')), false, 'no output written');
      const human = await runCli(dir, ['build', '--max-cost', '0.001'], { env: geminiEnv(fake) });
      assert.equal(human.code, 1);
      assert.match(human.stderr, /^stopped: the estimated cost .* is above --max-cost \$0\.0010: nothing was sent\. Raise --max-cost, or select fewer pages\.$/m);
      assert.equal(fake.counters.requests, 0);
      const bad = await runCli(dir, ['build', '--max-cost', '-1'], { env: geminiEnv(fake) });
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--max-cost must be an amount in USD/);
    });
  });

  test('the ocrfile\'s prices replace the defaults; the local engine costs nothing', async () => {
    const dir = makeProject({ books: ['Alabama/Howard College/1849'] });
    const ocrfile = path.join(dir, 'ocrfile.ts');
    fs.writeFileSync(ocrfile, fs.readFileSync(ocrfile, 'utf8').replace("engine: 'auto',", `engine: 'auto',\n  prices: { '${MODEL}': { input: 2, output: 20 } },`));
    const dry = await runCli(dir, ['build', '--dry-run', '--json', '--engine', 'gemini'], { env: { GEMINI_API_KEY: 'test-key', GOOGLE_GEMINI_BASE_URL: 'http://127.0.0.1:9' } });
    const warned = eventsOf(dry, 'warning').map((w) => w.message).join('\n');
    assert.match(warned, /countTokens failed .*: the prompt tokens are estimated at 4 characters a token/, 'an unreachable countTokens falls back to the ratio');
    const e = planEstimate(dry);
    assert.equal(e.promptSource, 'chars-per-token');
    assert.deepEqual(e.price, { input: 2, output: 20, tier: 'interactive', model: MODEL, source: 'ocrfile', asOf: null, until: null });
    assert.equal(e.costUsd, (e.tokensIn * 2 + e.tokensOut * 20) / 1e6);
    const human = await runCli(dir, ['build', '--dry-run', '--engine', 'gemini'], { env: { GEMINI_API_KEY: 'test-key', GOOGLE_GEMINI_BASE_URL: 'http://127.0.0.1:9' } });
    assert.match(human.stdout, /at interactive prices: \$2 in, \$20 out per 1M tokens \(prices from the ocrfile\)$/m);

    const local = await runCli(dir, ['build', '--json', '--engine', 'local', 'Alabama:Howard College:1849:1', '--max-cost', '0']);
    const s = expectExit(local, 0);
    assert.equal(planEstimate(local).costUsd, 0);
    assert.equal(s['built'], 1);
    assert.equal(s['costUsd'], 0);
    assert.equal(s['tokensIn'], 0);
  });
});

function expectExitDry(r: CliResult): CliResult {
  expectExit(r, 0);
  return r;
}
