// The no-op proof (src/execute/noop-proof.ts): a build after a build that did nothing proves nothing changed
// with a stat per file, without opening the cache, and says what the full path said; any change to a page's
// files, the pages, the prompt, the engine or the cache itself takes the full path, which sees the change.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { StateStore } from '../src/cache/state.js';
import { asHash, asKey } from '../src/types.js';
import { ALABAMA, buildAgainst, eventsOf, expectExit, geminiEnv, keyOf, walk, withFake } from './util/gemini-rig.js';
import { makeProject, REPO, runCli, type CliResult } from './util/rig.js';

const PROOF = '.ocrcache/noop-proof';
const OUTPUT = (page: number) => `dataset/output_results/${ALABAMA}/${page}.json`;

/**
 * Every file of the project an hour older: what the stat cache trusts without reading is a file hashed
 * two seconds or more after its mtime, which a test cannot wait for. Files whose stat changed are hashed
 * again by the next build (same content), and then trusted.
 */
function age(dir: string, only?: string): void {
  const then = new Date(Date.now() - 3600_000);
  for (const file of only ? [path.join(dir, only)] : walk(dir)) {
    if (!file.includes(`${path.sep}.ocrcache${path.sep}`)) fs.utimesSync(file, then, then);
  }
}

/** The events without what differs between two runs that did the same: the duration, and the quick mark. */
function said(r: CliResult): unknown[] {
  return r.events.map((e) => (e.event === 'summary' ? { ...e, seconds: 0, quick: undefined } : e));
}

test('a no-op build after a no-op build is proven by stat; every kind of change takes the full path', async () => {
  await withFake(async (fake) => {
    const dir = makeProject({ books: [ALABAMA] });
    let s = expectExit(await buildAgainst(dir, fake), 0);
    assert.equal(s['built'], 4);
    assert.equal(fs.existsSync(path.join(dir, PROOF)), false, 'a build that built leaves no proof');

    age(dir);
    const full = await buildAgainst(dir, fake);
    s = expectExit(full, 0);
    assert.equal(s['quick'], undefined, 'files whose stat changed are hashed again: the full path');
    assert.equal(s['fresh'], 4);
    assert.ok(fs.existsSync(path.join(dir, PROOF)), 'a no-op build leaves its proof');

    fake.resetCounters();
    const quick = await buildAgainst(dir, fake);
    s = expectExit(quick, 0);
    assert.equal(s['quick'], true, 'nothing changed: proven');
    assert.deepEqual(said(quick), said(full), 'the proven no-op says what the full one said');
    assert.equal(fake.counters.requests, 0);
    // status (counts only) is proven the same way; with --all it reads the cache for each page's reasons.
    const counts = await runCli(dir, ['status', '--json'], { env: geminiEnv(fake) });
    const all = JSON.parse((await runCli(dir, ['status', '--json', '--all'], { env: geminiEnv(fake) })).stdout);
    assert.deepEqual(JSON.parse(counts.stdout), { targets: all.targets, counts: all.counts });
    assert.equal(all.counts.fresh, 4);

    // An output edited by a person: the full path finds the edit (and keeps it); the next no-op is proven again.
    fs.writeFileSync(path.join(dir, OUTPUT(2)), `${fs.readFileSync(path.join(dir, OUTPUT(2)), 'utf8').trim()}\n\n`);
    age(dir, OUTPUT(2));
    s = expectExit(await buildAgainst(dir, fake), 0);
    assert.equal(s['quick'], undefined);
    assert.equal(s['edited'], 1);
    s = expectExit(await buildAgainst(dir, fake), 0);
    assert.deepEqual([s['quick'], s['edited'], s['fresh']], [true, 1, 3]);

    // The cache changed by another command (here: page 3's record says another output was written).
    const { store } = await StateStore.open(path.join(dir, '.ocrcache'));
    const rec = store.targets.get(asKey(keyOf(ALABAMA, 3)))!;
    store.setTarget({ ...rec, outputHash: asHash('0'.repeat(64)) });
    store.save();
    store.close();
    const changed = await buildAgainst(dir, fake);
    s = expectExit(changed, 0);
    assert.equal(s['quick'], undefined, 'the cache is not what the proof stood on');
    // The full path read the changed record: the output is the stored result of its request, so it is taken
    // as written by a run that died before saving (recovered), not as an edit.
    assert.deepEqual(eventsOf(changed, 'recovered').map((e) => e.key), [keyOf(ALABAMA, 3)]);
    assert.equal(s['edited'], 1);
    // Outputs deleted: restored from the result store for free, by the full path.
    for (const page of [2, 3]) fs.rmSync(path.join(dir, OUTPUT(page)));
    fake.resetCounters();
    s = expectExit(await buildAgainst(dir, fake), 0);
    assert.deepEqual([s['quick'], s['restored'], s['requests'], fake.counters.requests], [undefined, 2, 0, 0]);
    assert.equal(fs.existsSync(path.join(dir, PROOF)), false, 'a build that took the full path deleted the proof');

    // A new page, then the prompt edited: neither is a no-op, and each sends what changed.
    age(dir);
    s = expectExit(await buildAgainst(dir, fake), 0);
    fs.copyFileSync(path.join(REPO, 'dataset/raw_image_dataset', ALABAMA, '1.png'), path.join(dir, 'dataset/raw_image_dataset', ALABAMA, '5.png'));
    fs.writeFileSync(path.join(dir, 'dataset/label_to_curricular', ALABAMA, '5.json'), '{"page":5,"is_curricular":true,"label":"course_listing"}\n');
    age(dir);
    s = expectExit(await buildAgainst(dir, fake), 0);
    assert.deepEqual([s['quick'], s['built'], s['requests']], [undefined, 1, 1], 'the new page is built');
    age(dir);
    expectExit(await buildAgainst(dir, fake), 0);
    assert.equal(summaryQuick(await buildAgainst(dir, fake)), true);
    const prompt = path.join(dir, 'prompts/page_ocr/v1.ejs');
    fs.writeFileSync(prompt, `${fs.readFileSync(prompt, 'utf8')}\nRead the page carefully.\n`);
    age(dir, 'prompts/page_ocr/v1.ejs');
    s = expectExit(await buildAgainst(dir, fake), 0);
    assert.deepEqual([s['quick'], s['built']], [undefined, 5], 'a new prompt is a new request for every page');

    // Another engine, and a proof torn by a crash: the full path (a no-op), never the proof.
    age(dir);
    expectExit(await buildAgainst(dir, fake), 0);
    s = expectExit(await buildAgainst(dir, fake, ['--engine', 'gemini']), 0);
    assert.deepEqual([s['quick'], s['fresh'], s['requests']], [undefined, 5, 0], 'gemini and gemini-batch send the same request');
    assert.equal(summaryQuick(await buildAgainst(dir, fake, ['--engine', 'gemini'])), true);
    const proof = fs.readFileSync(path.join(dir, PROOF));
    fs.writeFileSync(path.join(dir, PROOF), proof.subarray(0, proof.length - 7));
    s = expectExit(await buildAgainst(dir, fake, ['--engine', 'gemini']), 0);
    assert.deepEqual([s['quick'], s['fresh']], [undefined, 5]);
  });
});

function summaryQuick(r: CliResult): unknown {
  return expectExit(r, 0)['quick'];
}

test('the proof covers the output paths, and a proof of another format is not read', async () => {
  await withFake(async (fake) => {
    const dir = makeProject({ books: [ALABAMA] });
    expectExit(await buildAgainst(dir, fake), 0);
    age(dir);
    expectExit(await buildAgainst(dir, fake), 0);
    assert.equal(summaryQuick(await buildAgainst(dir, fake)), true);

    // Format 1 hashed the pages another way: such a proof is ignored (the full path, which writes format 2).
    const proof = fs.readFileSync(path.join(dir, PROOF));
    const magic = proof.subarray(0, proof.indexOf(0x0a) + 1).toString();
    assert.equal(magic, 'ocrmake no-op proof 2\n');
    fs.writeFileSync(path.join(dir, PROOF), Buffer.concat([Buffer.from('ocrmake no-op proof 1\n'), proof.subarray(magic.length)]));
    let s = expectExit(await buildAgainst(dir, fake), 0);
    assert.deepEqual([s['quick'], s['fresh']], [undefined, 4]);
    assert.equal(summaryQuick(await buildAgainst(dir, fake)), true);

    // Another target pattern: the same requests, other output paths. The proven no-op does not look for
    // shared outputs itself; the page hash sees the new paths, and the full path restores the results there.
    const ocrfile = path.join(dir, 'ocrfile.ts');
    fs.writeFileSync(ocrfile, fs.readFileSync(ocrfile, 'utf8').replace("target: 'dataset/output_results/", "target: 'out/"));
    age(dir, 'ocrfile.ts');
    fake.resetCounters();
    s = expectExit(await buildAgainst(dir, fake), 0);
    assert.deepEqual([s['quick'], s['restored'], fake.counters.requests], [undefined, 4, 0]);
    assert.ok(fs.existsSync(path.join(dir, 'out', ALABAMA, '1.json')));
  });
});
