// Prompt templates: EJS (the default, `.ejs` and any other extension) or Jinja (`.jinja`, `.j2`, rendered by
// nunjucks, a maintained Jinja-compatible engine). Both receive the page's wildcard values and the previous
// page's context, as `previousContext` and `previous_context` (the Jinja spelling of the original pipeline).
//
// Prompts are text for a model, not HTML: neither engine escapes anything (`William & Mary's` is sent as
// written, not as `William &amp; Mary&#39;s`).
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import ejs from 'ejs';
import type * as Nunjucks from 'nunjucks';
import { usageError } from '../errors.js';
import { sha256 } from '../util/hash.js';
import type { ContentHash } from '../types.js';

export type TemplateKind = 'ejs' | 'jinja';

export type PromptRenderer = (vars: Readonly<Record<string, string>>, previousContext: string | null) => string;

export interface CompiledPrompt {
  render: PromptRenderer;
  /**
   * What the template is made of: its text (and, for Jinja, every file of its folder, which `{% include %}`
   * and `{% extends %}` may read). Used by the fast path only: an unrelated file changing costs a re-render.
   */
  templateHash: ContentHash;
}

export const templateKind = (file: string): TemplateKind => (/\.(jinja2?|j2)$/i.test(file) ? 'jinja' : 'ejs');

/**
 * Compiles a prompt file once per run. `file` is the path shown in errors (relative to the project root);
 * `wildcards` are named in the hint when a template uses a name it is not given.
 */
export function compilePromptFile(absPath: string, file: string, wildcards: readonly string[]): CompiledPrompt {
  const text = fs.readFileSync(absPath, 'utf8');
  return templateKind(absPath) === 'jinja' ? compileJinja(absPath, file, text, wildcards) : compileEjs(absPath, file, text, wildcards);
}

/** Both spellings of the context, so one template text works whichever convention it follows. */
function data(vars: Readonly<Record<string, string>>, previousContext: string | null, none: '' | null): Record<string, unknown> {
  const context = previousContext ?? none;
  return { ...vars, previousContext: context, previous_context: context };
}

function compileEjs(absPath: string, file: string, text: string, wildcards: readonly string[]): CompiledPrompt {
  let template: ejs.TemplateFunction;
  try {
    // `escape` is what <%= %> applies: here nothing but turning null and undefined into nothing.
    template = ejs.compile(text, { filename: absPath, strict: false, escape: (v: unknown) => (v === undefined || v === null ? '' : String(v)) });
  } catch (err) {
    throw usageError([{ reason: 'prompt-syntax', file, message: `the prompt template does not compile: ${(err as Error).message.split('\n')[0]}`, hint: 'Fix the EJS syntax (<% %>, <%= %>, <%- %>) in this file.' }]);
  }
  const render: PromptRenderer = (vars, previousContext) => {
    try {
      return template(data(vars, previousContext, '')) as string;
    } catch (err) {
      throw usageError([{ reason: 'prompt-syntax', file, message: `the prompt template failed to render: ${(err as Error).message.split('\n').at(-1)}`, hint: hint(wildcards, 'previousContext') }]);
    }
  };
  return { render, templateHash: sha256(text) };
}

const hint = (wildcards: readonly string[], context: string): string =>
  `Templates receive the wildcards (${wildcards.join(', ')}) and ${context}; use only those names, or give the page that wildcard in the ocrfile's patterns.`;

/**
 * Jinja through nunjucks, set up as the original pipeline set up Jinja: no autoescape, an undefined name is
 * an error (StrictUndefined), templates found next to the prompt. Like Jinja, and unlike nunjucks' default,
 * line endings become `\n` and a single trailing newline is dropped, so the same template renders the same
 * text under both.
 */
function compileJinja(absPath: string, file: string, text: string, wildcards: readonly string[]): CompiledPrompt {
  // Loaded only for a Jinja prompt (nunjucks is CommonJS: a synchronous require keeps compilePrompt sync).
  const nunjucks = createRequire(import.meta.url)('nunjucks') as typeof Nunjucks;
  const dir = path.dirname(absPath);
  const loader = new (class extends nunjucks.Loader {
    getSource(name: string): Nunjucks.LoaderSource {
      const full = path.resolve(dir, name);
      if (path.relative(dir, full).startsWith('..')) throw new Error(`template "${name}" is outside ${path.dirname(file)}`);
      return { src: jinjaSource(fs.readFileSync(full, 'utf8')), path: full, noCache: true };
    }
  })();
  const env = new nunjucks.Environment(loader, { autoescape: false, throwOnUndefined: true });
  let template: Nunjucks.Template;
  try {
    template = new nunjucks.Template(jinjaSource(text), env, absPath, true);
  } catch (err) {
    throw usageError([{ reason: 'prompt-syntax', file, message: `the prompt template does not compile: ${jinjaMessage(err, absPath)}`, hint: 'Fix the Jinja syntax ({% %}, {{ }}, {# #}) in this file.' }]);
  }
  const render: PromptRenderer = (vars, previousContext) => {
    try {
      return template.render(data(vars, previousContext, null));
    } catch (err) {
      throw usageError([{ reason: 'prompt-syntax', file, message: `the prompt template failed to render: ${jinjaMessage(err, absPath)}`, hint: hint(wildcards, 'previous_context') }]);
    }
  };
  return { render, templateHash: folderHash(dir, text) };
}

/** Jinja's reading of a source: newlines normalised to `\n`, one trailing newline dropped (keep_trailing_newline off). */
function jinjaSource(text: string): string {
  const lf = text.replace(/\r\n?/g, '\n');
  return lf.endsWith('\n') ? lf.slice(0, -1) : lf;
}

/** nunjucks' `(path) [Line 3, Column 5]\n  Error: …` as one line without the absolute path. */
function jinjaMessage(err: unknown, absPath: string): string {
  const text = String((err as Error)?.message ?? err).replaceAll(`(${absPath})`, '').trim();
  const where = /\[Line (\d+), Column (\d+)\]/.exec(text);
  const what = text.split('\n').map((l) => l.trim()).filter((l) => l && !/^\[Line/.test(l)).at(-1) ?? text;
  const clean = what.replace(/^(Template render error|Error):\s*/i, '').replace(/^attempted to output null or undefined value$/, 'it prints a name that is not defined (or is null)');
  return where ? `line ${where[1]}: ${clean}` : clean;
}

function folderHash(dir: string, text: string): ContentHash {
  const parts = [text];
  for (const name of fs.readdirSync(dir).sort()) {
    const full = path.join(dir, name);
    try {
      if (fs.statSync(full).isFile()) parts.push(name, fs.readFileSync(full, 'utf8'));
    } catch {
      // A file that vanished or cannot be read is not a template this prompt can use.
    }
  }
  return sha256(JSON.stringify(parts));
}
