// Run reports (DESIGN §11): every build and watch cycle writes .ocrcache/runs/<id>.json and .md with the
// counts, tokens and cost, a row per batch and the failures; `ocrmake runs` lists and shows them. The real
// CLI against the fake Gemini server, so batches and per-record failures are real.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { BuildEvent } from '../src/events.js';
import { createRunReporter, type RunReport } from '../src/report/run-report.js';
import type { Fingerprint, TargetKey } from '../src/types.js';
import { makeProject, runCli } from './util/rig.js';
import { waitUntil, WatchSession } from './util/watch-rig.js';
import { ALABAMA, VIRGINIA, buildAgainst, eventsOf, expectExit, geminiEnv, keyOf, withFake } from './util/gemini-rig.js';

const runsDir = (dir: string) => path.join(dir, '.ocrcache/runs');
const reportIds = (dir: string) => (fs.existsSync(runsDir(dir)) ? fs.readdirSync(runsDir(dir)).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort() : []);
const readReport = (dir: string, id: string): RunReport => JSON.parse(fs.readFileSync(path.join(runsDir(dir), `${id}.json`), 'utf8'));
const readMarkdown = (dir: string, id: string) => fs.readFileSync(path.join(runsDir(dir), `${id}.md`), 'utf8');

/** The cells of the Markdown table row whose first cell is `first`. */
function row(markdown: string, first: string): string[] {
  const line = markdown.split('\n').find((l) => l.startsWith(`| ${first} |`));
  assert.ok(line, `a table row starting with ${first}\n${markdown}`);
  return line.slice(2, -2).split(' | ');
}

describe('run reports', () => {
  test('a build with batches and failures writes the JSON and Markdown report; runs lists and shows it', async () => {
    await withFake(async (fake) => {
      const dir = makeProject({ books: [ALABAMA, VIRGINIA] });
      const DEAD = keyOf(ALABAMA, 2), ONCE = keyOf(VIRGINIA, 3);
      fake.faults.record(DEAD, 'schema', 'always');
      fake.faults.record(ONCE, 'malformed', 1);
      const r = await buildAgainst(dir, fake);
      const s = expectExit(r, 1);
      const ids = reportIds(dir);
      assert.equal(ids.length, 1, 'one report for one build');
      const id = ids[0]!;
      assert.match(id, /^\d{8}-\d{6}$/, 'a short id: the start, UTC, to the second');
      const rep = readReport(dir, id);

      // Counts and totals agree with the build's own summary.
      assert.equal(rep.command, 'build');
      assert.equal(rep.outcome, 'failed');
      assert.equal(rep.engine, 'gemini-batch');
      assert.equal(rep.model, 'gemini-3.8-flash');
      for (const k of ['built', 'restored', 'cutoff', 'failed', 'dead', 'blocked', 'requests', 'batches', 'uploads'] as const) assert.equal(rep.counts[k], s[k], k);
      assert.deepEqual(rep.tokens, { in: s['tokensIn'], out: s['tokensOut'] });
      assert.ok(rep.tokens.in > 0 && rep.tokens.out > 0);
      assert.ok(typeof rep.costUsd === 'number' && rep.costUsd > 0, 'a known model has a price');
      assert.equal(rep.counts.built, 5); // Alabama 1 and Virginia 1-4
      assert.equal(rep.counts.dead, 1);
      assert.equal(rep.counts.blocked, 2);
      assert.equal(rep.counts.failed, 4); // 3 attempts of the dead page, 1 of the page that then succeeded

      // One row per batch; per-batch outcomes from the records add up to the run's.
      assert.equal(rep.batches.length, s['batches']);
      assert.ok(rep.batches.every((b) => b.state === 'succeeded' && b.name.startsWith('batches/') && b.displayName.startsWith('ocrmake-')));
      assert.equal(rep.batches.reduce((n, b) => n + b.succeeded, 0), rep.counts.built);
      assert.equal(rep.batches.reduce((n, b) => n + b.failed, 0), rep.failures.length);
      assert.equal(rep.batches.reduce((n, b) => n + b.records, 0), rep.counts.requests);
      assert.equal(rep.batches.reduce((n, b) => n + b.tokensIn, 0), rep.tokens.in);
      for (const b of rep.batches) {
        assert.equal(b.succeeded + b.failed, b.records, `${b.name}: every record answered`);
        assert.ok(b.seconds !== null && b.seconds >= 0 && b.endedAt !== null);
      }

      // The failures, with class, attempt and the batch they came from.
      const sortedRows = (xs: unknown[][]) => xs.map((x) => JSON.stringify(x)).sort();
      assert.deepEqual(
        sortedRows(rep.failures.map((f) => [f.key, f.class, f.attempt, f.dead])),
        sortedRows([[DEAD, 'schema-error', 1, false], [DEAD, 'schema-error', 2, false], [DEAD, 'schema-error', 3, true], [ONCE, 'json-error', 1, false]]),
      );
      for (const f of rep.failures) {
        assert.ok(f.batch && rep.batches.some((b) => b.name === f.batch), 'a failure names its batch');
        assert.match(f.message, /^the reply (does not match the rule's schema|is not valid JSON)/, 'the message says what was wrong with the reply');
      }
      assert.deepEqual(rep.blocked.map((b) => [b.key, b.by]), [[keyOf(ALABAMA, 3), DEAD], [keyOf(ALABAMA, 4), DEAD]]);

      // The Markdown: the counts table, a row per batch with the same numbers, and the failures.
      const md = readMarkdown(dir, id);
      assert.match(md, /^# ocrmake build: some pages are not up to date/);
      const counts = row(md, String(rep.counts.built));
      assert.deepEqual(counts, [5, 0, 0, 4, 1, 2, 0, rep.counts.requests, rep.counts.batches, rep.counts.uploads].map(String));
      for (const b of rep.batches) {
        const cells = row(md, `\`${b.name}\``);
        assert.equal(cells[1], `\`${b.displayName}\``);
        assert.equal(cells[2], 'succeeded');
        assert.deepEqual(cells.slice(3, 6).map(Number), [b.records, b.succeeded, b.failed]);
        assert.equal(Number(cells[6]!.replace(/,/g, '')), b.tokensIn + b.tokensOut);
        assert.match(cells[7]!, /^(\$|<\$)/);
        assert.match(cells[8]!, / s$/);
      }
      const total = row(md, '**total**');
      assert.deepEqual(total.slice(3, 6).map(Number), [rep.counts.requests, rep.counts.built, rep.failures.length]);
      const failureRows = md.split('## Failures')[1]!.split('\n').filter((l) => l.startsWith('| `'));
      assert.equal(failureRows.length, 4);
      assert.ok(failureRows.some((l) => l.includes(DEAD) && l.includes('schema-error') && l.includes('3 (dead)')));
      assert.ok(failureRows.some((l) => l.includes(ONCE) && l.includes('json-error')));
      assert.match(md, /Cost: \$[\d.]+ \(gemini-batch, batch half price, gemini-3\.8-flash; prices as of/);

      // runs --json lists it; runs <id> prints its Markdown; a prefix, any unique part, or `latest` is enough.
      const env = geminiEnv(fake);
      const list = await runCli(dir, ['runs', '--json'], { env });
      assert.equal(list.code, 0, list.stderr);
      const listed = JSON.parse(list.stdout);
      assert.equal(listed.total, 1);
      assert.deepEqual(listed.runs[0], {
        id, command: 'build', outcome: 'failed', startedAt: rep.startedAt, seconds: rep.seconds, engine: 'gemini-batch', built: 5, restored: 0, failed: 4,
        requests: rep.counts.requests, tokensIn: rep.tokens.in, tokensOut: rep.tokens.out, costUsd: rep.costUsd,
      });
      for (const name of [id, id.slice(0, 11), id.slice(9), 'latest']) {
        const shown = await runCli(dir, ['runs', name], { env });
        assert.equal(shown.code, 0, `runs ${name}: ${shown.stderr}`);
        assert.equal(shown.stdout, md, `runs ${name}`);
      }
      const missing = await runCli(dir, ['runs', 'nope'], { env });
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /no run "nope" in \.ocrcache\/runs/);

      // A dry run writes no report; a second build writes a second one, listed first.
      const dry = await buildAgainst(dir, fake, ['--dry-run']);
      expectExit(dry, 0);
      assert.equal(reportIds(dir).length, 1, 'a dry run writes no report');
      const again = await buildAgainst(dir, fake);
      expectExit(again, 1);
      const text = await runCli(dir, ['runs'], { env });
      assert.equal(text.code, 0, text.stderr);
      const lines = text.stdout.trim().split('\n');
      assert.match(lines[0]!, /^ID\s+STARTED \(UTC\)\s+COMMAND\s+OUTCOME\s+DURATION\s+BUILT\s+RESTORED\s+FAILED\s+REQUESTS\s+COST$/);
      assert.ok(lines[1]!.startsWith(reportIds(dir)[1]!), 'newest first');
      assert.ok(lines[2]!.startsWith(id));
      assert.equal((await runCli(dir, ['runs', 'latest'], { env })).stdout, readMarkdown(dir, reportIds(dir)[1]!), 'latest is the newest');
      const ambiguous = await runCli(dir, ['runs', id.slice(0, 8)], { env });
      assert.equal(ambiguous.code, 2);
      assert.match(ambiguous.stderr, new RegExp(`"${id.slice(0, 8)}" matches 2 runs .*; give more of the id`));
      const limited = JSON.parse((await runCli(dir, ['runs', '--json', '--limit', '1'], { env })).stdout);
      assert.equal(limited.runs.length, 1);
      assert.equal(limited.total, 2);
    });
  });

  test('watch writes one report per build cycle', async () => {
    await withFake(async (fake) => {
      const dir = makeProject({ books: [ALABAMA] });
      expectExit(await buildAgainst(dir, fake), 0);
      const before = reportIds(dir).length;
      const w = new WatchSession(dir, ['--poll-seconds', '0.05', '--debounce', '100'], geminiEnv(fake));
      try {
        await w.build('the first build');
        // "watching" comes once the watcher's first scan of the folders is done: a change now is seen.
        await w.next((e) => e.event === 'watch' && /up to date/.test(e.message), 'up to date');
        fs.rmSync(path.join(dir, `dataset/output_results/${ALABAMA}/2.json`));
        await w.build('the build after the deletion');
        await waitUntil(() => reportIds(dir).length >= before + 2, 'the second report');
        const stopped = await w.stop('SIGINT');
        assert.equal(stopped.code, 0, w.transcript());
      } finally {
        await w.kill();
      }
      const ids = reportIds(dir).slice(before);
      assert.equal(ids.length, 2, `one report per cycle: ${ids}`);
      const [first, second] = ids.map((id) => readReport(dir, id));
      assert.equal(first!.command, 'watch');
      assert.equal(first!.counts.requests, 0);
      assert.equal(second!.counts.restored, 1, 'the deleted output was restored');
      assert.equal(second!.outcome, 'ok');
    });
  });

  test('the reporter says "unknown price" for a model without one, and never throws', () => {
    const dir = makeProject({ dataset: false });
    const written: string[] = [];
    const errors: string[] = [];
    const err = { write: (s: string) => void errors.push(s) } as unknown as NodeJS.WritableStream;
    const rep = createRunReporter({ root: dir, command: 'build', err, onWritten: (f) => written.push(f.id) });
    const key = 'A:B:1:1' as TargetKey;
    const events: BuildEvent[] = [
      { event: 'start', engine: 'gemini', targets: 1, selected: 1 },
      {
        event: 'record', key, vars: {}, engine: 'gemini', model: 'mystery-model', modelVersion: null, promptFile: null, fingerprint: 'f' as Fingerprint, prompt: null, previousContext: null,
        generationConfig: null, batch: null, ok: true, output: {}, error: null, attempt: 1, tokensIn: 100, tokensOut: 50, latencyMs: 5,
      },
      { event: 'built', key, output: 'out/1.json', ms: 1 },
      {
        event: 'summary', built: 1, restored: 0, cutoff: 0, failed: 0, dead: 0, blocked: 0, requests: 1, batches: 0, uploads: 0, targets: 1, fresh: 1,
        edited: 0, waiting: 0, missingInput: 0, tokensIn: 100, tokensOut: 50, seconds: 0.5, dryRun: false,
      },
    ];
    for (const e of events) rep.emit(e);
    rep.close();
    assert.equal(written.length, 1);
    const report = readReport(dir, written[0]!);
    assert.equal(report.costUsd, null);
    assert.match(readMarkdown(dir, written[0]!), /Cost: unknown price \(no price known for model mystery-model\)/);
    assert.match(readMarkdown(dir, written[0]!), /None: the gemini engine sends no batches/);

    // A build cut short (Ctrl-C) has no summary: its report is written on close, marked interrupted.
    const cut = createRunReporter({ root: dir, command: 'build', err, onWritten: (f) => written.push(f.id) });
    for (const e of events.slice(0, 3)) cut.emit(e);
    cut.close();
    assert.equal(written.length, 2);
    const interrupted = readReport(dir, written[1]!);
    assert.equal(interrupted.outcome, 'interrupted');
    assert.equal(interrupted.counts.built, 1);
    assert.deepEqual(interrupted.tokens, { in: 100, out: 50 });
    assert.match(readMarkdown(dir, written[1]!), /^# ocrmake build: interrupted\n[\s\S]*\*\*The run was interrupted before its end\*\*/);

    // A report that cannot be written is a warning, not a failed build.
    fs.rmSync(runsDir(dir), { recursive: true });
    fs.writeFileSync(runsDir(dir), 'a file where the folder should be');
    const broken = createRunReporter({ root: dir, command: 'build', err });
    for (const e of events) assert.doesNotThrow(() => broken.emit(e));
    broken.close();
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /^warning: could not write the run report: .*\(the build itself is not affected\)/);
  });
});
