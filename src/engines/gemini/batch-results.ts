// Reading a finished batch's result file: downloaded to a temp file (the SDK writes downloads to disk),
// streamed line by line and joined on each line's key. A file that looks cut short (a line that does not
// parse, or pages without a line) is downloaded once more before any page is charged `missing-result`;
// a result file the API no longer has (NOT_FOUND on every try) is a lost batch, not the pages' fault.
import fs from 'node:fs';
import readline from 'node:readline';
import type { Fingerprint, TargetKey } from '../../types.js';
import type { Outcome } from '../engine.js';
import type { JournalRecord } from '../journal.js';
import type { Client } from './client.js';
import { classify, raceAbort, sleep, withRetry, type Outage } from './errors.js';
import { outcomeFromResponse, type GenerateResponse } from './reply.js';

export interface ResultsOptions {
  client: Client;
  name: string;
  fileName: string | null;
  records: readonly JournalRecord[];
  /** A temp file path for the download (removed afterwards). */
  downloadPath: string;
  signal: AbortSignal;
  outage: Outage;
  retryBaseMs: number;
  log: (message: string) => void;
}

/** The result file is gone at the API: the pages must be sent again (uncharged). */
export class ResultsGone extends Error {
  override name = 'ResultsGone';
}

export async function* readResults(o: ResultsOptions): AsyncGenerator<Outcome> {
  const fp = new Map<string, Fingerprint>(o.records.map((r) => [r.key, r.fingerprint]));
  const seen = new Set<string>();
  if (o.fileName) {
    for (let pass = 1; pass <= 2; pass++) {
      const damaged = yield* readOnce(o, o.fileName, fp, seen);
      const missing = o.records.filter((r) => !seen.has(r.key)).length;
      if (!damaged && missing === 0) break;
      if (pass === 1 && (damaged || missing > 0)) {
        o.log(`${o.name}: the result file looks cut short (${damaged ? 'an unreadable line, ' : ''}${missing} pages without a result); downloading it again`);
      }
    }
  }
  for (const r of o.records) {
    if (seen.has(r.key)) continue;
    yield { ok: false, key: r.key, fingerprint: r.fingerprint, class: 'missing-result', message: `batch ${o.name} returned no result for this page`, charge: true, batch: o.name };
  }
}

/** One download and read; yields outcomes for keys not seen before; returns whether a line was unreadable. */
async function* readOnce(o: ResultsOptions, fileName: string, fp: ReadonlyMap<string, Fingerprint>, seen: Set<string>): AsyncGenerator<Outcome, boolean> {
  try {
    await download(o, fileName);
    let damaged = false;
    const lines = readline.createInterface({ input: fs.createReadStream(o.downloadPath, 'utf8'), crlfDelay: Infinity });
    for await (const line of lines) {
      if (!line.trim()) continue;
      let row: { key?: string; metadata?: { key?: string }; response?: GenerateResponse; error?: { code?: number; message?: string } };
      try {
        row = JSON.parse(line);
      } catch {
        damaged = true;
        continue;
      }
      const key = row.key ?? row.metadata?.key;
      const fingerprint = key ? fp.get(key) : undefined;
      if (!key || !fingerprint || seen.has(key)) continue;
      if (!row.response && !row.error) continue; // neither: counted as missing
      seen.add(key);
      if (row.error) {
        yield { ok: false, key: key as TargetKey, fingerprint, class: 'api-error', code: String(row.error.code ?? ''), message: `batch ${o.name}: ${row.error.message ?? 'error'} (code ${row.error.code ?? '?'})`, rawResponse: line, charge: true, batch: o.name };
      } else {
        yield outcomeFromResponse(key as TargetKey, fingerprint, row.response!, o.name);
      }
    }
    return damaged;
  } finally {
    fs.rmSync(o.downloadPath, { force: true });
  }

}

/** Downloads the result file; a NOT_FOUND three times (transient failures retried in between) is ResultsGone. */
async function download(o: ResultsOptions, fileName: string): Promise<void> {
  for (let notFound = 1; ; notFound++) {
    try {
      await withRetry(() => raceAbort(o.client.ai.files.download({ file: fileName, downloadPath: o.downloadPath, config: { httpOptions: { timeout: 30 * 60_000 } } }), o.signal), {
        attempts: 8, baseMs: o.retryBaseMs, maxMs: 120_000, signal: o.signal, outage: o.outage,
        onRetry: (f, n, ms) => o.log(`download of ${fileName}: ${f.message}; retry ${n} in ${(ms / 1000).toFixed(1)} s`),
      });
      return;
    } catch (err) {
      if (classify(err).status !== 404 || o.signal.aborted) throw err;
      if (notFound >= NOT_FOUND_LIMIT) throw new ResultsGone(`the result file ${fileName} of ${o.name} no longer exists at the API (NOT_FOUND ${notFound} times)`);
      await sleep(o.retryBaseMs * notFound, o.signal);
    }
  }
}

/** Consistent NOT_FOUND answers before a batch or its result file is taken to be gone for good. */
export const NOT_FOUND_LIMIT = 3;
