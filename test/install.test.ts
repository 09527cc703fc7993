// Install and run anywhere (issue 11, Done when 1): a new folder outside the repository, scans copied in
// under a layout of its own, and three commands — install ocrmake from the repository, `ocrmake init`,
// `ocrmake build` — build every page with the local engine, no file edited.
//
// The install is npm's own install of the repository folder (`npm install -g <repo>` with a private prefix):
// the installed `ocrmake` is the repository's, as after `npm install -g .` in a clone. Packing a tarball and
// installing it (checked by hand: README "Your own collection") resolves every dependency again, which takes
// ~12 s with the registry and fails offline; what the tarball holds is checked below with `npm pack --dry-run`.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { cleanEnv, parseNdjson, REPO, tempDir } from './util/rig.js';

const SAMPLE = path.join(REPO, 'dataset/raw_image_dataset/Alabama/Howard College/1849');
const base = tempDir('ocrmake-install-');
after(() => fs.rmSync(base, { recursive: true, force: true }));

/** A command as a user types it (the installed `ocrmake` is found on PATH), with no Gemini key. */
function run(cwd: string, command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('install and run anywhere', { concurrency: 1 }, () => {
  test('install from the repo, ocrmake init, ocrmake build: every page built with the local engine, no file edited', async () => {
    assert.ok(path.relative(REPO, base).startsWith('..'), 'the new folder is outside the repository');
    const prefix = path.join(base, 'global');
    const project = path.join(base, 'my-scans');
    for (const [to, from] of [['Alpha/v1/page-0001.png', '1.png'], ['Alpha/v1/page-0002.png', '2.png'], ['Beta/v2/page-0001.png', '3.png']] as const) {
      fs.mkdirSync(path.dirname(path.join(project, 'scans', to)), { recursive: true });
      fs.copyFileSync(path.join(SAMPLE, from), path.join(project, 'scans', to));
    }
    const env = { ...cleanEnv(), PATH: `${path.join(prefix, 'bin')}${path.delimiter}${process.env['PATH'] ?? ''}` };

    // 1. Install (npm from PATH, as a user has it; offline: the repository brings its own node_modules).
    const install = await run(project, 'npm', ['install', '-g', '--prefix', prefix, REPO, '--offline', '--no-audit', '--no-fund', '--loglevel=error'], env);
    assert.equal(install.code, 0, install.stderr);
    // 2. init
    const init = await run(project, 'ocrmake', ['init'], env);
    assert.equal(init.code, 0, init.stderr);
    assert.match(init.stdout, /pattern {2}scans\/\{collection\}\/\{volume\}\/page-\{page\}\.png/);
    assert.match(init.stdout, /books {4}2 \(\{collection\}\/\{volume\}\): Alpha\/v1: 2 pages \(1–2\); Beta\/v2: 1 page \(1\)/);
    // 3. build
    const build = await run(project, 'ocrmake', ['build', '--json'], env);
    assert.equal(build.code, 0, build.stderr);
    const summary = parseNdjson(build.stdout).findLast((e) => e.event === 'summary');
    assert.deepEqual([summary.built, summary.failed, summary.requests], [3, 0, 3]);
    const out = JSON.parse(fs.readFileSync(path.join(project, 'ocr/Alpha/v1/page-0002.json'), 'utf8'));
    assert.match(out.text, /Howard College|HOWARD COLLEGE/i, 'the text rule transcribed the page');
    assert.ok(out.text.includes('\n\n'), 'paragraphs are kept apart');
    assert.equal(fs.existsSync(path.join(project, 'node_modules')), false, "the ocrfile's import of 'ocrmake' resolved to the install, not to a local copy");
  });

  test('the packed package holds the compiled CLI and the rules and prompts init copies, and nothing of the tests', () => {
    const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts', '--loglevel=error'], { cwd: REPO, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const files: string[] = JSON.parse(r.stdout)[0].files.map((f: { path: string }) => f.path);
    for (const f of ['dist/src/cli/main.js', 'dist/src/index.js', 'dist/src/index.d.ts', 'rules/text.ts', 'rules/page_ocr.ts', 'prompts/text/v1.ejs', 'prompts/page_ocr/v1.ejs', 'README.md']) {
      assert.ok(files.includes(f), `the package has ${f}`);
    }
    assert.deepEqual(files.filter((f) => /^(dist\/test|test|dataset|src|scripts)\//.test(f)), []);
  });

  test('prepare compiles only when a source is newer than its compiled file, so installs of a built clone are quick', () => {
    const fresh = spawnSync(process.execPath, [path.join(REPO, 'scripts/prepare.mjs')], { cwd: REPO, encoding: 'utf8' });
    assert.deepEqual([fresh.status, fresh.stderr], [0, ''], 'dist/ is up to date: nothing to do, nothing said');
    // A stale copy (no TypeScript installed in it): it says what it is about to do before anything else.
    const copy = path.join(base, 'stale');
    fs.mkdirSync(path.join(copy, 'scripts'), { recursive: true });
    fs.mkdirSync(path.join(copy, 'src'));
    fs.copyFileSync(path.join(REPO, 'scripts/prepare.mjs'), path.join(copy, 'scripts/prepare.mjs'));
    fs.writeFileSync(path.join(copy, 'tsconfig.json'), '{}');
    fs.writeFileSync(path.join(copy, 'src/a.ts'), 'export const a = 1;\n');
    const stale = spawnSync(process.execPath, [path.join(copy, 'scripts/prepare.mjs')], { encoding: 'utf8' });
    assert.equal(stale.status, 1);
    assert.match(stale.stderr, /^ocrmake: compiling TypeScript into dist\/ \(src\/a\.ts is not compiled yet\); this takes 10–30 s/);
    assert.match(stale.stderr, /TypeScript is not installed here/);
  });
});
