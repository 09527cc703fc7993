// The change journal (DESIGN §16): a save appends what changed and leaves the snapshot alone; a torn tail is
// ignored; and a SIGKILL in the middle of a journal append or of a snapshot fold loses no completed result
// and pays for nothing twice. The kills use the OCRMAKE_CRASH_AT hook (src/cache/crash-points.ts): the
// process SIGKILLs itself at that exact instant, which no outside timer could hit.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { JOURNAL_FILE, readJournal } from '../src/cache/journal.js';
import type { TargetRecord } from '../src/cache/records.js';
import { STATE_FILE, StateStore } from '../src/cache/state.js';
import { asFingerprint, asHash, asKey } from '../src/types.js';
import { loadGroundTruth, startFakeGemini } from './fake-gemini/index.js';
import { expectEachSentOnce, expectNothingToSend } from './util/gemini-rig.js';
import { makeProject, REPO, runCli, summaryOf, tempDir } from './util/rig.js';

const hex = (n: number, salt: string) => (salt + n.toString(16)).padStart(64, '0').slice(-64);

function record(n: number, salt = 'a'): TargetRecord {
  return {
    key: asKey(`Book:${Math.floor(n / 100)}:${n % 100}`),
    output: `out/${n}.json`,
    fingerprint: asFingerprint(hex(n, salt + 'f')),
    components: { image: asHash(hex(n, 'i')), prompt: null, context: null, config: asHash(hex(1, 'c')), schema: asHash(hex(1, 's')), template: null },
    inputKey: hex(n, salt + 'k'),
    outputHash: asHash(hex(n, salt + 'o')),
    engine: 'local', model: null, modelVersion: null, contextSource: null, promptFile: null,
    origin: 'built', builtAt: '2026-11-29T00:00:00.000Z', batch: null, tokensIn: null, tokensOut: null,
  };
}

function tempCache(): string {
  return tempDir('ocrmake-journal-');
}

describe('the state journal', () => {
  test('a 1,000-page save appends to the journal and leaves the snapshot untouched; an abandoned store is replayed', async () => {
    const dir = tempCache();
    const first = (await StateStore.open(dir)).store;
    for (let n = 0; n < 12000; n++) first.setTarget(record(n));
    first.save(); // a new cache: its first save writes the snapshot
    const snap = path.join(dir, STATE_FILE);
    const before = fs.statSync(snap);
    const bytesBefore = fs.readFileSync(snap);
    const journalBefore = fs.statSync(path.join(dir, JOURNAL_FILE)).size;

    for (let n = 12000; n < 13000; n++) first.setTarget(record(n));
    for (let n = 0; n < 10; n++) first.setTarget(record(n, 'b')); // rebuilt pages
    first.run('INSERT INTO runs (id, command, started_at) VALUES (?, ?, ?)', ['r1', 'build', 'now']);
    first.save();
    const after = fs.statSync(snap);
    assert.equal(after.ino, before.ino, 'the snapshot was not replaced');
    assert.ok(fs.readFileSync(snap).equals(bytesBefore), 'the snapshot bytes are the same');
    const grown = fs.statSync(path.join(dir, JOURNAL_FILE)).size - journalBefore;
    assert.ok(grown > 1010 * 100 && grown < before.size / 2, `the journal grew by what changed (${grown} bytes; snapshot ${before.size})`);

    // Abandoned without close, as a kill leaves it: the next open replays the journal.
    const second = (await StateStore.open(dir)).store;
    assert.equal(second.targets.size, 13000);
    assert.equal(second.targets.get(record(3).key)?.fingerprint, record(3, 'b').fingerprint);
    assert.equal(second.query('SELECT command FROM runs')[0]?.['command'], 'build');
    second.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a torn or damaged journal tail is ignored; the first save after it writes a new snapshot; a clean close folds the journal', async () => {
    const dir = tempCache();
    const journal = path.join(dir, JOURNAL_FILE);
    const a = (await StateStore.open(dir)).store;
    a.setTarget(record(1));
    a.save();
    a.setTarget(record(2));
    a.save();
    // Half of a frame: a length that runs past the end of the file.
    fs.appendFileSync(journal, Buffer.from([0xff, 0x00, 0x00, 0x00, 1, 2, 3, 4, 5]));
    const b = (await StateStore.open(dir)).store;
    assert.deepEqual([...b.targets.keys()].sort(), [record(1).key, record(2).key]);
    assert.equal(readJournal(journal).tornBytes, 9);
    const snapshot = fs.statSync(path.join(dir, STATE_FILE)).ino;
    b.setTarget(record(3));
    b.save();
    assert.notEqual(fs.statSync(path.join(dir, STATE_FILE)).ino, snapshot, 'after an unclean end, the first save is a checkpoint');
    assert.deepEqual([readJournal(journal).tornBytes, readJournal(journal).frames.length], [0, 0]);
    b.setTarget(record(4));
    b.save();
    assert.equal(readJournal(journal).frames.length, 1, 'then saves append');
    // A frame whose checksum fails ends the journal too (a bit flipped on disk).
    const bytes = fs.readFileSync(journal);
    bytes[bytes.length - 2]! ^= 0x55;
    fs.writeFileSync(journal, bytes);
    const d = (await StateStore.open(dir)).store;
    assert.equal(d.targets.size, 3, 'the damaged last frame (page 4) is not replayed');
    d.setTarget(record(5));
    d.save();
    d.setTarget(record(6));
    d.save();
    d.close();
    assert.equal(readJournal(journal).frames.length, 0, 'a clean close leaves a header-only journal');
    const e = (await StateStore.open(dir)).store;
    assert.deepEqual([...e.targets.keys()].sort(), [1, 2, 3, 5, 6].map((n) => record(n).key).sort());
    e.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('two stores of one cache in one process (watch reopens the project before closing the old one)', () => {
  test('the older store does not fold under the newer one; every change of both is kept', async () => {
    const dir = tempCache();
    const a = (await StateStore.open(dir)).store;
    a.setTarget(record(1));
    a.save(); // the first snapshot
    a.setTarget(record(2));
    a.save(); // a journal frame
    const b = (await StateStore.open(dir)).store;
    assert.equal(b.targets.size, 2);
    a.close(); // must not fold: b continues the journal a wrote
    b.setTarget(record(3));
    b.save();
    // Abandoned (as a kill leaves it): the journal must still continue the snapshot.
    const c = (await StateStore.open(dir)).store;
    assert.deepEqual([...c.targets.keys()].sort(), [record(1).key, record(2).key, record(3).key].sort());
    c.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a store whose journal was folded by another since it opened folds instead of appending', async () => {
    const dir = tempCache();
    const a = (await StateStore.open(dir)).store;
    a.setTarget(record(1));
    a.save();
    a.setTarget(record(2));
    a.save();
    const b = (await StateStore.open(dir)).store;
    const c = (await StateStore.open(dir)).store; // the newest
    b.setTarget(record(3));
    b.save();
    b.close(); // b is not the newest: no fold
    c.setTarget(record(4));
    c.save(); // the journal has b's frame after the one c read: c's view is stale, so c folds its own state
    const d = (await StateStore.open(dir)).store;
    assert.ok(d.targets.has(record(4).key), 'the last save is kept');
    assert.ok(d.targets.has(record(2).key));
    d.close();
    a.close();
    c.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

const BOOKS = ['Alabama/Howard College/1849', 'California/College of California/1860', 'Virginia/Hampden-Sydney College/1851'];
const PAGES = 12;
const ARGS = ['build', '--json', '--poll-seconds', '0.05'];

// Saves of a fresh 12-page gemini-batch build: the first (a batch intent) writes the first snapshot (fold 1);
// then each save appends a frame; the clean exit folds again (fold 2), after every page was built.
const KILLS = [
  { at: 'journal-append:4', what: 'in the middle of a journal append (a torn frame)' },
  { at: 'fold:2', what: 'during the snapshot fold at the clean exit, before the new snapshot is in place' },
  { at: 'fold-renamed:2', what: 'between putting the folded snapshot in place and resetting the journal' },
];

describe('SIGKILL inside the journal', { concurrency: 3 }, () => {
  for (const k of KILLS) {
    test(`SIGKILL ${k.what}: the next build finds every completed result and sends nothing twice`, { timeout: 120_000 }, async (t) => {
      const fake = await startFakeGemini({ groundTruth: await loadGroundTruth(path.join(REPO, 'dataset')), startTime: Date.now() });
      try {
        const dir = makeProject({ books: BOOKS });
        const env = { GEMINI_API_KEY: 'test-key', GOOGLE_GEMINI_BASE_URL: fake.url, OCRMAKE_RETRY_BASE_MS: '20' };
        const killed = await runCli(dir, ARGS, { env: { ...env, OCRMAKE_CRASH_AT: k.at } });
        assert.equal(killed.signal, 'SIGKILL', `the build died at ${k.at}\n${killed.stdout}\n${killed.stderr}`);
        const builtBefore = killed.events.filter((e) => e.event === 'built').map((e) => e.key as string);
        assert.ok(builtBefore.length > 0, 'some pages were built before the kill');
        if (k.at.startsWith('fold')) assert.equal(builtBefore.length, PAGES, 'the exit fold comes after every page');

        const next = await runCli(dir, ARGS, { env });
        assert.equal(next.code, 0, `${next.stdout}\n${next.stderr}`);
        expectEachSentOnce(fake, PAGES);
        // Every page the killed build completed is found (recorded, recovered or re-ingested), not built anew.
        const rebuilt = next.events.filter((e) => e.event === 'built' && builtBefore.includes(e.key));
        const s = summaryOf(next);
        if (k.at.startsWith('fold')) {
          assert.equal(s['requests'], 0, 'all results were completed before the fold');
          assert.equal(s['built'], 0, JSON.stringify(s));
        }
        t.diagnostic(`killed after ${builtBefore.length} built; next: ${JSON.stringify(s)}; ${rebuilt.length} re-ingested from a re-attached batch`);
        const status = JSON.parse((await runCli(dir, ['status', '--json'], { env })).stdout);
        assert.equal(status.counts.fresh, PAGES, JSON.stringify(status));
        assert.deepEqual(fs.readdirSync(path.join(dir, '.ocrcache')).filter((f) => f.includes('corrupt') || f.includes('.tmp-')), []);
        await expectNothingToSend(dir, ARGS, env, fake);
      } finally {
        await fake.close();
      }
    });
  }
});
