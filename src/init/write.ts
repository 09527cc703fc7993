// The files `ocrmake init` writes: the ocrfile, a rule and its prompt. The rule and prompt are those this
// ocrmake ships (rules/text.ts, rules/page_ocr.ts and their prompts), so a project starts from code that is
// type-checked and tested here; the prompt's "This page …" line is rewritten to name the project's own
// wildcards, since a template that prints a name the page does not have cannot render.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Layout } from './infer.js';

export type RuleChoice = 'text' | 'course-catalog';
export const RULE_CHOICES: readonly RuleChoice[] = ['text', 'course-catalog'];

/** Where this installation keeps the rules and prompts it ships (the package root: dist/src/init/ → ../../..). */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export const SHIPPED: Readonly<Record<RuleChoice, { rule: string; prompt: string; binding: string; about: string }>> = {
  text: { rule: 'rules/text.ts', prompt: 'prompts/text/v1.ejs', binding: 'text', about: 'a faithful transcription of each page, line and paragraph breaks kept' },
  'course-catalog': { rule: 'rules/page_ocr.ts', prompt: 'prompts/page_ocr/v1.ejs', binding: 'pageOcr', about: "the course-catalog extraction (the original pipeline's output model)" },
};

export interface PlannedFile {
  /** Absolute path. */
  readonly path: string;
  readonly content: string;
}

export interface InitChoices {
  root: string;
  /** Absolute path of the ocrfile to write. */
  ocrfile: string;
  rule: RuleChoice;
  engine: 'auto' | 'gemini-batch' | 'gemini' | 'local';
  layout: Layout;
  /** One line for the ocrfile's head comment: what was found. */
  found: string;
}

export function plan(c: InitChoices): PlannedFile[] {
  const shipped = SHIPPED[c.rule];
  const rulePath = path.join(c.root, shipped.rule);
  const promptText = fs.readFileSync(path.join(PACKAGE_ROOT, shipped.prompt), 'utf8');
  const wildcards = [...c.layout.bookWildcards, c.layout.order];
  return [
    { path: c.ocrfile, content: ocrfileText(c, path.relative(path.dirname(c.ocrfile), rulePath)) },
    { path: rulePath, content: fs.readFileSync(path.join(PACKAGE_ROOT, shipped.rule), 'utf8') },
    { path: path.join(c.root, shipped.prompt), content: fitPrompt(promptText, wildcards, c.layout) },
  ];
}

function ocrfileText(c: InitChoices, ruleRel: string): string {
  const shipped = SHIPPED[c.rule];
  const importPath = `./${ruleRel.split(path.sep).join('/').replace(/\.ts$/, '.js')}`;
  const q = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const pages = [`    image: ${q(c.layout.image)},`];
  if (c.layout.order !== 'page') pages.push(`    order: ${q(c.layout.order)},`);
  const engineNote: Record<InitChoices['engine'], string> = {
    auto: 'gemini-batch when GEMINI_API_KEY is set (environment or .env), else the offline local engine',
    'gemini-batch': 'the Gemini Batch API (half price; needs GEMINI_API_KEY)',
    gemini: 'interactive Gemini calls (needs GEMINI_API_KEY)',
    local: 'offline OCR with tesseract.js',
  };
  return `// Written by ocrmake init: ${c.found}.
// Check the patterns, then run \`ocrmake build\`. Every option is in the README, section "ocrfile.ts".
import { defineOcrfile } from 'ocrmake';
import ${shipped.binding} from ${q(importPath)};

export default defineOcrfile({
  pages: {
${pages.join('\n')}${c.layout.multiPage ? `\n    // No {${c.layout.order}} in the image pattern: each file is a multi-page source (PDF, TIFF), its pages numbered from 1.` : ''}
  },
  target: ${q(c.layout.target)},
  rule: ${shipped.binding}, // ${shipped.about}
  engine: ${q(c.engine)}, // ${engineNote[c.engine]}
});
`;
}

/**
 * The prompt with its "This page …" line naming exactly the wildcards this layout has: kept when it already
 * does (the course-catalog prompt on a state/school/year/page layout), else rewritten from the layout.
 */
export function fitPrompt(text: string, wildcards: readonly string[], layout: Layout): string {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => l.startsWith('This page ') && l.includes('<%'));
  const line = whereLine(layout);
  if (at < 0) return `${text.trimEnd()}\n\n${line}\n`;
  const used = [...lines[at]!.matchAll(/<%[=-]\s*([A-Za-z_][A-Za-z0-9_]*)\s*%>/g)].map((m) => m[1]!);
  if (used.length === wildcards.length && wildcards.every((w) => used.includes(w))) return text;
  lines[at] = line;
  return lines.join('\n');
}

/** `This page is page <%= page %> of the scan (volume <%= volume %>, collection <%= collection %>).` */
export function whereLine(layout: Layout): string {
  const books = [...layout.bookWildcards].reverse().map((w) => `${w} <%= ${w} %>`);
  const where = layout.multiPage ? `page <%= ${layout.order} %> of its file` : `page <%= ${layout.order} %> of the scan`;
  return `This page is ${where}${books.length ? ` (${books.join(', ')})` : ''}.`;
}
