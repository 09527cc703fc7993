// The Gemini engines end to end: the real CLI in a temp project, the real @google/genai SDK inside it, and
// the fake Gemini server (test/fake-gemini) in this process. "Fresh" is asserted as zero requests at the
// fake; context flow, prompt edits, cutoff, retries, dead pages, failed batches and the absence of a wave
// barrier are asserted from what the fake received (DESIGN §4–§8, §12).
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { FakeGemini, RecordFault, RouteName } from './fake-gemini/index.js';
import { makeProject, read, runCli, type CliResult } from './util/rig.js';
import {
  ALABAMA, CALIFORNIA, VIRGINIA, bookFiles, buildAgainst, eventsOf, expectExit, explainJson, geminiEnv, keyOf, loadPageRule, ocrfileWith,
  startFake, walk, withFake, type PageRule,
} from './util/gemini-rig.js';

const PROMPT = 'prompts/page_ocr/v1.ejs';
const A = (n: number) => keyOf(ALABAMA, n);
const C = (n: number) => keyOf(CALIFORNIA, n);
const V = (n: number) => keyOf(VIRGINIA, n);
/** The sample's chains: Alabama 1–4, California 3–5 and 12 (after the gap at 6–11), Virginia 1–4. */
const CHAINS = [[A(1), A(2), A(3), A(4)], [C(3), C(4), C(5)], [C(12)], [V(1), V(2), V(3), V(4)]];
const ALL = CHAINS.flat();
const FIRST = CHAINS.map((c) => c[0]!);
const NON_FIRST = CHAINS.flatMap((c) => c.slice(1));
const outputOf = (key: string) => `dataset/output_results/${key.split(':').slice(0, 3).join('/')}/${key.split(':')[3]}.json`;
const imageOf = (key: string) => `dataset/raw_image_dataset/${key.split(':').slice(0, 3).join('/')}/${key.split(':')[3]}.png`;
const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');
const sorted = <T>(xs: Iterable<T>) => [...xs].sort();

/** The prompt's fixed sentences in front of previousContext inside the context block, read from the template. */
function contextPreamble(dir: string): string {
  const text = read(dir, PROMPT);
  const m = /--- PREVIOUS PAGE CONTEXT ---\n([\s\S]*?)\n<%- previousContext %>/.exec(text);
  assert.ok(m?.[1], 'the prompt has a context block with a preamble');
  return m[1];
}

function editPrompt(dir: string, from: string, to: string): void {
  const text = read(dir, PROMPT);
  assert.ok(text.includes(from), `the prompt contains "${from}"`);
  fs.writeFileSync(path.join(dir, PROMPT), text.replace(from, to));
}

/** Keys of the model requests the fake received, in order. */
const recordKeys = (fake: FakeGemini) => fake.records().map((r) => r.key);

/** A project with the first `pages` pages of the Alabama book only (pages 1–4 exist in the sample). */
function alabamaProject(pages: number): string {
  const dir = makeProject({ books: [ALABAMA] });
  for (let n = pages + 1; n <= 4; n++) fs.rmSync(path.join(dir, `dataset/label_to_curricular/${ALABAMA}/${n}.json`));
  return dir;
}

/** [key, class, attempt, dead] of every `failed` event. */
const failures = (r: CliResult) => eventsOf(r, 'failed').map((e) => [e.key, e.class, e.attempt, e.dead]);

// These three tests share one project and one fake, and run in order: each starts from the previous one's cache.
describe('gemini-batch on the sample collection', () => {
  let fake: FakeGemini;
  let dir: string;
  let rule: PageRule;
  /** Outputs of the first build, output path → bytes. */
  const firstOutputs = new Map<string, string>();

  before(async () => {
    // Result lines in shuffled order: results are joined on their key, never on their position.
    fake = await startFake({ shuffleResults: true });
    dir = makeProject();
    rule = await loadPageRule(dir);
  });
  afterEach(() => {
    assert.deepEqual(fake.errors, [], 'the fake Gemini server saw no internal error');
  });
  after(async () => {
    await fake?.close();
  });

  test('builds every page in one batch per chain depth; each request carries its predecessor\'s context; a second build sends nothing', async () => {
    fake.resetCounters();
    const r = await buildAgainst(dir, fake);
    const s = expectExit(r, 0);
    assert.equal(s['built'], 12);
    assert.equal(s['requests'], 12);
    assert.equal(s['failed'], 0);
    // Images are uploaded once per content hash.
    const images = new Set(ALL.map((k) => sha256(fs.readFileSync(path.join(dir, imageOf(k))))));
    assert.equal(images.size, 12);
    assert.equal(s['uploads'], images.size);
    assert.equal(fake.counters.upload_start, images.size + s['batches']!, 'one upload per image plus one JSONL input per batch');
    // One round per page depth: the longest chains have 4 pages.
    assert.equal(s['batches'], 4);
    assert.equal(fake.counters.batches_created, 4);
    assert.equal(fake.rounds(), 4);
    assert.deepEqual(sorted(recordKeys(fake)), sorted(ALL), 'each page sent exactly once');

    const contexts = fake.contextByKey();
    const preamble = contextPreamble(dir);
    for (const key of FIRST) assert.equal(contexts.get(key), null, `${key} starts a chain: no context`);
    for (const chain of CHAINS) {
      for (let i = 1; i < chain.length; i++) {
        const previous = JSON.parse(read(dir, outputOf(chain[i - 1]!)));
        assert.equal(contexts.get(chain[i]!), `${preamble}\n${rule.pageContext(previous)}`.trim(), `${chain[i]} carries ${chain[i - 1]}'s context`);
      }
    }

    for (const key of ALL) {
      const text = read(dir, outputOf(key));
      firstOutputs.set(outputOf(key), text);
      const value = JSON.parse(text);
      const parsed = rule.PageOcr.safeParse(value);
      assert.ok(parsed.success, `${key}: the output validates against the rule's schema: ${String(parsed.error)}`);
      assert.deepEqual(parsed.data, value, `${key}: the output is exactly the validated value`);
      assert.ok(value.raw_ocr.text_blocks.length > 0, `${key}: has text blocks`);
      // The fake names the context it saw: none for first pages.
      assert.equal(value.raw_ocr.layout_description.endsWith('previous-context: none'), FIRST.includes(key), key);
    }
    assert.equal([...walk(path.join(dir, 'dataset/output_results'))].length, 12, 'no output for unlisted California page 6');

    fake.resetCounters();
    const again = await buildAgainst(dir, fake);
    const s2 = expectExit(again, 0);
    assert.equal(s2['requests'], 0);
    assert.equal(s2['built'], 0);
    assert.equal(s2['fresh'], 12);
    assert.equal(fake.counters.requests, 0, 'the fake received no request at all');
  });

  test('an edit inside the context block makes exactly the non-first pages stale (prompt-changed); reverting restores all for free', async () => {
    const from = 'The page before this one ended as follows.';
    const to = 'The previous page of the scan ended like this.';
    editPrompt(dir, from, to);

    fake.resetCounters();
    const dry = await runCli(dir, ['build', '--dry-run', '--json'], { env: geminiEnv(fake) });
    expectExit(dry, 0);
    assert.deepEqual(
      eventsOf(dry, 'stale').map((e) => [e.key, e.state, e.reasons.map((x: { code: string }) => x.code).join()]).sort(),
      NON_FIRST.map((k) => [k, 'stale', 'prompt-changed']).sort(),
    );
    // A dry run may check the model and count tokens for its cost estimate, but uploads nothing and sends no page to a model.
    assert.deepEqual(fake.requests.filter((q) => q.route !== 'count_tokens' && q.route !== 'model_get').map((q) => q.route), [], 'a dry run sends nothing');
    assert.deepEqual(fake.records(), []);

    fake.resetCounters();
    const r = await buildAgainst(dir, fake);
    const s = expectExit(r, 0);
    assert.equal(s['requests'], 8);
    assert.equal(s['built'], 8);
    assert.equal(s['uploads'], 0, 'images uploaded by the first build are reused');
    assert.deepEqual(sorted(recordKeys(fake)), sorted(NON_FIRST), 'only the pages whose prompt changed are sent');
    for (const [key, context] of fake.contextByKey()) assert.ok(context?.startsWith(to), `${key} was sent the edited context block`);
    for (const key of FIRST) assert.equal(read(dir, outputOf(key)), firstOutputs.get(outputOf(key)), `${key} untouched`);

    editPrompt(dir, to, from);
    fake.resetCounters();
    const reverted = await buildAgainst(dir, fake);
    const s2 = expectExit(reverted, 0);
    assert.equal(s2['restored'], 8);
    assert.equal(s2['requests'], 0);
    assert.equal(fake.counters.requests, 0);
    assert.deepEqual(sorted(eventsOf(reverted, 'restored').map((e) => e.key)), sorted(NON_FIRST));
    for (const [file, bytes] of firstOutputs) assert.equal(read(dir, file), bytes, `${file} restored byte for byte`);
  });

  test('cutoff: --force on Alabama page 2 with an identical reply sends one request and none for pages 3–4', async () => {
    const before = new Map([A(2), A(3), A(4)].map((k) => [k, read(dir, outputOf(k))]));
    fake.resetCounters();
    const r = await runCli(dir, ['build', '--json', '--poll-seconds', '0.05', '--force', A(2)], { env: geminiEnv(fake) });
    const s = expectExit(r, 0);
    assert.equal(s['requests'], 1);
    assert.equal(s['built'], 1);
    assert.equal(s['uploads'], 0);
    assert.deepEqual(recordKeys(fake), [A(2)]);
    assert.equal(fake.counters.create, 1);
    assert.deepEqual(sorted(eventsOf(r, 'cutoff').map((e) => e.key)), [A(3), A(4)]);
    assert.equal(s['cutoff'], 2);
    for (const [key, bytes] of before) assert.equal(read(dir, outputOf(key)), bytes, `${key} unchanged`);
    const status = JSON.parse((await runCli(dir, ['status', '--json'], { env: geminiEnv(fake) })).stdout);
    assert.equal(status.counts.fresh, 12);
  });
});

describe('gemini-batch: transient API errors are retried, no batch is created twice', { concurrency: 2 }, () => {
  // Each route answers 429 (with a short RetryInfo) and then 503 before it works.
  const routes: RouteName[] = ['upload_start', 'create', 'batch_get', 'download'];
  for (const route of routes) {
    test(`429 then 503 on ${route}`, async () => {
      const dir = alabamaProject(2);
      await withFake(async (fake) => {
        fake.faults.route(route, { kind: 'error', status: 429, retryDelay: '0.01s' }, 1);
        fake.faults.route(route, '503', 1);
        const r = await buildAgainst(dir, fake);
        const s = expectExit(r, 0);
        assert.equal(s['built'], 2);
        assert.equal(s['failed'], 0, 'an outage is not the page\'s failure');
        assert.equal(s['uploads'], 2);
        assert.equal(fake.faults.remaining().route, 0, 'both faults were consumed');
        assert.equal(fake.counters.faults_injected, 2);
        assert.deepEqual(fake.requestsFor(route).filter((q) => q.fault !== undefined).map((q) => q.status), [429, 503]);
        for (const status of [429, 503]) {
          assert.ok(eventsOf(r, 'engine').some((e) => new RegExp(`HTTP ${status}.*; retry \\d`).test(e.message)), `the retry after ${status} is reported`);
        }
        // No duplicate batch: one per chain depth, each page in exactly one.
        assert.equal(s['batches'], 2);
        assert.equal(fake.counters.batches_created, 2);
        assert.deepEqual(fake.batches().map((b) => b.keys).sort(), [[A(1)], [A(2)]]);
        assert.equal(fake.counters.create, route === 'create' ? 4 : 2);
        if (route === 'create') assert.ok(fake.counters.batch_list >= 1, 'after the 503 the batch was looked up by display name before a new create');
      });
    });
  }

  test('a create accepted by the server but answered 503 is adopted, not created again', async () => {
    const dir = alabamaProject(2);
    await withFake(async (fake) => {
      fake.faults.route('create', { kind: 'error', status: 503, afterHandling: true }, 1);
      const r = await buildAgainst(dir, fake);
      const s = expectExit(r, 0);
      assert.equal(s['built'], 2);
      assert.equal(fake.counters.create, 2, 'the ambiguous create was not repeated');
      assert.ok(fake.counters.batch_list >= 1, 'the batch was looked up by display name');
      assert.equal(fake.counters.batches_created, 2);
      assert.deepEqual(fake.batches().map((b) => b.keys).sort(), [[A(1)], [A(2)]]);
      assert.equal(new Set(fake.batches().map((b) => b.displayName)).size, 2);
    });
  });
});

describe('gemini-batch: per-record failures, dead pages and failed batches', { concurrency: 2 }, () => {
  test('an error line, bad JSON, a schema violation, MAX_TOKENS and a missing line fail only that page, which a later batch rebuilds', async () => {
    const dir = makeProject();
    await withFake(async (fake) => {
      const faults: Array<[string, RecordFault, string]> = [
        [A(2), 'error', 'api-error'],
        [A(3), 'malformed', 'json-error'],
        [V(2), 'schema', 'schema-error'],
        [V(4), 'max-tokens', 'truncated'],
        [C(4), 'missing', 'missing-result'],
      ];
      for (const [key, fault] of faults) fake.faults.record(key, fault, 1);
      const r = await buildAgainst(dir, fake);
      const s = expectExit(r, 0);
      assert.equal(s['built'], 12);
      assert.equal(s['failed'], 5);
      assert.equal(s['dead'], 0);
      assert.equal(s['uploads'], 12, 'a retried page reuses its uploaded image');
      assert.deepEqual(failures(r).sort(), faults.map(([key, , cls]) => [key, cls, 1, false]).sort());
      assert.equal(fake.faults.remaining().record, 0);
      for (const [key] of faults) {
        const batches = fake.batches().filter((b) => b.keys.includes(key));
        assert.equal(batches.length, 2, `${key} is sent twice`);
        assert.ok(batches[1]!.round > batches[0]!.round, `${key} is retried in a later batch`);
        assert.ok(fs.existsSync(path.join(dir, outputOf(key))), `${key} is built`);
      }
      // Pages without a fault were sent once.
      for (const key of ALL.filter((k) => !faults.some(([f]) => f === k))) assert.equal(fake.batches().filter((b) => b.keys.includes(key)).length, 1, key);
      const explain = await explainJson(dir, fake, C(4));
      assert.equal(explain.state, 'fresh');
      assert.equal(explain.lastError.class, 'missing-result', 'the failure log keeps the missing result');
    });
  });

  test('a page failing every attempt is dead after maxAttempts (3) with its class; the rest completes; exit 1', async () => {
    const dir = makeProject();
    await withFake(async (fake) => {
      const faults: Array<[string, RecordFault, string]> = [
        [A(2), 'malformed', 'json-error'],
        [V(3), 'schema', 'schema-error'],
        [C(4), 'max-tokens', 'truncated'],
      ];
      for (const [key, fault] of faults) fake.faults.record(key, fault, 'always');
      const r = await buildAgainst(dir, fake);
      const s = expectExit(r, 1);
      assert.equal(s['dead'], 3);
      assert.equal(s['failed'], 9);
      // Their successors are blocked; every other page is built.
      const blocked = [A(3), A(4), V(4), C(5)];
      assert.equal(s['blocked'], blocked.length);
      assert.deepEqual(sorted(eventsOf(r, 'blocked').map((e) => `${e.key}<-${e.by}`)), sorted([`${A(3)}<-${A(2)}`, `${A(4)}<-${A(2)}`, `${V(4)}<-${V(3)}`, `${C(5)}<-${C(4)}`]));
      const built = [A(1), V(1), V(2), C(3), C(12)];
      assert.equal(s['built'], built.length);
      assert.deepEqual(sorted(eventsOf(r, 'built').map((e) => e.key)), sorted(built));
      for (const key of [...blocked, ...faults.map(([k]) => k)]) assert.equal(fs.existsSync(path.join(dir, outputOf(key))), false, `${key} has no output`);
      for (const [key, , cls] of faults) {
        assert.deepEqual(failures(r).filter(([k]) => k === key), [[key, cls, 1, false], [key, cls, 2, false], [key, cls, 3, true]]);
        assert.equal(recordKeys(fake).filter((k) => k === key).length, 3, `${key} sent exactly maxAttempts times`);
        const e = await explainJson(dir, fake, key);
        assert.equal(e.state, 'dead');
        assert.equal(e.attempts, 3);
        assert.equal(e.lastError.class, cls);
      }
      // A dead page is not retried by the next build.
      fake.resetCounters();
      const again = await buildAgainst(dir, fake);
      const s2 = expectExit(again, 1);
      assert.equal(s2['requests'], 0);
      assert.equal(fake.counters.requests, 0);
    });
  });

  for (const end of ['EXPIRED', 'FAILED'] as const) {
    test(`a batch ending ${end} has its pages resubmitted in a new batch without an attempt charge`, async () => {
      const dir = alabamaProject(2);
      await withFake(async (fake) => {
        fake.faults.batch(end, 1);
        const r = await buildAgainst(dir, fake);
        const s = expectExit(r, 0);
        assert.equal(s['built'], 2);
        assert.equal(s['failed'], 0, 'nothing charged');
        assert.deepEqual(failures(r), [[A(1), 'api-error', 0, false]]);
        assert.match(eventsOf(r, 'failed')[0].message, new RegExp(`ended ${end}`));
        const batches = fake.batches();
        assert.deepEqual(batches.map((b) => [b.keys, b.state]), [[[A(1)], end], [[A(1)], 'SUCCEEDED'], [[A(2)], 'SUCCEEDED']]);
        assert.equal(s['batches'], 3);
        assert.equal(s['uploads'], 2, 'the resubmission reuses the uploaded image');
        const e = await explainJson(dir, fake, A(1));
        assert.equal(e.state, 'fresh');
        assert.equal(e.attempts, 0);
        assert.equal(e.lastError.class, 'api-error');
        assert.match(e.lastError.message, new RegExp(`ended ${end}`));
      });
    });
  }

  test('failed batches do not use up attempts: after two FAILED batches a bad page still gets three tries', async () => {
    const dir = alabamaProject(1);
    await withFake(async (fake) => {
      fake.faults.batch('FAILED', 2);
      fake.faults.record(A(1), 'malformed', 'always');
      const r = await buildAgainst(dir, fake);
      const s = expectExit(r, 1);
      assert.equal(s['dead'], 1);
      assert.deepEqual(failures(r), [
        [A(1), 'api-error', 0, false], [A(1), 'api-error', 0, false],
        [A(1), 'json-error', 1, false], [A(1), 'json-error', 2, false], [A(1), 'json-error', 3, true],
      ]);
      assert.deepEqual(fake.batches().map((b) => b.state), ['FAILED', 'FAILED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
      assert.equal(eventsOf(r, 'stopped').length, 0, 'two failed batches in a row are not three');
      const e = await explainJson(dir, fake, A(1));
      assert.equal(e.state, 'dead');
      assert.equal(e.attempts, 3);
      assert.equal(e.lastError.class, 'json-error');
    });
  });

  test('three batches in a row ending FAILED stop the build with a clear message; exit 1', async () => {
    const dir = alabamaProject(2);
    await withFake(async (fake) => {
      fake.faults.batch('FAILED', 'always');
      const r = await buildAgainst(dir, fake);
      const s = expectExit(r, 1);
      const stopped = eventsOf(r, 'stopped');
      assert.equal(stopped.length, 1);
      assert.match(stopped[0].message, /3 batches in a row ended FAILED/);
      assert.equal(fake.counters.batches_created, 3, 'no batch after the third failure');
      assert.deepEqual(fake.batches().map((b) => [b.keys, b.state]), Array(3).fill([[A(1)], 'FAILED']));
      assert.equal(s['built'], 0);
      assert.equal(s['failed'], 0);
      assert.equal(fs.existsSync(path.join(dir, 'dataset/output_results')), false, 'nothing written');
      const e = await explainJson(dir, fake, A(1));
      assert.equal(e.attempts, 0, 'failed batches charged no attempt');
      assert.notEqual(e.state, 'dead');
    });
  });
});

describe('gemini-batch: a failed page is resubmitted once, even while its first batch still runs', () => {
  test('an image upload refused (400) fails that page only; its retry in a new batch is not charged twice or sent twice', {
  }, async () => {
    // Three one-page books; batchSize 2, two slots: batch A = {X, Y}, batch B = {Z}. X's image upload is refused,
    // so A is created with Y alone. B ends first and frees a slot: X is resubmitted in batch C. A ends next
    // (its polls are slowed down), while C still runs (slower still).
    const X = 'Test:A College:1900:1', Y = 'Test:B College:1900:1', Z = 'Test:C College:1900:1';
    const dir = makeProject({
      dataset: false,
      files: {
        ...bookFiles({ 'Test/A College/1900': [`${ALABAMA}/1.png`], 'Test/B College/1900': [`${ALABAMA}/2.png`], 'Test/C College/1900': [`${ALABAMA}/3.png`] }),
        'ocrfile.ts': ocrfileWith('{ maxAttempts: 3, batchSize: 2, maxConcurrentBatches: 2, pollSeconds: 30 }'),
      },
    });
    await withFake(async (fake) => {
      const imageX = sha256(fs.readFileSync(path.join(dir, imageOf(X)))).slice(0, 16);
      fake.faults.route('upload_start', '400', 1, (q) => JSON.stringify(q.json ?? '').includes(imageX));
      const holds = (id: string, key: string) => fake.batch(id)?.keys.includes(key) ?? false;
      fake.faults.route('batch_get', { kind: 'delay', ms: 200 }, 'always', (q) => holds(q.id, Y));
      fake.faults.route('batch_get', { kind: 'delay', ms: 500 }, 'always', (q) => holds(q.id, X));
      const r = await buildAgainst(dir, fake);
      const s = expectExit(r, 0);
      assert.equal(fake.requestsFor('upload_start').filter((q) => q.status === 400).length, 1, 'X\'s upload was refused once');
      assert.deepEqual(failures(r), [[X, 'upload-error', 1, false]]);
      // Batches A and B are created side by side (in either order); X's retry comes third.
      const created = fake.batches().map((b) => b.keys);
      assert.deepEqual([...created.slice(0, 2)].sort(), [[Y], [Z]]);
      assert.deepEqual(created.slice(2), [[X]], 'X is sent to Gemini once');
      assert.equal(s['requests'], 3);
      assert.equal(s['built'], 3);
      assert.equal(s['failed'], 1);
    });
  });
});

describe('gemini-batch: no wave barrier', () => {
  test('with one batch slot of two pages, rounds equal the longest chain (6), not the 9 a wave barrier needs', async () => {
    // One 6-page book and four short ones (2, 2, 1 and 1 pages); the last short book reuses the long book's
    // first image, so 12 pages have 11 distinct images.
    const LONG = 'Testland/Long College/1900';
    const books: Record<string, string[]> = {
      [LONG]: [1, 2, 3, 4].map((n) => `${ALABAMA}/${n}.png`).concat([1, 2].map((n) => `${VIRGINIA}/${n}.png`)),
      'Testland/Short College/1901': [3, 4].map((n) => `${VIRGINIA}/${n}.png`),
      'Testland/Short College/1902': [3, 4].map((n) => `${CALIFORNIA}/${n}.png`),
      'Testland/Short College/1903': [`${CALIFORNIA}/5.png`],
      'Testland/Short College/1904': [`${ALABAMA}/1.png`],
    };
    const dir = makeProject({
      dataset: false,
      files: { ...bookFiles(books), 'ocrfile.ts': ocrfileWith('{ maxAttempts: 3, batchSize: 2, maxConcurrentBatches: 1, pollSeconds: 30 }') },
    });
    await withFake(async (fake) => {
      const r = await buildAgainst(dir, fake);
      const s = expectExit(r, 0);
      assert.equal(s['built'], 12);
      assert.equal(s['uploads'], 11, 'an image shared by two pages is uploaded once');
      // A barrier would run wave 1 (5 chain heads) as 3 batches of ≤2, wave 2 (3 pages) as 2, then waves 3–6
      // (the long book alone) as 1 each: 9 rounds. Refilling the slot from the whole frontier needs 6:
      // every batch carries the long book's next page plus one short-book page.
      assert.equal(fake.rounds(), 6);
      assert.equal(fake.counters.batches_created, 6);
      const batches = fake.batches();
      for (const [i, b] of batches.entries()) {
        assert.equal(b.keys.length, 2, `batch ${i + 1} is full`);
        assert.ok(b.keys.includes(keyOf(LONG, i + 1)), `batch ${i + 1} carries the long book's page ${i + 1}`);
      }
      // Batches ran one after another (one slot), each created only after the one before ended.
      for (let i = 1; i < batches.length; i++) assert.ok(batches[i]!.round === batches[i - 1]!.round + 1);
    });
  });
});

describe('the interactive gemini engine', () => {
  /** stderr of the first build below, for the listener-leak check after it. */
  let sampleStderr: string | null = null;

  test('builds the sample with generateContent (one call per page), retries a 429, and a second build sends nothing', async () => {
    const dir = makeProject();
    await withFake(async (fake) => {
      fake.faults.route('generate', { kind: 'error', status: 429, retryDelay: '0.01s' }, 1);
      const r = await buildAgainst(dir, fake, ['--engine', 'gemini']);
      sampleStderr = r.stderr;
      const s = expectExit(r, 0);
      assert.equal(s['built'], 12);
      assert.equal(s['requests'], 12);
      assert.equal(s['failed'], 0);
      assert.equal(s['batches'], 0);
      assert.equal(s['uploads'], 0);
      assert.equal(fake.counters.generate, 13, '12 pages plus the call answered 429');
      assert.deepEqual(fake.requestsFor('generate').filter((q) => q.fault !== undefined).map((q) => q.status), [429]);
      assert.equal(fake.counters.create + fake.counters.upload_start, 0, 'no batch, no upload');
      assert.deepEqual(fake.faults.remaining(), { route: 0, record: 0, batch: 0 });
      // Context flows as with batches: first pages none, the others their predecessor's.
      const images = new Map(ALL.map((k) => [sha256(fs.readFileSync(path.join(dir, imageOf(k)))), k]));
      const records = fake.records();
      assert.deepEqual(sorted(records.map((q) => images.get(q.imageSha256!))), sorted(ALL), 'one call per page');
      const rule = await loadPageRule(dir);
      const preamble = contextPreamble(dir);
      for (const q of records) {
        const key = images.get(q.imageSha256!)!;
        const chain = CHAINS.find((c) => c.includes(key))!;
        const previous = chain[chain.indexOf(key) - 1];
        const expected = previous ? `${preamble}\n${rule.pageContext(JSON.parse(read(dir, outputOf(previous))))}`.trim() : null;
        assert.equal(q.context, expected, `${key}'s context`);
      }
      for (const key of ALL) assert.ok(rule.PageOcr.safeParse(JSON.parse(read(dir, outputOf(key)))).success, key);

      fake.resetCounters();
      const again = await buildAgainst(dir, fake, ['--engine', 'gemini']);
      const s2 = expectExit(again, 0);
      assert.equal(s2['requests'], 0);
      assert.equal(fake.counters.requests, 0);
    });
  });

  test('an interactive build leaves no abort listener behind on the build\'s signal', {
  }, () => {
    assert.ok(sampleStderr !== null, 'the sample build above ran');
    assert.doesNotMatch(sampleStderr, /MaxListenersExceededWarning/);
  });

  test('a reply stopped for SAFETY fails that page as blocked-response, and a retry builds it', async () => {
    const dir = alabamaProject(2);
    await withFake(async (fake) => {
      const image = sha256(fs.readFileSync(path.join(dir, imageOf(A(1)))));
      fake.faults.record((q) => q.imageSha256 === image, 'safety', 1);
      const r = await buildAgainst(dir, fake, ['--engine', 'gemini']);
      expectExit(r, 0);
      const first = eventsOf(r, 'failed')[0];
      assert.deepEqual([first?.key, first?.class, first?.attempt, first?.dead], [A(1), 'blocked-response', 1, false]);
      assert.match(first.message, /finishReason SAFETY/);
      assert.equal(fake.faults.remaining().record, 0, 'the SAFETY reply was served');
      assert.deepEqual(sorted(new Set(eventsOf(r, 'built').map((e) => e.key))), [A(1), A(2)]);
      const rule = await loadPageRule(dir);
      assert.ok(rule.PageOcr.safeParse(JSON.parse(read(dir, outputOf(A(1))))).success);
      const e = await explainJson(dir, fake, A(1), ['--engine', 'gemini']);
      assert.equal(e.state, 'fresh');
    });
  });

  test('a reply stopped for SAFETY costs exactly one attempt and one extra call', {
  }, async () => {
    const dir = alabamaProject(2);
    await withFake(async (fake) => {
      const image = sha256(fs.readFileSync(path.join(dir, imageOf(A(1)))));
      fake.faults.record((q) => q.imageSha256 === image, 'safety', 1);
      const r = await buildAgainst(dir, fake, ['--engine', 'gemini']);
      const s = expectExit(r, 0);
      assert.deepEqual(failures(r), [[A(1), 'blocked-response', 1, false]]);
      assert.match(eventsOf(r, 'failed')[0].message, /SAFETY/);
      assert.equal(fake.counters.generate, 3, 'page 1, its retry, page 2');
      assert.equal(s['requests'], 3);
      assert.equal(s['built'], 2);
      assert.equal(s['failed'], 1);
      assert.deepEqual(eventsOf(r, 'built').map((e) => e.key), [A(1), A(2)]);
    });
  });
});
