// The `gemini-batch` engine (DESIGN §6, §8, §14; reference/gemini-batch-api.md). One job is one Gemini batch:
//   1. intent: display name, keys and fingerprints go to the cache (saved) before anything is sent;
//   2. images are uploaded once per content hash (reused while their expiry is > 25 h away);
//   3. the JSONL input is written and uploaded, the batch created, and its name saved. A create whose
//      outcome is unknown is never followed by another until working lists, across a lag window, show the
//      batch absent (batch-lookup.ts); while the list fails the build stops and the intent waits;
//   4. the job is polled with jitter until it ends; a batch the API answers NOT_FOUND for, poll after poll,
//      is dropped and its pages re-queued uncharged; the result file is downloaded, streamed and joined on
//      keys (batch-results.ts);
//   5. a failed, cancelled or expired batch frees its records without charging them an attempt.
// Infrastructure failures (unreachable API, timeouts, 429, 5xx) never charge a page: past the outage budget
// the build stops and resumes next time. After a crash, recover() re-attaches every batch the journal holds
// as submitting or active.
import fs from 'node:fs';
import type { ResolvedConfig } from '../config/resolved.js';
import type { PreparedImage, PreparedRequest } from '../prepare/types.js';
import { EngineStop, type Engine, type EngineCounters, type Job, type Outcome } from './engine.js';
import { createLagMs, findByDisplayName, ListFailed, resolveCreate, type Lookup } from './gemini/batch-lookup.js';
import { NOT_FOUND_LIMIT, readResults, ResultsGone } from './gemini/batch-results.js';
import { createClient, endpointOf, type Client } from './gemini/client.js';
import { geminiBaseUrl } from './resolve.js';
import { authStop, classify, Outage, OutageError, raceAbort, sleep, withRetry, type ApiFailure } from './gemini/errors.js';
import { checkModel } from './gemini/preflight.js';
import { restRequest } from './gemini/request.js';
import type { BatchJournal, JournalRecord, OpenBatch } from './journal.js';
import type { BatchReport, UploadReport } from '../events.js';
import { tempPath } from '../util/fs.js';

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
  const retryBaseMs = o.retryBaseMs ?? 2000;
  let clientPromise: Promise<Client> | null = null;
  const client = () => (clientPromise ??= createClient({ root: o.root, engine: 'gemini-batch', apiVersion: o.config.rule.apiVersion }));
  const outage = new Outage(o.config.execution.outageSeconds * 1000, endpointOf(geminiBaseUrl(o.root)));
  const lookup: Lookup = { client, outage, retryBaseMs, log };
  let consecutiveFailures = 0;
  let authRefused: ApiFailure | null = null;
  const retry = <T>(fn: () => Promise<T>, signal: AbortSignal, what: string) =>
    withRetry(() => raceAbort(fn(), signal), { attempts: 8, baseMs: retryBaseMs, maxMs: 120_000, signal, outage, onRetry: (f, n, ms) => log(`${what}: ${f.message}; retry ${n} in ${(ms / 1000).toFixed(1)} s`) });

  /**
   * Upload every distinct prepared image once; returns its hash → file URI, or a failure and whether it is
   * the page's fault. Uploads are keyed by the bytes sent (the prepared image's hash), so a page prepared the
   * same way for another request reuses its upload, and a change of preparation uploads anew.
   */
  async function uploadImages(requests: readonly PreparedRequest[], signal: AbortSignal): Promise<Map<string, { uri: string; mime: string } | { error: string; charge: boolean }>> {
    const { ai } = await client();
    const byHash = new Map<string, PreparedRequest & { image: PreparedImage }>();
    for (const r of requests) if (!byHash.has(imageOf(r).hash)) byHash.set(imageOf(r).hash, r as PreparedRequest & { image: PreparedImage });
    const out = new Map<string, { uri: string; mime: string } | { error: string; charge: boolean }>();
    const queue = [...byHash.entries()].filter(([hash]) => {
      const known = o.journal.upload(hash);
      if (!known || Date.parse(known.expiresAt) - Date.now() <= REUSE_MARGIN_MS) return true;
      out.set(hash, { uri: known.uri, mime: known.mime });
      return false;
    });
    if (queue.length > 0) o.onUpload?.({ phase: 'queued', files: queue.length });
    let outageHit: OutageError | null = null;
    const worker = async () => {
      for (let next = queue.shift(); next && !outageHit && !signal.aborted; next = queue.shift()) {
        const [hash, r] = next;
        const mime = r.image.mime;
        try {
          const bytes = fs.readFileSync(r.image.path);
          const file = await retry(() => ai.files.upload({ file: new Blob([bytes], { type: mime }), config: { mimeType: mime, displayName: `ocrmake-image-${hash.slice(0, 16)}` } }), signal, `upload of ${r.page.image}`);
          if (!file?.name || !file.uri) throw new Error('the upload returned no file name');
          counters.uploads++;
          const expiresAt = file.expirationTime ?? new Date(Date.now() + 47 * 3600_000).toISOString();
          o.journal.recordUpload(hash, { fileName: file.name, uri: file.uri, mime, expiresAt });
          out.set(hash, { uri: file.uri, mime });
          o.onUpload?.({ phase: 'done', image: r.page.image ?? r.image.path, bytes: bytes.length });
        } catch (err) {
          if (err instanceof OutageError) outageHit = err;
          const f = classify(err);
          if (f.auth) authRefused = f;
          // A refused image (4xx) is the page's problem; an outage or a server error is not.
          out.set(hash, { error: `upload of ${r.page.image} failed: ${f.message}`, charge: !f.retryable && f.status !== 0 && !f.auth });
          o.onUpload?.({ phase: 'failed', image: r.page.image ?? r.image.path, message: f.message });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(UPLOAD_CONCURRENCY, queue.length) }, worker));
    if (outageHit) throw outageHit;
    return out;
  }

  /**
   * Creates the batch. A refusal (4xx but 429) is final; any other failure leaves the outcome unknown: the
   * batch is looked for until it shows or lists spanning the lag window prove it absent, and only then is
   * the create tried again. Throws ListFailed (the intent must wait for the next build) when the list fails.
   */
  async function create(displayName: string, inputFile: string, signal: AbortSignal): Promise<string> {
    const { ai } = await client();
    for (let attempt = 1; ; attempt++) {
      const sentAt = Date.now();
      try {
        const job = await raceAbort(ai.batches.create({ model: o.config.rule.model, src: inputFile, config: { displayName } }), signal);
        if (!job.name) throw new Error('batch create returned no name');
        outage.ok();
        return job.name;
      } catch (err) {
        const f = classify(err);
        if (!f.retryable) throw err;
        outage.fail(f);
        if (signal.aborted) throw err;
        log(`batch create of ${displayName}: ${f.message}; the batch may exist: looking for it before any new create (lists can trail creates by up to ${Math.round(createLagMs() / 1000)} s)`);
        const found = await resolveCreate(lookup, displayName, sentAt, o.pollSeconds * 1000, signal);
        if (found) return found;
        if (outage.exhausted) throw outage.error();
        if (attempt >= 8) throw err;
        const wait = Math.max(f.retryAfterMs ?? 0, Math.min(120_000, retryBaseMs * 2 ** (attempt - 1), outage.remainingMs));
        log(`batch create after ${f.message}: ${displayName} is not there; retry ${attempt} in ${(wait / 1000).toFixed(1)} s`);
        await sleep(wait, signal);
      }
    }
  }

  /**
   * Polls until the job ends; returns its final state and result file, or 'gone' after consistent NOT_FOUND
   * answers. A raw GET, not the SDK's get: the SDK drops `batchStats`, the progress the live panel shows
   * (reference §5.2).
   */
  async function poll(name: string, base: BatchReport, signal: AbortSignal): Promise<{ state: Terminal; resultFile: string | null } | 'gone'> {
    const c = await client();
    let last = '', lastProgress = '';
    let notFound = 0;
    for (;;) {
      let op: RawBatch;
      try {
        op = (await retry(() => c.rawGet(name), signal, `poll of ${name}`)) as RawBatch;
        notFound = 0;
      } catch (err) {
        if (signal.aborted) throw new AbortedError();
        if (classify(err).status !== 404) throw err;
        if (++notFound >= NOT_FOUND_LIMIT) return 'gone';
        log(`batch ${name} (${base.displayName}): NOT_FOUND (${notFound} of ${NOT_FOUND_LIMIT} before it is given up)`);
        await sleep(o.pollSeconds * 1000, signal);
        continue;
      }
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

  async function resultFileOf(c: Client, name: string): Promise<string | null> {
    const op = (await c.rawGet(name).catch(() => null)) as { metadata?: { output?: { responsesFile?: string } }; response?: { responsesFile?: string } } | null;
    return op?.metadata?.output?.responsesFile ?? op?.response?.responsesFile ?? null;
  }

  async function errorOf(name: string): Promise<string> {
    const c = await client();
    const op = (await c.rawGet(name).catch(() => null)) as { error?: { message?: string; code?: number } } | null;
    return op?.error?.message ? `${op.error.message} (code ${op.error.code ?? '?'})` : 'no reason given';
  }

  /** Every record of a batch, released without an attempt charged, with why. */
  function* release(records: readonly JournalRecord[], message: string, batch?: string): Generator<Outcome> {
    for (const r of records) yield { ok: false, key: r.key, fingerprint: r.fingerprint, class: 'api-error', message, charge: false, ...(batch ? { batch } : {}) };
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
          yield* release(records, 'the batch this page was being submitted in never appeared; it goes into a new batch (no attempt charged)');
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
    let end: Awaited<ReturnType<typeof poll>>;
    const polled: BatchReport = { name, displayName, phase: 'state', state: null, records: records.length, succeeded: 0, failed: 0, tokensIn: 0, tokensOut: 0, createdAt: createdAt ?? startedAt, endedAt: null };
    try {
      end = await poll(name, polled, signal);
    } catch (err) {
      if (err instanceof AbortedError || signal.aborted) return; // stays active in the journal: the next run re-attaches
      if (err instanceof OutageError) throw new EngineStop(`${err.message} (batch ${name} stays recorded)`);
      const f = classify(err);
      throw new EngineStop(f.auth ? authStop(f) : `lost contact with the Gemini API while polling ${name} (${f.message}); the batch stays recorded and the next build re-attaches it`);
    }
    const report: BatchReport = { name, displayName, phase: 'ended', state: null, records: records.length, succeeded: 0, failed: 0, tokensIn: 0, tokensOut: 0, createdAt: startedAt, endedAt: null };
    if (end === 'gone') {
      // The API no longer knows the batch (deleted, or lost): waiting longer would strand its pages forever.
      o.journal.finished(displayName, 'gone');
      yield* release(records, `batch ${name} no longer exists at the API (NOT_FOUND on ${NOT_FOUND_LIMIT} polls); the page goes into a new batch (no attempt charged)`, name);
      o.onBatch?.({ ...report, state: 'gone', failed: records.length, endedAt: new Date().toISOString() });
      return;
    }
    if (end.state === 'JOB_STATE_SUCCEEDED') {
      consecutiveFailures = 0;
      const c = await client();
      const fileName = end.resultFile ?? (await resultFileOf(c, name));
      const downloadPath = tempPath(o.tmpDir, `${name.replace(/\W/g, '_')}.jsonl`);
      try {
        fs.mkdirSync(o.tmpDir, { recursive: true });
        for await (const outcome of readResults({ client: c, name, fileName, records, downloadPath, signal, outage, retryBaseMs, log })) {
          if (outcome.ok) report.succeeded++;
          else report.failed++;
          report.tokensIn += outcome.tokensIn ?? 0;
          report.tokensOut += outcome.tokensOut ?? 0;
          yield outcome;
        }
      } catch (err) {
        if (signal.aborted) return;
        if (err instanceof ResultsGone) {
          o.journal.finished(displayName, 'results-gone');
          yield* release(records, `${err.message}; the page goes into a new batch (no attempt charged)`, name);
          return;
        }
        if (err instanceof OutageError) throw new EngineStop(`${err.message} (the results of ${name} are fetched by the next build)`);
        const f = classify(err);
        // Not finished in the journal: the next build re-attaches and downloads again (ingestion is idempotent).
        throw new EngineStop(f.auth ? authStop(f) : `could not read the results of ${name} (${f.message}); the next build re-attaches it`);
      }
      o.journal.finished(displayName, 'succeeded');
      o.onBatch?.({ ...report, state: 'succeeded', endedAt: new Date().toISOString() });
      // The input file has served its purpose (it would expire after 48 h anyway).
      const input = resume?.inputFile ?? inputFile;
      if (input) void client().then((cl) => cl.ai.files.delete({ name: input })).catch(() => {});
      return;
    }
    const why = await errorOf(name);
    const state = end.state.replace('JOB_STATE_', '').toLowerCase();
    yield* release(records, `batch ${name} ended ${state.toUpperCase()}: ${why}; the page goes into a new batch (no attempt charged)`, name);
    o.journal.finished(displayName, state);
    o.onBatch?.({ ...report, state, failed: records.length, endedAt: new Date().toISOString() });
    if (++consecutiveFailures >= MAX_BATCH_FAILURES) {
      throw new EngineStop(`${consecutiveFailures} batches in a row ended FAILED, CANCELLED or EXPIRED (last: ${name}, ${why}). Stopping; check the Gemini status and quota, then build again.`);
    }
  }

  /** A create sent by a process that died may land late: look for it until the window has passed. */
  async function awaitCreate(displayName: string, since: number, signal: AbortSignal): Promise<string | null> {
    for (;;) {
      const found = await findOrStop(displayName, signal);
      if (found || signal.aborted || Date.now() - since > Math.max(CREATE_WINDOW_MS, createLagMs())) return found;
      await sleep(Math.max(1000, o.pollSeconds * 1000), signal);
    }
  }

  /** findByDisplayName, with a failing list turned into a stop that keeps the intent for the next build. */
  async function findOrStop(displayName: string, signal: AbortSignal): Promise<string | null> {
    try {
      return await findByDisplayName(lookup, displayName, signal);
    } catch (err) {
      if (signal.aborted) return null;
      throw new EngineStop(listStop(displayName, err));
    }
  }

  function listStop(displayName: string, err: unknown): string {
    const why = err instanceof OutageError || err instanceof ListFailed ? err.message : classify(err).message;
    return (
      `batch ${displayName} may have been created, and the batch list at ${outage.endpoint} cannot be read to check (${why}); ` +
      'stopping before any new create, so that nothing is paid twice. No page was charged; the next build looks for the batch first.'
    );
  }

  /** Steps 2–3: uploads, input file, create. Yields failures for pages that cannot be sent. */
  async function* submit(requests: readonly PreparedRequest[], displayName: string, signal: AbortSignal): AsyncGenerator<Outcome, { name: string; records: JournalRecord[]; inputFile: string; createdAt: string } | null> {
    let uploads: Awaited<ReturnType<typeof uploadImages>>;
    try {
      uploads = await uploadImages(requests, signal);
    } catch (err) {
      o.journal.finished(displayName, 'not-created');
      if (err instanceof OutageError) throw new EngineStop(err.message);
      throw err;
    }
    if (signal.aborted) {
      o.journal.finished(displayName, 'not-created');
      return null;
    }
    if (authRefused) {
      const message = authStop(authRefused);
      o.journal.finished(displayName, 'not-created');
      for (const r of requests) yield { ok: false, key: r.key, fingerprint: r.fingerprint, class: 'upload-error', message, charge: false };
      throw new EngineStop(message);
    }
    const lines: string[] = [];
    const sent: JournalRecord[] = [];
    for (const r of requests) {
      const u = uploads.get(imageOf(r).hash);
      if (!u || 'error' in u) {
        yield { ok: false, key: r.key, fingerprint: r.fingerprint, class: 'upload-error', message: u && 'error' in u ? u.error : 'image not uploaded', charge: u && 'error' in u ? u.charge : false };
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
    const inputPath = tempPath(o.tmpDir, `${displayName}.jsonl`);
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
      const creating = o.journal.open().some((b) => b.displayName === displayName && b.state === 'creating');
      if (creating && (signal.aborted || err instanceof ListFailed || err instanceof OutageError || classify(err).retryable)) {
        // The create may have landed: the intent stays, uncharged, for the next build to resolve.
        if (signal.aborted) return null;
        throw new EngineStop(err instanceof OutageError ? `${err.message} (batch ${displayName} may exist: the next build looks for it first)` : listStop(displayName, err));
      }
      o.journal.finished(displayName, 'not-created');
      if (err instanceof OutageError) throw new EngineStop(err.message);
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
    images: 'gemini',
    jobSize: o.config.execution.batchSize,
    maxJobs: o.config.execution.maxConcurrentBatches,
    counters,
    async preflight(signal) {
      await checkModel({ client: await client(), model: o.config.rule.model, engine: 'gemini-batch', rule: o.config.rule.name, signal, retryBaseMs });
    },
    run: runJob,
    async recover(): Promise<Job[]> {
      const jobs: Job[] = [];
      const signal = new AbortController().signal;
      for (const b of o.journal.open()) {
        let name = b.name;
        if (!name) {
          // The process died between the intent and recording the job: adopt the job if it exists.
          try {
            name = await findByDisplayName(lookup, b.displayName, signal);
          } catch (err) {
            throw new EngineStop(
              `could not list batches at ${outage.endpoint} to re-attach ${b.displayName} (${(err as Error).message}); nothing was sent and no page was charged. ` +
                'Build again when the Gemini API answers.',
            );
          }
          const window = Math.max(CREATE_WINDOW_MS, createLagMs());
          if (!name && b.state === 'creating' && Date.now() - Date.parse(b.updatedAt) < window) {
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

function imageOf(r: PreparedRequest): PreparedImage {
  if (!r.image) throw new Error(`gemini-batch: ${r.key} came without its prepared image`);
  return r.image;
}

/** The parts of a raw batch Operation that polling reads (reference §5.2: counts are strings, zeros omitted). */
interface RawBatch {
  metadata?: {
    state?: string;
    batchStats?: { requestCount?: string; successfulRequestCount?: string; failedRequestCount?: string };
    output?: { responsesFile?: string };
  };
  response?: { responsesFile?: string };
}
