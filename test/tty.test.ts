// The live panel on a real terminal (tmux): a gemini-batch build against the fake Gemini server, whose batches
// move only when the test moves them, so every state is on screen for as long as the test needs to see it
// (no timing assumption). Then the pure pieces: fitting lines to a width, and when to colour.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { colourWanted, unpaint } from '../src/report/colour.js';
import { fitSegments, truncate, wrap } from '../src/report/fit.js';
import { Panel } from '../src/report/panel.js';
import { colours } from '../src/report/colour.js';
import type { FakeGemini } from './fake-gemini/index.js';
import { ocrfileWith, startFake } from './util/gemini-rig.js';
import { CLI, cleanEnv, makeProject, REPO, runCli } from './util/rig.js';
import { TMUX, TmuxScreen } from './util/tmux.js';

const SKIP = TMUX ? false : 'tmux is not installed (Debian: apt-get install tmux; .ci/run installs it): skipping the live panel test';
const COLUMNS = 120;

describe('the live panel of a gemini-batch build on a terminal', { skip: SKIP }, () => {
  let fake: FakeGemini;
  let screen: TmuxScreen;
  const seen: string[] = [];
  before(async () => {
    fake = await startFake({ batchTiming: 'manual' });
    // One bad reply: a failure line, and a class in the summary.
    fake.faults.record('Virginia:Hampden-Sydney College:1851:2', 'malformed', 1);
    const dir = makeProject({ files: { 'ocrfile.ts': ocrfileWith('{ maxAttempts: 3, batchSize: 2, maxConcurrentBatches: 4, pollSeconds: 30 }') } });
    screen = new TmuxScreen({
      command: [process.execPath, CLI, 'build', '--poll-seconds', '0.1'],
      cwd: dir,
      env: cleanEnv({ GEMINI_API_KEY: 'test-key', GOOGLE_GEMINI_BASE_URL: fake.url, OCRMAKE_RETRY_BASE_MS: '20' }),
      columns: COLUMNS,
      rows: 40,
    });
  });
  after(async () => {
    screen?.close();
    await fake?.close();
  });

  test('batch lines change state as the API reports it, the bar gets an ETA, and a summary stays', async () => {
    const batchLine = (state: string) => new RegExp(`^ {2}batch [a-z0-9]{10} {2}${state} +\\d+s {2}\\d+ pages?`, 'm');
    // The first wave: four books' first pages in two batches of two.
    let s = await screen.until((x) => batchLine('PENDING').test(x), 'a batch line in PENDING', { seen });
    assert.match(s, /^░+ {2}0\/12 pages 0% {2}elapsed \d+s {2}ETA –$/m, 'the bar before any page is answered');
    assert.match(s, /^ {2}uploads \d+\/\d+ images$/m);
    // Move every batch on, one state at a time, each time the screen has shown where they are.
    const exited = (x: string) => /^\[exit \d+\]$/m.test(x);
    const active = (x: string) => (x.match(/^ {2}batch [a-z0-9]{10} {2}(PENDING|RUNNING)\b/gm) ?? []).join('\n');
    for (let rounds = 0; !exited(s); rounds++) {
      assert.ok(rounds < 60, `the build ends\n${s}`);
      s = await screen.until((x) => exited(x) || active(x) !== '', 'a pending or running batch (or the end)', { seen });
      if (exited(s)) break;
      const before = active(s);
      fake.advanceBatches();
      s = await screen.until((x) => exited(x) || active(x) !== before, 'the batches to move on', { seen });
    }
    // For people: every distinct screen, in dist/ (as the report's screenshot).
    fs.writeFileSync(path.join(REPO, 'dist', 'tty-panel-screens.txt'), seen.map((x) => x.trimEnd()).join('\n\n-----\n'));
    assert.match(s, /^\[exit 0\]$/m, s);
    // The API's own progress while a batch runs: the fake counts half of a batch's requests done.
    assert.ok(seen.some((x) => /RUNNING +\d+s {2}2 pages {2}1 ok$/m.test(x)), 'succeeded so far, as the API reports it');
    // Once pages were answered, the bar has a rate and an ETA.
    assert.ok(seen.some((x) => /^█+░* {2}\d+\/12 pages \d+% {2}elapsed \d+s {2}[\d.]+ pages\/s {2}ETA \d+s$/m.test(x)), `an ETA was shown:\n${seen.join('\n-----\n')}`);
    assert.ok(seen.some((x) => /^ {2}· built \S/m.test(x)), 'recent events in the panel');
    // The panel is gone; the summary stays.
    assert.doesNotMatch(s, /pages\/s|ETA|PENDING|RUNNING/);
    assert.match(s, /^done: 12 built, 0 restored, 0 cutoff, 1 failed; 13 requests, \d+ batches, 12 uploads; 12\/12 up to date in [\d.]+ s$/m);
    assert.match(s, /^tokens: [\d,]+ in, [\d,]+ out; cost \$[\d.]+$/m);
    assert.match(s, /^ {2}slowest batch: batches\/[a-z0-9]{36} \(\d pages?, succeeded\) took \d+s$/m);
    assert.match(s, /^ {2}failed attempts by class: json-error 1; ocrmake failures shows them$/m);
    // The failure, above the panel, wrapped at words to the width (never cut mid-word).
    assert.match(s, /^failed {3}Virginia:Hampden-Sydney College:1851:2 \(json-error, attempt 1\): the reply is not valid JSON/m);
    for (const x of seen) for (const line of x.split('\n')) assert.ok([...line].length <= COLUMNS, `a line wider than the terminal: "${line}"`);
    // On a terminal, colour: the summary's "done:" is green.
    assert.match(screen.capture(true), /\x1b\[32mdone:/);
  });
});

test('piped output has no colour unless FORCE_COLOR asks for it; --json never', async () => {
  const dir = makeProject({ books: ['Alabama/Howard College/1849'] });
  const plain = await runCli(dir, ['build', '--dry-run']);
  assert.equal(plain.code, 0, plain.stderr);
  assert.doesNotMatch(plain.stdout + plain.stderr, /\x1b\[/);
  const forced = await runCli(dir, ['build', '--dry-run'], { env: { FORCE_COLOR: '1', NO_COLOR: '1' } });
  assert.match(forced.stdout, /^\x1b\[2m\d\d:\d\d:\d\d\x1b\[22m building 4 of 4 pages/m, 'dim times');
  const json = await runCli(dir, ['build', '--dry-run', '--json'], { env: { FORCE_COLOR: '1' } });
  assert.doesNotMatch(json.stdout, /\x1b\[/);
  assert.ok(json.events.length > 0);
});

describe('lines that fit', () => {
  test('truncate cuts at a word boundary with an ellipsis, and hard only inside one long word', () => {
    assert.equal(truncate('short', 10), 'short');
    assert.equal(truncate('the reply does not match: expected array, got string', 30), 'the reply does not match:…');
    assert.equal(truncate('Alabama:Howard College:1849:3 built', 24), 'Alabama:Howard College:…');
    assert.equal(truncate('abcdefghijklmnopqrstuvwxyz', 10), 'abcdefghi…');
    assert.equal(truncate('anything', 1), '…');
    for (let w = 2; w < 60; w++) assert.ok([...truncate('failed Virginia:Hampden-Sydney College:1851:4 (json-error, attempt 1): expected array', w)].length <= w, `width ${w}`);
  });

  test('wrap breaks at spaces, indents continuation lines, and splits only a word longer than a line', () => {
    assert.deepEqual(wrap('failed page 4: the reply is not valid JSON at position 1479', 24), ['failed page 4: the reply', '  is not valid JSON at', '  position 1479']);
    assert.deepEqual(wrap('x'.repeat(25), 10), ['xxxxxxxxxx', '  xxxxxxxx', '  xxxxxxx']);
    assert.deepEqual(wrap('a\nb', 10), ['a', 'b']);
    const c = colours(true);
    assert.deepEqual(wrap(`${c.red('red words')} that wrap`, 12).map(unpaint), ['red words', '  that wrap'], 'paint takes no room');
  });

  test('painted parts are fitted by what shows, and their paint is closed', () => {
    const c = colours(true);
    const line = fitSegments([['batch ', c.dim], ['RUNNING', c.cyan], [' 100 pages 50 ok 2 failed', c.red]], 20);
    assert.equal(unpaint(line), 'batch RUNNING 100…');
    assert.equal((line.match(/\x1b\[[0-9;]*m/g) ?? []).length % 2, 0, 'every opened colour is closed');
  });

  test('colour: FORCE_COLOR forces it, NO_COLOR and a pipe turn it off, a terminal has it', () => {
    assert.equal(colourWanted({ isTTY: true }, {}), true);
    assert.equal(colourWanted({ isTTY: true }, { TERM: 'dumb' }), false);
    assert.equal(colourWanted({ isTTY: false }, {}), false);
    assert.equal(colourWanted({ isTTY: true }, { NO_COLOR: '1' }), false);
    assert.equal(colourWanted({ isTTY: true }, { NO_COLOR: '' }), true, 'an empty NO_COLOR is unset (no-color.org)');
    assert.equal(colourWanted({ isTTY: false }, { FORCE_COLOR: '1' }), true);
    assert.equal(colourWanted({ isTTY: true }, { FORCE_COLOR: '0' }), false);
    assert.equal(colourWanted({ isTTY: false }, { FORCE_COLOR: '1', NO_COLOR: '1' }), true, 'FORCE_COLOR wins, as in Node');
  });

  test('the panel at a narrow width: every line fits, none is cut inside a word', () => {
    const p = new Panel();
    const t0 = Date.parse('2026-11-24T10:00:00Z');
    p.add({ event: 'start', engine: 'gemini-batch', targets: 12, selected: 12 }, t0);
    p.add({ event: 'plan', counts: { fresh: 0, edited: 0, stale: 4, waiting: 8, inflight: 0, failed: 0, dead: 0, blocked: 0, 'missing-input': 0 }, frontier: 4, reasons: { new: 12 }, toSend: 4, toRestore: 0 }, t0);
    p.add({ event: 'submitted', keys: 4, job: 'job-1', engine: 'gemini-batch' }, t0);
    p.add({ event: 'batch', name: 'batches/abcdefghij0123456789abcdefghij012345', displayName: 'ocrmake-x', phase: 'state', state: 'RUNNING', records: 4, succeeded: 2, failed: 1, tokensIn: 0, tokensOut: 0, createdAt: new Date(t0).toISOString(), endedAt: null }, t0 + 5000);
    p.add({ event: 'failed', key: 'Virginia:Hampden-Sydney College:1851:4' as never, class: 'schema-error', message: 'the reply does not match the rule\'s schema: courses: expected array, received string', attempt: 1, dead: false }, t0 + 6000);
    p.add({ event: 'built', key: 'Alabama:Howard College:1849:1' as never, output: 'x', ms: 1 }, t0 + 7000);
    for (const width of [40, 60, 79]) {
      const lines = p.lines(t0 + 65_000, width, colours(false));
      for (const l of lines) assert.ok([...l].length <= width, `"${l}" fits ${width}`);
      assert.match(lines[0]!, /1\/12 pages/);
      assert.match(lines.join('\n'), /RUNNING/);
      const failure = lines.find((l) => l.includes('failed Virginia'))!;
      // Cut at a boundary: what precedes the ellipsis is a whole word of the message.
      if (failure.endsWith('…')) assert.ok('· failed Virginia:Hampden-Sydney College:1851:4 (schema-error, attempt 1): the reply does not match the rule\'s schema: courses: expected array, received string'.includes(failure.slice(4, -1).trimEnd()), failure);
    }
    assert.match(p.lines(t0 + 65_000, 100, colours(false))[1]!, /^ {2}batch abcdefghij {2}RUNNING +1m05s {2}4 pages {2}2 ok {2}1 failed$/);
    p.add({ event: 'summary', built: 11, restored: 0, cutoff: 0, failed: 1, dead: 0, blocked: 0, requests: 13, batches: 8, uploads: 12, targets: 12, fresh: 12, edited: 0, waiting: 0, missingInput: 0, tokensIn: 10726, tokensOut: 11343, costUsd: 0.0158, seconds: 22.4, dryRun: false }, t0 + 70_000);
    const summary = p.finalLines(60, colours(false));
    for (const l of summary) assert.ok([...l].length <= 60, `"${l}" fits 60`);
    assert.deepEqual(summary.slice(0, 3), ['done: 11 built, 0 restored, 0 cutoff, 1 failed; 13 requests,', '  8 batches, 12 uploads; 12/12 up to date in 22.4 s', 'tokens: 10,726 in, 11,343 out; cost $0.0158'], 'wrapped at words, a number with its unit');
  });
});
