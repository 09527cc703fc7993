// Loads ocrfile.ts and validates it in three steps (STYLE §9): zod parse of the export, normalisation into
// the read-only ResolvedConfig (defaults live only there), then named cross-field checks. Every problem is
// collected and reported at once, each with its file and config path.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';
import { usageError, type Problem } from '../errors.js';
import { parsePattern, type Pattern } from '../graph/pattern.js';
import { canonicalJson, sha256 } from '../util/hash.js';
import { relPath } from '../util/fs.js';
import { knownKeys, OcrfileShape } from './schema.js';
import { DEFAULTS, DEFAULT_MODEL, type Filter, type ResolvedConfig, type ResolvedRule } from './resolved.js';
import type { FilterValue } from './define.js';

export const OCRFILE = 'ocrfile.ts';

export async function loadConfig(root: string, configFile = OCRFILE): Promise<ResolvedConfig> {
  const file = path.resolve(root, configFile);
  const rel = relPath(root, file);
  if (!fs.existsSync(file)) {
    throw usageError([{ reason: 'ocrfile-missing', file: rel, message: 'no ocrfile found', hint: `Create ${rel} in the project root (see README "ocrfile.ts"), or run ocrmake from the folder that has one.` }]);
  }
  const { exported, imports } = await importOcrfile(root, file);
  const parsed = OcrfileShape.safeParse(exported, { reportInput: true });
  if (!parsed.success) throw usageError(parsed.error.issues.flatMap((issue) => shapeProblems(rel, issue)));
  const problems: Problem[] = [];
  const config = normalise(root, file, imports, parsed.data, problems);
  if (config) checkConfig(config, problems);
  if (problems.length > 0 || !config) throw usageError(problems);
  return config;
}

async function importOcrfile(root: string, file: string): Promise<{ exported: unknown; imports: string[] }> {
  // require, not import: jiti is CommonJS, and an ESM import of it first scans its 190 kB bundle for export
  // names (~40 ms of every command's start).
  const { createJiti } = createRequire(import.meta.url)('jiti') as typeof import('jiti');
  const here = fileURLToPath(import.meta.url);
  // ocrfiles and rules import 'ocrmake' (and maybe 'zod'): resolve both to this very installation, natively,
  // so a project needs no node_modules of its own and schemas are built by the zod we validate with.
  const jiti = createJiti(file, {
    alias: { ocrmake: path.resolve(path.dirname(here), '../index.js') },
    nativeModules: ['ocrmake', 'zod'],
    moduleCache: false,
    fsCache: path.join(os.tmpdir(), 'ocrmake-jiti-cache'),
    interopDefault: true,
  });
  const before = new Set(Object.keys(jiti.cache ?? {}));
  let ns: Record<string, unknown> | null;
  try {
    ns = (await jiti.import(file)) as Record<string, unknown> | null;
  } catch (err) {
    throw usageError([syntaxProblem(root, file, err)]);
  }
  // `export default defineOcrfile({...})`, or a CommonJS `module.exports = {...}` (which has no `default`).
  const exported = ns && 'default' in ns ? ns['default'] : ns && 'pages' in ns ? ns : undefined;
  if (exported === undefined) {
    const rel = relPath(root, file);
    throw usageError([{ reason: 'config-invalid', file: rel, message: 'no default export', hint: 'End it with export default defineOcrfile({ pages, target, rule }) (README "ocrfile.ts").' }]);
  }
  const imports = Object.keys(jiti.cache ?? {}).filter((f) => !before.has(f) && f.startsWith(root) && !f.includes('node_modules'));
  return { exported, imports: [...new Set([file, ...imports])] };
}

/**
 * A load failure of the ocrfile or of a file it imports, as a problem naming the file at fault and the line.
 * jiti reports parse errors as `ParseError: <what>\n <file>:<line>:<column>`; runtime errors (a typo'd
 * name, a throw, a missing import) carry the position in their stack, which jiti source-maps to the .ts file.
 */
function syntaxProblem(root: string, file: string, err: unknown): Problem {
  const e = err as (Error & { code?: string; loc?: { line: number; column: number } }) | undefined;
  const text = String(e?.message ?? err);
  const parse = /^(?:\w*Error: )?ParseError: (.*?)\s*\n\s*(\/.+?):(\d+):(\d+)\s*$/s.exec(text);
  let where: { file: string; line: number; column: number } | null = null;
  let message: string;
  if (parse) {
    where = { file: parse[2]!, line: Number(parse[3]), column: Number(parse[4]) };
    message = `syntax error: ${parse[1]}`;
  } else {
    where = userFrame(root, e?.stack ?? '');
    const first = text.split('\n')[0]!.trim();
    message = e?.code === 'MODULE_NOT_FOUND' || e?.code === 'ERR_MODULE_NOT_FOUND' ? first.replace(/^Cannot/, 'cannot') : `loading it threw ${e?.name ?? 'Error'}: ${first}`;
  }
  if (!where && e?.loc) where = { file, line: e.loc.line, column: e.loc.column + 1 };
  const culprit = where && isInside(root, where.file) ? where.file : file;
  const rel = relPath(root, culprit);
  const line = where && culprit === where.file ? where.line : null;
  const importedBy = culprit === file ? '' : ` (imported by ${relPath(root, file)})`;
  return {
    reason: 'ocrfile-syntax',
    file: rel,
    ...(where && line !== null ? { at: `${where.line}:${where.column}` } : {}),
    message: `${message.replaceAll(root + path.sep, '')}${importedBy}`,
    hint: `Fix ${line !== null ? `line ${line} of ${rel}` : rel} and run again; nothing was built.`,
  };
}

/** The first stack frame in a project file (not ocrmake's, not node_modules'). */
function userFrame(root: string, stack: string): { file: string; line: number; column: number } | null {
  for (const m of stack.matchAll(/(?:\(|at )((?:file:\/\/)?\/[^():\n]+):(\d+):(\d+)\)?$/gm)) {
    const f = m[1]!.startsWith('file://') ? fileURLToPath(m[1]!) : m[1]!;
    if (isInside(root, f) && !f.split(path.sep).includes('node_modules')) return { file: f, line: Number(m[2]), column: Number(m[3]) };
  }
  return null;
}

const isInside = (root: string, file: string): boolean => !path.relative(root, file).startsWith('..') && !path.isAbsolute(path.relative(root, file));

/** One zod issue as problems at config paths, with the value found and the options known at that place. */
function shapeProblems(rel: string, issue: z.core.$ZodIssue): Problem[] {
  const at = issue.path.map(String).join('.');
  const hint = 'Fix this value in the ocrfile (README "ocrfile.ts" lists every option).';
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeys(at);
    return issue.keys.map((key) => {
      const near = known ? closest(key, known) : null;
      return {
        reason: 'config-invalid' as const,
        file: rel,
        at: at ? `${at}.${key}` : key,
        message: `unknown option "${key}"`,
        hint: `${near ? `Did you mean "${near}"? ` : ''}${known ? `Options here: ${known.join(', ')}.` : 'Remove it.'}`,
      };
    });
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) {
    return [{ reason: 'config-invalid', file: rel, at: at || '(default export)', message: `missing: expected ${issue.expected === 'object' ? 'an' : 'a'} ${issue.expected}`, hint: `Add ${at.split('.').at(-1) || 'it'} (README "ocrfile.ts" lists every option).` }];
  }
  const got = 'input' in issue && issue.input !== undefined && issue.code !== 'invalid_union' ? ` (got ${show(issue.input)})` : '';
  return [{ reason: 'config-invalid', file: rel, at: at || '(default export)', message: `${issue.message}${got}`, hint }];
}

function show(v: unknown): string {
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'object' && v !== null) return Array.isArray(v) ? 'an array' : 'an object';
  const s = typeof v === 'string' ? JSON.stringify(v) : String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** The known name nearest to a misspelt one (at most a third of its letters off), or null. */
function closest(name: string, known: readonly string[]): string | null {
  let best: string | null = null, bestD = Math.max(1, Math.floor(name.length / 3)) + 1;
  for (const k of known) {
    const d = editDistance(name.toLowerCase(), k.toLowerCase());
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best;
}

/** Edits (insert, delete, substitute, swap two neighbours) between two names. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i]!, up = d[i - 1]!;
      row[j] = Math.min(up[j]! + 1, row[j - 1]! + 1, up[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

type Parsed = z.infer<typeof OcrfileShape>;

function normalise(root: string, file: string, imports: string[], input: Parsed, problems: Problem[]): ResolvedConfig | null {
  const rel = relPath(root, file);
  const pattern = (source: string, at: string): Pattern | null => {
    const r = parsePattern(source);
    if (r.ok) return r.pattern;
    problems.push({ reason: 'pattern-invalid', file: rel, at, message: r.message, hint: 'Patterns are relative paths with {name} wildcards and {a,b} alternatives.' });
    return null;
  };
  const image = pattern(input.pages.image, 'pages.image');
  const allowList = input.pages.allowList === undefined ? null : pattern(input.pages.allowList, 'pages.allowList');
  const target = pattern(input.target, 'target');
  if (!image || !target || (input.pages.allowList !== undefined && !allowList)) return null;
  const order = input.pages.order ?? 'page';

  const r = input.rule;
  let jsonSchema: Record<string, unknown> = {};
  try {
    const { $schema: _ignored, ...rest } = z.toJSONSchema(r.schema, { unrepresentable: 'any' }) as Record<string, unknown>;
    jsonSchema = rest;
  } catch (err) {
    problems.push({ reason: 'config-invalid', file: rel, at: 'rule.schema', message: `the schema cannot be turned into JSON Schema: ${(err as Error).message}`, hint: 'Avoid transforms, dates and custom types in the output schema.' });
  }
  const promptPath = path.resolve(root, r.prompt);
  const rule: ResolvedRule = {
    name: r.name,
    version: String(r.version ?? 1),
    promptFile: relPath(root, promptPath),
    promptPath,
    schema: r.schema,
    jsonSchema,
    schemaHash: sha256(canonicalJson(jsonSchema)),
    context: r.context ?? null,
    model: r.model ?? DEFAULT_MODEL,
    generationConfig: Object.freeze({ ...(r.generationConfig ?? {}) }),
    fromLocalOcr: r.fromLocalOcr ?? null,
    fromLocalOcrHash: r.fromLocalOcr ? sha256(String(r.fromLocalOcr)) : null,
  };

  const filters: Filter[] = Object.entries(input.filters ?? {}).map(([wildcard, value]) => makeFilter(wildcard, value));
  const exec = input.execution ?? {};
  return Object.freeze({
    root,
    name: input.name ?? null,
    file,
    imports: Object.freeze([...new Set([...imports, promptPath])]),
    allowList,
    image,
    order,
    target,
    chainWildcards: Object.freeze(image.wildcards.filter((w) => w !== order)),
    rule: Object.freeze(rule),
    filters: Object.freeze(filters),
    engine: input.engine ?? 'auto',
    chain: input.chain ?? 'consecutive',
    execution: Object.freeze({
      maxAttempts: exec.maxAttempts ?? DEFAULTS.maxAttempts,
      batchSize: exec.batchSize ?? DEFAULTS.batchSize,
      maxConcurrentBatches: exec.maxConcurrentBatches ?? DEFAULTS.maxConcurrentBatches,
      pollSeconds: exec.pollSeconds ?? DEFAULTS.pollSeconds,
      concurrency: exec.concurrency ?? null,
    }),
    prices: Object.freeze({ ...(input.prices ?? {}) }),
    braintrust: Object.freeze({ project: input.braintrust?.project ?? null }),
  });
}

export function makeFilter(wildcard: string, value: FilterValue): Filter {
  if (typeof value === 'object' && !Array.isArray(value)) {
    const { from = -Infinity, to = Infinity } = value;
    return {
      wildcard,
      describe: `${wildcard}=${Number.isFinite(from) ? from : ''}..${Number.isFinite(to) ? to : ''}`,
      test: (v) => {
        const n = Number(v);
        return Number.isFinite(n) && n >= from && n <= to;
      },
    };
  }
  const allowed = new Set((Array.isArray(value) ? value : [value]).map(String));
  return { wildcard, describe: `${wildcard}=${[...allowed].join(',')}`, test: (v) => allowed.has(v) };
}

/** Step 3: named cross-field checks. */
function checkConfig(c: ResolvedConfig, problems: Problem[]): void {
  const rel = relPath(c.root, c.file);
  const add = (at: string, message: string, hint: string) => problems.push({ reason: 'config-invalid', file: rel, at, message, hint });
  if (!c.image.wildcards.includes(c.order)) {
    add('pages.image', `the image pattern has no order wildcard {${c.order}}`, `Put {${c.order}} where the page number is in the file name (e.g. .../{${c.order}}.{jpg,png}), or set pages.order to the wildcard that numbers pages.`);
  }
  if (c.allowList) {
    const a = [...c.allowList.wildcards].sort().join(','), i = [...c.image.wildcards].sort().join(',');
    if (a !== i) add('pages.allowList', `the allow-list pattern uses {${c.allowList.wildcards.join('}, {')}} but the image pattern uses {${c.image.wildcards.join('}, {')}}`, 'Both patterns must use the same wildcards.');
    if (c.allowList.hasAlternation) add('pages.allowList', 'the allow-list pattern may not contain {a,b} alternatives', 'Use one extension for allow-list files.');
  }
  const missing = c.image.wildcards.filter((w) => !c.target.wildcards.includes(w));
  if (missing.length > 0) add('target', `the target pattern does not use {${missing.join('}, {')}}, so two pages would share one output`, 'Use every wildcard of the image pattern in the target pattern.');
  const extra = c.target.wildcards.filter((w) => !c.image.wildcards.includes(w));
  if (extra.length > 0) add('target', `the target pattern uses {${extra.join('}, {')}}, which the image pattern does not define`, 'Use only wildcards of the image pattern.');
  if (c.target.hasAlternation) add('target', 'the target pattern may not contain {a,b} alternatives', 'One page has exactly one output path.');
  for (const f of c.filters) {
    if (!c.image.wildcards.includes(f.wildcard)) add(`filters.${f.wildcard}`, `no wildcard {${f.wildcard}} in the image pattern`, `Filter on one of: ${c.image.wildcards.join(', ')}.`);
  }
  if (!fs.existsSync(c.rule.promptPath)) {
    problems.push({ reason: 'prompt-missing', file: rel, at: 'rule.prompt', message: `prompt file ${c.rule.promptFile} does not exist`, hint: 'Create it, or point the rule at an existing template under prompts/.' });
  }
}
