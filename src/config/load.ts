// Loads ocrfile.ts and validates it in three steps (STYLE §9): zod parse of the export, normalisation into
// the read-only ResolvedConfig (defaults live only there), then named cross-field checks. Every problem is
// collected and reported at once, each with its file and config path.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';
import { usageError, type Problem } from '../errors.js';
import { parsePattern, type Pattern } from '../graph/pattern.js';
import { canonicalJson, sha256 } from '../util/hash.js';
import { relPath } from '../util/fs.js';
import { OcrfileShape } from './schema.js';
import { DEFAULTS, DEFAULT_MODEL, type Filter, type ResolvedConfig, type ResolvedRule } from './resolved.js';
import type { FilterValue } from './define.js';

export const OCRFILE = 'ocrfile.ts';

export async function loadConfig(root: string, configFile = OCRFILE): Promise<ResolvedConfig> {
  const file = path.resolve(root, configFile);
  const rel = relPath(root, file);
  if (!fs.existsSync(file)) {
    throw usageError([{ reason: 'ocrfile-missing', file: rel, message: 'no ocrfile found', hint: `Create ${rel} in the project root (see README "The ocrfile"), or run ocrmake from the folder that has one.` }]);
  }
  const { exported, imports } = await importOcrfile(root, file);
  const parsed = OcrfileShape.safeParse(exported);
  if (!parsed.success) {
    throw usageError(
      parsed.error.issues.map((issue) => ({
        reason: 'config-invalid',
        file: rel,
        at: issue.path.join('.') || '(default export)',
        message: issue.message,
        hint: 'Fix this value in the ocrfile (see README "The ocrfile" for every option).',
      })),
    );
  }
  const problems: Problem[] = [];
  const config = normalise(root, file, imports, parsed.data, problems);
  if (config) checkConfig(config, problems);
  if (problems.length > 0 || !config) throw usageError(problems);
  return config;
}

async function importOcrfile(root: string, file: string): Promise<{ exported: unknown; imports: string[] }> {
  const { createJiti } = await import('jiti');
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
  try {
    const exported = await jiti.import(file, { default: true });
    const imports = Object.keys(jiti.cache ?? {}).filter((f) => !before.has(f) && f.startsWith(root) && !f.includes('node_modules'));
    return { exported, imports: [...new Set([file, ...imports])] };
  } catch (err) {
    throw usageError([syntaxProblem(root, file, err)]);
  }
}

function syntaxProblem(root: string, file: string, err: unknown): Problem {
  const e = err as Error & { loc?: { line: number; column: number }; id?: string };
  const message = String(e?.message ?? err).split('\n')[0]!;
  const culprit = /\((\/[^:()]+):(\d+):(\d+)\)/.exec(e?.stack ?? '');
  const at = e?.loc ? `${e.loc.line}:${e.loc.column + 1}` : undefined;
  const inFile = (/ in (\/\S+\.[cm]?[jt]s)/.exec(message)?.[1] ?? culprit?.[1] ?? file);
  return {
    reason: 'ocrfile-syntax',
    file: relPath(root, inFile.startsWith(root) ? inFile : file),
    ...(at ? { at } : {}),
    message: `cannot load the ocrfile: ${message.replace(root + path.sep, '')}`,
    hint: 'Fix the TypeScript error in this file; nothing was built.',
  };
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
