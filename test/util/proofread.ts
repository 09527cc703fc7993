// A fake model for prompt-iteration scenarios (test/variants.test.ts, the README's workflow example): it
// reads better when told to proofread. Without PROOFREAD in the prompt every "College" comes back as
// "Colege" ("COLLEGE" as "COLEGE") and "Class" as "Clas"; with it, the page's own text (the default replier).
import fs from 'node:fs';
import path from 'node:path';
import { pageOcrReply, type GroundTruth, type Replier } from '../fake-gemini/index.js';
import { REPO } from './rig.js';

export const PROOFREAD = 'Proofread every block against the image before answering.';

export function proofreadingReplier(truth: GroundTruth): Replier {
  return (req) => {
    const json = pageOcrReply(req, truth) as { raw_ocr: { text_blocks: Array<{ text: string }> } };
    if (!req.promptText.includes(PROOFREAD)) {
      for (const b of json.raw_ocr.text_blocks) b.text = b.text.replace(/\b(Col|COL)(l|L)(ege|EGE)\b/g, '$1$3').replaceAll('Class', 'Clas');
    }
    return { json };
  };
}

/** prompts/page_ocr/v2.ejs: the sample's v1 prompt with the proofreading instruction. */
export function proofreadPrompt(): string {
  return fs.readFileSync(path.join(REPO, 'prompts/page_ocr/v1.ejs'), 'utf8').replace('Answer with JSON only', `${PROOFREAD}\n\nAnswer with JSON only`);
}
