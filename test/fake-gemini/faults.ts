// Scripted faults. Three queues, each consumed first-match-first, every entry N times or 'always':
//   route faults  — what an HTTP route answers instead of (or after) its normal work;
//   record faults — how one request's reply is spoiled, in batch results and in generateContent alike;
//   batch faults  — how a batch ends instead of SUCCEEDED (decided when the batch is created).
import type { ReplyRequest } from './requests.js';
import type { RouteName } from './routes.js';

export type Times = number | 'always';

export type RouteFaultSpec =
  /** An error reply. 429 carries QuotaFailure + RetryInfo(retryDelay, default '1s'). `html` sends a text/html
   *  page instead of the JSON envelope. `afterHandling` does the route's work first (a create that was
   *  accepted but answered 503: the ambiguous failure that makes duplicates). */
  | { kind: 'error'; status: number; html?: boolean; message?: string; retryDelay?: string; afterHandling?: boolean; echoKey?: boolean }
  /** Never reply; the socket stays open until the client gives up or fake.close(). `afterHandling` does the
   *  route's work first (a create that lands while the client hears nothing). */
  | { kind: 'hang'; afterHandling?: boolean }
  /** Destroy the socket without a reply (client: `TypeError: fetch failed`). */
  | { kind: 'destroy'; afterHandling?: boolean }
  /** Wait `ms` of real time, then answer normally. */
  | { kind: 'delay'; ms: number }
  /** Wait until `until` settles (the test decides when: no clock involved), then answer normally. */
  | { kind: 'hold'; until: Promise<unknown> }
  /** upload_chunk only, final chunk only: `x-goog-upload-status: final` and body `{}` (upload resolves undefined). */
  | { kind: 'upload-final-without-file' }
  /** upload_chunk only: 200 without `x-goog-upload-status`; the bytes are kept, so the SDK's re-send succeeds. */
  | { kind: 'upload-no-status' }
  /** download only: the file's first `fraction` of bytes, as if the transfer was cut short. */
  | { kind: 'truncate'; fraction: number };

export type RouteFaultShorthand =
  | '400' | '403' | '404' | '429' | '500' | '503' | '500-html' | '503-html'
  | 'hang' | 'destroy' | 'upload-final-without-file' | 'upload-no-status';

export type RouteFault = RouteFaultSpec | RouteFaultShorthand;

/** What a route-fault predicate sees of the request. */
export interface FaultContext {
  readonly route: RouteName;
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  /** The file, batch or upload id in the path or query. */
  readonly id: string;
  readonly json: unknown;
  /** For upload_chunk: whether the command includes `finalize`. */
  readonly finalChunk: boolean;
}

export type RecordFaultKind =
  | 'error' // {"error":{"code":13,…},"key"} line; HTTP 500 INTERNAL on generateContent
  | 'fenced' // the JSON wrapped in ```json … ```
  | 'malformed' // not parseable JSON (a trailing comma before the last brace)
  | 'schema' // valid JSON that fails the page_ocr schema
  | 'max-tokens' // finishReason MAX_TOKENS and the text cut short
  | 'safety' // finishReason SAFETY and no content
  | 'recitation' // finishReason RECITATION and no content
  | 'blocked-prompt' // no candidates; promptFeedback.blockReason SAFETY
  | 'thoughts' // a `thought: true` part before the answer, which carries a thoughtSignature
  | 'missing' // no line for the key in the result file (generateContent: a reply with no candidates)
  | 'key-only'; // a line with only `key` (generateContent: a reply with no candidates)

export type RecordFault =
  | RecordFaultKind
  | { kind: 'error'; code?: number; message?: string }
  | { kind: 'text'; text: string; finishReason?: string };

/** A JSONL key (batch records only), or a predicate on the request (batch records and generateContent). */
export type RecordMatch = string | ((request: ReplyRequest) => boolean);

export type BatchEnd = 'FAILED' | 'CANCELLED' | 'EXPIRED';

export interface BatchFaultContext {
  readonly displayName: string | undefined;
  readonly model: string;
  readonly keys: readonly string[];
}

interface Entry<F, C> {
  readonly fault: F;
  remaining: Times;
  readonly match: (context: C) => boolean;
}

export class FaultPlan {
  readonly #routes = new Map<RouteName | '*', Array<Entry<RouteFaultSpec, FaultContext>>>();
  readonly #records: Array<Entry<RecordFault, ReplyRequest>> = [];
  readonly #batches: Array<Entry<BatchEnd, BatchFaultContext>> = [];

  /** Scripts `route` (or every route, '*') to misbehave for the next `times` matching requests. */
  route(route: RouteName | '*', fault: RouteFault, times: Times = 1, match: (context: FaultContext) => boolean = () => true): void {
    const spec = expandRouteFault(fault);
    if ((spec.kind === 'upload-final-without-file' || spec.kind === 'upload-no-status') && route !== 'upload_chunk') {
      throw new RangeError(`${spec.kind} applies to the upload_chunk route only, not ${route}`);
    }
    if (spec.kind === 'truncate' && route !== 'download') throw new RangeError(`truncate applies to the download route only, not ${route}`);
    const list = this.#routes.get(route) ?? [];
    list.push({ fault: spec, remaining: checkTimes(times), match });
    this.#routes.set(route, list);
  }

  /** Spoils the reply of matching requests: by JSONL key, or by a predicate (which also sees generateContent). */
  record(match: RecordMatch, fault: RecordFault, times: Times = 1): void {
    const predicate = typeof match === 'string' ? (r: ReplyRequest) => r.key === match : match;
    this.#records.push({ fault, remaining: checkTimes(times), match: predicate });
  }

  /** Makes the next `times` matching batches (counted at create) end in `end` instead of SUCCEEDED. */
  batch(end: BatchEnd, times: Times = 1, match: (context: BatchFaultContext) => boolean = () => true): void {
    this.#batches.push({ fault: end, remaining: checkTimes(times), match });
  }

  clear(): void {
    this.#routes.clear();
    this.#records.length = 0;
    this.#batches.length = 0;
  }

  /** How many scripted faults are still armed ('always' entries count once). */
  remaining(): { route: number; record: number; batch: number } {
    const count = <F, C>(list: ReadonlyArray<Entry<F, C>>): number =>
      list.reduce((n, e) => n + (e.remaining === 'always' ? 1 : e.remaining), 0);
    return { route: [...this.#routes.values()].reduce((n, l) => n + count(l), 0), record: count(this.#records), batch: count(this.#batches) };
  }

  /** @internal The fault for this request, route-specific entries before '*'. */
  takeRoute(context: FaultContext): RouteFaultSpec | undefined {
    const applies = (spec: RouteFaultSpec): boolean =>
      spec.kind === 'upload-final-without-file' ? context.route === 'upload_chunk' && context.finalChunk
        : spec.kind === 'upload-no-status' ? context.route === 'upload_chunk'
          : spec.kind === 'truncate' ? context.route === 'download'
            : true;
    return take(this.#routes.get(context.route) ?? [], context, applies) ?? take(this.#routes.get('*') ?? [], context, applies);
  }

  /** @internal */
  takeRecord(request: ReplyRequest): RecordFault | undefined {
    return take(this.#records, request, () => true);
  }

  /** @internal */
  takeBatch(context: BatchFaultContext): BatchEnd | undefined {
    return take(this.#batches, context, () => true);
  }
}

function take<F, C>(list: Array<Entry<F, C>>, context: C, applies: (fault: F) => boolean): F | undefined {
  const index = list.findIndex((e) => applies(e.fault) && e.match(context));
  const entry = index < 0 ? undefined : list[index];
  if (!entry) return undefined;
  if (entry.remaining !== 'always') {
    entry.remaining -= 1;
    if (entry.remaining <= 0) list.splice(index, 1);
  }
  return entry.fault;
}

function checkTimes(times: Times): Times {
  if (times !== 'always' && (!Number.isInteger(times) || times < 1)) throw new RangeError(`times must be a positive integer or 'always', got ${times}`);
  return times;
}

export function expandRouteFault(fault: RouteFault): RouteFaultSpec {
  if (typeof fault !== 'string') return fault;
  switch (fault) {
    case 'hang':
    case 'destroy':
    case 'upload-final-without-file':
    case 'upload-no-status':
      return { kind: fault };
    case '500-html':
    case '503-html':
      return { kind: 'error', status: Number(fault.slice(0, 3)), html: true };
    case '400':
    case '403':
    case '404':
    case '429':
    case '500':
    case '503':
      return { kind: 'error', status: Number(fault) };
    default: {
      const never: never = fault;
      throw new RangeError(`unknown route fault ${String(never)}`);
    }
  }
}
