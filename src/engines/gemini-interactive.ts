// The `gemini` engine: interactive generateContent calls, a concurrency limit, and backoff on 429/5xx and
// network errors (RetryInfo honoured). Same requests and outcomes as the batch engine, at the full price.
import fs from 'node:fs';
import type { ResolvedConfig } from '../config/resolved.js';
import type { PreparedRequest } from '../prepare/types.js';
import { EngineStop, type Engine, type EngineCounters, type Job, type Outcome } from './engine.js';
import { createClient, endpointOf, type Client } from './gemini/client.js';
import { authStop, classify, Outage, OutageError, withRetry } from './gemini/errors.js';
import { geminiBaseUrl } from './resolve.js';
import { outcomeFromResponse, type GenerateResponse } from './gemini/reply.js';
import { checkModel } from './gemini/preflight.js';
import { generationConfig, withMediaResolution } from './gemini/request.js';

export interface InteractiveOptions {
  root: string;
  config: ResolvedConfig;
  /** Attempts per call on retryable errors (the first call included). */
  attempts?: number;
  retryBaseMs?: number;
}

export function createGeminiEngine(o: InteractiveOptions): Engine {
  const counters: EngineCounters = { requests: 0, batches: 0, uploads: 0 };
  let client: Promise<Client> | null = null;
  const concurrency = o.config.execution.concurrency ?? 8;
  const getClient = () => (client ??= createClient({ root: o.root, engine: 'gemini', apiVersion: o.config.rule.apiVersion }));
  const outage = new Outage(o.config.execution.outageSeconds * 1000, endpointOf(geminiBaseUrl(o.root)));

  async function call(request: PreparedRequest, signal: AbortSignal): Promise<Outcome> {
    const base = { key: request.key, fingerprint: request.fingerprint };
    const image = request.image;
    if (!image) throw new Error(`gemini: ${request.key} came without its prepared image`);
    let data: string;
    try {
      data = fs.readFileSync(image.path).toString('base64');
    } catch (err) {
      return { ...base, ok: false, class: 'input-error', message: `cannot read ${request.page.image}: ${(err as Error).message}`, charge: true };
    }
    const { ai } = await getClient();
    counters.requests++;
    // One controller per call, linked to the build's signal and unlinked after: the SDK leaves a listener
    // on the signal it is given, so the build-wide signal must not be handed over directly.
    const controller = new AbortController();
    const forward = () => controller.abort();
    signal.addEventListener('abort', forward, { once: true });
    try {
      const response = await withRetry(
        () =>
          ai.models.generateContent({
            model: o.config.rule.model,
            contents: [{ role: 'user', parts: [{ text: request.prompt ?? '' }, withMediaResolution(o.config, { inlineData: { mimeType: image.mime, data } }) as never] }],
            config: { ...generationConfig(o.config), automaticContinuation: false, abortSignal: controller.signal } as never,
          }),
        { attempts: o.attempts ?? 6, baseMs: o.retryBaseMs ?? 1000, maxMs: 60_000, signal, outage },
      );
      return outcomeFromResponse(request.key, request.fingerprint, response as unknown as GenerateResponse);
    } catch (err) {
      if (err instanceof OutageError) throw new EngineStop(err.message);
      const f = classify(err);
      if (f.auth) throw new EngineStop(authStop(f));
      // A rejected request (4xx) is the page's failure; an unreachable or overloaded service is not.
      return { ...base, ok: false, class: 'api-error', code: f.code, message: f.message, charge: !f.retryable, ...(err instanceof Error && err.stack ? { stack: err.stack } : {}) };
    } finally {
      signal.removeEventListener('abort', forward);
    }
  }

  return {
    name: 'gemini',
    images: 'gemini',
    jobSize: 1,
    maxJobs: concurrency,
    counters,
    async preflight(signal) {
      await checkModel({ client: await getClient(), model: o.config.rule.model, engine: 'gemini', rule: o.config.rule.name, signal, ...(o.retryBaseMs ? { retryBaseMs: o.retryBaseMs } : {}) });
    },
    async *run(job: Job, signal: AbortSignal) {
      for (const r of job.requests) {
        if (signal.aborted) return;
        yield await call(r, signal);
      }
    },
    async close() {},
  };
}
