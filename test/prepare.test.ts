// The prepare stage in process (issue #10): format sniffing, the geometry shared with the estimate, JPEG 2000
// headers, the image settings and their fingerprint component, and the Preparer itself: sources sent as they
// are when they can be, everything else decoded once into a deterministic, content-addressed cache.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { makeFixtures } from '../scripts/make-fixtures.js';
import { DEFAULT_IMAGES, resolveImages, type ImageFamily, type ImageSettings } from '../src/config/images.js';
import type { ResolvedConfig } from '../src/config/resolved.js';
import { prepareHash } from '../src/fingerprint/request.js';
import { sniff } from '../src/prepare/format.js';
import { derivedDpi, fitLongEdge, oriented } from '../src/prepare/geometry.js';
import { jp2Header } from '../src/prepare/jp2.js';
import { Preparer } from '../src/prepare/preparer.js';
import type { PreparedImage, PrepareProblem } from '../src/prepare/types.js';
import { prunePrepared } from '../src/prepare/prune.js';
import { damageTiffPage } from './util/damage.js';
import { asHash } from '../src/types.js';
import { sha256 } from '../src/util/hash.js';
import { tempDir } from './util/rig.js';

let fx: string;
const tmp = () => tempDir('ocrmake-prepare-');
before(async () => {
  fx = tmp();
  await makeFixtures(fx);
});

describe('sniffing, geometry, headers', () => {
  test('formats are known by their bytes, not their names', () => {
    const cases: Record<string, string> = {
      'png-a1.png': 'png', 'tiff-lzw-8.tif': 'tiff', 'jp2-lossless.jp2': 'jp2', 'j2k-lossless.j2k': 'j2k', 'pdf-scan-3.pdf': 'pdf',
      'webp.webp': 'webp', 'gif.gif': 'gif', 'avif.avif': 'avif', 'bmp.bmp': 'bmp', 'jpeg-exif6.jpg': 'jpeg',
    };
    for (const [file, format] of Object.entries(cases)) assert.equal(sniff(fs.readFileSync(path.join(fx, file)).subarray(0, 64)), format, file);
    assert.equal(sniff(Buffer.from('00000018667479706865696300000000686569636d696631', 'hex')), 'heic');
    assert.equal(sniff(Buffer.from('just some text')), null);
  });

  test('fitting to the long edge never enlarges and keeps the aspect; EXIF 5–8 swap sides; resolution from size', () => {
    assert.deepEqual(fitLongEdge(4000, 6000, 3072), { width: 2048, height: 3072, scale: 3072 / 6000 });
    assert.deepEqual(fitLongEdge(6000, 4000, 3072), { width: 3072, height: 2048, scale: 3072 / 6000 });
    assert.deepEqual(fitLongEdge(1100, 1500, 3072), { width: 1100, height: 1500, scale: 1 });
    assert.deepEqual(fitLongEdge(2200, 3000, null), { width: 2200, height: 3000, scale: 1 });
    assert.deepEqual(oriented(1500, 1100, 6), { width: 1100, height: 1500 });
    assert.deepEqual(oriented(1500, 1100, 3), { width: 1500, height: 1100 });
    assert.equal(derivedDpi(1100, 1500), 150);
    assert.equal(derivedDpi(200, 300), 70, 'clamped: a thumbnail is not a 30-dpi scan');
  });

  test('JPEG 2000 headers give size and capture resolution without decoding', () => {
    assert.deepEqual(jp2Header(fs.readFileSync(path.join(fx, 'jp2-lossless.jp2'))), { width: 1100, height: 1500, density: 5906 * 0.0254 });
    assert.deepEqual(jp2Header(fs.readFileSync(path.join(fx, 'j2k-lossless.j2k'))), { width: 1100, height: 1500, density: null });
    assert.equal(jp2Header(Buffer.from('not a jpeg 2000 file')), null);
  });
});

describe('image settings', () => {
  test('defaults per engine family; common settings, then the family\'s own on top', () => {
    assert.deepEqual(resolveImages(undefined), DEFAULT_IMAGES);
    const r = resolveImages({ grayscale: true, maxLongEdge: 2000, gemini: { maxLongEdge: null, format: 'jpeg' } });
    assert.deepEqual(r.local, { ...DEFAULT_IMAGES.local, grayscale: true, maxLongEdge: 2000 });
    assert.deepEqual(r.gemini, { ...DEFAULT_IMAGES.gemini, grayscale: true, maxLongEdge: null, format: 'jpeg' });
  });

  test('the prepare component: the PDF render resolution concerns PDF pages only; one family\'s settings never the other\'s', () => {
    const config = (images: Parameters<typeof resolveImages>[0]) => ({ images: resolveImages(images) }) as unknown as ResolvedConfig;
    const base = config({}), dpi = config({ dpi: 400 }), gemini = config({ gemini: { maxLongEdge: 2000 } });
    assert.equal(prepareHash(base, 'local', 'raster'), prepareHash(dpi, 'local', 'raster'));
    assert.notEqual(prepareHash(base, 'local', 'pdf'), prepareHash(dpi, 'local', 'pdf'));
    assert.equal(prepareHash(base, 'local', 'raster'), prepareHash(gemini, 'local', 'raster'));
    assert.notEqual(prepareHash(base, 'gemini-batch', 'raster'), prepareHash(gemini, 'gemini-batch', 'raster'));
    assert.equal(prepareHash(base, 'gemini-batch', 'raster'), prepareHash(base, 'gemini', 'raster'), 'both Gemini engines are sent the same image');
  });
});

describe('the Preparer', () => {
  const make = (family: ImageFamily, settings: Partial<ImageSettings> = {}, cacheDir = tmp()) => new Preparer({ cacheDir, family, settings: { ...DEFAULT_IMAGES[family], ...settings } });
  const target = (file: string, sourcePage: number | null = null) => {
    const p = path.join(fx, file);
    return { path: p, rel: file, sourceHash: sha256(fs.readFileSync(p)), sourcePage };
  };
  const ok = (r: PreparedImage | PrepareProblem): PreparedImage => {
    if ('problem' in r) assert.fail(r.problem);
    return r;
  };

  test('a PNG that needs no change is sent as it is (after a full decode), and not decoded twice', async () => {
    const prep = make('gemini');
    const a = ok(await prep.prepare(target('png-a1.png')));
    assert.deepEqual([a.passthrough, a.path, a.format, a.mime, a.width, a.height, a.scale, a.dpiSource, a.dpi], [true, path.join(fx, 'png-a1.png'), 'png', 'image/png', 1100, 1500, 1, 'derived', 150]);
    assert.equal(a.hash, sha256(fs.readFileSync(path.join(fx, 'png-a1.png'))));
    assert.equal(prep.decoded, 1);
    ok(await prep.prepare(target('png-a1.png')));
    assert.equal(prep.decoded, 1, 'the second time comes from the cache');
  });

  test('a TIFF page becomes a PNG in the cache: the same bytes every time, its resolution from the file', async () => {
    const one = ok(await make('gemini').prepare(target('tiff-3-page.tif', 2)));
    const two = ok(await make('gemini').prepare(target('tiff-3-page.tif', 2)));
    assert.deepEqual([one.passthrough, one.format, one.width, one.height, one.dpi, one.dpiSource], [false, 'png', 1100, 1500, 150, 'file']);
    assert.equal(one.hash, two.hash, 'deterministic');
    assert.ok(fs.readFileSync(one.path).equals(fs.readFileSync(two.path)));
    assert.equal(sha256(fs.readFileSync(one.path)), one.hash);
    const m = await sharp(one.path).metadata();
    assert.deepEqual([m.channels, m.space], [1, 'b-w'], 'a grey page stays grey');
    const page3 = ok(await make('gemini').prepare(target('tiff-3-page.tif', 3)));
    assert.notEqual(page3.hash, one.hash, 'another page, other pixels');
  });

  test('a multi-page file named as one page is read as its first page, with a warning naming it once', async () => {
    const warnings: string[] = [];
    const prep = new Preparer({ cacheDir: tmp(), family: 'local', settings: DEFAULT_IMAGES.local, warn: (m) => warnings.push(m) });
    const first = ok(await prep.prepare(target('tiff-3-page.tif')));
    const page1 = ok(await make('local').prepare(target('tiff-3-page.tif', 1)));
    assert.equal(first.hash, page1.hash);
    assert.deepEqual(warnings, ['tiff-3-page.tif has 3 pages, but the image pattern names one page per file: only its first page is read. To read every page, leave the page number out of the file name in pages.image (README "PDFs and multi-page TIFFs").']);
  });

  test('downscaling to the long edge scales the resolution; EXIF orientation is applied; JPEG stays JPEG', async () => {
    const small = ok(await make('local', { maxLongEdge: 750 }).prepare(target('tiff-lzw-8.tif')));
    assert.deepEqual([small.width, small.height, small.scale, small.dpi], [550, 750, 0.5, 75]);
    const turned = ok(await make('gemini').prepare(target('jpeg-exif6.jpg')));
    assert.deepEqual([turned.passthrough, turned.format, turned.width, turned.height], [false, 'jpeg', 1100, 1500]);
    const m = await sharp(turned.path).metadata();
    assert.deepEqual([m.width, m.height, m.orientation], [1100, 1500, undefined]);
  });

  test('a scanned PDF page gives its own image at its exact resolution; a vector page is rendered at images.dpi', async () => {
    const scan = ok(await make('local').prepare(target('pdf-scan-3.pdf', 2)));
    assert.deepEqual([scan.width, scan.height, scan.dpiSource, Math.round(scan.dpi)], [1100, 1500, 'pdf', 150]);
    const vector = ok(await make('local', { dpi: 200 }).prepare(target('pdf-vector-2.pdf', 1)));
    assert.deepEqual([vector.width, vector.height, vector.dpi], [1700, 2200, 200]);
    const capped = ok(await make('local', { dpi: 300, maxLongEdge: 1100 }).prepare(target('pdf-vector-2.pdf', 1)));
    assert.deepEqual([capped.width, capped.height, capped.dpi], [850, 1100, 100], 'rendered no larger than the long edge');
  });

  test('a damaged page is a problem naming the file, the page and the decoder\'s reason', async () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'bad.tif'), damageTiffPage(fs.readFileSync(path.join(fx, 'tiff-3-page.tif')), 2));
    const p = path.join(dir, 'bad.tif');
    const r = await make('local').prepare({ path: p, rel: 'scans/bad.tif', sourceHash: asHash(sha256(fs.readFileSync(p))), sourcePage: 2 });
    assert.ok('problem' in r);
    assert.match(r.problem, /^scans\/bad\.tif page 2 could not be decoded \(.+\); replace the file with a good copy$/);
    assert.ok(!('problem' in (await make('local').prepare({ path: p, rel: 'scans/bad.tif', sourceHash: asHash(sha256(fs.readFileSync(p))), sourcePage: 3 }))), 'page 3 is fine');
  });

  test('an image over the engine\'s byte limit becomes JPEG, then smaller, until it fits', async () => {
    const accepts = { formats: ['png', 'jpeg', 'webp'] as const, maxBytes: 60_000 };
    const prep = new Preparer({ cacheDir: tmp(), family: 'gemini', settings: DEFAULT_IMAGES.gemini, accepts: { ...accepts, formats: [...accepts.formats] } });
    const r = ok(await prep.prepare(target('tiff-jpeg-rgb.tif')));
    assert.equal(r.format, 'jpeg');
    assert.ok(r.bytes <= 60_000 && fs.statSync(r.path).size === r.bytes, `${r.bytes} bytes`);
    const png = ok(await make('gemini').prepare(target('tiff-jpeg-rgb.tif')));
    assert.equal(png.format, 'png', 'without the limit: lossless');
  });

  test('grayscale, a chosen format, and gc of images not used lately', async () => {
    const cacheDir = tmp();
    const prep = make('gemini', { grayscale: true, format: 'jpeg', quality: 80 }, cacheDir);
    const grey = ok(await prep.prepare(target('tiff-jpeg-rgb.tif')));
    // Group commit: the image is in place at once, its record only at the flush (after the image is durable).
    const records = () => fs.readdirSync(path.join(cacheDir, 'prepared'), { recursive: true }).filter((f) => String(f).endsWith('.json'));
    assert.ok(fs.existsSync(grey.path));
    assert.deepEqual(records(), [], 'no record before the flush');
    prep.flush();
    assert.equal(records().length, 1);
    const again = make('gemini', { grayscale: true, format: 'jpeg', quality: 80 }, cacheDir);
    assert.equal(ok(await again.prepare(target('tiff-jpeg-rgb.tif'))).path, grey.path);
    assert.equal(again.decoded, 0, 'another process finds the flushed record');
    const m = await sharp(grey.path).metadata();
    assert.deepEqual([grey.format, grey.mime, m.format, m.channels], ['jpeg', 'image/jpeg', 'jpeg', 1]);
    const webp = ok(await make('gemini', { format: 'webp' }).prepare(target('png-a1.png')));
    assert.deepEqual([webp.passthrough, webp.mime, (await sharp(webp.path).metadata()).format], [false, 'image/webp', 'webp']);
    assert.deepEqual(prunePrepared(cacheDir, Date.now() - 86_400_000, false), { images: 1, bytes: prunePrepared(cacheDir, 0, true).bytes, deleted: 0, bytesFreed: 0 });
    const gone = prunePrepared(cacheDir, Date.now() + 1000, false);
    assert.deepEqual([gone.images, gone.deleted], [1, 1]);
    assert.equal(fs.existsSync(grey.path), false);
  });
});
