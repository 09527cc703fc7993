// A Braintrust experiment per `ocrmake try` (DESIGN §17), when Braintrust is configured (the same settings
// as tracing: BRAINTRUST_API_KEY and a project; report/braintrust.ts). Named `<variant> <time>`, with the
// variant's settings as metadata, and one row per page tried:
//   input    {key, prompt_file, model}
//   output   the output's plain text (what eval scores)
//   scores   char_accuracy = 1 − CER and word_accuracy = 1 − WER (clamped to 0: Braintrust scores are 0–1,
//            and more is better), field accuracy and list precision/recall for JSON ground truth
//   metrics  cer, wer (unclamped), chars, char_edits
// Braintrust averages the scores per experiment, so its experiment view compares variants as `compare` does.
// As with tracing, an outage never fails the try: delivery is bounded and a problem is one warning.
import { precision, recall } from '../eval/json-metrics.js';
import type { EvalResult } from '../eval/score.js';
import { rate } from '../eval/text-metrics.js';
import type { Emit } from '../events.js';
import type { Project } from '../execute/project.js';
import { braintrustSettings, FLUSH_DEADLINE_MS } from '../report/braintrust.js';
import { readDotenv } from '../engines/resolve.js';
import type { TryResult } from './try.js';

type Experiment = { log(event: Record<string, unknown>): string; flush(): Promise<void> };

export async function logExperiment(p: Project, r: TryResult, emit: Emit, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const all = { ...readDotenv(p.config.root), ...env };
  const settings = await braintrustSettings(all, async () => p.config.braintrust.project);
  if (!settings.on) {
    emit({ event: 'notice', message: `Braintrust experiment not logged: ${settings.reason}.` });
    return;
  }
  const name = `${r.variant.name} ${new Date().toISOString().slice(0, 19).replace('T', ' ')}`;
  const errors: string[] = [];
  const work = (async () => {
    const bt = await import('braintrust');
    const state = new bt.BraintrustState({
      apiKey: settings.apiKey,
      ...(settings.appUrl ? { appUrl: settings.appUrl } : {}),
      noExitFlush: true,
      onFlushError: (err: unknown) => void errors.push(String((err as Error)?.message ?? err)),
    });
    if (all['BRAINTRUST_NUM_RETRIES'] === undefined) state.httpLogger().numTries = 2;
    const experiment = bt.init({
      project: settings.project,
      experiment: name,
      apiKey: settings.apiKey,
      ...(settings.appUrl ? { appUrl: settings.appUrl } : {}),
      state,
      setCurrent: false,
      metadata: { variant: r.variant.name, settings: r.variant.settings, pages: r.pages.length, engine: p.engine, model: p.config.rule.model, prompt_file: p.config.rule.promptFile },
      gitMetadataSettings: { collect: 'none' },
    }) as unknown as Experiment;
    for (const row of rows(p, r)) experiment.log(row);
    await experiment.flush();
  })().catch((err: unknown) => void errors.push(String((err as Error)?.message ?? err).split('\n')[0]!));
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), FLUSH_DEADLINE_MS)));
  const outcome = await Promise.race([work.then(() => 'done' as const), late]);
  clearTimeout(timer);
  if (outcome === 'late') errors.push(`no answer within ${FLUSH_DEADLINE_MS / 1000} s`);
  if (errors.length > 0) {
    emit({ event: 'warning', message: `Braintrust (${settings.appUrl ?? 'https://www.braintrust.dev'}) did not take the experiment "${name}" (${errors.at(-1)}). The try is not affected.` });
    if (outcome === 'late') setTimeout(() => process.exit(), 250).unref();
    return;
  }
  emit({ event: 'notice', message: `Braintrust experiment "${name}" logged in project "${settings.project}" (${r.pages.length} pages).` });
}

function rows(p: Project, r: TryResult): Array<Record<string, unknown>> {
  const scored = new Map((r.scores?.pages ?? []).map((s) => [s.key, s]));
  return r.pages.map((key) => {
    const s = scored.get(key);
    const base = { input: { key, prompt_file: p.config.rule.promptFile, model: p.config.rule.model }, metadata: { variant: r.variant.name, chain: p.index.byKey.get(key)?.chainId ?? null } };
    if (!s || s.status !== 'scored' || !s.text) return { ...base, output: s?.outputText ?? null };
    const cer = rate(s.text.charEdits, s.text.chars), wer = rate(s.text.wordEdits, s.text.words);
    const scores: Record<string, number> = { char_accuracy: Math.max(0, 1 - cer), word_accuracy: Math.max(0, 1 - wer) };
    for (const [f, c] of Object.entries(s.json?.fields ?? {})) scores[`field_${f}`] = c.total === 0 ? 1 : c.correct / c.total;
    for (const [f, c] of Object.entries(s.json?.lists ?? {})) {
      scores[`${f}_precision`] = precision(c);
      scores[`${f}_recall`] = recall(c);
    }
    return { ...base, output: s.outputText, scores, metrics: { cer, wer, chars: s.text.chars, char_edits: s.text.charEdits } };
  });
}
