// The README's example outputs, from real runs on copies of the sample project: the local engine
// (tesseract.js) and the fake Gemini server the tests use. Each scenario sets a project up the way its
// section of the README describes, runs the commands, and returns its blocks by name; the scenarios run side
// by side. Nothing here is typed by hand but the commands.
import fs from 'node:fs';
import path from 'node:path';
import { acquireLock } from '../../src/cache/lock.js';
import { colours } from '../../src/report/colour.js';
import { Panel } from '../../src/report/panel.js';
import type { BuildEvent } from '../../src/events.js';
import { builtSample } from '../../test/util/fixtures.js';
import { ocrfileWith, startFake } from '../../test/util/gemini-rig.js';
import { makeProject, REPO } from '../../test/util/rig.js';
import { loadGroundTruth } from '../../test/fake-gemini/index.js';
import { proofreadingReplier, proofreadPrompt } from '../../test/util/proofread.js';
import { elide, normalise, withoutNotices } from './normalise.js';
import { ocrmake, Session, type Ran } from './run.js';

export type Examples = Map<string, string>;

const AL = 'Alabama/Howard College/1849';
const VA = 'Virginia/Hampden-Sydney College/1851';
const img = (book: string, page: number) => `dataset/raw_image_dataset/${book}/${page}.png`;
const out = (book: string, page: number) => `dataset/output_results/${book}/${page}.json`;
const key = (book: string, page: number) => `${book.split('/').join(':')}:${page}`;

/** A fenced block of commands and their outputs, normalised. */
function block(runs: ReadonlyArray<Ran | string>, o: { dir?: string; notices?: boolean; lang?: string } = {}): string {
  const parts = runs.map((r) => {
    const text = typeof r === 'string' ? r : `${r.command}\n${r.output}`;
    const n = normalise(text.trimEnd(), o.dir ? { dir: o.dir } : {});
    return o.notices ? n : withoutNotices(n);
  });
  return `\`\`\`${o.lang ?? ''}\n${parts.join('\n\n')}\n\`\`\``;
}

/** Checks that a step did what its example is about (a broken scenario must not become documentation). */
function expect(r: Ran, code: number | null, pattern?: RegExp): Ran {
  if ((code !== null && r.code !== code) || (pattern && !pattern.test(r.output))) {
    throw new Error(`README example: ${r.command} exited ${r.code} (expected ${code})${pattern ? ` or missed ${pattern}` : ''}:\n${r.output}`);
  }
  return r;
}

export async function collectExamples(): Promise<Examples> {
  const all: Examples = new Map();
  const parts = await Promise.all([localExamples(), geminiExamples(), failureExamples(), errorExamples(), watchExample(), panelExample(), iterationExamples()]);
  for (const part of parts) for (const [k, v] of part) all.set(k, v);
  return all;
}

/** The local engine on the sample: the first build, then an edited, a rescanned and a deleted page. */
async function localExamples(): Promise<Examples> {
  const ex: Examples = new Map();
  const { dir, firstBuild } = await builtSample();
  const first = `${firstBuild.stdout}${firstBuild.stderr}`;
  ex.set('quick-start', block([elide(first, / built {4}/, 2, 1)], { dir, notices: true }));
  ex.set('quick-start-noop', block([expect(await ocrmake(dir, ['build', '--quiet']), 0)], { dir }));

  // A rescanned image, a hand-corrected output, a deleted output.
  fs.appendFileSync(path.join(dir, img(AL, 3)), Buffer.from('rescanned'));
  const edited = fs.readFileSync(path.join(dir, out(AL, 2)), 'utf8').replace('COURSE OF INSTRUCTION', 'COURSE OF INSTRUCTION (checked by hand)');
  fs.writeFileSync(path.join(dir, out(AL, 2)), edited);
  fs.rmSync(path.join(dir, out(VA, 2)));
  const dry = expect(await ocrmake(dir, ['build', '--dry-run']), 0);
  const status = expect(await ocrmake(dir, ['status', '--all']), 0);
  const explain3 = expect(await ocrmake(dir, ['explain', key(AL, 3)]), 0);
  const explain2 = expect(await ocrmake(dir, ['explain', out(AL, 2)]), 0);
  const explainJson = expect(await ocrmake(dir, ['explain', key(AL, 3), '--json']), 0);
  const school = expect(await ocrmake(dir, ['build', 'school=Howard College']), 0, /1 built/);
  const all = expect(await ocrmake(dir, ['build']), 0, /1 restored/);
  ex.set('build', block([dry, school, all], { dir }));
  ex.set('status-all', block([status], { dir }));
  ex.set('explain', block([explain3, explain2], { dir }));
  ex.set('explain-json', block([shortHashes(explainJson.output)], { lang: 'json' }));
  ex.set('status-json', block([expect(await ocrmake(dir, ['status', '--json']), 0).output], { lang: 'json' }));
  const summary = expect(await ocrmake(dir, ['build', '--json']), 0).output.trim().split('\n').at(-1)!;
  ex.set('summary-json', block([summary], { lang: 'json' }));
  ex.set('graph', block([expect(await ocrmake(dir, ['graph', '--format', 'mermaid', 'state=California']), 0)], { dir }));
  ex.set('report', block([expect(await ocrmake(dir, ['report']), 0)], { dir }));
  ex.set('runs', block([expect(await ocrmake(dir, ['runs']), 0)], { dir }));
  ex.set('gc', block([expect(await ocrmake(dir, ['gc', '--keep-days', '0']), 0)], { dir }));
  const refused = expect(await ocrmake(dir, ['clean', '--outputs'], {}, 'clean --outputs < /dev/null'), 2);
  const clean = expect(await ocrmake(dir, ['clean', '--outputs', '--yes']), 0);
  ex.set('clean', block([refused, clean], { dir }));
  return ex;
}

/**
 * Prompt iteration end to end (README "Prompt iteration"), against the test server with a fake model that
 * reads better when told to proofread: eval of the built collection, try v2 on a sample, compare, adopt.
 */
export async function iterationExamples(): Promise<Examples> {
  const ex: Examples = new Map();
  const fake = await startFake({ replier: proofreadingReplier(await loadGroundTruth(path.join(REPO, 'dataset'))) });
  try {
    const env = { GEMINI_API_KEY: 'test-key', GOOGLE_GEMINI_BASE_URL: fake.url, OCRMAKE_RETRY_BASE_MS: '20' };
    const ocrfile = ocrfileWith('{ maxAttempts: 3, batchSize: 100, maxConcurrentBatches: 10, pollSeconds: 0.05 }')
      .replace(/\}\);\s*$/, "  variants: {\n    v2: { prompt: 'prompts/page_ocr/v2.ejs' },\n    lite: { model: 'gemini-3.5-flash-lite' },\n  },\n});\n");
    const dir = makeProject({ files: { 'ocrfile.ts': ocrfile, 'prompts/page_ocr/v2.ejs': proofreadPrompt() } });
    expect(await ocrmake(dir, ['build', '--quiet'], env), 0);
    const evalAll = expect(await ocrmake(dir, ['eval'], env), 0, /overall/);
    const tried = expect(await ocrmake(dir, ['try', 'v2', '--sample', '4'], env), 0, /4 requests/);
    const compared = expect(await ocrmake(dir, ['compare', 'current', 'v2', '--diffs', '2'], env), 0, /ΔCER/);
    const rule = path.join(dir, 'rules/page_ocr.ts');
    fs.writeFileSync(rule, fs.readFileSync(rule, 'utf8').replace("prompt: 'prompts/page_ocr/v1.ejs'", "prompt: 'prompts/page_ocr/v2.ejs'"));
    const adopted = expect(await ocrmake(dir, ['build'], env), 0, /4 restored/);
    adopted.output = elide(normalise(adopted.output.trimEnd(), { dir }), / built {4}| batch batches\//, 1, 2);
    const after = expect(await ocrmake(dir, ['eval', 'state=Virginia'], env), 0, /overall/);
    ex.set('iterate-eval', block([evalAll], { dir }));
    ex.set('iterate-try', block([tried], { dir }));
    ex.set('iterate-compare', block([compared], { dir }));
    ex.set('iterate-adopt', block(['$ sed -i "s#page_ocr/v1.ejs#page_ocr/v2.ejs#" rules/page_ocr.ts', adopted, after], { dir }));
    ex.set('variant-flags', block([expect(await ocrmake(dir, ['try', 'v3', '--generation-config', '{"temperature":0}', '--sample', '2', '--dry-run'], env), 0, /estimate/)], { dir }));
  } finally {
    await fake.close();
  }
  return ex;
}

/** explain --json with its hashes cut to 8 characters (the README's contract shows their place, not their value). */
function shortHashes(json: string): string {
  return JSON.stringify(JSON.parse(json), null, 1)
    .replace(/"([0-9a-f]{8})[0-9a-f]{56}"/g, '"$1…"')
    .replace(/\n\s*/g, ' ')
    .replace(/, "(image|reasons|predecessor|components|fingerprint|attempts)"/g, ',\n "$1"')
    .replace(/, "(prompt|config|schema|context)": \{/g, ',\n   "$1": {');
}

/** Gemini against the test server: the cost estimate, a refused --max-cost, a build and its bill, adopt. */
async function geminiExamples(): Promise<Examples> {
  const ex: Examples = new Map();
  const fake = await startFake();
  try {
    const env = { GEMINI_API_KEY: 'test-key', GOOGLE_GEMINI_BASE_URL: fake.url, OCRMAKE_RETRY_BASE_MS: '20' };
    // Polled every 50 ms: the test server answers at once (the sample's ocrfile polls every 30 s).
    const dir = makeProject({ files: { 'ocrfile.ts': ocrfileWith('{ maxAttempts: 3, batchSize: 100, maxConcurrentBatches: 10, pollSeconds: 0.05 }') } });
    const dry = expect(await ocrmake(dir, ['build', '--dry-run'], env), 0, /estimate:/);
    dry.output = elide(dry.output, / stale {4}/, 2, 1);
    const refused = expect(await ocrmake(dir, ['build', '--max-cost', '0.001'], env), 1, /stopped:/);
    const built = expect(await ocrmake(dir, ['build'], env), 0);
    built.output = elide(built.output.trimEnd(), /^/, 0, 2);
    ex.set('cost', block([dry, built], { dir }));
    ex.set('max-cost', block([refused], { dir }));

    // explain with a Gemini engine: the model, and which settings changed (the rule asks for medium resolution).
    const rule = path.join(dir, 'rules/page_ocr.ts');
    const ruleBefore = fs.readFileSync(rule, 'utf8');
    fs.writeFileSync(rule, ruleBefore.replace("thinking: { level: 'low' },", "thinking: { level: 'low' },\n  mediaResolution: 'medium',"));
    ex.set('explain-gemini', block([expect(await ocrmake(dir, ['explain', key(AL, 2)], env), 0, /config-changed/)], { dir }));
    fs.writeFileSync(rule, ruleBefore);

    // A collection built by an older pipeline (or whose cache was lost), with one damaged output.
    fs.rmSync(path.join(dir, '.ocrcache'), { recursive: true });
    const damaged = path.join(dir, out(VA, 3));
    fs.writeFileSync(damaged, fs.readFileSync(damaged, 'utf8').slice(0, 200));
    ex.set('adopt', block([expect(await ocrmake(dir, ['adopt', '--engine', 'gemini-batch'], env), 1, /skipped/)], { dir }));
  } finally {
    await fake.close();
  }
  return ex;
}

/** A page that died (bad JSON, then schema errors) and one that failed once (cut at MAX_TOKENS). */
async function failureExamples(): Promise<Examples> {
  const ex: Examples = new Map();
  const fake = await startFake();
  try {
    const env = { GEMINI_API_KEY: 'test-key', GOOGLE_GEMINI_BASE_URL: fake.url, OCRMAKE_RETRY_BASE_MS: '20' };
    const dir = makeProject({ books: [AL, VA], files: { 'ocrfile.ts': ocrfileWith('{ maxAttempts: 1, batchSize: 100, maxConcurrentBatches: 10, pollSeconds: 0.05 }') } });
    fake.faults.record(key(AL, 2), 'malformed', 'always');
    fake.faults.record(key(VA, 4), 'max-tokens', 'always');
    expect(await ocrmake(dir, ['build'], env), 1);
    fs.writeFileSync(path.join(dir, 'ocrfile.ts'), ocrfileWith('{ maxAttempts: 3, batchSize: 100, maxConcurrentBatches: 10, pollSeconds: 0.05 }'));
    fake.faults.clear();
    fake.faults.record(key(AL, 2), 'schema', 'always');
    expect(await ocrmake(dir, ['build', key(AL, 2)], env), 1);
    const summary = expect(await ocrmake(dir, ['failures'], env), 0);
    const history = expect(await ocrmake(dir, ['failures', key(VA, 4)], env), 0);
    const csv = expect(await ocrmake(dir, ['failures', '--csv', 'failures.csv'], env), 0);
    ex.set('failures', block([summary, history, csv], { dir }));
    const dry = expect(await ocrmake(dir, ['retry', '--dry-run'], env), 0);
    const one = expect(await ocrmake(dir, ['retry', key(AL, 2)], env), 0);
    ex.set('retry', block([dry, one], { dir }));
  } finally {
    await fake.close();
  }
  return ex;
}

/** Config errors, pages with problems, a damaged cache, a held lock. */
async function errorExamples(): Promise<Examples> {
  const ex: Examples = new Map();
  const dir = makeProject({ books: [AL] });
  const ocrfile = fs.readFileSync(path.join(dir, 'ocrfile.ts'), 'utf8');
  fs.writeFileSync(
    path.join(dir, 'ocrfile.ts'),
    ocrfile.replace(/image: '[^']*'/, 'image: 42').replace('batchSize: 100', 'batchSize: -5').replace('maxAttempts: 3', 'maxAttemps: 3'),
  );
  const config = expect(await ocrmake(dir, ['build']), 2);
  fs.writeFileSync(path.join(dir, 'ocrfile.ts'), ocrfile);
  const rule = fs.readFileSync(path.join(dir, 'rules/page_ocr.ts'), 'utf8');
  fs.writeFileSync(path.join(dir, 'rules/page_ocr.ts'), rule.replace('export default defineRule', 'export default defineRule)'));
  const syntax = expect(await ocrmake(dir, ['build']), 2);
  fs.writeFileSync(path.join(dir, 'rules/page_ocr.ts'), rule);
  ex.set('config-errors', block([config, syntax], { dir }));

  // A cover that is not a page, two images for page 1, a label without an image, a cut-short image.
  const images = path.join(dir, 'dataset/raw_image_dataset', AL);
  const labels = path.join(dir, 'dataset/label_to_curricular', AL);
  for (const n of [3, 4]) fs.rmSync(path.join(labels, `${n}.json`));
  fs.copyFileSync(path.join(images, '1.png'), path.join(images, 'cover.png'));
  fs.copyFileSync(path.join(images, '1.png'), path.join(images, '01.png'));
  fs.writeFileSync(path.join(labels, '5.json'), '{}\n');
  fs.writeFileSync(path.join(images, '2.png'), fs.readFileSync(path.join(images, '2.png')).subarray(0, 3000));
  ex.set('page-errors', block([expect(await ocrmake(dir, ['build']), 1)], { dir }));

  // A damaged cache is moved aside.
  fs.writeFileSync(path.join(dir, '.ocrcache/state.sqlite'), 'not a database');
  ex.set('damaged-cache', block([expect(await ocrmake(dir, ['status']), null, /damaged/)], { dir }));

  // Another ocrmake (here: this script) holds the lock.
  const lock = acquireLock(path.join(dir, '.ocrcache'), 'build');
  try {
    ex.set('lock-held', block([expect(await ocrmake(dir, ['build']), 3)], { dir }));
  } finally {
    lock.release();
  }
  return ex;
}

/** `ocrmake watch` on the built sample: a deleted output, a rescanned image, a broken and a fixed ocrfile, Ctrl-C. */
async function watchExample(): Promise<Examples> {
  const { dir } = await builtSample();
  const w = new Session(dir, ['watch']);
  const ocrfile = fs.readFileSync(path.join(dir, 'ocrfile.ts'), 'utf8');
  const watching = /up to date; watching for changes\n/;
  try {
    let at = await w.until(watching, 0, 'the first build');
    fs.rmSync(path.join(dir, out(AL, 2)));
    at = await w.until(watching, at, 'the restore of a deleted output');
    fs.appendFileSync(path.join(dir, img(AL, 3)), Buffer.from('rescanned'));
    at = await w.until(watching, at, 'the build of a rescanned image');
    fs.writeFileSync(path.join(dir, 'ocrfile.ts'), ocrfile.replace("order: 'page',", "order: 'page',\n    bogus: true,"));
    at = await w.until(/Watching for a fix…\n/, at, 'the broken ocrfile');
    fs.writeFileSync(path.join(dir, 'ocrfile.ts'), ocrfile);
    at = await w.until(watching, at, 'the fixed ocrfile');
    w.child.kill('SIGINT');
    await w.exited;
  } finally {
    w.child.kill('SIGKILL');
  }
  return new Map([['watch', block([`$ npx ocrmake watch\n${w.output.replace(/\n(ocrmake watch: SIGINT)/, '\n^C\n$1')}`], { dir })]]);
}

/**
 * The live panel, as drawn from a short build's events at chosen moments (its real lines depend on the
 * terminal's width and the time): the renderer is ocrmake's own, the events are written out here.
 */
async function panelExample(): Promise<Examples> {
  const p = new Panel();
  const t0 = Date.parse('2026-01-01T12:00:00Z');
  const at = (s: number) => new Date(t0 + s * 1000).toISOString();
  const counts = { fresh: 0, edited: 0, stale: 4, waiting: 8, inflight: 0, failed: 0, dead: 0, blocked: 0, 'missing-input': 0 };
  const batch = (id: string, phase: 'created' | 'state' | 'ended', state: string | null, records: number, ok: number, failed: number, created: number, ended: number | null): BuildEvent => ({
    event: 'batch', name: `batches/${id.padEnd(36, '0')}`, displayName: 'ocrmake-x', phase, state, records, succeeded: ok, failed, tokensIn: 0, tokensOut: 0, createdAt: at(created), endedAt: ended === null ? null : at(ended),
  });
  const events: Array<[number, BuildEvent]> = [
    [0, { event: 'start', engine: 'gemini-batch', targets: 12, selected: 12 }],
    [0, { event: 'plan', counts, frontier: 4, reasons: { new: 12 }, toSend: 4, toRestore: 0 }],
    [1, { event: 'submitted', keys: 4, job: 'job-1', engine: 'gemini-batch' }],
    [1, { event: 'upload', phase: 'queued', files: 4 }],
    ...[1, 2, 3, 4].map((n): [number, BuildEvent] => [2, { event: 'upload', phase: 'done', image: `page-${n}.png`, bytes: 1 }]),
    [3, batch('k2m9x7q4pl', 'created', null, 2, 0, 0, 3, null)],
    [3, batch('f8v1c0rz3n', 'created', null, 2, 0, 0, 3, null)],
    [9, batch('k2m9x7q4pl', 'state', 'PENDING', 2, 0, 0, 3, null)],
    [40, batch('k2m9x7q4pl', 'state', 'RUNNING', 2, 1, 0, 3, null)],
    [70, batch('k2m9x7q4pl', 'ended', 'succeeded', 2, 2, 0, 3, 70)],
    [70, { event: 'built', key: key(AL, 1) as never, output: out(AL, 1), ms: 2 }],
    [70, { event: 'built', key: key(VA, 1) as never, output: out(VA, 1), ms: 2 }],
    [71, batch('f8v1c0rz3n', 'state', 'RUNNING', 2, 1, 0, 3, null)],
    [72, { event: 'submitted', keys: 2, job: 'job-2', engine: 'gemini-batch' }],
    [74, batch('a0c3e5g7i9', 'created', null, 2, 0, 0, 74, null)],
    [80, batch('a0c3e5g7i9', 'state', 'PENDING', 2, 0, 0, 74, null)],
  ];
  for (const [s, e] of events) p.add(e, t0 + s * 1000);
  const frame = p.lines(t0 + 83_000, 100, colours(false)).join('\n');
  return new Map([['tty-panel', block([frame])]]);
}

/** The README with every example block replaced; problems name blocks the README lacks or has extra. */
export function applyExamples(readme: string, examples: Examples): { text: string; problems: string[] } {
  const problems: string[] = [];
  const seen = new Set<string>();
  const text = readme.replace(/(<!-- example:([\w-]+) -->\n)[\s\S]*?(\n<!-- \/example:\2 -->)/g, (_m, open: string, name: string, close: string) => {
    seen.add(name);
    const body = examples.get(name);
    if (body === undefined) {
      problems.push(`README.md has a block "${name}" that the script does not make`);
      return _m;
    }
    return `${open}${body}${close}`;
  });
  for (const name of examples.keys()) if (!seen.has(name)) problems.push(`README.md has no block "${name}" (<!-- example:${name} --> … <!-- /example:${name} -->)`);
  return { text, problems };
}

export const README = path.join(REPO, 'README.md');
