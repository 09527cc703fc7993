// `ocrmake import-seed <dir>`: takes over a project of the original course-catalog pipeline in place.
//   1. reads its config.yaml (seed/config-yaml.ts) and its state (seed/state-db.ts), and refuses while
//      the state still has active batches (their results would land after the import, unseen);
//   2. writes the equivalent ocrfile.ts and the course-catalog rule;
//   3. adopts the outputs it wrote (execute/adopt.ts), so they are fresh with no request;
//   4. imports its failure counts as attempts of each page's current request (a page it gave up on stays
//      dead) and its failure logs as history (`ocrmake failures` shows them).
// Running it again imports nothing twice.
import fs from 'node:fs';
import path from 'node:path';
import { acquireLock } from '../cache/lock.js';
import type { FailureClass } from '../cache/records.js';
import { chosenOcrfile, OCRFILE } from '../config/load.js';
import { ExitCode, ExitSignal, usageError } from '../errors.js';
import { adoptOutputs, type AdoptResult } from '../execute/adopt.js';
import { attemptsOf, CACHE_DIR, openProject, type Project } from '../execute/project.js';
import type { Page } from '../graph/page.js';
import { PACKAGE_ROOT } from '../init/write.js';
import { runId } from '../report/run-report.js';
import { asFingerprint, type Fingerprint, type TargetKey } from '../types.js';
import { readSeedConfig, type SeedConfig } from './config-yaml.js';
import { seedOcrfile } from './ocrfile.js';
import { readOriginalState, type OriginalFailure, type OriginalState } from './state-db.js';

export const ORIGINAL_STATE = 'data/gemini_batches.db';
/** The request of failure-log rows whose page's current request is not known (its previous page has no output). */
const UNTIED = asFingerprint('original-pipeline');

export interface SeedOptions {
  root: string;
  /** The original's state database; default <root>/data/gemini_batches.db. */
  stateFile: string;
  force: boolean;
  emit: (message: string) => void;
}

export interface SeedResult {
  config: SeedConfig;
  written: string[];
  pages: number;
  adopt: AdoptResult;
  counts: { imported: number; dead: number; failed: number; untied: string[]; unknown: string[] };
  logs: { imported: number; repeated: number; unknown: number; missingTable: boolean; stateFound: boolean };
}

export async function importSeed(o: SeedOptions): Promise<SeedResult> {
  const read = await readSeedConfig(o.root);
  if (!read.ok) throw usageError(read.problems);
  const config = read.config;
  const state = await originalState(o.root, o.stateFile);
  if (state && state.activeBatches.length > 0) {
    const list = state.activeBatches.map((b) => `  ${b.id}${b.createdAt ? ` (since ${b.createdAt})` : ''}`).join('\n');
    throw new ExitSignal(
      ExitCode.failed,
      `${path.relative(o.root, o.stateFile)} still has ${state.activeBatches.length} active batch${state.activeBatches.length === 1 ? '' : 'es'} (${state.inflight} page${state.inflight === 1 ? '' : 's'} in flight):\n${list}\n` +
        '  Let the original pipeline collect them (or cancel them) and run import-seed again: results that land after the import would be unseen, and their pages sent twice. Nothing was written.',
    );
  }

  // The files: the ocrfile (where --config says, if it says so in this folder) and the rule.
  const chosen = chosenOcrfile();
  const ocrfile = chosen && path.dirname(chosen) === o.root ? chosen : path.join(o.root, OCRFILE);
  const rule = path.join(o.root, 'rules/page_ocr.ts');
  const existing = [ocrfile, rule].filter((f) => fs.existsSync(f)).map((f) => path.relative(o.root, f));
  if (existing.length > 0 && !o.force) {
    throw new ExitSignal(ExitCode.usage, `import-seed would overwrite ${existing.join(', ')}; nothing was written.\n  Use --force to replace ${existing.length === 1 ? 'it' : 'them'} (importing again adds nothing twice).`);
  }
  fs.mkdirSync(path.dirname(rule), { recursive: true });
  fs.writeFileSync(rule, fs.readFileSync(path.join(PACKAGE_ROOT, 'rules/page_ocr.ts'), 'utf8'));
  const ruleImport = `./${path.relative(path.dirname(ocrfile), rule).split(path.sep).join('/').replace(/\.ts$/, '.js')}`;
  fs.writeFileSync(ocrfile, seedOcrfile(config, ruleImport));
  const written = [ocrfile, rule].map((f) => path.relative(o.root, f));

  const lock = acquireLock(path.join(o.root, CACHE_DIR), 'import-seed');
  try {
    const started = new Date();
    const p = await openProject({ root: o.root, engine: 'gemini-batch', emit: (e) => (e.event === 'warning' || e.event === 'notice' ? o.emit(e.message) : undefined) });
    try {
      const adopt = adoptOutputs(p, new Set(p.pages.map((pg) => pg.key)), { dryRun: false });
      const { counts, logs } = importFailures(p, config, state);
      const result: SeedResult = { config, written, pages: p.pages.length, adopt, counts, logs: { ...logs, stateFound: state !== null } };
      p.store.recordRun(runId(started), 'import-seed', started.toISOString(), new Date().toISOString(), adopt.skipped.length ? ExitCode.failed : ExitCode.ok, {
        adopted: adopt.adopted, skipped: adopt.skipped.length, failureCounts: counts.imported, dead: counts.dead, failureLogs: logs.imported,
      });
      p.store.save();
      return result;
    } finally {
      p.objects.close();
      p.store.close();
    }
  } finally {
    lock.release();
  }
}

async function originalState(root: string, file: string): Promise<OriginalState | null> {
  if (!fs.existsSync(file)) return null;
  try {
    return await readOriginalState(file);
  } catch (err) {
    throw new ExitSignal(ExitCode.usage, `${path.relative(root, file)} cannot be read as the original pipeline's state (${(err as Error).message.split('\n')[0]}).\n  Name its state database with --state, or move the file away to import without failure counts.`);
  }
}

/** The original's key of a page: `state:school:year:page`, year and page as whole numbers. */
function originalKey(page: Page): string {
  const v = page.vars;
  return `${v['state']}:${v['school']}:${Number(v['year'])}:${Number(v['page'])}`;
}

function importFailures(p: Project, config: SeedConfig, state: OriginalState | null): { counts: SeedResult['counts']; logs: Omit<SeedResult['logs'], 'stateFound'> } {
  const counts: SeedResult['counts'] = { imported: 0, dead: 0, failed: 0, untied: [], unknown: [] };
  const logs = { imported: 0, repeated: 0, unknown: 0, missingTable: state !== null && state.failureLogs === null };
  if (!state) return { counts, logs };
  const byOriginal = new Map(p.pages.map((pg) => [originalKey(pg), pg]));
  const current = (key: TargetKey): Fingerprint | null => p.fingerprints.inputs.get(key)?.current?.fingerprint ?? null;
  const logsOf = new Map<string, OriginalFailure[]>();
  for (const f of state.failureLogs ?? []) logsOf.set(f.key, [...(logsOf.get(f.key) ?? []), f]);

  for (const row of state.failureCounts) {
    if (row.count <= 0) continue;
    const page = byOriginal.get(row.key);
    if (!page) {
      counts.unknown.push(row.key);
      continue;
    }
    const fp = current(page.key);
    if (!fp) {
      counts.untied.push(page.key);
      continue;
    }
    const last = logsOf.get(row.key)?.at(-1);
    p.store.importAttempts({
      key: page.key,
      fingerprint: fp,
      count: row.count,
      lastClass: last ? failureClass(last.errorType) : 'api-error',
      // One line, as ocrmake's own messages are (status shows it); the history keeps the message whole.
      lastMessage: last?.message?.replace(/\s*\n\s*/g, ' ') ?? `failed ${row.count} time${row.count === 1 ? '' : 's'} in the original pipeline`,
      updatedAt: row.at ?? new Date().toISOString(),
    });
    counts.imported++;
  }
  for (const f of state.failureLogs ?? []) {
    const page = byOriginal.get(f.key);
    if (!page) {
      logs.unknown++;
      continue;
    }
    const added = p.store.importFailure({
      key: page.key,
      fingerprint: current(page.key) ?? UNTIED,
      class: failureClass(f.errorType),
      code: f.errorType,
      message: f.message ?? f.errorType ?? 'failed in the original pipeline',
      stack: f.traceback,
      rawResponse: f.rawJson ?? f.rawText,
      extractedText: f.extractedText,
      engine: 'gemini-batch',
      model: f.model,
      promptFile: f.promptName && f.promptTemplate ? path.posix.join(path.posix.dirname(path.posix.dirname(config.prompt)), f.promptName, f.promptTemplate) : null,
      generationConfig: f.generationConfig,
      batch: f.batch,
      attempt: f.attempt,
      at: f.at ?? new Date(0).toISOString(),
    });
    if (added) logs.imported++;
    else logs.repeated++;
  }
  const attempts = attemptsOf(p);
  for (const a of attempts.values()) {
    if (a.count >= p.config.execution.maxAttempts) counts.dead++;
    else counts.failed++;
  }
  return { counts, logs };
}

/** The original's error_type (its ErrorType enum) as a failure class. */
function failureClass(errorType: string | null): FailureClass {
  switch (errorType) {
    case 'JSONDecodeError':
    case 'ValueError': // no JSON object in the reply, no candidates, an empty reply
      return 'json-error';
    case 'ValidationError':
      return 'schema-error';
    case 'MissingResponse':
      return 'missing-result';
    case 'FileNotFoundError':
      return 'input-error';
    default: // APIError, TimeoutError, UnknownError, none recorded
      return 'api-error';
  }
}
