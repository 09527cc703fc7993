// `ocrmake watch` end to end (DESIGN §10): the real CLI as a child process in temp projects, the real chokidar
// watcher, the local engine (tesseract.js) and the fake Gemini server. Every step waits for the NDJSON event
// it expects (with a generous timeout: a busy machine is slow, not wrong); a batch that must still run while
// the test changes files is held by the fake until the watch has reported every change, not for a guessed
// time. The only fixed waits are the quiet periods that prove nothing else starts (on a slow machine they
// prove less, never fail wrongly).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { ResultStore } from '../src/cache/objects.js';
import type { Fingerprint } from '../src/types.js';
import { loadGroundTruth, startFakeGemini, type FakeGemini, type FakeGeminiOptions } from './fake-gemini/index.js';
import { makeProject, read, REPO, runCli, write } from './util/rig.js';
import { killAll, waitUntil, WatchSession, type BuildRun, type WatchEvent } from './util/watch-rig.js';

const ALABAMA = 'Alabama/Howard College/1849';
const VIRGINIA = 'Virginia/Hampden-Sydney College/1851';
const key = (book: string, page: number) => `${book.split('/').join(':')}:${page}`;
const img = (book: string, page: number) => `dataset/raw_image_dataset/${book}/${page}.png`;
const label = (book: string, page: number) => `dataset/label_to_curricular/${book}/${page}.json`;
const out = (book: string, page: number) => `dataset/output_results/${book}/${page}.json`;
const A = (page: number) => key(ALABAMA, page);

const PROMPT = 'prompts/page_ocr/v1.ejs';
const LOCK = '.ocrcache/lock';
/** Long enough for a build started by a stray file event to show: chokidar's write-finish wait (150 ms) + the debounce. */
const QUIET_MS = 2000;
/** Files written together (an image and its label) must land in one build even when the machine is busy. */
const DEBOUNCE = ['--debounce', '500'];
/** tesseract.js on a busy machine: generous, since a timeout here says nothing about watch. */
const OCR_TIMEOUT = 180_000;

after(killAll);

// ---------------------------------------------------------------------------------------------------------
// helpers

const keysOf = (run: BuildRun | WatchEvent[], event: string): string[] =>
  ('events' in run ? run.events : run).filter((e) => e.event === event).map((e) => e.key as string).sort();

const sha = (bytes: Buffer | string) => crypto.createHash('sha256').update(bytes).digest('hex');

/** Rewrites a file with new bytes appended (a rescan: a new content hash). */
function rescan(dir: string, file: string, tag: string): Buffer {
  const bytes = Buffer.concat([fs.readFileSync(path.join(dir, file)), Buffer.from(`\n${tag}`)]);
  fs.writeFileSync(path.join(dir, file), bytes);
  return bytes;
}

function edit(dir: string, file: string, from: string, to: string): void {
  const text = read(dir, file);
  assert.ok(text.includes(from), `${file} contains "${from}"`);
  write(dir, file, text.replace(from, to));
}

/** Asserts that no build starts for `ms` (own writes and finished work must not trigger one). */
async function assertQuiet(w: WatchSession, ms = QUIET_MS, why = 'no build starts'): Promise<void> {
  const mark = w.mark();
  await new Promise((r) => setTimeout(r, ms));
  assert.deepEqual(w.since(mark, 'start'), [], `${why}\n${w.transcript()}`);
  assert.ok(w.running, `ocrmake watch is still running\n${w.transcript()}`);
}

const upToDate = (e: WatchEvent) => e.event === 'watch' && e.state === 'watching' && /up to date/.test(e.message);
const reloading = (e: WatchEvent) => e.event === 'watch' && /configuration changed/.test(e.message);

async function statusAll(dir: string, env: Record<string, string> = {}): Promise<any> {
  const r = await runCli(dir, ['status', '--json', '--all'], { env });
  assert.equal(r.code, 0, `status --json --all: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

async function explain(dir: string, target: string, env: Record<string, string> = {}): Promise<any> {
  const r = await runCli(dir, ['explain', target, '--json'], { env });
  assert.equal(r.code, 0, `explain ${target}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** The bytes the result store keeps for a fingerprint, or null. */
function stored(dir: string, fp: string): Buffer | null {
  return new ResultStore(path.join(dir, '.ocrcache')).read(fp as Fingerprint);
}

/** A valid 8×8 grey PNG whose pixels depend on `seed` (a distinct image per seed). */
function tinyPng(seed: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(8, 0);
  ihdr.writeUInt32BE(8, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  const rows = Buffer.alloc(8 * 9);
  for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) rows[y * 9 + 1 + x] = (seed * 31 + y * 8 + x) & 0xff;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}

let groundTruth: ReturnType<typeof loadGroundTruth> | null = null;
async function startFake(options: FakeGeminiOptions = {}): Promise<FakeGemini> {
  groundTruth ??= loadGroundTruth(path.join(REPO, 'dataset'));
  // The engine compares upload expiry with the real clock: the logical clock starts now.
  return startFakeGemini({ groundTruth: await groundTruth, startTime: Date.now(), ...options });
}
const geminiEnv = (fake: FakeGemini) => ({ GEMINI_API_KEY: 'test-key', GOOGLE_GEMINI_BASE_URL: fake.url, OCRMAKE_RETRY_BASE_MS: '20' });
const GEMINI_ARGS = ['--poll-seconds', '0.05', ...DEBOUNCE];

/** The sample ocrfile with extra top-level options (e.g. `filters: { page: { from: 1, to: 2 } },`). */
function ocrfileWith(extra: string): string {
  const text = fs.readFileSync(path.join(REPO, 'ocrfile.ts'), 'utf8');
  assert.match(text, /\n {2}engine: 'auto',\n/);
  return text.replace(/\n {2}engine: 'auto',\n/, `\n  engine: 'auto',\n  ${extra}\n`);
}

// ---------------------------------------------------------------------------------------------------------

// Three lanes, side by side: the local engine's OCR (CPU bound), the burst of 200 pages, and the other Gemini
// suites (mostly waiting on polls and quiet periods). Tests within a lane run in order.
describe('ocrmake watch', { concurrency: 3 }, () => {
  describe('watch with the local engine', { concurrency: 1 }, () => {
    let dir: string;
    let w: WatchSession;
    before(() => {
      dir = makeProject({ books: [ALABAMA] });
      w = new WatchSession(dir, DEBOUNCE);
    });
    after(() => w.kill());

    test('the first build brings every page up to date, then the watch waits without building again', async () => {
      const b = await w.build('the first build', OCR_TIMEOUT);
      assert.equal(b.start.engine, 'local');
      assert.equal(b.start.targets, 4);
      assert.deepEqual(keysOf(b, 'built'), [A(1), A(2), A(3), A(4)]);
      assert.equal(b.summary.requests, 4);
      assert.equal(b.summary.fresh, 4);
      await w.next(upToDate, '"up to date; watching for changes"');
      for (let p = 1; p <= 4; p++) assert.ok(fs.existsSync(path.join(dir, out(ALABAMA, p))), `output of page ${p}`);
      // The build wrote 4 outputs and created their folders: none of that is a change to build for.
      await assertQuiet(w, QUIET_MS, 'own writes (outputs, output folders, .ocrcache/) start no build');
      assert.equal(w.since(0, 'start').length, 1, 'no follow-up build after the first');
    });

    test('a second build or watch is refused while the watch holds the lock', async () => {
      const r = await runCli(dir, ['build', '--json']);
      assert.equal(r.code, 3);
      assert.match(r.stderr, new RegExp(`another ocrmake is running in this project: pid ${w.child.pid} \\(ocrmake watch`));
      const second = await runCli(dir, ['watch', '--json']);
      assert.equal(second.code, 3);
      assert.match(second.stderr, new RegExp(`pid ${w.child.pid} \\(ocrmake watch`));
      assert.deepEqual(w.since(0, 'start').length, 1, 'the refused commands changed nothing the watch builds for');
    });

    test('a new image with its allow-list label builds that page alone', async () => {
      // Page 4's scan with a different byte at the end: a page of its own (an exact copy is tested below).
      write(dir, img(ALABAMA, 5), Buffer.concat([fs.readFileSync(path.join(dir, img(ALABAMA, 4))), Buffer.from('\npage 5')]));
      write(dir, label(ALABAMA, 5), read(dir, label(ALABAMA, 4)).replace('"page": 4', '"page": 5'));
      const b = await w.build('the build of the new page', OCR_TIMEOUT);
      assert.equal(b.start.targets, 5);
      assert.deepEqual(keysOf(b, 'built'), [A(5)]);
      assert.deepEqual(keysOf(b, 'restored'), []);
      assert.equal(b.summary.requests, 1);
      assert.equal(b.summary.fresh, 5);
      assert.equal(JSON.parse(read(dir, out(ALABAMA, 5))).page_info.page_number, '5');
    });

    test('a changed image rebuilds that page only', async () => {
      const before = read(dir, out(ALABAMA, 2));
      rescan(dir, img(ALABAMA, 3), 'rescanned');
      const b = await w.build('the build of the changed image', OCR_TIMEOUT);
      assert.deepEqual(keysOf(b, 'built'), [A(3)]);
      assert.equal(b.summary.requests, 1);
      assert.equal(b.summary.fresh, 5);
      assert.equal(read(dir, out(ALABAMA, 2)), before, 'other outputs are not touched');
      await w.next(upToDate, 'up to date after the image change');
    });

    test('a prompt edit reloads the configuration and rebuilds nothing: the local engine sends no prompt', async () => {
      edit(dir, PROMPT, 'Work in two passes over the image.', 'Work in two careful passes over the image.');
      await w.next(reloading, 'the reload after the prompt edit');
      const b = await w.build('the build after the prompt edit');
      assert.deepEqual(keysOf(b, 'built'), []);
      assert.deepEqual(keysOf(b, 'restored'), []);
      assert.equal(b.summary.requests, 0);
      assert.equal(b.summary.fresh, 5);
    });

    test('an ocrfile edit reloads the configuration: the next build sees the new page set', async () => {
      const original = read(dir, 'ocrfile.ts');
      write(dir, 'ocrfile.ts', ocrfileWith('filters: { page: { from: 1, to: 3 } },'));
      await w.next(reloading, 'the reload after the ocrfile edit');
      const b = await w.build('the build with the filter');
      assert.equal(b.start.targets, 3);
      assert.equal(b.summary.targets, 3);
      assert.equal(b.summary.requests, 0);
      write(dir, 'ocrfile.ts', original);
      await w.next(reloading, 'the reload after the ocrfile is restored');
      const back = await w.build('the build without the filter');
      assert.equal(back.start.targets, 5);
      assert.equal(back.summary.fresh, 5);
      assert.equal(back.summary.requests, 0);
    });

    test('a deleted output is restored from the result store with no request, and the restore starts no build', async () => {
      const bytes = read(dir, out(ALABAMA, 2));
      fs.rmSync(path.join(dir, out(ALABAMA, 2)));
      const b = await w.build('the build after the deletion');
      assert.deepEqual(keysOf(b, 'restored'), [A(2)]);
      assert.deepEqual(keysOf(b, 'built'), []);
      assert.equal(b.summary.requests, 0);
      assert.equal(read(dir, out(ALABAMA, 2)), bytes, 'restored byte for byte');
      await assertQuiet(w, 1200, 'writing the restored output starts no build');
    });

    test('a hand-edited output is reported edited and kept; status and explain (no lock) see it while watch runs', async () => {
      const edited = read(dir, out(ALABAMA, 2)).replace('"is_complete_page": true', '"is_complete_page": false');
      assert.notEqual(edited, read(dir, out(ALABAMA, 2)));
      write(dir, out(ALABAMA, 2), edited);
      const b = await w.build('the build after the hand edit');
      const plan = b.events.find((e) => e.event === 'plan')!;
      assert.equal(plan.counts.edited, 1);
      assert.equal(b.summary.edited, 1);
      assert.equal(b.summary.requests, 0);
      assert.deepEqual(keysOf(b, 'built'), []);
      assert.deepEqual(keysOf(b, 'restored'), []);
      assert.equal(read(dir, out(ALABAMA, 2)), edited, 'an edited output is never overwritten');
      assert.ok(fs.existsSync(path.join(dir, LOCK)), 'the watch still holds the lock');
      const st = await statusAll(dir);
      assert.equal(st.targets, 5);
      assert.equal(st.counts.edited, 1);
      assert.equal(st.counts.fresh, 4);
      assert.equal(st.items.find((i: { key: string }) => i.key === A(2)).state, 'edited');
      assert.equal((await explain(dir, A(2))).state, 'edited');
    });

    test('a new page whose image is an exact copy of another page gets its own output', async () => {
      fs.copyFileSync(path.join(dir, img(ALABAMA, 4)), path.join(dir, img(ALABAMA, 6)));
      write(dir, label(ALABAMA, 6), read(dir, label(ALABAMA, 4)).replace('"page": 4', '"page": 6'));
      const b = await w.build('the build of the copied page');
      assert.equal(b.start.targets, 6);
      assert.equal(JSON.parse(read(dir, out(ALABAMA, 6))).page_info.page_number, '6', 'page 6 says it is page 6');
      assert.deepEqual(keysOf(b, 'built'), [A(6)]);
    });

    test('SIGINT while watching: the cache is saved, the lock released, exit 0 promptly', async () => {
      await w.next(upToDate, 'up to date before the signal');
      // Promptly: it does not wait for anything (stop() gives up after a generous bound).
      const r = await w.stop('SIGINT');
      assert.equal(r.code, 0, w.transcript());
      assert.equal(fs.existsSync(path.join(dir, LOCK)), false, 'the lock is released');
      assert.match(w.stderr, /SIGINT: saving the cache and stopping/);
      assert.match(w.events.at(-1)!.message, /stopped after \d+ build\(s\)/);
      const st = await statusAll(dir);
      assert.equal(st.counts.fresh + st.counts.edited, st.targets, 'every page is fresh or edited after the stop');
    });
  });

  describe('with the fake Gemini', { concurrency: 1 }, () => {
    test('watch refuses a --debounce or --poll-seconds that is not a usable number (exit 2)', async () => {
      const dir = makeProject({ dataset: false });
      const d = await runCli(dir, ['watch', '--debounce', 'soon']);
      assert.equal(d.code, 2);
      assert.match(d.stderr, /--debounce must be a number of milliseconds, 0 or more/);
      const p = await runCli(dir, ['watch', '--poll-seconds', '0']);
      assert.equal(p.code, 2);
      assert.match(p.stderr, /--poll-seconds must be a number above 0/);
      assert.equal(fs.existsSync(path.join(dir, '.ocrcache')), false, 'nothing was started');
    });

    describe('watch with Gemini: prompt edits and hand edits re-plan only the pages they affect', () => {
      let dir: string;
      /** Page 2's output as ocrmake wrote it, before the hand edit. */
      let original2: string;
      let fake: FakeGemini;
      let w: WatchSession;
      let env: Record<string, string>;
      before(async () => {
        fake = await startFake();
        env = geminiEnv(fake);
        dir = makeProject({ books: [ALABAMA] });
        w = new WatchSession(dir, GEMINI_ARGS, env);
      });
      after(async () => {
        await w.kill();
        await fake.close();
      });

      test('the first build sends every page, one round per page of the chain', async () => {
        const b = await w.build('the first build');
        assert.equal(b.start.engine, 'gemini-batch');
        assert.deepEqual(keysOf(b, 'built'), [A(1), A(2), A(3), A(4)]);
        assert.equal(b.summary.requests, 4);
        assert.equal(fake.rounds(), 4);
        await w.next(upToDate, 'up to date after the first build');
        await assertQuiet(w, 1200, 'own writes start no build');
        assert.equal(w.since(0, 'start').length, 1, 'no follow-up build after the first');
        assert.deepEqual(fake.errors, []);
      });

      test('a prompt edit inside the context block rebuilds exactly the pages that carry a context', async () => {
        fake.resetCounters();
        edit(dir, PROMPT, 'The page before this one ended as follows.', 'The previous page of the scan ended like this.');
        await w.next(reloading, 'the reload after the prompt edit');
        const b = await w.build('the build after the prompt edit');
        assert.deepEqual(keysOf(b, 'built'), [A(2), A(3), A(4)], 'page 1 has no context block: its request is unchanged');
        assert.equal(b.summary.requests, 3);
        assert.deepEqual(fake.records().map((r) => r.key).sort(), [A(2), A(3), A(4)]);
        assert.ok(fake.records().every((r) => r.context?.startsWith('The previous page of the scan ended like this.')), 'the new prompt was sent');
        await w.next(upToDate, 'up to date after the prompt edit');
      });

      test('a hand-edited output is edited; its successor is re-planned with the new content as its context', async () => {
        fake.resetCounters();
        const before3 = await explain(dir, A(3), env);
        original2 = read(dir, out(ALABAMA, 2));
        const value = JSON.parse(original2);
        const last = value.raw_ocr.text_blocks.at(-1);
        last.text += ' [checked by hand: MARGINAL NOTE]';
        const edited = `${JSON.stringify(value, null, 2)}\n`;
        write(dir, out(ALABAMA, 2), edited);
        const b = await w.build('the build after the hand edit');
        assert.equal(b.summary.edited, 1);
        assert.deepEqual(keysOf(b, 'built'), [A(3)], 'page 3 gets page 2\'s new context');
        // Page 3's new reply gives page 4 the same context as before: fresh with no request (early cutoff).
        assert.deepEqual(keysOf(b, 'cutoff'), [A(4)]);
        assert.equal(b.summary.requests, 1);
        const context = fake.contextByKey().get(A(3));
        assert.ok(context?.includes('[checked by hand: MARGINAL NOTE]'), `page 3 was sent page 2's edited text as its context: ${context}`);
        assert.deepEqual([...fake.contextByKey().keys()], [A(3)]);
        assert.equal(read(dir, out(ALABAMA, 2)), edited, 'the edited output is kept');
        const st = await statusAll(dir, env);
        assert.equal(st.items.find((i: { key: string }) => i.key === A(2)).state, 'edited');
        assert.equal(st.counts.fresh, 3);
        const e3 = await explain(dir, A(3), env);
        assert.equal(e3.state, 'fresh');
        assert.notEqual(e3.components.context.recorded, before3.components.context.recorded, 'page 3 is recorded with a new context');
        assert.equal(e3.components.image.recorded, before3.components.image.recorded, 'and the same image');
        await w.next(upToDate, 'up to date after the hand edit');
      });

      test('the hand edit undone: the output is fresh again and its successor is restored from the result store', async () => {
        fake.resetCounters();
        write(dir, out(ALABAMA, 2), original2);
        const b = await w.build('the build after the edit was undone');
        assert.equal(b.summary.edited, 0);
        assert.deepEqual(keysOf(b, 'restored'), [A(3)], 'page 3\'s reply to the original context is still in the result store');
        assert.deepEqual(keysOf(b, 'cutoff'), [A(4)]);
        assert.deepEqual(keysOf(b, 'built'), []);
        assert.equal(b.summary.requests, 0);
        assert.equal(fake.counters.requests, 0);
        assert.equal(b.summary.fresh, 4);
        await w.next(upToDate, 'up to date after the undo');
      });

      test('a changed image rebuilds that page and the successors whose context changed; the rest is cut off', async () => {
        fake.resetCounters();
        fs.appendFileSync(path.join(dir, img(ALABAMA, 2)), Buffer.from('rescanned'));
        const b = await w.build('the build after page 2 was rescanned');
        // The fake answers page 2 from its new image: new text, so page 3's context changes and page 3 is
        // sent; page 3's new reply carries the same text, so page 4's context is unchanged (cutoff).
        assert.deepEqual(keysOf(b, 'built'), [A(2), A(3)]);
        assert.deepEqual(keysOf(b, 'cutoff'), [A(4)]);
        assert.equal(b.summary.requests, 2);
        assert.deepEqual(fake.records().map((r) => r.key), [A(2), A(3)]);
        await w.next(upToDate, 'up to date after the rescan');
      });

      test('an invalid ocrfile prints a clear error naming the file and the problem; the watch keeps running and recovers', async () => {
        const original = read(dir, 'ocrfile.ts');
        write(dir, 'ocrfile.ts', original.replace('batchSize: 100', 'batchSise: 100'));
        const warning = await w.next((e) => e.event === 'warning', 'the error about the broken ocrfile');
        assert.match(warning.message, /ocrfile\.ts/);
        assert.match(warning.message, /unknown option "batchSise"/);
        assert.match(warning.message, /Did you mean "batchSize"\?/);
        assert.match(warning.message, /Watching for a fix/);
        assert.ok(w.running);
        // A syntax error is reported too, naming the file and the line.
        write(dir, 'ocrfile.ts', original.replace("engine: 'auto',", "engine: 'auto'"));
        const syntax = await w.next((e) => e.event === 'warning', 'the error about the syntax error');
        assert.match(syntax.message, /ocrfile\.ts/);
        assert.match(syntax.message, /syntax error|Expected|expected/);
        assert.ok(w.running);
        // While the ocrfile is broken, other changes wait for the fix instead of repeating the error.
        fake.resetCounters();
        const mark = w.mark();
        const rescanned = rescan(dir, img(ALABAMA, 4), 'rescanned while the ocrfile was broken');
        await assertQuiet(w, 1200, 'an image change while the ocrfile is broken starts no build');
        assert.deepEqual(w.since(mark, 'warning'), [], 'the error is not repeated for a change that cannot fix it');
        write(dir, 'ocrfile.ts', original);
        await w.next(reloading, 'the reload after the fix');
        const b = await w.build('the build after the fix');
        assert.deepEqual(keysOf(b, 'built'), [A(4)], 'the change made while the ocrfile was broken is built');
        assert.equal(b.summary.fresh + b.summary.edited, 4);
        assert.equal(b.summary.failed, 0);
        assert.equal(fake.records().find((r) => r.key === A(4))?.imageSha256, sha(rescanned));
        await w.next(upToDate, 'up to date after the fix');
      });
    });

    describe('watch with Gemini: a change while a batch is in flight', () => {
      let dir: string;
      let fake: FakeGemini;
      let w: WatchSession;
      let env: Record<string, string>;
      before(async () => {
        // Slow batches: 20 PENDING and 5 RUNNING answers, polled every 50 ms.
        fake = await startFake({ batchTiming: { pendingPolls: 20, runningPolls: 5 } });
        env = geminiEnv(fake);
        dir = makeProject({ books: [ALABAMA, VIRGINIA], files: { 'ocrfile.ts': ocrfileWith('filters: { page: { from: 1, to: 2 } },') } });
      });
      after(async () => {
        await w?.kill();
        await fake.close();
      });

      test('the batch is not cancelled; the superseded result is stored, not written; current results are used', async () => {
        const oldFp = (await explain(dir, A(1), env)).fingerprint.current as string;
        assert.match(oldFp, /^[0-9a-f]{64}$/);
        w = new WatchSession(dir, GEMINI_ARGS, env);
        await w.next((e) => e.event === 'start', 'the first build');
        await waitUntil(() => fake.counters.create >= 1, 'the first batch to be created');
        const [first] = fake.batches();
        assert.deepEqual([...first!.keys].sort(), [A(1), key(VIRGINIA, 1)]);
        assert.notEqual(first!.state, 'SUCCEEDED', 'the batch is still in flight');
        const newImage = rescan(dir, img(ALABAMA, 1), 'rescanned while in flight');
        const b = await w.build('the first build', 60_000, { started: true });
        const followUp = await w.build('the follow-up build', 30_000);
        await w.next(upToDate, 'up to date');

        assert.equal(fake.counters.batch_cancel, 0, 'no batch was cancelled');
        assert.equal(fake.batch(first!.name)?.state, 'SUCCEEDED', 'the first batch ran to its end');
        // Page 1 of Alabama: sent twice (old image, then new), built once, from the new image.
        const a1 = fake.records().filter((r) => r.key === A(1));
        assert.deepEqual(a1.map((r) => r.imageSha256), [sha(fs.readFileSync(path.join(REPO, img(ALABAMA, 1)))), sha(newImage)]);
        assert.deepEqual(keysOf(b, 'built'), [A(1), A(2), key(VIRGINIA, 1), key(VIRGINIA, 2)]);
        assert.equal(keysOf([...b.events, ...followUp.events], 'built').filter((k) => k === A(1)).length, 1, 'the superseded result was not written');
        const output = read(dir, out(ALABAMA, 1));
        assert.match(output, new RegExp(`Fake OCR text for image sha256:${sha(newImage).slice(0, 16)}`), 'the output comes from the new image');
        // The superseded result is kept in the result store (a revert would restore it for free).
        const kept = stored(dir, oldFp);
        assert.ok(kept, 'the old request\'s result is in the result store');
        assert.notEqual(kept!.toString(), output);
        assert.match(kept!.toString(), /COURSE|Howard/i, 'it is the reply to the original scan');
        const e1 = await explain(dir, A(1), env);
        assert.equal(e1.state, 'fresh');
        assert.notEqual(e1.fingerprint.recorded, oldFp);
        // Virginia page 1's result was current: used as it came, never sent again.
        assert.equal(fake.records().filter((r) => r.key === key(VIRGINIA, 1)).length, 1);
        assert.equal(followUp.summary.requests, 0, 'the follow-up found the new request already built');
        assert.equal(followUp.summary.fresh, 4);
      });
    });

    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      describe(`watch with Gemini: ${signal} while a batch is in flight`, () => {
        let dir: string;
        let fake: FakeGemini;
        let w: WatchSession;
        let env: Record<string, string>;
        before(async () => {
          // Batches move only when the test says so.
          fake = await startFake({ batchTiming: 'manual' });
          env = geminiEnv(fake);
          dir = makeProject({ books: [ALABAMA, VIRGINIA], files: { 'ocrfile.ts': ocrfileWith('filters: { page: { from: 1, to: 1 } },') } });
          w = new WatchSession(dir, GEMINI_ARGS, env);
        });
        after(async () => {
          await w.kill();
          await fake.close();
        });

        test(`${signal} saves the cache, releases the lock and exits 0; the next build re-attaches the batch`, async () => {
          await w.next((e) => e.event === 'start', 'the first build');
          await waitUntil(() => fake.counters.create === 1, 'the batch to be created');
          await waitUntil(() => fake.counters.batch_get >= 2, 'the batch to be polled');
          // It exits although its batch would never end (the fake keeps it PENDING): it does not wait for it.
          const r = await w.stop(signal);
          assert.equal(r.code, 0, w.transcript());
          assert.equal(fs.existsSync(path.join(dir, LOCK)), false, 'the lock is released');
          assert.match(w.stderr, new RegExp(`${signal}: saving the cache and stopping`));
          assert.equal(fake.counters.batch_cancel, 0);
          const [batch] = fake.batches();
          assert.equal(batch!.state, 'PENDING', 'the batch is still running at the provider');

          fake.advanceBatches();
          fake.advanceBatches();
          const creates = fake.counters.create;
          const b = await runCli(dir, ['build', '--json', '--poll-seconds', '0.05'], { env });
          assert.equal(b.code, 0, b.stderr);
          const engine = b.events.filter((e) => e.event === 'engine').map((e) => e.message);
          assert.ok(engine.some((m) => /^re-attached .* \(2 pages\)$/.test(m)), `re-attached: ${engine.join(' | ')}`);
          assert.equal(fake.counters.create, creates, 're-attaching creates no batch');
          const summary = b.events.at(-1);
          assert.equal(summary.event, 'summary');
          assert.equal(summary.built, 2);
          assert.equal(summary.fresh, 2);
          assert.deepEqual(fake.errors, []);
        });
      });
    }

    describe('watch with Gemini: a restarted watch re-attaches the batch left in flight', () => {
      let dir: string;
      let fake: FakeGemini;
      let first: WatchSession;
      let second: WatchSession | null = null;
      let mover: NodeJS.Timeout | undefined;
      before(async () => {
        fake = await startFake({ batchTiming: 'manual' });
        dir = makeProject({ books: [ALABAMA, VIRGINIA], files: { 'ocrfile.ts': ocrfileWith("filters: { page: { from: 1, to: 1 }, state: ['Alabama'] },") } });
        first = new WatchSession(dir, GEMINI_ARGS, geminiEnv(fake));
      });
      after(async () => {
        clearInterval(mover);
        await first.kill();
        await second?.kill();
        await fake.close();
      });

      test('the batch is re-attached, and a page that joined meanwhile is sent once', async () => {
        await waitUntil(() => fake.counters.create === 1, 'the first batch to be created');
        assert.equal((await first.stop('SIGINT')).code, 0, first.transcript());
        // Virginia's first page joins the project while Alabama's is in flight at the provider.
        write(dir, 'ocrfile.ts', ocrfileWith('filters: { page: { from: 1, to: 1 } },'));
        mover = setInterval(() => fake.advanceBatches(), 50);
        second = new WatchSession(dir, GEMINI_ARGS, geminiEnv(fake));
        const b = await second.build('the first build of the restarted watch');
        assert.ok(b.events.some((e) => e.event === 'engine' && /^re-attached .* \(1 pages\)$/.test(e.message)), 'Alabama\'s batch is re-attached');
        assert.deepEqual(keysOf(b, 'built'), [A(1), key(VIRGINIA, 1)]);
        assert.equal(fake.counters.create, 2, 'one new batch, for Virginia');
        assert.deepEqual(fake.batches().map((x) => [...x.keys]), [[A(1)], [key(VIRGINIA, 1)]], 'each page sent once');
      });
    });
  });

  describe('watch: a burst of changes is one build, and own writes start none', { concurrency: 1 }, () => {
    const BOOKS = 200;
    const book = (i: number) => `Burst/Bulk College/${1800 + i}`;
    let dir: string;
    let fake: FakeGemini;
    let w: WatchSession;
    before(async () => {
      fake = await startFake();
      // 200 one-page books: one page per chain, so two batches of 100 build them all at once. Their scans are
      // small PNGs of their own (the fake answers from the image hash; the pixels do not matter).
      const files: Record<string, Buffer | string> = {};
      for (let i = 0; i < BOOKS; i++) {
        files[img(book(i), 1)] = tinyPng(i);
        files[label(book(i), 1)] = '{"page": 1, "is_curricular": true, "label": "course_listing"}\n';
      }
      dir = makeProject({ dataset: false, files });
      // A burst is changes closer together than the debounce: 2 s, so that a busy machine's slow writes
      // (or late file events) still make one burst.
      w = new WatchSession(dir, ['--poll-seconds', '0.05', '--debounce', '2000'], geminiEnv(fake));
    });
    after(async () => {
      await w.kill();
      await fake.close();
    });

    /** Rewrites every book's image with new bytes: 8 waves of 25 files, 40 ms apart (about a third of a second). */
    const rewriteAll = async (tag: string) => {
      const waves = 8;
      for (let wave = 0; wave < waves; wave++) {
        for (let i = wave; i < BOOKS; i += waves) rescan(dir, img(book(i), 1), `${tag} ${i}`);
        if (wave < waves - 1) await new Promise((r) => setTimeout(r, 40));
      }
    };

    /** No page was sent twice with the same image (each request paid for once). */
    const assertNoDuplicates = () => {
      const seen = new Map<string, number>();
      for (const r of fake.records()) seen.set(`${r.key} ${r.imageSha256}`, (seen.get(`${r.key} ${r.imageSha256}`) ?? 0) + 1);
      assert.deepEqual([...seen].filter(([, n]) => n > 1), [], 'requests sent more than once');
    };

    test('the first build builds the 200 pages; its 200 output writes start no build', async () => {
      const b = await w.build('the first build', 60_000);
      assert.equal(b.start.targets, BOOKS);
      assert.equal(b.summary.built, BOOKS);
      assert.equal(b.summary.batches, 2);
      await w.next(upToDate, 'up to date after the first build');
      await assertQuiet(w, QUIET_MS, '200 outputs in 200 new folders are ocrmake\'s own writes');
      assert.equal(w.since(0, 'start').length, 1, 'no follow-up build after the first');
    });

    test('200 image changes within one second start exactly one build, which rebuilds all of them', async () => {
      const mark = w.mark();
      fake.resetCounters();
      await rewriteAll('burst');
      const b = await w.build('the build after the burst', 120_000);
      assert.equal(b.summary.built, BOOKS);
      assert.equal(b.summary.requests, BOOKS);
      assertNoDuplicates();
      await w.next(upToDate, 'up to date after the burst');
      await assertQuiet(w, QUIET_MS, 'no second build after the burst');
      assert.equal(w.since(mark, 'start').length, 1, 'one build for the whole burst');
      assert.equal(fake.counters.create, 2);
    });

    test('a burst while a build runs queues one follow-up build, no more', async () => {
      const mark = w.mark();
      fake.resetCounters();
      // The next batch's first poll is held until the watch has seen the whole burst: the build is still
      // running during all of it, however slow the machine.
      let release!: () => void;
      fake.faults.route('batch_get', { kind: 'hold', until: new Promise<void>((r) => (release = r)) }, 1);
      rescan(dir, img(book(0), 1), 'before the burst');
      await w.next((e) => e.event === 'start', 'the build of the first change');
      await waitUntil(() => fake.counters.create >= 1, 'the first batch to be created', 60_000);
      const burst = w.mark();
      await rewriteAll('during a build');
      await w.until(() => (new Set(w.since(burst, 'changed').map((e) => e.file)).size === BOOKS ? true : undefined), 'the watch to see all 200 changes', 120_000);
      assert.ok(w.since(burst, 'changed').every((e) => e.during === 'building'), 'every change came while the build ran');
      assert.deepEqual(w.since(mark, 'summary'), [], 'the burst landed while the build ran');
      release();
      await w.next((e) => e.event === 'summary', 'the end of the running build', 120_000);
      await w.build('the follow-up build', 120_000);
      await w.next(upToDate, 'up to date after the follow-up', 120_000);
      await assertQuiet(w, QUIET_MS, 'no third build');
      const starts = w.since(mark, 'start');
      assert.equal(starts.length, 2, 'the running build and one follow-up');
      // Book 0 twice (the change that started the build, then its burst rewrite), every other book once.
      assert.equal(fake.records().length, BOOKS + 1);
      assertNoDuplicates();
      assert.deepEqual(new Set(w.since(mark, 'built').map((e) => e.key)).size, BOOKS, 'every changed page was rebuilt');
      assert.equal(fake.counters.batch_cancel, 0, 'no batch was cancelled');
      const st = await statusAll(dir, geminiEnv(fake));
      assert.equal(st.counts.fresh, BOOKS);
    });
  });
});
