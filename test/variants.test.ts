// Prompt iteration end to end (issue 15): the real CLI against the fake Gemini server (the real @google/genai
// SDK) and the fake Braintrust endpoint (the real braintrust SDK). One project goes through the workflow a
// user follows, with a fake model that reads better when the prompt tells it to proofread (util/proofread.ts):
// build with v1's settings, try v2 on a sample (outputs untouched), compare, adopt v2 by
// editing the rule, build again — and the sampled pages come back from the result store with no request.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { CHROMIUM, launchChromium } from '../scripts/report-bench.js';
import { startFakeBraintrust, type FakeBraintrust } from './fake-braintrust.js';
import type { FakeGemini } from './fake-gemini/index.js';
import { eventsOf, expectExit, geminiEnv, startFake, walk } from './util/gemini-rig.js';
import { makeProject, read, REPO, runCli, write, type CliResult } from './util/rig.js';
import { referenceCer } from './util/reference-cer.js';
import { proofreadingReplier, proofreadPrompt } from './util/proofread.js';
import { loadGroundTruth } from './fake-gemini/index.js';

const SAMPLE = ['Alabama:Howard College:1849:1', 'California:College of California:1860:3', 'California:College of California:1860:12', 'Virginia:Hampden-Sydney College:1851:1'];
const BT_KEY = 'bt-key-for-variants';

const ocrfile = (variants: string) =>
  read(REPO, 'ocrfile.ts')
    .replace(/execution: \{[^}]*\},/, 'execution: { maxAttempts: 3, batchSize: 100, maxConcurrentBatches: 10, pollSeconds: 0.05 },')
    .replace(/\}\);\s*$/, `  variants: ${variants},\n});\n`);

const outputsOf = (dir: string): Map<string, string> => {
  const out = new Map<string, string>();
  const root = path.join(dir, 'dataset/output_results');
  for (const f of walk(root)) out.set(path.relative(root, f), crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex'));
  return out;
};

describe('variants: try, compare, adopt', () => {
  let fake: FakeGemini;
  let bt: FakeBraintrust;
  let dir: string;
  let env: Record<string, string>;
  const cli = (args: string[], extra: Record<string, string> = {}): Promise<CliResult> => runCli(dir, args, { env: { ...env, ...extra } });

  before(async () => {
    const truth = await loadGroundTruth(path.join(REPO, 'dataset'));
    fake = await startFake({ replier: proofreadingReplier(truth) });
    bt = await startFakeBraintrust();
    env = { ...geminiEnv(fake), BRAINTRUST_API_KEY: BT_KEY, BRAINTRUST_PROJECT: 'ocrmake-variants', BRAINTRUST_APP_URL: bt.url };
    dir = makeProject({
      files: {
        'ocrfile.ts': ocrfile("{ v1: { prompt: 'prompts/page_ocr/v1.ejs' }, v2: { prompt: 'prompts/page_ocr/v2.ejs' } }"),
        'prompts/page_ocr/v2.ejs': proofreadPrompt(),
      },
    });
  });
  after(async () => {
    await fake.close();
    await bt.close();
  });

  test('the workflow: build, try v2 on a sample, compare v1 v2, adopt v2 for free', async () => {
    // The real build with v1's settings (the rule's own prompt).
    const first = expectExit(await cli(['build', '--json', '--poll-seconds', '0.05']), 0);
    assert.equal(first['requests'], 12);
    const before = outputsOf(dir);
    assert.equal(before.size, 12);

    // --max-cost below the estimate: refused before anything is sent.
    const sent0 = fake.records().length;
    const refused = await cli(['try', 'v2', '--sample', '4', '--max-cost', '0.0000001', '--json', '--poll-seconds', '0.05']);
    assert.equal(refused.code, 1, refused.stderr);
    assert.equal(fake.records().length, sent0, 'nothing sent over the cost limit');

    // try v2 --sample 4: four requests (the first page of each book), shown with their cost first.
    const tried = await cli(['try', 'v2', '--sample', '4', '--json', '--poll-seconds', '0.05']);
    const s2 = expectExit(tried, 0);
    assert.equal(s2['requests'], 4);
    assert.equal(fake.records().length - sent0, 4);
    const plan = eventsOf(tried, 'plan')[0];
    assert.ok(plan?.estimate && plan.estimate.pages === 4 && plan.estimate.costUsd > 0, `the estimate comes with the plan: ${JSON.stringify(plan)}`);
    assert.ok(tried.events.indexOf(plan) < tried.events.findIndex((e) => e.event === 'submitted' || e.event === 'upload'), 'the estimate is shown before anything is sent');
    assert.deepEqual([...outputsOf(dir)], [...before], 'try changes no output');
    const area = path.join(dir, '.ocrcache/variants/v2/outputs/dataset/output_results');
    assert.deepEqual([...walk(area)].map((f) => path.relative(area, f)).sort(), SAMPLE.map((k) => `${k.split(':').join('/')}.json`).sort());
    const scores = tried.events.find((e) => e.event === 'scores');
    assert.equal(scores?.pages, 4);
    assert.equal(scores?.cer, 0, 'v2 reads the sample pages exactly');

    // v1 on the same sample: its requests are the real build's, so everything comes from the result store.
    const s1 = expectExit(await cli(['try', 'v1', '--sample', '4', '--json', '--poll-seconds', '0.05']), 0);
    assert.equal(s1['requests'], 0);
    assert.equal(s1['restored'], 4);

    // compare v1 v2: per-page deltas, equal to an independent computation from the files.
    const cmp = await cli(['compare', 'v1', 'v2', '--json']);
    assert.equal(cmp.code, 0, cmp.stderr);
    const c = JSON.parse(cmp.stdout);
    assert.deepEqual(c.pages.map((p: { key: string }) => p.key).sort(), [...SAMPLE].sort());
    for (const p of c.pages) {
      const truth = read(dir, `dataset/ground_truth/${p.key.split(':').join('/')}.txt`);
      const textOf = (file: string) => JSON.parse(read(dir, file)).raw_ocr.text_blocks.map((b: { text: string }) => b.text).join('\n');
      const [ca, cb] = [referenceCer(truth, textOf(p.a.output)), referenceCer(truth, textOf(p.b.output))];
      assert.ok(Math.abs(p.a.cer - ca) < 1e-12 && Math.abs(p.b.cer - cb) < 1e-12, `${p.key}: ${p.a.cer} vs ${ca}, ${p.b.cer} vs ${cb}`);
      assert.ok(Math.abs(p.delta.cer - (cb - ca)) < 1e-12);
      assert.ok(p.delta.cer < 0, `${p.key}: v2 is better`);
      assert.ok(p.diffs.some((h: { a: string; b: string }) => /colege/i.test(h.a) && /college/i.test(h.b)), `${p.key}: the diff shows the misread word`);
      assert.equal(p.b.tokensIn > 0 && p.b.costUsd > 0, true, 'v2 built these pages: its tokens and cost are known');
    }
    assert.ok(c.overall.delta.cer < 0);
    const text = await cli(['compare', 'v1', 'v2', '--html', 'compare.html']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^compare v1 → v2: 4 pages with outputs in both, scored against dataset\/ground_truth/m);
    assert.match(text.stdout, /word \d+: - "[^"]*Colege[^"]*"  \+ "[^"]*College[^"]*"/i);
    assert.match(text.stdout, /^overall .*−\d+\.\d\d %/m);
    const html = read(dir, 'compare.html');
    assert.equal((html.match(/<img src="data:image\/webp;base64,/g) ?? []).length, 4, 'each page shows its scan');
    assert.match(html, /<del>Colege[.,]?<\/del>/i);
    assert.match(html, /<ins>College[.,]?<\/ins>/i);

    // The status page with --variant: v2's output beside each sampled page's own, in the browser too.
    const rep = await cli(['report', '--variant', 'v2', '--out', 'with-v2.html']);
    assert.equal(rep.code, 0, rep.stderr);
    const embedded = JSON.parse(/<script type="application\/json" id="ocrmake-pages">([\s\S]*?)<\/script>/.exec(read(dir, 'with-v2.html'))![1]!);
    for (const k of SAMPLE) assert.equal(embedded[k]?.v, read(dir, `.ocrcache/variants/v2/outputs/dataset/output_results/${k.split(':').join('/')}.json`), `${k}: v2's output embedded`);
    assert.ok(embedded['Alabama:Howard College:1849:2'] && embedded['Alabama:Howard College:1849:2'].v === undefined, 'a page v2 was not tried on has no variant output');
    const unknown = await cli(['report', '--variant', 'v9']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no variant "v9" has been tried in this project[\s\S]*Tried so far: v1, v2/);
    if (fs.existsSync(CHROMIUM)) {
      const browser = await launchChromium();
      try {
        const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
        await page.goto(pathToFileURL(path.join(dir, 'with-v2.html')).href);
        await page.locator('#canvas .row:has(.lbl[title*="Alabama"]) .c[data-i="0"]').first().click();
        assert.equal(await page.locator('#d-key').textContent(), SAMPLE[0]);
        assert.equal(await page.locator('#d-page.cmp #d-thumb').count(), 1, 'the scan, then the two outputs');
        assert.match((await page.locator('#d-text').textContent()) ?? '', /colege/i, 'the real output (v1) misreads');
        const theirs = (await page.locator('#d-variant').textContent()) ?? '';
        assert.match(theirs, /^v2/);
        assert.match(theirs, /college/i);
        assert.doesNotMatch(theirs, /colege/i);
        await page.locator('#d-page [data-view="json"]').click();
        assert.equal(await page.locator('#d-vjson').isHidden(), false, 'the JSON view switches both outputs');
        assert.equal(await page.locator('#d-vtext').isHidden(), true);
        await page.screenshot({ path: path.join(REPO, 'dist', 'report-variant.png') });
      } finally {
        await browser.close();
      }
    }

    // Adopt: the rule takes v2's prompt; the sampled pages are restored with no request, the rest are sent.
    write(dir, 'rules/page_ocr.ts', read(dir, 'rules/page_ocr.ts').replace("prompt: 'prompts/page_ocr/v1.ejs'", "prompt: 'prompts/page_ocr/v2.ejs'"));
    const sentBefore = fake.records().length;
    const adopted = await cli(['build', '--json', '--poll-seconds', '0.05']);
    const s = expectExit(adopted, 0);
    assert.equal(s['requests'], 8);
    assert.equal(fake.records().length - sentBefore, 8);
    assert.equal(s['restored'], 4);
    assert.deepEqual(eventsOf(adopted, 'restored').map((e) => e.key).sort(), [...SAMPLE].sort());
    const sentKeys = fake.records().slice(sentBefore).map((r) => r.key);
    for (const k of SAMPLE) assert.ok(!sentKeys.includes(k), `${k} was not sent again`);
    // eval of the real outputs now: v2's reading everywhere.
    const ev = JSON.parse((await cli(['eval', '--json'])).stdout);
    assert.equal(ev.overall.pages, 12);
    assert.equal(ev.overall.cer, 0);

    // One Braintrust experiment per try that did something (v2, then v1), with its scores.
    assert.deepEqual(bt.experiments.map((e) => e.name.split(' ')[0]), ['v2', 'v1']);
    assert.deepEqual(bt.unknown, []);
    const rows = bt.rows().filter((r) => r['experiment_id'] === bt.experiments[0]!.id && r['scores']);
    assert.equal(rows.length, 4, 'a row per page tried');
    for (const r of rows) assert.equal(r['scores'].char_accuracy, 1);
    const v1Rows = bt.rows().filter((r) => r['experiment_id'] === bt.experiments[1]!.id && r['scores']);
    assert.equal(v1Rows.length, 4);
    assert.ok(v1Rows.every((r) => r['scores'].char_accuracy < 1 && r['metrics'].cer > 0));
    assert.ok(!JSON.stringify(bt.requests).includes('test-key'), 'the Gemini key never reaches Braintrust');
  });

  test('gc keeps what variants built; a variant from flags; the errors of try', async () => {
    // v1's results are no page's current request any more (v2 was adopted): only v1's area references them.
    const gc = await cli(['gc', '--keep-days', '0', '--json']);
    assert.equal(gc.code, 0, gc.stderr);
    assert.ok(JSON.parse(gc.stdout).referenced >= 16, gc.stdout);
    fs.rmSync(path.join(dir, '.ocrcache/variants/v1/outputs'), { recursive: true });
    const again = expectExit(await cli(['try', 'v1', '--sample', '4', '--json', '--poll-seconds', '0.05'], { BRAINTRUST_API_KEY: '' }), 0);
    assert.equal(again['requests'], 0, 'v1 restored from the result store after gc');
    assert.equal(again['restored'], 4);

    // v3 has v2's settings, given as flags: every request it needs is in the result store already.
    const v3 = expectExit(await cli(['try', 'v3', '--prompt', 'prompts/page_ocr/v2.ejs', '--sample', '2', '--json', '--poll-seconds', '0.05'], { BRAINTRUST_API_KEY: '' }), 0);
    assert.equal(v3['requests'], 0);
    assert.equal(v3['restored'], 2);
    assert.deepEqual(JSON.parse(read(dir, '.ocrcache/variants/v3/variant.json')).settings, { prompt: 'prompts/page_ocr/v2.ejs' });
    // ...and it is known to compare afterwards, without the flags.
    const cmp = await cli(['compare', 'v2', 'v3', '--json']);
    assert.equal(cmp.code, 0, cmp.stderr);
    assert.equal(JSON.parse(cmp.stdout).pages.length, 2);

    // An ad-hoc variant whose prompt is deleted afterwards stops only commands about it.
    write(dir, 'prompts/page_ocr/scratch.ejs', proofreadPrompt());
    expectExit(await cli(['try', 'scratch', '--prompt', 'prompts/page_ocr/scratch.ejs', '--sample', '1', '--json', '--poll-seconds', '0.05'], { BRAINTRUST_API_KEY: '' }), 0);
    fs.rmSync(path.join(dir, 'prompts/page_ocr/scratch.ejs'));
    assert.equal((await cli(['compare', 'v2', 'v3', '--json'])).code, 0);
    assert.equal((await cli(['eval', '--json'])).code, 0);
    const gone = await cli(['eval', '--variant', 'scratch']);
    assert.equal(gone.code, 2);
    assert.match(gone.stderr, /variants\.scratch\.prompt: prompt file prompts\/page_ocr\/scratch\.ejs does not exist/);

    const clash = await cli(['try', 'v2', '--model', 'gemini-2.5-flash']);
    assert.equal(clash.code, 2);
    assert.match(clash.stderr, /variant "v2" is defined in the ocrfile/);
    const unknown = await cli(['try', 'nope']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no variant "nope" \(variants: v1, v2, scratch, v3\)/);
    const badName = await cli(['try', 'current', '--prompt', 'prompts/page_ocr/v2.ejs']);
    assert.equal(badName.code, 2);
    assert.match(badName.stderr, /variants\.current/);
    const missing = await cli(['try', 'v4', '--prompt', 'prompts/page_ocr/none.ejs']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /variants\.v4\.prompt.*prompt file prompts\/page_ocr\/none\.ejs does not exist/s);
  });
});
