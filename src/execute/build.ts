// The build loop (DESIGN §6): plan, restore what the result store already has, hand the rest of the
// frontier to the engine in jobs, ingest outcomes as they arrive, re-plan only the chains they touch, and
// refill free job slots at once (no wave barrier) until nothing is stale or in flight.
import type { EngineName } from '../config/define.js';
import type { FailureClass } from '../cache/records.js';
import { acquireLock } from '../cache/lock.js';
import { ExitCode, ExitSignal } from '../errors.js';
import type { Emit, Summary } from '../events.js';
import type { Chain } from '../graph/page.js';
import type { Engine, Job, Outcome } from '../engines/engine.js';
import { createLocalEngine } from '../engines/local.js';
import { createBatchEngine, type BatchEngine } from '../engines/gemini-batch.js';
import { EngineStop } from '../engines/engine.js';
import { createGeminiEngine } from '../engines/gemini-interactive.js';
import { cacheJournal } from './journal.js';
import path from 'node:path';
import { plan } from '../plan/planner.js';
import { STATES, type AttemptInfo, type State, type TargetPlan } from '../plan/types.js';
import type { Fingerprint, TargetKey } from '../types.js';
import { Heap } from '../util/heap.js';
import { sha256 } from '../util/hash.js';
import { serialise, writeOutput } from './outputs.js';
import { formatUsd, type CostEstimate } from '../plan/estimate.js';
import { costOf } from '../report/pricing.js';
import { estimatePlan } from './estimate-inputs.js';
import { attemptsOf, CACHE_DIR, openProject, type Project } from './project.js';
import { resolveSelection } from './selection.js';

export interface BuildOptions {
  root: string;
  cwd: string;
  selectors: readonly string[];
  dryRun: boolean;
  force: boolean;
  engine?: 'auto' | EngineName;
  emit: Emit;
  signal?: AbortSignal;
  /** Tests and the bench inject an engine; otherwise one is made for the chosen engine name. */
  createEngine?: (p: Project, pages: number) => Engine;
  /** How often the cache is saved while an engine without batches runs. */
  saveEveryMs?: number;
  /** Batch poll interval (overrides the ocrfile's execution.pollSeconds). */
  pollSeconds?: number;
  /** USD: refuse to start (exit 1, nothing sent) when the plan's cost estimate is above it. */
  maxCost?: number;
}

export interface BuildResult {
  exitCode: number;
  summary: Summary;
}

export async function runBuild(opts: BuildOptions): Promise<BuildResult> {
  const started = Date.now();
  // The lock comes first: opening the cache may move a corrupt file aside, which only the holder may do.
  const lock = opts.dryRun ? null : acquireLock(path.join(opts.root, CACHE_DIR), 'build');
  try {
    const p = await openProject({ root: opts.root, engine: opts.engine, emit: opts.emit });
    try {
      return await buildProject(p, opts, started);
    } finally {
      p.store.close();
    }
  } finally {
    lock?.release();
  }
}

/** One build on an open project (the caller holds the lock unless it is a dry run). Used by build and watch. */
export async function buildProject(p: Project, opts: BuildOptions, started = Date.now(), hooks?: (loop: BuildLoop) => void): Promise<BuildResult> {
  const loop = new BuildLoop(p, opts, started);
  hooks?.(loop);
  try {
    const result = await loop.run();
    const s = result.summary;
    // A no-op build records no run row: the row alone would make the save rewrite the whole cache.
    const didSomething = s.built + s.restored + s.failed + s.requests + p.fingerprints.recovered.length > 0;
    if (!opts.dryRun && didSomething) {
      p.store.recordRun(`${new Date(started).toISOString()}-${process.pid}`, 'build', new Date(started).toISOString(), new Date().toISOString(), result.exitCode, result.summary);
    }
    return result;
  } finally {
    await loop.close();
    if (!opts.dryRun) p.store.save();
  }
}

export class BuildLoop {
  readonly #p: Project;
  readonly #opts: BuildOptions;
  readonly #started: number;
  readonly #selected: Set<TargetKey>;
  readonly #forced: Set<TargetKey>;
  readonly #plans = new Map<TargetKey, TargetPlan>();
  readonly #attempts: Map<TargetKey, AttemptInfo>;
  readonly #inflight = new Map<TargetKey, Fingerprint>();
  /** The job that holds each in-flight mark: only that job's answer (or its silence) may clear it. */
  readonly #owner = new Map<TargetKey, string>();
  #jobSeq = 0;
  readonly #remaining = new Map<TargetKey, number>();
  readonly #heap: Heap<TargetKey>;
  /** Keys in the heap: a key is queued at most once however often its chain is re-planned. */
  readonly #queued = new Set<TargetKey>();
  readonly #events: Array<{ outcome: Outcome | null; job?: string } | { done: Job; error: unknown }> = [];
  #wake: (() => void) | null = null;
  #engine: Engine | null = null;
  #running = 0;
  #lastSave = Date.now();
  #saveNow = false;
  #slotFreed = true;
  /** Set when the engine asked the build to stop (repeated batch failures): no new jobs. */
  #stopped: string | null = null;
  readonly #counts = { built: 0, restored: 0, cutoff: 0, failed: 0, tokensIn: 0, tokensOut: 0 };
  /** When each request went out, and what it said (for record events). */
  readonly #sent = new Map<TargetKey, { at: number; prompt: string | null; previousContext: string | null }>();

  constructor(p: Project, opts: BuildOptions, started: number) {
    this.#p = p;
    this.#opts = opts;
    this.#started = started;
    const sel = resolveSelection(p, opts.selectors, opts.cwd);
    this.#selected = sel.keys;
    this.#forced = opts.force ? new Set(sel.explicit) : new Set();
    this.#attempts = attemptsOf(p);
    for (const chain of p.index.chains) {
      chain.pages.forEach((pg, i) => this.#remaining.set(pg.key, p.fingerprints.chainDependent ? chain.pages.length - i : 1));
    }
    this.#heap = new Heap<TargetKey>((a, b) => {
      const ra = this.#remaining.get(a) ?? 0, rb = this.#remaining.get(b) ?? 0;
      return ra !== rb ? ra > rb : a < b;
    });
  }

  async run(): Promise<BuildResult> {
    const p = this.#p;
    const emit = this.#opts.emit;
    emit({ event: 'start', engine: p.engine, targets: p.pages.length, selected: this.#selected.size });
    for (const key of p.fingerprints.recovered) emit({ event: 'recovered', key, output: p.index.byKey.get(key)!.output });
    for (const chain of p.index.chains) this.#replan(chain);
    const estimate = await this.#emitPlan();
    if (this.#opts.dryRun) {
      for (const key of this.#selected) {
        const t = this.#plans.get(key)!;
        if (t.state !== 'fresh' && t.state !== 'edited') emit({ event: 'stale', key, state: t.state, reasons: t.reasons });
      }
      return this.#finish();
    }
    const overBudget = this.#overBudget(estimate);
    if (overBudget) {
      // Before any upload, batch or request: the build sends nothing.
      this.#stopped = overBudget;
      emit({ event: 'stopped', message: overBudget });
      return this.#finish();
    }
    await this.#recover();
    await this.#loop();
    if (this.#opts.signal?.aborted) {
      this.#p.store.save();
      throw new ExitSignal(ExitCode.interrupted, 'interrupted: the cache is saved; run the build again to continue.');
    }
    return this.#finish();
  }

  /** Re-attaches batches a previous process left in flight (DESIGN §6, crash safety). */
  async #recover(): Promise<void> {
    const p = this.#p;
    if (p.engine !== 'gemini-batch' || cacheJournal(p.store, p.engine).open().length === 0) return;
    const engine = this.#engineNow() as BatchEngine;
    if (!engine.recover) return;
    for (const job of await engine.recover()) {
      const records = job.records ?? [];
      for (const r of records) {
        this.#inflight.set(r.key, r.fingerprint);
        this.#owner.set(r.key, job.id);
      }
      this.#opts.emit({ event: 'engine', message: `re-attached ${job.id} (${records.length} pages)` });
      this.#pump(engine, job);
    }
    for (const chain of p.index.chains) this.#replan(chain);
  }

  async #loop(): Promise<void> {
    for (;;) {
      this.#drainEvents();
      // Saves happen only here, right after a full drain: an engine may mark its batch finished only
      // after yielding every outcome, so a saved "finished" always comes with those outcomes ingested.
      if (this.#saveNow || Date.now() - this.#lastSave >= (this.#opts.saveEveryMs ?? 2000)) this.#save();
      // Batched engines refill when a job ends, with every page its results unlocked in one new batch;
      // a slot is still refilled as soon as any batch ends (no wave barrier).
      if (!this.#opts.signal?.aborted && !this.#stopped && (this.#slotFreed || (this.#engine?.jobSize ?? 1) === 1)) {
        this.#slotFreed = false;
        this.#fill();
      }
      if (this.#running === 0 && this.#events.length === 0) break;
      if (this.#events.length === 0) await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  #save(): void {
    this.#p.store.save();
    this.#lastSave = Date.now();
    this.#saveNow = false;
  }

  /**
   * Pages whose files changed while this build runs (watch): recompute their requests and re-plan their
   * chains. A page in flight keeps its batch; its result, if no longer current, goes to the result store
   * only (superseded) and the new request is built.
   */
  invalidate(keys: Iterable<TargetKey>): void {
    const p = this.#p;
    for (const key of keys) {
      const page = p.index.byKey.get(key);
      if (!page) continue;
      if (p.fingerprints.chainDependent) p.fingerprints.recomputeFrom(key);
      else p.fingerprints.computeOne(page);
      this.#replan(p.index.chainOf.get(key)!);
    }
    this.#push({ outcome: null });
  }

  /** Re-plans one chain and queues its buildable targets. */
  #replan(chain: Chain): void {
    const p = this.#p;
    const result = plan({
      chains: [chain.pages.map((pg) => pg.key)],
      targets: p.fingerprints.inputs,
      inflight: this.#inflight,
      attempts: this.#attempts,
      forced: this.#forced,
      maxAttempts: p.config.execution.maxAttempts,
      chainDependent: p.fingerprints.chainDependent,
    });
    for (const [key, t] of result.targets) this.#plans.set(key, t);
    for (const key of result.frontier) {
      if (!this.#selected.has(key) || this.#queued.has(key)) continue;
      this.#queued.add(key);
      this.#heap.push(key);
    }
  }

  /** Starts jobs while there are free slots and buildable targets. */
  #fill(): void {
    for (;;) {
      if (this.#engine && this.#running >= this.#engine.maxJobs) return;
      const keys: TargetKey[] = [];
      // The engine is made only when a page needs sending (a no-op or restore-only build never loads it).
      while (this.#heap.size > 0 && keys.length < (this.#engine?.jobSize ?? 1)) {
        const key = this.#heap.pop()!;
        this.#queued.delete(key);
        if (!this.#plans.get(key)?.buildable || this.#inflight.has(key)) continue;
        if (this.#restore(key)) continue;
        this.#engineNow();
        keys.push(key);
      }
      if (keys.length === 0) return;
      const engine = this.#engineNow();
      const requests = keys.map((k) => this.#p.fingerprints.request(k));
      const job: Job = { id: `job-${++this.#jobSeq}`, requests };
      for (const r of requests) {
        this.#inflight.set(r.key, r.fingerprint);
        this.#owner.set(r.key, job.id);
        this.#sent.set(r.key, { at: Date.now(), prompt: r.prompt, previousContext: r.previousContext });
      }
      this.#opts.emit({ event: 'submitted', keys: keys.length, job: job.id });
      this.#pump(engine, job);
    }
  }

  #engineNow(): Engine {
    if (this.#engine) return this.#engine;
    let pending = 0;
    for (const k of this.#selected) if (this.#plans.get(k)?.state === 'stale' || this.#plans.get(k)?.state === 'failed') pending++;
    this.#engine = this.#opts.createEngine ? this.#opts.createEngine(this.#p, pending) : createEngine(this.#p, pending, this.#opts);
    return this.#engine;
  }

  #pump(engine: Engine, job: Job): void {
    this.#running++;
    const signal = this.#opts.signal ?? new AbortController().signal;
    void (async () => {
      let error: unknown = null;
      try {
        for await (const outcome of engine.run(job, signal)) this.#push({ outcome, job: job.id });
      } catch (err) {
        error = err;
      }
      this.#push({ done: job, error });
    })();
  }

  #push(e: { outcome: Outcome | null; job?: string } | { done: Job; error: unknown }): void {
    this.#events.push(e);
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  #drainEvents(): void {
    while (this.#events.length > 0) {
      const e = this.#events.shift()!;
      if ('outcome' in e) {
        if (e.outcome) this.#ingest(e.outcome, e.job ?? null);
        else this.#slotFreed = true; // a wake-up after invalidate(): look at the frontier again
      } else this.#jobDone(e.done, e.error);
    }
  }

  #jobDone(job: Job, error: unknown): void {
    this.#running--;
    this.#slotFreed = true;
    const stop = error instanceof EngineStop;
    if (stop) {
      if (!this.#stopped) this.#opts.emit({ event: 'stopped', message: (error as EngineStop).message });
      this.#stopped ??= (error as EngineStop).message;
    }
    // Requests the engine never answered: a failure of the record, not silence.
    for (const r of job.records ?? job.requests) {
      // Answered by this job, or re-sent in a newer job since: not this job's to settle.
      if (this.#owner.get(r.key) !== job.id) continue;
      if (this.#opts.signal?.aborted || stop) {
        // Interrupted or stopped: not the page's fault. A batch still running stays in the journal.
        this.#inflight.delete(r.key);
        this.#owner.delete(r.key);
        continue;
      }
      const message = error ? `the engine failed: ${(error as Error)?.message ?? String(error)}` : 'the engine returned no result for this page';
      this.#ingest({ ok: false, key: r.key, fingerprint: r.fingerprint, class: error ? 'api-error' : 'missing-result', message, charge: true, ...(error instanceof Error && error.stack ? { stack: error.stack } : {}) }, job.id);
    }
    // A finished batch is worth a save of its own (after the drain: see #loop).
    if (this.#engine && this.#engine.jobSize > 1) this.#saveNow = true;
  }

  #ingest(o: Outcome, job: string | null, billed = true): void {
    const p = this.#p;
    if (job !== null && this.#owner.get(o.key) === job) {
      this.#inflight.delete(o.key);
      this.#owner.delete(o.key);
    }
    if (billed) {
      // Failed replies are billed too.
      this.#counts.tokensIn += o.tokensIn ?? 0;
      this.#counts.tokensOut += o.tokensOut ?? 0;
    }
    const input = p.fingerprints.inputs.get(o.key);
    const current = input?.current?.fingerprint === o.fingerprint;
    if (o.ok) {
      const parsed = p.config.rule.schema.safeParse(o.value);
      if (!parsed.success) {
        const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
        this.#ingest(
          {
            ok: false, key: o.key, fingerprint: o.fingerprint, class: 'schema-error', message: `the reply does not match the rule's schema: ${issues}`,
            rawResponse: o.raw ?? JSON.stringify(o.value), ...(o.text ? { extractedText: o.text } : {}), charge: true,
            ...(o.batch ? { batch: o.batch } : {}), ...(o.tokensIn !== undefined ? { tokensIn: o.tokensIn } : {}), ...(o.tokensOut !== undefined ? { tokensOut: o.tokensOut } : {}),
          },
          job,
          false,
        );
        return;
      }
      const bytes = serialise(parsed.data);
      const recorded = p.store.targets.get(o.key);
      if (current && !this.#forced.has(o.key) && recorded?.fingerprint === o.fingerprint && input?.outputHash === recorded.outputHash && sha256(bytes) === recorded.outputHash) {
        // Already written and recorded (a re-attached batch answering a page recovered at start): nothing to do.
        return;
      }
      if (!current) {
        // Superseded while in flight: keep it (a revert restores it for free), write no output, and let
        // the page's current request go out.
        p.objects.write(o.fingerprint, bytes);
        this.#replan(p.index.chainOf.get(o.key)!);
        return;
      }
      const startedAt = Date.now();
      const attemptNo = (this.#attempts.get(o.key)?.count ?? 0) + 1;
      writeOutput(p, o.key, bytes, { origin: 'built', batch: o.batch ?? null, tokensIn: o.tokensIn ?? null, tokensOut: o.tokensOut ?? null });
      // Only a page that had failed has counters to clear (a DELETE per built page is measurable at 100k).
      if (this.#attempts.delete(o.key)) p.store.clearAttempts(o.key);
      this.#counts.built++;
      this.#opts.emit({ event: 'built', key: o.key, output: p.index.byKey.get(o.key)!.output, ms: Date.now() - startedAt });
      this.#observe(o, { value: parsed.data, attempt: attemptNo });
      this.#forced.delete(o.key);
      this.#afterOutput(o.key);
      return;
    }
    if (!current) {
      this.#replan(p.index.chainOf.get(o.key)!);
      return;
    }
    const attempt = p.store.recordFailure(
      {
        key: o.key,
        fingerprint: o.fingerprint,
        class: o.class,
        code: o.code ?? null,
        message: o.message,
        stack: o.stack ?? null,
        rawResponse: o.rawResponse ?? null,
        extractedText: o.extractedText ?? null,
        engine: p.engine,
        model: p.engine === 'local' ? null : p.config.rule.model,
        promptFile: p.engine === 'local' ? null : p.config.rule.promptFile,
        promptHash: input?.current?.components.prompt ?? null,
        generationConfig: p.engine === 'local' ? null : JSON.stringify(p.config.rule.generationConfig),
        batch: o.batch ?? null,
        attempt: 0,
        at: new Date().toISOString(),
      },
      o.charge,
    );
    this.#attempts.set(o.key, { fingerprint: o.fingerprint, count: attempt, lastClass: o.class, lastMessage: o.message });
    this.#observe(o, { attempt });
    if (o.charge) this.#counts.failed++;
    const dead = o.class === 'input-error' || attempt >= p.config.execution.maxAttempts;
    this.#opts.emit({ event: 'failed', key: o.key, class: o.class as FailureClass, message: o.message, attempt, dead });
    this.#replan(p.index.chainOf.get(o.key)!);
  }

  /** One `record` event per answered request, with everything a tracer needs (report/braintrust). */
  #observe(o: Outcome, r: { value?: unknown; attempt: number }): void {
    const p = this.#p;
    const sent = this.#sent.get(o.key);
    this.#sent.delete(o.key);
    const page = p.index.byKey.get(o.key)!;
    const gemini = p.engine !== 'local';
    this.#opts.emit({
      event: 'record',
      key: o.key,
      vars: page.vars,
      engine: p.engine,
      model: gemini ? p.config.rule.model : null,
      promptFile: gemini ? p.config.rule.promptFile : null,
      fingerprint: o.fingerprint,
      prompt: sent?.prompt ?? null,
      previousContext: sent?.previousContext ?? null,
      generationConfig: gemini ? { ...p.config.rule.generationConfig } : null,
      batch: o.batch ?? null,
      ok: o.ok,
      output: o.ok ? r.value : null,
      error: o.ok ? null : { class: o.class, message: o.message, code: o.code ?? null, rawResponse: o.rawResponse ?? null },
      attempt: r.attempt,
      tokensIn: o.tokensIn ?? 0,
      tokensOut: o.tokensOut ?? 0,
      latencyMs: sent ? Date.now() - sent.at : null,
    });
  }

  /** Restores a target from the result store if its request was answered before. */
  #restore(key: TargetKey): boolean {
    const p = this.#p;
    const fp = p.fingerprints.inputs.get(key)?.current?.fingerprint;
    if (!fp || this.#forced.has(key)) return false;
    const bytes = p.objects.read(fp);
    if (!bytes) return false;
    writeOutput(p, key, bytes, { origin: 'restored' });
    this.#counts.restored++;
    this.#opts.emit({ event: 'restored', key, output: p.index.byKey.get(key)!.output });
    this.#afterOutput(key);
    return true;
  }

  /** An output changed: recompute its chain from it on, re-plan, and count successors that turned fresh without a call. */
  #afterOutput(key: TargetKey): void {
    const p = this.#p;
    const chain = p.index.chainOf.get(key)!;
    const before = new Map(chain.pages.map((pg) => [pg.key, this.#plans.get(pg.key)?.state]));
    if (p.fingerprints.chainDependent) p.fingerprints.recomputeFrom(key);
    else p.fingerprints.computeOne(p.index.byKey.get(key)!);
    this.#replan(chain);
    for (const pg of chain.pages) {
      if (pg.key === key) continue;
      if (before.get(pg.key) === 'waiting' && this.#plans.get(pg.key)?.state === 'fresh') {
        this.#counts.cutoff++;
        this.#opts.emit({ event: 'cutoff', key: pg.key });
      }
    }
  }

  #stateCounts(): Record<State, number> {
    const counts = Object.fromEntries(STATES.map((s) => [s, 0])) as Record<State, number>;
    for (const key of this.#selected) counts[this.#plans.get(key)!.state]++;
    return counts;
  }

  /** Emits the plan; with --dry-run or --max-cost it carries the cost estimate, which is returned. */
  async #emitPlan(): Promise<CostEstimate | null> {
    const reasons: Record<string, number> = {};
    let toRestore = 0;
    const send: TargetKey[] = [], waiting: TargetKey[] = [];
    for (const key of this.#selected) {
      const t = this.#plans.get(key)!;
      if (t.state === 'waiting') waiting.push(key);
      if (t.state !== 'stale' && t.state !== 'failed') continue;
      for (const r of t.reasons) reasons[r.code] = (reasons[r.code] ?? 0) + 1;
      const fp = this.#p.fingerprints.inputs.get(key)?.current?.fingerprint;
      if (fp && !this.#forced.has(key) && this.#p.objects.has(fp)) toRestore++;
      else send.push(key);
    }
    const counts = this.#stateCounts();
    // Only a dry run asks countTokens: a build with --max-cost must send nothing before it has decided.
    const estimate = this.#opts.dryRun || this.#opts.maxCost !== undefined
      ? await estimatePlan(this.#p, { send, waiting, restored: toRestore, countTokens: this.#opts.dryRun, warn: (message) => this.#opts.emit({ event: 'warning', message }) })
      : null;
    this.#opts.emit({ event: 'plan', counts, frontier: counts.stale + counts.failed, reasons, toSend: send.length, toRestore, ...(estimate ? { estimate } : {}) });
    return estimate;
  }

  /** Why the build must not start under --max-cost, or null. An unknown price counts as over any limit. */
  #overBudget(e: CostEstimate | null): string | null {
    const max = this.#opts.maxCost;
    if (max === undefined || !e || e.pages === 0) return null;
    if (e.costUsd === null) return `--max-cost ${formatUsd(max)}: the cost cannot be estimated (no price for model ${e.model}); nothing was sent. Add the model to the ocrfile's prices.`;
    if (e.costUsd <= max) return null;
    return (
      `the estimated cost ${formatUsd(e.costUsd)} (±${Math.round(e.band * 100)} %: ${formatUsd(e.lowUsd!)}–${formatUsd(e.highUsd!)}; ${e.pages} pages, ` +
      `~${e.tokensIn.toLocaleString('en-US')} tokens in, ~${e.tokensOut.toLocaleString('en-US')} out) is above --max-cost ${formatUsd(max)}: nothing was sent. ` +
      'Raise --max-cost, or select fewer pages.'
    );
  }

  #finish(): BuildResult {
    const emit = this.#opts.emit;
    const counts = this.#stateCounts();
    if (!this.#opts.dryRun) {
      for (const key of this.#selected) {
        const t = this.#plans.get(key)!;
        if (t.state === 'blocked') emit({ event: 'blocked', key, by: t.blockedBy, detail: t.detail });
        if (t.state === 'missing-input') emit({ event: 'missing-input', key, detail: t.detail });
      }
    }
    const engine = this.#engine?.counters ?? { requests: 0, batches: 0, uploads: 0 };
    const summary: Summary = {
      built: this.#counts.built,
      restored: this.#counts.restored,
      cutoff: this.#counts.cutoff,
      failed: this.#counts.failed,
      dead: counts.dead,
      blocked: counts.blocked,
      requests: engine.requests,
      batches: engine.batches,
      uploads: engine.uploads,
      targets: this.#selected.size,
      fresh: counts.fresh,
      edited: counts.edited,
      waiting: counts.waiting,
      missingInput: counts['missing-input'],
      tokensIn: this.#counts.tokensIn,
      tokensOut: this.#counts.tokensOut,
      costUsd: costOf(this.#p.engine, this.#p.engine === 'local' ? null : this.#p.config.rule.model, this.#counts.tokensIn, this.#counts.tokensOut, this.#p.config.prices),
      seconds: Math.round((Date.now() - this.#started) / 100) / 10,
      dryRun: this.#opts.dryRun,
    };
    emit({ event: 'summary', ...summary });
    const ok = counts.fresh + counts.edited === this.#selected.size && !this.#stopped;
    return { exitCode: this.#opts.dryRun || ok ? ExitCode.ok : ExitCode.failed, summary };
  }

  async close(): Promise<void> {
    await this.#engine?.close();
  }
}

function createEngine(p: Project, pages: number, opts: BuildOptions): Engine {
  switch (p.engine) {
    case 'local':
      return createLocalEngine(p.config, pages);
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
