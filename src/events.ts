// The typed events the core emits; only reporters print them (STYLE §8).
import type { FailureClass } from './cache/records.js';
import type { CostEstimate } from './plan/estimate.js';
import type { Reason, State } from './plan/types.js';
import type { TargetKey } from './types.js';
import type { TailStats, Turnaround } from './execute/tail.js';
import type { PolicyRow } from './plan/policies.js';
import type { ContextMode, DraftSource } from './config/resolved.js';

export interface Summary {
  built: number;
  restored: number;
  cutoff: number;
  failed: number;
  dead: number;
  blocked: number;
  requests: number;
  batches: number;
  uploads: number;
  /** Targets in the selection and how many ended fresh or edited. */
  targets: number;
  fresh: number;
  edited: number;
  waiting: number;
  missingInput: number;
  /** Tokens billed in this run (prompt; candidates + thoughts), from the replies' usageMetadata. */
  tokensIn: number;
  tokensOut: number;
  /**
   * USD for those tokens at the engine's prices (local: 0; null when the model has no known price). Always
   * set by builds; optional only so that summaries made elsewhere (tests, older run files) stay valid.
   */
  costUsd?: number | null;
  seconds: number;
  /** True for build --dry-run: nothing was sent or written. */
  dryRun: boolean;
  /**
   * Source images decoded to prepare what was sent, and source files whose pages were counted by a header
   * read, in this run (0 and 0 for a no-op build: the stat cache vouches for every file). Always set by builds.
   */
  decoded?: number;
  probed?: number;
  /**
   * True when nothing changed since the last no-op build and the answer came from its proof
   * (`.ocrcache/noop-proof`): the config loaded, the pages discovered and every file stat-ed, the cache not opened.
   */
  quick?: true;
  /**
   * The context policy when it is not `exact` (DESIGN §15): drafts made, pages sent speculatively, and of
   * those how many were verified equal to the exact request (hits: restored with no call) or sent again (misses).
   */
  context?: { mode: 'draft' | 'speculative'; drafts: number; speculated: number; hits: number; misses: number };
  /** The interactive tail of a Batch build with a deadline (README "Context policies"). */
  tail?: TailStats;
}

export interface PlanPolicies {
  /** The policy in force, and how drafts are made. */
  mode: ContextMode;
  draft: DraftSource;
  rows: PolicyRow[];
  /** The batch turnaround the tail row assumes (samples 0: no batch has ended yet). */
  turnaround: Turnaround;
  /** When a deadline is set (ISO). */
  deadline?: string;
}

export type BuildEvent =
  | { event: 'start'; engine: string; targets: number; selected: number }
  | { event: 'notice'; message: string }
  | { event: 'warning'; message: string; file?: string; key?: TargetKey }
  | {
      event: 'plan';
      counts: Record<State, number>;
      frontier: number;
      reasons: Record<string, number>;
      toSend: number;
      toRestore: number;
      /** What sending would cost (build --dry-run, and builds with --max-cost). */
      estimate?: CostEstimate;
      /** A Batch dry run of a rule with context: rounds, requests and cost under each context policy. */
      policies?: PlanPolicies;
    }
  | { event: 'stale'; key: TargetKey; state: State; reasons: Reason[] }
  /** A job went to an engine: `engine` is the build's, or `gemini` for the interactive tail of a Batch build. */
  | { event: 'submitted'; keys: number; job: string; engine: string }
  /**
   * Every page that can be sent is sent: the build waits for `jobs` running jobs to answer (Batch builds),
   * `interactive` of them calls of the interactive tail and `local` of them local drafts.
   */
  | { event: 'idle'; jobs: number; interactive: number; local: number }
  | { event: 'engine'; message: string }
  | { event: 'stopped'; message: string }
  | { event: 'watch'; state: 'watching' | 'building'; message: string }
  /** watch: a file change that asks for a build (`building`: it came while one ran, so a follow-up is queued). */
  | { event: 'changed'; file: string; during: 'building' | 'waiting' }
  | ({ event: 'batch' } & BatchReport)
  | ({ event: 'upload' } & UploadReport)
  | RecordEvent
  | { event: 'built'; key: TargetKey; output: string; ms: number }
  | { event: 'restored'; key: TargetKey; output: string }
  | { event: 'recovered'; key: TargetKey; output: string }
  | { event: 'cutoff'; key: TargetKey }
  /** `charged`: the failure counts as an attempt (false when it was not the page's fault: an outage, a lost batch). */
  | { event: 'failed'; key: TargetKey; class: FailureClass; message: string; attempt: number; dead: boolean; charged?: boolean }
  | { event: 'blocked'; key: TargetKey; by: TargetKey | null; detail: string | null }
  | { event: 'missing-input'; key: TargetKey; detail: string | null }
  | ({ event: 'summary' } & Summary);

export type Emit = (e: BuildEvent) => void;

/**
 * A batch's life as the run report and the live panel show it: one event when created; one each time a poll
 * finds its state or its progress changed (`state`); one when it ends.
 */
export interface BatchReport {
  name: string;
  displayName: string;
  phase: 'created' | 'state' | 'ended';
  /**
   * Final state when ended: succeeded, failed, cancelled, expired. For `state`, the state as the API reports
   * it: PENDING, RUNNING, SUCCEEDED, … (null when created).
   */
  state: string | null;
  records: number;
  /** For `state`: the requests the API counts as succeeded and failed so far. */
  succeeded: number;
  failed: number;
  tokensIn: number;
  tokensOut: number;
  createdAt: string;
  endedAt: string | null;
}

/** Image uploads of a batched engine: how many a batch needs (`queued`), then one event per file. */
export type UploadReport =
  | { phase: 'queued'; files: number }
  | { phase: 'done'; image: string; bytes: number }
  | { phase: 'failed'; image: string; message: string };

/**
 * One answered request with its full context, for tracers (Braintrust) and run reports. Not part of the
 * NDJSON contract of build --json (it carries whole prompts).
 */
export interface RecordEvent {
  event: 'record';
  key: TargetKey;
  vars: Readonly<Record<string, string>>;
  engine: string;
  model: string | null;
  /** The model that answered (the reply's modelVersion), when the engine said. */
  modelVersion: string | null;
  promptFile: string | null;
  fingerprint: string;
  prompt: string | null;
  previousContext: string | null;
  generationConfig: Record<string, unknown> | null;
  batch: string | null;
  ok: boolean;
  output: unknown;
  error: { class: FailureClass; message: string; code: string | null; rawResponse: string | null } | null;
  attempt: number;
  tokensIn: number;
  tokensOut: number;
  latencyMs: number | null;
}
