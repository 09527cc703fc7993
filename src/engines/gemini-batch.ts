// The `gemini-batch` engine (DESIGN §6, §8; reference/gemini-batch-api.md). One job is one Gemini batch:
//   1. intent: display name, keys and fingerprints go to the cache (saved) before anything is sent;
//   2. images are uploaded once per content hash (reused while their expiry is > 25 h away);
//   3. the JSONL input is written and uploaded, the batch created (never blindly retried: after an
//      ambiguous failure the batch is looked up by display name first), and its name saved;
//   4. the job is polled with jitter until it ends; the result file is downloaded and streamed, and each
//      line is joined on its key and turned into an outcome;
//   5. a failed, cancelled or expired batch frees its records without charging them an attempt.
// After a crash, recover() re-attaches every batch the journal holds as submitting or active.
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import type { ResolvedConfig } from '../config/resolved.js';
import type { Request } from '../fingerprint/snapshot.js';
import type { Fingerprint, TargetKey } from '../types.js';
import { EngineStop, type Engine, type EngineCounters, type Job, type Outcome } from './engine.js';
import { createClient, type Client } from './gemini/client.js';
import { authStop, classify, sleep, withRetry, type ApiFailure } from './gemini/errors.js';
import { outcomeFromResponse, type GenerateResponse } from './gemini/reply.js';
import { imageMime, restRequest } from './gemini/request.js';
import type { BatchJournal, JournalRecord, OpenBatch } from './journal.js';
import type { BatchReport, UploadReport } from '../events.js';

/** Uploaded files live 48 h; one whose expiry is nearer than this is uploaded again. */
const REUSE_MARGIN_MS = 25 * 3600_000;
/** Consecutive batches that end FAILED/CANCELLED/EXPIRED (or cannot be created) before the build stops. */
const MAX_BATCH_FAILURES = 3;
const UPLOAD_CONCURRENCY = 4;
/** A create sent just before a crash may still land within the client timeout; wait that long before giving up on it. */
const CREATE_WINDOW_MS = 180_000;

export interface BatchEngineOptions {
  root: string;
  config: ResolvedConfig;
  journal: BatchJournal;
  /** Where temporary JSONL files go (inside .ocrcache/). */
  tmpDir: string;
  pollSeconds: number;
  /** MIME type for the JSONL upload: the live API is inconsistent about it (reference §4.1). */
  inputMime?: string;
  retryBaseMs?: number;
  log?: (message: string) => void;
  onBatch?: (b: BatchReport) => void;
  onUpload?: (u: UploadReport) => void;
}

export { EngineStop };

export interface BatchEngine extends Engine {
  /** Jobs to re-attach: batches a previous process submitted (or was submitting) and never finished. */
  recover(): Promise<Job[]>;
}

type Terminal = 'JOB_STATE_SUCCEEDED' | 'JOB_STATE_FAILED' | 'JOB_STATE_CANCELLED' | 'JOB_STATE_EXPIRED';
const TERMINAL = new Set<string>(['JOB_STATE_SUCCEEDED', 'JOB_STATE_FAILED', 'JOB_STATE_CANCELLED', 'JOB_STATE_EXPIRED']);

export function createBatchEngine(o: BatchEngineOptions): BatchEngine {
  const counters: EngineCounters = { requests: 0, batches: 0, uploads: 0 };
  const log = o.log ?? (() => {});
  let clientPromise: Promise<Client> | null = null;
  const client = () => (clientPromise ??= createClient({ root: o.root, engine: 'gemini-batch' }));
  let consecutiveFailures = 0;
  let authRefused: ApiFailure | null = null;
  const retry = <T>(fn: () => Promise<T>, signal: AbortSignal, what: string) =>
    withRetry(fn, { attempts: 8, baseMs: o.retryBaseMs ?? 2000, maxMs: 120_000, signal, onRetry: (f, n, ms) => log(`${what}: ${f.message}; retry ${n} in ${(ms / 1000).toFixed(1)} s`) });

  /** Upload every distinct image once; returns image hash → file URI, or a failure message. */
  async function uploadImages(requests: readonly Request[], signal: AbortSignal): Promise<Map<string, { uri: string; mime: string } | { error: string }>> {
    const { ai } = await client();
    const byHash = new Map<string, Request>();
    for (const r of requests) if (!byHash.has(r.imageHash)) byHash.set(r.imageHash, r);
    const out = new Map<string, { uri: string; mime: string } | { error: string }>();
    const queue = [...byHash.entries()].filter(([hash]) => {
      const known = o.journal.upload(hash);
      if (!known || Date.parse(known.expiresAt) - Date.now() <= REUSE_MARGIN_MS) return true;
      out.set(hash, { uri: known.uri, mime: known.mime });
      return false;
    });
    if (queue.length > 0) o.onUpload?.({ phase: 'queued', files: queue.length });
    const worker = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const [hash, r] = next;
        const mime = imageMime(r.imagePath);
        try {
          const bytes = fs.readFileSync(r.imagePath);
          const file = await retry(() => ai.files.upload({ file: new Blob([bytes], { type: mime }), config: { mimeType: mime, displayName: `ocrmake-image-${hash.slice(0, 16)}` } }), signal, `upload of ${r.page.image}`);
          if (!file?.name || !file.uri) throw new Error('the upload returned no file name');
          counters.uploads++;
          const expiresAt = file.expirationTime ?? new Date(Date.now() + 47 * 3600_000).toISOString();
          o.journal.recordUpload(hash, { fileName: file.name, uri: file.uri, mime, expiresAt });
          out.set(hash, { uri: file.uri, mime });
          o.onUpload?.({ phase: 'done', image: r.page.image ?? r.imagePath, bytes: bytes.length });
        } catch (err) {
          const f = classify(err);
          if (f.auth) authRefused = f;
          out.set(hash, { error: `upload of ${r.page.image} failed: ${describe(err)}` });
          o.onUpload?.({ phase: 'failed', image: r.page.image ?? r.imagePath, message: describe(err) });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(UPLOAD_CONCURRENCY, queue.length) }, worker));
    return out;
  }

  /** Creates the batch; after an ambiguous failure, looks it up by display name before trying again. */
  async function create(displayName: string, inputFile: string, signal: AbortSignal): Promise<string> {
    const { ai } = await client();
    for (let attempt = 1; ; attempt++) {
      try {
        const job = await ai.batches.create({ model: o.config.rule.model, src: inputFile, config: { displayName } });
        if (!job.name) throw new Error('batch create returned no name');
        return job.name;
      } catch (err) {
        const f = classify(err);
        if (!f.retryable || attempt >= 8 || signal.aborted) throw err;
        // The create may have been accepted before the failure: never make a second batch for one intent.
        if (f.status !== 429) {
          const found = await findByDisplayName(displayName, signal).catch(() => null);
          if (found) return found;
        }
        const wait = Math.max(f.retryAfterMs ?? 0, Math.min(120_000, (o.retryBaseMs ?? 2000) * 2 ** (attempt - 1)));
        log(`batch create: ${f.message}; retry ${attempt} in ${(wait / 1000).toFixed(1)} s`);
        await sleep(wait, signal);
      }
    }
  }

  /** A create sent by a process that died may land late: look for it until the window has passed. */
  async function awaitCreate(displayName: string, since: number, signal: AbortSignal): Promise<string | null> {
    for (;;) {
      const found = await findByDisplayName(displayName, signal).catch(() => null);
      if (found || signal.aborted || Date.now() - since > CREATE_WINDOW_MS) return found;
      await sleep(Math.max(1000, o.pollSeconds * 1000), signal);
    }
  }

  async function findByDisplayName(displayName: string, signal: AbortSignal): Promise<string | null> {
    const { ai } = await client();
    const pager = await retry(() => ai.batches.list({ config: { pageSize: 100 } }), signal, 'batch list');
    for await (const job of pager) if (job.displayName === displayName && job.name) return job.name;
    return null;
  }

  /**
   * Polls until the job ends; returns its final state and result file. A raw GET, not the SDK's get: the SDK
   * drops `batchStats`, the progress the live panel shows (reference §5.2).
   */
  async function poll(name: string, base: BatchReport, signal: AbortSignal): Promise<{ state: Terminal; resultFile: string | null }> {
    const c = await client();
    let last = '', lastProgress = '';
    for (;;) {
      const op = (await retry(() => c.rawGet(name), signal, `poll of ${name}`)) as RawBatch;
      const meta = op?.metadata ?? {};
      const state = String(meta.state ?? '').replace('BATCH_STATE_', 'JOB_STATE_');
      if (state !== last) log(`batch ${name} (${base.displayName}): ${state.replace('JOB_STATE_', '')}`);
      last = state;
      const stats = { succeeded: Number(meta.batchStats?.successfulRequestCount ?? 0), failed: Number(meta.batchStats?.failedRequestCount ?? 0) };
      const progress = `${state} ${stats.succeeded} ${stats.failed}`;
      if (progress !== lastProgress) o.onBatch?.({ ...base, phase: 'state', state: state.replace('JOB_STATE_', ''), ...stats });
      lastProgress = progress;
      if (TERMINAL.has(state)) return { state: state as Terminal, resultFile: meta.output?.responsesFile ?? op?.response?.responsesFile ?? null };
      if (signal.aborted) throw new AbortedError();
      // Jitter keeps many batches (and many ocrmake processes) from polling in lockstep.
      await sleep(o.pollSeconds * 1000 * (0.8 + Math.random() * 0.4), signal);
      if (signal.aborted) throw new AbortedError();
    }
  }

  async function* results(name: string, resultFile: string | null, records: readonly JournalRecord[], signal: AbortSignal): AsyncGenerator<Outcome> {
    const c = await client();
    const fileName = resultFile ?? (await resultFileOf(c, name));
    const fp = new Map<string, Fingerprint>(records.map((r) => [r.key, r.fingerprint]));
    const seen = new Set<string>();
    if (fileName) {
      fs.mkdirSync(o.tmpDir, { recursive: true });
      const downloadPath = path.join(o.tmpDir, `${name.replace(/\W/g, '_')}-${process.pid}.jsonl`);
      try {
        await retry(() => c.ai.files.download({ file: fileName, downloadPath, config: { httpOptions: { timeout: 30 * 60_000 } } }), signal, `download of ${fileName}`);
        const lines = readline.createInterface({ input: fs.createReadStream(downloadPath, 'utf8'), crlfDelay: Infinity });
        for await (const line of lines) {
          if (!line.trim()) continue;
          let row: { key?: string; metadata?: { key?: string }; response?: GenerateResponse; error?: { code?: number; message?: string } };
          try {
            row = JSON.parse(line);
          } catch {
            log(`${name}: skipped an unreadable result line`);
            continue;
          }
          const key = row.key ?? row.metadata?.key;
          const fingerprint = key ? fp.get(key) : undefined;
          if (!key || !fingerprint || seen.has(key)) continue;
          if (!row.response && !row.error) continue; // neither: counted as missing below
          seen.add(key);
          if (row.error) {
            yield { ok: false, key: key as TargetKey, fingerprint, class: 'api-error', code: String(row.error.code ?? ''), message: `batch ${name}: ${row.error.message ?? 'error'} (code ${row.error.code ?? '?'})`, rawResponse: line, charge: true, batch: name };
          } else {
            yield outcomeFromResponse(key as TargetKey, fingerprint, row.response!, name);
          }
        }
      } finally {
        fs.rmSync(downloadPath, { force: true });
      }
    }
    for (const r of records) {
      if (seen.has(r.key)) continue;
      yield { ok: false, key: r.key, fingerprint: r.fingerprint, class: 'missing-result', message: `batch ${name} returned no result for this page`, charge: true, batch: name };
    }
  }

  async function resultFileOf(c: Client, name: string): Promise<string | null> {
    const op = (await c.rawGet(name).catch(() => null)) as { metadata?: { output?: { responsesFile?: string } }; response?: { responsesFile?: string } } | null;
    return op?.metadata?.output?.responsesFile ?? op?.response?.responsesFile ?? null;
  }

  async function errorOf(name: string): Promise<string> {
    const c = await client();
    const op = (await c.rawGet(name).catch(() => null)) as { error?: { message?: string; code?: number } } | null;
    return op?.error?.message ? `${op.error.message} (code ${op.error.code ?? '?'})` : 'no reason given';
  }

  /** Runs a job from its intent (new) or from where a previous process left it (re-attached). */
  async function* runJob(job: Job, signal: AbortSignal): AsyncGenerator<Outcome> {
    const resume = (job as ResumedJob).resume;
    let displayName: string;
    let name: string | null;
    let records: JournalRecord[];
    let inputFile: string | null = null;
    const startedAt = new Date().toISOString();
    let createdAt: string | null = null;
    if (resume) {
      ({ displayName, name } = resume);
      records = resume.records;
      if (!name) {
        name = await awaitCreate(displayName, resume.since, signal);
        if (!name) {
          if (signal.aborted) return;
          o.journal.finished(displayName, 'dropped');
          for (const r of records) yield { ok: false, key: r.key, fingerprint: r.fingerprint, class: 'api-error', message: 'the batch this page was being submitted in never appeared; it goes into a new batch (no attempt charged)', charge: false };
          return;
        }
        o.journal.created(displayName, name, resume.inputFile ?? '');
      }
    } else {
      displayName = `ocrmake-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
      records = job.requests.map((r) => ({ key: r.key, fingerprint: r.fingerprint }));
      o.journal.intend(displayName, o.config.rule.model, records);
      name = null;
      const prepared = yield* submit(job.requests, displayName, signal);
      if (!prepared) return;
      ({ name, records, inputFile, createdAt } = prepared);
    }
    if (!name) return;
    let end: { state: Terminal; resultFile: string | null };
    const polled: BatchReport = { name, displayName, phase: 'state', state: null, records: records.length, succeeded: 0, failed: 0, tokensIn: 0, tokensOut: 0, createdAt: createdAt ?? startedAt, endedAt: null };
    try {
      end = await poll(name, polled, signal);
    } catch (err) {
      if (err instanceof AbortedError || signal.aborted) return; // stays active in the journal: the next run re-attaches
      const f = classify(err);
      throw new EngineStop(f.auth ? authStop(f) : `lost contact with the Gemini API while polling ${name} (${f.message}); the batch stays recorded and the next build re-attaches it`);
    }
    const report: BatchReport = { name, displayName, phase: 'ended', state: null, records: records.length, succeeded: 0, failed: 0, tokensIn: 0, tokensOut: 0, createdAt: startedAt, endedAt: null };
    if (end.state === 'JOB_STATE_SUCCEEDED') {
      consecutiveFailures = 0;
      try {
        for await (const outcome of results(name, end.resultFile, records, signal)) {
          if (outcome.ok) report.succeeded++;
          else report.failed++;
          report.tokensIn += outcome.tokensIn ?? 0;
          report.tokensOut += outcome.tokensOut ?? 0;
          yield outcome;
        }
      } catch (err) {
        if (signal.aborted) return;
        const f = classify(err);
        // Not finished in the journal: the next build re-attaches and downloads again (ingestion is idempotent).
        throw new EngineStop(f.auth ? authStop(f) : `could not read the results of ${name} (${f.message}); the next build re-attaches it`);
      }
      o.journal.finished(displayName, 'succeeded');
      o.onBatch?.({ ...report, state: 'succeeded', endedAt: new Date().toISOString() });
      // The input file has served its purpose (it would expire after 48 h anyway).
      const input = resume?.inputFile ?? inputFile;
      if (input) void client().then((c) => c.ai.files.delete({ name: input })).catch(() => {});
      return;
    }
    const why = await errorOf(name);
    const state = end.state.replace('JOB_STATE_', '').toLowerCase();
    for (const r of records) {
      yield { ok: false, key: r.key, fingerprint: r.fingerprint, class: 'api-error', message: `batch ${name} ended ${state.toUpperCase()}: ${why}; the page goes into a new batch (no attempt charged)`, charge: false, batch: name };
    }
    o.journal.finished(displayName, state);
    o.onBatch?.({ ...report, state, failed: records.length, endedAt: new Date().toISOString() });
    if (++consecutiveFailures >= MAX_BATCH_FAILURES) {
      throw new EngineStop(`${consecutiveFailures} batches in a row ended FAILED, CANCELLED or EXPIRED (last: ${name}, ${why}). Stopping; check the Gemini status and quota, then build again.`);
    }
  }

  /** Steps 2–3: uploads, input file, create. Yields failures for pages that cannot be sent. */
  async function* submit(requests: readonly Request[], displayName: string, signal: AbortSignal): AsyncGenerator<Outcome, { name: string; records: JournalRecord[]; inputFile: string; createdAt: string } | null> {
    const uploads = await uploadImages(requests, signal);
    if (authRefused) {
      const message = authStop(authRefused);
      o.journal.finished(displayName, 'not-created');
      for (const r of requests) yield { ok: false, key: r.key, fingerprint: r.fingerprint, class: 'upload-error', message, charge: false };
      throw new EngineStop(message);
    }
    const lines: string[] = [];
    const sent: JournalRecord[] = [];
    for (const r of requests) {
      const u = uploads.get(r.imageHash);
      if (!u || 'error' in u) {
        yield { ok: false, key: r.key, fingerprint: r.fingerprint, class: 'upload-error', message: u && 'error' in u ? u.error : 'image not uploaded', charge: true };
        continue;
      }
      lines.push(JSON.stringify({ key: r.key, request: restRequest(o.config, r, { fileData: { fileUri: u.uri, mimeType: u.mime } }) }));
      sent.push({ key: r.key, fingerprint: r.fingerprint });
    }
    if (sent.length === 0) {
      o.journal.finished(displayName, 'nothing-to-send');
      return null;
    }
    const { ai } = await client();
    fs.mkdirSync(o.tmpDir, { recursive: true });
    const inputPath = path.join(o.tmpDir, `${displayName}.jsonl`);
    fs.writeFileSync(inputPath, `${lines.join('\n')}\n`);
    let name: string;
    let inputName: string;
    try {
      const input = await retry(() => ai.files.upload({ file: inputPath, config: { mimeType: o.inputMime ?? 'jsonl', displayName } }), signal, `upload of ${displayName}.jsonl`);
      if (!input?.name) throw new Error('the input upload returned no file name');
      inputName = input.name;
      // From here the batch may exist even if we never hear back: recovery must look for it, not drop it.
      o.journal.setState(displayName, 'creating');
      o.journal.save();
      name = await create(displayName, input.name, signal);
    } catch (err) {
      o.journal.finished(displayName, 'not-created');
      const f = classify(err);
      // A rejected request (4xx) is the records' fault and is charged; an outage or a refused key is not.
      const charge = f.status >= 400 && f.status < 500 && f.status !== 429 && !f.auth;
      for (const r of sent) yield { ok: false, key: r.key, fingerprint: r.fingerprint, class: 'api-error', code: f.code, message: `the batch could not be created: ${f.message}`, charge };
      if (f.auth) throw new EngineStop(authStop(f));
      if (!charge && ++consecutiveFailures >= MAX_BATCH_FAILURES) throw new EngineStop(`${consecutiveFailures} batches in a row could not be created (${f.message}). Stopping; build again later.`);
      return null;
    } finally {
      fs.rmSync(inputPath, { force: true });
    }
    o.journal.created(displayName, name, inputName);
    counters.batches++;
    counters.requests += sent.length;
    log(`batch ${name} (${displayName}) created with ${sent.length} pages`);
    const createdAt = new Date().toISOString();
    o.onBatch?.({ name, displayName, phase: 'created', state: null, records: sent.length, succeeded: 0, failed: 0, tokensIn: 0, tokensOut: 0, createdAt, endedAt: null });
    return { name, records: sent, inputFile: inputName, createdAt };
  }

  return {
    name: 'gemini-batch',
    jobSize: o.config.execution.batchSize,
    maxJobs: o.config.execution.maxConcurrentBatches,
    counters,
    run: runJob,
    async recover(): Promise<Job[]> {
      const jobs: Job[] = [];
      for (const b of o.journal.open()) {
        let name = b.name;
        if (!name) {
          // The process died between the intent and recording the job: adopt the job if it exists.
          name = await findByDisplayName(b.displayName, new AbortController().signal);
          if (!name && b.state === 'creating' && Date.now() - Date.parse(b.updatedAt) < CREATE_WINDOW_MS) {
            // The create was sent and may still land: keep the pages in flight and keep looking.
            jobs.push(resumedJob(b, null));
            continue;
          }
          if (!name) {
            o.journal.finished(b.displayName, 'dropped');
            continue;
          }
          o.journal.created(b.displayName, name, b.inputFile ?? '');
        }
        jobs.push(resumedJob(b, name));
      }
      o.journal.save();
      return jobs;
    },
    async close() {},
  };
}

interface ResumedJob extends Job {
  /** `name` is null while a create sent before a crash may still land (since: when it was sent). */
  resume: { displayName: string; name: string | null; since: number; records: JournalRecord[]; inputFile: string | null };
}

function resumedJob(b: OpenBatch, name: string | null): ResumedJob {
  return { id: b.displayName, requests: [], records: b.records, resume: { displayName: b.displayName, name, since: Date.parse(b.updatedAt), records: b.records, inputFile: b.inputFile } };
}

class AbortedError extends Error {}

/** The parts of a raw batch Operation that polling reads (reference §5.2: counts are strings, zeros omitted). */
interface RawBatch {
  metadata?: {
    state?: string;
    batchStats?: { requestCount?: string; successfulRequestCount?: string; failedRequestCount?: string };
    output?: { responsesFile?: string };
  };
  response?: { responsesFile?: string };
}

function describe(err: unknown): string {
  const f: ApiFailure = classify(err);
  return f.message;
}
