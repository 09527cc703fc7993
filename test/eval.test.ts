// `ocrmake eval` on the sample built with the local engine (issue 15, "Done when" 1): CER and WER per page, per
// chain and overall, checked against an independent computation from the files themselves; JSON ground truth
// (field accuracy, list precision and recall); the pure pieces (JSON counts, word diffs).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { jsonCounts, precision, recall, defaultText } from '../src/eval/json-metrics.js';
import { wordDiff } from '../src/variants/word-diff.js';
import { builtSample } from './util/fixtures.js';
import { referenceCer, referencePooledCer, referenceWer } from './util/reference-cer.js';
import { read, runCli, write } from './util/rig.js';

const OUT = 'dataset/output_results';
const TRUTH = 'dataset/ground_truth';

describe('ocrmake eval (local engine, text ground truth)', () => {
  let dir: string;
  before(async () => {
    ({ dir } = await builtSample());
  });

  /** Every page's truth and output text, from the files, by key. */
  const pairs = (): Map<string, [string, string]> => {
    const out = new Map<string, [string, string]>();
    for (const state of fs.readdirSync(path.join(dir, OUT))) {
      for (const school of fs.readdirSync(path.join(dir, OUT, state))) {
        for (const year of fs.readdirSync(path.join(dir, OUT, state, school))) {
          for (const file of fs.readdirSync(path.join(dir, OUT, state, school, year))) {
            const page = file.replace(/\.json$/, '');
            const value = JSON.parse(read(dir, `${OUT}/${state}/${school}/${year}/${file}`));
            const text = value.raw_ocr.text_blocks.map((b: { text: string }) => b.text).join('\n');
            out.set(`${state}:${school}:${year}:${page}`, [read(dir, `${TRUTH}/${state}/${school}/${year}/${page}.txt`), text]);
          }
        }
      }
    }
    return out;
  };

  test('--json: per page, per chain and overall figures equal an independent computation', async () => {
    const r = await runCli(dir, ['eval', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const ev = JSON.parse(r.stdout);
    const truth = pairs();
    assert.equal(ev.pages.length, 12);
    assert.equal(truth.size, 12);
    for (const p of ev.pages) {
      const [expected, actual] = truth.get(p.key)!;
      assert.equal(p.status, 'scored');
      assert.ok(Math.abs(p.cer - referenceCer(expected, actual)) < 1e-6, `${p.key}: CER ${p.cer} vs ${referenceCer(expected, actual)}`);
      assert.ok(Math.abs(p.wer - referenceWer(expected, actual)) < 1e-6, `${p.key}: WER ${p.wer} vs ${referenceWer(expected, actual)}`);
      assert.ok(p.cer < 0.02, `${p.key}: the local engine reads the sample well (CER ${p.cer})`);
    }
    const overall = referencePooledCer([...truth.values()]);
    assert.ok(Math.abs(ev.overall.cer - overall) < 1e-6, `overall CER ${ev.overall.cer} vs ${overall}`);
    assert.equal(ev.overall.pages, 12);
    // A chain is a book (DESIGN §1): California's pages 3–5 and its page 12 are scored as one book.
    assert.deepEqual(ev.chains.map((c: { chain: string; pages: number }) => [c.chain, c.pages]), [
      ['Alabama:Howard College:1849', 4], ['California:College of California:1860', 4], ['Virginia:Hampden-Sydney College:1851', 4],
    ]);
    const alabama = [...truth].filter(([k]) => k.startsWith('Alabama:')).map(([, v]) => v);
    assert.ok(Math.abs(ev.chains[0].cer - referencePooledCer(alabama)) < 1e-6);
    console.log(`# local engine on the sample: CER ${(ev.overall.cer * 100).toFixed(2)} %, WER ${(ev.overall.wer * 100).toFixed(2)} % over ${ev.overall.chars} characters`);
  });

  test('the table, the CSV and a selection', async () => {
    const t = await runCli(dir, ['eval', 'state=Alabama']);
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stdout, /^eval current: 4 pages, 4 scored against dataset\/ground_truth\/\{state\}\/\{school\}\/\{year\}\/\{page\}\.txt$/m);
    assert.match(t.stdout, /^Alabama:Howard College:1849:3 +\d+\.\d\d % +\d+\.\d\d %$/m);
    assert.match(t.stdout, /^overall +\d+\.\d\d % +\d+\.\d\d % +\(4 pages; \d+ edits in \d+ characters\)$/m);
    const c = await runCli(dir, ['eval', '--csv', '-']);
    assert.equal(c.code, 0, c.stderr);
    const rows = c.stdout.trim().split('\n');
    assert.equal(rows[0], 'level,key,status,pages,cer,wer,chars,char_edits,words,word_edits');
    assert.equal(rows.filter((l) => l.startsWith('page,')).length, 12);
    assert.equal(rows.filter((l) => l.startsWith('chain,')).length, 3);
    assert.equal(rows.filter((l) => l.startsWith('overall,')).length, 1);
    const file = await runCli(dir, ['eval', '--csv', 'scores.csv']);
    assert.match(file.stdout, /^wrote the scores of 12 pages to scores\.csv$/m);
    assert.equal(read(dir, 'scores.csv'), c.stdout);
  });

  test('JSON ground truth: field accuracy and list precision/recall; a page without output; config errors', async () => {
    // Truth for three Alabama pages: page 3 as built but one course renamed and another removed, and the school
    // name changed; page 4 exactly as built. Page 2's output is deleted (no output to score).
    const p3 = JSON.parse(read(dir, `${OUT}/Alabama/Howard College/1849/3.json`));
    const courses = p3.courses.length;
    assert.ok(courses >= 3);
    const t3 = { ...p3, school_name: 'Somewhere Else', courses: [{ ...p3.courses[0], course_name: 'Renamed' }, ...p3.courses.slice(1, -1)] };
    write(dir, 'truth/Alabama/Howard College/1849/3.json', JSON.stringify(t3));
    write(dir, 'truth/Alabama/Howard College/1849/4.json', read(dir, `${OUT}/Alabama/Howard College/1849/4.json`));
    write(dir, 'truth/Alabama/Howard College/1849/2.json', read(dir, `${OUT}/Alabama/Howard College/1849/2.json`));
    fs.rmSync(path.join(dir, `${OUT}/Alabama/Howard College/1849/2.json`));
    const ocrfile = read(dir, 'ocrfile.ts');
    write(dir, 'ocrfile.ts', ocrfile.replace(/groundTruth: '[^']*'/, "groundTruth: { pattern: 'truth/{state}/{school}/{year}/{page}.json', match: { courses: 'course_name' } }"));
    const r = await runCli(dir, ['eval', '--json', 'state=Alabama']);
    assert.equal(r.code, 0, r.stderr);
    const ev = JSON.parse(r.stdout);
    assert.deepEqual(ev.pages.map((p: { status: string }) => p.status), ['no-truth', 'no-output', 'scored', 'scored'], 'page 1 has no truth file');
    const [, , page3, page4] = ev.pages;
    assert.equal(page3.cer, 0, 'the text blocks are the same');
    assert.equal(page3.fields.school_name.accuracy, 0);
    assert.equal(page3.fields.academic_year.accuracy, 1);
    // Truth has courses-1 items (one renamed): courses-2 match; the output has courses items.
    assert.deepEqual(page3.lists.courses, { precision: round((courses - 2) / courses), recall: round((courses - 2) / (courses - 1)), tp: courses - 2, fp: 2, fn: 1 });
    assert.equal(page4.lists.courses.precision, 1);
    assert.equal(page4.lists.courses.recall, 1);
    assert.equal(ev.overall.fields.school_name.correct, 1);
    assert.equal(ev.overall.fields.school_name.total, 2);
    const table = await runCli(dir, ['eval', 'state=Alabama']);
    assert.match(table.stdout, /^ {2}courses: precision \d+\.\d\d %, recall \d+\.\d\d % \(\d+ matched, 2 extra, 1 missed\)$/m);
    assert.match(table.stdout, /^1 page has no output to score yet: ocrmake build makes it\.$/m);

    write(dir, 'ocrfile.ts', ocrfile.replace(/groundTruth: '[^']*'/, "groundTruth: 'truth/{state}/{year}/{page}.txt'"));
    const bad = await runCli(dir, ['eval']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /ocrfile\.ts at groundTruth: the ground-truth pattern does not use \{school\}, so pages would share one truth file/);
    write(dir, 'ocrfile.ts', ocrfile.replace(/\n\s*\/\/ What each page really says[^\n]*\n\s*groundTruth: '[^']*',/, ''));
    const none = await runCli(dir, ['eval']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /ocrfile\.ts at groundTruth: no ground truth: eval and compare score outputs against it\n {2}Add groundTruth:/);
    write(dir, 'ocrfile.ts', ocrfile);
  });
});

const round = (x: number): number => Math.round(x * 1e6) / 1e6;

describe('the pure pieces', () => {
  test('jsonCounts: scalar fields after whitespace collapse, lists matched by a name field, case folded', () => {
    const truth = { school: 'Howard  College', year: '1849', courses: [{ course_name: 'Latin', level: 'Freshman' }, { course_name: 'Greek' }, { course_name: 'Greek' }] };
    const got = { school: 'Howard College', year: '1850', courses: [{ course_name: 'latin', level: 'Sophomore' }, { course_name: 'Greek' }, { course_name: 'Hebrew' }] };
    const c = jsonCounts(truth, got);
    assert.deepEqual(c.fields, { school: { correct: 1, total: 1 }, year: { correct: 0, total: 1 } });
    assert.deepEqual(c.lists['courses'], { tp: 2, fp: 1, fn: 1 });
    assert.equal(precision(c.lists['courses']!), 2 / 3);
    assert.equal(recall(c.lists['courses']!), 2 / 3);
    // A named match field; a missing list in the output is all misses; an empty list on both sides is perfect.
    assert.deepEqual(jsonCounts({ xs: [{ id: 1, n: 'a' }] }, { xs: [{ id: 2, n: 'a' }] }, { xs: 'n' }).lists['xs'], { tp: 1, fp: 0, fn: 0 });
    assert.deepEqual(jsonCounts({ xs: [{ name: 'a' }] }, {}).lists['xs'], { tp: 0, fp: 0, fn: 1 });
    const empty = jsonCounts({ xs: [] }, { xs: [] }).lists['xs']!;
    assert.equal(precision(empty), 1);
    assert.equal(recall(empty), 1);
  });

  test('defaultText reads every "text" string, depth first', () => {
    assert.equal(defaultText({ raw_ocr: { text_blocks: [{ text: 'a' }, { text: 'b', note: { text: 'c' } }] }, text: 'd' }), 'a\nb\nc\nd');
    assert.equal(defaultText('plain'), 'plain');
    assert.equal(defaultText({ n: 1 }), '');
  });

  test('wordDiff: runs of differing words as hunks, at their word index in the first text', () => {
    assert.deepEqual(wordDiff('the cat sat on the mat', 'the cat sat on the mat'), []);
    assert.deepEqual(wordDiff('the Colege cat sat', 'the College cat sat down'), [{ at: 1, a: 'Colege', b: 'College' }, { at: 4, a: '', b: 'down' }]);
    assert.deepEqual(wordDiff('a b c', ''), [{ at: 0, a: 'a b c', b: '' }]);
    assert.deepEqual(wordDiff('x  y\nz', 'x y z'), [], 'whitespace is layout');
  });
});
