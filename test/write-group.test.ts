// Group commit (src/util/fs.ts): a file whose write failed must not be waited for at the sync point. Found
// under load in the bad-input catalogue: an output whose folder is a file failed its page, as it should, and
// then the cache's save failed too, flushing that path (ENOTDIR), so the page that was built lost its record.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { syncGroup, WriteError, writeFileAtomic } from '../src/util/fs.js';
import { tempDir } from './util/rig.js';

test('a grouped write that failed is not flushed at the sync point; the ones that landed are', () => {
  const dir = tempDir('ocrmake-group-');
  try {
    const staging = path.join(dir, 'staging');
    fs.mkdirSync(staging);
    fs.writeFileSync(path.join(dir, 'b'), 'a file where a folder should be');
    writeFileAtomic(path.join(dir, 'a.json'), '{"a":1}', staging, { group: true });
    assert.throws(() => writeFileAtomic(path.join(dir, 'b', '1.json'), '{"b":1}', staging, { group: true }), (e: unknown) => e instanceof WriteError && e.code === 'ENOTDIR');
    assert.doesNotThrow(() => syncGroup());
    assert.equal(fs.readFileSync(path.join(dir, 'a.json'), 'utf8'), '{"a":1}');
    assert.deepEqual(fs.readdirSync(staging), [], 'no temp file is left behind');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
