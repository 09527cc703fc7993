// The README's example outputs are what the commands print: scripts/readme-examples.ts runs them for real on
// the sample (local engine and the fake Gemini server) and this test fails when README.md differs from what
// it would write. `npm run readme` rewrites the examples. The runs are made once per version of the code
// and sample (util/fixtures.ts): a suite run after an unchanged build reuses them, and takes a moment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { README_INPUTS, readmeExamples } from '../scripts/readme-examples.js';
import { applyExamples, README } from '../scripts/readme/examples.js';
import { firstDifferences } from '../scripts/readme-examples.js';

test('every README example is what its command prints now (npm run readme rewrites them)', async () => {
  const examples = await readmeExamples({ fresh: false });
  const readme = fs.readFileSync(README, 'utf8');
  const { text, problems } = applyExamples(readme, examples);
  assert.deepEqual(problems, [], 'README.md and the script agree on the example blocks');
  assert.ok(examples.size >= 20, `the script made ${examples.size} examples`);
  if (text !== readme) assert.fail(`README.md examples are out of date: run npm run readme and commit README.md.\n${firstDifferences(text, readme)}`);
  assert.ok(README_INPUTS.includes('dist/src'));
});
