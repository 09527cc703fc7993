// The bad-input catalogue: every kind of bad input ocrmake knows, each through the real CLI, with the exit
// code, a message that names the culprit (file, key, option or endpoint) and says what to do, and — where
// other pages exist — proof that they still build. No input here may produce "internal error".
// The deeper behaviour of many cases is tested in bad-inputs.test.ts and edges.test.ts; this file is the
// breadth: one line of data per kind, run side by side.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startOf } from '../src/cache/lock.js';
import type { FakeGemini } from './fake-gemini/index.js';
import { ALABAMA, geminiEnv, startFake } from './util/gemini-rig.js';
import { layoutProject, SAMPLE_PAGES } from './util/layout.js';
import { makeProject, parseNdjson, REPO, runCli, tempDir } from './util/rig.js';

const IMAGES = `dataset/raw_image_dataset/${ALABAMA}`;
const LABELS = `dataset/label_to_curricular/${ALABAMA}`;
const OUT = `dataset/output_results/${ALABAMA}`;
const RULE = 'rules/page_ocr.ts';
const OCRFILE = 'ocrfile.ts';

interface Case {
  kind: string;
  /** The project: the sample's Alabama book with pages 1–2 allow-listed, unless `project` makes another. */
  project?: () => string;
  setup?: (dir: string, fake: FakeGemini) => void;
  args: string[];
  /** Whether the fake Gemini server's key and URL are in the environment. */
  gemini?: boolean;
  env?: Record<string, string>;
  code: number;
  /** Names the culprit: the file, page key, option or endpoint at fault. */
  culprit: RegExp;
  /** Says what to do. */
  fix: RegExp;
  /** For builds: how many other pages were built all the same. */
  built?: number;
}

const sample = (file: string) => fs.readFileSync(path.join(REPO, file));
const edit = (dir: string, file: string, from: string | RegExp, to: string) => {
  const text = fs.readFileSync(path.join(dir, file), 'utf8');
  const next = text.replace(from, to);
  assert.notEqual(next, text, `${file} contains ${String(from)}`);
  fs.writeFileSync(path.join(dir, file), next);
};
const put = (dir: string, file: string, content: string | Buffer) => {
  fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
  fs.writeFileSync(path.join(dir, file), content);
};
const ocrfile = (dir: string, from: string | RegExp, to: string) => edit(dir, OCRFILE, from, to);

function alabama(pages = 2): string {
  const dir = makeProject({ books: [ALABAMA] });
  for (let n = pages + 1; n <= 4; n++) fs.rmSync(path.join(dir, `${LABELS}/${n}.json`));
  return dir;
}

const BUILD = ['build', '--json', '--engine', 'gemini'];

const CASES: Case[] = [
  // --- the ocrfile and rules (exit 2, nothing runs) ---
  { kind: 'no ocrfile', setup: (d) => fs.rmSync(path.join(d, OCRFILE)), args: ['status'], code: 2, culprit: /ocrfile\.ts/, fix: /Create ocrfile\.ts in the project root/ },
  { kind: 'ocrfile syntax error', setup: (d) => ocrfile(d, 'pages: {', 'pages: {{'), args: ['status'], code: 2, culprit: /ocrfile\.ts at \d+:\d+: syntax error/, fix: /Fix line \d+ of ocrfile\.ts/ },
  { kind: 'rule syntax error', setup: (d) => edit(d, RULE, 'const LEVELS', 'const = LEVELS'), args: ['status'], code: 2, culprit: /rules\/page_ocr\.ts at \d+:\d+: syntax error/, fix: /Fix line \d+ of rules\/page_ocr\.ts/ },
  { kind: 'no default export', setup: (d) => ocrfile(d, 'export default defineOcrfile(', 'export const config = defineOcrfile('), args: ['status'], code: 2, culprit: /ocrfile\.ts: no default export/, fix: /End it with export default defineOcrfile/ },
  { kind: 'misspelt option', setup: (d) => ocrfile(d, 'maxAttempts: 3', 'maxAttemps: 3'), args: ['status'], code: 2, culprit: /at execution\.maxAttemps: unknown option "maxAttemps"/, fix: /Did you mean "maxAttempts"\?/ },
  { kind: 'wrong type', setup: (d) => ocrfile(d, "order: 'page',", 'order: 7,'), args: ['status'], code: 2, culprit: /at pages\.order: .*\(got 7\)/, fix: /Fix this value in the ocrfile/ },
  { kind: 'out-of-range number', setup: (d) => ocrfile(d, 'batchSize: 100', 'batchSize: 0'), args: ['status'], code: 2, culprit: /at execution\.batchSize: Too small/, fix: /Fix this value in the ocrfile/ },
  { kind: 'absolute pattern', setup: (d) => ocrfile(d, "target: 'dataset/", "target: '/tmp/dataset/"), args: ['status'], code: 2, culprit: /at target: pattern "\/tmp\/dataset\/[^"]*" must be relative to the project root/, fix: /Patterns are relative paths/ },
  { kind: 'pattern leaving the project', setup: (d) => ocrfile(d, "target: 'dataset/", "target: '../dataset/"), args: ['status'], code: 2, culprit: /at target: pattern "\.\.\/dataset[^"]*" must not contain "\.\."/, fix: /Patterns are relative paths/ },
  { kind: 'glob characters in a pattern', setup: (d) => ocrfile(d, "target: 'dataset/output_results/", "target: 'dataset/*/"), args: ['status'], code: 2, culprit: /at target: pattern .* may not contain "\*"/, fix: /use \{name\} wildcards/ },
  { kind: 'unclosed brace', setup: (d) => ocrfile(d, "output_results/{state}/{school}/{year}/{page}.json'", "output_results/{state}/{school}/{year}/{page.json'"), args: ['status'], code: 2, culprit: /at target: pattern .* has an unclosed "\{"/, fix: /Patterns are relative paths/ },
  { kind: 'wildcard used twice', setup: (d) => ocrfile(d, "output_results/{state}/{school}/{year}/{page}.json'", "output_results/{state}/{school}/{year}/{page}/{page}.json'"), args: ['status'], code: 2, culprit: /at target: pattern .* uses \{page\} twice/, fix: /Patterns are relative paths/ },
  { kind: 'adjacent wildcards', setup: (d) => ocrfile(d, "output_results/{state}/{school}/{year}/{page}.json'", "output_results/{state}/{school}/{year}{page}.json'"), args: ['status'], code: 2, culprit: /at target: .*\{page\} directly follows another brace group/, fix: /Patterns are relative paths/ },
  { kind: 'order wildcard only in the allow-list', setup: (d) => ocrfile(d, "order: 'page',", "order: 'folio',"), args: ['status'], code: 2, culprit: /at pages\.allowList: the allow-list pattern uses \{state\}, \{school\}, \{year\}, \{page\} but pages are named by \{state\}, \{school\}, \{year\}, \{page\}, \{folio\}/, fix: /Use the image pattern's wildcards plus \{folio\} \(the page inside the file\)/ },
  { kind: 'target missing a wildcard', setup: (d) => ocrfile(d, "output_results/{state}/{school}/{year}/{page}.json'", "output_results/{state}/{school}/{page}.json'"), args: ['status'], code: 2, culprit: /at target: the target pattern does not use \{year\}/, fix: /Use every wildcard of the image pattern in the target pattern/ },
  { kind: 'target with an unknown wildcard', setup: (d) => ocrfile(d, "output_results/{state}/{school}/{year}/{page}.json'", "output_results/{state}/{school}/{year}/{page}-{lang}.json'"), args: ['status'], code: 2, culprit: /at target: the target pattern uses \{lang\}/, fix: /Use only wildcards of the image pattern/ },
  { kind: 'target with alternatives', setup: (d) => ocrfile(d, "output_results/{state}/{school}/{year}/{page}.json'", "output_results/{state}/{school}/{year}/{page}.{json,txt}'"), args: ['status'], code: 2, culprit: /at target: the target pattern may not contain \{a,b\} alternatives/, fix: /One page has exactly one output path/ },
  { kind: 'allow-list with other wildcards', setup: (d) => ocrfile(d, "label_to_curricular/{state}/", "label_to_curricular/{region}/"), args: ['status'], code: 2, culprit: /at pages\.allowList: the allow-list pattern uses \{region\}/, fix: /Both patterns must use the same wildcards/ },
  { kind: 'filter on an unknown wildcard', setup: (d) => ocrfile(d, "engine: 'auto',", "engine: 'auto',\n  filters: { county: 'Mobile' },"), args: ['status'], code: 2, culprit: /at filters\.county: no wildcard \{county\}/, fix: /Filter on one of: state, school, year, page/ },
  { kind: 'target on the scans', setup: (d) => ocrfile(d, "target: 'dataset/output_results/{state}/{school}/{year}/{page}.json'", "target: 'dataset/raw_image_dataset/{state}/{school}/{year}/{page}.png'"), args: ['build', '--force'], code: 2, culprit: /can match the same files as pages\.image "dataset\/raw_image_dataset/, fix: /Write outputs to their own folder or extension/ },
  { kind: 'target on the labels', setup: (d) => ocrfile(d, "target: 'dataset/output_results/", "target: 'dataset/label_to_curricular/"), args: ['build', '--force'], code: 2, culprit: /can match the same files as pages\.allowList/, fix: /Write outputs to their own folder or extension/ },
  { kind: 'prompt file missing', setup: (d) => fs.rmSync(path.join(d, 'prompts/page_ocr/v1.ejs')), args: ['status'], code: 2, culprit: /at rule\.prompt: prompt file prompts\/page_ocr\/v1\.ejs does not exist/, fix: /Create it, or point the rule at an existing template/ },
  { kind: 'prompt that does not compile', setup: (d) => put(d, 'prompts/page_ocr/v1.ejs', 'Page <%= page %>\n<% if (x) { %>\n'), args: ['build', '--dry-run', '--engine', 'gemini'], gemini: true, code: 2, culprit: /prompts\/page_ocr\/v1\.ejs: the prompt template does not compile/, fix: /Fix the EJS syntax/ },
  { kind: 'schema that is not zod', setup: (d) => edit(d, RULE, 'schema: PageOcr,', 'schema: { type: "object" } as any,'), args: ['status'], code: 2, culprit: /at rule\.schema: schema must be a zod 4 schema/, fix: /Fix this value in the ocrfile/ },
  { kind: 'rule name with odd characters', setup: (d) => edit(d, RULE, "name: 'page_ocr',", "name: 'page ocr/v1',"), args: ['status'], code: 2, culprit: /at rule\.name: rule name may contain letters, digits, _ \. - only/, fix: /Fix this value in the ocrfile/ },
  { kind: 'thinking level the model refuses', setup: (d) => edit(d, RULE, "thinking: { level: 'low' },", "thinking: { level: 'minimal' },"), args: ['status'], code: 2, culprit: /at rule\.thinking\.level: gemini-3\.8-flash does not accept thinking level "minimal"/, fix: /Use one of: low, medium, high\./ },
  { kind: 'thinking level and budget', setup: (d) => edit(d, RULE, "thinking: { level: 'low' },", "thinking: { level: 'low', budget: 512 },"), args: ['status'], code: 2, culprit: /at rule\.thinking: both a thinking level and a thinking budget are set/, fix: /Keep level \(Gemini 3 and later\) or budget \(Gemini 2\.5\)/ },
  { kind: 'thinking budget out of range', setup: (d) => edit(d, RULE, "thinking: { level: 'low' },", "model: 'gemini-2.5-flash', thinking: { budget: 99999 },"), args: ['status'], code: 2, culprit: /at rule\.thinking\.budget: gemini-2\.5-flash accepts a thinking budget of 0 \(off\), 0–24,576 or -1/, fix: /Set thinking\.budget to/ },
  { kind: 'media resolution the API lacks request-wide', setup: (d) => edit(d, RULE, 'generationConfig: { maxOutputTokens: 8192 },', "generationConfig: { maxOutputTokens: 8192, mediaResolution: 'MEDIA_RESOLUTION_ULTRA_HIGH' },"), args: ['status'], code: 2, culprit: /at rule\.generationConfig\.mediaResolution: "MEDIA_RESOLUTION_ULTRA_HIGH" is not a request-wide media resolution/, fix: /set rule\.mediaResolution: 'ultra-high'/ },
  // --- the command line (exit 2) ---
  { kind: 'unknown command', args: ['biuld'], code: 2, culprit: /unknown command "biuld": did you mean build\?/, fix: /ocrmake --help/ },
  { kind: 'unknown option', args: ['build', '--froce'], code: 2, culprit: /unknown option --froce for ocrmake build/, fix: /Run ocrmake build --help/ },
  { kind: 'engine that does not exist', args: ['build', '--engine', 'gpt'], code: 2, culprit: /--engine "gpt" is not one of "auto", "gemini-batch", "gemini", "local"/, fix: /Run ocrmake build --help/ },
  { kind: 'poll interval of 0', args: ['build', '--poll-seconds', '0'], code: 2, culprit: /--poll-seconds must be a number above 0/, fix: /Run ocrmake build --help/ },
  { kind: 'negative spending limit', args: ['build', '--max-cost', '-1'], code: 2, culprit: /--max-cost must be an amount in USD, 0 or more/, fix: /Run ocrmake build --help/ },
  { kind: 'selector matching no page', args: ['build', 'Alabama:Nowhere:1849:1'], code: 2, culprit: /"Alabama:Nowhere:1849:1" matches no page/, fix: /ocrmake status --all lists them/ },
  { kind: 'selector on an unknown wildcard', args: ['build', 'county=Mobile'], code: 2, culprit: /"county=Mobile": there is no wildcard \{county\}/, fix: /Wildcards of this collection: state, school, year, page/ },
  { kind: 'explain without a page', args: ['explain'], code: 2, culprit: /ocrmake explain needs a target/, fix: /Run ocrmake explain --help/ },
  { kind: '--csv without a file', args: ['failures', '--csv'], code: 2, culprit: /--csv needs a file name, or - for stdout/, fix: /Run ocrmake failures --help/ },
  { kind: 'cancel without a batch', args: ['cancel'], code: 2, culprit: /name one batch or give --all/, fix: /ocrmake batches lists the open ones/ },
  { kind: 'cancel of a batch that is not open', args: ['cancel', 'batches/abc'], gemini: true, code: 2, culprit: /"batches\/abc" is not an open batch of this project/, fix: /No batch is open \(ocrmake batches lists them all\)/ },
  // --- keys, models and endpoints ---
  { kind: 'no key for a Gemini engine', args: ['build', '--engine', 'gemini-batch'], code: 2, culprit: /the gemini-batch engine needs a Gemini API key/, fix: /set GEMINI_API_KEY \(or GOOGLE_API_KEY\)/ },
  { kind: 'malformed key in .env', setup: (d) => put(d, '.env', 'GEMINI_API_KEY="abc\n'), args: ['status'], code: 2, culprit: /GEMINI_API_KEY in \.env is not a well-formed key/, fix: /Check its line in \.env/ },
  { kind: 'model that does not exist', setup: (d) => edit(d, RULE, "thinking: { level: 'low' },", "model: 'gemini-9-nope',"), args: BUILD, gemini: true, code: 2, culprit: /model gemini-9-nope does not exist or is shut down/, fix: /Set the model of rule "page_ocr" to one of the available models: .*gemini-3\.8-flash/ },
  { kind: 'model without batch support', setup: (d) => edit(d, RULE, "thinking: { level: 'low' },", "model: 'gemini-3.5-transcribe',"), args: ['build', '--json'], gemini: true, code: 2, culprit: /model gemini-3\.5-transcribe does not support batchGenerateContent/, fix: /Use --engine gemini/ },
  { kind: 'unreachable endpoint', args: BUILD, gemini: true, env: { GOOGLE_GEMINI_BASE_URL: 'http://127.0.0.1:9' }, code: 1, culprit: /cannot reach the Gemini API at 127\.0\.0\.1:9 to check model gemini-3\.8-flash/, fix: /Check the network \(and GOOGLE_GEMINI_BASE_URL if you set it\), then build again/ },
  // --- pages: each fails alone, the rest builds ---
  { kind: 'file name that is not a page number', setup: (d) => put(d, `${IMAGES}/cover.png`, sample(SAMPLE_PAGES[0]!)), args: BUILD, gemini: true, code: 0, culprit: /raw_image_dataset\/Alabama\/Howard College\/1849\/cover\.png: image name "cover" is not a page number/, fix: /Rename it to its page number/, built: 2 },
  { kind: 'two images for one page', setup: (d) => put(d, `${IMAGES}/02.png`, sample(SAMPLE_PAGES[1]!)), args: BUILD, gemini: true, code: 1, culprit: /2 images for one page: .*\/02\.png and .*\/2\.png/, fix: /keep one and delete or rename the other/, built: 1 },
  { kind: 'allow-listed page without an image', setup: (d) => put(d, `${LABELS}/9.json`, '{}'), args: BUILD, gemini: true, code: 1, culprit: /no image for this page: expected dataset\/raw_image_dataset\/Alabama\/Howard College\/1849\/9\.\{png,jpg\}/, fix: /add the image, or delete dataset\/label_to_curricular\/Alabama\/Howard College\/1849\/9\.json/, built: 2 },
  { kind: 'truncated image (local engine)', setup: (d) => put(d, `${IMAGES}/2.png`, sample(SAMPLE_PAGES[1]!).subarray(0, 4000)), args: ['build', '--json', '--engine', 'local'], code: 1, culprit: /1849\/2\.png is truncated/, fix: /replace the file with a good copy/, built: 1 },
  {
    kind: 'two pages on one output path',
    project: () => layoutProject({ image: 'scans/{a}/{b}/{page}.png', target: 'out/{a}-{b}/{page}.json', images: { 'scans/x-y/z/1.png': SAMPLE_PAGES[0]!, 'scans/x/y-z/1.png': SAMPLE_PAGES[1]!, 'scans/k/l/1.png': SAMPLE_PAGES[2]! } }),
    args: BUILD, gemini: true, code: 1, culprit: /out\/x-y-z\/1\.json: pages .* and .* have this one output path/, fix: /Change the target pattern so that every wildcard has its own place/, built: 1,
  },
  {
    kind: 'a value of ".."',
    project: () => layoutProject({ image: 'scans/v{book}/{page}.png', target: 'out/{book}/{page}.json', images: { 'scans/v../1.png': SAMPLE_PAGES[0]!, 'scans/vok/1.png': SAMPLE_PAGES[1]! } }),
    args: BUILD, gemini: true, code: 0, culprit: /scans\/v\.\.\/1\.png: its name gives \{book\} a value that is "\.\."/, fix: /Rename the file or folder/, built: 1,
  },
  {
    kind: 'folder name that is not UTF-8',
    project: () => layoutProject({ image: 'scans/{book}/{page}.png', target: 'out/{book}/{page}.json', images: { 'scans/ok/1.png': SAMPLE_PAGES[0]! } }),
    setup: (d) => fs.mkdirSync(Buffer.concat([Buffer.from(`${d}/scans/`), Buffer.from([0x41, 0xe9])])),
    args: BUILD, gemini: true, code: 0, culprit: /scans: the name "A\\xe9" in this folder is not valid UTF-8/, fix: /Rename it to a UTF-8 name/, built: 1,
  },
  { kind: 'output path taken by a folder', setup: (d) => fs.mkdirSync(path.join(d, `${OUT}/2.json`), { recursive: true }), args: BUILD, gemini: true, code: 1, culprit: /cannot write its output dataset\/output_results\/Alabama\/Howard College\/1849\/2\.json/, fix: /a folder is in the way of the file: move or rename it/, built: 1 },
  {
    kind: 'output folder under a file',
    project: () => layoutProject({ image: 'scans/{book}/{page}.png', target: 'out/{book}/{page}.json', images: { 'scans/a/1.png': SAMPLE_PAGES[0]!, 'scans/b/1.png': SAMPLE_PAGES[1]! } }),
    setup: (d) => put(d, 'out/b', 'a file where a folder should be'),
    args: BUILD, gemini: true, code: 1, culprit: /cannot write its output out\/b\/1\.json \(ENOTDIR\)/, fix: /a file is in the way of a folder on this path: move or rename it/, built: 1,
  },
  {
    kind: 'output folder linked out of the project',
    project: () => layoutProject({ image: 'scans/{book}/{page}.png', target: 'out/{book}/{page}.json', images: { 'scans/a/1.png': SAMPLE_PAGES[0]!, 'scans/b/1.png': SAMPLE_PAGES[1]! } }),
    setup: (d) => {
      fs.mkdirSync(path.join(d, 'out'));
      fs.symlinkSync(tempDir('ocrmake-elsewhere-'), path.join(d, 'out/b'));
    },
    args: BUILD, gemini: true, code: 1, culprit: /its output out\/b\/1\.json would be written outside the project \(out\/b leads to/, fix: /Keep the target pattern's folders inside the project, or remove the link/, built: 1,
  },
  // --- the cache and the lock ---
  { kind: 'corrupt cache', setup: (d) => put(d, '.ocrcache/state.sqlite', 'not a database'), args: BUILD, gemini: true, code: 0, culprit: /the cache \.ocrcache\/state\.sqlite is damaged \(not an SQLite database\): it was moved to \.ocrcache\/state\.sqlite\.corrupt-/, fix: /rebuild it with build --force/, built: 2 },
  { kind: 'cache folder taken by a file', setup: (d) => put(d, '.ocrcache', 'a file'), args: BUILD, gemini: true, code: 1, culprit: /\.ocrcache/, fix: /A file is in the way of a folder on this path: move or rename it|move or rename it/ },
  { kind: 'staging folder taken by a file', setup: (d) => put(d, '.ocrcache/tmp', 'a file'), args: BUILD, gemini: true, code: 1, culprit: /cannot write the cache \((staging an output in \.ocrcache\/tmp|the result store|preparing images in \.ocrcache\/prepared)\): \.ocrcache\/tmp: ENOTDIR/, fix: /move or rename it, then build again/ },
  {
    kind: 'lock held by a live process',
    setup: (d) => put(d, '.ocrcache/lock', JSON.stringify({ pid: process.pid, start: startOf(process.pid), command: 'build', startedAt: '2026-11-29T00:00:00.000Z' })),
    args: ['build', '--engine', 'local'], code: 3, culprit: new RegExp(`another ocrmake is running in this project: pid ${process.pid} \\(ocrmake build`), fix: /Wait for it to finish, or stop it \(kill \d+\)/,
  },
];


let fake: FakeGemini;
before(async () => {
  fake = await startFake();
});
after(async () => {
  await fake.close();
});

describe(`bad inputs: ${CASES.length} kinds, each named and explained, the rest built`, { concurrency: 4 }, () => {
  test('the catalogue has at least 40 kinds', () => {
    assert.ok(CASES.length >= 40, `${CASES.length} kinds`);
    assert.equal(new Set(CASES.map((c) => c.kind)).size, CASES.length, 'each kind once');
  });
  for (const c of CASES) {
    test(c.kind, async () => {
      const dir = c.project ? c.project() : alabama();
      c.setup?.(dir, fake);
      const env = { ...(c.gemini ? geminiEnv(fake) : {}), ...c.env };
      const r = await runCli(dir, c.args, { env });
      // What a person reads: stderr, and the NDJSON events' messages and details (unescaped).
      const said = parseNdjson(r.stdout).flatMap((e) => [e.message, e.detail].filter((x): x is string => typeof x === 'string'));
      const text = [r.stderr, r.stdout, ...said].join('\n');
      assert.equal(r.code, c.code, `exit code\n${text}`);
      assert.doesNotMatch(text, /internal error/);
      assert.match(text, c.culprit, 'the message names the culprit');
      assert.match(text, c.fix, 'and says what to do');
      if (c.built !== undefined) {
        const summary = parseNdjson(r.stdout).findLast((e) => e.event === 'summary');
        assert.equal(summary?.built, c.built, `the other pages were built\n${text}`);
      }
    });
  }
});
