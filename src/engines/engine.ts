// One interface for every engine (DESIGN §8): the executor hands over jobs of requests and reads one
// outcome per request as an async stream. Batched engines turn a job into a Gemini batch; the local and
// interactive engines run a job's requests through a pool.
import type { EngineName } from '../config/define.js';
import type { ImageFamily } from '../config/images.js';
import type { FailureClass } from '../cache/records.js';
import type { PreparedRequest } from '../prepare/types.js';
import type { Fingerprint, TargetKey } from '../types.js';

export type Outcome =
  | {
      ok: true;
      key: TargetKey;
      fingerprint: Fingerprint;
      /** The parsed reply, not yet validated against the rule's schema. */
      value: unknown;
      /** Text the value was parsed from, kept for the failure log when validation fails. */
      text?: string;
      /** The raw reply (JSON), kept for the failure log when validation fails. */
      raw?: string;
      tokensIn?: number;
      tokensOut?: number;
      /** The batch the result came from. */
      batch?: string;
      /** The model that answered (the reply's modelVersion): may differ from the one asked for. */
      modelVersion?: string;
    }
  | {
      ok: false;
      key: TargetKey;
      fingerprint: Fingerprint;
      class: FailureClass;
      message: string;
      code?: string;
      stack?: string;
      rawResponse?: string;
      extractedText?: string;
      /** False when the failure was not the record's fault (a failed or expired batch): no attempt is charged. */
      charge: boolean;
      batch?: string;
      tokensIn?: number;
      tokensOut?: number;
      modelVersion?: string;
    };

export interface Job {
  readonly id: string;
  /** Requests to send, each with its prepared image (empty for a batch re-attached after a crash). */
  readonly requests: readonly PreparedRequest[];
  /** What the job answers for; defaults to the requests' keys and fingerprints. */
  readonly records?: readonly { key: TargetKey; fingerprint: Fingerprint }[];
}

export interface EngineCounters {
  requests: number;
  batches: number;
  uploads: number;
}

export interface Engine {
  readonly name: EngineName;
  /**
   * The image settings and formats the engine takes (config/images.ts: what each family accepts); every
   * request's image is prepared for it before the engine sees it. null: an engine that reads no image
   * (the test and bench stand-ins), whose requests carry none.
   */
  readonly images: ImageFamily | null;
  /** Requests per job and jobs in flight at once. */
  readonly jobSize: number;
  readonly maxJobs: number;
  readonly counters: EngineCounters;
  /**
   * Checks, before the first request of a build, that requests can be sent at all (a key, a model that
   * exists): throws an ExitSignal naming the problem, so nothing is uploaded and no page is charged.
   */
  preflight?(signal: AbortSignal): Promise<void>;
  run(job: Job, signal: AbortSignal): AsyncIterable<Outcome>;
  close(): Promise<void>;
}

/**
 * Thrown by an engine's run() when the build must stop (the API key was refused, repeated batch failures,
 * lost contact). The job's unanswered pages are released without an attempt charged.
 */
export class EngineStop extends Error {
  override name = 'EngineStop';
}
