// The ocrfile and its rules are transpiled once per content, not once per folder (src/config/transpile-cache.ts):
// a copy of a project elsewhere reuses what the first transpiled, an edit is transpiled again, and a file
// that does not compile is never kept (its error still names it). The children get their own temp folder, so
// what is counted is theirs alone.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { makeProject, runCli, tempDir } from './util/rig.js';

const BOOK = 'Alabama/Howard College/1849';

test('a copy of a project in another folder transpiles nothing again; an edit does; a syntax error is not kept', async () => {
  const tmp = tempDir('ocrmake-transpile-');
  try {
    const env = { TMPDIR: tmp };
    const entries = () => fs.readdirSync(path.join(tmp, 'ocrmake-jiti-cache', 'by-content')).filter((f) => f.endsWith('.js')).length;
    const a = makeProject({ books: [BOOK] });
    const first = await runCli(a, ['status'], { env });
    assert.equal(first.code, 0, first.stderr);
    assert.equal(entries(), 2, 'the ocrfile and its rule');

    const b = makeProject({ books: [BOOK] });
    const copy = await runCli(b, ['status'], { env });
    assert.equal(copy.code, 0, copy.stderr);
    assert.equal(entries(), 2, 'the same files in another folder: nothing transpiled again');

    fs.appendFileSync(path.join(b, 'rules/page_ocr.ts'), '\n// edited\n');
    assert.equal((await runCli(b, ['status'], { env })).code, 0);
    assert.equal(entries(), 3, 'the edited rule');

    fs.appendFileSync(path.join(b, 'rules/page_ocr.ts'), '\nconst = 1;\n');
    const broken = await runCli(b, ['status'], { env });
    assert.equal(broken.code, 2);
    assert.match(broken.stderr, /rules\/page_ocr\.ts at \d+:\d+: syntax error/);
    assert.equal(entries(), 3, 'a file that does not compile is not kept');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
