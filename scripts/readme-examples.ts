// `npm run readme`: runs the README's examples for real (scripts/readme/examples.ts) and writes their
// outputs into README.md between the `<!-- example:NAME -->` markers. `--check` writes nothing and exits 1
// (with the differences) when README.md is not what the script would write; test/readme.test.ts does the
// same, so examples cannot drift from the program.
//
// The README also gets a stamp: the hash of everything the examples depend on (README_INPUTS) and of the
// blocks written. While both still match, the examples are by construction what the script would write
// (it is deterministic), so the test need not run them again; any change to the code, the sample or a
// block makes it run them.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cached, inputsKey } from '../test/util/fixtures.js';
import { applyExamples, collectExamples, README, type Examples } from './readme/examples.js';

/** What the examples' outputs depend on: the code that runs and prints them, the sample, the test server. */
export const README_INPUTS = ['dist/src', 'dist/scripts/readme', 'dist/test/util', 'dist/test/fake-gemini', 'rules', 'prompts', 'dataset/raw_image_dataset', 'dataset/label_to_curricular', 'dataset/ground_truth', 'ocrfile.ts', 'package-lock.json'];

/** The examples: run for real, or (unless `fresh`) the runs kept for this very code and sample. */
export async function readmeExamples(o: { fresh: boolean }): Promise<Examples> {
  const entries = await cached('readme-examples', README_INPUTS, async () => [...(await collectExamples())], o.fresh);
  return new Map(entries);
}

const STAMP = /<!-- readme-examples: inputs=([0-9a-f]+) blocks=([0-9a-f]+) -->/;

/** The hash of every example block of a README (markers included), in order. */
export function blocksHash(readme: string): string {
  const blocks = readme.match(/<!-- example:[\w-]+ -->\n[\s\S]*?\n<!-- \/example:[\w-]+ -->/g) ?? [];
  return crypto.createHash('sha256').update(blocks.join('\n')).digest('hex').slice(0, 16);
}

/** Whether the README's stamp says its blocks were written, untouched since, for the code and sample there are now. */
export function stampIsCurrent(readme: string): boolean {
  const m = STAMP.exec(readme);
  return !!m && m[1] === inputsKey(README_INPUTS) && m[2] === blocksHash(readme);
}

/** The README with its stamp for its current blocks (the stamp line must be there: it marks the place). */
export function stamped(readme: string): string {
  return readme.replace(STAMP, `<!-- readme-examples: inputs=${inputsKey(README_INPUTS)} blocks=${blocksHash(readme)} -->`);
}

/** The first lines where two texts differ, for a message a person can act on. */
export function firstDifferences(want: string, have: string, max = 12): string {
  const a = want.split('\n'), b = have.split('\n');
  const out: string[] = [];
  for (let i = 0; i < Math.max(a.length, b.length) && out.length < max * 2; i++) {
    if (a[i] === b[i]) continue;
    out.push(`README.md:${i + 1}`, `  now:      ${b[i] ?? '(end of file)'}`, `  expected: ${a[i] ?? '(end of file)'}`);
  }
  return out.join('\n');
}

async function main(): Promise<number> {
  const check = process.argv.includes('--check');
  const readme = fs.readFileSync(README, 'utf8');
  // npm run readme always runs the commands; what it made is kept for the test (same code, same outputs).
  const applied = applyExamples(readme, await readmeExamples({ fresh: true }));
  const problems = STAMP.test(readme) ? applied.problems : [...applied.problems, 'README.md has no stamp line (<!-- readme-examples: inputs=0 blocks=0 -->)'];
  if (problems.length > 0) {
    process.stderr.write(`${problems.join('\n')}\n`);
    return 1;
  }
  const text = stamped(applied.text);
  if (text === readme) {
    process.stdout.write('README.md examples are up to date\n');
    return 0;
  }
  if (check) {
    process.stderr.write(`README.md examples are out of date (npm run readme rewrites them):\n${firstDifferences(text, readme)}\n`);
    return 1;
  }
  fs.writeFileSync(README, text);
  process.stdout.write('README.md examples rewritten from real runs\n');
  return 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`${(err as Error).stack ?? err}\n`);
      process.exit(1);
    },
  );
}
