// A project with its own folder layout (not the sample's state/school/year): an ocrfile with the patterns
// given, a loose rule that accepts what the fake Gemini server answers (and what the local engine makes of a
// page), a prompt that prints only the page number and the previous page's context, and sample page images
// copied to the paths given.
import fs from 'node:fs';
import path from 'node:path';
import { makeProject, REPO } from './rig.js';

export const SAMPLE_PAGES = [1, 2, 3, 4].map((n) => `dataset/raw_image_dataset/Alabama/Howard College/1849/${n}.png`);

export interface LayoutOptions {
  image: string;
  target: string;
  allowList?: string;
  engine?: 'gemini' | 'gemini-batch' | 'local';
  /** execution settings, as TypeScript source (e.g. `{ maxAttempts: 2, outageSeconds: 2 }`). */
  execution?: string;
  /** More top-level ocrfile options, as TypeScript source (e.g. `context: { mode: 'draft' },`). */
  extra?: string;
  /** Path (relative to the project) → sample image to copy there (a path under the repository). */
  images: Record<string, string>;
  files?: Record<string, string | Buffer>;
}

export const LOOSE_RULE = `import { defineRule, z } from 'ocrmake';

const Block = z.object({ text: z.string() }).passthrough();
const Page = z.object({ raw_ocr: z.object({ text_blocks: z.array(Block) }).passthrough() }).passthrough();

export default defineRule({
  name: 'loose',
  prompt: 'prompts/loose.ejs',
  schema: Page,
  context: (previous: any) => previous.raw_ocr.text_blocks.map((b: any) => b.text).join('\\n').slice(-200),
  fromLocalOcr: (ocr: any) => ({ raw_ocr: { text_blocks: [{ text: ocr.text }] } }),
});
`;

export const LOOSE_PROMPT = `Transcribe page <%= page %> of this scan as text blocks.
<% if (previousContext) { -%>
--- PREVIOUS PAGE CONTEXT ---
<%- previousContext %>
--- END PREVIOUS PAGE CONTEXT ---
<% } -%>
`;

export function layoutOcrfile(o: Pick<LayoutOptions, 'image' | 'target' | 'allowList' | 'engine' | 'execution' | 'extra'>): string {
  return `import { defineOcrfile } from 'ocrmake';
import rule from './rules/loose.js';

export default defineOcrfile({
  pages: { image: '${o.image}',${o.allowList ? ` allowList: '${o.allowList}',` : ''} },
  target: '${o.target}',
  rule,
  engine: '${o.engine ?? 'gemini'}',
  execution: ${o.execution ?? '{ maxAttempts: 3, pollSeconds: 30 }'},${o.extra ? `\n  ${o.extra}` : ''}
});
`;
}

export function layoutProject(o: LayoutOptions): string {
  const files: Record<string, string | Buffer> = {
    'ocrfile.ts': layoutOcrfile(o),
    'rules/loose.ts': LOOSE_RULE,
    'prompts/loose.ejs': LOOSE_PROMPT,
    ...o.files,
  };
  for (const [to, from] of Object.entries(o.images)) files[to] = fs.readFileSync(path.join(REPO, from));
  const dir = makeProject({ dataset: false, files });
  return dir;
}
