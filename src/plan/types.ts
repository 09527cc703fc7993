// The planner's vocabulary (DESIGN §5). Everything here is plain JSON-serialisable data.
import type { Components, FailureClass } from '../cache/records.js';
import type { ContentHash, Fingerprint, TargetKey } from '../types.js';

export const STATES = ['fresh', 'edited', 'stale', 'waiting', 'inflight', 'failed', 'dead', 'blocked', 'missing-input'] as const;
export type State = (typeof STATES)[number];

type Change<C extends string> = { code: C; recorded: ContentHash | null; current: ContentHash | null };
export type Reason =
  | { code: 'new' }
  | { code: 'output-missing' }
  | Change<'image-changed'>
  | Change<'prompt-changed'>
  | Change<'context-changed'>
  | Change<'config-changed'>
  | Change<'schema-changed'>
  | Change<'prepare-changed'>
  | { code: 'forced' };
export type ReasonCode = Reason['code'];
export const REASON_CODES: readonly ReasonCode[] = ['new', 'output-missing', 'image-changed', 'prompt-changed', 'context-changed', 'config-changed', 'schema-changed', 'prepare-changed', 'forced'];

/** What the planner knows of one target: hashes already computed by the fingerprint stage. */
export interface TargetInput {
  key: TargetKey;
  predecessor: TargetKey | null;
  /** Why the page's own input is unusable (no image, two images, unreadable), or null. */
  inputProblem: string | null;
  /** Hash of the output file, or null when it does not exist. */
  outputHash: ContentHash | null;
  /** The request as it would be sent now; null when it cannot be known (see currentProblem). */
  current: { fingerprint: Fingerprint; components: Components } | null;
  /** Why `current` is null although the inputs exist (e.g. the predecessor's output is not valid JSON). */
  currentProblem: string | null;
  /** Draft mode: the predecessor whose draft this page's request needs, when that draft is not made yet. */
  awaits?: TargetKey | null;
  record: { fingerprint: Fingerprint; outputHash: ContentHash; components: Components } | null;
}

export interface AttemptInfo {
  fingerprint: Fingerprint;
  count: number;
  lastClass: FailureClass | null;
  lastMessage: string | null;
}

export interface PlanInput {
  /** Keys of each chain in page order. */
  chains: readonly (readonly TargetKey[])[];
  targets: ReadonlyMap<TargetKey, TargetInput>;
  /** Keys in an active batch, with the fingerprint they were sent with. */
  inflight: ReadonlyMap<TargetKey, Fingerprint>;
  attempts: ReadonlyMap<TargetKey, AttemptInfo>;
  forced: ReadonlySet<TargetKey>;
  maxAttempts: number;
  /** False for engines that send no context (local): pages do not wait for their predecessor. */
  chainDependent: boolean;
}

export interface TargetPlan {
  key: TargetKey;
  state: State;
  reasons: Reason[];
  /** For `blocked`: the key at the root of the block (dead or missing input). */
  blockedBy: TargetKey | null;
  /** Human detail for missing-input, blocked, waiting, failed, dead. */
  detail: string | null;
  /** On the frontier: stale or failed, and its predecessor (if it depends on one) is fresh or edited. */
  buildable: boolean;
}

export interface Plan {
  targets: Map<TargetKey, TargetPlan>;
  /** The buildable targets, longest remaining chain first, then key order. */
  frontier: TargetKey[];
}
