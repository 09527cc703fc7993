// What the fake remembers for assertions: per-route counters, every request, every model request (with
// the page context it carried), and internal errors (a throwing replier, a bug in the fake).
import type { Outcome } from './responses.js';
import type { RequestVia } from './requests.js';
import { ROUTE_NAMES } from './routes.js';

export const COUNTER_NAMES = [
  'requests',
  ...ROUTE_NAMES,
  'unknown',
  'upload_resend',
  'auth_failures',
  'faults_injected',
  'batches_created',
  'records',
] as const;

export type CounterName = (typeof COUNTER_NAMES)[number];
export type Counters = Record<CounterName, number>;

export interface LoggedRequest {
  readonly seq: number;
  readonly route: string;
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  /** Lower-cased names; repeated headers joined with ', '. */
  readonly headers: Readonly<Record<string, string>>;
  readonly bodySize: number;
  /** The parsed body for JSON routes (never for upload chunks, which are raw bytes). */
  readonly json: unknown;
  /** HTTP status sent; undefined while pending, or when hung or destroyed. */
  status: number | undefined;
  /** The scripted fault applied, e.g. 'error:429', 'hang', 'destroy', 'delay:200'. */
  fault: string | undefined;
}

/** One model request: a batch record (logged at create) or a generateContent call. */
export interface RecordEntry {
  readonly key: string | undefined;
  readonly via: RequestVia;
  readonly batch: string | undefined;
  readonly model: string;
  readonly imageSha256: string | undefined;
  /** Text between the PREVIOUS PAGE CONTEXT markers, trimmed; null when none. */
  readonly context: string | null;
  readonly contextHash: string | null;
  /** Set when the reply is made (at batch completion for batch records). */
  outcome: Outcome['kind'] | 'unresolved-file' | undefined;
}

export class Recorder {
  readonly counters: Counters = Object.fromEntries(COUNTER_NAMES.map((n) => [n, 0])) as Counters;
  readonly requests: LoggedRequest[] = [];
  readonly records: RecordEntry[] = [];
  readonly errors: Error[] = [];

  count(name: CounterName): void {
    this.counters[name] += 1;
  }

  reset(): void {
    for (const name of COUNTER_NAMES) this.counters[name] = 0;
    this.requests.length = 0;
    this.records.length = 0;
    this.errors.length = 0;
  }
}
