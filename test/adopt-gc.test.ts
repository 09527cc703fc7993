// `ocrmake adopt` and `ocrmake gc` (DESIGN §7): outputs made elsewhere become fresh without a request, for
// the local engine and for gemini-batch (whose fingerprints chain through the previous page); invalid ones are
// skipped with the file and the schema issue; gc deletes what nothing references and keeps everything a
// build could restore. Seed outputs come from an in-process build with the fake engine (fast, schema-valid).
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ResultStore } from '../src/cache/objects.js';
import { runBuild } from '../src/execute/build.js';
import type { BuildEvent } from '../src/events.js';
import { fakeEngine, type FakeEngine } from './util/fake-engine.js';
import { makeProject, runCli, summaryOf } from './util/rig.js';

const ALABAMA = 'Alabama/Howard College/1849';
const VIRGINIA = 'Virginia/Hampden-Sydney College/1851';
const OUT = 'dataset/output_results';
const PROMPT = 'prompts/page_ocr/v1.ejs';
const out = (book: string, page: number) => `${OUT}/${book}/${page}.json`;
const key = (book: string, page: number) => `${book.split('/').join(':')}:${page}`;

/** An in-process gemini-batch build with the fake engine (null: the build must send nothing). */
async function build(dir: string, engine: FakeEngine | null) {
  const events: BuildEvent[] = [];
  const result = await runBuild({
    root: dir, cwd: dir, selectors: [], dryRun: false, force: false, engine: 'gemini-batch', emit: (e) => events.push(e),
    createEngine: () => {
      if (!engine) throw new Error('this build should not need an engine');
      return engine;
    },
  });
  return { ...result, events };
}

function* files(dir: string): Generator<string> {
  if (!fs.existsSync(dir)) return;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else yield p;
  }
}
/** The fingerprints in the result store (loose objects and packs alike), read as a new process would. */
const objects = (dir: string) => [...new ResultStore(path.join(dir, '.ocrcache')).list()].sort();
/** Output path → bytes of every output in a project. */
const outputs = (dir: string) => new Map([...files(path.join(dir, OUT))].map((f) => [path.relative(dir, f), fs.readFileSync(f)]));

async function cli(dir: string, args: string[], code = 0) {
  const r = await runCli(dir, args);
  assert.equal(r.code, code, `ocrmake ${args.join(' ')}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}
const json = async (dir: string, args: string[], code = 0) => JSON.parse((await cli(dir, [...args, '--json'], code)).stdout);

function editPrompt(dir: string, from: string, to: string): void {
  const file = path.join(dir, PROMPT);
  const text = fs.readFileSync(file, 'utf8');
  assert.ok(text.includes(from), `the prompt contains "${from}"`);
  fs.writeFileSync(file, text.replace(from, to));
}
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const IN_CONTEXT = 'The page before this one ended as follows.';

describe('adopt', () => {
  /** A built project whose outputs the tests copy into projects with no cache. */
  let seed: string;
  before(async () => {
    seed = makeProject();
    const r = await build(seed, fakeEngine());
    assert.equal(r.summary.built, 12);
  });

  /** A new project holding the seed's outputs and an empty cache (a collection from an older pipeline). */
  function migrated(): string {
    const dir = makeProject();
    fs.cpSync(path.join(seed, OUT), path.join(dir, OUT), { recursive: true });
    assert.ok(!fs.existsSync(path.join(dir, '.ocrcache')));
    return dir;
  }

  for (const engine of ['local', 'gemini-batch'] as const) {
    test(`${engine}: adopt makes every page fresh; the next build sends nothing; a deleted output is restored byte for byte`, async () => {
      const dir = migrated();
      const flag = ['--engine', engine];
      const before = await json(dir, ['status', ...flag]);
      assert.equal(before.counts.edited, 12, `unrecorded outputs are edited: ${JSON.stringify(before)}`);

      const dry = await cli(dir, ['adopt', '--dry-run', ...flag]);
      assert.equal(dry.stdout.split('\n').filter((l) => l.startsWith('would adopt  ')).length, 12);
      assert.match(dry.stdout, /would adopt 12 outputs as fresh .*nothing was written/);
      assert.equal((await json(dir, ['status', ...flag])).counts.edited, 12, 'a dry run changes nothing');
      assert.deepEqual(objects(dir), []);

      const bytes = outputs(dir);
      const adopted = await json(dir, ['adopt', ...flag]);
      assert.equal(adopted.adopted.length, 12);
      assert.deepEqual(adopted.skipped, []);
      assert.equal(adopted.engine, engine);
      assert.deepEqual(outputs(dir), bytes, 'adopt does not touch the outputs');
      const after = await json(dir, ['status', ...flag]);
      assert.equal(after.counts.fresh, 12);
      assert.equal(after.targets, 12);
      const ex = await json(dir, ['explain', key(ALABAMA, 3), ...flag]);
      assert.equal(ex.state, 'fresh');
      assert.equal(ex.origin, 'adopted');

      // No key in the environment: nothing is sent, so none is needed.
      const b = await cli(dir, ['build', '--json', ...flag]);
      const s = summaryOf(b);
      assert.equal(s['requests'], 0);
      assert.equal(s['built'], 0);
      assert.equal(s['fresh'], 12);

      const again = await json(dir, ['adopt', ...flag]);
      assert.equal(again.adopted.length, 0);
      assert.equal(again.fresh, 12);

      // The result store holds the exact bytes: a deleted output comes back identical, with no request.
      fs.rmSync(path.join(dir, out(ALABAMA, 2)));
      fs.rmSync(path.join(dir, out(VIRGINIA, 4)));
      const restore = summaryOf(await cli(dir, ['build', '--json', ...flag]));
      assert.equal(restore['restored'], 2);
      assert.equal(restore['requests'], 0);
      assert.deepEqual(outputs(dir), bytes);
    });
  }

  test('gemini-batch: invalid outputs are skipped naming the file and the issue; their successors wait for a request; the rest is adopted', async () => {
    const dir = migrated();
    const flag = ['--engine', 'gemini-batch'];
    // Valid JSON that breaks the schema, and a file that is not JSON at all.
    const page = JSON.parse(fs.readFileSync(path.join(dir, out(ALABAMA, 2)), 'utf8'));
    page.page_info.page_number = 2; // the original model's page number is a string (or null)
    page.catalog_year = 1849;
    fs.writeFileSync(path.join(dir, out(ALABAMA, 2)), `${JSON.stringify(page, null, 2)}\n`);
    fs.writeFileSync(path.join(dir, out(VIRGINIA, 3)), '{ "raw_ocr": ');

    const r = await cli(dir, ['adopt', ...flag], 1);
    const skipped = r.stdout.split('\n').filter((l) => l.startsWith('skipped'));
    assert.equal(skipped.length, 3, r.stdout);
    assert.match(skipped[0]!, new RegExp(`^skipped +${esc(out(ALABAMA, 2))} \\(${key(ALABAMA, 2)}\\): does not match the rule's schema \\(page_ocr\\): page_info\\.page_number: .*; catalog_year: `));
    assert.match(skipped[1]!, new RegExp(`^skipped +${esc(out(VIRGINIA, 3))} \\(${key(VIRGINIA, 3)}\\): is not valid JSON`));
    // Virginia 4's request embeds page 3's context, which cannot be read.
    assert.match(skipped[2]!, new RegExp(`^skipped +${esc(out(VIRGINIA, 4))} \\(${key(VIRGINIA, 4)}\\): its request is not known: the previous page's output ${esc(out(VIRGINIA, 3))} is not valid JSON`));
    assert.match(r.stdout, /adopted 9 outputs .*, 3 skipped/);
    assert.match(r.stdout, /Fix the skipped files and run adopt again/);

    const again = await json(dir, ['adopt', ...flag], 1);
    assert.deepEqual(again.adopted, []);
    assert.equal(again.fresh, 9);
    assert.deepEqual(again.skipped.map((s: any) => [s.key, s.reason]), [[key(ALABAMA, 2), 'schema'], [key(VIRGINIA, 3), 'invalid-json'], [key(VIRGINIA, 4), 'no-request']]);

    const st = await json(dir, ['status', '--all', ...flag]);
    const states = Object.fromEntries(st.items.map((i: any) => [i.key, i.state]));
    assert.equal(states[key(ALABAMA, 2)], 'edited', 'an invalid output stays a person\'s, untouched');
    assert.equal(states[key(ALABAMA, 3)], 'fresh', 'its successor was adopted with the context of the edited page');
    assert.equal(states[key(VIRGINIA, 3)], 'edited');
    assert.equal(states[key(VIRGINIA, 4)], 'edited', 'unrecorded: no request can be formed after an unreadable page');
    assert.equal(st.counts.fresh, 9);
    assert.equal(st.counts.edited, 3);
  });

  test('local: a schema-invalid output is skipped with the file and issue, the others adopted', async () => {
    const dir = migrated();
    fs.writeFileSync(path.join(dir, out(ALABAMA, 4)), '{"raw_ocr": {"text_blocks": "nope"}}\n');
    const r = await json(dir, ['adopt', '--engine', 'local'], 1);
    assert.equal(r.adopted.length, 11);
    assert.equal(r.skipped.length, 1);
    assert.equal(r.skipped[0].output, out(ALABAMA, 4));
    assert.match(r.skipped[0].message, /raw_ocr\.text_blocks: Invalid input: expected array/);
    const st = await json(dir, ['status', '--engine', 'local']);
    assert.equal(st.counts.fresh, 11);
    assert.equal(st.counts.edited, 1);
  });
});

test('clean --cache keeps the outputs (edited until adopted); clean needs --yes without a terminal; clean --outputs leaves them to restore', async () => {
  const dir = makeProject({ books: [ALABAMA] });
  const flag = ['--engine', 'gemini-batch'];
  assert.equal((await build(dir, fakeEngine())).summary.built, 4);
  const bytes = outputs(dir);
  const refused = await cli(dir, ['clean', '--cache'], 2);
  assert.match(refused.stderr, /clean would delete \.ocrcache\/ \(state, result store and run reports\); pass --yes to confirm/);
  const cleaned = await cli(dir, ['clean', '--cache', '--yes']);
  assert.match(cleaned.stdout, /they show as edited until ocrmake adopt records them as fresh/);
  assert.ok(!fs.existsSync(path.join(dir, '.ocrcache')));
  assert.deepEqual(outputs(dir), bytes);
  assert.equal((await json(dir, ['status', ...flag])).counts.edited, 4);
  assert.equal((await json(dir, ['adopt', ...flag])).adopted.length, 4);
  assert.equal((await json(dir, ['status', ...flag])).counts.fresh, 4);

  const gone = await cli(dir, ['clean', '--outputs', '--yes']);
  assert.match(gone.stdout, /^deleted 4 outputs\n {2}The result store keeps them: the next build restores them with no request\.\n$/);
  assert.equal(outputs(dir).size, 0);
  const restored = await build(dir, null);
  assert.equal(restored.summary.restored, 4);
  assert.deepEqual(outputs(dir), bytes);
});

describe('gc', () => {
  test('deletes objects nothing references (once older than --keep-days), keeps recorded and current ones; a build after gc restores everything', async () => {
    const dir = makeProject();
    const flag = ['--engine', 'gemini-batch'];
    assert.equal((await build(dir, fakeEngine())).summary.built, 12);
    const v1 = objects(dir);
    assert.equal(v1.length, 12);

    // A prompt edit inside the context block changes the 8 pages that have a previous page: 8 new objects.
    editPrompt(dir, IN_CONTEXT, 'The previous page of the scan ended like this.');
    assert.equal((await build(dir, fakeEngine())).summary.built, 8);
    assert.equal(objects(dir).length, 20);
    const v2 = objects(dir).filter((fp) => !v1.includes(fp));

    // Young objects are kept by default; a dry run deletes nothing.
    const young = await json(dir, ['gc', ...flag]);
    assert.deepEqual({ objects: young.objects, referenced: young.referenced, young: young.young, deleted: young.deleted }, { objects: 20, referenced: 12, young: 8, deleted: 0 });
    const dry = await cli(dir, ['gc', '--keep-days', '0', '--dry-run', ...flag]);
    assert.match(dry.stdout, /would delete 8 unreferenced objects, freeing [\d.]+ (B|kB)/);
    assert.equal(objects(dir).length, 20);

    // Reverting the prompt (without building) makes the old requests current again: both sets are referenced.
    editPrompt(dir, 'The previous page of the scan ended like this.', IN_CONTEXT);
    const both = await json(dir, ['gc', '--keep-days', '0', ...flag]);
    assert.equal(both.deleted, 0, 'recorded (v2) and current (v1) objects are both kept');
    assert.equal(objects(dir).length, 20);
    // And the revert builds for free.
    const reverted = await build(dir, null);
    assert.equal(reverted.summary.restored, 8);
    assert.equal(reverted.summary.requests, 0);

    // Now the v2 objects are referenced by nothing: gc deletes exactly them.
    const freed = await json(dir, ['gc', '--keep-days', '0', ...flag]);
    assert.equal(freed.deleted, 8);
    assert.ok(freed.bytesFreed > 0);
    assert.deepEqual(objects(dir), v1);
    assert.ok(v2.every((fp) => !objects(dir).includes(fp)));
    const text = await cli(dir, ['gc', '--keep-days', '0', ...flag]);
    assert.match(text.stdout, /result store: 12 objects .*; kept 12 referenced by current pages and 0 younger than 0 days\ndeleted 0 unreferenced objects, freed 0 B\n/);

    // Nothing a build needs was deleted: every output comes back from the store with no request.
    const bytes = outputs(dir);
    fs.rmSync(path.join(dir, OUT), { recursive: true });
    const restored = await build(dir, null);
    assert.equal(restored.exitCode, 0);
    assert.equal(restored.summary.restored, 12);
    assert.equal(restored.summary.requests, 0);
    assert.deepEqual(outputs(dir), bytes);
  });

  test('gc refuses to run while another ocrmake holds the lock', async () => {
    const dir = makeProject({ dataset: false });
    fs.mkdirSync(path.join(dir, '.ocrcache'), { recursive: true });
    // A live process that is node: this test runner itself.
    fs.writeFileSync(path.join(dir, '.ocrcache/lock'), JSON.stringify({ pid: process.pid, command: 'build', startedAt: new Date().toISOString() }));
    const r = await runCli(dir, ['gc']);
    assert.equal(r.code, 3);
    assert.match(r.stderr, new RegExp(`pid ${process.pid}`));
  });
});
