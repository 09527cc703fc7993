// Before the first request of a build: is there a key, does the model exist, can this engine use it?
// One models.get (and, when the model is unknown, one models.list to name the ones that exist). A model
// that does not exist, or is shut down, or cannot run batches for the batch engine, stops the build with
// exit 2 before any upload: nothing is sent and no page is charged.
import { ExitCode, ExitSignal } from '../../errors.js';
import { bareModel } from '../../cost/models.js';
import type { Client } from './client.js';
import { authStop, classify, raceAbort, withRetry } from './errors.js';

export interface PreflightOptions {
  client: Client;
  model: string;
  engine: 'gemini-batch' | 'gemini';
  /** The rule whose model it is, for the message. */
  rule: string;
  signal: AbortSignal;
  retryBaseMs?: number;
}

/** What the generation method of each engine is called in supportedGenerationMethods. */
const METHOD = { 'gemini-batch': 'batchGenerateContent', gemini: 'generateContent' } as const;

export async function checkModel(o: PreflightOptions): Promise<void> {
  const { ai, endpoint } = o.client;
  const model = bareModel(o.model);
  const method = METHOD[o.engine];
  let found: { supportedActions?: string[] };
  try {
    found = await withRetry(() => raceAbort(ai.models.get({ model }), o.signal), { attempts: 4, baseMs: o.retryBaseMs ?? 1000, maxMs: 10_000, signal: o.signal });
  } catch (err) {
    if (o.signal.aborted) return;
    const f = classify(err);
    if (f.auth) throw new ExitSignal(ExitCode.usage, authStop(f));
    if (f.status === 404 || f.status === 400) {
      const available = await listModels(o.client, method).catch(() => null);
      throw new ExitSignal(
        ExitCode.usage,
        `model ${model} does not exist or is shut down (${f.message}); nothing was sent.\n` +
          `  Set the model of rule "${o.rule}" to one of the available models${available ? `: ${available.join(', ')}` : ' (ocrmake could not list them)'}.`,
      );
    }
    throw new ExitSignal(
      ExitCode.failed,
      `cannot reach the Gemini API at ${endpoint} to check model ${model} (${f.message}); nothing was sent and no page was charged.\n` +
        '  Check the network (and GOOGLE_GEMINI_BASE_URL if you set it), then build again.',
    );
  }
  const actions = found.supportedActions;
  if (Array.isArray(actions) && actions.length > 0 && !actions.includes(method)) {
    const hint = o.engine === 'gemini-batch' ? 'Use --engine gemini (interactive calls, full price), or a model' : 'Use a model';
    throw new ExitSignal(ExitCode.usage, `model ${model} does not support ${method}, which the ${o.engine} engine uses; nothing was sent.\n  ${hint} that does: ${(await listModels(o.client, method).catch(() => null))?.join(', ') ?? 'see models.list'}.`);
  }
}

/** The models this key can use with `method`, by name (at most 40, so the message stays readable). */
async function listModels(client: Client, method: string): Promise<string[]> {
  const names: string[] = [];
  const pager = await client.ai.models.list({ config: { pageSize: 100 } });
  for await (const m of pager) {
    const actions = (m as { supportedActions?: string[] }).supportedActions;
    if (m.name && (!Array.isArray(actions) || actions.includes(method))) names.push(bareModel(m.name));
    if (names.length >= 200) break;
  }
  names.sort();
  return names.length > 40 ? [...names.slice(0, 40), `… (${names.length - 40} more)`] : names;
}
