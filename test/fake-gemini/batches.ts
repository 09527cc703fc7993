// The Batch API store and its lifecycle, PENDING → RUNNING → SUCCEEDED (or a scripted end), driven by
//   polls:  each GET of a batch counts; after `pendingPolls` answers in PENDING it is RUNNING, after
//           `runningPolls` answers in RUNNING it ends (so a CLI in another process gets results);
//   time:   `pendingMs` / `runningMs` on the logical clock, and EXPIRED after `expireAfterMs` (48 h);
//   hand:   advanceAll() moves every active batch one state forward.
// Each batch gets a round: 1 + the highest round among batches already ended when it was created, so a
// build that waits for results before submitting more shows up as several sequential rounds.
import type { LogicalClock } from './clock.js';
import { readBatchInput, type BatchLine } from './batch-input.js';
import type { BatchEnd, FaultPlan } from './faults.js';
import type { FileStore } from './files.js';
import type { Recorder, RecordEntry } from './log.js';
import { renderOperation, TERMINAL, type BatchState } from './operation.js';
import type { Replier } from './replies.js';
import { renderOutcome, type Outcome, type RenderOptions } from './responses.js';
import { asObject, errorReply, field, json, paginate, randomId, type Reply } from './wire.js';

export interface BatchTiming {
  /** GETs answered PENDING before the batch is RUNNING (default 1; Infinity: polls never move it). */
  pendingPolls?: number;
  /** GETs answered RUNNING before the batch ends (default 1). */
  runningPolls?: number;
  /** Logical ms in PENDING before RUNNING (default: never by time). */
  pendingMs?: number;
  /** Logical ms in RUNNING before the end (default: never by time). */
  runningMs?: number;
  /** Logical ms after create at which an active batch becomes EXPIRED (default 48 h). */
  expireAfterMs?: number;
}

export interface BatchInfo {
  readonly name: string;
  readonly displayName: string | undefined;
  readonly model: string;
  readonly mode: 'file' | 'inline';
  readonly state: BatchState;
  /** JSONL keys (inline: metadata.key) in input order. */
  readonly keys: ReadonlyArray<string | undefined>;
  readonly inputFile: string | undefined;
  readonly outputFile: string | undefined;
  /** Logical ms. */
  readonly createdAt: number;
  readonly endedAt: number | undefined;
  readonly round: number;
  /** GETs of this batch so far. */
  readonly polls: number;
  readonly deleted: boolean;
}

interface Batch {
  readonly id: string;
  readonly name: string;
  readonly model: string;
  readonly displayName: string | undefined;
  readonly mode: 'file' | 'inline';
  readonly inputConfig: Record<string, unknown>;
  readonly inputFile: string | undefined;
  readonly lines: readonly BatchLine[];
  readonly entries: readonly RecordEntry[];
  readonly plannedEnd: BatchEnd | 'SUCCEEDED';
  readonly createdAt: number;
  /** Wall-clock ms of the create, for listLagMs. */
  readonly createdRealMs: number;
  readonly createdSeq: number;
  readonly round: number;
  state: BatchState;
  stateSince: number;
  answeredInState: number;
  polls: number;
  updatedAt: number;
  endedAt: number | undefined;
  endedSeq: number | undefined;
  outcomes: Outcome[] | undefined;
  outputFile: string | undefined;
  deleted: boolean;
}

export interface BatchStoreDeps {
  readonly clock: LogicalClock;
  readonly files: FileStore;
  readonly faults: FaultPlan;
  readonly recorder: Recorder;
  readonly replier: Replier;
  readonly timing: Required<Pick<BatchTiming, 'pendingPolls' | 'runningPolls' | 'expireAfterMs'>> & Pick<BatchTiming, 'pendingMs' | 'runningMs'>;
  readonly shuffleResults: boolean;
  readonly render: RenderOptions;
  /** Real milliseconds a new batch stays out of lists (the live list can trail creates by seconds). */
  readonly listLagMs: number;
}

export class BatchStore {
  readonly #deps: BatchStoreDeps;
  readonly #batches = new Map<string, Batch>();
  #seq = 0;
  #epochSeq = 0;

  constructor(deps: BatchStoreDeps) {
    this.#deps = deps;
    deps.clock.onAdvance((now) => {
      for (const batch of this.#active()) this.#tick(batch, now);
    });
  }

  create(model: string, body: unknown): Reply {
    const batchBody = asObject(field(asObject(body), 'batch'));
    if (!batchBody) return errorReply(400, 'Request needs a "batch" object.');
    const id = randomId(36);
    const name = `batches/${id}`;
    const input = readBatchInput(asObject(field(batchBody, 'inputConfig')), model, name, this.#deps.files);
    if (!input.ok) return input.reply;
    const rawDisplayName = field(batchBody, 'displayName');
    const displayName = typeof rawDisplayName === 'string' ? rawDisplayName : undefined;
    const keys = input.lines.flatMap((l) => (l.key === undefined ? [] : [l.key]));
    const plannedEnd = this.#deps.faults.takeBatch({ displayName, model, keys }) ?? 'SUCCEEDED';
    const now = this.#deps.clock.now();
    const round = 1 + Math.max(0, ...[...this.#batches.values()].filter((b) => b.endedSeq !== undefined).map((b) => b.round));
    const entries = input.lines.map((line): RecordEntry => {
      const request = line.built.ok ? line.built.request : undefined;
      return {
        key: line.key,
        via: input.mode === 'file' ? 'batch-file' : 'batch-inline',
        batch: name,
        model,
        imageSha256: request?.imageSha256,
        context: request?.context ?? null,
        contextHash: request?.contextHash ?? null,
        outcome: undefined,
      };
    });
    this.#deps.recorder.records.push(...entries);
    this.#deps.recorder.count('batches_created');
    const batch: Batch = {
      id,
      name,
      model,
      displayName,
      mode: input.mode,
      inputConfig: input.inputConfig,
      inputFile: input.inputFile,
      lines: input.lines,
      entries,
      plannedEnd,
      createdAt: now,
      createdRealMs: Date.now(),
      createdSeq: ++this.#seq,
      round,
      state: 'PENDING',
      stateSince: now,
      answeredInState: 0,
      polls: 0,
      updatedAt: now,
      endedAt: undefined,
      endedSeq: undefined,
      outcomes: undefined,
      outputFile: undefined,
      deleted: false,
    };
    this.#batches.set(id, batch);
    return json(this.#operation(batch, false));
  }

  /** A GET: counts as a poll, which may move the batch on before it is answered. */
  get(id: string): Reply {
    const batch = this.#find(id);
    if (!batch) return notFound(id);
    batch.polls += 1;
    const { pendingPolls, runningPolls } = this.#deps.timing;
    this.#tick(batch, this.#deps.clock.now());
    if (batch.state === 'PENDING' && batch.answeredInState >= pendingPolls) this.#enter(batch, 'RUNNING', this.#deps.clock.now());
    if (batch.state === 'RUNNING' && batch.answeredInState >= runningPolls) this.#end(batch, batch.plannedEnd);
    batch.answeredInState += 1;
    return json(this.#operation(batch, false));
  }

  list(query: URLSearchParams): Reply {
    const shownSince = Date.now() - this.#deps.listLagMs;
    const live = [...this.#batches.values()].filter((b) => !b.deleted && b.createdRealMs <= shownSince).reverse();
    const page = paginate(live, query, 10, 100);
    if (!page.ok) return page.reply;
    const body: Record<string, unknown> = { operations: page.items.map((b) => this.#operation(b, true)) };
    if (page.nextPageToken !== undefined) body['nextPageToken'] = page.nextPageToken;
    return json(body);
  }

  /** Cancels an active batch at once; cancelling an ended one changes nothing. */
  cancel(id: string): Reply {
    const batch = this.#find(id);
    if (!batch) return notFound(id);
    if (!TERMINAL.has(batch.state)) this.#end(batch, 'CANCELLED');
    return json({});
  }

  delete(id: string): Reply {
    const batch = this.#find(id);
    if (!batch) return notFound(id);
    batch.deleted = true;
    return json({});
  }

  /** Moves every active batch one state forward; returns how many moved. */
  advanceAll(): number {
    const active = this.#active();
    for (const batch of active) {
      if (batch.state === 'PENDING') this.#enter(batch, 'RUNNING', this.#deps.clock.now());
      else this.#end(batch, batch.plannedEnd);
    }
    return active.length;
  }

  infos(): BatchInfo[] {
    return [...this.#batches.values()].map((b) => ({
      name: b.name,
      displayName: b.displayName,
      model: b.model,
      mode: b.mode,
      state: b.state,
      keys: b.lines.map((l) => l.key),
      inputFile: b.inputFile,
      outputFile: b.outputFile,
      createdAt: b.createdAt,
      endedAt: b.endedAt,
      round: b.round,
      polls: b.polls,
      deleted: b.deleted,
    }));
  }

  /** Distinct rounds among batches created since the last markEpoch(). */
  rounds(): number {
    return new Set([...this.#batches.values()].filter((b) => b.createdSeq > this.#epochSeq).map((b) => b.round)).size;
  }

  markEpoch(): void {
    this.#epochSeq = this.#seq;
  }

  #find(id: string): Batch | undefined {
    const batch = this.#batches.get(id);
    return batch && !batch.deleted ? batch : undefined;
  }

  #active(): Batch[] {
    return [...this.#batches.values()].filter((b) => !b.deleted && !TERMINAL.has(b.state));
  }

  /** Time-based moves; a long jump can pass through several states. */
  #tick(batch: Batch, now: number): void {
    const { pendingMs, runningMs, expireAfterMs } = this.#deps.timing;
    if (TERMINAL.has(batch.state)) return;
    if (batch.state === 'PENDING' && pendingMs !== undefined && now - batch.stateSince >= pendingMs) {
      this.#enter(batch, 'RUNNING', batch.stateSince + pendingMs);
    }
    const expiresAt = batch.createdAt + expireAfterMs;
    const endsAt = batch.state === 'RUNNING' && runningMs !== undefined ? batch.stateSince + runningMs : Infinity;
    if (now >= Math.min(endsAt, expiresAt)) this.#end(batch, endsAt <= expiresAt ? batch.plannedEnd : 'EXPIRED');
  }

  #enter(batch: Batch, state: BatchState, at: number): void {
    batch.state = state;
    batch.stateSince = at;
    batch.answeredInState = 0;
    batch.updatedAt = this.#deps.clock.now();
  }

  #end(batch: Batch, state: BatchEnd | 'SUCCEEDED'): void {
    if (state === 'SUCCEEDED') this.#produceResults(batch);
    this.#enter(batch, state, this.#deps.clock.now());
    batch.endedAt = this.#deps.clock.now();
    batch.endedSeq = ++this.#seq;
  }

  #produceResults(batch: Batch): void {
    const { replier, faults, render, files, recorder } = this.#deps;
    const outcomes = batch.lines.map((line, i): Outcome => {
      const entry = batch.entries[i];
      recorder.count('records');
      if (!line.built.ok) {
        if (entry) entry.outcome = 'unresolved-file';
        return { kind: 'error', error: { code: line.built.code, message: line.built.message } };
      }
      const outcome = renderOutcome(line.built.request, replier(line.built.request), faults.takeRecord(line.built.request), render);
      if (entry) entry.outcome = outcome.kind;
      return outcome;
    });
    batch.outcomes = outcomes;
    if (batch.mode !== 'file') return;
    const order = outcomes.map((_, i) => i);
    if (this.#deps.shuffleResults) shuffle(order, batch.id);
    let text = '';
    for (const i of order) {
      const outcome = outcomes[i];
      const key = batch.lines[i]?.key;
      if (!outcome || outcome.kind === 'missing') continue;
      const line = outcome.kind === 'response' ? { response: outcome.response, key }
        : outcome.kind === 'error' ? { error: outcome.error, key }
          : { key };
      text += `${JSON.stringify(line)}\n`;
    }
    const file = files.add({ id: `batch-${batch.id}`, displayName: `${batch.name} results`, mimeType: 'application/jsonl', bytes: Buffer.from(text), source: 'GENERATED' });
    batch.outputFile = file.name;
  }

  #operation(batch: Batch, forList: boolean): Record<string, unknown> {
    return renderOperation(
      {
        name: batch.name,
        model: batch.model,
        displayName: batch.displayName,
        inputConfig: batch.inputConfig,
        state: batch.state,
        requestCount: batch.lines.length,
        createdAt: batch.createdAt,
        updatedAt: batch.updatedAt,
        endedAt: batch.endedAt,
        outputFile: batch.outputFile,
        outcomes: batch.outcomes,
        metadata: batch.lines.map((l) => l.metadata),
      },
      forList,
    );
  }
}

function notFound(id: string): Reply {
  return errorReply(404, `Requested entity was not found: batches/${id}.`);
}

/** A deterministic Fisher–Yates shuffle seeded by the batch id. */
function shuffle(order: number[], seed: string): void {
  let state = [...seed].reduce((h, c) => (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0, 7);
  for (let i = order.length - 1; i > 0; i--) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    const j = state % (i + 1);
    const a = order[i];
    const b = order[j];
    if (a === undefined || b === undefined) continue;
    order[i] = b;
    order[j] = a;
  }
}
