// The typed events the core emits; only reporters print them (STYLE §8).
import type { FailureClass } from './cache/records.js';
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
  seconds: number;
  /** True for build --dry-run: nothing was sent or written. */
  dryRun: boolean;
}

export type BuildEvent =
  | { event: 'start'; engine: string; targets: number; selected: number }
  | { event: 'notice'; message: string }
  | { event: 'warning'; message: string; file?: string; key?: TargetKey }
  | { event: 'plan'; counts: Record<State, number>; frontier: number; reasons: Record<string, number>; toSend: number; toRestore: number }
  | { event: 'stale'; key: TargetKey; state: State; reasons: Reason[] }
  | { event: 'submitted'; keys: number; job: string }
  | { event: 'engine'; message: string }
  | { event: 'stopped'; message: string }
  | { event: 'watch'; state: 'watching' | 'building'; message: string }
  | { event: 'built'; key: TargetKey; output: string; ms: number }
  | { event: 'restored'; key: TargetKey; output: string }
  | { event: 'recovered'; key: TargetKey; output: string }
  | { event: 'cutoff'; key: TargetKey }
  | { event: 'failed'; key: TargetKey; class: FailureClass; message: string; attempt: number; dead: boolean }
  | { event: 'blocked'; key: TargetKey; by: TargetKey | null; detail: string | null }
  | { event: 'missing-input'; key: TargetKey; detail: string | null }
  | ({ event: 'summary' } & Summary);

export type Emit = (e: BuildEvent) => void;
