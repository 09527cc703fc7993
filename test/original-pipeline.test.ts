// A project of the original course-catalog pipeline taken over by ocrmake (issue 11, Done when 2 and 3):
// import-seed, then a dry run and a build with gemini-batch against the fake Gemini. Its outputs adopt
// without a rejection, the pages it gave up on stay dead, its failure history shows in `ocrmake failures`,
// and the next page's prompt is exactly the one the original would send (fixture written with Jinja2).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import Ajv2020 from 'ajv/dist/2020.js';
import { loadConfig } from '../src/config/load.js';
import type { FakeGemini } from './fake-gemini/index.js';
import { buildAgainst, eventsOf, expectExit, geminiEnv, walk, withFake } from './util/gemini-rig.js';
import { BOOKS, DEAD, FAILED_ONCE, FIXTURE, NEXT_NEW, originalProject, STRANGER } from './util/original-project.js';
import { makeProject, runCli } from './util/rig.js';

const SCHEMA = JSON.parse(fs.readFileSync(path.join(FIXTURE, 'output-model.schema.json'), 'utf8'));
const validateOriginal = new Ajv2020.default({ allErrors: true, strict: false }).compile(SCHEMA);

function assertOriginalModel(file: string): void {
  const ok = validateOriginal(JSON.parse(fs.readFileSync(file, 'utf8')));
  assert.ok(ok, `${file} is an OcrPageResult of the original: ${JSON.stringify(validateOriginal.errors)}`);
}

/** The JSONL request lines of every batch the fake was asked to create. */
function sentLines(fake: FakeGemini): Array<{ key: string; request: any }> {
  return fake
    .requestsFor('create')
    .map((q) => String((q.json as any).batch.inputConfig.fileName))
    .flatMap((name) => fake.fileBytes(name)!.toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)));
}

describe('coming from the original course-catalog pipeline', { concurrency: 1 }, () => {
  test('import-seed, a dry run and a build with gemini-batch: outputs adopted, dead pages dead, the next prompt is the original\'s', async () => {
    const dir = await originalProject();
    const imported = await runCli(dir, ['import-seed', '.', '--json']);
    assert.equal(imported.code, 0, imported.stderr);
    const r = JSON.parse(imported.stdout);
    assert.deepEqual(r.written, ['ocrfile.ts', 'rules/page_ocr.ts']);
    assert.equal(r.pages, 11);
    assert.equal(r.adopted, 4, 'every output of the original adopts, nulls and free-text fields included');
    assert.deepEqual(r.skipped, []);
    assert.deepEqual(r.failureCounts, { imported: 2, dead: 1, failed: 1, untied: [], unknown: [STRANGER] });
    assert.deepEqual([r.failureLogs.imported, r.failureLogs.unknown], [4, 1]);
    assert.ok(r.notes.some((n: string) => n.startsWith('model.generation_config.response_mime_type is not carried over')));
    const ocrfile = fs.readFileSync(path.join(dir, 'ocrfile.ts'), 'utf8');
    for (const line of ["image: 'dataset/raw_image_dataset/{state}/{school}/{year}/{page}.jpg'", "prompt: 'prompts/page_ocr/v1.1.jinja'", "model: 'gemini-2.5-flash'", 'generationConfig: { temperature: 0.1, maxOutputTokens: 8192 }', 'filters: { year: { from: 1849, to: 1860 } }', 'maxAttempts: 3, batchSize: 3, maxConcurrentBatches: 4, pollSeconds: 30']) {
      assert.ok(ocrfile.includes(line), `the ocrfile carries ${line}`);
    }

    // Dead stays dead, with the original's history; the page it retries is failed, not fresh.
    const status = JSON.parse((await runCli(dir, ['status', '--all', '--json'])).stdout);
    const state = Object.fromEntries(status.items.map((i: any) => [i.key, i.state]));
    assert.deepEqual(
      [state[`${BOOKS.alabama.key}:1`], state[`${BOOKS.alabama.key}:2`], state[NEXT_NEW], state[DEAD], state[`${BOOKS.virginia.key}:3`], state[FAILED_ONCE]],
      ['fresh', 'fresh', 'stale', 'dead', 'blocked', 'failed'],
    );
    const history = JSON.parse((await runCli(dir, ['failures', DEAD, '--json'])).stdout);
    const rows = JSON.stringify(history);
    for (const bit of ['batches/first', 'batches/second', 'batches/third', 'JSONDecodeError', 'schema-error', '2025-03-01T10:41:00.000Z']) assert.ok(rows.includes(bit), `the history has ${bit}`);

    // Importing again adds nothing twice.
    const again = JSON.parse((await runCli(dir, ['import-seed', '.', '--force', '--json'])).stdout);
    assert.deepEqual([again.adopted, again.fresh, again.failureLogs.imported, again.failureLogs.repeated], [0, 4, 0, 4]);

    await withFake(async (fake) => {
      const dry = await runCli(dir, ['build', '--dry-run', '--engine', 'gemini-batch', '--json'], { env: geminiEnv(fake) });
      assert.equal(dry.code, 0, dry.stderr);
      const plan = eventsOf(dry, 'plan')[0];
      assert.deepEqual([plan.counts.fresh, plan.counts.dead, plan.counts.blocked, plan.counts.failed, plan.toSend], [4, 1, 2, 1, 4]);
      assert.equal(fake.counters.create + fake.counters.upload_start + fake.counters.generate, 0, 'a dry run sends nothing');

      const built = await buildAgainst(dir, fake, ['--engine', 'gemini-batch']);
      const s = expectExit(built, 1);
      assert.deepEqual([s['built'], s['dead'], s['blocked'], s['requests']], [4, 1, 2, 4]);
      const sent = sentLines(fake);
      assert.ok(!sent.some((l) => l.key.includes('Hampden')), 'the page the original gave up on is not sent');
      const next = sent.find((l) => l.key === NEXT_NEW || l.key.endsWith(NEXT_NEW));
      assert.ok(next, `the batch carries ${NEXT_NEW}`);
      const prompt = next!.request.contents[0].parts.find((p: any) => typeof p.text === 'string').text;
      assert.equal(prompt, fs.readFileSync(path.join(FIXTURE, 'expected-prompt.txt'), 'utf8'), 'the prompt the original sends for this page');
      assert.deepEqual(next!.request.generationConfig.temperature, 0.1);
    });

    // Both ways: the original's outputs and ocrmake's new ones are all of the original's output model.
    const outputs = [...walk(path.join(dir, 'dataset/output_results'))];
    assert.equal(outputs.length, 8);
    for (const f of outputs) assertOriginalModel(f);
  });

  test('import-seed refuses while the original still has active batches, listing them, and writes nothing', async () => {
    const dir = await originalProject({ active: true });
    const r = await runCli(dir, ['import-seed', dir]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /data\/gemini_batches\.db still has 1 active batch \(2 pages in flight\):\n {2}batches\/still-running \(since 2025-03-01T10:50:00\.000Z\)\n {2}Let the original pipeline collect them/);
    assert.equal(fs.existsSync(path.join(dir, 'ocrfile.ts')), false);
    assert.equal(fs.existsSync(path.join(dir, '.ocrcache')), false);
  });

  test('the course-catalog rule\'s schema is the original output model: fields, types and nullability', async () => {
    const dir = makeProject({ books: ['Alabama/Howard College/1849'] });
    const config = await loadConfig(dir);
    // Compare what each schema allows at every path: the types (null included) and which fields are required.
    const shape = (node: any, defs: Record<string, any>): unknown => {
      if (node.$ref) return shape(defs[node.$ref.split('/').at(-1)], defs);
      const types: string[] = node.anyOf ? node.anyOf.flatMap((n: any) => [].concat(shape(n, defs) as never)) : [].concat(node.type);
      if (types.includes('object')) return { object: Object.fromEntries(Object.entries(node.properties).map(([k, v]) => [k, shape(v, defs)])), required: [...node.required].sort() };
      if (types.includes('array')) return types.map((t) => (t === 'array' ? { array: shape(node.anyOf ? node.anyOf.find((n: any) => n.type === 'array').items : node.items, defs) } : t));
      return types.sort();
    };
    const ours = config.rule.jsonSchema as any;
    assert.deepEqual(shape(ours, ours.$defs ?? {}), shape(SCHEMA, SCHEMA.$defs));
    // And the sample outputs of the original adopt: every one is valid for the rule.
    for (const f of walk(path.join(FIXTURE, 'outputs'))) {
      const parsed = config.rule.schema.safeParse(JSON.parse(fs.readFileSync(f, 'utf8')));
      assert.ok(parsed.success, `${f}: ${JSON.stringify(parsed.error?.issues)}`);
      assertOriginalModel(f);
    }
  });
});
