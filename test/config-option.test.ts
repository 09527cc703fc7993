// --config (and OCRMAKE_CONFIG) on every command, run from another folder; config errors that used to be
// "0 pages, exit 0"; a rule without a prompt for the local engine; and, against the fake Gemini, that
// switching between gemini-batch and gemini re-sends nothing and that prompts are sent unescaped.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import type { FakeGemini } from './fake-gemini/index.js';
import { bookFiles, buildAgainst, eventsOf, expectExit, geminiEnv, withFake } from './util/gemini-rig.js';
import { makeProject, read, REPO, runCli, write, tempDir } from './util/rig.js';
import { killAll, WatchSession } from './util/watch-rig.js';

const BOOK = 'Alabama/Howard College/1849';
const KEY = 'Alabama:Howard College:1849:1';

/** A one-page project whose ocrfile is catalog.ts (so no folder walk finds it), and an unrelated cwd. */
function project(): { dir: string; config: string; elsewhere: string } {
  const dir = makeProject({
    dataset: false,
    files: {
      [`dataset/raw_image_dataset/${BOOK}/1.png`]: fs.readFileSync(path.join(REPO, 'dataset/raw_image_dataset', BOOK, '1.png')),
      [`dataset/label_to_curricular/${BOOK}/1.json`]: '{"page": 1}\n',
    },
  });
  fs.renameSync(path.join(dir, 'ocrfile.ts'), path.join(dir, 'catalog.ts'));
  const elsewhere = tempDir('ocrmake-elsewhere-');
  return { dir, config: path.join(dir, 'catalog.ts'), elsewhere };
}

after(killAll);

describe('--config and OCRMAKE_CONFIG', { concurrency: 1 }, () => {
  test('every command reads the ocrfile named by --config, from any folder; the project root is its folder', async () => {
    const { dir, config, elsewhere } = project();
    const cli = async (args: string[], code = 0, env: Record<string, string> = {}) => {
      const r = await runCli(elsewhere, [...args, '--config', config], { env });
      assert.equal(r.code, code, `ocrmake ${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
      return r;
    };
    const built = await cli(['build', '--json']);
    assert.equal(eventsOf(built, 'summary')[0].built, 1);
    assert.ok(fs.existsSync(path.join(dir, 'dataset/output_results', BOOK, '1.json')), 'outputs land under the ocrfile\'s folder');
    assert.equal(fs.existsSync(path.join(elsewhere, '.ocrcache')), false, 'and the cache too');
    assert.equal(JSON.parse((await cli(['status', '--json'])).stdout).counts.fresh, 1);
    assert.equal(JSON.parse((await cli(['explain', KEY, '--json'])).stdout).state, 'fresh');
    await cli(['failures', '--json']);
    await cli(['retry', '--json']);
    assert.equal(JSON.parse((await cli(['adopt', '--json'])).stdout).fresh, 1);
    await cli(['gc', '--json']);
    assert.ok(JSON.parse((await cli(['runs', '--json'])).stdout).runs.some((r: any) => r.command === 'build'));
    assert.equal(JSON.parse((await cli(['graph', '--format', 'json'])).stdout).nodes.length, 1);
    await cli(['report', '--out', path.join(elsewhere, 'report.html')]);
    assert.ok(fs.existsSync(path.join(elsewhere, 'report.html')));
    await cli(['batches', '--json']);
    // cancel needs a key to reach the API; with no batch open it asks nothing.
    assert.match((await cli(['cancel', '--all'], 0, { GEMINI_API_KEY: 'test-key', GOOGLE_GEMINI_BASE_URL: 'http://127.0.0.1:9' })).stdout, /^no open batch to cancel$/im);
    const watch = new WatchSession(elsewhere, ['--config', config]);
    const run = await watch.build('the first build of watch --config');
    assert.equal(run.summary['built'], 0, 'watch sees the built page as fresh');
    await watch.stop('SIGINT');
    await cli(['clean', '--outputs', '--yes']);
    assert.equal(fs.existsSync(path.join(dir, 'dataset/output_results', BOOK, '1.json')), false);
    // The environment variable does the same, and --config wins over it.
    const viaEnv = await runCli(elsewhere, ['status', '--json'], { env: { OCRMAKE_CONFIG: config } });
    assert.equal(JSON.parse(viaEnv.stdout).targets, 1, viaEnv.stderr);
    const missing = await runCli(elsewhere, ['status', '--config', 'nowhere/ocrfile.ts'], { env: { OCRMAKE_CONFIG: config } });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^ocrmake: --config nowhere\/ocrfile\.ts: there is no such file\.\n {2}Check the path, or run ocrmake init/);
    // init writes the ocrfile where --config says, for the scans in that folder.
    fs.mkdirSync(path.join(elsewhere, 'scans'));
    fs.cpSync(path.join(REPO, 'dataset/raw_image_dataset', BOOK, '2.png'), path.join(elsewhere, 'scans/p-02.png'));
    const init = await runCli(dir, ['init', '--config', path.join(elsewhere, 'mine.ts')]);
    assert.equal(init.code, 0, init.stderr);
    assert.match(fs.readFileSync(path.join(elsewhere, 'mine.ts'), 'utf8'), /image: 'scans\/p-\{page\}\.png'/);
  });

  test('a source folder that does not exist, a reversed range and a filter no page passes are exit 2, naming them', async () => {
    const { dir, elsewhere } = project();
    const ocrfile = read(dir, 'catalog.ts');
    const status = async (text: string) => {
      write(dir, 'catalog.ts', text);
      const r = await runCli(elsewhere, ['status', '--config', path.join(dir, 'catalog.ts')]);
      assert.equal(r.code, 2, r.stderr);
      return r.stderr;
    };
    assert.match(
      await status(ocrfile.replace('dataset/raw_image_dataset/', 'dataset/raw_images/')),
      /catalog\.ts at pages\.image: the folder dataset\/raw_images does not exist \(the pattern "dataset\/raw_images\/\{state\}\/\{school\}\/\{year\}\/\{page\}\.\{png,jpg\}" starts there\)\n {2}Create it/,
    );
    assert.match(
      await status(ocrfile.replace("engine: 'auto',", "engine: 'auto',\n  filters: { year: { from: 1852, to: 1849 } },")),
      /catalog\.ts at filters\.year: the range from 1852 to 1849 is empty \(from is above to\), so no page would be built\n {2}Swap them: \{ from: 1849, to: 1852 \}\./,
    );
    assert.match(
      await status(ocrfile.replace("engine: 'auto',", "engine: 'auto',\n  filters: { state: ['Alabma'], year: { from: 1849, to: 1852 } },")),
      /^ocrmake: catalog\.ts at filters\.state: state=Alabma matches no page, so nothing would be built\n {2}Values of \{state\} found: Alabama\.$/m,
    );
  });

  test('a rule without a prompt builds with the local engine only; a Gemini engine is exit 2 saying why', async () => {
    const { dir, elsewhere } = project();
    write(dir, 'catalog.ts', read(dir, 'catalog.ts').replace('rule: pageOcr,', 'rule: { ...pageOcr, prompt: undefined },'));
    fs.rmSync(path.join(dir, 'prompts'), { recursive: true });
    const local = await runCli(elsewhere, ['status', '--json', '--config', path.join(dir, 'catalog.ts')]);
    assert.equal(local.code, 0, local.stderr);
    const gemini = await runCli(elsewhere, ['status', '--engine', 'gemini-batch', '--config', path.join(dir, 'catalog.ts')]);
    assert.equal(gemini.code, 2);
    assert.match(gemini.stderr, /catalog\.ts at rule\.prompt: rule "page_ocr" has no prompt, so it can only be built with the local engine\n {2}Add prompt:/);
  });
});

describe('with the fake Gemini', { concurrency: 1 }, () => {
  test('switching between gemini-batch and gemini re-sends nothing; prompts carry names as written (no HTML escaping)', async () => {
    const school = "Virginia/William & Mary's College/1850";
    const dir = makeProject({ dataset: false, files: bookFiles({ [school]: ['Alabama/Howard College/1849/1.png', 'Alabama/Howard College/1849/2.png'] }) });
    await withFake(async (fake: FakeGemini) => {
      const first = expectExit(await buildAgainst(dir, fake, ['--engine', 'gemini-batch']), 0);
      assert.equal(first['built'], 2);
      const lines = fake
        .requestsFor('create')
        .flatMap((q) => fake.fileBytes(String((q.json as any).batch.inputConfig.fileName))!.toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)));
      for (const l of lines) assert.match(l.request.contents[0].parts[0].text, /This page belongs to William & Mary's College \(Virginia\)/);
      fake.resetCounters();
      const dry = await runCli(dir, ['build', '--dry-run', '--engine', 'gemini', '--json'], { env: geminiEnv(fake) });
      assert.equal(dry.code, 0, dry.stderr);
      const plan = eventsOf(dry, 'plan')[0];
      assert.deepEqual([plan.counts.fresh, plan.toSend], [2, 0], 'the interactive engine plans nothing to send');
      const interactive = expectExit(await buildAgainst(dir, fake, ['--engine', 'gemini']), 0);
      assert.deepEqual([interactive['built'], interactive['requests']], [0, 0]);
      const back = expectExit(await buildAgainst(dir, fake, ['--engine', 'gemini-batch']), 0);
      assert.deepEqual([back['built'], back['requests'], back['batches']], [0, 0, 0]);
      assert.equal(fake.counters.generate + fake.counters.create, 0);
    });
  });
});
