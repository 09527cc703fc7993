// The original course-catalog pipeline's config.yaml, read and mapped onto ocrmake's settings. Its keys
// (from its public repository): paths {label_source_dir, image_source_dir, output_dir}; filters
// {target_states, target_years {start, end}}; execution {max_retries, batch_size_limit, dry_run,
// max_concurrent_batches}; model {name, generation_config {temperature, max_output_tokens,
// response_mime_type}}; batch {poll_interval_seconds, max_poll_attempts, display_name_prefix}; files
// {upload_*}; prompt {registry_dir, name, template_file}; prefect {…}. Its layout is fixed:
// {label_source_dir}/{state}/{school}/{year}/{page}.json, images `{page}.jpg`, outputs `{page}.json`.
import fs from 'node:fs';
import path from 'node:path';
import type { Problem } from '../errors.js';

export interface SeedConfig {
  /** Folders relative to the project root, `/`-separated. */
  labels: string;
  images: string;
  outputs: string;
  states: string[] | null;
  years: { from: number; to: number } | null;
  /** The original gives up on a page after this many failures: ocrmake's maxAttempts. */
  maxAttempts: number;
  batchSize: number;
  maxConcurrentBatches: number;
  pollSeconds: number;
  model: string;
  /** camelCase, as the API and ocrmake spell it. */
  generationConfig: Record<string, number>;
  /** The prompt template, relative to the root: {registry_dir}/{name}/{template_file}. */
  prompt: string;
  /** The prompt's name in the original (its folder), for the failure log's history. */
  promptName: string;
  /** What was not carried over, and why: one line each. */
  notes: string[];
}

export type SeedRead = { ok: true; config: SeedConfig } | { ok: false; problems: Problem[] };

type Yaml = Record<string, unknown>;

export async function readSeedConfig(root: string, file = 'config.yaml'): Promise<SeedRead> {
  const abs = path.resolve(root, file);
  const rel = path.relative(root, abs) || file;
  const problems: Problem[] = [];
  const add = (at: string, message: string, hint: string) => problems.push({ reason: 'config-invalid', file: rel, at, message, hint });
  let raw: unknown;
  try {
    const { parse } = await import('yaml');
    raw = parse(fs.readFileSync(abs, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const message = code === 'ENOENT' ? 'not found: import-seed reads the original pipeline\'s config.yaml from the folder given' : `cannot be read as YAML: ${(err as Error).message.split('\n')[0]}`;
    return { ok: false, problems: [{ reason: 'config-invalid', file: rel, message, hint: code === 'ENOENT' ? 'Name the folder of the original project (the one with config.yaml, dataset/ and data/).' : 'Fix the YAML, then run import-seed again.' }] };
  }
  const top = obj(raw);
  if (!top) return { ok: false, problems: [{ reason: 'config-invalid', file: rel, message: 'is not a mapping of settings', hint: 'It should hold paths:, model:, prompt: and the other sections of the original pipeline.' }] };
  const notes: string[] = [];
  const section = (name: string): Yaml => obj(top[name]) ?? {};
  const paths = section('paths');
  const folder = (key: string): string => {
    const v = paths[key];
    if (typeof v !== 'string' || v.trim() === '') {
      add(`paths.${key}`, 'missing', `Set it to the folder the original pipeline used (e.g. dataset/${key === 'output_dir' ? 'output_results' : key === 'label_source_dir' ? 'label_to_curricular' : 'raw_image_dataset'}).`);
      return '';
    }
    const within = path.relative(root, path.resolve(root, v));
    if (within.startsWith('..') || path.isAbsolute(within)) {
      add(`paths.${key}`, `${v} is outside ${root}`, 'ocrmake patterns are relative to the project root: move that folder into the project (or link it there) and name it relatively.');
      return '';
    }
    return within.split(path.sep).join('/') || '.';
  };
  const labels = folder('label_source_dir'), images = folder('image_source_dir'), outputs = folder('output_dir');

  const filters = section('filters');
  let states: string[] | null = null;
  if (filters['target_states'] !== undefined && filters['target_states'] !== null) {
    const s = filters['target_states'];
    if (Array.isArray(s) && s.every((x) => typeof x === 'string')) states = s.length > 0 ? (s as string[]) : null;
    else add('filters.target_states', 'is not a list of state names', 'Write it as a list: ["Alabama", "California"].');
  }
  let years: SeedConfig['years'] = null;
  const ty = obj(filters['target_years']);
  if (ty) {
    const from = ty['start'], to = ty['end'];
    if (!Number.isInteger(from) || !Number.isInteger(to)) add('filters.target_years', 'needs whole-number start and end', 'Write it as start: 1849 and end: 1852.');
    else years = { from: from as number, to: to as number };
  }

  const execution = section('execution');
  const int = (o: Yaml, at: string, key: string, fallback: number, min: number): number => {
    const v = o[key];
    if (v === undefined || v === null) return fallback;
    if (!Number.isInteger(v) || (v as number) < min) {
      add(`${at}.${key}`, `must be a whole number, ${min} or more (got ${JSON.stringify(v)})`, 'Fix it in config.yaml.');
      return fallback;
    }
    return v as number;
  };
  // The original's defaults (its config model), so an omitted key means what it meant there.
  let maxAttempts = int(execution, 'execution', 'max_retries', 3, 0);
  if (maxAttempts === 0) {
    notes.push('execution.max_retries: 0 made the original skip every page; ocrmake tries each page at least once (maxAttempts: 1)');
    maxAttempts = 1;
  }
  const batchSize = int(execution, 'execution', 'batch_size_limit', 100, 1);
  const maxConcurrentBatches = int(execution, 'execution', 'max_concurrent_batches', 1, 1);
  if (execution['dry_run'] === true) notes.push('execution.dry_run: true is not carried over: run ocrmake build --dry-run to see a plan without sending anything');

  const model = section('model');
  const modelName = typeof model['name'] === 'string' && model['name'].trim() ? model['name'].trim() : '';
  if (!modelName) add('model.name', 'missing', 'Name the Gemini model the original used (e.g. gemini-2.5-flash).');
  const generationConfig: Record<string, number> = {};
  const gc = obj(model['generation_config']) ?? {};
  for (const [key, value] of Object.entries(gc)) {
    if (value === null || value === undefined) continue;
    if (key === 'temperature' && typeof value === 'number') generationConfig['temperature'] = value;
    else if (key === 'max_output_tokens' && Number.isInteger(value)) generationConfig['maxOutputTokens'] = value as number;
    else if (key === 'response_mime_type') notes.push('model.generation_config.response_mime_type is not carried over: ocrmake asks for JSON that follows the rule\'s schema itself');
    else if (key === 'temperature' || key === 'max_output_tokens') add(`model.generation_config.${key}`, `is not a number (got ${JSON.stringify(value)})`, 'Fix it in config.yaml.');
    // The original's config model kept only these three keys and dropped the rest without a word.
    else notes.push(`model.generation_config.${key} is not carried over: the original pipeline ignored it too (it sent temperature, max_output_tokens and response_mime_type only)`);
  }

  const batch = section('batch');
  const pollSeconds = int(batch, 'batch', 'poll_interval_seconds', 10, 1);
  const unneeded = ['max_poll_attempts', 'display_name_prefix'].filter((key) => batch[key] !== undefined);
  if (unneeded.length > 0) notes.push(`batch.${unneeded.join(' and batch.')} ${unneeded.length === 1 ? 'is' : 'are'} not needed: ocrmake polls until a batch ends and names batches itself`);
  if (top['files'] !== undefined) notes.push('files.* (upload retries and concurrency) are not needed: ocrmake retries uploads itself');
  if (top['prefect'] !== undefined) notes.push('prefect.* is not needed: ocrmake build (or ocrmake watch) runs the whole loop');

  const prompt = section('prompt');
  const registry = typeof prompt['registry_dir'] === 'string' ? prompt['registry_dir'] : 'prompts';
  const promptName = typeof prompt['name'] === 'string' ? prompt['name'] : '';
  const template = typeof prompt['template_file'] === 'string' ? prompt['template_file'] : '';
  if (!promptName || !template) add('prompt', 'needs name and template_file', 'Set them as the original did (name: page_ocr, template_file: v1.1.jinja).');
  const promptRel = path.relative(root, path.resolve(root, registry, promptName, template)).split(path.sep).join('/');
  if (promptName && template && !fs.existsSync(path.join(root, promptRel))) add('prompt', `the template ${promptRel} does not exist`, 'Copy the prompt folder of the original project here too.');

  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    config: { labels, images, outputs, states, years, maxAttempts, batchSize, maxConcurrentBatches, pollSeconds, model: modelName, generationConfig, prompt: promptRel, promptName, notes },
  };
}

function obj(v: unknown): Yaml | null {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Yaml) : null;
}
