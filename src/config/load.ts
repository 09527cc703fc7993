// Loads ocrfile.ts and validates it in three steps (STYLE §9): zod parse of the export, normalisation into
// the read-only ResolvedConfig (defaults live only there), then named cross-field checks. Every problem is
// collected and reported at once, each with its file and config path.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';
import { usageError, type Problem } from '../errors.js';
import { parsePattern, type Pattern } from '../graph/pattern.js';
import { canonicalJson, sha256 } from '../util/hash.js';
import { relPath } from '../util/fs.js';
import { closest } from '../util/names.js';
import { knownKeys, OcrfileShape } from './schema.js';
import { modelOptions, type OptionProblem } from './model-options.js';
import { DEFAULTS, DEFAULT_MODEL, durationMs, type Filter, type GroundTruth, type ResolvedConfig, type ResolvedRule, type ResolvedVariant } from './resolved.js';
import { IMAGE_ACCEPTS, resolveImages, resolveLocal } from './images.js';
import type { FilterValue } from './define.js';
import { cachedTransform } from './transpile-cache.js';

export const OCRFILE = 'ocrfile.ts';

/**
 * The ocrfile chosen with `--config FILE` or `OCRMAKE_CONFIG` (absolute), or null. The CLI turns `--config`
 * into OCRMAKE_CONFIG at start, so every command, and every ocrmake it starts, reads the same one.
 */
export function chosenOcrfile(env: NodeJS.ProcessEnv = process.env): string | null {
  const chosen = env['OCRMAKE_CONFIG'];
  return chosen ? path.resolve(chosen) : null;
}

/** The ocrfile of a project root: the chosen one when it lives there, else `<root>/ocrfile.ts`. */
export function ocrfileOf(root: string, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = chosenOcrfile(env);
  return chosen && path.dirname(chosen) === path.resolve(root) ? chosen : path.join(root, OCRFILE);
}

export interface LoadOptions {
  /** Variants added to (or replacing) the ocrfile's: `ocrmake try NAME --prompt …`, or a variant area's record. */
  variants?: Readonly<Record<string, unknown>>;
}

export async function loadConfig(root: string, configFile = ocrfileOf(root), o: LoadOptions = {}): Promise<ResolvedConfig> {
  const file = path.resolve(root, configFile);
  const rel = relPath(root, file);
  if (!fs.existsSync(file)) {
    const chosen = chosenOcrfile() === file;
    throw usageError([{
      reason: 'ocrfile-missing',
      file: rel,
      message: chosen ? 'the ocrfile named by --config (or OCRMAKE_CONFIG) does not exist' : 'no ocrfile found',
      hint: chosen ? 'Check the path, or run ocrmake init to write one.' : `Create ${rel} in the project root (ocrmake init writes one; see README "ocrfile.ts"), or run ocrmake from the folder that has one, or name it with --config.`,
    }]);
  }
  const { exported: fromFile, imports } = await importOcrfile(root, file);
  const exported = o.variants && typeof fromFile === 'object' && fromFile !== null
    ? { ...fromFile, variants: withExtras((fromFile as { variants?: Record<string, unknown> }).variants ?? {}, o.variants) }
    : fromFile;
  const parsed = OcrfileShape.safeParse(exported, { reportInput: true });
  if (!parsed.success) throw usageError(parsed.error.issues.flatMap((issue) => shapeProblems(rel, issue)));
  const problems: Problem[] = [];
  const config = normalise(root, file, imports, parsed.data, problems);
  if (config) checkConfig(config, problems);
  if (problems.length > 0 || !config) throw usageError(problems);
  return config;
}

/** The ocrfile's variants, then the extra ones it does not define (in that order: the order they are listed in). */
function withExtras(fromFile: Record<string, unknown>, extra: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return { ...fromFile, ...Object.fromEntries(Object.entries(extra).filter(([name]) => !Object.hasOwn(fromFile, name))) };
}

/** This installation's zod (its package folder), for rules that import 'zod' from a folder without node_modules. */
const ZOD = path.dirname(createRequire(import.meta.url).resolve('zod/package.json'));

async function importOcrfile(root: string, file: string): Promise<{ exported: unknown; imports: string[] }> {
  // require, not import: jiti is CommonJS, and an ESM import of it first scans its 190 kB bundle for export
  // names (~40 ms of every command's start).
  const { createJiti } = createRequire(import.meta.url)('jiti') as typeof import('jiti');
  const here = fileURLToPath(import.meta.url);
  // ocrfiles and rules import 'ocrmake' (and maybe 'zod'): resolve both to this very installation, natively,
  // so a project needs no node_modules of its own and schemas are built by the zod we validate with.
  const jiti = createJiti(file, {
    alias: { ocrmake: path.resolve(path.dirname(here), '../index.js'), zod: ZOD },
    nativeModules: ['ocrmake', 'zod'],
    moduleCache: false,
    // Keyed by content, not path: a copy of a project reuses what another copy transpiled (transpile-cache.ts).
    fsCache: false,
    transform: cachedTransform,
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
  const pageInFile = !image.wildcards.includes(order);

  const rule = resolveRule(root, rel, input.rule, 'rule', problems);
  const promptPath = rule.promptPath;
  const variants = new Map<string, ResolvedVariant>();
  for (const [name, v] of Object.entries(input.variants ?? {})) {
    const { context, ...ruleSettings } = v;
    const vr = resolveRule(root, rel, { ...input.rule, ...ruleSettings }, `variants.${name}`, problems);
    variants.set(name, Object.freeze({ name, settings: Object.freeze(JSON.parse(JSON.stringify(v)) as Record<string, unknown>), rule: vr, context: resolveContext({ ...input.context, ...context }) }));
  }
  let groundTruth: GroundTruth | null = null;
  if (input.groundTruth !== undefined) {
    const g = typeof input.groundTruth === 'string' ? { pattern: input.groundTruth } : input.groundTruth;
    const p = pattern(g.pattern, 'groundTruth');
    if (p) groundTruth = Object.freeze({ pattern: p, format: /\.json$/i.test(g.pattern) ? 'json' : 'text', match: Object.freeze({ ...(g.match ?? {}) }) });
  }

  const filters: Filter[] = Object.entries(input.filters ?? {}).map(([wildcard, value]) => makeFilter(wildcard, value));
  for (const [wildcard, value] of Object.entries(input.filters ?? {})) {
    if (typeof value === 'object' && !Array.isArray(value) && value.from !== undefined && value.to !== undefined && value.from > value.to) {
      problems.push({ reason: 'config-invalid', file: rel, at: `filters.${wildcard}`, message: `the range from ${value.from} to ${value.to} is empty (from is above to), so no page would be built`, hint: `Swap them: { from: ${value.to}, to: ${value.from} }.` });
    }
  }
  const exec = input.execution ?? {};
  return Object.freeze({
    root,
    name: input.name ?? null,
    file,
    imports: Object.freeze([...new Set([...imports, ...(promptPath === null ? [] : [promptPath])])]),
    allowList,
    image,
    order,
    pageInFile,
    keyWildcards: Object.freeze(pageInFile ? [...image.wildcards, order] : [...image.wildcards]),
    target,
    chainWildcards: Object.freeze(image.wildcards.filter((w) => w !== order)),
    rule,
    filters: Object.freeze(filters),
    engine: input.engine ?? 'auto',
    chain: input.chain ?? 'consecutive',
    execution: Object.freeze({
      maxAttempts: exec.maxAttempts ?? DEFAULTS.maxAttempts,
      batchSize: exec.batchSize ?? DEFAULTS.batchSize,
      maxConcurrentBatches: exec.maxConcurrentBatches ?? DEFAULTS.maxConcurrentBatches,
      pollSeconds: exec.pollSeconds ?? DEFAULTS.pollSeconds,
      concurrency: exec.concurrency ?? null,
      outageSeconds: exec.outageSeconds ?? DEFAULTS.outageSeconds,
    }),
    prices: Object.freeze({ ...(input.prices ?? {}) }),
    braintrust: Object.freeze({ project: input.braintrust?.project ?? null }),
    context: resolveContext(input.context),
    images: resolveImages(input.images),
    local: resolveLocal(root, input.local),
    groundTruth,
    variants,
  });
}

function resolveContext(c: Parsed['context']): ResolvedConfig['context'] {
  return Object.freeze({
    mode: c?.mode ?? 'exact',
    draft: c?.draft ?? 'first-pass',
    deadline: c?.deadline ?? null,
    turnaroundMs: c?.turnaround ? durationMs(c.turnaround) : null,
  });
}

/** The rule's request settings (the ocrfile's rule, or a variant's settings over it at `at`). */
function resolveRule(root: string, rel: string, r: Parsed['rule'], at: string, problems: Problem[]): ResolvedRule {
  let jsonSchema: Record<string, unknown> = {};
  try {
    const { $schema: _ignored, ...rest } = z.toJSONSchema(r.schema, { unrepresentable: 'any' }) as Record<string, unknown>;
    jsonSchema = rest;
  } catch (err) {
    if (at === 'rule') problems.push({ reason: 'config-invalid', file: rel, at: 'rule.schema', message: `the schema cannot be turned into JSON Schema: ${(err as Error).message}`, hint: 'Avoid transforms, dates and custom types in the output schema.' });
  }
  const promptPath = r.prompt === undefined ? null : path.resolve(root, r.prompt);
  const model = r.model ?? DEFAULT_MODEL;
  const optionProblems: OptionProblem[] = [];
  const options = modelOptions({ model, mediaResolution: r.mediaResolution, thinking: r.thinking, generationConfig: r.generationConfig ?? {} }, optionProblems);
  for (const o of optionProblems) problems.push({ reason: 'config-invalid', file: rel, at: `${at}.${o.at}`, message: o.message, hint: o.hint });
  return Object.freeze({
    name: r.name,
    version: String(r.version ?? 1),
    promptFile: promptPath === null ? null : relPath(root, promptPath),
    promptPath,
    schema: r.schema,
    jsonSchema,
    schemaHash: sha256(canonicalJson(jsonSchema)),
    context: r.context ?? null,
    model,
    generationConfig: options.generationConfig,
    mediaResolution: options.mediaResolution,
    partMediaResolution: options.partMediaResolution,
    apiVersion: options.apiVersion,
    fromLocalOcr: r.fromLocalOcr ?? null,
    fromLocalOcrHash: r.fromLocalOcr ? sha256(String(r.fromLocalOcr)) : null,
    text: r.text ?? null,
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
  // No order wildcard in the image pattern is allowed: each file is then a multi-page source (pageInFile).
  if (c.allowList) {
    const a = [...c.allowList.wildcards].sort().join(','), i = [...c.keyWildcards].sort().join(',');
    if (a !== i) {
      add('pages.allowList', `the allow-list pattern uses {${c.allowList.wildcards.join('}, {')}} but pages are named by {${c.keyWildcards.join('}, {')}}`, c.pageInFile ? `Use the image pattern's wildcards plus {${c.order}} (the page inside the file).` : 'Both patterns must use the same wildcards.');
    }
    if (c.allowList.hasAlternation) add('pages.allowList', 'the allow-list pattern may not contain {a,b} alternatives', 'Use one extension for allow-list files.');
  }
  const missing = c.keyWildcards.filter((w) => !c.target.wildcards.includes(w));
  const pageNote = c.pageInFile ? ` (with {${c.order}} for the page inside the file)` : '';
  if (missing.length > 0) {
    const hint = c.pageInFile && missing.includes(c.order)
      ? `The image pattern has no {${c.order}}, so each image file is read as a multi-page source (PDF, TIFF) whose pages are numbered {${c.order}}: use {${c.order}} in the target. If another wildcard holds the page number, set pages.order to it.`
      : `Use every wildcard of the image pattern in the target pattern${pageNote}.`;
    add('target', `the target pattern does not use {${missing.join('}, {')}}, so two pages would share one output`, hint);
  }
  const extra = c.target.wildcards.filter((w) => !c.keyWildcards.includes(w));
  if (extra.length > 0) add('target', `the target pattern uses {${extra.join('}, {')}}, which the image pattern does not define`, `Use only wildcards of the image pattern${pageNote}.`);
  if (c.target.hasAlternation) add('target', 'the target pattern may not contain {a,b} alternatives', 'One page has exactly one output path.');
  // An output that can land on an input would overwrite scans (or labels) with JSON: refused outright.
  for (const [at, input] of [['pages.image', c.image], ['pages.allowList', c.allowList]] as const) {
    if (input && c.target.overlaps(input)) {
      add('target', `the target pattern "${c.target.source}" can match the same files as ${at} "${input.source}", so outputs could overwrite inputs`, `Write outputs to their own folder or extension (e.g. output_results/…/{${c.order}}.json).`);
    }
  }
  for (const f of c.filters) {
    if (!c.keyWildcards.includes(f.wildcard)) add(`filters.${f.wildcard}`, `no wildcard {${f.wildcard}} in the image pattern`, `Filter on one of: ${c.keyWildcards.join(', ')}.`);
  }
  for (const family of ['local', 'gemini'] as const) {
    const format = c.images[family].format;
    if (format !== 'auto' && !IMAGE_ACCEPTS[family].formats.includes(format)) {
      add(`images.${family}.format`, `the ${family} engine${family === 'gemini' ? 's take' : ' takes'} ${IMAGE_ACCEPTS[family].formats.join(', ')} images, not ${format}`, `Set images.${family}.format to 'auto' or one of ${IMAGE_ACCEPTS[family].formats.join(', ')}.`);
    }
  }
  // The folder a pattern starts from must exist: a typo there would otherwise be "0 pages" and exit 0.
  for (const [at, pattern] of [['pages.image', c.image], ['pages.allowList', c.allowList]] as const) {
    const folder = pattern ? literalFolder(pattern.source) : '';
    if (folder && !isDirectory(path.join(c.root, folder))) {
      add(at, `the folder ${folder} does not exist (the pattern "${pattern!.source}" starts there)`, `Create it and put the ${at === 'pages.image' ? 'images' : 'allow-list files'} there, or fix the pattern (it is relative to the folder of ${rel}).`);
    }
  }
  if (c.rule.promptPath !== null && !fs.existsSync(c.rule.promptPath)) {
    problems.push({ reason: 'prompt-missing', file: rel, at: 'rule.prompt', message: `prompt file ${c.rule.promptFile} does not exist`, hint: 'Create it, or point the rule at an existing template under prompts/.' });
  }
  for (const v of c.variants.values()) {
    if (v.rule.promptPath !== null && v.rule.promptPath !== c.rule.promptPath && !fs.existsSync(v.rule.promptPath)) {
      problems.push({ reason: 'prompt-missing', file: rel, at: `variants.${v.name}.prompt`, message: `prompt file ${v.rule.promptFile} does not exist`, hint: 'Create it, or point the variant at an existing template under prompts/.' });
    }
  }
  if (c.groundTruth) {
    const g = c.groundTruth.pattern;
    const missingWildcards = c.keyWildcards.filter((w) => !g.wildcards.includes(w));
    if (missingWildcards.length > 0) add('groundTruth', `the ground-truth pattern does not use {${missingWildcards.join('}, {')}}, so pages would share one truth file`, 'Use every wildcard of a page\'s key, e.g. dataset/ground_truth/{state}/{school}/{year}/{page}.txt.');
    const unknownWildcards = g.wildcards.filter((w) => !c.keyWildcards.includes(w));
    if (unknownWildcards.length > 0) add('groundTruth', `the ground-truth pattern uses {${unknownWildcards.join('}, {')}}, which the image pattern does not define`, `Use only: ${c.keyWildcards.join(', ')}.`);
    if (g.hasAlternation) add('groundTruth', 'the ground-truth pattern may not contain {a,b} alternatives', 'Each page has one truth file: .txt for text, .json for outputs in the rule\'s schema.');
    if (c.target.overlaps(g)) add('target', `the target pattern "${c.target.source}" can match ground-truth files ("${g.source}"), so outputs could overwrite them`, 'Keep outputs and ground truth in separate folders.');
  }
}

/** The folders a pattern names literally before its first wildcard (`dataset/raw_image_dataset` of `dataset/raw_image_dataset/{state}/…`). */
export function literalFolder(source: string): string {
  const segments = source.split('/');
  const fixed: string[] = [];
  for (const segment of segments.slice(0, -1)) {
    if (segment.includes('{')) break;
    fixed.push(segment);
  }
  return fixed.join('/');
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
