// The prepare stage in front of the Gemini engines (issue #10), through the real CLI and the real SDK against
// the fake Gemini server: only PNG/JPEG/WebP within the configured long edge is ever sent; a TIFF costs what
// its PNG twin costs; a no-op build decodes nothing; changing images.maxLongEdge re-plans every page with a
// reason explain names, and reverting restores them for free; a damaged page inside a PDF or a TIFF fails
// alone, named with its file and page, and is never sent.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { makeFixtures } from '../scripts/make-fixtures.js';
import { defaultReplier, loadGroundTruth, type FakeGemini, type ReplyRequest } from './fake-gemini/index.js';
import { damagePdfImage, damageTiffPage } from './util/damage.js';
import { buildAgainst, eventsOf, expectExit, explainJson, geminiEnv, startFake } from './util/gemini-rig.js';
import { makeProject, REPO, runCli, summaryOf, write } from './util/rig.js';
import { tiledTokens as imageTokens } from '../src/cost/image-tokens.js';

const ocrfile = (maxLongEdge: number) => `import { defineOcrfile } from 'ocrmake';
import pageOcr from './rules/page_ocr.js';
export default defineOcrfile({
  pages: { image: 'scans/{state}/{school}/{year}.{tif,pdf,png,heic}' },
  target: 'out/{state}/{school}/{year}/{page}.json',
  rule: pageOcr,
  engine: 'gemini-batch',
  execution: { batchSize: 100, maxConcurrentBatches: 4, pollSeconds: 30 },
  images: { gemini: { maxLongEdge: ${maxLongEdge} } },
});
`;

const TIFF = 'Alabama:Howard College:1849';
const PDF = 'Virginia:Hampden-Sydney College:1851';
/** The books and their pages; the damaged books' page 2 cannot be decoded (and their page 3 waits on it). */
const GOOD = [...[1, 2, 3].map((n) => `${TIFF}:${n}`), ...[1, 2, 3].map((n) => `${PDF}:${n}`), 'Twin:Png:1849:1', 'Big:Tiff:1900:1', 'Big:Png:1900:1'];

interface Sent {
  key: string | undefined;
  mime: string;
  bytes: Buffer;
}

describe('images prepared for Gemini', () => {
  let dir: string;
  let fake: FakeGemini;
  const sent: Sent[] = [];

  before(async () => {
    const gt = await loadGroundTruth(path.join(REPO, 'dataset'));
    const reply = defaultReplier(gt);
    fake = await startFake({
      batchTiming: { pendingPolls: 0, runningPolls: 0 },
      replier: (req: ReplyRequest) => {
        for (const im of req.images) sent.push({ key: req.key, mime: im.mimeType, bytes: im.bytes });
        return reply(req);
      },
    });
    dir = makeProject({ dataset: false, files: { 'ocrfile.ts': ocrfile(1600) } });
    // A Gemini 2 model: its image tokens follow the pixel size (768-px tiles), which is what the estimate
    // must take from the prepared image (Gemini 3 bills a fixed budget per image whatever its size).
    const rule = path.join(dir, 'rules/page_ocr.ts');
    fs.writeFileSync(rule, fs.readFileSync(rule, 'utf8').replace("thinking: { level: 'low' },", "model: 'gemini-2.5-flash-lite',"));
    const fx = path.join(dir, 'fixtures');
    await makeFixtures(fx);
    const put = (to: string, bytes: Buffer) => write(dir, `scans/${to}`, bytes);
    const tiff = fs.readFileSync(path.join(fx, 'tiff-3-page.tif')), pdf = fs.readFileSync(path.join(fx, 'pdf-scan-3.pdf'));
    put('Alabama/Howard College/1849.tif', tiff);
    put('Virginia/Hampden-Sydney College/1851.pdf', pdf);
    put('Twin/Png/1849.png', fs.readFileSync(path.join(fx, 'png-a1.png'))); // the TIFF's page 1, as PNG
    // A master larger than the long edge, as an LZW TIFF and as PNG: both are sent at 1600 px.
    const big = await sharp(path.join(fx, 'png-a1.png')).resize(2200, 3000).toColourspace('b-w').raw().toBuffer();
    const raw = { raw: { width: 2200, height: 3000, channels: 1 as const } };
    put('Big/Tiff/1900.tif', await sharp(big, raw).tiff({ compression: 'lzw' }).toBuffer());
    put('Big/Png/1900.png', await sharp(big, raw).png().toBuffer());
    put('Damaged/Tiff/1849.tif', damageTiffPage(tiff, 2));
    put('Damaged/Pdf/1851.pdf', damagePdfImage(pdf, 2)); // page 2 is the JPEG page
    // An iPhone photo: an ISO-BMFF file whose brand is heic (the prebuilt libvips has no HEVC decoder).
    put('Phone/Heic/2020.heic', Buffer.concat([Buffer.from('00000018667479706865696300000000686569636d696631', 'hex'), Buffer.alloc(200, 7)]));
  });

  test('the estimate counts the prepared size: a TIFF and its PNG twin cost the same, a big master what 1600 px cost', async () => {
    const estimate = async (selector: string) => {
      const r = await runCli(dir, ['build', '--dry-run', '--json', selector], { env: geminiEnv(fake) });
      assert.equal(r.code, 0, r.stderr);
      return eventsOf(r, 'plan')[0].estimate;
    };
    const tiff = await estimate(`${TIFF}:1`), png = await estimate('Twin:Png:1849:1');
    assert.equal(tiff.imageTokens, png.imageTokens);
    assert.equal(tiff.imageTokens, imageTokens(1100, 1500));
    assert.ok(Math.abs(tiff.tokensIn - png.tokensIn) / png.tokensIn <= 0.05, `TIFF ${tiff.tokensIn} vs PNG ${png.tokensIn} tokens in`);
    const bigTiff = await estimate('Big:Tiff:1900:1'), bigPng = await estimate('Big:Png:1900:1');
    assert.equal(bigTiff.imageTokens, bigPng.imageTokens);
    assert.equal(bigTiff.imageTokens, imageTokens(1173, 1600), 'what is sent, not the 2200×3000 master');
    // A PDF page is counted as rendered at images.dpi (300), capped at 1600 px: its scan, sent at its native
    // 150 dpi, costs less. The estimate errs high, the safe side of --max-cost (reading the page's image
    // size would mean decoding it).
    const pdf = await estimate(`${PDF}:1`);
    assert.equal(pdf.imageTokens, imageTokens(1173, 1600));
  });

  test('only PNG, JPEG or WebP within the long edge is sent; uploads are keyed by the prepared bytes', async () => {
    const r = await buildAgainst(dir, fake);
    const s = expectExit(r, 1); // the damaged pages
    assert.deepEqual(eventsOf(r, 'built').map((e) => e.key).sort(), [...GOOD, 'Damaged:Pdf:1851:1', 'Damaged:Tiff:1849:1'].sort());
    assert.ok(sent.length >= GOOD.length + 2);
    for (const im of sent) {
      assert.ok(['image/png', 'image/jpeg', 'image/webp'].includes(im.mime), `${im.key}: ${im.mime}`);
      const m = await sharp(im.bytes).metadata();
      assert.equal(`image/${m.format === 'jpeg' ? 'jpeg' : m.format}`, im.mime, `${im.key}: the bytes are what the MIME type says`);
      assert.ok(Math.max(m.width!, m.height!) <= 1600, `${im.key}: ${m.width}×${m.height}`);
    }
    const big = sent.find((im) => im.key === 'Big:Tiff:1900:1')!;
    assert.deepEqual(await sharp(big.bytes).metadata().then((m) => [m.width, m.height]), [1173, 1600]);
    // One upload per distinct prepared image: the big TIFF and its PNG twin prepare to the same bytes.
    const uploads = fake.files().filter((f) => f.mimeType.startsWith('image/'));
    assert.equal(uploads.length, s['uploads']);
    assert.equal(new Set(sent.map((im) => im.bytes.toString('base64'))).size, uploads.length);
    assert.ok(uploads.length < sent.length, 'identical prepared images were uploaded once');
  });

  test('a damaged page inside a PDF or TIFF fails alone, naming file and page; never sent, never retried', async () => {
    const r = await buildAgainst(dir, fake);
    expectExit(r, 1);
    assert.equal(summaryOf(r)['requests'], 0, 'nothing retried');
    const missing = Object.fromEntries(eventsOf(r, 'missing-input').map((e) => [e.key, e.detail]));
    assert.match(missing['Damaged:Tiff:1849:2'], /^scans\/Damaged\/Tiff\/1849\.tif page 2 could not be decoded \(.+\); replace the file with a good copy$/);
    assert.match(missing['Damaged:Pdf:1851:2'], /^scans\/Damaged\/Pdf\/1851\.pdf page 2 could not be decoded \(its scanned image cannot be decoded\); replace the file with a good copy$/);
    assert.match(missing['Phone:Heic:2020:1'], /^scans\/Phone\/Heic\/2020\.heic is a HEIC image, which cannot be decoded here \(.+\); convert it to PNG, JPEG or AVIF$/);
    // Page 3 depends on page 2's output (its context): blocked, naming the page at fault.
    const blocked = Object.fromEntries(eventsOf(r, 'blocked').map((e) => [e.key, e.by]));
    assert.deepEqual(blocked, { 'Damaged:Tiff:1849:3': 'Damaged:Tiff:1849:2', 'Damaged:Pdf:1851:3': 'Damaged:Pdf:1851:2' });
    assert.ok(!sent.some((im) => im.key?.startsWith('Damaged:') && im.key.endsWith(':2')), 'the damaged pages were never sent');
  });

  test('a no-op build after a build decodes no image and counts no page', async () => {
    fake.resetCounters();
    const r = await buildAgainst(dir, fake);
    const s = expectExit(r, 1);
    assert.deepEqual([s['decoded'], s['probed'], s['requests'], s['uploads']], [0, 0, 0, 0]);
    assert.equal(fake.counters.requests, 0);
  });

  test('editing images.maxLongEdge re-plans every page (prepare-changed, named by explain); reverting restores them for free', async () => {
    write(dir, 'ocrfile.ts', ocrfile(1200));
    const status = JSON.parse((await runCli(dir, ['status', '--all', '--json'], { env: geminiEnv(fake) })).stdout);
    const good = status.items.filter((i: { key: string }) => GOOD.includes(i.key));
    assert.equal(good.length, GOOD.length);
    for (const item of good) assert.deepEqual([item.key, item.state, item.reasons.map((x: { code: string }) => x.code)], [item.key, 'stale', ['prepare-changed']]);
    const e = await explainJson(dir, fake, `${PDF}:2`);
    assert.deepEqual(e.reasons.map((x: { code: string }) => x.code), ['prepare-changed']);
    assert.notEqual(e.components.prepare.recorded, e.components.prepare.current);
    assert.equal(e.components.image.recorded, e.components.image.current, 'the source did not change');
    const human = await runCli(dir, ['explain', `${PDF}:2`], { env: geminiEnv(fake) });
    assert.match(human.stdout, /^ {2}reason {7}prepare-changed: recorded [0-9a-f]{12}, current [0-9a-f]{12}$/m);
    assert.match(human.stdout, /^ {4}prepare {4}[0-9a-f]{12} {2}[0-9a-f]{12} {4}changed$/m);

    sent.length = 0;
    const smaller = await buildAgainst(dir, fake);
    expectExit(smaller, 1);
    assert.deepEqual(eventsOf(smaller, 'built').map((x) => x.key).sort(), [...GOOD, 'Damaged:Pdf:1851:1', 'Damaged:Tiff:1849:1'].sort());
    for (const im of sent) {
      const m = await sharp(im.bytes).metadata();
      assert.ok(Math.max(m.width!, m.height!) <= 1200, `${im.key}: ${m.width}×${m.height}`);
    }

    write(dir, 'ocrfile.ts', ocrfile(1600));
    fake.resetCounters();
    const back = await buildAgainst(dir, fake);
    const s = expectExit(back, 1);
    assert.equal(s['restored'], GOOD.length + 2, 'every page restored from the result store');
    assert.deepEqual([s['requests'], s['built'], fake.counters.requests - fake.counters.model_get], [0, 0, 0], 'nothing sent (a model check at most)');
    // Only the damaged pages were looked at again: their previous page's output (their context) changed
    // twice, so each time theirs was a new request; their image was decoded, failed, and nothing was sent.
    assert.deepEqual(eventsOf(back, 'failed').map((e) => [e.key, e.class]).sort(), [['Damaged:Pdf:1851:2', 'input-error'], ['Damaged:Tiff:1849:2', 'input-error']]);
    assert.equal(s['decoded'], 2);
  });

  test('the interactive engine is sent the same prepared images, inline', async () => {
    sent.length = 0;
    // --force: every good page is fresh for the interactive engine too (the same requests as the batches').
    const r = await buildAgainst(dir, fake, ['--engine', 'gemini', '--force']);
    expectExit(r, 1);
    assert.equal(eventsOf(r, 'built').length, GOOD.length + 2);
    assert.ok(sent.length >= GOOD.length + 2);
    for (const im of sent) {
      assert.ok(['image/png', 'image/jpeg', 'image/webp'].includes(im.mime), `${im.key}: ${im.mime}`);
      const m = await sharp(im.bytes).metadata();
      assert.ok(Math.max(m.width!, m.height!) <= 1600, `${im.key}: ${m.width}×${m.height}`);
    }
    assert.ok(fake.requestsFor('generate').length > 0, 'generateContent calls, not batches');
  });

  test('cleanup', async () => {
    await fake.close();
    assert.deepEqual(fake.errors, []);
  });
});
