// The chain semantics the Gemini engines rely on, through the real executor with a fake engine:
// context flow, prompt edits inside the context block, cutoff, dead pages and their new chance, and the
// frontier order. Runs in-process (no tesseract, no network).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runBuild } from '../src/execute/build.js';
import type { BuildEvent } from '../src/events.js';
import { fakeEngine, type FakeEngine } from './util/fake-engine.js';
import { makeProject } from './util/rig.js';

const ALABAMA = 'Alabama/Howard College/1849';
const CALIFORNIA = 'California/College of California/1860';
const VIRGINIA = 'Virginia/Hampden-Sydney College/1851';

async function build(dir: string, engine: FakeEngine | null, o: { dryRun?: boolean; force?: boolean; selectors?: string[] } = {}) {
  const events: BuildEvent[] = [];
  const result = await runBuild({
    root: dir,
    cwd: dir,
    selectors: o.selectors ?? [],
    dryRun: o.dryRun ?? false,
    force: o.force ?? false,
    engine: 'gemini-batch',
    emit: (e) => events.push(e),
    createEngine: () => {
      if (!engine) throw new Error('this build should not need an engine');
      return engine;
    },
  });
  return { ...result, events, stale: events.filter((e) => e.event === 'stale') as Extract<BuildEvent, { event: 'stale' }>[] };
}

const editPrompt = (dir: string, from: string, to: string) => {
  const file = path.join(dir, 'prompts/page_ocr/v1.ejs');
  const text = fs.readFileSync(file, 'utf8');
  assert.ok(text.includes(from), `prompt contains "${from}"`);
  fs.writeFileSync(file, text.replace(from, to));
};

test('every page but a chain\'s first carries its predecessor\'s context; a second build sends nothing', async () => {
  const dir = makeProject({ books: [ALABAMA, CALIFORNIA] });
  const engine = fakeEngine();
  const first = await build(dir, engine);
  assert.equal(first.exitCode, 0);
  assert.equal(first.summary.built, 8);
  const withContext = engine.sent.filter((r) => r.previousContext !== null).map((r) => r.key).sort();
  // California's allow-list has 3, 4, 5 and 12: page 12 starts a new chain (gap), so it has no context.
  assert.deepEqual(withContext, ['Alabama:Howard College:1849:2', 'Alabama:Howard College:1849:3', 'Alabama:Howard College:1849:4', 'California:College of California:1860:4', 'California:College of California:1860:5']);
  const p3 = engine.sent.find((r) => r.key === 'Alabama:Howard College:1849:3')!;
  assert.ok(p3.prompt!.includes('--- PREVIOUS PAGE CONTEXT ---'));
  assert.ok(p3.previousContext!.includes(`page text of image`), 'the context is made from page 2\'s output');
  const second = await build(dir, null);
  assert.equal(second.summary.requests, 0);
  assert.equal(second.summary.built, 0);
  assert.equal(second.summary.fresh, 8);
});

test('an edit inside the context block makes exactly the non-first pages stale (prompt-changed); reverting restores them for free', async () => {
  const dir = makeProject({ books: [ALABAMA, CALIFORNIA] });
  await build(dir, fakeEngine());
  editPrompt(dir, 'The page before this one ended as follows.', 'The previous page of the scan ended like this.');
  const dry = await build(dir, null, { dryRun: true });
  assert.deepEqual(
    dry.stale.map((s) => [s.key, s.state, s.reasons.map((r) => r.code).join()]).sort(),
    [
      ['Alabama:Howard College:1849:2', 'stale', 'prompt-changed'],
      ['Alabama:Howard College:1849:3', 'stale', 'prompt-changed'],
      ['Alabama:Howard College:1849:4', 'stale', 'prompt-changed'],
      ['California:College of California:1860:4', 'stale', 'prompt-changed'],
      ['California:College of California:1860:5', 'stale', 'prompt-changed'],
    ],
  );
  const engine = fakeEngine();
  const rebuilt = await build(dir, engine);
  assert.equal(rebuilt.summary.requests, 5);
  assert.ok(engine.sent.every((r) => r.previousContext !== null), 'only pages with a context were sent');

  editPrompt(dir, 'The previous page of the scan ended like this.', 'The page before this one ended as follows.');
  const reverted = await build(dir, null);
  assert.equal(reverted.summary.requests, 0);
  assert.equal(reverted.summary.restored, 5);
});

test('cutoff: a predecessor rebuilt with an identical reply leaves its successors fresh with no request', async () => {
  const dir = makeProject({ books: [ALABAMA] });
  await build(dir, fakeEngine());
  const engine = fakeEngine();
  const forced = await build(dir, engine, { force: true, selectors: ['Alabama:Howard College:1849:2'] });
  assert.deepEqual(engine.sent.map((r) => r.key), ['Alabama:Howard College:1849:2']);
  assert.equal(forced.summary.built, 1);
  assert.equal(forced.exitCode, 0);
});

test('cutoff: a predecessor whose new output gives the same context leaves successors fresh; a different context makes them stale', async () => {
  const dir = makeProject({ books: [ALABAMA] });
  await build(dir, fakeEngine());
  const page2 = 'dataset/output_results/Alabama/Howard College/1849/2.json';
  // A hand edit that changes nothing the context function reads (layout_description): successors stay fresh.
  const value = JSON.parse(fs.readFileSync(path.join(dir, page2), 'utf8'));
  value.raw_ocr.layout_description = 'edited by hand';
  fs.writeFileSync(path.join(dir, page2), JSON.stringify(value, null, 2));
  const same = await build(dir, null, { dryRun: true });
  assert.deepEqual(same.stale, [], 'page 3 keeps its request: the context is unchanged');
  // An edit of the text the context carries: page 3 is stale (context-changed), page 4 waits for it.
  value.raw_ocr.text_blocks[0].text = 'a corrected transcription';
  fs.writeFileSync(path.join(dir, page2), JSON.stringify(value, null, 2));
  const changed = await build(dir, null, { dryRun: true });
  assert.deepEqual(changed.stale.map((s) => [s.key, s.state, s.reasons.map((r) => r.code).join()]), [
    ['Alabama:Howard College:1849:3', 'stale', 'context-changed'],
    ['Alabama:Howard College:1849:4', 'waiting', ''],
  ]);
  // Page 3's new reply is identical (the fake answers from the image), so page 4 turns fresh by cutoff.
  const engine = fakeEngine();
  const b = await build(dir, engine);
  assert.deepEqual(engine.sent.map((r) => r.key), ['Alabama:Howard College:1849:3']);
  assert.equal(b.summary.cutoff, 1);
  assert.ok(b.events.some((e) => e.event === 'cutoff' && e.key === 'Alabama:Howard College:1849:4'));
});

test('a page failing maxAttempts times is dead and blocks its successors; a new image gives it a new chance', async () => {
  const dir = makeProject({ books: [ALABAMA] });
  const bad = 'Alabama:Howard College:1849:2';
  const engine = fakeEngine({ fail: (r) => (r.key === bad ? 'json-error' : null) });
  const b = await build(dir, engine);
  assert.equal(b.exitCode, 1);
  assert.equal(engine.sent.filter((r) => r.key === bad).length, 3, 'maxAttempts is 3');
  assert.equal(b.summary.dead, 1);
  assert.equal(b.summary.blocked, 2);
  assert.ok(b.events.some((e) => e.event === 'blocked' && e.key === 'Alabama:Howard College:1849:4' && e.by === bad));
  const again = await build(dir, null);
  assert.equal(again.summary.requests, 0, 'a dead page is not retried on the next build');
  // A changed image is a new request: a new chance.
  const img = path.join(dir, 'dataset/raw_image_dataset/Alabama/Howard College/1849/2.png');
  fs.appendFileSync(img, Buffer.from('changed'));
  const engine2 = fakeEngine();
  const healed = await build(dir, engine2);
  assert.equal(healed.exitCode, 0);
  assert.deepEqual(engine2.sent.map((r) => r.key), [bad, 'Alabama:Howard College:1849:3', 'Alabama:Howard College:1849:4']);
});

test('the frontier goes longest remaining chain first', async () => {
  const dir = makeProject({ books: [ALABAMA, CALIFORNIA, VIRGINIA] });
  const engine = fakeEngine({ jobSize: 1, maxJobs: 1 });
  await build(dir, engine);
  // Chains: Alabama 1-4 (4 pages), California 3-5 (3) and 12 (1, after the gap), Virginia 1-4 (4). With one
  // request at a time, the page heading the most remaining pages always goes next; ties in key order.
  assert.deepEqual(engine.sent.map((r) => r.key.replace(/:[^:]+:\d{4}:/, ':')), [
    'Alabama:1', 'Virginia:1', 'Alabama:2', 'California:3', 'Virginia:2', 'Alabama:3',
    'California:4', 'Virginia:3', 'Alabama:4', 'California:12', 'California:5', 'Virginia:4',
  ]);
});
