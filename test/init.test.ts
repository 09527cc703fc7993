// ocrmake init: the page pattern inferred from a folder's files (pure), and the command's promises: it
// says what it found, writes files that build as they are, and never overwrites one without --force.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { findings } from '../src/init/findings.js';
import { inferLayout, type FileInfo, type Layout } from '../src/init/infer.js';
import { makeProject, REPO, runCli } from './util/rig.js';

const files = (paths: string[], pages: Record<string, number> = {}): FileInfo[] => paths.map((p) => ({ path: p, pages: pages[p] ?? null }));
const layoutOf = (paths: string[], pages: Record<string, number> = {}, o: Parameters<typeof inferLayout>[1] = {}): Layout => {
  const r = inferLayout(files(paths, pages), o);
  assert.ok(r.ok, JSON.stringify(r));
  return r.layout;
};

describe('init: inferring the page pattern', () => {
  test('folder levels that vary become wildcards, named by what they hold; the file-name number is the page', () => {
    const l = layoutOf(['scans/Alpha/v1/page-0007.tif', 'scans/Alpha/v1/page-0008.tif', 'scans/Alpha/v2/page-0001.tif', 'scans/Beta/v1/page-0001.tif', 'scans/README.md']);
    assert.deepEqual(l, { image: 'scans/{collection}/{volume}/page-{page}.tif', order: 'page', multiPage: false, bookWildcards: ['collection', 'volume'], target: 'ocr/{collection}/{volume}/page-{page}.json' });
    const years = layoutOf(['Alabama/Howard College/1849/1.jpg', 'Alabama/Howard College/1850/1.jpg', 'Virginia/Hampden-Sydney/1851/2.png']);
    assert.equal(years.image, '{collection}/{book}/{year}/{page}.{jpg,png}');
    const flat = layoutOf(['INPUT_0017.tif', 'INPUT_0018.tif', 'INPUT_0020.tif', 'notes.txt']);
    assert.deepEqual([flat.image, flat.target, flat.bookWildcards], ['INPUT_{page}.tif', 'ocr/INPUT_{page}.json', []]);
  });

  test('several books in one folder: the name before a shared separator is the book', () => {
    const l = layoutOf(['scans/howard-p01.png', 'scans/howard-p02.png', 'scans/hampden-p01.png']);
    assert.equal(l.image, 'scans/{book}-p{page}.png');
    const f = findings(l, files(['scans/howard-p01.png', 'scans/howard-p02.png', 'scans/hampden-p01.png']));
    assert.deepEqual(f.books.map((b) => [b.id, b.pages]), [['hampden', [1]], ['howard', [1, 2]]]);
  });

  test('multi-page PDFs and TIFFs: each file is a book, its page the index inside it', () => {
    const pages = { 'catalogues/1851.pdf': 40, 'catalogues/1852.pdf': 38 };
    const l = layoutOf(Object.keys(pages), pages);
    assert.deepEqual(l, { image: 'catalogues/{year}.pdf', order: 'page', multiPage: true, bookWildcards: ['year'], target: 'ocr/{year}/{page}.json' });
    const tiff = layoutOf(['scans/Alpha/book.tif', 'scans/Beta/book.tif'], { 'scans/Alpha/book.tif': 12, 'scans/Beta/book.tif': 3 });
    assert.deepEqual([tiff.image, tiff.target, tiff.multiPage], ['scans/{book}/book.tif', 'ocr/{book}/book/{page}.json', true]);
    const mixed = { 'scans/catalogue-1851.pdf': 3, 'scans/register-1849.tif': 3, 'scans/cover.png': 1 };
    assert.equal(layoutOf(Object.keys(mixed), mixed).image, 'scans/{book}.{pdf,tif}', 'PDFs and multi-page TIFFs together, the single image left out');
    const f = findings(tiff, files(['scans/Alpha/book.tif', 'scans/Beta/book.tif'], { 'scans/Alpha/book.tif': 12, 'scans/Beta/book.tif': 3 }));
    assert.equal(f.pages, 15);
    assert.deepEqual(f.formats, { tif: { files: 2, pages: 15 } });
  });

  test('findings: pages, gaps, conflicts and the images the pattern leaves out', () => {
    const paths = ['s/A/p1.png', 's/A/p2.png', 's/A/p5.png', 's/A/p05.png', 's/B/p3.png', 's/B/extra/p1.png'];
    const l = layoutOf(paths);
    const f = findings(l, files(paths));
    assert.deepEqual(f.books.map((b) => [b.id, b.pages, b.gaps]), [['A', [1, 2, 5], [3, 4]], ['B', [3], []]]);
    assert.deepEqual(f.conflicts, ['s/A/p5.png and s/A/p05.png']);
    assert.deepEqual(f.ignored, ['s/B/extra/p1.png']);
  });

  test('--names and --order name the wildcards; bad names and unnumbered files are refused with a way out', () => {
    const paths = ['scans/Alpha/v1/page-1.png', 'scans/Beta/v2/page-1.png'];
    assert.equal(layoutOf(paths, {}, { names: ['library', 'shelf'] }).image, 'scans/{library}/{shelf}/page-{page}.png');
    assert.equal(layoutOf(paths, {}, { names: ['library', 'shelf', 'n'] }).image, 'scans/{library}/{shelf}/page-{n}.png');
    assert.equal(layoutOf(paths, {}, { order: 'folio' }).image, 'scans/{collection}/{volume}/page-{folio}.png');
    const wrong = inferLayout(files(paths), { names: ['one'] });
    assert.ok(!wrong.ok && /--names gives 1 name, but the layout found has 2 book wildcards/.test(wrong.message) && /Give 2 names \(top-down\), or 3/.test(wrong.hint));
    const plain = inferLayout(files(['scans/front.png', 'scans/back.png']));
    assert.ok(!plain.ok && /have no number in their names/.test(plain.message) && /--image/.test(plain.hint));
    const none = inferLayout(files(['notes.txt']));
    assert.ok(!none.ok && /no page images found/.test(none.message));
  });
});

describe('init: the command', () => {
  test('says what it found, writes ocrfile, rule and prompt that load as they are, and refuses to overwrite', async () => {
    const sample = (n: number) => fs.readFileSync(path.join(REPO, 'dataset/raw_image_dataset/Alabama/Howard College/1849', `${n}.png`));
    const dir = makeProject({ dataset: false, files: { 'scans/A/v1/page-0001.png': sample(1), 'scans/A/v1/page-0003.png': sample(2), 'scans/B/v2/page-0001.png': sample(3), 'notes.txt': 'hi' } });
    for (const f of ['ocrfile.ts', 'rules', 'prompts']) fs.rmSync(path.join(dir, f), { recursive: true });
    const r = await runCli(dir, ['init', '--rule', 'course-catalog']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout.split('\n').slice(0, 7).join('\n'),
      [
        'looked at 4 files',
        '  pattern  scans/{collection}/{volume}/page-{page}.png',
        '  books    2 ({collection}/{volume}): A/v1: 2 pages (1, 3); B/v2: 1 page (1)',
        '  pages    3',
        '  gaps     1 missing page: A/v1 2 (a gap starts a new chain)',
        '  formats  png 3',
        "wrote ocrfile.ts, rules/page_ocr.ts, prompts/page_ocr/v1.ejs (rule course-catalog: the course-catalog extraction (the original pipeline's output model))",
      ].join('\n'),
    );
    // The course-catalog prompt names state, school and year, which this layout lacks: its "This page" line
    // now names this layout's wildcards, so it renders (the sample's prompt broke with "school is not defined").
    const prompt = fs.readFileSync(path.join(dir, 'prompts/page_ocr/v1.ejs'), 'utf8');
    assert.match(prompt, /^This page is page <%= page %> of the scan \(volume <%= volume %>, collection <%= collection %>\)\.$/m);
    assert.doesNotMatch(prompt, /<%= school %>/);
    const status = await runCli(dir, ['status', '--json', '--engine', 'gemini-batch']);
    assert.equal(status.code, 0, status.stderr);
    assert.equal(JSON.parse(status.stdout).targets, 3, 'the requests (prompts) of all three pages render');

    const before = fs.readFileSync(path.join(dir, 'ocrfile.ts'), 'utf8');
    const again = await runCli(dir, ['init']);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /ocrmake init would overwrite ocrfile\.ts; nothing was written\.\n {2}Use --force to replace it/);
    assert.equal(fs.readFileSync(path.join(dir, 'ocrfile.ts'), 'utf8'), before);
    const forced = await runCli(dir, ['init', '--force', '--names', 'shelf,box', '--engine', 'local', '--json']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.deepEqual(JSON.parse(forced.stdout).files, ['ocrfile.ts', 'rules/text.ts', 'prompts/text/v1.ejs']);
    assert.match(fs.readFileSync(path.join(dir, 'ocrfile.ts'), 'utf8'), /image: 'scans\/\{shelf\}\/\{box\}\/page-\{page\}\.png',[^]*rule: text,[^]*engine: 'local'/);
  });

  test('a folder with no page images, and an --image pattern that matches nothing, are exit 2 with what to do', async () => {
    const dir = makeProject({ dataset: false, files: { 'notes.txt': 'hi' } });
    const empty = await runCli(dir, ['init', '--force']);
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /ocrmake init: no page images found \(PNG, JPEG, TIFF, JPEG 2000, WebP, GIF, BMP, AVIF or PDF\)\.\n {2}Put the scans in this folder/);
    const none = await runCli(dir, ['init', '--force', '--image', 'scans/{book}/{page}.png']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /the pattern scans\/\{book\}\/\{page\}\.png matches no file under \./);
  });
});
