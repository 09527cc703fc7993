// A faithful fake of the Gemini Files + Batch + generateContent API for tests, served over HTTP on
// 127.0.0.1 so the real, unmodified @google/genai SDK (in this process or a child process pointed at it
// with GOOGLE_GEMINI_BASE_URL) talks to it exactly as to Google. See README.md for the design.
import { BatchStore, type BatchInfo, type BatchTiming } from './batches.js';
import { DEFAULT_START, LogicalClock } from './clock.js';
import { FaultPlan } from './faults.js';
import { FileStore, type FileInfo } from './files.js';
import { Recorder, type Counters, type LoggedRequest, type RecordEntry } from './log.js';
import { ModelCatalogue, DEFAULT_FAKE_MODELS, type FakeModel } from './catalogue.js';
import { Models } from './models.js';
import type { ImageInput } from './requests.js';
import { defaultReplier, type GroundTruth, type Replier } from './replies.js';
import type { RouteName } from './routes.js';
import { FakeServer } from './server.js';
import { Uploads } from './uploads.js';

export type { BatchInfo, BatchTiming } from './batches.js';
export { DEFAULT_FAKE_MODELS, type FakeModel } from './catalogue.js';
export type { LogicalClock } from './clock.js';
export type {
  BatchEnd,
  BatchFaultContext,
  FaultContext,
  FaultPlan,
  RecordFault,
  RecordFaultKind,
  RecordMatch,
  RouteFault,
  RouteFaultShorthand,
  RouteFaultSpec,
  Times,
} from './faults.js';
export type { FileInfo } from './files.js';
export type { CounterName, Counters, LoggedRequest, RecordEntry } from './log.js';
export type { BatchState } from './operation.js';
export type { GroundTruth, Replier, ReplySpec } from './replies.js';
export type { ImageInput, ReplyRequest } from './requests.js';
export type { RouteName } from './routes.js';
export { loadDatasetPages, loadGroundTruth, type DatasetPage } from './ground-truth.js';
export { defaultReplier, pageOcrReply, splitParagraphs } from './replies.js';
export { CONTEXT_END, CONTEXT_START, extractContext, sha256Hex } from './requests.js';
export { COUNTER_NAMES } from './log.js';
export { ROUTE_NAMES } from './routes.js';

export interface FakeGeminiOptions {
  /** Expected x-goog-api-key; any other (or none) gets 400 API_KEY_INVALID. Default: any key accepted. */
  apiKey?: string;
  /** Decides every reply. Default: defaultReplier(groundTruth), a page_ocr JSON object. */
  replier?: Replier;
  /** image sha256 hex → ground-truth text, for the default replier (see loadGroundTruth). */
  groundTruth?: GroundTruth;
  /** How batches move on. Default { pendingPolls: 1, runningPolls: 1 }; 'manual': only advanceBatches()/clock. */
  batchTiming?: BatchTiming | 'manual';
  /** Write result lines in a deterministic shuffled order instead of input order. */
  shuffleResults?: boolean;
  /** Upload MIME types refused with 400 "Unsupported MIME type: …" (e.g. ['jsonl']). */
  rejectMimeTypes?: readonly string[];
  /** Serve downloads of UPLOADED files too (the live API serves only GENERATED ones). */
  allowUploadedDownload?: boolean;
  /** Start of the logical clock. Default 2026-11-20T10:00:00Z. */
  startTime?: number | string | Date;
  /** Logical lifetime of uploaded files. Default 48 h. */
  fileTtlMs?: number;
  /** thoughtsTokenCount of every reply unless the replier says otherwise; 0 omits it. Default 32. */
  thoughtsTokenCount?: number;
  /** Port on 127.0.0.1. Default 0 (ephemeral). */
  port?: number;
  /** The models served (models.get/list; any other model answers 404 on every model route). Default DEFAULT_FAKE_MODELS. */
  models?: readonly FakeModel[];
  /** The modelVersion replies name: default the requested model; another name plays Google routing it. */
  modelVersion?: string | ((model: string) => string);
  /** Real milliseconds a new batch stays out of batches.list (the live list trails creates). Default 0. */
  listLagMs?: number;
}

export interface FakeGemini {
  /** `http://127.0.0.1:<port>`: httpOptions.baseUrl or GOOGLE_GEMINI_BASE_URL. */
  readonly url: string;
  readonly port: number;
  readonly clock: LogicalClock;
  readonly faults: FaultPlan;
  /** Live counters, one per route plus totals (see COUNTER_NAMES). */
  readonly counters: Readonly<Counters>;
  /** Every request, in arrival order. */
  readonly requests: readonly LoggedRequest[];
  /** Internal errors (a throwing replier, a bug in the fake); tests should expect it empty. */
  readonly errors: readonly Error[];
  requestsFor(route: RouteName | 'unknown'): LoggedRequest[];
  batches(): BatchInfo[];
  batch(name: string): BatchInfo | undefined;
  files(): FileInfo[];
  /** Bytes of a stored file (`files/<id>` or id), deleted and expired ones included. */
  fileBytes(name: string): Buffer | undefined;
  /** Every model request: batch records (at create) and generateContent calls. */
  records(): readonly RecordEntry[];
  /** JSONL key → the context its latest request carried (trimmed text between the markers), null for none. */
  contextByKey(): Map<string, string | null>;
  /** Moves every active batch one state forward (PENDING → RUNNING → its end); returns how many moved. */
  advanceBatches(): number;
  /** Distinct batch rounds since start or the last resetCounters(). */
  rounds(): number;
  /** Zeroes counters, clears the request, record and error logs, and starts a new round count. State stays. */
  resetCounters(): void;
  /** Stops listening and destroys every socket, hung ones included. */
  close(): Promise<void>;
}

export async function startFakeGemini(options: FakeGeminiOptions = {}): Promise<FakeGemini> {
  const clock = new LogicalClock(options.startTime === undefined ? DEFAULT_START : new Date(options.startTime).getTime());
  const recorder = new Recorder();
  const faults = new FaultPlan();
  const files = new FileStore(clock, options.fileTtlMs ?? 48 * 3600_000, options.allowUploadedDownload ?? false);
  const replier = options.replier ?? defaultReplier(options.groundTruth);
  const catalogue = new ModelCatalogue(options.models ?? DEFAULT_FAKE_MODELS, options.modelVersion);
  const render = {
    thoughtsTokenCount: options.thoughtsTokenCount ?? 32,
    modelVersion: (model: string) => catalogue.versionOf(model),
    imageTokens: (model: string, image: ImageInput, resolution: unknown) => catalogue.imageTokens(model, image, resolution),
  };
  const timing = options.batchTiming === 'manual' ? { pendingPolls: Infinity, runningPolls: Infinity } : (options.batchTiming ?? {});
  const batches = new BatchStore({
    clock,
    files,
    faults,
    recorder,
    replier,
    render,
    shuffleResults: options.shuffleResults ?? false,
    listLagMs: options.listLagMs ?? 0,
    timing: {
      pendingPolls: timing.pendingPolls ?? 1,
      runningPolls: timing.runningPolls ?? 1,
      pendingMs: timing.pendingMs,
      runningMs: timing.runningMs,
      expireAfterMs: timing.expireAfterMs ?? 48 * 3600_000,
    },
  });
  const uploads = new Uploads(files, options.rejectMimeTypes ?? [], { onResend: () => recorder.count('upload_resend') });
  const models = new Models({ files, faults, recorder, replier, render });
  const server = new FakeServer({ recorder, faults, files, uploads, batches, models, catalogue, apiKey: options.apiKey });
  await server.listen(options.port ?? 0);
  const url = server.url;

  return {
    url,
    port: Number(new URL(url).port),
    clock,
    faults,
    counters: recorder.counters,
    requests: recorder.requests,
    errors: recorder.errors,
    requestsFor: (route) => recorder.requests.filter((r) => r.route === route),
    batches: () => batches.infos(),
    batch: (name) => batches.infos().find((b) => b.name === name || b.name === `batches/${name}`),
    files: () => files.infos(),
    fileBytes: (name) => files.bytesOf(name),
    records: () => recorder.records,
    contextByKey: () => {
      const map = new Map<string, string | null>();
      for (const r of recorder.records) if (r.key !== undefined) map.set(r.key, r.context);
      return map;
    },
    advanceBatches: () => batches.advanceAll(),
    rounds: () => batches.rounds(),
    resetCounters: () => {
      recorder.reset();
      batches.markEpoch();
    },
    close: () => server.close(),
  };
}
