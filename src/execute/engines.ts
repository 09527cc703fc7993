// The engine a build runs with, made on first need (a no-op or restore-only build never loads one).
import path from 'node:path';
import type { EngineName } from '../config/define.js';
import type { Emit } from '../events.js';
import type { Engine } from '../engines/engine.js';
import { createBatchEngine } from '../engines/gemini-batch.js';
import { createGeminiEngine } from '../engines/gemini-interactive.js';
import { createLocalEngine } from '../engines/local.js';
import { cacheJournal } from './journal.js';
import type { Project } from './project.js';

/** `name`: another engine than the build's (the interactive tail of a Batch build). */
export function createEngine(p: Project, pages: number, opts: { emit: Emit; pollSeconds?: number | undefined }, name: EngineName = p.engine): Engine {
  switch (name) {
    case 'local':
      return createLocalEngine(p.config, pages, p.fingerprints.localOcr!, p.cacheDir);
    case 'gemini-batch':
      return createBatchEngine({
        root: p.config.root,
        config: p.config,
        journal: cacheJournal(p.store, 'gemini-batch'),
        tmpDir: path.join(p.cacheDir, 'tmp'),
        pollSeconds: opts.pollSeconds ?? p.config.execution.pollSeconds,
        log: (message) => opts.emit({ event: 'engine', message }),
        onBatch: (b) => opts.emit({ event: 'batch', ...b }),
        onUpload: (u) => opts.emit({ event: 'upload', ...u }),
        ...retryBase(),
      });
    case 'gemini':
      return createGeminiEngine({ root: p.config.root, config: p.config, ...retryBase() });
  }
}

/** OCRMAKE_RETRY_BASE_MS shortens the API backoff (tests, impatient users); RetryInfo delays still apply. */
function retryBase(): { retryBaseMs?: number } {
  const ms = Number(process.env['OCRMAKE_RETRY_BASE_MS']);
  return Number.isFinite(ms) && ms > 0 ? { retryBaseMs: ms } : {};
}
