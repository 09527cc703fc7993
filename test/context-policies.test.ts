// Context policies (README "Context policies", DESIGN §15): how many batch rounds a collection of books takes
// under exact, draft and speculative, and with an interactive tail before a deadline, measured on the fake
// Gemini server's round clock (test/util/rounds.ts ends every running batch at once when the build has sent
// all it can: one turnaround, one round). Also: speculative's end state is exact's, page for page; switching
// policy re-plans exactly the pages whose request changes and switching back costs nothing; explain names the
// context a page was built with.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { pageOcrReply, sha256Hex, type FakeGemini, type Replier } from './fake-gemini/index.js';
import { tinyPng } from '../scripts/png.js';
import { buildAgainst, eventsOf, expectExit, explainJson, geminiEnv, startFake, withFake } from './util/gemini-rig.js';
import { layoutProject } from './util/layout.js';
import { read, runCli, write } from './util/rig.js';
import { buildInRounds } from './util/rounds.js';

const EXECUTION = '{ batchSize: 100, maxConcurrentBatches: 10, pollSeconds: 30, maxAttempts: 3 }';

/** `books` books of `pages` pages each, every page a different tiny PNG. */
function collection(books: number, pages: number, context: string): string {
  const files: Record<string, Buffer> = {};
  for (let b = 1; b <= books; b++) for (let p = 1; p <= pages; p++) files[`scans/b${b}/${p}.png`] = tinyPng(`b${b}/${p}`);
  return layoutProject({ image: 'scans/{book}/{page}.png', target: 'out/{book}/{page}.json', engine: 'gemini-batch', execution: EXECUTION, images: {}, files, extra: `context: ${context},` });
}

/** Switches the ocrfile's context option. */
function setContext(dir: string, context: string): void {
  const file = path.join(dir, 'ocrfile.ts');
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/context: \{[^}]*\},/, `context: ${context},`));
}

/** What the loose rule (test/util/layout.ts) passes on as context: the last 200 characters of the page's text. */
const contextOf = (output: any): string => output.raw_ocr.text_blocks.map((b: any) => b.text).join('\n').slice(-200).trim();

/** Every output file of a project, by relative path. */
function outputs(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(rel, e.name));
      else out.set(path.join(rel, e.name), read(dir, path.join(rel, e.name)));
    }
  };
  walk('out');
  return out;
}

/**
 * The fake's page reply, with text that also depends on the context for about half the pages: those pages'
 * drafts (made without context) differ from their final outputs, so a speculative guess of their successor
 * misses and must be sent again.
 */
const contextSensitive: Replier = (request) => {
  const json = pageOcrReply(request, new Map()) as any;
  if (request.contextHash !== null && parseInt(request.contextHash[0]!, 16) < 8) json.raw_ocr.text_blocks.push({ text: `follows ${request.contextHash}` });
  return { json };
};

describe('rounds of 3 books × 12 pages, 100 pages a batch and 10 batches at once', { concurrency: 3 }, () => {
  const expected = { exact: { rounds: 12, requests: 36 }, draft: { rounds: 2, requests: 36 + 30 }, speculative: { rounds: 2, requests: 36 + 30 } };
  for (const mode of ['exact', 'draft', 'speculative'] as const) {
    test(`${mode}: ${expected[mode].rounds} rounds and ${expected[mode].requests} requests, as the dry run predicts`, async () => {
      const fake = await startFake({ batchTiming: 'manual' });
      try {
        const dir = collection(3, 12, `{ mode: '${mode}' }`);
        const dry = await runCli(dir, ['build', '--dry-run', '--json'], { env: geminiEnv(fake) });
        const policies = dry.events.find((e) => e.event === 'plan').policies;
        assert.equal(policies.mode, mode);
        const predicted = policies.rows.find((r: any) => r.policy === mode);
        fake.resetCounters();

        const r = await buildInRounds(dir, fake);
        const s = expectExit(r, 0) as any;
        assert.equal(s.fresh, 36);
        assert.equal(fake.rounds(), expected[mode].rounds, `rounds of ${mode}`);
        assert.equal(s.requests, expected[mode].requests);
        // The dry run's prediction is what happened (speculative: its best case, every guess verified).
        assert.equal(predicted.rounds[0], expected[mode].rounds);
        assert.equal(predicted.requests[0], expected[mode].requests);
        if (mode === 'speculative') {
          assert.deepEqual(s.context, { mode, drafts: 30, speculated: 30, hits: 30, misses: 0 });
        }
        if (mode === 'draft') assert.deepEqual(s.context, { mode, drafts: 30, speculated: 0, hits: 0, misses: 0 });
        assert.deepEqual(fake.errors, []);
        // Nothing is sent twice: every batch record has its own key.
        const keys = fake.batches().flatMap((b) => b.keys);
        assert.equal(new Set(keys).size, keys.length);
      } finally {
        await fake.close();
      }
    });
  }
});

// Independent projects and fakes: three at a time (they mostly wait on polls and child processes).
describe('context policies', { concurrency: 3 }, () => {
  test('speculative ends where exact ends: every page\'s final request carried its predecessor\'s final context', async (t) => {
    const exactFake = await startFake({ replier: contextSensitive });
    const specFake = await startFake({ replier: contextSensitive, batchTiming: 'manual' });
    try {
      const exact = collection(2, 10, `{ mode: 'exact' }`);
      const spec = collection(2, 10, `{ mode: 'speculative' }`);
      expectExit(await buildAgainst(exact, exactFake), 0);
      const r = await buildInRounds(spec, specFake);
      const s = expectExit(r, 0) as any;
      assert.ok(s.context.misses > 0 && s.context.hits > 0, `some guesses hold, some miss: ${JSON.stringify(s.context)}`);
      assert.equal(s.context.hits + s.context.misses, s.context.speculated);
      t.diagnostic(`speculative: ${specFake.rounds()} rounds, ${s.requests} requests, ${JSON.stringify(s.context)}`);
      assert.ok(specFake.rounds() < 10, `fewer rounds than exact's 10 (${specFake.rounds()})`);

      // Page for page, the same bytes as exact's (each reply names the hash of the context it was given).
      const a = outputs(exact), b = outputs(spec);
      assert.equal(b.size, 20);
      assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort());
      for (const [file, text] of a) assert.equal(b.get(file), text, file);

      // Through the fake's recorded prompts: the request that made each page's output carried exactly the
      // context the rule makes of its predecessor's final output.
      const records = specFake.records();
      for (let book = 1; book <= 2; book++) {
        for (let page = 2; page <= 10; page++) {
          const out = JSON.parse(read(spec, `out/b${book}/${page}.json`));
          const want = contextOf(JSON.parse(read(spec, `out/b${book}/${page - 1}.json`)));
          const used = /previous-context: sha256:([0-9a-f]+)/.exec(out.raw_ocr.layout_description)![1]!;
          assert.equal(used, sha256Hex(want).slice(0, 16), `b${book}:${page}`);
          const made = records.filter((rec) => rec.contextHash === used && (rec.key === `b${book}:${page}` || rec.key!.startsWith('spec|')));
          assert.ok(made.length >= 1, `a recorded request of b${book}:${page} with that context`);
          assert.equal(made[0]!.context, want);
        }
      }
      // explain says which context each page was built with: a verified guess, or its predecessor's final output.
      const kinds = new Set<string>();
      for (const page of [3, 5, 7, 9]) {
        const how = await explainJson(spec, specFake, `b1:${page}`);
        assert.equal(how.context.of, `b1:${page - 1}`);
        assert.equal(how.context.hash, sha256Hex(read(spec, `out/b1/${page - 1}.json`)), 'the hash of the predecessor output it was built with');
        kinds.add(how.context.kind);
      }
      assert.ok([...kinds].every((k) => k === 'final' || k === 'speculative'), [...kinds].join());
      // And a build after it has nothing to do.
      specFake.resetCounters();
      const again = expectExit(await buildAgainst(spec, specFake), 0);
      assert.equal(again['requests'], 0);
    } finally {
      await exactFake.close();
      await specFake.close();
    }
  });

  /** Replies whose text always names the context it was given: a page's draft never equals its final output. */
  const contextEchoing: Replier = (request) => {
    const json = pageOcrReply(request, new Map()) as any;
    if (request.contextHash !== null) json.raw_ocr.text_blocks.push({ text: `follows ${request.contextHash}` });
    return { json };
  };

  test('switching context.mode re-plans the pages whose request changes; switching back restores them with no request', () =>
    withFake(async (fake) => {
      const dir = collection(2, 6, `{ mode: 'exact' }`);
      expectExit(await buildAgainst(dir, fake), 0);
      assert.equal((await explainJson(dir, fake, 'b1:3')).context.kind, 'final');

      // speculative sends exactly exact's requests in the end: nothing to re-plan.
      setContext(dir, `{ mode: 'speculative' }`);
      fake.resetCounters();
      let s = expectExit(await buildAgainst(dir, fake), 0);
      assert.equal(s['requests'], 0);
      assert.equal(s['built']! + s['restored']!, 0);

      // draft: a page's context is its predecessor's draft. A book's first page has no context, so its draft is
      // its request and page 2's context does not change; pages 3 to 6 wait for the drafts of pages 2 to 5.
      setContext(dir, `{ mode: 'draft' }`);
      const dry = await runCli(dir, ['build', '--dry-run', '--json'], { env: geminiEnv(fake) });
      const replanned = dry.events.filter((e) => e.event === 'stale').map((e) => `${e.key} ${e.state}`).sort();
      assert.deepEqual(replanned, ['b1:3', 'b1:4', 'b1:5', 'b1:6', 'b2:3', 'b2:4', 'b2:5', 'b2:6'].map((k) => `${k} waiting`));
      fake.resetCounters();
      s = expectExit(await buildAgainst(dir, fake), 0);
      // These replies do not depend on the context: each draft says what the final output says, so the pages
      // that waited for drafts turn out to have their old requests: fresh with no call (cutoffs). Only drafts were paid.
      assert.equal(s['requests'], 8);
      assert.equal(s['cutoff'], 8);
      assert.equal(s['built'], 0);
    }),
  );

  test('a context that changes a page\'s text: switching to draft sends the changed pages, and switching back sends nothing', () =>
    withFake(async (fake) => {
      const dir = collection(2, 6, `{ mode: 'exact' }`);
      expectExit(await buildAgainst(dir, fake), 0);
      setContext(dir, `{ mode: 'draft' }`);
      fake.resetCounters();
      let s = expectExit(await buildAgainst(dir, fake), 0);
      // Drafts of pages 2 to 5 of each book, then pages 3 to 6 with their new context.
      assert.equal(s['requests'], 8 + 8);
      assert.equal(s['built'], 8);
      const how = await explainJson(dir, fake, 'b1:3');
      assert.equal(how.context.kind, 'draft');
      assert.equal(how.context.of, 'b1:2');
      assert.equal((await explainJson(dir, fake, 'b1:1')).context, null);
      // Its request carried the context of page 2's draft (a reply to page 2 without context), not of its output.
      const sent = fake.records().find((r) => r.key === 'b1:3')!.context;
      const drafts = fake.records().filter((r) => r.key!.startsWith('draft|'));
      assert.ok(drafts.some((d) => contextOf(pageOcrReply({ imageSha256: d.imageSha256, contextHash: null }, new Map())) === sent), `b1:3 was sent a draft's context: ${sent}`);
      assert.notEqual(sent, contextOf(JSON.parse(read(dir, 'out/b1/2.json'))));

      // Back to exact, then to draft again: both results are in the result store.
      for (const mode of ['exact', 'draft']) {
        setContext(dir, `{ mode: '${mode}' }`);
        fake.resetCounters();
        s = expectExit(await buildAgainst(dir, fake), 0);
        assert.equal(s['requests'], 0, mode);
        assert.equal(fake.counters.requests, 0, `${mode}: no API call at all`);
        assert.equal(s['restored'], 8, mode);
      }
    }, { replier: contextEchoing }),
  );

  test('draft from local OCR: every page goes out in one round, and the drafts cost no request', async () => {
    const fake = await startFake({ batchTiming: 'manual' });
    try {
      const dir = collection(2, 5, `{ mode: 'draft', draft: 'local' }`);
      const r = await buildInRounds(dir, fake);
      const s = expectExit(r, 0) as any;
      assert.equal(fake.rounds(), 1);
      assert.equal(s.requests, 10);
      assert.equal(s.context.drafts, 8);
      const how = await explainJson(dir, fake, 'b2:4');
      assert.equal(how.context.kind, 'draft');
      assert.equal(how.context.of, 'b2:3');
      assert.match(how.context.hash, /^[0-9a-f]{64}$/, 'the local draft it was built with, by its request fingerprint');
      // No draft went to Gemini: the local engine made them all.
      assert.deepEqual(fake.records().filter((rec) => rec.key!.startsWith('draft|')), []);
    } finally {
      await fake.close();
    }
  });

  test('a deadline sends through interactive calls the pages that batch rounds would finish too late, and says what it cost', async () => {
    const fake = await startFake({ batchTiming: 'manual' });
    try {
      // Book 1 has 12 pages, book 2 has 4. At 1 h a round, 5.5 h affords 5 rounds: book 1's first 7 pages go
      // interactive (12 to 6 rounds left), its last 5 and all of book 2 by batch.
      const dir = collection(1, 12, `{ mode: 'exact', turnaround: '1h' }`);
      for (let p = 1; p <= 4; p++) write(dir, `scans/b2/${p}.png`, tinyPng(`b2/${p}`));
      const dry = await runCli(dir, ['build', '--dry-run', '--json', '--deadline', '5.5h'], { env: geminiEnv(fake) });
      const tailRow = dry.events.find((e) => e.event === 'plan').policies.rows.find((r: any) => r.policy === 'tail');
      assert.equal(tailRow.interactive, 7);
      assert.deepEqual(tailRow.rounds, [5, 5]);

      fake.resetCounters();
      const r = await buildInRounds(dir, fake, ['--deadline', '5.5h']);
      const s = expectExit(r, 0) as any;
      assert.equal(s.fresh, 16);
      assert.equal(s.tail.interactive, 7);
      assert.equal(s.tail.batch, 9);
      assert.equal(s.tail.turnaroundMs, 3_600_000);
      assert.equal(fake.rounds(), 5);
      assert.equal(fake.counters.generate, 7, 'seven interactive calls');
      assert.equal(s.requests, 16);
      for (const p of [1, 7, 8, 12]) assert.equal((await explainJson(dir, fake, `b1:${p}`)).engine, p <= 7 ? 'gemini' : 'gemini-batch', `b1:${p}`);
      // The interactive pages cost twice the batch price: the extra is what they would have cost by batch.
      assert.ok(s.tail.extraUsd > 0 && s.tail.extraUsd < s.costUsd, JSON.stringify(s.tail));
      const said = eventsOf(r, 'summary')[0];
      assert.ok(Date.parse(said.tail.deadline) > Date.now() + 5 * 3_600_000);
    } finally {
      await fake.close();
    }
  });

  test('the tail plans with the batch turnaround measured on the project\'s batches', () =>
    withFake(async (fake: FakeGemini) => {
      const dir = collection(2, 4, `{ mode: 'exact' }`);
      expectExit(await buildAgainst(dir, fake), 0);
      const { batches } = JSON.parse((await runCli(dir, ['batches', '--json', '--all'], { env: geminiEnv(fake) })).stdout);
      const ms = batches.filter((b: any) => b.state === 'succeeded').map((b: any) => Date.parse(b.updatedAt) - Date.parse(b.createdAt)).sort((x: number, y: number) => x - y);
      assert.ok(ms.length >= 4);
      const median = ms.length % 2 ? ms[ms.length >> 1] : (ms[ms.length / 2 - 1] + ms[ms.length / 2]) / 2;
      write(dir, 'scans/b3/1.png', tinyPng('b3/1'));
      const dry = await runCli(dir, ['build', '--dry-run', '--json', '--deadline', '2026-12-01T09:00Z'], { env: geminiEnv(fake) });
      const policies = dry.events.find((e) => e.event === 'plan').policies;
      assert.deepEqual(policies.turnaround, { ms: median, samples: ms.length });
      assert.equal(policies.deadline, '2026-12-01T09:00:00.000Z');
      const bad = await runCli(dir, ['build', '--deadline', 'soon'], { env: geminiEnv(fake) });
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--deadline "soon": give a duration such as 6h/);
    }),
  );
});
