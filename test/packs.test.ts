// The result store's pack files (src/cache/packs.ts): results are appended to one file per process, found by
// fingerprint through an index that is only a checkpoint; a record cut short by a kill is ignored, a newer
// copy wins, gc rewrites packs, and loose objects of older caches are still read. A SIGKILL in the middle of
// a packed-object write (OCRMAKE_CRASH_AT=pack-append) loses no completed result and pays for nothing twice.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, test } from 'node:test';
import { ResultStore } from '../src/cache/objects.js';
import { decodeIndex, INDEX_EXT, PACK_EXT, scanRecords } from '../src/cache/packs.js';
import type { Fingerprint } from '../src/types.js';
import { loadGroundTruth, startFakeGemini } from './fake-gemini/index.js';
import { expectEachSentOnce, expectNothingToSend, walk } from './util/gemini-rig.js';
import { makeProject, REPO, runCli, summaryOf, tempDir } from './util/rig.js';

const fp = (n: number) => n.toString(16).padStart(64, '0') as Fingerprint;
const body = (n: number, v = 'a') => Buffer.from(`{"page":${n},"v":"${v}"}\n`);
const packsOf = (cache: string) => (fs.existsSync(path.join(cache, 'packs')) ? fs.readdirSync(path.join(cache, 'packs')).filter((f) => f.endsWith(PACK_EXT)).sort() : []);

function tempCache(): string {
  return tempDir('ocrmake-packs-');
}

describe('pack files of the result store', () => {
  test('objects are found by a new store; a torn record ends the pack; a damaged index is rebuilt from the pack', () => {
    const cache = tempCache();
    try {
      const a = new ResultStore(cache);
      for (let n = 0; n < 50; n++) a.write(fp(n), body(n));
      a.close();
      const [pack] = packsOf(cache);
      assert.ok(pack, 'one pack was written');
      const packFile = path.join(cache, 'packs', pack);
      const idxFile = packFile.slice(0, -PACK_EXT.length) + INDEX_EXT;
      assert.equal(decodeIndex(fs.readFileSync(idxFile))?.entries.length, 50, 'closing the store indexed its pack');

      // Half a record after the last good one (a kill mid-write), and an index that lies about the pack.
      const whole = fs.readFileSync(packFile);
      const torn = scanRecords(whole, 0);
      assert.equal(torn.entries.length, 50);
      fs.appendFileSync(packFile, whole.subarray(0, 20));
      fs.writeFileSync(idxFile, Buffer.from('OCRIDX1\nnot an index'));
      const b = new ResultStore(cache);
      for (let n = 0; n < 50; n++) assert.equal(b.read(fp(n))?.toString(), body(n).toString(), `object ${n}`);
      assert.equal(b.has(fp(50)), false);
      // A writer starts its own pack: nothing is ever appended after a torn record.
      b.write(fp(50), body(50));
      b.close();
      assert.equal(packsOf(cache).length, 2);
      assert.equal(new ResultStore(cache).read(fp(50))?.toString(), body(50).toString());
    } finally {
      fs.rmSync(cache, { recursive: true, force: true });
    }
  });

  test('a newer copy of a fingerprint wins (in a later pack, or over a loose object of an older cache)', () => {
    const cache = tempCache();
    try {
      // A loose object as ocrmake wrote them before packs.
      fs.mkdirSync(path.join(cache, 'objects', '00'), { recursive: true });
      fs.writeFileSync(path.join(cache, 'objects', '00', `${fp(1)}.json.gz`), gzipSync(body(1, 'loose')));
      fs.writeFileSync(path.join(cache, 'objects', '00', `${fp(2)}.json.gz`), gzipSync(body(2, 'loose')));
      const a = new ResultStore(cache);
      assert.equal(a.read(fp(1))?.toString(), body(1, 'loose').toString());
      a.write(fp(1), body(1, 'first'));
      a.write(fp(3), body(3, 'first'));
      a.close();
      const b = new ResultStore(cache);
      assert.equal(b.read(fp(1))?.toString(), body(1, 'first').toString(), 'packed over loose');
      b.write(fp(3), body(3, 'second')); // build --force of a non-deterministic engine
      b.write(fp(2), body(2, 'loose')); // the same bytes: left alone
      b.close();
      assert.equal(packsOf(cache).length, 2);
      const c = new ResultStore(cache);
      assert.equal(c.read(fp(3))?.toString(), body(3, 'second').toString(), 'the later pack wins');
      assert.deepEqual([...c.list()].sort(), [fp(1), fp(2), fp(3)]);
    } finally {
      fs.rmSync(cache, { recursive: true, force: true });
    }
  });

  test('remove (gc) rewrites the packs that held removed objects and keeps every other object', () => {
    const cache = tempCache();
    try {
      const a = new ResultStore(cache);
      for (let n = 0; n < 10; n++) a.write(fp(n), body(n));
      a.close();
      const b = new ResultStore(cache);
      for (let n = 10; n < 20; n++) b.write(fp(n), body(n));
      b.close();
      const before = packsOf(cache);
      fs.writeFileSync(path.join(cache, 'packs', `0000000000001-1-1${INDEX_EXT}`), 'an index whose pack is gone');
      const c = new ResultStore(cache);
      c.remove([fp(3), fp(4)]);
      assert.deepEqual(fs.readdirSync(path.join(cache, 'packs')).filter((f) => f.endsWith(INDEX_EXT)).length, 2, 'one index per pack, none left over');
      const after = packsOf(cache);
      assert.equal(after.length, 2, 'one pack rewritten, the other untouched');
      assert.ok(after.includes(before[1]!) && !after.includes(before[0]!));
      for (const store of [c, new ResultStore(cache)]) {
        assert.deepEqual([...store.list()].sort(), [...Array(20).keys()].filter((n) => n !== 3 && n !== 4).map(fp));
        for (const n of [0, 5, 9, 15]) assert.equal(store.read(fp(n))?.toString(), body(n).toString());
        assert.equal(store.read(fp(3)), null);
      }
    } finally {
      fs.rmSync(cache, { recursive: true, force: true });
    }
  });
});

const BOOKS = ['Alabama/Howard College/1849', 'California/College of California/1860', 'Virginia/Hampden-Sydney College/1851'];
const PAGES = 12;
const ARGS = ['build', '--json', '--poll-seconds', '0.05'];

describe('SIGKILL inside a packed-object write', { concurrency: 2 }, () => {
  // The 2nd record of the first batch (one page of each book per wave), and one in a later wave.
  for (const at of ['pack-append:2', 'pack-append:8']) {
    test(`SIGKILL at ${at} (half a record written): the next build finds every completed result and sends nothing twice`, { timeout: 120_000 }, async (t) => {
      const fake = await startFakeGemini({ groundTruth: await loadGroundTruth(path.join(REPO, 'dataset')), startTime: Date.now() });
      try {
        const dir = makeProject({ books: BOOKS });
        const env = { GEMINI_API_KEY: 'test-key', GOOGLE_GEMINI_BASE_URL: fake.url, OCRMAKE_RETRY_BASE_MS: '20' };
        const killed = await runCli(dir, ARGS, { env: { ...env, OCRMAKE_CRASH_AT: at } });
        assert.equal(killed.signal, 'SIGKILL', `the build died at ${at}\n${killed.stdout}\n${killed.stderr}`);
        // The outputs on disk when it died: each one's result was packed before it was written.
        const outputs = new Map<string, Buffer>();
        for (const f of walk(path.join(dir, 'dataset/output_results'))) outputs.set(path.relative(dir, f), fs.readFileSync(f));
        assert.ok(outputs.size > 0, 'outputs were written before the kill');
        const pack = packsOf(path.join(dir, '.ocrcache'));
        assert.equal(pack.length, 1, 'the killed build wrote one pack');
        const bytes = fs.readFileSync(path.join(dir, '.ocrcache/packs', pack[0]!));
        assert.ok(scanRecords(bytes, 0).end < bytes.length, 'the pack ends with a torn record');

        const next = await runCli(dir, ARGS, { env });
        assert.equal(next.code, 0, `${next.stdout}\n${next.stderr}`);
        expectEachSentOnce(fake, PAGES);
        // The outputs the killed build wrote were recorded or recovered, not built again.
        const rebuilt = next.events.filter((e) => e.event === 'built' && outputs.has(e.output));
        assert.deepEqual(rebuilt.map((e) => e.key), [], 'pages whose output was on disk were built again');
        for (const [file, b] of outputs) assert.ok(fs.readFileSync(path.join(dir, file)).equals(b), `${file} unchanged`);
        t.diagnostic(`killed with ${outputs.size} outputs written; next: ${JSON.stringify(summaryOf(next))}`);
        const status = JSON.parse((await runCli(dir, ['status', '--json'], { env })).stdout);
        assert.equal(status.counts.fresh, PAGES, JSON.stringify(status));
        // Every object in the store is whole: a new store reads each page's stored result.
        const store = new ResultStore(path.join(dir, '.ocrcache'));
        assert.ok([...store.list()].length >= PAGES);
        for (const f of store.list()) assert.ok(store.read(f) !== null, `object ${f} is readable`);
        await expectNothingToSend(dir, ARGS, env, fake);
      } finally {
        await fake.close();
      }
    });
  }
});
