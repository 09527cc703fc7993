// The build loop (DESIGN §6): plan, restore what the result store already has, hand the rest of the
// frontier to the engine in jobs, ingest outcomes as they arrive, re-plan only the chains they touch, and
// refill free job slots at once (no wave barrier) until nothing is stale or in flight.
import type { EngineName } from '../config/define.js';
import type { FailureClass } from '../cache/records.js';
import { todayUtc } from '../cost/models.js';
import { ExitCode, ExitSignal } from '../errors.js';
import type { Emit, PlanPolicies, Summary } from '../events.js';
import type { Chain } from '../graph/page.js';
import { EngineStop, type Engine, type Job, type Outcome } from '../engines/engine.js';
import type { BatchEngine } from '../engines/gemini-batch.js';
import { geminiKey } from '../engines/resolve.js';
import type { CostEstimate } from '../plan/estimate.js';
import { plan } from '../plan/planner.js';
import { STATES, type AttemptInfo, type State, type TargetPlan } from '../plan/types.js';
import type { Fingerprint, TargetKey } from '../types.js';
import type { Request } from '../fingerprint/snapshot.js';
import { JobPreparer } from './prepare-jobs.js';
import { sha256 } from '../util/hash.js';
import { Heap } from '../util/heap.js';
import { Bill } from './bill.js';
import { createEngine } from './engines.js';
import { estimatePlan } from './estimate-inputs.js';
import { cacheJournal } from './journal.js';
import { modelWarning } from './model-notes.js';
import { failureRow, overBudget, recordEvent, validateReply } from './outcomes.js';
import { cacheProblem, isFsRefusal } from '../cache/problems.js';
import { ContextWork, parseAux, type AuxKind } from './context-work.js';
import { createLocalEngine } from '../engines/local.js';
import { observedTurnaround, Tail } from './tail.js';
import { deadlineAt } from '../config/resolved.js';
import { predictPolicies, type PolicyChain } from '../plan/policies.js';
import { costOf } from '../cost/pricing.js';
import { isEdited, keepEdit } from './edits.js';
import { OutputError, serialise, writeOutput, type WriteMeta } from './outputs.js';
import { attemptsOf, CACHE_DIR, openProject, type Project } from './project.js';
import { resolveSelection } from './selection.js';
import { proofOf, Said, writeProof } from './noop-proof.js';
import path from 'node:path';

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
  /** A duration from the start ('6h') or a date and time: overrides the ocrfile's context.deadline. */
  deadline?: string;
  /** Show the cost estimate before sending even without --dry-run or --max-cost (`ocrmake try`). */
  estimate?: boolean;
}

export interface BuildResult {
  exitCode: number;
  summary: Summary;
}

export { runBuild } from './run-build.js';

/**
 * A build the no-op proof could not settle (run-build.ts, which holds the lock): the project opened and
 * built. `proving`: it may prove a no-op for the next build, so it keeps what it says (noop-proof.ts).
 */
export async function buildOnProject(opts: BuildOptions, started: number, proving: boolean): Promise<BuildResult> {
  const cacheDir = path.join(opts.root, CACHE_DIR);
  // What this build says, as much as shows whether it was a no-op (noop-proof.ts).
  const said = new Said();
  const emit: Emit = proving ? (e) => (said.see(e), opts.emit(e)) : opts.emit;
  const p = await openProject({ root: opts.root, engine: opts.engine, emit });
  let proof: ReturnType<typeof proofOf> = null;
  try {
    const result = await buildProject(p, { ...opts, emit }, started);
    if (proving && result.exitCode === ExitCode.ok) proof = proofOf(p, said);
    return result;
  } finally {
    p.objects.close();
    p.store.close();
    if (proof) writeProof(cacheDir, proof);
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
    if (!opts.dryRun && loop.saveable) {
      try {
        p.store.save();
      } catch (err) {
        // The save is the build's last word: its failure is the outcome.
        if (isFsRefusal(err)) throw cacheProblem(err, p.config.root, 'saving .ocrcache/state.sqlite');
        throw err;
      }
    }
  }
}

/** Pages in flight, with the fingerprint each was sent with, and which fingerprints are out (in O(1)). */
class InFlight extends Map<TargetKey, Fingerprint> {
  readonly #fps = new Map<Fingerprint, number>();

  override set(key: TargetKey, fp: Fingerprint): this {
    this.delete(key);
    this.#fps.set(fp, (this.#fps.get(fp) ?? 0) + 1);
    return super.set(key, fp);
  }

  override delete(key: TargetKey): boolean {
    const fp = this.get(key);
    if (fp === undefined) return false;
    const n = this.#fps.get(fp)! - 1;
    if (n === 0) this.#fps.delete(fp);
    else this.#fps.set(fp, n);
    return super.delete(key);
  }

  /** Whether some page's request with this fingerprint is out. */
  sending(fp: Fingerprint): boolean {
    return this.#fps.has(fp);
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
  readonly #inflight = new InFlight();
  /** The job that holds each in-flight mark: only that job's answer (or its silence) may clear it. */
  readonly #owner = new Map<TargetKey, string>();
  #jobSeq = 0;
  readonly #remaining = new Map<TargetKey, number>();
  readonly #heap: Heap<TargetKey>;
  /** Keys in the heap: a key is queued at most once however often its chain is re-planned. */
  readonly #queued = new Set<TargetKey>();
  /** Batch jobs whose results are arriving (the timed save waits for them: see #loop). */
  readonly #delivering = new Set<string>();
  readonly #events: Array<{ outcome: Outcome | null; job?: string } | { done: Job; error: unknown }> = [];
  #wake: (() => void) | null = null;
  #engine: Engine | null = null;
  readonly #images: JobPreparer;
  #running = 0;
  #lastSave = Date.now();
  #saveNow = false;
  #slotFreed = true;
  /** Set when the engine asked the build to stop (repeated batch failures): no new jobs. */
  #stopped: string | null = null;
  /** Aborts every job: on the caller's signal (Ctrl-C), or when the preflight found the build cannot send. */
  readonly #abort = new AbortController();
  /** The engine's preflight (key, model): started before the first request, once. */
  #preflight: 'not-started' | 'running' | 'done' = 'not-started';
  /** Why the build cannot go on (an ExitSignal from the preflight): thrown once the running jobs have stopped. */
  #fatal: unknown = null;
  /** Set when the cache cannot be written: the state on disk stays the last good save. */
  #noSave = false;
  /** Pages whose output path cannot be written: not tried again in this build. */
  readonly #unwritable = new Set<TargetKey>();
  /** How often each page was sent or restored in this build: no page goes round without a bound. */
  readonly #turns = new Map<TargetKey, number>();
  /** Tokens and cost of this run's replies. */
  readonly #bill: Bill;
  /** Drafts and speculative sends of the draft and speculative context policies. */
  readonly #ctx: ContextWork;
  /** The offline engine that makes local drafts (context.draft: 'local'), made on first need. */
  #draftEngine: Engine | null = null;
  #draftImages: JobPreparer | null = null;
  #draftJobs = 0;
  readonly #draftJobIds = new Set<string>();
  /** The interactive tail of a Batch build with a deadline: its decisions, engine, queue and jobs. */
  readonly #tail: Tail | null = null;
  #tailEngine: Engine | null = null;
  readonly #tailQueue: TargetKey[] = [];
  readonly #tailJobIds = new Set<string>();
  /** Whether an `idle` event was said since the last job started or ended. */
  #idleSaid = false;
  readonly #counts = { built: 0, restored: 0, cutoff: 0, failed: 0 };
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
    this.#bill = new Bill(p);
    this.#ctx = new ContextWork(p);
    const deadline = opts.deadline ?? p.config.context.deadline;
    if (deadline !== null && p.engine === 'gemini-batch') {
      const at = deadlineAt(deadline, started);
      if (at === null) throw new ExitSignal(ExitCode.usage, `deadline "${deadline}": give a duration such as 6h, 90m or 2d, or a date and time such as 2026-12-01T09:00Z`);
      this.#tail = new Tail(at, observedTurnaround(p.store, p.config.context.turnaroundMs));
    }
    const outer = opts.signal;
    if (outer?.aborted) this.#abort.abort();
    else outer?.addEventListener('abort', () => this.#abort.abort(), { once: true });
    this.#images = new JobPreparer(p, (message) => opts.emit({ event: 'warning', message }));
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
    if (p.engine !== 'local') {
      const warning = modelWarning(p.config.rule.model, todayUtc());
      if (warning) emit({ event: 'warning', message: warning });
    }
    for (const key of p.fingerprints.recovered) emit({ event: 'recovered', key, output: p.index.byKey.get(key)!.output });
    for (const chain of p.index.chains) this.#replan(chain);
    if (this.#opts.dryRun) await this.#dryPreflight();
    const estimate = await this.#emitPlan();
    if (this.#opts.dryRun) {
      for (const key of this.#selected) {
        const t = this.#plans.get(key)!;
        if (t.state !== 'fresh' && t.state !== 'edited') emit({ event: 'stale', key, state: t.state, reasons: t.reasons });
      }
      return this.#finish();
    }
    const refused = overBudget(estimate, this.#opts.maxCost);
    if (refused) {
      // Before any upload, batch or request: the build sends nothing.
      this.#stopped = refused;
      emit({ event: 'stopped', message: refused });
      return this.#finish();
    }
    await this.#recover();
    await this.#loop();
    if (this.#fatal) throw this.#fatal;
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
    let jobs: Job[];
    try {
      jobs = await engine.recover();
    } catch (err) {
      if (!(err instanceof EngineStop)) throw err;
      // Batches in flight could not be looked up: sending anything now might pay for their pages twice.
      this.#stopped = err.message;
      this.#opts.emit({ event: 'stopped', message: err.message });
      return;
    }
    for (const job of jobs) {
      const records = job.records ?? [];
      for (const r of records) {
        // A draft or speculative send of the killed process: its answer is awaited like the pages'.
        if (parseAux(r.key)) this.#ctx.adopt(r.fingerprint, parseAux(r.key)!.kind);
        else this.#inflight.set(r.key, r.fingerprint);
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
      // The timed save waits while a batch delivers its results: the save at its end covers them, and one in
      // the middle would flush a few dozen outputs one fsync each. A kill meanwhile loses nothing: the batch
      // is re-attached and its results, in the result store already, are found again.
      if (this.#saveNow || (this.#delivering.size === 0 && Date.now() - this.#lastSave >= (this.#opts.saveEveryMs ?? 2000))) this.#save();
      // Batched engines refill when a job ends, with every page its results unlocked in one new batch;
      // a slot is still refilled as soon as any batch ends (no wave barrier).
      // Local drafts run beside the batches, on their own engine, whatever the batch slots are doing.
      if (!this.#abort.signal.aborted && !this.#stopped) this.#fillLocalDrafts();
      if (!this.#abort.signal.aborted && !this.#stopped && (this.#slotFreed || (this.#engine?.jobSize ?? 1) === 1)) {
        this.#slotFreed = false;
        this.#fill();
      }
      if (this.#running === 0 && this.#events.length === 0) break;
      if (this.#events.length === 0) {
        if (!this.#idleSaid && (this.#engine?.jobSize ?? 1) > 1) this.#opts.emit({ event: 'idle', jobs: this.#running, interactive: this.#tailJobIds.size, local: this.#draftJobs });
        this.#idleSaid = true;
        await new Promise<void>((resolve) => (this.#wake = resolve));
      }
    }
  }

  #save(): void {
    if (this.#noSave) return;
    try {
      this.#p.store.save();
    } catch (err) {
      if (!isFsRefusal(err)) throw err;
      this.#stop(cacheProblem(err, this.#p.config.root, 'saving .ocrcache/state.sqlite'));
      return;
    }
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
    this.#ctx.note(chain, this.#plans, this.#selected);
    for (const key of result.frontier) {
      if (!this.#selected.has(key) || this.#queued.has(key)) continue;
      this.#queued.add(key);
      this.#heap.push(key);
    }
  }

  /** Starts jobs while there are free slots and buildable targets. */
  #fill(): void {
    for (;;) {
      this.#fillTail();
      if (this.#engine && this.#running - this.#draftJobs - this.#tailJobIds.size >= this.#engine.maxJobs) return;
      const keys: TargetKey[] = [];
      // The engine is made only when a page needs sending (a no-op or restore-only build never loads it).
      while (this.#heap.size > 0 && keys.length < (this.#engine?.jobSize ?? 1)) {
        const key = this.#heap.pop()!;
        this.#queued.delete(key);
        if (!this.#plans.get(key)?.buildable || this.#inflight.has(key) || this.#unwritable.has(key)) continue;
        // Its very request is out already, sent early (speculative): its answer restores the page, no second call.
        if (this.#ctx.inFlight(this.#p.fingerprints.inputs.get(key)?.current?.fingerprint)) continue;
        if (!this.#turn(key)) continue;
        if (this.#restore(key)) continue;
        if (this.#preflight !== 'done') {
          // Nothing is sent before the engine said it can send (a key, a model that exists).
          this.#turns.set(key, this.#turns.get(key)! - 1);
          this.#queued.add(key);
          this.#heap.push(key);
          this.#startPreflight();
          return;
        }
        if (this.#toTail(key)) continue;
        keys.push(key);
      }
      this.#fillTail();
      if (keys.length === 0 && this.#ctx.active && this.#ctx.pending && this.#preflight !== 'done') {
        this.#startPreflight();
        return;
      }
      const requests = keys.map((k) => this.#p.fingerprints.request(k));
      for (const r of requests) this.#ctx.sending(r.key, r.fingerprint);
      // Drafts and speculative sends fill what room the job has left (context policies, DESIGN §15).
      if (this.#preflight === 'done' && this.#ctx.active) {
        const mine = new Set(requests.map((r) => r.fingerprint));
        requests.push(...this.#ctx.take((this.#engine?.jobSize ?? 1) - requests.length, (fp) => mine.has(fp) || this.#busy(fp)));
      }
      if (requests.length === 0) return;
      const engine = this.#engineNow();
      if (this.#tail) this.#tail.stats.batch += keys.length;
      const job: UnpreparedJob = { id: `job-${++this.#jobSeq}`, unprepared: requests };
      for (const r of requests) {
        if (!parseAux(r.key)) this.#inflight.set(r.key, r.fingerprint);
        this.#owner.set(r.key, job.id);
        this.#sent.set(r.key, { at: Date.now(), prompt: r.prompt, previousContext: r.previousContext });
      }
      this.#opts.emit({ event: 'submitted', keys: requests.length, job: job.id, engine: this.#p.engine });
      this.#pump(engine, job);
    }
  }

  /**
   * Whether a page goes to the interactive tail: its chain's remaining rounds, at the batch turnaround seen,
   * would end after the deadline. It waits in the tail's queue (still counted as queued) for a free call.
   */
  #toTail(key: TargetKey): boolean {
    if (!this.#tail?.wants(this.#roundsLeft(key), Date.now())) return false;
    this.#tailQueue.push(key);
    this.#queued.add(key);
    return true;
  }

  /**
   * The batch rounds a page's chain still needs from this page on. Exact: one per page left to build. Draft:
   * the page's own (its context is a draft, made already). Speculative: this page's round, the round that
   * verifies the later pages' guesses, and one more per page expected to miss at this build's miss rate so
   * far (none before a guess was checked: the tail then moves a page only when even that cannot make it).
   */
  #roundsLeft(key: TargetKey): number {
    if (!this.#p.fingerprints.chainDependent) return 1;
    const pages = this.#p.index.chainOf.get(key)!.pages;
    let left = 0;
    for (let i = pages.findIndex((pg) => pg.key === key); i >= 0 && i < pages.length; i++) {
      const state = this.#plans.get(pages[i]!.key)?.state;
      if (state !== 'fresh' && state !== 'edited' && this.#selected.has(pages[i]!.key)) left++;
    }
    if (this.#p.fingerprints.contextMode !== 'speculative') return left;
    const { hits, misses } = this.#ctx.stats;
    const missRate = hits + misses === 0 ? 0 : misses / (hits + misses);
    return Math.min(left, 2 + Math.ceil((left - 1) * missRate));
  }

  /** Sends the tail's queue through interactive calls, as many at once as the interactive engine allows. */
  #fillTail(): void {
    while (this.#tailQueue.length > 0) {
      this.#tailEngine ??= createEngine(this.#p, this.#tailQueue.length, this.#opts, 'gemini');
      if (this.#tailJobIds.size >= this.#tailEngine.maxJobs) return;
      const key = this.#tailQueue.shift()!;
      this.#queued.delete(key);
      if (!this.#plans.get(key)?.buildable || this.#inflight.has(key) || this.#restore(key)) continue;
      const r = this.#p.fingerprints.request(key);
      this.#ctx.sending(r.key, r.fingerprint);
      const job: UnpreparedJob = { id: `job-${++this.#jobSeq}`, unprepared: [r] };
      this.#inflight.set(key, r.fingerprint);
      this.#owner.set(key, job.id);
      this.#sent.set(key, { at: Date.now(), prompt: r.prompt, previousContext: r.previousContext });
      this.#tailJobIds.add(job.id);
      this.#tail!.stats.interactive++;
      this.#opts.emit({ event: 'submitted', keys: 1, job: job.id, engine: 'gemini' });
      this.#pump(this.#tailEngine, job);
    }
  }

  /** Whether a fingerprint is being sent as some page's own request (a first page's draft is its request). */
  #busy(fp: Fingerprint): boolean {
    return this.#inflight.sending(fp);
  }

  /** Local drafts go to an offline engine of their own, a page a job. */
  #fillLocalDrafts(): void {
    if (this.#p.fingerprints.drafts !== 'local') return;
    for (;;) {
      if (this.#draftEngine && this.#draftJobs >= this.#draftEngine.maxJobs) return;
      const [r] = this.#ctx.takeLocal(1, (fp) => this.#busy(fp));
      if (!r) return;
      const p = this.#p;
      this.#draftEngine ??= createLocalEngine(p.config, 8, p.fingerprints.localDraftSetup()!, p.cacheDir);
      this.#draftImages ??= new JobPreparer(p, (message) => this.#opts.emit({ event: 'warning', message }), 'local');
      const job: UnpreparedJob = { id: `job-${++this.#jobSeq}`, unprepared: [r] };
      this.#owner.set(r.key, job.id);
      this.#draftJobs++;
      this.#draftJobIds.add(job.id);
      this.#pump(this.#draftEngine, job, this.#draftImages);
    }
  }

  /**
   * A dry run with a key checks the model as a build would (one models.get): a dry run is where a user
   * learns that a build would be refused. An unreachable API is only a warning here: the plan is still news.
   */
  async #dryPreflight(): Promise<void> {
    const p = this.#p;
    if (p.engine === 'local' || !geminiKey(p.config.root)) return;
    const sendable = [...this.#selected].some((k) => ['stale', 'failed', 'waiting'].includes(this.#plans.get(k)?.state ?? ''));
    if (!sendable) return;
    try {
      await this.#engineNow().preflight?.(this.#abort.signal);
    } catch (err) {
      if (!(err instanceof ExitSignal) || err.code !== ExitCode.failed) throw err;
      this.#opts.emit({ event: 'warning', message: err.message.split('\n')[0]!.replace('; nothing was sent and no page was charged', '') });
    }
  }

  /**
   * Counts one more send or restore of `key` in this build; false past the bound. A page comes round again
   * when a result did not settle it (a failure, a superseded result); more rounds than attempts allow mean
   * something feeds back on itself (an output that changes its own input): the page is left, with a warning.
   */
  #turn(key: TargetKey): boolean {
    const turns = (this.#turns.get(key) ?? 0) + 1;
    this.#turns.set(key, turns);
    const limit = this.#p.config.execution.maxAttempts * 2 + 5;
    if (turns <= limit) return true;
    if (turns === limit + 1) {
      this.#opts.emit({ event: 'warning', key, message: `${key} came round ${limit} times in this build without settling (does writing its output change one of its inputs?); it is left for the next build` });
    }
    return false;
  }

  #startPreflight(): void {
    if (this.#preflight !== 'not-started') return;
    const engine = this.#engineNow();
    if (!engine.preflight) {
      this.#preflight = 'done';
      this.#push({ outcome: null });
      return;
    }
    this.#preflight = 'running';
    this.#running++;
    engine.preflight(this.#abort.signal).then(
      () => (this.#preflight = 'done'),
      (err: unknown) => {
        this.#fatal = err;
        this.#abort.abort();
      },
    ).finally(() => {
      this.#running--;
      this.#push({ outcome: null });
    });
  }

  #engineNow(): Engine {
    if (this.#engine) return this.#engine;
    let pending = 0;
    for (const k of this.#selected) if (this.#plans.get(k)?.state === 'stale' || this.#plans.get(k)?.state === 'failed') pending++;
    this.#engine = this.#opts.createEngine ? this.#opts.createEngine(this.#p, pending) : createEngine(this.#p, pending, this.#opts);
    return this.#engine;
  }

  /**
   * Runs one job on the engine. A new job's images are prepared first (prepare/): a page whose image cannot
   * be decoded is an input error named here, for every engine, and is never sent; the rest go on.
   */
  #pump(engine: Engine, job: Job | UnpreparedJob, images: JobPreparer = this.#images): void {
    this.#running++;
    this.#idleSaid = false;
    const signal = this.#abort.signal;
    void (async () => {
      let error: unknown = null;
      let ready: Job = 'unprepared' in job ? { id: job.id, requests: [], records: job.unprepared.map((r) => ({ key: r.key, fingerprint: r.fingerprint })) } : job;
      try {
        if ('unprepared' in job) {
          ready = { ...ready, requests: await images.prepare(engine, job.unprepared, signal, (outcome) => this.#push({ outcome, job: job.id })) };
          if (ready.requests.length === 0) return;
        }
        for await (const outcome of engine.run(ready, signal)) this.#push({ outcome, job: job.id });
      } catch (err) {
        error = err;
      } finally {
        this.#push({ done: ready, error });
      }
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
      // After the cache failed, nothing more is ingested: what arrives now is fetched again by the next build.
      if (this.#noSave && 'outcome' in e) continue;
      if ('outcome' in e) {
        // A result read from a batch's result file: the rest of the file follows at once.
        if (e.job && e.outcome?.batch && (this.#engine?.jobSize ?? 1) > 1 && !this.#tailJobIds.has(e.job)) this.#delivering.add(e.job);
        if (e.outcome) this.#ingest(e.outcome, e.job ?? null);
        else this.#slotFreed = true; // a wake-up after invalidate(): look at the frontier again
      } else this.#jobDone(e.done, e.error);
    }
  }

  #jobDone(job: Job, error: unknown): void {
    this.#running--;
    this.#delivering.delete(job.id);
    this.#idleSaid = false;
    const draft = this.#draftJobIds.delete(job.id);
    if (draft) this.#draftJobs--;
    // A local draft frees no batch slot: the pages drafts unlock go out together once every draft is made
    // (or in the batch that refills a slot), not in a batch each.
    if (!draft || (this.#draftJobs === 0 && !this.#ctx.pending)) this.#slotFreed = true;
    const tail = this.#tailJobIds.delete(job.id);
    // A batch ended: the turnaround the tail plans with is measured again.
    if (!draft && !tail && this.#tail) this.#tail.update(observedTurnaround(this.#p.store, this.#p.config.context.turnaroundMs));
    // An engine that could not write its own files (batch input in .ocrcache/tmp): the cache's problem, not the pages'.
    if (error instanceof ExitSignal) this.#stop(error);
    else if (error && !(error instanceof EngineStop) && isFsRefusal(error)) this.#stop(cacheProblem(error, this.#p.config.root, 'an engine\'s working file in .ocrcache/tmp'));
    const stop = error instanceof EngineStop;
    if (stop) {
      if (!this.#stopped) this.#opts.emit({ event: 'stopped', message: (error as EngineStop).message });
      this.#stopped ??= (error as EngineStop).message;
    }
    // Requests the engine never answered: a failure of the record, not silence.
    for (const r of job.records ?? job.requests) {
      // Answered by this job, or re-sent in a newer job since: not this job's to settle.
      if (this.#owner.get(r.key) !== job.id) continue;
      if (this.#abort.signal.aborted || stop) {
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
    const aux = parseAux(o.key);
    if (aux) return this.#ingestAux(o, aux, job, billed);
    if (job !== null && this.#owner.get(o.key) === job) {
      this.#inflight.delete(o.key);
      this.#owner.delete(o.key);
    }
    const tail = job !== null && this.#tailJobIds.has(job);
    if (billed) {
      // Failed replies are billed too, at the price of the model that answered.
      const routed = this.#bill.add(o, tail ? 'gemini' : undefined);
      if (routed) this.#opts.emit({ event: 'warning', key: o.key, message: routed });
    }
    const input = p.fingerprints.inputs.get(o.key);
    const current = input?.current?.fingerprint === o.fingerprint;
    if (o.ok) {
      const parsed = validateReply(p, o);
      if (!parsed.ok) {
        this.#ingest(parsed.failure, job, false);
        return;
      }
      const bytes = serialise(parsed.value);
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
      const written = this.#write(o.key, o.fingerprint, bytes, {
        origin: 'built', batch: o.batch ?? null, tokensIn: o.tokensIn ?? null, tokensOut: o.tokensOut ?? null, modelVersion: o.modelVersion ?? null, ...(tail ? { engine: 'gemini' } : {}),
      });
      if (written === 'kept-edit') this.#observe(o, { value: parsed.value, attempt: attemptNo });
      if (written !== 'written') return;
      // Only a page that had failed has counters to clear (a DELETE per built page is measurable at 100k).
      if (this.#attempts.delete(o.key)) p.store.clearAttempts(o.key);
      this.#counts.built++;
      this.#opts.emit({ event: 'built', key: o.key, output: p.index.byKey.get(o.key)!.output, ms: Date.now() - startedAt });
      this.#observe(o, { value: parsed.value, attempt: attemptNo });
      this.#forced.delete(o.key);
      this.#afterOutput(o.key);
      return;
    }
    if (!current) {
      this.#replan(p.index.chainOf.get(o.key)!);
      return;
    }
    const attempt = p.store.recordFailure(failureRow(p, o, input?.current?.components.prompt ?? null), o.charge);
    this.#attempts.set(o.key, { fingerprint: o.fingerprint, count: attempt, lastClass: o.class, lastMessage: o.message });
    this.#observe(o, { attempt });
    if (o.charge || o.class === 'output-error') this.#counts.failed++;
    const dead = o.class === 'input-error' || attempt >= p.config.execution.maxAttempts;
    this.#opts.emit({ event: 'failed', key: o.key, class: o.class as FailureClass, message: o.message, attempt, dead, charged: o.charge });
    this.#replan(p.index.chainOf.get(o.key)!);
  }

  /** One `record` event per answered request, with everything a tracer needs (report/braintrust). */
  #observe(o: Outcome, r: { value?: unknown; attempt: number }): void {
    const sent = this.#sent.get(o.key);
    this.#sent.delete(o.key);
    this.#opts.emit(recordEvent(this.#p, o, sent ?? null, r));
  }

  /**
   * A draft's or a speculative send's answer: into the result store (never an output). A draft unlocks its
   * successor (draft mode: the successor's request; speculative mode: its early send). A draft that fails
   * for good blocks its successor in draft mode; a failed speculative send costs nothing more (the page is
   * sent exactly when its turn comes).
   */
  #ingestAux(o: Outcome, aux: { kind: AuxKind; fingerprint: Fingerprint }, job: string | null, billed: boolean): void {
    const p = this.#p;
    if (job !== null && this.#owner.get(o.key) === job) this.#owner.delete(o.key);
    if (billed) {
      const routed = this.#bill.add(o);
      if (routed) this.#opts.emit({ event: 'warning', key: o.key, message: routed });
    }
    const who = this.#ctx.settle(aux.fingerprint);
    let failure: Extract<Outcome, { ok: false }> | null = o.ok ? null : o;
    if (o.ok) {
      const parsed = validateReply(p, o);
      if (parsed.ok) {
        try {
          p.objects.write(aux.fingerprint, serialise(parsed.value));
        } catch (err) {
          if (!isFsRefusal(err)) throw err;
          this.#stop(cacheProblem(err, p.config.root, 'the result store'));
          return;
        }
      } else failure = parsed.failure as Extract<Outcome, { ok: false }>;
    }
    // A result of a batch re-attached after a crash: whose it was is not known here; every chain looks again.
    if (!who) {
      if (!failure) for (const chain of p.index.chains) this.#afterDraftChain(chain);
      return;
    }
    const chain = p.index.chainOf.get(who.key);
    if (!chain) return;
    if (failure) {
      const count = p.store.recordFailure({ ...failureRow(p, { ...failure, key: who.key }, null), message: `${who.kind === 'draft' ? 'draft' : 'speculative send'}: ${failure.message}` }, who.kind === 'draft' && failure.charge);
      if (who.kind === 'draft' && (count >= p.config.execution.maxAttempts || failure.class === 'input-error')) {
        this.#ctx.failedDrafts.set(who.key, failure.message);
        p.fingerprints.draftFailed(who.key, failure.message);
      }
    }
    this.#afterDraftChain(chain);
  }

  /** A draft of this chain was made (or failed): the pages after it form their requests again. */
  #afterDraftChain(chain: Chain): void {
    const p = this.#p;
    // Re-planned only: a batched engine refills when its batch ends, with everything the batch unlocked. A
    // page whose context from the draft is the one it was built with is fresh at once: a cutoff.
    this.#countingCutoffs(chain, null, () => {
      if (p.fingerprints.contextMode === 'draft') for (const page of chain.pages) p.fingerprints.computeOne(page);
      this.#replan(chain);
    });
  }

  /**
   * Writes a page's output for its current request; false when it was not written: the file there is a
   * person's edit (the result goes to the result store only), the output path cannot be written (that page
   * fails alone, uncharged, and is not retried in this build), or the cache cannot be written (the build stops).
   */
  #write(key: TargetKey, fingerprint: Fingerprint, bytes: Buffer, meta: WriteMeta): 'written' | 'kept-edit' | 'failed' {
    const p = this.#p;
    const page = p.index.byKey.get(key)!;
    try {
      if (isEdited(p, key)) {
        if (!this.#forced.has(key)) {
          p.objects.write(fingerprint, bytes);
          this.#opts.emit({ event: 'warning', key, message: `kept your edit of ${page.output}: the result that arrived for ${key} is in the result store only (delete your file to get it with no request, or run ocrmake build --force '${key}')` });
          p.fingerprints.computeOne(page);
          this.#replan(p.index.chainOf.get(key)!);
          return 'kept-edit';
        }
        const kept = keepEdit(p, key);
        if (kept) this.#opts.emit({ event: 'notice', message: `${key}: your edited output was copied to ${kept} before --force rebuilt it (ocrmake explain lists kept copies)` });
      }
      writeOutput(p, key, bytes, meta);
      return 'written';
    } catch (err) {
      if (err instanceof OutputError) {
        this.#unwritable.add(key);
        this.#ingest({ ok: false, key, fingerprint, class: 'output-error', message: err.message, charge: false }, null, false);
        return 'failed';
      }
      if (err instanceof ExitSignal || isFsRefusal(err)) {
        this.#stop(err instanceof ExitSignal ? err : cacheProblem(err, p.config.root, 'an edit kept aside'));
        return 'failed';
      }
      throw err;
    }
  }

  /** The build cannot go on (a cache that cannot be written): stop every job; nothing more is ingested or saved. */
  #stop(err: ExitSignal): void {
    this.#fatal ??= err;
    this.#noSave = true;
    this.#abort.abort();
  }

  /** Restores a target from the result store if its request was answered before. */
  #restore(key: TargetKey): boolean {
    const p = this.#p;
    const fp = p.fingerprints.inputs.get(key)?.current?.fingerprint;
    if (!fp || this.#forced.has(key)) return false;
    const bytes = p.objects.read(fp);
    if (!bytes) return false;
    const hit = this.#ctx.restored(key, fp);
    if (this.#write(key, fp, bytes, { origin: 'restored', ...(hit ? { contextSource: 'speculative' as const } : {}) }) !== 'written') return true;
    this.#counts.restored++;
    this.#opts.emit({ event: 'restored', key, output: p.index.byKey.get(key)!.output });
    this.#afterOutput(key);
    return true;
  }

  /** An output changed: recompute its chain from it on, re-plan, and count successors that turned fresh without a call. */
  /** False when the cache cannot be written: the caller must not save it (the last good save stays). */
  get saveable(): boolean {
    return !this.#noSave;
  }

  #afterOutput(key: TargetKey): void {
    const p = this.#p;
    const chain = p.index.chainOf.get(key)!;
    this.#countingCutoffs(chain, key, () => {
      // The page itself: its new record, as written (no files read again); then the pages it gives context to.
      if (!p.fingerprints.wroteOutput(key)) p.fingerprints.computeOne(p.index.byKey.get(key)!);
      if (p.fingerprints.chainDependent) p.fingerprints.recomputeAfter(key);
      this.#replan(chain);
    });
  }

  /** Runs a re-plan of `chain`; waiting pages (other than `except`) that came out fresh are cutoffs: no call. */
  #countingCutoffs(chain: Chain, except: TargetKey | null, replan: () => void): void {
    const waiting: TargetKey[] = [];
    for (const pg of chain.pages) if (pg.key !== except && this.#plans.get(pg.key)?.state === 'waiting') waiting.push(pg.key);
    replan();
    for (const key of waiting) {
      if (this.#plans.get(key)?.state === 'fresh') {
        this.#counts.cutoff++;
        this.#opts.emit({ event: 'cutoff', key });
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
    const estimate = this.#opts.dryRun || this.#opts.maxCost !== undefined || this.#opts.estimate
      ? await estimatePlan(this.#p, { send, waiting, restored: toRestore, countTokens: this.#opts.dryRun, warn: (message) => this.#opts.emit({ event: 'warning', message }) })
      : null;
    const policies = estimate && this.#opts.dryRun ? this.#policies(estimate) : null;
    this.#opts.emit({ event: 'plan', counts, frontier: counts.stale + counts.failed, reasons, toSend: send.length, toRestore, ...(estimate ? { estimate } : {}), ...(policies ? { policies } : {}) });
    return estimate;
  }

  /** A Batch build's dry run of a rule with context: what each context policy would take (plan/policies.ts). */
  #policies(estimate: CostEstimate): PlanPolicies | null {
    const p = this.#p;
    if (p.engine !== 'gemini-batch' || p.config.rule.context === null) return null;
    const chains: PolicyChain[] = p.index.chains.map((chain) => {
      const keys = chain.pages.map((pg) => pg.key).filter((k) => this.#selected.has(k) && ['stale', 'failed', 'waiting'].includes(this.#plans.get(k)!.state));
      return { toBuild: keys.length, startsChain: keys.length > 0 && !p.index.predecessor.has(keys[0]!) };
    });
    const pages = Math.max(1, estimate.pages);
    const model = p.config.rule.model;
    const interactiveUsd = costOf('gemini', estimate.price?.model ?? model, estimate.tokensIn / pages, estimate.tokensOut / pages, todayUtc(), p.config.prices);
    const deadline = this.#opts.deadline ?? p.config.context.deadline;
    const turnaround = observedTurnaround(p.store, p.config.context.turnaroundMs);
    const at = deadline === null ? null : deadlineAt(deadline, this.#started);
    const rows = predictPolicies({
      chains,
      batchSize: p.config.execution.batchSize,
      slots: p.config.execution.maxConcurrentBatches,
      draft: p.config.context.draft,
      batchUsd: estimate.costUsd === null || estimate.pages === 0 ? null : estimate.costUsd / estimate.pages,
      interactiveUsd,
      deadline: at === null ? null : { leftMs: Math.max(0, at - this.#started), turnaroundMs: turnaround.ms },
    });
    return { mode: p.config.context.mode, draft: p.config.context.draft, rows, turnaround, ...(at !== null ? { deadline: new Date(at).toISOString() } : {}) };
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
      // The interactive tail's calls are requests too (local drafts are not: nothing is sent).
      requests: engine.requests + (this.#tailEngine?.counters.requests ?? 0),
      batches: engine.batches,
      uploads: engine.uploads,
      targets: this.#selected.size,
      fresh: counts.fresh,
      edited: counts.edited,
      waiting: counts.waiting,
      missingInput: counts['missing-input'],
      tokensIn: this.#bill.tokensIn,
      tokensOut: this.#bill.tokensOut,
      costUsd: this.#bill.costUsd,
      seconds: Math.round((Date.now() - this.#started) / 100) / 10,
      dryRun: this.#opts.dryRun,
      decoded: this.#images.decoded,
      probed: this.#p.sources.probed,
      ...(this.#tail ? { tail: { ...this.#tail.stats, extraUsd: this.#bill.tailExtraUsd } } : {}),
      ...(this.#ctx.active ? { context: { mode: this.#p.fingerprints.contextMode as 'draft' | 'speculative', ...this.#ctx.stats } } : {}),
    };
    emit({ event: 'summary', ...summary });
    const ok = counts.fresh + counts.edited === this.#selected.size && !this.#stopped;
    return { exitCode: this.#opts.dryRun || ok ? ExitCode.ok : ExitCode.failed, summary };
  }

  async close(): Promise<void> {
    await this.#engine?.close();
    await this.#draftEngine?.close();
    await this.#tailEngine?.close();
    await this.#draftImages?.close();
    await this.#images.close();
  }
}

/** A job whose images are not prepared yet (made by #fill, prepared by #pump). */
interface UnpreparedJob {
  readonly id: string;
  readonly unprepared: readonly Request[];
}
