// The text rule: a faithful transcription of any printed page — books, registers, newspapers, letters.
// The text keeps the page's line breaks, with a blank line between paragraphs, headings and other blocks;
// nothing is corrected or modernised. `ocrmake init` writes this rule by default.
//
// Pages are independent (no context from the previous page): every page of a collection can go out in
// the first batch, and a page is rebuilt only when its own image, the prompt or this rule changes. Give
// the rule a `context` function when pages read better knowing how the previous one ended.
import { defineRule, z } from 'ocrmake';
import type { LocalOcrResult } from 'ocrmake';

export const PageText = z.object({
  text: z
    .string()
    .describe('every piece of text on the page in reading order, as printed: one line of print per line, a blank line between paragraphs and blocks, [illegible] for what cannot be read'),
  page_number: z.string().nullable().describe('the page number printed on the page, as printed (a numeral, roman or arabic); null when none is visible'),
});
export type PageText = z.infer<typeof PageText>;

/** The local engine's reading: tesseract's lines, paragraphs separated by a blank line. */
export function fromLocalOcr(ocr: LocalOcrResult): PageText {
  const paragraphs = ocr.blocks.flatMap((b) => b.paragraphs.map((p) => p.lines.map((l) => l.text.trimEnd()).filter((l) => l.length > 0).join('\n')));
  return {
    text: paragraphs.filter((p) => p.length > 0).join('\n\n'),
    // Local OCR cannot tell a printed page number from any other figure on the page.
    page_number: null,
  };
}

export default defineRule<PageText>({
  name: 'text',
  version: 1,
  prompt: 'prompts/text/v1.ejs',
  schema: PageText,
  // No model: ocrmake's default (README "Models and prices"). Transcribing needs little reasoning, and
  // thinking tokens are billed as output.
  thinking: { level: 'low' },
  generationConfig: { maxOutputTokens: 8192 },
  fromLocalOcr,
});
