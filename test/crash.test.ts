// Crash safety (DESIGN §6): `kill -9` at random moments of a real `ocrmake build` must lose nothing and pay
// for nothing twice. The moments come from a seeded PRNG; the seed is printed, and OCRMAKE_CRASH_SEED=<seed>
// replays a failing schedule.
//
// After every kill: no partial or stray output, no partial result-store object, a cache that opens (status
// works, nothing moved aside), and a lock that does not stop the next run. At the end a normal build finishes
// the job, sends no more requests than there were pages not yet built, and a build after it sends none.
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { ResultStore } from '../src/cache/objects.js';
import { loadConfig } from '../src/config/load.js';
import type { Fingerprint } from '../src/types.js';
import { makeProject, parseNdjson, runCli, startCli, summaryOf, tempDir } from './util/rig.js';
import { mulberry32 } from '../scripts/prng.js';

const BOOKS = ['Alabama/Howard College/1849', 'California/College of California/1860', 'Virginia/Hampden-Sydney College/1851'];
const OUTPUTS = 'dataset/output_results';
const CACHE = '.ocrcache';


/**
 * When to kill:
 * - `early`: a few hundred ms after spawn (node start-up, config load);
 * - `open`: just after the first event, while the cache is being opened and the collection discovered;
 * - `built`: shortly after the n-th page was written (between an output write and the next cache save);
 * - `save`: the instant `state.sqlite` is replaced by a save, once a page was built (so the save has records);
 * - `anytime`: a uniformly random moment of the first seconds.
 */
type Moment = { kind: 'early'; ms: number } | { kind: 'open'; ms: number } | { kind: 'built'; n: number; ms: number } | { kind: 'save' } | { kind: 'anytime'; ms: number };

function schedule(rand: () => number): Moment[] {
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const moments: Moment[] = [
    { kind: 'early', ms: int(0, 350) },
    { kind: 'open', ms: int(0, 60) },
    { kind: 'built', n: int(1, 2), ms: int(0, 250) },
    { kind: 'built', n: int(2, 3), ms: int(0, 40) },
    { kind: 'save' },
    { kind: 'anytime', ms: int(300, 5000) },
  ];
  // Fisher-Yates: the order matters too (an early kill after some pages were built exercises recovery).
  for (let i = moments.length - 1; i > 0; i--) {
    const j = int(0, i);
    [moments[i], moments[j]] = [moments[j]!, moments[i]!];
  }
  return moments;
}

interface Killed {
  /** True when the build finished before the moment came (then nothing was killed). */
  finished: boolean;
  code: number | null;
  events: any[];
  stderr: string;
  pid: number;
}

/** Runs `ocrmake build --json` and SIGKILLs it at `m`. */
function buildAndKill(dir: string, m: Moment): Promise<Killed> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = startCli(dir, ['build', '--json']);
    let stdout = '', stderr = '', built = 0, seenEvent = false;
    const timers: NodeJS.Timeout[] = [];
    const kill = (ms = 0) => {
      const t = setTimeout(() => child.kill('SIGKILL'), ms);
      timers.push(t);
    };
    // A save is a journal append (the journal grows) or a fold (a new snapshot, a new inode).
    const stateFile = path.join(dir, CACHE, 'state.sqlite');
    const journalFile = path.join(dir, CACHE, 'state.journal');
    const size = (f: string) => {
      try {
        return fs.statSync(f).size;
      } catch {
        return -1;
      }
    };
    const inode = () => {
      try {
        return `${fs.statSync(stateFile).ino}:${size(journalFile)}`;
      } catch {
        return '-1';
      }
    };
    if (m.kind === 'early' || m.kind === 'anytime') kill(m.ms);
    if (m.kind === 'save') {
      // Polling (not fs.watch): it works whether or not .ocrcache exists yet.
      let before = inode();
      const poll = setInterval(() => {
        const now = inode();
        if (built === 0) before = now;
        else if (now !== before) {
          child.kill('SIGKILL');
          clearInterval(poll);
        }
      }, 2);
      timers.push(poll);
    }
    child.stdout!.on('data', (d: Buffer) => {
      const chunk = d.toString();
      stdout += chunk;
      for (const e of parseNdjson(chunk)) {
        if (!seenEvent && m.kind === 'open') kill(m.ms);
        seenEvent = true;
        if (e.event !== 'built') continue;
        built++;
        if (m.kind === 'built' && built === m.n) kill(m.ms);
      }
    });
    child.stderr!.on('data', (d) => (stderr += d));
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`build did not end\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, 300_000);
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      for (const t of timers) clearTimeout(t);
      resolve({ finished: signal !== 'SIGKILL', code, events: parseNdjson(stdout), stderr, pid: child.pid! });
    });
  });
}

function walk(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

test('kill -9 at random moments loses nothing and pays for nothing twice', async (t) => {
  const seed = Number(process.env['OCRMAKE_CRASH_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
  const moments = schedule(mulberry32(seed));
  const describe = (m: Moment) => JSON.stringify(m);
  t.diagnostic(`seed ${seed} (replay with OCRMAKE_CRASH_SEED=${seed}); moments: ${moments.map(describe).join(' ')}`);
  console.log(`crash test seed: ${seed}`);

  const dir = makeProject({ books: BOOKS });
  const config = await loadConfig(dir); // the same loader the CLI uses: the rule's real schema
  const pages = walk(path.join(dir, 'dataset/label_to_curricular')).length;
  assert.ok(pages >= 10, `the sample has ${pages} pages`);

  /** Keys whose output reached the disk (built, restored or recovered) in some run. */
  const done = new Set<string>();
  const builtOnce = new Set<string>();
  let previous: Killed | null = null;
  const killedPids = new Set<number>();

  const checkDisk = (when: string) => {
    for (const file of walk(path.join(dir, OUTPUTS))) {
      const rel = path.relative(dir, file);
      assert.doesNotMatch(path.basename(file), /^\..*\.tmp-/, `${when}: stray temp file ${rel}`);
      let value: unknown;
      assert.doesNotThrow(() => (value = JSON.parse(fs.readFileSync(file, 'utf8'))), `${when}: ${rel} is not JSON`);
      const parsed = config.rule.schema.safeParse(value);
      assert.ok(parsed.success, `${when}: ${rel} does not match the rule's schema`);
    }
    for (const file of walk(path.join(dir, CACHE, 'objects'))) {
      const rel = path.relative(dir, file);
      assert.match(rel, /\.json\.gz$/, `${when}: stray file in the result store: ${rel}`);
      const value = JSON.parse(gunzipSync(fs.readFileSync(file)).toString('utf8'));
      assert.ok(config.rule.schema.safeParse(value).success, `${when}: result-store object ${rel} does not match the schema`);
    }
    const aside = fs.existsSync(path.join(dir, CACHE)) ? fs.readdirSync(path.join(dir, CACHE)).filter((f) => f.includes('corrupt')) : [];
    assert.deepEqual(aside, [], `${when}: the cache was moved aside`);
  };

  const account = (when: string, events: any[]) => {
    for (const e of events) {
      if (e.event === 'built') {
        // A `built` event comes after the result-store object and the output were written: such a page
        // must never be OCR'd again.
        assert.ok(!done.has(e.key), `${when}: ${e.key} was OCR'd again although its result was stored`);
        builtOnce.add(e.key);
      }
      if (e.event === 'built' || e.event === 'restored' || e.event === 'recovered') done.add(e.key);
    }
  };

  const checkStarted = (when: string, run: { code: number | null; stderr: string; events: any[] }) => {
    assert.notEqual(run.code, 3, `${when}: the lock of the killed process blocked this run\n${run.stderr}`);
    assert.doesNotMatch(run.stderr, /another ocrmake is running/, `${when}: lock not taken over`);
    assert.ok(!run.events.some((e) => e.event === 'warning' && /moved|could not be opened/.test(e.message)), `${when}: cache warning`);
  };

  for (const [i, m] of moments.entries()) {
    const when = `run ${i + 1} (${describe(m)}, seed ${seed})`;
    const run = await buildAndKill(dir, m);
    if (previous && !previous.finished) checkStarted(when, run);
    account(when, run.events);
    const ended = run.finished ? `finished (exit ${run.code})` : 'killed';
    const n = (kind: string) => run.events.filter((e) => e.event === kind).length;
    t.diagnostic(`${when}: ${ended}; ${n('recovered')} recovered, ${n('restored')} restored, ${n('built')} built; ${done.size}/${pages} pages done so far`);
    if (run.finished) assert.equal(run.code, 0, `${when}: build failed\n${run.stderr}`);

    checkDisk(when);
    const lock = path.join(dir, CACHE, 'lock');
    if (!run.finished) killedPids.add(run.pid);
    if (fs.existsSync(lock)) {
      // Left by this run or an earlier killed one (the lock is taken after the project is opened); possibly
      // empty if the kill came mid-write. Either way the next run must take it over.
      const text = fs.readFileSync(lock, 'utf8');
      if (text) assert.ok(killedPids.has(JSON.parse(text).pid), `${when}: the lock names a process that was not killed: ${text}`);
    }
    const status = await runCli(dir, ['status', '--json']);
    assert.equal(status.code, 0, `${when}: status failed\n${status.stderr}`);
    assert.doesNotMatch(status.stderr, /moved|could not be opened|corrupt/i, `${when}: status warned about the cache`);
    // Opening the cache swept the temp files the killed runs left (a kill between write and rename).
    const temps = [CACHE, `${CACHE}/tmp`].flatMap((d) => (fs.existsSync(path.join(dir, d)) ? fs.readdirSync(path.join(dir, d)) : []));
    const orphans = temps.filter((f) => killedPids.has(Number(/\.tmp-(\d+)-/.exec(f)?.[1])));
    assert.deepEqual(orphans, [], `${when}: temp files of killed runs were not swept`);
    const counts = JSON.parse(status.stdout);
    assert.equal(counts.targets, pages, `${when}: status sees ${counts.targets} pages`);
    previous = run;
  }

  const notBuilt = pages - done.size;
  const final = await runCli(dir, ['build', '--json']);
  if (previous && !previous.finished) checkStarted('final build', final);
  assert.equal(final.code, 0, `final build failed\n${final.stderr}`);
  account('final build', final.events);
  const summary = summaryOf(final);
  assert.ok(summary.requests! <= notBuilt, `final build sent ${summary.requests} requests, but only ${notBuilt} pages were not yet built (seed ${seed})`);
  checkDisk('after the final build');

  const status = await runCli(dir, ['status', '--json']);
  assert.equal(status.code, 0, status.stderr);
  assert.deepEqual(JSON.parse(status.stdout).counts.fresh, pages, `not every page is fresh: ${status.stdout}`);

  const again = await runCli(dir, ['build', '--json']);
  assert.equal(again.code, 0, again.stderr);
  const s2 = summaryOf(again);
  assert.equal(s2.requests, 0, 'a build after everything is fresh sent requests');
  assert.equal(s2.built, 0);
  assert.equal(s2.restored, 0);
  t.diagnostic(`final build: ${summary.requests} requests for ${notBuilt} pages not yet built; ${builtOnce.size} pages OCR'd in all`);
});

test('the result store keeps the latest result of a request, so a rebuilt output always equals its stored result', () => {
  const dir = tempDir('ocrmake-objects-');
  try {
    const store = new ResultStore(dir);
    const fp = 'ab'.repeat(32) as Fingerprint;
    store.write(fp, Buffer.from('{"first":1}\n'));
    // `build --force` of a non-deterministic engine: same request, other answer. The output written next
    // is this answer, so recovery after a kill must find it, not the first one.
    store.write(fp, Buffer.from('{"second":2}\n'));
    assert.equal(store.read(fp)?.toString(), '{"second":2}\n');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('temp files of killed processes are swept when the cache is opened; those of live ones stay', () => {
  const dir = tempDir('ocrmake-temps-');
  try {
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    fs.mkdirSync(path.join(dir, 'tmp'));
    const files = {
      dead: path.join(dir, 'tmp', `.1.json.tmp-${dead}-3`),
      deadState: path.join(dir, `.state.sqlite.tmp-${dead}-1`),
      live: path.join(dir, 'tmp', `.2.json.tmp-${process.pid}-1`),
      other: path.join(dir, 'tmp', 'notes.txt'),
    };
    for (const f of Object.values(files)) fs.writeFileSync(f, 'x');
    new ResultStore(dir);
    assert.deepEqual(Object.entries(files).filter(([, f]) => fs.existsSync(f)).map(([k]) => k), ['live', 'other']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
