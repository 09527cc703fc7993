// The typed events the core emits; only reporters print them (STYLE §8).
import type { FailureClass } from './cache/records.js';
import type { CostEstimate } from './plan/estimate.js';
import type { Reason, State } from './plan/types.js';
import type { TargetKey } from './types.js';

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
    }
  | { event: 'stale'; key: TargetKey; state: State; reasons: Reason[] }
  | { event: 'submitted'; keys: number; job: string }
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
  | { event: 'failed'; key: TargetKey; class: FailureClass; message: string; attempt: number; dead: boolean }
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
