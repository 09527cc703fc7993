// Braintrust tracing (DESIGN §11): one span per answered request, from the core's `record` events.
//
//   span    name "page <key>", type llm (task for the local engine), start/end = sent/answered
//   input   {key, page_id, prompt, previous_context, generation_config}
//   output  the validated result (null on failure)
//   error   {class, message, code, raw_response} on failure
//   metadata {engine, model, prompt_file, fingerprint, batch, vars (the wildcard values)}, and beside them the
//           original pipeline's fields, so its dashboards and queries keep working: batch_id, prompt_name,
//           prompt_template, error, and each wildcard at the top level (state, school, year, page; whole
//           numbers as numbers, as it logged them)
//   metrics {attempt, prompt_tokens, completion_tokens, tokens, latency (seconds)}
//   scores  {success: 1 or 0}
//
// On when BRAINTRUST_API_KEY and a project (BRAINTRUST_PROJECT, else BRAINTRUST_PROJECT_NAME as the original
// pipeline named it, else the ocrfile's braintrust.project) are
// set, in the environment or .env; otherwise one notice says why it is off, and the braintrust package is
// never loaded. It is loaded on the first record, so a no-op build does not pay for it either.
//
// A Braintrust outage never fails or slows a build by more than a few seconds: spans are queued and sent
// in the background; every HTTP call has a timeout; the SDK retries once (not twice with 1 s and 2 s
// backoff) unless BRAINTRUST_NUM_RETRIES says otherwise; and the final flush has a deadline. Delivery
// errors come back through onFlushError, which the SDK honours only with an explicit BraintrustState.
// Neither key is ever logged: both are removed from every span before it is queued.
import { registerSecret } from '../util/secrets.js';
import type { BuildEvent, Emit, RecordEvent } from '../events.js';
import { geminiKey, readDotenv } from '../engines/resolve.js';

/** Bound on the final flush; after it, undelivered spans are dropped. */
export const FLUSH_DEADLINE_MS = 4000;
/** Bound on any one HTTP call to Braintrust. */
export const REQUEST_TIMEOUT_MS = 4000;
/** raw_response is cut to this many characters (a reply can be large; the failure log keeps it whole). */
const RAW_RESPONSE_CHARS = 50_000;

export type BraintrustSettings =
  | { on: true; apiKey: string; project: string; appUrl: string | null }
  | { on: false; reason: string };

/** Decides whether tracing is on, and why not. BRAINTRUST_PROJECT wins over the ocrfile's project. */
export async function braintrustSettings(env: Readonly<Record<string, string | undefined>>, configProject: () => Promise<string | null>): Promise<BraintrustSettings> {
  const apiKey = env['BRAINTRUST_API_KEY']?.trim();
  if (!apiKey) return { on: false, reason: 'BRAINTRUST_API_KEY is not set' };
  registerSecret(apiKey);
  const project = env['BRAINTRUST_PROJECT']?.trim() || env['BRAINTRUST_PROJECT_NAME']?.trim() || (await configProject());
  if (!project) return { on: false, reason: 'no project: set BRAINTRUST_PROJECT (or BRAINTRUST_PROJECT_NAME), or braintrust: { project } in the ocrfile' };
  return { on: true, apiKey, project, appUrl: env['BRAINTRUST_APP_URL']?.trim() || null };
}

export interface TracerOptions {
  root: string;
  /** Where events go after the tracer has seen them (the reporters); notices and warnings go there too. */
  downstream: Emit;
  /** The ocrfile's braintrust.project; asked only when a key is set and BRAINTRUST_PROJECT is not. */
  configProject: () => Promise<string | null>;
  /**
   * Hold `summary` events until close() has flushed, so that a delivery warning comes before the summary,
   * which stays the last event of `build --json`. Watch passes false and flushes after each build instead.
   */
  holdSummary: boolean;
  env?: NodeJS.ProcessEnv;
}

export interface Tracer {
  /** True when spans are being sent. */
  readonly on: boolean;
  /** The emit target: sees every event, then passes it downstream. */
  readonly emit: Emit;
  /** Sends what is queued (bounded by FLUSH_DEADLINE_MS), reports a failure, then releases a held summary. */
  close(): Promise<void>;
}

export async function createTracer(o: TracerOptions): Promise<Tracer> {
  const env = { ...readDotenv(o.root), ...(o.env ?? process.env) };
  const settings = await braintrustSettings(env, o.configProject);
  if (!settings.on) {
    o.downstream({ event: 'notice', message: `Braintrust tracing is off: ${settings.reason}.` });
    return { on: false, emit: o.downstream, close: async () => {} };
  }
  o.downstream({ event: 'notice', message: `Braintrust tracing is on: one span per request in project "${settings.project}".` });
  const secrets = [settings.apiKey, geminiKey(o.root, env)].filter((s): s is string => Boolean(s) && s!.length >= 4);
  const sink = new SpanSink(settings, secrets, env['BRAINTRUST_NUM_RETRIES'] === undefined);
  let held: BuildEvent[] = [];
  return {
    on: true,
    emit(e) {
      if (e.event === 'record') sink.add(e);
      if (e.event === 'summary') {
        if (o.holdSummary) {
          held.push(e);
          return;
        }
        void sink.flush(FLUSH_DEADLINE_MS).then((problem) => problem && o.downstream({ event: 'warning', message: problem }));
      }
      o.downstream(e);
    },
    async close() {
      const problem = await sink.flush(FLUSH_DEADLINE_MS, true);
      if (problem) o.downstream({ event: 'warning', message: problem });
      const release = held;
      held = [];
      for (const e of release) o.downstream(e);
    },
  };
}

type Logger = { startSpan(args: Record<string, unknown>): { end(args?: { endTime?: number }): unknown }; flush(): Promise<void> };

/** Records become spans once the SDK is loaded; until then (and if it fails to load) they wait in a queue. */
class SpanSink {
  readonly #settings: Extract<BraintrustSettings, { on: true }>;
  readonly #secrets: readonly string[];
  readonly #fewerRetries: boolean;
  readonly #queue: Array<{ record: RecordEvent; endMs: number }> = [];
  readonly #errors: string[] = [];
  #logger: Promise<Logger | null> | null = null;
  #spans = 0;

  constructor(settings: Extract<BraintrustSettings, { on: true }>, secrets: readonly string[], fewerRetries: boolean) {
    this.#settings = settings;
    this.#secrets = secrets;
    this.#fewerRetries = fewerRetries;
  }

  add(record: RecordEvent): void {
    this.#queue.push({ record, endMs: Date.now() });
    this.#logger ??= this.#load();
    void this.#logger.then((logger) => logger && this.#drain(logger));
  }

  async #load(): Promise<Logger | null> {
    try {
      const bt = await import('braintrust');
      const state = new bt.BraintrustState({
        apiKey: this.#settings.apiKey,
        ...(this.#settings.appUrl ? { appUrl: this.#settings.appUrl } : {}),
        // We flush ourselves, with a deadline: the SDK's beforeExit flush would retry for ~6 s.
        noExitFlush: true,
        onFlushError: (err: unknown) => this.#errors.push(this.#redactText(errorText(err))),
        fetch: timedFetch,
      });
      if (this.#fewerRetries) state.httpLogger().numTries = 2;
      return bt.initLogger({
        projectName: this.#settings.project,
        apiKey: this.#settings.apiKey,
        ...(this.#settings.appUrl ? { appUrl: this.#settings.appUrl } : {}),
        state,
        setCurrent: false,
        noExitFlush: true,
      }) as unknown as Logger;
    } catch (err) {
      this.#errors.push(`the braintrust package failed to load: ${errorText(err)}`);
      return null;
    }
  }

  #drain(logger: Logger): void {
    for (const { record, endMs } of this.#queue.splice(0)) {
      try {
        const span = logger.startSpan(this.#redact(spanOf(record, endMs)) as Record<string, unknown>);
        span.end({ endTime: endMs / 1000 });
        this.#spans++;
      } catch (err) {
        this.#errors.push(`span for ${record.key} not logged: ${errorText(err)}`);
      }
    }
  }

  /** Flushes within the deadline; returns a one-line problem to report, or null. */
  async flush(deadlineMs: number, final = false): Promise<string | null> {
    if (!this.#logger) return null; // no record, no SDK, nothing to send
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), deadlineMs)));
    const done = (async () => {
      const logger = await this.#logger;
      if (logger) {
        this.#drain(logger);
        await logger.flush().catch((err: unknown) => void this.#errors.push(this.#redactText(errorText(err))));
      }
      return 'done' as const;
    })();
    const outcome = await Promise.race([done, deadline]);
    clearTimeout(timer);
    const errors = this.#errors.splice(0);
    if (outcome === 'late' && final) exitSoonIfStuck();
    if (outcome === 'done' && errors.length === 0) return null;
    const where = this.#settings.appUrl ?? 'https://www.braintrust.dev';
    const why = outcome === 'late' ? `no answer within ${deadlineMs / 1000} s` : errors[errors.length - 1]!;
    return `Braintrust (${where}) did not take every span (${why}); some of the ${this.#spans} spans of this run may be missing. The build is not affected.`;
  }

  #redact(value: unknown): unknown {
    const text = JSON.stringify(value);
    const clean = this.#redactText(text);
    return clean === text ? value : JSON.parse(clean);
  }

  #redactText(text: string): string {
    let out = text;
    for (const s of this.#secrets) out = out.split(s).join('[redacted]');
    return out;
  }
}

function spanOf(r: RecordEvent, endMs: number): Record<string, unknown> {
  const latency = r.latencyMs ?? 0;
  const raw = r.error?.rawResponse ?? null;
  return {
    name: `page ${r.key}`,
    type: r.engine === 'local' ? 'task' : 'llm',
    startTime: (endMs - latency) / 1000,
    event: {
      input: { key: r.key, page_id: r.key, prompt: r.prompt, previous_context: r.previousContext, generation_config: r.generationConfig },
      output: r.ok ? r.output : null,
      ...(r.error
        ? { error: { class: r.error.class, message: r.error.message, code: r.error.code, raw_response: raw && raw.length > RAW_RESPONSE_CHARS ? `${raw.slice(0, RAW_RESPONSE_CHARS)}…` : raw } }
        : {}),
      metadata: {
        ...originalWildcards(r.vars),
        engine: r.engine, model: r.model, prompt_file: r.promptFile, fingerprint: r.fingerprint, batch: r.batch, vars: r.vars,
        batch_id: r.batch,
        prompt_name: r.promptFile ? (r.promptFile.split('/').at(-2) ?? null) : null,
        prompt_template: r.promptFile ? r.promptFile.split('/').at(-1)! : null,
        error: r.error?.message ?? null,
      },
      metrics: { attempt: r.attempt, prompt_tokens: r.tokensIn, completion_tokens: r.tokensOut, tokens: r.tokensIn + r.tokensOut, latency: latency / 1000 },
      scores: { success: r.ok ? 1 : 0 },
    },
  };
}

/** Our own metadata names, which a wildcard of the same name does not overwrite at the top level. */
const OWN_METADATA = new Set(['engine', 'model', 'prompt_file', 'fingerprint', 'batch', 'vars', 'batch_id', 'prompt_name', 'prompt_template', 'error']);

/** The wildcard values at the top level, as the original pipeline logged state, school, year and page. */
function originalWildcards(vars: Readonly<Record<string, string>>): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [name, value] of Object.entries(vars)) {
    if (OWN_METADATA.has(name)) continue;
    out[name] = /^(0|[1-9]\d{0,14})$/.test(value) ? Number(value) : value;
  }
  return out;
}

/** fetch with a timeout on every call (the SDK sets none: a black-holed host would hang the flush). */
const timedFetch: typeof fetch = (input, init) => {
  const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
  return fetch(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout });
};

/**
 * After a missed deadline the SDK may still hold sockets or backoff timers that keep the process alive.
 * The command has finished by now; exit with the code it set once nothing else is left to do. The timer is
 * unref'd, so it fires only when something would otherwise keep the process waiting.
 */
function exitSoonIfStuck(): void {
  setTimeout(() => process.exit(), 250).unref();
}

function errorText(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return errorText(err.errors[0]);
  const e = err as { message?: string; cause?: { message?: string; code?: string } } | undefined;
  const cause = e?.cause?.code ?? e?.cause?.message;
  return `${(e?.message ?? String(err)).split('\n')[0]}${cause ? ` (${cause})` : ''}`;
}

/** The ocrfile's braintrust.project (null when the ocrfile does not load: the build reports that itself). */
export async function ocrfileProject(root: string): Promise<string | null> {
  try {
    const { loadConfig } = await import('../config/load.js');
    return (await loadConfig(root)).braintrust.project;
  } catch {
    return null;
  }
}
