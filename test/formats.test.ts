// Real scans in (issue #10): every source format, built with the local engine through the real CLI, reads
// the same text as the same page built from PNG; pages inside multi-page files are targets of their own; a
// no-op build decodes nothing; local.languages reads German better. (Damaged pages: prepare-gemini.test.ts.)
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { makeFixtures, makeGermanPage, type Manifest } from '../scripts/make-fixtures.js';
import { charErrorRate } from '../src/eval/text-metrics.js';
import { makeProject, read, REPO, runCli, summaryOf, write } from './util/rig.js';
import { SYSTEM_TESSDATA } from '../src/fingerprint/local-ocr.js';

const EXTENSIONS = 'png,tif,jp2,j2k,pdf,webp,gif,avif,bmp,jpg';
const ocrfile = (extra = '') => `import { defineOcrfile } from 'ocrmake';
import pageOcr from './rules/page_ocr.js';
export default defineOcrfile({
  pages: { image: 'scans/{book}.{${EXTENSIONS}}' },
  target: 'out/{book}/{page}.json',
  rule: pageOcr,
  engine: 'local',${extra}
});
`;

const bookOf = (file: string) => file.replace(/\.[^.]+$/, '');
const textOf = (dir: string, book: string, page: number): string =>
  JSON.parse(read(dir, `out/${book}/${page}.json`)).raw_ocr.text_blocks.map((b: { text: string }) => b.text).join('\n\n');

describe('sources in every format, built with the local engine', () => {
  let dir: string;
  let manifest: Manifest;
  let first: Awaited<ReturnType<typeof runCli>>;

  before(async () => {
    dir = makeProject({ dataset: false, files: { 'ocrfile.ts': ocrfile() } });
    manifest = await makeFixtures(path.join(dir, 'fixtures'));
    fs.mkdirSync(path.join(dir, 'scans'));
    for (const f of manifest.fixtures) if (f.kind !== 'German text') fs.copyFileSync(path.join(dir, 'fixtures', f.file), path.join(dir, 'scans', f.file));
    first = await runCli(dir, ['build', '--json'], { timeoutMs: 240_000 });
  });

  test('every format builds: each page reads as its PNG twin does (CER within 0.5 points)', () => {
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stderr, '', 'decoders print nothing on the terminal');
    const s = summaryOf(first);
    const pages = manifest.fixtures.filter((f) => f.kind !== 'German text').reduce((n, f) => n + f.pages.length, 0);
    assert.equal(s['built'], pages, 'every page of every fixture');
    const twinCer = (twin: string, text: string) => charErrorRate(text, textOf(dir, bookOf(twin), 1));
    const pngPage = manifest.fixtures.find((f) => f.file === 'png-a1.png')!.pages[0]!;
    for (const f of manifest.fixtures) {
      if (f.kind === 'German text') continue;
      for (const p of f.pages) {
        const cer = charErrorRate(p.text, textOf(dir, bookOf(f.file), p.page));
        // Vector text has no PNG twin: it is held to the PNG build of the page its paragraphs come from.
        const reference = p.twin ? twinCer(p.twin, p.text) : twinCer(pngPage.twin!, pngPage.text);
        assert.ok(cer <= reference + 0.005, `${f.file} page ${p.page} (${f.kind}): CER ${(cer * 100).toFixed(2)} % vs ${(reference * 100).toFixed(2)} % from PNG`);
      }
    }
    // What could not be made here is said, not silently left out (CCITT G3 needs libtiff-tools' tiffcp).
    for (const k of manifest.skipped) console.log(`# fixture skipped: ${k.kind}: ${k.why}`);
  });

  test('pages inside a multi-page file are targets of their own: key, output and explain name the page', async () => {
    for (const book of ['tiff-3-page', 'pdf-scan-3']) for (const n of [1, 2, 3]) assert.ok(fs.existsSync(path.join(dir, `out/${book}/${n}.json`)), `${book} page ${n}`);
    const r = await runCli(dir, ['explain', 'pdf-scan-3:2', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const e = JSON.parse(r.stdout);
    assert.deepEqual([e.state, e.image, e.imagePage, e.output], ['fresh', 'scans/pdf-scan-3.pdf', 2, 'out/pdf-scan-3/2.json']);
    assert.match(e.components.prepare.current, /^[0-9a-f]{64}$/);
    const human = await runCli(dir, ['explain', 'pdf-scan-3:2']);
    assert.match(human.stdout, /^ {2}image {8}scans\/pdf-scan-3\.pdf \(page 2\)$/m);
    // Pages of different files are different images even where the pixels agree (identity = file hash + page).
    const twin = JSON.parse((await runCli(dir, ['explain', 'tiff-3-page:2', '--json'])).stdout);
    assert.notEqual(twin.components.image.current, e.components.image.current);
    // The image path selects every page of its file.
    const sel = await runCli(dir, ['build', '--dry-run', '--json', 'scans/tiff-3-page.tif']);
    assert.equal(summaryOf(sel)['targets'], 3);
  });

  test('a no-op build reads no image: nothing decoded, no page counted, no request', async () => {
    const r = await runCli(dir, ['build', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const s = summaryOf(r);
    assert.deepEqual([s['decoded'], s['probed'], s['requests'], s['built'], s['fresh']], [0, 0, 0, 0, summaryOf(first)['built']]);
    // The first build did decode (once per page) and counted the pages of every file.
    const f = summaryOf(first);
    assert.equal(f['decoded'], f['built']);
    assert.equal(f['probed'], manifest.fixtures.length - 1);
  });
});

describe('local.languages', () => {
  const deu = SYSTEM_TESSDATA.map((d) => path.join(d, 'deu.traineddata')).find((f) => fs.existsSync(f));
  test('a German page reads better with deu than with English alone', { skip: deu ? false : `no deu.traineddata in ${SYSTEM_TESSDATA.join(', ')} (apt-get install tesseract-ocr-deu)` }, async () => {
    const dir = makeProject({ dataset: false, files: { 'ocrfile.ts': ocrfile() } });
    const german = await makeGermanPage(path.join(dir, 'scans'));
    const english = await runCli(dir, ['build', '--json']);
    assert.equal(english.code, 0, english.stderr);
    const cerEng = charErrorRate(german.pages[0]!.text, textOf(dir, 'german', 1));
    write(dir, 'ocrfile.ts', ocrfile("\n  local: { languages: ['deu', 'eng'] },"));
    const status = await runCli(dir, ['status', '--all', '--json']);
    assert.deepEqual(JSON.parse(status.stdout).items[0].reasons.map((r: { code: string }) => r.code), ['config-changed'], 'the languages are in the fingerprint');
    const both = await runCli(dir, ['build', '--json']);
    assert.equal(both.code, 0, both.stderr);
    const cerDeu = charErrorRate(german.pages[0]!.text, textOf(dir, 'german', 1));
    console.log(`# German page: CER ${(cerEng * 100).toFixed(2)} % with eng, ${(cerDeu * 100).toFixed(2)} % with deu+eng`);
    assert.ok(cerDeu < cerEng, `deu+eng ${cerDeu} should beat eng ${cerEng}`);
    assert.ok(cerDeu < 0.01, `deu+eng reads the page almost exactly (${(cerDeu * 100).toFixed(2)} %)`);
  });

  test('a language with no model is a config error naming the option and how to add one', async () => {
    const dir = makeProject({ dataset: false, files: { 'ocrfile.ts': ocrfile("\n  local: { languages: ['eng', 'xyz'], langPath: 'tessdata' },"), 'scans/a.png': fs.readFileSync(path.join(REPO, 'dataset/raw_image_dataset/Alabama/Howard College/1849/1.png')) } });
    const r = await runCli(dir, ['status']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /ocrfile\.ts at local\.languages: no tesseract model for "xyz" \(looked in tessdata, @tesseract\.js-data\/xyz, /);
    assert.match(r.stderr, /Install Debian's tesseract-ocr-xyz, or put xyz\.traineddata in a folder and set local\.langPath to it\./);
    // An encoding the engine does not take is refused up front, as is an unknown image option.
    write(dir, 'ocrfile.ts', ocrfile("\n  images: { format: 'webp', gemini: { maxLongEdge: 2048, qualty: 80 } },"));
    const bad = await runCli(dir, ['status']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /ocrfile\.ts at images\.gemini\.qualty: unknown option "qualty"\n {2}Did you mean "quality"\?/);
    write(dir, 'ocrfile.ts', ocrfile("\n  images: { format: 'webp' },"));
    const webp = await runCli(dir, ['status']);
    assert.equal(webp.code, 2);
    assert.match(webp.stderr, /^ocrmake: ocrfile\.ts at images\.local\.format: the local engine takes png, jpeg images, not webp\n {2}Set images\.local\.format to 'auto' or one of png, jpeg\.$/m);
  });
});
