#!/usr/bin/env node
// npm's `prepare`: compiles the TypeScript into dist/ — but only when dist/ is older than a source, and
// saying so first. npm runs `prepare` after `npm install` in the repository, and again each time the folder is
// installed elsewhere (`npm install -g .`, `npm install /path/to/ocrmake`, and the first `npx ocrmake`,
// which installs the folder into npx's own cache): with dist/ up to date those take a moment, not a silent
// half-minute of compiling. Plain JavaScript, as it runs before anything is compiled.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SOURCES = ['src', 'test', 'scripts'];

/** The first source whose compiled .js is missing or older than it (or the config), or null. */
function stale() {
  const config = fs.statSync(path.join(root, 'tsconfig.json')).mtimeMs;
  const walk = (dir) => {
    for (const e of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = `${dir}/${e.name}`;
      if (e.isDirectory()) {
        const found = walk(rel);
        if (found) return found;
      } else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) {
        const out = path.join(root, 'dist', rel.replace(/\.ts$/, '.js'));
        let built;
        try {
          built = fs.statSync(out).mtimeMs;
        } catch {
          return `${rel} is not compiled yet`;
        }
        if (built < fs.statSync(path.join(root, rel)).mtimeMs || built < config) return `${rel} changed`;
      }
    }
    return null;
  };
  for (const dir of SOURCES) {
    if (!fs.existsSync(path.join(root, dir))) continue;
    const found = walk(dir);
    if (found) return found;
  }
  return null;
}

const why = stale();
if (why === null) {
  process.exit(0);
}
process.stderr.write(`ocrmake: compiling TypeScript into dist/ (${why}); this takes 10–30 s, once after an install or update\n`);
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
if (!fs.existsSync(tsc)) {
  process.stderr.write('ocrmake: cannot compile: TypeScript is not installed here (npm install, with dev dependencies, installs it)\n');
  process.exit(1);
}
const started = Date.now();
const r = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.json')], { stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);
process.stderr.write(`ocrmake: compiled in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
