// `ocrmake try <variant> [selectors..]`: a variant's requests, built into the result store and its area
// (src/variants/try.ts); the build's progress and summary as `build` shows them, then the variant's scores
// against the ground truth, and a Braintrust experiment when Braintrust is configured.
import { abortOnSignals } from '../interrupt.js';
import type { EngineName } from '../../config/define.js';
import { pct } from '../../eval/format.js';
import { rate } from '../../eval/text-metrics.js';
import type { Emit } from '../../events.js';
import { createReporter } from '../../report/reporter.js';
import { redacting } from '../../util/secrets.js';
import { logExperiment } from '../../variants/experiment.js';
import { runTry, type TryResult } from '../../variants/try.js';
import { projectRoot } from '../root.js';

export interface TryCommandOptions {
  name: string;
  selectors: string[];
  sample: number | undefined;
  dryRun: boolean;
  engine: 'auto' | EngineName | undefined;
  json: boolean;
  quiet: boolean;
  pollSeconds?: number | undefined;
  maxCost?: number | undefined;
  /** Settings from flags (--prompt, --model, --generation-config, --context), or undefined. */
  settings?: Record<string, unknown> | undefined;
  cwd?: string;
}

export async function tryCommand(o: TryCommandOptions): Promise<number> {
  const cwd = o.cwd ?? process.cwd();
  const root = projectRoot(cwd);
  const reporter = await createReporter({ json: o.json, quiet: o.quiet, tty: Boolean(process.stderr.isTTY), out: process.stdout, err: process.stderr });
  const emit: Emit = redacting((e) => reporter.emit(e));
  const controller = new AbortController();
  const unlisten = abortOnSignals(controller, (signal) => `ocrmake: ${signal}: stopping after the work in progress; press Ctrl-C again to quit now`);
  let closed = false;
  try {
    const result = await runTry(
      {
        root, cwd, name: o.name, selectors: o.selectors, dryRun: o.dryRun, emit, signal: controller.signal,
        ...(o.sample !== undefined ? { sample: o.sample } : {}),
        ...(o.settings ? { settings: o.settings } : {}),
        ...(o.engine ? { engine: o.engine } : {}),
        ...(o.pollSeconds !== undefined ? { pollSeconds: o.pollSeconds } : {}),
        ...(o.maxCost !== undefined ? { maxCost: o.maxCost } : {}),
      },
      async (p, r) => {
        if (!o.dryRun && r.summary.requests + r.summary.restored + r.summary.built > 0) await logExperiment(p, r, emit);
      },
    );
    closed = true;
    reporter.close();
    writeScores(result, o.json);
    return result.exitCode;
  } finally {
    if (!closed) reporter.close();
    unlisten();
  }
}

/** The variant's scores on the pages tried: one line, or one NDJSON `scores` event after the summary. */
function writeScores(r: TryResult, json: boolean): void {
  const s = r.scores;
  if (!s) return;
  const t = s.overall.text;
  const cer = rate(t.charEdits, t.chars), wer = rate(t.wordEdits, t.words);
  if (json) {
    process.stdout.write(`${JSON.stringify({ event: 'scores', variant: r.variant.name, pages: s.overall.pages, cer, wer, chars: t.chars, charEdits: t.charEdits })}\n`);
    return;
  }
  if (s.overall.pages === 0) return void process.stdout.write(`${r.variant.name}: no page tried has ground truth to score against\n`);
  process.stdout.write(`${r.variant.name}: CER ${pct(cer)}, WER ${pct(wer)} on ${s.overall.pages} page${s.overall.pages === 1 ? '' : 's'} with ground truth (ocrmake eval --variant ${r.variant.name} for each page)\n`);
}
