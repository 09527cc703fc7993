// Bad inputs through the real CLI, one temp project per case. The standard: a clear error that names the
// file, page key, config path or option at fault and says what to do; other pages go on; no half-written
// output and no corrupt cache, ever. Exit codes: 0 all fresh, 1 some page failed or lacks its input,
// 2 usage or config error, 3 lock held.
//
// OCR is the slow part (about a second a page), so each case allow-lists as few pages as it needs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { makeProject, REPO, runCli, startCli, summaryOf, type CliResult } from './util/rig.js';

const BOOK = 'Alabama/Howard College/1849';
const IMAGES = `dataset/raw_image_dataset/${BOOK}`;
const LABELS = `dataset/label_to_curricular/${BOOK}`;
const OUTPUTS = `dataset/output_results/${BOOK}`;
const key = (page: number) => `${BOOK.split('/').join(':')}:${page}`;
const image = (name: string) => `${IMAGES}/${name}`;
const output = (page: number) => `${OUTPUTS}/${page}.json`;
const sample = (file: string) => fs.readFileSync(path.join(REPO, file));
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A copy of the sample project with only the Alabama book, of which only `pages` are allow-listed. */
function project(pages: number[], files: Record<string, string | Buffer> = {}): string {
  const dir = makeProject({ books: [BOOK], files });
  for (const label of fs.readdirSync(path.join(REPO, LABELS))) {
    if (!pages.includes(Number(path.basename(label, '.json')))) fs.rmSync(path.join(dir, LABELS, label));
  }
  return dir;
}

const exists = (dir: string, file: string) => fs.existsSync(path.join(dir, file));
const put = (dir: string, file: string, content: string | Buffer) => fs.writeFileSync(path.join(dir, file), content);

async function statusJson(dir: string, ...args: string[]): Promise<{ targets: number; counts: Record<string, number>; items?: Array<{ key: string; state: string }> }> {
  const r = await runCli(dir, ['status', '--json', ...args]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

async function explainJson(dir: string, target: string, ...args: string[]): Promise<any> {
  const r = await runCli(dir, ['explain', target, '--json', ...args]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/** Only these counts are non-zero. */
function assertCounts(actual: Record<string, number>, expected: Record<string, number>): void {
  const nonZero = Object.fromEntries(Object.entries(actual).filter(([, n]) => n > 0));
  assert.deepEqual(nonZero, expected);
}

/** The `ocrmake: ` error a command printed: its lines, without the prefix. */
function errorOf(r: CliResult): string {
  assert.match(r.stderr, /^ocrmake: /m, `no error message\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stderr.slice(r.stderr.indexOf('ocrmake: ') + 'ocrmake: '.length).trimEnd();
}

/** No temp files next to outputs or in the cache, and no lock left behind. */
function assertClean(dir: string): void {
  const stray = walk(dir).filter((f) => /\.tmp-|\.new-|\.stale-/.test(path.basename(f)));
  assert.deepEqual(stray, [], 'temporary files left behind');
  assert.equal(exists(dir, '.ocrcache/lock'), false, 'lock left behind');
}

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

/** An ocrfile with the given `pages` and `execution` (TypeScript source text). */
function ocrfile(pages: string, execution = '{ maxAttempts: 3 }'): string {
  return `import { defineOcrfile } from 'ocrmake';
import pageOcr from './rules/page_ocr.js';

export default defineOcrfile({
  pages: ${pages},
  target: 'dataset/output_results/{state}/{school}/{year}/{page}.json',
  rule: pageOcr,
  engine: 'local',
  execution: ${execution},
});
`;
}

const GOOD_PAGES = `{
    allowList: 'dataset/label_to_curricular/{state}/{school}/{year}/{page}.json',
    image: 'dataset/raw_image_dataset/{state}/{school}/{year}/{page}.{png,jpg}',
  }`;

// The cases are independent projects: run a few at once (OCR is CPU-bound, CLI start-up mostly waits).
describe('bad inputs', { concurrency: 3 }, () => {
  test('1. a syntax error in ocrfile.ts or in a rule it imports: exit 2 naming the file and line', async () => {
    // The brace after `pages:` is missing, so the parser trips on line 6 (`image:` reads as the value of pages).
    const dir = project([1], {
      'ocrfile.ts': `import { defineOcrfile } from 'ocrmake';
  import pageOcr from './rules/page_ocr.js';

  export default defineOcrfile({
    pages:
      image: 'dataset/raw_image_dataset/{state}/{school}/{year}/{page}.png',
    },
    target: 'dataset/output_results/{state}/{school}/{year}/{page}.json',
    rule: pageOcr,
  });
  `,
    });
    const r = await runCli(dir, ['build']);
    assert.equal(r.code, 2, r.stderr);
    const msg = errorOf(r);
    assert.match(msg, /^ocrfile\.ts at 6:\d+: syntax error: Unexpected token/);
    assert.match(msg, /Fix line 6 of ocrfile\.ts and run again; nothing was built\.$/);
    assert.equal(msg.split('\n').length, 2, msg);
    assert.equal(exists(dir, '.ocrcache'), false, 'nothing was opened');

    // The same in the rule the ocrfile imports: the rule file is named, not the ocrfile.
    fs.cpSync(path.join(REPO, 'ocrfile.ts'), path.join(dir, 'ocrfile.ts'));
    const rule = fs.readFileSync(path.join(dir, 'rules/page_ocr.ts'), 'utf8');
    const broken = `${rule.trimEnd()}\nexport const broken = {;\n`;
    put(dir, 'rules/page_ocr.ts', broken);
    const line = broken.split('\n').indexOf('export const broken = {;') + 1;
    const r2 = await runCli(dir, ['build']);
    assert.equal(r2.code, 2, r2.stderr);
    const msg2 = errorOf(r2);
    assert.match(msg2, new RegExp(`^rules/page_ocr\\.ts at ${line}:\\d+: syntax error: Unexpected token \\(imported by ocrfile\\.ts\\)`));
    assert.match(msg2, new RegExp(`Fix line ${line} of rules/page_ocr\\.ts`));

    // A runtime error while loading (a misspelt name) is located the same way.
    put(dir, 'rules/page_ocr.ts', rule);
    const misspelt = ocrfile(GOOD_PAGES).replace('rule: pageOcr', 'rule: pageOCR');
    put(dir, 'ocrfile.ts', misspelt);
    const at = misspelt.split('\n').findIndex((l) => l.includes('pageOCR')) + 1;
    const r3 = await runCli(dir, ['status']);
    assert.equal(r3.code, 2, r3.stderr);
    assert.match(errorOf(r3), new RegExp(`^ocrfile\\.ts at ${at}:\\d+: loading it threw ReferenceError: pageOCR is not defined\\n {2}Fix line ${at} of ocrfile\\.ts`));
  });

  test('2. invalid config values: exit 2 with every problem at once, each at its config path', async () => {
    const dir = project([1], {
      'ocrfile.ts': ocrfile(`{ image: 42 as any }`, `{ batchSize: -5, maxAttemps: 2 } as any`),
    });
    const r = await runCli(dir, ['build']);
    assert.equal(r.code, 2, r.stderr);
    const msg = errorOf(r);
    assert.match(msg, /^ocrfile\.ts at pages\.image: Invalid input: expected string, received number \(got 42\)$/m);
    assert.match(msg, /^ocrfile\.ts at execution\.batchSize: Too small: expected number to be >=1 \(got -5\)$/m);
    assert.match(msg, /^ocrfile\.ts at execution\.maxAttemps: unknown option "maxAttemps"\n {2}Did you mean "maxAttempts"\? Options here: maxAttempts, batchSize,/m);
    assert.match(msg, /Fix this value in the ocrfile/);
    assert.equal((msg.match(/^(ocrmake: )?ocrfile\.ts at /gm) ?? []).length, 3, msg);
    assert.equal(exists(dir, '.ocrcache'), false);
    assert.equal(exists(dir, 'dataset/output_results'), false);

    // Missing options say so; a file with no default export says that, not a cascade of missing options.
    put(dir, 'ocrfile.ts', "export default { pages: { image: 'dataset/{page}.png' } };\n");
    const missing = await runCli(dir, ['status']);
    assert.equal(missing.code, 2, missing.stderr);
    assert.equal(
      errorOf(missing),
      'ocrfile.ts at target: missing: expected a string\n  Add target (README "ocrfile.ts" lists every option).\n' +
        'ocrfile.ts at rule: missing: expected an object\n  Add rule (README "ocrfile.ts" lists every option).',
    );
    put(dir, 'ocrfile.ts', 'export const config = {};\n');
    const none = await runCli(dir, ['status']);
    assert.equal(none.code, 2, none.stderr);
    assert.equal(errorOf(none), 'ocrfile.ts: no default export\n  End it with export default defineOcrfile({ pages, target, rule }) (README "ocrfile.ts").');
  });

  test('3. a pattern without the order wildcard means multi-page files; a target without it: exit 2 naming target and both fixes', async () => {
    const dir = project([1], {
      'ocrfile.ts': ocrfile(`{ image: 'dataset/raw_image_dataset/{state}/{school}/{year}/{n}.png' }`).replace('{page}.json', '{n}.json'),
    });
    const r = await runCli(dir, ['build']);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(
      errorOf(r),
      'ocrfile.ts at target: the target pattern does not use {page}, so two pages would share one output\n' +
        '  The image pattern has no {page}, so each image file is read as a multi-page source (PDF, TIFF) whose pages are numbered {page}: use {page} in the target. If another wildcard holds the page number, set pages.order to it.',
    );

    // order: 'leaf' that no pattern uses: the allow-list (with {page}) no longer names pages the way the image pattern does.
    put(dir, 'ocrfile.ts', ocrfile(GOOD_PAGES.replace('\n  }', "\n    order: 'leaf',\n  }")));
    const r2 = await runCli(dir, ['status']);
    assert.equal(r2.code, 2, r2.stderr);
    assert.match(errorOf(r2), /^ocrfile\.ts at pages\.allowList: the allow-list pattern uses \{state\}, \{school\}, \{year\}, \{page\} but pages are named by \{state\}, \{school\}, \{year\}, \{page\}, \{leaf\}\n {2}Use the image pattern's wildcards plus \{leaf\}/);

    // A pattern that does not parse names itself.
    put(dir, 'ocrfile.ts', ocrfile(GOOD_PAGES.replace('{page}.{png,jpg}', '{page.png')));
    const r3 = await runCli(dir, ['status']);
    assert.equal(r3.code, 2, r3.stderr);
    assert.match(errorOf(r3), /^ocrfile\.ts at pages\.image: pattern ".*\{page\.png" has an unclosed "\{" at character \d+/);
  });

  test('4. a file whose name is not a page number: a warning naming it and what to do; the rest builds, exit 0', async () => {
    const dir = project([1], {
      [image('cover.png')]: sample(`dataset/raw_image_dataset/${BOOK}/1.png`),
      [`${LABELS}/cover.json`]: '{}',
    });
    const r = await runCli(dir, ['build']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`^warning: ${esc(image('cover.png'))}: image name "cover" is not a page number, so this file is not a page\\. Rename it to its page number \\(e\\.g\\. 12\\.png\\) or move it out of the collection\\.$`, 'm'));
    assert.match(r.stderr, new RegExp(`^warning: ${esc(LABELS)}/cover\\.json: allow-list file name "cover" is not a page number`, 'm'));
    assert.match(r.stdout, /^done: 1 built, .*1\/1 up to date/m);
    assertCounts((await statusJson(dir)).counts, { fresh: 1 });
    assert.deepEqual(fs.readdirSync(path.join(dir, OUTPUTS)), ['1.json']);
    assertClean(dir);
  });

  test('5. two images for one page: that page is missing-input naming both, its successors are blocked by it, the rest builds, exit 1', async () => {
    // Pages 1-2 are one chain; page 4 starts another (3 is missing).
    const dir = project([1, 2, 4], { [image('01.png')]: sample(`dataset/raw_image_dataset/${BOOK}/1.png`) });
    const both = `2 images for one page: ${image('01.png')} and ${image('1.png')}; keep one and delete or rename the other`;
    const r = await runCli(dir, ['build', '--json']);
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(r.events.filter((e) => e.event === 'missing-input'), [{ event: 'missing-input', key: key(1), detail: both }]);
    assert.deepEqual(r.events.filter((e) => e.event === 'built').map((e) => e.key).sort(), [key(2), key(4)]);
    assert.equal(summaryOf(r).missingInput, 1);
    assert.equal(exists(dir, output(1)), false);
    assertCounts((await statusJson(dir)).counts, { fresh: 2, 'missing-input': 1 });

    // The local engine sends no context, so page 2 did not need page 1. With Gemini it would: page 2 is then
    // blocked by page 1, and the other chain is not.
    const e2 = await explainJson(dir, key(2), '--engine', 'gemini-batch');
    assert.equal(e2.state, 'blocked');
    assert.equal(e2.blockedBy, key(1));
    assert.equal(e2.detail, `${key(1)} is missing-input`);
    const planned = await statusJson(dir, '--all', '--engine', 'gemini-batch');
    assert.deepEqual(
      planned.items!.map((i) => [i.key, i.state]),
      [[key(1), 'missing-input'], [key(2), 'blocked'], [key(4), 'stale']],
    );
    assertClean(dir);
  });

  test('6. an allow-listed page without an image: missing-input naming the expected path and what to do; the rest builds, exit 1', async () => {
    const dir = project([1], { [`${LABELS}/5.json`]: '{}' });
    const r = await runCli(dir, ['build']);
    assert.equal(r.code, 1, r.stderr);
    const detail = `no image for this page: expected ${image('5.{png,jpg}')}; add the image, or delete ${LABELS}/5.json if the page does not exist`;
    assert.match(r.stderr, new RegExp(`^missing  ${esc(key(5))}: ${esc(detail)}$`, 'm'));
    assert.match(r.stdout, /^done: 1 built, .*1 missing input; .*1\/2 up to date/m);
    assertCounts((await statusJson(dir)).counts, { fresh: 1, 'missing-input': 1 });
    const e = await explainJson(dir, key(5));
    assert.equal(e.state, 'missing-input');
    assert.equal(e.image, null);
    assert.equal(e.detail, detail);
    assertClean(dir);
  });

  test('7. corrupt images: each fails alone naming its file and "replace the file"; others build; no tesseract noise; a good image builds next time', async () => {
    const good2 = sample(`dataset/raw_image_dataset/${BOOK}/2.png`);
    // Page 5's PNG is whole (it ends with IEND) but has damaged pixel data: only tesseract can tell.
    const damaged = Buffer.from(good2);
    for (let i = 60_000; i < 60_100; i++) damaged[i] = damaged[i]! ^ 0xff;
    const random = Buffer.alloc(5000, 0);
    for (let i = 0, x = 7; i < random.length; i++) random[i] = x = (x * 1103515245 + 12345) & 0xff;
    const dir = project([1, 2, 3, 4, 5], {
      [image('2.png')]: good2.subarray(0, 3000), // a cut-short copy
      [image('3.png')]: 'Page 3 was saved as text by mistake.\n',
      [image('4.png')]: random,
      [image('5.png')]: damaged,
      [`${LABELS}/5.json`]: '{}',
    });
    // No bad file may hang the build (runCli's bound, generous for a busy machine, would fail the test).
    const r = await runCli(dir, ['build', '--json'], { timeoutMs: 300_000 });
    assert.equal(r.code, 1, r.stderr);
    const replace = 'replace the file with a good copy';
    const missing = Object.fromEntries(r.events.filter((e) => e.event === 'missing-input').map((e) => [e.key, e.detail]));
    assert.deepEqual(Object.keys(missing).sort(), [key(2), key(3), key(4), key(5)]);
    assert.equal(missing[key(2)], `${image('2.png')} is truncated (the PNG data ends before its IEND chunk); ${replace}`);
    assert.equal(missing[key(3)], `${image('3.png')} is not a readable image (not PNG, JPEG, TIFF, JPEG 2000, PDF, WebP, GIF, BMP or AVIF data); ${replace}`);
    assert.equal(missing[key(4)], `${image('4.png')} is not a readable image (not PNG, JPEG, TIFF, JPEG 2000, PDF, WebP, GIF, BMP or AVIF data); ${replace}`);
    // The decoder's own reason (libvips reading it with libpng), found by the prepare stage before any engine runs.
    assert.match(missing[key(5)], new RegExp(`^${esc(image('5.png'))} could not be decoded \\(vipspng: [^)]+\\); ${replace}$`));
    for (const e of r.events.filter((e) => e.event === 'failed')) {
      assert.equal(e.class, 'input-error');
      assert.equal(e.dead, true, 'a bad file is not retried: the same bytes fail the same way');
    }
    // What tesseract, Leptonica and libpng print goes into the message above, not onto the terminal.
    assert.equal(r.stderr, '', 'nothing but the events was printed');
    const s = summaryOf(r);
    assert.equal(s.built, 1);
    assert.equal(s.missingInput, 4);
    assert.deepEqual(fs.readdirSync(path.join(dir, OUTPUTS)), ['1.json'], 'no output, partial or not, for a bad image');
    assertCounts((await statusJson(dir)).counts, { fresh: 1, 'missing-input': 4 });
    assertClean(dir);

    // A new image is a new fingerprint, so a new chance; the unchanged bad files are not tried again.
    put(dir, image('2.png'), good2);
    const fixed = await runCli(dir, ['build', '--json']);
    assert.equal(fixed.code, 1, 'pages 3-5 are still bad');
    assert.deepEqual(fixed.events.filter((e) => e.event === 'built').map((e) => e.key), [key(2)]);
    const f = summaryOf(fixed);
    assert.equal(f.requests, 1);
    assert.equal(f.fresh, 2);
    assert.equal(f.missingInput, 3);
    assertClean(dir);
  });

  test('8. a corrupt cache is moved aside (never deleted), a new one started, and outputs equal to their stored result stay fresh', async () => {
    const dir = project([1]);
    const first = await runCli(dir, ['build', '--json']);
    assert.equal(first.code, 0, first.stderr);
    const state = path.join(dir, '.ocrcache/state.sqlite');
    const good = fs.readFileSync(state);
    const outputBefore = fs.readFileSync(path.join(dir, output(1)));
    const variants: Array<[string, Buffer, RegExp]> = [
      ['garbage', Buffer.from('this is not a database\n'.repeat(200)), /not an SQLite database/],
      ['a truncated copy', good.subarray(0, Math.floor(good.length / 2)), /the file is truncated \(\d+ of \d+ bytes\)/],
      ['an empty file', Buffer.alloc(0), /the file is empty/],
    ];
    for (const [what, bytes, why] of variants) {
      for (const f of fs.readdirSync(path.join(dir, '.ocrcache')).filter((f) => f.includes('.corrupt-'))) fs.rmSync(path.join(dir, '.ocrcache', f));
      fs.writeFileSync(state, bytes);
      const r = await runCli(dir, ['build', '--json']);
      assert.equal(r.code, 0, `${what}: ${r.stderr}`);
      const warnings = r.events.filter((e) => e.event === 'warning');
      assert.equal(warnings.length, 1, `${what}: one warning`);
      const moved = fs.readdirSync(path.join(dir, '.ocrcache')).filter((f) => f.includes('.corrupt-'));
      assert.equal(moved.length, 1, `${what}: the damaged file was moved aside`);
      const aside = `.ocrcache/${moved[0]}`;
      assert.deepEqual(fs.readFileSync(path.join(dir, aside)), bytes, `${what}: moved with its bytes intact`);
      assert.equal(warnings[0].file, aside);
      assert.match(warnings[0].message, new RegExp(`^the cache \\.ocrcache/state\\.sqlite is damaged \\(`));
      assert.match(warnings[0].message, why, what);
      assert.match(warnings[0].message, new RegExp(`it was moved to ${esc(aside)} \\(nothing deleted\\) and a new cache started\\.\\n {2}Outputs equal to a stored result count as fresh; any other output shows as edited until you rebuild it with build --force\\.$`));
      const s = summaryOf(r);
      assert.equal(s.requests, 0, `${what}: nothing sent again`);
      assert.equal(s.fresh, 1);
      assert.deepEqual(r.events.filter((e) => e.event === 'recovered').map((e) => e.key), [key(1)]);
      assert.deepEqual(fs.readFileSync(path.join(dir, output(1))), outputBefore, 'the output is untouched');
    }
    // The new cache is sound: the next command opens it without a word.
    const status = await runCli(dir, ['status', '--json']);
    assert.equal(status.stderr, '');
    assertCounts(JSON.parse(status.stdout).counts, { fresh: 1 });
    assertClean(dir);
  });

  test('9. a second build while one runs: exit 3 naming the holder pid; a build works after it; a dead holder\'s lock is taken over silently', async () => {
    const dir = project([1]);
    const lock = path.join(dir, '.ocrcache/lock');
    const first = startCli(dir, ['build', '--json']);
    let firstOut = '';
    first.stdout!.on('data', (d) => (firstOut += d));
    const firstExit = new Promise<number | null>((resolve) => first.on('close', (code) => resolve(code)));
    // Catch the first build holding the lock, and freeze it there: the second one cannot come too late.
    const deadline = Date.now() + 120_000;
    while (!fs.existsSync(lock) || !fs.readFileSync(lock, 'utf8').includes(`"pid":${first.pid}`)) {
      assert.ok(Date.now() < deadline, `the first build never took the lock: ${firstOut}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    first.kill('SIGSTOP');
    let second: CliResult;
    try {
      second = await runCli(dir, ['build']);
    } finally {
      first.kill('SIGCONT');
    }
    assert.equal(second.code, 3, second.stderr);
    assert.match(
      errorOf(second),
      new RegExp(
        `^another ocrmake is running in this project: pid ${first.pid} \\(ocrmake build, started [^)]+\\) holds \\.ocrcache/lock\\.\\n` +
          ` {2}Wait for it to finish, or stop it \\(kill ${first.pid}\\); a lock left by a process that no longer exists is taken over automatically\\.$`,
      ),
    );
    assert.equal(await firstExit, 0, 'the first build finished its work');
    assert.equal(exists(dir, output(1)), true);
    const after = await runCli(dir, ['build', '--json']);
    assert.equal(after.code, 0, after.stderr);
    assert.equal(summaryOf(after).requests, 0);

    // A lock left by a process that no longer exists (kill -9, a crash): taken over without a word.
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    fs.writeFileSync(lock, JSON.stringify({ pid: dead, command: 'build', startedAt: '2020-01-01T00:00:00.000Z' }));
    fs.rmSync(path.join(dir, output(1)));
    const takeover = await runCli(dir, ['build']);
    assert.equal(takeover.code, 0, takeover.stderr);
    assert.equal(takeover.stderr, '');
    assert.match(takeover.stdout, /^done: 0 built, 1 restored,/m, 'it did its work under the lock');
    assertClean(dir);
  });

  test('an unknown selector: exit 2 naming it and where keys are listed', async () => {
    const dir = project([1]);
    const r = await runCli(dir, ['build', 'nosuch:key']);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(errorOf(r), '"nosuch:key" matches no page\n  Use a key (ocrmake status --all lists them), an output, image or allow-list path, or wildcard=value.');
    const w = await runCli(dir, ['build', 'nosuch=1']);
    assert.equal(w.code, 2, w.stderr);
    assert.equal(errorOf(w), '"nosuch=1": there is no wildcard {nosuch}\n  Wildcards of this collection: state, school, year, page.');
    const e = await runCli(dir, ['explain', 'Alabama:Howard College:1849:9']);
    assert.equal(e.code, 2, e.stderr);
    assert.match(errorOf(e), /^"Alabama:Howard College:1849:9" matches no page\n/);
    assert.equal(exists(dir, 'dataset/output_results'), false, 'nothing was built');
    assertClean(dir);
  });

  test('an unknown option or command: exit 2 naming it and pointing at --help', async () => {
    const dir = project([1]);
    const cases: Array<[string[], string]> = [
      [['build', '--nosuch'], 'unknown option --nosuch for ocrmake build\n  Run ocrmake build --help for its options.'],
      [['biuld'], 'unknown command "biuld": did you mean build?\n  Run ocrmake --help for the commands and their options.'],
      [['frobnicate'], 'unknown command "frobnicate"\n  Run ocrmake --help for the commands and their options.'],
      [['status', 'extra'], 'unexpected argument "extra" for ocrmake status\n  Run ocrmake status --help for its options.'],
      [['build', '--engine', 'foo'], '--engine "foo" is not one of "auto", "gemini-batch", "gemini", "local"\n  Run ocrmake build --help for its options.'],
      [['explain'], 'ocrmake explain needs a target: a key, or an output, image or allow-list path\n  Run ocrmake explain --help for its options.'],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(dir, args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(errorOf(r), message);
    }
    assert.equal(exists(dir, '.ocrcache'), false, 'nothing was opened');
  });
});
