// Safety at the edges (issue 9): misconfigurations, odd names, outages, lost batches and file-system trouble
// may not destroy a file, pay twice or strand a page. Each case runs the real CLI against the fake Gemini
// server (or offline) with the fault it needs; the numbers follow the issue's list.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ALABAMA, buildAgainst, eventsOf, expectExit, explainJson, geminiEnv, keyOf, ocrfileWith, withFake } from './util/gemini-rig.js';
import { layoutProject, SAMPLE_PAGES } from './util/layout.js';
import { makeProject, read, REPO, runCli, startCli, write, tempDir } from './util/rig.js';

const A = (n: number) => keyOf(ALABAMA, n);
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const statusOf = async (dir: string, env: Record<string, string>, ...args: string[]) => JSON.parse((await runCli(dir, ['status', '--json', ...args], { env })).stdout);

/** The sample project with only the Alabama book, `pages` of it allow-listed, and `execution` settings. */
function alabama(pages: number, execution = '{ maxAttempts: 3, batchSize: 100, maxConcurrentBatches: 10, pollSeconds: 30 }'): string {
  const dir = makeProject({ books: [ALABAMA], files: { 'ocrfile.ts': ocrfileWith(execution) } });
  for (let n = pages + 1; n <= 4; n++) fs.rmSync(path.join(dir, `dataset/label_to_curricular/${ALABAMA}/${n}.json`));
  return dir;
}
const outputOf = (n: number) => `dataset/output_results/${ALABAMA}/${n}.json`;

async function until(ok: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A CLI run in the background: its events so far, and its end. */
function background(dir: string, args: string[], env: Record<string, string>) {
  const child = startCli(dir, args, env);
  let stdout = '', stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, done, out: () => stdout, err: () => stderr };
}

/** A local TCP port nobody listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}

/** Every file under `dir` (relative paths). */
function files(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

// The cases wait mostly on the fake and on child processes: several run side by side.
describe('safety at the edges', { concurrency: 4 }, () => {
describe('1. an output can never land on an input', { concurrency: 2 }, () => {
  test('a target pattern that can match the image or allow-list pattern is a config error naming both; the scans are untouched', async () => {
    const dir = makeProject({ books: [ALABAMA] });
    const before = files(path.join(dir, 'dataset')).map((f) => [f, sha(fs.readFileSync(path.join(dir, 'dataset', f)))]);
    const cases: Array<[string, string]> = [
      ['dataset/raw_image_dataset/{state}/{school}/{year}/{page}.png', 'pages.image'],
      ['dataset/raw_image_dataset/{state}/{school}/{year}/{page}.{png,jpg}'.replace('.{png,jpg}', '.jpg'), 'pages.image'],
      ['dataset/label_to_curricular/{state}/{school}/{year}/{page}.json', 'pages.allowList'],
      ['dataset/{kind}/{state}/{school}/{year}/{page}.json', 'pages.allowList'],
    ];
    for (const [target, input] of cases) {
      const ocrfile = fs.readFileSync(path.join(REPO, 'ocrfile.ts'), 'utf8').replace("target: 'dataset/output_results/{state}/{school}/{year}/{page}.json'", `target: '${target}'`);
      write(dir, 'ocrfile.ts', target.includes('{kind}') ? ocrfile.replace("image: 'dataset/raw_image_dataset/", "image: 'dataset/{kind}/") : ocrfile);
      const r = await runCli(dir, ['build', '--force']);
      assert.equal(r.code, 2, `${target}: exit 2\n${r.stderr}`);
      assert.match(r.stderr, new RegExp(`at target: the target pattern "${target.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}" can match the same files as ${input.replace('.', '\\.')} "`), target);
      assert.match(r.stderr, /so outputs could overwrite inputs\n {2}Write outputs to their own folder or extension/);
    }
    const after = files(path.join(dir, 'dataset')).map((f) => [f, sha(fs.readFileSync(path.join(dir, 'dataset', f)))]);
    assert.deepEqual(after, before, 'no scan or label was touched');
  });

  test('two pages mapped to one output path: both are left out, each naming the other; the rest builds; exit 1', async () => {
    await withFake(async (fake) => {
      const dir = layoutProject({
        image: 'scans/{state}/{school}/{page}.png',
        target: 'out/{state}-{school}/{page}.json',
        images: { 'scans/A-B/C/1.png': SAMPLE_PAGES[0]!, 'scans/A/B-C/1.png': SAMPLE_PAGES[1]!, 'scans/X/Y/1.png': SAMPLE_PAGES[2]! },
      });
      const r = await buildAgainst(dir, fake);
      const s = expectExit(r, 1);
      assert.equal(s['built'], 1);
      const warnings = eventsOf(r, 'warning').map((w) => w.message as string);
      assert.ok(warnings.some((m) => /^out\/A-B-C\/1\.json: pages (A-B:C:1 and A:B-C:1|A:B-C:1 and A-B:C:1) have this one output path, so one result would overwrite the other; none of them is built\. Change the target pattern/.test(m)), warnings.join('\n'));
      const missing = eventsOf(r, 'missing-input').map((e) => [e.key, e.detail]);
      assert.deepEqual(missing.map(([k]) => k).sort(), ['A-B:C:1', 'A:B-C:1']);
      assert.match(missing[0]![1], /its output path out\/A-B-C\/1\.json is also the output of A/);
      assert.equal(fs.existsSync(path.join(dir, 'out/A-B-C/1.json')), false, 'no result lands on the shared path');
      assert.equal(fs.existsSync(path.join(dir, 'out/X-Y/1.json')), true);
      // Never a proven no-op (which does not look for shared outputs): each build finds them again.
      const hourAgo = new Date(Date.now() - 3600_000);
      for (const file of files(dir).filter((f) => !f.startsWith('.ocrcache'))) fs.utimesSync(path.join(dir, file), hourAgo, hourAgo);
      for (let i = 0; i < 2; i++) {
        const again = await buildAgainst(dir, fake);
        assert.equal(expectExit(again, 1)['quick'], undefined);
        assert.ok(eventsOf(again, 'warning').some((w) => /have this one output path/.test(w.message as string)));
      }
      assert.equal(fs.existsSync(path.join(dir, '.ocrcache/noop-proof')), false, 'no proof for pages that share an output');
    });
  });
});

describe('2. wildcard values and names', { concurrency: 2 }, () => {
  test('a value of ".." is refused naming the file; nothing is written outside the project', async () => {
    await withFake(async (fake) => {
      const dir = layoutProject({
        image: 'scans/v{book}/{page}.png',
        target: 'out/{book}/{page}.json',
        images: { 'scans/v../1.png': SAMPLE_PAGES[0]!, 'scans/va/1.png': SAMPLE_PAGES[1]! },
      });
      const r = await buildAgainst(dir, fake);
      const s = expectExit(r, 0);
      assert.equal(s['built'], 1);
      assert.ok(eventsOf(r, 'warning').some((w) => /^scans\/v\.\.\/1\.png: its name gives \{book\} a value that is "\.\.", which would point outside its folder in an output path, so this file is not a page\. Rename the file or folder/.test(w.message)));
      assert.equal(fs.existsSync(path.join(dir, '1.json')), false, 'out/../1.json was not written');
      assert.deepEqual(fs.readdirSync(path.join(dir, 'out')), ['a']);
    });
  });

  test('a ":" inside a value keeps books apart: A:B/C and A/B:C are two chains, each page built with its own book\'s context', async () => {
    await withFake(async (fake) => {
      const dir = layoutProject({
        image: 'scans/{state}/{school}/{page}.png',
        target: 'out/{state}/{school}/{page}.json',
        images: { 'scans/A:B/C/1.png': SAMPLE_PAGES[0]!, 'scans/A:B/C/2.png': SAMPLE_PAGES[1]!, 'scans/A/B:C/1.png': SAMPLE_PAGES[2]!, 'scans/A/B:C/2.png': SAMPLE_PAGES[3]! },
        engine: 'gemini-batch',
      });
      const r = await buildAgainst(dir, fake);
      expectExit(r, 0);
      const status = await statusOf(dir, geminiEnv(fake), '--all');
      assert.deepEqual(status.items.map((i: { key: string }) => i.key), ['A:B\\:C:1', 'A:B\\:C:2', 'A\\:B:C:1', 'A\\:B:C:2']);
      const graph = JSON.parse((await runCli(dir, ['graph', '--format', 'json'], { env: geminiEnv(fake) })).stdout);
      assert.deepEqual(graph.edges.map((e: { from: string; to: string }) => `${e.from} -> ${e.to}`).sort(), ['A:B\\:C:1 -> A:B\\:C:2', 'A\\:B:C:1 -> A\\:B:C:2']);
      // Each page 2 was sent the context of its own page 1: the end of that page's text (the rule's context).
      for (const book of ['A:B/C', 'A/B:C']) {
        const first = JSON.parse(read(dir, `out/${book}/1.json`));
        const expected = first.raw_ocr.text_blocks.map((b: { text: string }) => b.text).join('\n').slice(-200).trim();
        const second = fake.records().find((x) => x.imageSha256 === sha(fs.readFileSync(path.join(dir, `scans/${book}/2.png`))));
        assert.equal(second?.context, expected, `${book} page 2 carries its own page 1's context`);
      }
      const e = await explainJson(dir, fake, 'A\\:B:C:2');
      assert.equal(e.predecessor.key, 'A\\:B:C:1');
    });
  });

  test('a folder whose name is not valid UTF-8 gets a warning naming it; the rest builds', async () => {
    await withFake(async (fake) => {
      const dir = layoutProject({ image: 'scans/{book}/{page}.png', target: 'out/{book}/{page}.json', images: { 'scans/ok/1.png': SAMPLE_PAGES[0]! } });
      const bad = Buffer.concat([Buffer.from(path.join(dir, 'scans') + '/'), Buffer.from([0x43, 0x61, 0x66, 0xe9])]);
      fs.mkdirSync(bad);
      fs.copyFileSync(path.join(REPO, SAMPLE_PAGES[1]!), Buffer.concat([bad, Buffer.from('/1.png')]));
      const r = await buildAgainst(dir, fake);
      const s = expectExit(r, 0);
      assert.equal(s['built'], 1);
      assert.ok(eventsOf(r, 'warning').some((w) => w.message === 'scans: the name "Caf\\xe9" in this folder is not valid UTF-8, so what it holds cannot be read and is left out. Rename it to a UTF-8 name (e.g. convmv -f latin1 -t utf8 --notest, or rename it by hand).'), r.stdout);
    });
  });

  test('an output folder that is a link out of the project: those pages fail alone, nothing is written outside', async () => {
    await withFake(async (fake) => {
      const dir = layoutProject({ image: 'scans/{book}/{page}.png', target: 'out/{book}/{page}.json', images: { 'scans/in/1.png': SAMPLE_PAGES[0]!, 'scans/away/1.png': SAMPLE_PAGES[1]! } });
      const outside = tempDir('ocrmake-outside-');
      fs.mkdirSync(path.join(dir, 'out'));
      fs.symlinkSync(outside, path.join(dir, 'out/away'));
      const r = await buildAgainst(dir, fake);
      const s = expectExit(r, 1);
      assert.equal(s['built'], 1);
      const failed = eventsOf(r, 'failed');
      assert.deepEqual(failed.map((f) => [f.key, f.class, f.dead]), [['away:1', 'output-error', false]]);
      assert.match(failed[0].message, /^its output out\/away\/1\.json would be written outside the project \(out\/away leads to .*ocrmake-outside-.*\); nothing was written there\./);
      assert.deepEqual(fs.readdirSync(outside), [], 'nothing was written outside');
      fs.rmSync(outside, { recursive: true, force: true });
    });
  });

  test('SIGTERM is honoured within seconds while a request hangs; the next build resumes', async (t) => {
    await withFake(async (fake) => {
      let dir = '';
      for (const route of ['upload_start', 'create', 'batch_get'] as const) {
        // A fresh project each time: a create cut off by a kill is looked for by the next build for minutes.
        dir = alabama(2);
        fake.faults.clear();
        fake.faults.route(route, 'hang', 'always');
        const run = background(dir, ['build', '--json', '--poll-seconds', '0.05'], geminiEnv(fake));
        await until(() => fake.requestsFor(route).length > 0, 300_000, `a ${route} request`);
        const sent = Date.now();
        run.child.kill('SIGTERM');
        const end = await run.done;
        const took = Date.now() - sent;
        t.diagnostic(`${route} hanging: SIGTERM to exit in ${took} ms`);
        assert.equal(end.code, 130, `${route}: exit 130\n${end.stderr}`);
        // A SIGTERM not honoured leaves the build hanging on the held request for good: this bound catches that,
        // not a busy machine (idle, the figure above is well under 2 s).
        assert.ok(took < 120_000, `${route}: stopped in ${took} ms`);
        assert.match(end.stderr, /interrupted: the cache is saved; run the build again to continue/);
      }
      fake.faults.clear();
      const next = await buildAgainst(dir, fake);
      expectExit(next, 0);
      const names = fake.batches().map((b) => b.displayName);
      assert.equal(new Set(names).size, names.length, 'no intent has two batches');
    });
  });
});

describe('3. infrastructure failures are not the pages\' fault', () => {
  test('an unreachable API stops the build within the outage budget, uncharged, naming host:port; the next build resumes', async (t) => {
    await withFake(async (fake) => {
      const dir = alabama(2, '{ maxAttempts: 3, batchSize: 100, maxConcurrentBatches: 10, pollSeconds: 30, outageSeconds: 2 }');
      // The model check passes, then every upload finds the connection reset.
      fake.faults.route('upload_start', 'destroy', 'always');
      const started = Date.now();
      const r = await buildAgainst(dir, fake);
      t.diagnostic(`connection resets: stopped after ${Date.now() - started} ms`);
      const s = expectExit(r, 1);
      assert.equal(s['failed'], 0);
      const stopped = eventsOf(r, 'stopped')[0];
      assert.match(stopped?.message ?? '', new RegExp(`^the Gemini API at 127\\.0\\.0\\.1:${fake.port} has failed every call for 2 s \\(last: network error: .*\\); stopping\\. No page was charged`));
      const status = await statusOf(dir, geminiEnv(fake));
      assert.equal(status.counts.stale, 2);
      assert.equal(status.counts.failed + status.counts.dead, 0);
      fake.faults.clear();
      expectExit(await buildAgainst(dir, fake), 0);

      // Nothing listening at all: the model check says so, exit 1, nothing sent.
      const port = await closedPort();
      fs.rmSync(path.join(dir, outputOf(1)));
      const down = await runCli(dir, ['build', '--json', '--force', A(1)], { env: { ...geminiEnv(fake), GOOGLE_GEMINI_BASE_URL: `http://127.0.0.1:${port}` } });
      assert.equal(down.code, 1, down.stderr);
      assert.match(down.stderr, new RegExp(`cannot reach the Gemini API at 127\\.0\\.0\\.1:${port} to check model gemini-3\\.8-flash \\(network error: ECONNREFUSED\\); nothing was sent and no page was charged`));
    });
  });

  test('an interactive build against a service answering 503 stops uncharged after the budget', async () => {
    await withFake(async (fake) => {
      const dir = alabama(2, '{ maxAttempts: 3, pollSeconds: 30, outageSeconds: 2 }');
      fake.faults.route('generate', '503', 'always');
      const r = await buildAgainst(dir, fake, ['--engine', 'gemini']);
      const s = expectExit(r, 1);
      assert.equal(s['dead'], 0);
      assert.match(eventsOf(r, 'stopped')[0]?.message ?? '', /has failed every call for 2 s \(last: HTTP 503 UNAVAILABLE/);
      const status = await statusOf(dir, geminiEnv(fake), '--engine', 'gemini');
      assert.equal(status.counts.dead + status.counts.failed, 0, 'no attempt charged');
    });
  });

  test('no key, or an empty one, with a Gemini engine: exit 2 before any page is touched', async () => {
    const dir = alabama(1);
    for (const env of [{}, { GEMINI_API_KEY: '' }] as Array<Record<string, string>>) {
      const r = await runCli(dir, ['build', '--engine', 'gemini-batch'], { env });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /the gemini-batch engine needs a Gemini API key/);
    }
    const status = await statusOf(dir, {}, '--engine', 'gemini-batch');
    assert.deepEqual([status.counts.stale, status.counts.failed, status.counts.dead], [1, 0, 0], 'no page touched, no attempt charged');
  });
});

describe('4. never two paid batches for one intent', { concurrency: 2 }, () => {
  test('a create that acts but answers 503 while the batch list fails: stop uncharged, keep the intent; the next build adopts the batch', async () => {
    await withFake(async (fake) => {
      const dir = alabama(2);
      fake.faults.route('create', { kind: 'error', status: 503, afterHandling: true }, 1);
      fake.faults.route('batch_list', '503', 'always');
      const r = await buildAgainst(dir, fake);
      const s = expectExit(r, 1);
      assert.equal(s['failed'], 0);
      assert.match(eventsOf(r, 'stopped')[0]?.message ?? '', /^batch ocrmake-\S+ may have been created, and the batch list at 127\.0\.0\.1:\d+ cannot be read to check \(the batch list failed .*\); stopping before any new create, so that nothing is paid twice\. No page was charged/);
      assert.equal(fake.counters.create, 1);
      // Still failing at the next start: the build says so and sends nothing.
      const again = await buildAgainst(dir, fake);
      expectExit(again, 1);
      assert.match(eventsOf(again, 'stopped')[0]?.message ?? '', /^could not list batches at 127\.0\.0\.1:\d+ to re-attach ocrmake-\S+ \(.*\); nothing was sent and no page was charged/);
      assert.equal(fake.counters.create, 1);
      fake.faults.clear();
      const fixed = await buildAgainst(dir, fake);
      expectExit(fixed, 0);
      assert.ok(eventsOf(fixed, 'engine').some((e) => /^re-attached ocrmake-/.test(e.message)));
      const byName = new Map<string, number>();
      for (const b of fake.batches()) byName.set(b.displayName!, (byName.get(b.displayName!) ?? 0) + 1);
      assert.deepEqual([...byName.values()], [1, 1], 'one batch per display name');
      const perKey = fake.batches().flatMap((b) => b.keys);
      assert.deepEqual(perKey.sort(), [A(1), A(2)], 'every page sent once');
    });
  });

  test('a list that trails creates by a second: an acted-then-503 create is found, never made twice', async () => {
    await withFake(
      async (fake) => {
        const dir = alabama(2);
        fake.faults.route('create', { kind: 'error', status: 503, afterHandling: true }, 'always', (q) => !fake.batches().some((b) => b.displayName === (q.json as any)?.batch?.displayName));
        const r = await runCli(dir, ['build', '--json', '--poll-seconds', '0.05'], { env: { ...geminiEnv(fake), OCRMAKE_CREATE_LAG_MS: '2500' } });
        expectExit(r, 0);
        const names = fake.batches().map((b) => b.displayName);
        assert.equal(names.length, 2);
        assert.equal(new Set(names).size, 2, 'no display name has two batches');
        assert.equal(fake.counters.create, 2);
      },
      { listLagMs: 1000 },
    );
  });
});

describe('5. a batch that is gone for good does not strand its pages', { concurrency: 2 }, () => {
  test('NOT_FOUND on every poll: dropped after 3, pages re-queued uncharged, a warning and a failure-log row', async () => {
    await withFake(async (fake) => {
      const dir = alabama(1);
      fake.faults.route('batch_get', '404', 'always', (q) => fake.batches()[0]?.name === `batches/${q.id}`);
      const r = await buildAgainst(dir, fake);
      const s = expectExit(r, 0);
      assert.equal(s['built'], 1);
      assert.equal(fake.batches().length, 2, 'the page went into a new batch');
      const failed = eventsOf(r, 'failed');
      assert.equal(failed.length, 1);
      assert.match(failed[0].message, /^batch batches\/\S+ no longer exists at the API \(NOT_FOUND on 3 polls\); the page goes into a new batch \(no attempt charged\)$/);
      const log = await runCli(dir, ['failures', A(1), '--json'], { env: geminiEnv(fake) });
      assert.equal(JSON.parse(log.stdout).pages[0].history.length, 1);
      const batches = JSON.parse((await runCli(dir, ['batches', '--json'], { env: geminiEnv(fake) })).stdout);
      assert.deepEqual(batches.batches.map((b: { state: string }) => b.state).sort(), ['gone', 'succeeded']);
    });
  });

  test('a result file answering NOT_FOUND: the pages are sent again, uncharged', async () => {
    await withFake(async (fake) => {
      const dir = alabama(1);
      fake.faults.route('download', '404', 'always', (q) => fake.batches()[0]?.name === `batches/${q.id.replace(/^batch-/, '')}`);
      const r = await buildAgainst(dir, fake);
      expectExit(r, 0);
      assert.equal(fake.batches().length, 2);
      assert.match(eventsOf(r, 'failed')[0]?.message ?? '', /^the result file files\/batch-\S+ of batches\/\S+ no longer exists at the API \(NOT_FOUND 3 times\); the page goes into a new batch \(no attempt charged\)$/);
    });
  });

  test('a truncated result file is downloaded again before any page is charged missing-result', async () => {
    await withFake(async (fake) => {
      const dir = alabama(2);
      fake.faults.route('download', { kind: 'truncate', fraction: 0.5 }, 1);
      const r = await buildAgainst(dir, fake);
      const s = expectExit(r, 0);
      assert.equal(s['failed'], 0);
      assert.ok(eventsOf(r, 'engine').some((e) => /the result file looks cut short .*; downloading it again/.test(e.message)));
      assert.equal(fake.batches().length, 2, 'no page was re-sent');
    });
  });

  test('ocrmake batches lists what is in flight; ocrmake cancel frees its pages uncharged', async () => {
    await withFake(
      async (fake) => {
        const dir = alabama(2);
        const run = background(dir, ['build', '--json', '--poll-seconds', '0.05'], geminiEnv(fake));
        await until(() => fake.batches().length === 1 && fake.counters.batch_get > 0, 300_000, 'a batch in flight');
        run.child.kill('SIGTERM');
        assert.equal((await run.done).code, 130);
        const listed = await runCli(dir, ['batches'], { env: geminiEnv(fake) });
        assert.equal(listed.code, 0, listed.stderr);
        assert.match(listed.stdout, /^BATCH +DISPLAY NAME +STATE +AGE +PAGES +TOKENS$/m);
        assert.match(listed.stdout, /^batches\/\S+ +ocrmake-\S+ +active +\d+ s +1 +-$/m);
        assert.match(listed.stdout, /^1 open \(re-attached by the next build; ocrmake cancel stops them\)$/m);
        const cancelled = await runCli(dir, ['cancel', '--all'], { env: geminiEnv(fake) });
        assert.equal(cancelled.code, 0, cancelled.stderr);
        assert.match(cancelled.stdout, /^cancelled batches\/\S+ \(ocrmake-\S+, 1 pages\); its pages go into the next build's batches, uncharged$/m);
        assert.equal(fake.batches()[0]?.state, 'CANCELLED');
        const json = JSON.parse((await runCli(dir, ['batches', '--json'], { env: geminiEnv(fake) })).stdout);
        assert.deepEqual(json.batches.map((b: { state: string; open: boolean }) => [b.state, b.open]), [['cancelled', false]]);
        const bad = await runCli(dir, ['cancel', 'batches/nope'], { env: geminiEnv(fake) });
        assert.equal(bad.code, 2);
        assert.match(bad.stderr, /"batches\/nope" is not an open batch of this project/);
        // The next build sends the page again (nothing re-attached, nothing charged) and finishes.
        const timer = setInterval(() => fake.advanceBatches(), 20);
        try {
          const next = await buildAgainst(dir, fake);
          const s = expectExit(next, 0);
          assert.equal(s['built'], 2);
          assert.equal(s['failed'], 0);
        } finally {
          clearInterval(timer);
        }
      },
      { batchTiming: 'manual' },
    );
  });
});

describe('6. file-system trouble is a clear message, not an internal error', { concurrency: 2 }, () => {
  test('an output path that is a folder: that page fails alone naming path and fix; fixed, it is restored with no request', async () => {
    await withFake(async (fake) => {
      const dir = alabama(3);
      fs.mkdirSync(path.join(dir, outputOf(2)), { recursive: true });
      const r = await buildAgainst(dir, fake, ['--engine', 'gemini']);
      const s = expectExit(r, 1);
      assert.equal(s['built'], 1, 'page 1 is built; page 3 builds after page 2, whose output is its context');
      assert.doesNotMatch(r.stderr, /internal error/);
      const failed = eventsOf(r, 'failed');
      assert.deepEqual(failed.map((f) => [f.key, f.class]), [[A(2), 'output-error']]);
      assert.match(failed[0].message, /^cannot write its output dataset\/output_results\/Alabama\/Howard College\/1849\/2\.json \((EISDIR|ENOTEMPTY|EEXIST)\): a folder is in the way of the file: move or rename it; the result is kept and the next build writes it with no request$/);
      fs.rmSync(path.join(dir, outputOf(2)), { recursive: true });
      fake.resetCounters();
      const fixed = await buildAgainst(dir, fake, ['--engine', 'gemini']);
      const s2 = expectExit(fixed, 0);
      assert.equal(s2['restored'], 1);
      assert.equal(s2['built'], 1);
      assert.equal(fake.counters.generate, 1, 'page 2 restored from the result store with no request; page 3 sent');
    });
  });

  test('a cache that cannot be written stops the build (exit 1) naming the path and the fix; the last good state stays', async () => {
    await withFake(async (fake) => {
      const dir = alabama(1);
      expectExit(await buildAgainst(dir, fake), 0);
      const state = fs.readFileSync(path.join(dir, '.ocrcache/state.sqlite'));
      // Outputs are staged in .ocrcache/tmp: a file in its place.
      fs.rmSync(path.join(dir, '.ocrcache/tmp'), { recursive: true, force: true });
      write(dir, '.ocrcache/tmp', 'not a folder');
      fs.rmSync(path.join(dir, outputOf(1)));
      const r = await buildAgainst(dir, fake);
      assert.equal(r.code, 1, r.stderr);
      assert.doesNotMatch(r.stderr, /internal error/);
      assert.match(r.stderr, /^ocrmake: cannot write the cache \(staging an output in \.ocrcache\/tmp\): \.ocrcache\/tmp: ENOTDIR\. A file is in the way of a folder on this path: move or rename it, then build again\.\n {2}The cache keeps its last saved state/m);
      assert.deepEqual(fs.readFileSync(path.join(dir, '.ocrcache/state.sqlite')), state, 'the state file is as it was');
      fs.rmSync(path.join(dir, '.ocrcache/tmp'));
      fake.resetCounters();
      const fixed = await buildAgainst(dir, fake);
      assert.equal(expectExit(fixed, 0)['restored'], 1);
      assert.equal(fake.counters.requests, 0);
    });
  });

  test('an immutable state file: exit 1 naming it, no internal error (skipped where chattr is not available)', async (t) => {
    await withFake(async (fake) => {
      const dir = alabama(1);
      expectExit(await buildAgainst(dir, fake), 0);
      const state = path.join(dir, '.ocrcache/state.sqlite');
      if (spawnSync('chattr', ['+i', path.join(dir, '.ocrcache')]).status !== 0) return t.skip('chattr +i is not available here');
      try {
        fs.rmSync(path.join(dir, outputOf(1)));
        const r = await buildAgainst(dir, fake);
        assert.equal(r.code, 1, r.stderr);
        assert.doesNotMatch(r.stderr, /internal error/);
        assert.match(r.stderr, /^ocrmake: cannot (write the cache|take the project's lock)/m);
        assert.match(r.stderr, /E(PERM|ACCES)/);
      } finally {
        spawnSync('chattr', ['-i', path.join(dir, '.ocrcache')]);
      }
      assert.ok(fs.statSync(state).size > 0);
    });
  });

  test('a full disk under the cache: exit 1 with ENOSPC and the fix (skipped where tmpfs cannot be mounted)', async (t) => {
    await withFake(async (fake) => {
      const dir = alabama(1);
      const cache = path.join(dir, '.ocrcache');
      fs.mkdirSync(cache);
      if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=48k', 'tmpfs', cache]).status !== 0) return t.skip('cannot mount a tmpfs here');
      try {
        const r = await buildAgainst(dir, fake);
        assert.equal(r.code, 1, r.stderr);
        assert.doesNotMatch(r.stderr, /internal error/);
        assert.match(r.stderr, /ENOSPC\. The disk is full: free some space, then build again\./);
      } finally {
        spawnSync('umount', [cache]);
      }
      const next = await buildAgainst(dir, fake);
      expectExit(next, 0);
      assert.equal(fake.batches().flatMap((b) => b.keys).length, 1, 'the page was sent once: the first try stopped before the create, or its batch was re-attached');
    });
  });
});

describe('7. hand edits are sacred', { concurrency: 2 }, () => {
  test('an output edited while its request is in flight is kept; the result goes to the result store only', async () => {
    await withFake(
      async (fake) => {
        const dir = alabama(1);
        const timer = setInterval(() => fake.advanceBatches(), 20);
        try {
          expectExit(await buildAgainst(dir, fake), 0);
        } finally {
          clearInterval(timer);
        }
        // A prompt edit makes the page stale; while its new request is in flight, a person edits the output.
        const prompt = path.join(dir, 'prompts/page_ocr/v1.ejs');
        fs.writeFileSync(prompt, fs.readFileSync(prompt, 'utf8').replace('Answer with JSON only', 'Answer with JSON only, please'));
        const run = background(dir, ['build', '--json', '--poll-seconds', '0.05'], geminiEnv(fake));
        await until(() => fake.batches().length === 2, 300_000, 'the new batch');
        const mine = '{"mine": true}\n';
        write(dir, outputOf(1), mine);
        fake.advanceBatches();
        fake.advanceBatches();
        const end = await run.done;
        assert.equal(end.code, 0, end.stderr);
        assert.equal(read(dir, outputOf(1)), mine, 'the edit is kept');
        assert.match(end.stdout, /"event":"warning","key":"Alabama:Howard College:1849:1","message":"kept your edit of dataset\/output_results\/Alabama\/Howard College\/1849\/1\.json: the result that arrived for Alabama:Howard College:1849:1 is in the result store only/);
        const e = await explainJson(dir, fake, A(1));
        assert.equal(e.state, 'edited');
        const human = await runCli(dir, ['explain', A(1)], { env: geminiEnv(fake) });
        assert.match(human.stdout, /why edited {3}the output differs from what ocrmake wrote; it is kept as is \(ocrmake build --force 'Alabama:Howard College:1849:1' rebuilds it, keeping a copy of your edit\)/);
        // Deleting the edit brings the arrived result back with no request.
        fs.rmSync(path.join(dir, outputOf(1)));
        fake.resetCounters();
        const back = await buildAgainst(dir, fake);
        assert.equal(expectExit(back, 0)['restored'], 1);
        assert.equal(fake.counters.create, 0);
      },
      { batchTiming: 'manual' },
    );
  });

  test('--force on an edited page keeps a copy of the edit first, listed by explain', async () => {
    await withFake(async (fake) => {
      const dir = alabama(1);
      expectExit(await buildAgainst(dir, fake, ['--engine', 'gemini']), 0);
      const mine = '{"edited": "by hand"}\n';
      write(dir, outputOf(1), mine);
      const r = await buildAgainst(dir, fake, ['--engine', 'gemini', '--force', A(1)]);
      expectExit(r, 0);
      assert.notEqual(read(dir, outputOf(1)), mine);
      const e = await explainJson(dir, fake, A(1), ['--engine', 'gemini']);
      assert.equal(e.keptEdits.length, 1);
      assert.equal(read(dir, e.keptEdits[0]), mine, 'the copy holds the edited bytes');
      const human = await runCli(dir, ['explain', A(1), '--engine', 'gemini'], { env: geminiEnv(fake) });
      assert.match(human.stdout, /^ {2}kept edit {4}\.ocrcache\/edits\/[0-9a-f]{16}\/\S+\.json \(cp it over the output to restore it\)$/m);
    });
  });
});

describe('8. the lock must hold', { concurrency: 2 }, () => {
  test('rm -rf .ocrcache while watch runs: a second build still gets exit 3', async () => {
    const dir = alabama(1);
    const watch = background(dir, ['watch', '--engine', 'local', '--json'], {});
    try {
      await until(() => /"state":"watching"/.test(watch.out()), 300_000, 'watch to settle');
      fs.rmSync(path.join(dir, '.ocrcache'), { recursive: true, force: true });
      const second = await runCli(dir, ['build', '--engine', 'local']);
      assert.equal(second.code, 3, second.stderr);
      assert.match(second.stderr, new RegExp(`another ocrmake is running in this project: pid ${watch.child.pid} \\(ocrmake watch`));
    } finally {
      watch.child.kill('SIGTERM');
      await watch.done;
    }
  });

  test('a lock naming a pid now used by another process (even node) is taken over', async () => {
    const dir = alabama(1);
    // A live node process that is not the lock's holder: its start time differs from the one the lock records.
    const stranger = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      write(dir, '.ocrcache/lock', JSON.stringify({ pid: stranger.pid, start: '1', command: 'build', startedAt: '2026-01-01T00:00:00.000Z' }));
      const r = await runCli(dir, ['gc']);
      assert.equal(r.code, 0, `the lock is taken over, not "kill ${stranger.pid}"\n${r.stderr}`);
      assert.equal(fs.existsSync(path.join(dir, '.ocrcache/lock')), false, 'released after');
    } finally {
      stranger.kill('SIGKILL');
    }
  });
});

describe('9. smaller ones', { concurrency: 2 }, () => {
  test('.env is read with dotenv\'s rules: an inline comment is not part of the key; an unbalanced quote is refused, never shown', async () => {
    await withFake(
      async (fake) => {
        const dir = alabama(1);
        write(dir, '.env', `GEMINI_API_KEY=test-key # my key\nexport GOOGLE_GEMINI_BASE_URL="${fake.url}" # the fake\n`);
        const r = await runCli(dir, ['build', '--json', '--poll-seconds', '0.05']);
        expectExit(r, 0);
        assert.equal(fake.counters.auth_failures, 0, 'the key sent was exactly test-key');
        write(dir, '.env', 'GEMINI_API_KEY="test-key\n');
        const bad = await runCli(dir, ['status']);
        assert.equal(bad.code, 2);
        assert.match(bad.stderr, /^ocrmake: GEMINI_API_KEY in \.env is not a well-formed key \(it has a quote, a space or another character no API key has\)\.\n {2}Check its line in \.env: NAME=value, quotes balanced, a comment after a space and #; the key itself is not shown\.$/m);
        assert.doesNotMatch(bad.stderr, /test-key/);
      },
      { apiKey: 'test-key' },
    );
  });

  test('an error body that echoes the key: the key is in no stored or printed text', async () => {
    await withFake(async (fake) => {
      const dir = alabama(1);
      const key = 'sk-live-ECHOED-0123456789';
      fake.faults.route('generate', { kind: 'error', status: 400, message: 'bad request', echoKey: true }, 'always');
      const r = await runCli(dir, ['build', '--json', '--engine', 'gemini'], { env: { ...geminiEnv(fake), GEMINI_API_KEY: key } });
      assert.equal(r.code, 1);
      assert.ok(fake.requestsFor('generate').length > 0);
      assert.ok(r.stdout.includes('[redacted]'), 'the echoed key was redacted in the event stream');
      const failures = await runCli(dir, ['failures', A(1), '--verbose', '--engine', 'gemini'], { env: { ...geminiEnv(fake), GEMINI_API_KEY: key } });
      for (const [what, text] of [['stdout', r.stdout], ['stderr', r.stderr], ['failures', failures.stdout]] as const) assert.ok(!text.includes(key), `${what} holds no key`);
      for (const f of files(path.join(dir, '.ocrcache'))) assert.ok(!fs.readFileSync(path.join(dir, '.ocrcache', f)).includes(key), `${f} holds no key`);
    });
  });

  test('working files of a killed batch build in .ocrcache/tmp are swept at the next start', async () => {
    const dir = alabama(1);
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    write(dir, `.ocrcache/tmp/.ocrmake-x.jsonl.tmp-${dead}-1`, '{}');
    write(dir, `.ocrcache/tmp/.batches_y.jsonl.tmp-${dead}-2`, '{}');
    const r = await runCli(dir, ['build', '--engine', 'local', '--dry-run']);
    assert.equal(r.code, 0, r.stderr);
    const status = await runCli(dir, ['gc', '--dry-run']);
    assert.equal(status.code, 0);
    assert.deepEqual(fs.readdirSync(path.join(dir, '.ocrcache/tmp')), []);
  });

  test('undecodable images are never sent by the Gemini engines: input-error, not retried; the rest builds', async () => {
    await withFake(async (fake) => {
      for (const engine of ['gemini-batch', 'gemini'] as const) {
        // One book per bad file: with Gemini a page waits for its predecessor, so each is a first page.
        const dir = layoutProject({ image: 'scans/{book}/{page}.{png,jpg}', target: 'out/{book}/{page}.json', engine, images: { 'scans/good/1.png': SAMPLE_PAGES[0]! } });
        write(dir, 'scans/text/1.png', 'this page was saved as text\n');
        write(dir, 'scans/empty/1.png', Buffer.alloc(0));
        write(dir, 'scans/cut/1.jpg', Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(3000, 7)]));
        fake.resetCounters();
        const r = await buildAgainst(dir, fake);
        const s = expectExit(r, 1);
        assert.equal(s['built'], 1, `${engine}: the good page builds`);
        const failed = eventsOf(r, 'failed').map((f) => [f.key, f.class, f.dead]);
        assert.deepEqual(failed.sort(), [['cut:1', 'input-error', true], ['empty:1', 'input-error', true], ['text:1', 'input-error', true]]);
        const missing = Object.fromEntries(eventsOf(r, 'missing-input').map((e) => [e.key, e.detail]));
        assert.equal(missing['text:1'], 'scans/text/1.png is not a readable image (not PNG, JPEG, TIFF, JPEG 2000, PDF, WebP, GIF, BMP or AVIF data); replace the file with a good copy');
        assert.equal(missing['empty:1'], 'scans/empty/1.png is empty; replace the file with a good copy');
        // libvips' detail (premature end of JPEG image) is sometimes lost when two images decode at once: one
        // error buffer for all threads (prepare/decode.ts cleanVipsError).
        assert.match(missing['cut:1'], /^scans\/cut\/1\.jpg could not be decoded \((.*premature end of JPEG image|Input file has corrupt header)\); replace the file with a good copy$/);
        const sent = engine === 'gemini' ? fake.counters.generate : fake.records().length;
        assert.equal(sent, 1, `${engine}: only the good page reached the model`);
        if (engine === 'gemini-batch') assert.equal(fake.counters.upload_start, 2, 'one image and one JSONL uploaded');
        const again = await buildAgainst(dir, fake);
        assert.equal(expectExit(again, 1)['requests'], 0, 'not retried');
      }
    });
  });

  test('failures --csv - writes the CSV to stdout', async () => {
    await withFake(async (fake) => {
      const dir = alabama(1);
      fake.faults.record(A(1), 'malformed', 1);
      expectExit(await buildAgainst(dir, fake), 0);
      const r = await runCli(dir, ['failures', '--csv', '-'], { env: geminiEnv(fake) });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^key,fingerprint,class,/);
      assert.equal(r.stdout.trim().split('\n').length, 2);
      const empty = await runCli(dir, ['failures', '--csv']);
      assert.equal(empty.code, 2);
      assert.match(empty.stderr, /--csv needs a file name, or - for stdout/);
    });
  });
});
});
