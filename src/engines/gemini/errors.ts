// Classifying what the SDK throws (reference §7): ApiError carries the HTTP status and the JSON body in its
// message; network failures are TypeError('fetch failed'); timeouts are AbortError.

export interface ApiFailure {
  /** HTTP status, or 0 for network errors and timeouts. */
  status: number;
  retryable: boolean;
  /** Server-requested delay (RetryInfo), in ms. */
  retryAfterMs: number | null;
  message: string;
  code: string;
  /** The API key was refused: no retry, no attempt charged, the build stops. */
  auth: boolean;
}

export function classify(err: unknown): ApiFailure {
  const e = err as { name?: string; status?: number; message?: string; cause?: { code?: string } };
  if (e?.name === 'ApiError' && typeof e.status === 'number') {
    let message = String(e.message ?? '');
    let retryAfterMs: number | null = null;
    let status = '';
    let reason = '';
    try {
      const body = JSON.parse(message) as { error?: { message?: string; status?: string; details?: Array<{ '@type'?: string; retryDelay?: string; reason?: string }> } };
      message = body.error?.message ?? message;
      status = body.error?.status ?? '';
      reason = body.error?.details?.map((d) => d.reason ?? '').join(' ') ?? '';
      const delay = body.error?.details?.find((d) => d['@type']?.endsWith('RetryInfo'))?.retryDelay;
      if (delay) retryAfterMs = Math.ceil(parseFloat(delay) * 1000);
    } catch {
      // Not JSON: keep the message as it is.
    }
    const auth = e.status === 401 || /API_KEY_INVALID|API_KEY_/.test(reason) || (e.status === 403 && /api key/i.test(message));
    return { status: e.status, retryable: [408, 429, 500, 502, 503, 504].includes(e.status), retryAfterMs, message: `HTTP ${e.status}${status ? ` ${status}` : ''}: ${message.slice(0, 500)}`, code: String(e.status), auth };
  }
  if (e?.name === 'AbortError' || e?.name === 'TimeoutError') return { status: 0, retryable: true, retryAfterMs: null, message: 'the request timed out', code: 'timeout', auth: false };
  if (e instanceof TypeError && /fetch failed/.test(String(e.message))) {
    return { status: 0, retryable: true, retryAfterMs: null, message: `network error: ${e.cause?.code ?? 'fetch failed'}`, code: e.cause?.code ?? 'network', auth: false };
  }
  return { status: 0, retryable: false, retryAfterMs: null, message: String(e?.message ?? err), code: 'error', auth: false };
}

export interface RetryOptions {
  attempts: number;
  baseMs: number;
  maxMs: number;
  signal?: AbortSignal;
  /** Shared by every call of an engine: a service that fails every call for longer than its budget stops them all. */
  outage?: Outage;
  /** Called before each wait, for progress reporting. */
  onRetry?: (f: ApiFailure, attempt: number, waitMs: number) => void;
}

/**
 * The API has answered nothing but retryable failures (no connection, timeouts, 429, 5xx) since `since`:
 * after `budgetMs` of that, every call gives up with an OutageError instead of retrying on, and the build
 * stops without charging any page. One success ends the outage.
 */
export class Outage {
  #since: number | null = null;
  #last: ApiFailure | null = null;

  constructor(
    readonly budgetMs: number,
    readonly endpoint: string,
  ) {}

  ok(): void {
    this.#since = null;
  }

  fail(f: ApiFailure): void {
    this.#since ??= Date.now();
    this.#last = f;
  }

  get exhausted(): boolean {
    return this.#since !== null && Date.now() - this.#since >= this.budgetMs;
  }

  /** The longest a retry may wait before the budget runs out. */
  get remainingMs(): number {
    return this.#since === null ? this.budgetMs : Math.max(0, this.budgetMs - (Date.now() - this.#since));
  }

  error(): OutageError {
    const seconds = Math.round(this.budgetMs / 1000);
    return new OutageError(
      `the Gemini API at ${this.endpoint} has failed every call for ${seconds} s (last: ${this.#last?.message ?? 'no answer'}); stopping. No page was charged; ` +
        'what is in flight stays recorded and the next build resumes it. Check the network, GOOGLE_GEMINI_BASE_URL and the Gemini status page, then build again ' +
        '(execution.outageSeconds sets how long to keep trying).',
    );
  }
}

export class OutageError extends Error {
  override name = 'OutageError';
}

/** Runs `fn`, retrying retryable failures with exponential backoff and jitter (at least RetryInfo's delay). */
export async function withRetry<T>(fn: () => Promise<T>, o: RetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await fn();
      o.outage?.ok();
      return result;
    } catch (err) {
      const f = classify(err);
      if (f.retryable) o.outage?.fail(f);
      if (o.outage?.exhausted && f.retryable) throw o.outage.error();
      if (!f.retryable || attempt >= o.attempts || o.signal?.aborted) throw err;
      const backoff = Math.min(o.maxMs, o.baseMs * 2 ** (attempt - 1));
      let wait = Math.max(f.retryAfterMs ?? 0, backoff * (0.5 + Math.random() / 2));
      // Never wait past the outage budget: the build stops at its end, not a long backoff later.
      if (o.outage) wait = Math.min(wait, Math.max(o.outage.remainingMs, 10));
      o.onRetry?.(f, attempt, wait);
      await sleep(wait, o.signal);
    }
  }
}

/** Resolves like `promise`, or rejects with an AbortError as soon as `signal` aborts (the call itself may go on). */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new DOMException('aborted', 'AbortError'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new DOMException('aborted', 'AbortError'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** The build stops when the key is refused: the server's reason, and what to do. Never the key itself. */
export function authStop(f: ApiFailure): string {
  return `the Gemini API refused the API key (${f.message}); no attempt was charged. Check GEMINI_API_KEY / GOOGLE_API_KEY and build again.`;
}
