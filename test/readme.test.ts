// The README's example outputs are what the commands print: scripts/readme-examples.ts runs them for real on
// the sample (local engine and the fake Gemini server) and this test fails when README.md differs from what
// it would write. `npm run readme` rewrites the examples.
//
// Running them costs ~25 s of CPU, so the test reuses what it can: when the README's stamp says its blocks
// were written (and not touched since) for exactly this code and sample, they are what the script would
// write, and nothing is run; otherwise the runs are made once per version of the code (util/fixtures.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { firstDifferences, readmeExamples, stampIsCurrent } from '../scripts/readme-examples.js';
import { applyExamples, README } from '../scripts/readme/examples.js';

test('every README example is what its command prints now (npm run readme rewrites them)', async (t) => {
  const readme = fs.readFileSync(README, 'utf8');
  assert.match(readme, /<!-- readme-examples: inputs=[0-9a-f]+ blocks=[0-9a-f]+ -->/, 'README.md has its stamp line');
  if (stampIsCurrent(readme)) {
    t.diagnostic('the examples were written for this very code and sample, and not edited since: not run again');
    return;
  }
  const examples = await readmeExamples({ fresh: false });
  const { text, problems } = applyExamples(readme, examples);
  assert.deepEqual(problems, [], 'README.md and the script agree on the example blocks');
  assert.ok(examples.size >= 20, `the script made ${examples.size} examples`);
  // Column padding is not compared: a table's widths follow its widest cell, and on a busy machine a run
  // can take over a minute (`1 min 5 s`), widening a column without the command printing anything else.
  const padded = (s: string) => s.replace(/ {2,}/g, '  ');
  if (padded(text) !== padded(readme)) assert.fail(`README.md examples are out of date: run npm run readme and commit README.md.\n${firstDifferences(text, readme)}`);
  t.diagnostic('the examples are current; their stamp is not (npm run readme refreshes it, and spares this test the runs)');
});

test('the stamp of the examples changes with the code and with any edit of a block', async () => {
  const { blocksHash } = await import('../scripts/readme-examples.js');
  const readme = fs.readFileSync(README, 'utf8');
  const edited = readme.replace(/(<!-- example:quick-start-noop -->\n```\n)/, '$1# edited by hand\n');
  assert.notEqual(edited, readme);
  assert.notEqual(blocksHash(edited), blocksHash(readme));
  assert.equal(stampIsCurrent(edited), false, 'a hand-edited block is checked for real');
  assert.equal(stampIsCurrent(readme.replace(/inputs=[0-9a-f]+/, 'inputs=0000')), false, 'other code is checked for real');
});
