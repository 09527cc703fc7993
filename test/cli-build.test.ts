// The real CLI on a copy of the sample project with the local engine: a first build, a no-op build, an
// image change, a deleted output, a hand-edited output and --force (issue #2, "Done when" 1–5). The first
// build is the shared fixture's (util/fixtures.ts): it runs once for every suite that needs a built sample.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { charErrorRate } from '../src/eval/text-metrics.js';
import { builtSample, type BuiltSample } from './util/fixtures.js';
import { read, runCli, summaryOf } from './util/rig.js';

const P2 = 'Alabama:Howard College:1849:2';
const OUT2 = 'dataset/output_results/Alabama/Howard College/1849/2.json';
const IMG3 = 'dataset/raw_image_dataset/Alabama/Howard College/1849/3.png';
const KEY3 = 'Alabama:Howard College:1849:3';

describe('ocrmake build with the local engine', () => {
  let dir: string;
  let first: BuiltSample['firstBuild'];
  before(async () => {
    ({ dir, firstBuild: first } = await builtSample());
  });

  test('a first build builds every allow-listed page, reports progress and a summary, exits 0', async () => {
    const r = first;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /No GEMINI_API_KEY or GOOGLE_API_KEY is set: using the offline local engine/);
    assert.match(r.stdout, /plan: 12 stale \(stale: new 12\); 0 to restore, 12 to send/);
    assert.equal((r.stdout.match(/ built {4}/g) ?? []).length, 12, 'one progress line per page');
    assert.match(r.stdout, /^done: 12 built, 0 restored, 0 cutoff, 0 failed; 12 requests, 0 batches, 0 uploads; 12\/12 up to date in [\d.]+ s$/m);
    // California page 6 has an image but no label: not a page.
    assert.equal(fs.existsSync(path.join(dir, 'dataset/output_results/California/College of California/1860/6.json')), false);
  });

  test('outputs validate against the rule and read the page text accurately', async () => {
    const gtRoot = path.join(dir, 'dataset/ground_truth');
    let pages = 0;
    for (const file of walk(path.join(dir, 'dataset/output_results'))) {
      const rel = path.relative(path.join(dir, 'dataset/output_results'), file);
      const value = JSON.parse(fs.readFileSync(file, 'utf8'));
      assert.ok(Array.isArray(value.raw_ocr.text_blocks) && value.raw_ocr.text_blocks.length > 0, rel);
      assert.equal(typeof value.page_info.page_number, 'string');
      const truth = fs.readFileSync(path.join(gtRoot, rel.replace(/\.json$/, '.txt')), 'utf8');
      const text = value.raw_ocr.text_blocks.map((b: { text: string }) => b.text).join('\n');
      const cer = charErrorRate(truth, text);
      assert.ok(cer < 0.02, `${rel}: character error rate ${(cer * 100).toFixed(2)}% is over 2%`);
      pages++;
    }
    assert.equal(pages, 12);
    const page3 = JSON.parse(read(dir, 'dataset/output_results/Alabama/Howard College/1849/3.json'));
    assert.ok(page3.courses.length >= 4, 'the catalogue layout is parsed into courses');
    // Page 3 opens with courses of a department headed on page 2: without a previous-page context (the local
    // engine sends none) they have no department; those after the page's own heading have it.
    const departments = page3.courses.map((c: { department: string | null }) => c.department);
    assert.equal(departments[0], null);
    assert.equal(departments.at(-1), 'Mathematics');
  });

  test('a second build sends nothing and status counts every page fresh', async () => {
    const r = await runCli(dir, ['build', '--json']);
    assert.equal(r.code, 0);
    const s = summaryOf(r);
    assert.equal(s['requests'], 0);
    assert.equal(s['built'], 0);
    const st = await runCli(dir, ['status', '--json']);
    const status = JSON.parse(st.stdout);
    assert.equal(status.targets, 12);
    assert.equal(status.counts.fresh, 12);
  });

  test('a changed image shows image-changed with both hashes and rebuilds that page alone', async () => {
    const before = JSON.parse((await runCli(dir, ['explain', KEY3, '--json'])).stdout);
    fs.appendFileSync(path.join(dir, IMG3), Buffer.from('rescanned'));
    const e = await runCli(dir, ['explain', IMG3, '--json']);
    const explain = JSON.parse(e.stdout);
    assert.equal(explain.state, 'stale');
    assert.deepEqual(explain.reasons, [{ code: 'image-changed', recorded: before.components.image.current, current: explain.components.image.current }]);
    assert.notEqual(explain.components.image.recorded, explain.components.image.current);
    const human = await runCli(dir, ['explain', KEY3]);
    assert.match(human.stdout, /reason {7}image-changed: recorded [0-9a-f]{12}, current [0-9a-f]{12}/);
    const r = await runCli(dir, ['build', '--json']);
    const s = summaryOf(r);
    assert.equal(s['built'], 1);
    assert.equal(s['requests'], 1);
    assert.deepEqual(r.events.filter((ev) => ev.event === 'built').map((ev) => ev.key), [KEY3]);
  });

  test('a deleted output is restored from the result store with no request', async () => {
    const bytes = read(dir, OUT2);
    fs.rmSync(path.join(dir, OUT2));
    const st = JSON.parse((await runCli(dir, ['explain', P2, '--json'])).stdout);
    assert.deepEqual(st.reasons, [{ code: 'output-missing' }]);
    const r = await runCli(dir, ['build', '--json']);
    const s = summaryOf(r);
    assert.equal(s['requests'], 0);
    assert.equal(s['restored'], 1);
    assert.equal(read(dir, OUT2), bytes, 'restored byte for byte');
  });

  test('an empty output (what a power cut can leave of a file renamed before its flush) is missing, not an edit: restored with no request', async () => {
    const bytes = read(dir, OUT2);
    fs.writeFileSync(path.join(dir, OUT2), '');
    const st = JSON.parse((await runCli(dir, ['explain', P2, '--json'])).stdout);
    assert.equal(st.state, 'stale');
    assert.deepEqual(st.reasons, [{ code: 'output-missing' }]);
    const s = summaryOf(await runCli(dir, ['build', '--json']));
    assert.equal(s['requests'], 0);
    assert.equal(s['restored'], 1);
    assert.equal(read(dir, OUT2), bytes, 'restored byte for byte');
  });

  test('a hand-edited output is edited: build leaves it, --force regenerates it', async () => {
    const original = read(dir, OUT2);
    const edited = original.replace('COURSE OF INSTRUCTION', 'COURSE OF INSTRUCTION (checked by hand)');
    assert.notEqual(edited, original);
    fs.writeFileSync(path.join(dir, OUT2), edited);
    const st = JSON.parse((await runCli(dir, ['status', '--json', '--all'])).stdout);
    assert.equal(st.counts.edited, 1);
    assert.equal(st.items.find((i: { key: string }) => i.key === P2).state, 'edited');
    const b = await runCli(dir, ['build', '--json']);
    assert.equal(b.code, 0);
    assert.equal(summaryOf(b)['requests'], 0);
    assert.equal(read(dir, OUT2), edited, 'an edited output is never overwritten');
    const f = await runCli(dir, ['build', '--force', P2, '--json']);
    const s = summaryOf(f);
    assert.equal(s['built'], 1);
    assert.equal(s['requests'], 1);
    assert.equal(read(dir, OUT2), original);
    const after = JSON.parse((await runCli(dir, ['status', '--json'])).stdout);
    assert.equal(after.counts.fresh, 12);
  });

  test('status --all lists pages in chain order with their states', async () => {
    const r = await runCli(dir, ['status', '--all']);
    assert.equal(r.code, 0);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0]!, /^STATE +KEY +REASONS$/);
    assert.match(lines[1]!, /^fresh +Alabama:Howard College:1849:1/);
    assert.match(lines.at(-1)!, /^12 pages \(local engine\): 12 fresh$/);
  });
});

function* walk(dir: string): Generator<string> {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else yield p;
  }
}
