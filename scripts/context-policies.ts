// The context-policies table of the README: `npm run policies` (default 5 books × 100 pages; `-- --books 3
// --pages 12` for a quick look). Each policy builds the same synthetic collection (a different tiny PNG a
// page, the loose rule of test/util/layout.ts) through the real CLI against the fake Gemini server, whose
// batches end only when the build has sent all it can (test/util/rounds.ts): one turnaround, one round.
import { parseArgs } from 'node:util';
import { tinyPng } from './png.js';
import { startFake } from '../test/util/gemini-rig.js';
import { layoutProject } from '../test/util/layout.js';
import { buildInRounds } from '../test/util/rounds.js';

const { values } = parseArgs({ options: { books: { type: 'string', default: '5' }, pages: { type: 'string', default: '100' } } });
const books = Number(values.books), pages = Number(values.pages);

const RUNS: Array<{ name: string; context: string; args?: string[] }> = [
  { name: 'exact', context: `{ mode: 'exact' }` },
  { name: 'draft (first-pass)', context: `{ mode: 'draft' }` },
  { name: 'draft (local)', context: `{ mode: 'draft', draft: 'local' }` },
  { name: 'speculative', context: `{ mode: 'speculative' }` },
  { name: 'exact + --deadline 24h (turnaround 1h)', context: `{ mode: 'exact', turnaround: '1h' }`, args: ['--deadline', '24h'] },
];

const files: Record<string, Buffer> = {};
for (let b = 1; b <= books; b++) for (let p = 1; p <= pages; p++) files[`scans/b${b}/${p}.png`] = tinyPng(`b${b}/${p}`);
console.log(`${books} books × ${pages} pages, batchSize 100, maxConcurrentBatches 10\n`);
console.log('| policy | rounds | requests | cost | notes |\n|---|---|---|---|---|');
for (const run of RUNS) {
  const dir = layoutProject({ image: 'scans/{book}/{page}.png', target: 'out/{book}/{page}.json', engine: 'gemini-batch', execution: '{ batchSize: 100, maxConcurrentBatches: 10, pollSeconds: 30 }', images: {}, files, extra: `context: ${run.context},` });
  const fake = await startFake({ batchTiming: 'manual' });
  try {
    const started = Date.now();
    const r = await buildInRounds(dir, fake, run.args ?? [], { timeoutMs: 3_600_000 });
    const s = r.events.findLast((e) => e.event === 'summary');
    if (r.code !== 0 || !s) throw new Error(`${run.name}: exit ${r.code}\n${r.stderr}`);
    const notes = [
      s.context ? `${s.context.drafts} drafts` : '',
      s.context?.speculated ? `${s.context.hits} hits, ${s.context.misses} misses` : '',
      s.tail ? `${s.tail.interactive} interactive (+$${s.tail.extraUsd.toFixed(2)}), ${s.tail.batch} by batch` : '',
      `${((Date.now() - started) / 1000).toFixed(1)} s`,
    ].filter(Boolean);
    console.log(`| ${run.name} | ${fake.rounds()} | ${s.requests} | $${s.costUsd.toFixed(2)} | ${notes.join('; ')} |`);
  } finally {
    await fake.close();
  }
}
