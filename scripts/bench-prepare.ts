// What preparation does for the local engine on a huge page: a 4000×6000 newspaper-like scan (four columns
// of 36-px DejaVu Serif, 400 dpi in its PNG header, the whole sample collection's text as ground truth) is
// built with the real CLI under several settings, each in a fresh project, and per page we report wall and
// CPU time, peak RSS and the character error rate. "before" is the page as tesseract got it before issue #10
// (no downscale) both with the old fixed 150-dpi hint and with the file's own 400 dpi.
//
//   npm run bench-prepare [-- --runs N]     (needs GNU time at /usr/bin/time and fonts-dejavu-core)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderTextPage } from './text-page.js';
import { charErrorRate } from '../src/eval/text-metrics.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const CLI = path.join(REPO, 'dist/src/cli/main.js');

const CASES: { name: string; local: string; images: string }[] = [
  { name: 'before: full size, fixed 150-dpi hint', local: 'dpi: 150', images: 'maxLongEdge: null' },
  { name: 'before: full size, the file\'s 400 dpi', local: "dpi: 'auto'", images: 'maxLongEdge: null' },
  { name: 'prepared to 4000 px', local: "dpi: 'auto'", images: 'maxLongEdge: 4000' },
  { name: 'prepared to 3000 px (default)', local: "dpi: 'auto'", images: 'maxLongEdge: 3000' },
  { name: 'prepared to 2500 px', local: "dpi: 'auto'", images: 'maxLongEdge: 2500' },
  { name: 'prepared to 2000 px', local: "dpi: 'auto'", images: 'maxLongEdge: 2000' },
];

async function main(): Promise<void> {
  const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 1;
  if (!fs.existsSync('/usr/bin/time')) throw new Error('GNU time (/usr/bin/time) is needed for peak RSS; apt-get install time');
  const sharp = (await import('sharp')).default;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ocrmake-bench-prepare-'));
  const page = await renderTextPage(paragraphs(), { width: 4000, height: 6000, px: 36, columns: 4, margin: 200 });
  // A PNG, so that "before" is exactly what tesseract was given before: the file itself (sent as it is).
  const png = await sharp(page.grey, { raw: { width: page.width, height: page.height, channels: 1 } }).withMetadata({ density: 400 }).png().toBuffer();
  console.log(`page: 4000×6000, ${page.text.length} characters, PNG ${(png.length / 1e6).toFixed(1)} MB, 400 dpi; ${os.cpus().length} cores, Node ${process.version}`);
  console.log('| setting | image sent | wall s | CPU s | peak RSS MiB | CER % |\n|---|---|---:|---:|---:|---:|');
  for (const c of CASES) {
    for (let run = 0; run < runs; run++) {
      const dir = fs.mkdtempSync(path.join(work, 'p-'));
      fs.cpSync(path.join(REPO, 'rules'), path.join(dir, 'rules'), { recursive: true });
      fs.cpSync(path.join(REPO, 'prompts'), path.join(dir, 'prompts'), { recursive: true });
      fs.mkdirSync(path.join(dir, 'scans'));
      fs.writeFileSync(path.join(dir, 'scans/page.png'), png);
      fs.writeFileSync(path.join(dir, 'ocrfile.ts'), `import { defineOcrfile } from 'ocrmake';
import pageOcr from './rules/page_ocr.js';
export default defineOcrfile({
  pages: { image: 'scans/{book}.png' },
  target: 'out/{book}/{page}.json',
  rule: pageOcr,
  engine: 'local',
  execution: { concurrency: 1 },
  local: { ${c.local} },
  images: { local: { ${c.images} } },
});
`);
      const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', process.execPath, CLI, 'build', '--quiet'], { cwd: dir, encoding: 'utf8' });
      const [wall, user, sys, rssKb] = r.stderr.trim().split('\n').at(-1)!.split(' ').map(Number) as [number, number, number, number];
      if (r.status !== 0) throw new Error(`${c.name}: build failed\n${r.stdout}\n${r.stderr}`);
      const out = JSON.parse(fs.readFileSync(path.join(dir, 'out/page/1.json'), 'utf8'));
      const text = out.raw_ocr.text_blocks.map((b: { text: string }) => b.text).join('\n\n');
      const sent = preparedSize(dir) ?? '4000×6000 (the file)';
      console.log(`| ${c.name} | ${sent} | ${wall.toFixed(1)} | ${(user + sys).toFixed(1)} | ${Math.round(rssKb / 1024)} | ${(charErrorRate(page.text, text) * 100).toFixed(2)} |`);
    }
  }
  fs.rmSync(work, { recursive: true, force: true });
}

/** The size recorded for the prepared image, if one was made (none when the source went as it is). */
function preparedSize(dir: string): string | null {
  const root = path.join(dir, '.ocrcache/prepared');
  if (!fs.existsSync(root)) return null;
  for (const sub of fs.readdirSync(root)) {
    for (const f of fs.readdirSync(path.join(root, sub))) {
      if (!f.endsWith('.json')) continue;
      const m = JSON.parse(fs.readFileSync(path.join(root, sub, f), 'utf8')) as { width: number; height: number; dpi: number };
      return `${m.width}×${m.height}, ${m.dpi} dpi`;
    }
  }
  return null;
}

/** Every paragraph of the sample collection's ground truth, in file order. */
function paragraphs(): string[] {
  const root = path.join(REPO, 'dataset/ground_truth');
  const files = (fs.readdirSync(root, { recursive: true }) as string[]).filter((f) => f.endsWith('.txt')).sort();
  return files.flatMap((f) => fs.readFileSync(path.join(root, f), 'utf8').split(/\n\s*\n/).map((p) => p.replace(/\s+/g, ' ').trim()).filter(Boolean));
}

main().catch((err: unknown) => {
  console.error(`bench-prepare: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
