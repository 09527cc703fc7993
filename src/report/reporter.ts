// Reporters render the core's events (STYLE §8): NDJSON with --json, a live progress bar on a TTY, plain
// timestamped lines otherwise. Only reporters print.
import type { BuildEvent, PlanPolicies, Summary } from '../events.js';
import { TOKENS_PER_TILE } from '../cost/image-tokens.js';
import { CHARS_PER_TOKEN, formatUsd, type CostEstimate } from '../plan/estimate.js';
import { colours, colourWanted } from './colour.js';

export interface Reporter {
  emit(e: BuildEvent): void;
  close(): void;
}

export interface ReporterOptions {
  json: boolean;
  quiet: boolean;
  tty: boolean;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

export async function createReporter(o: ReporterOptions): Promise<Reporter> {
  if (o.json) return jsonReporter(o.out);
  if (o.tty && !o.quiet) {
    const { ttyReporter } = await import('./tty.js');
    return ttyReporter(o);
  }
  return plainReporter(o);
}

function jsonReporter(out: NodeJS.WritableStream): Reporter {
  // Lines are gathered and written once per turn of the event loop: ingesting a 1,000-page batch emits a
  // thousand events in one go, and a write(2) to a pipe each cost more than the rest of a result's work.
  // A line waits at most until the loop turns (or the process exits): never behind a wait for the network.
  let pending: string[] = [];
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    unflushed.delete(flush);
    if (pending.length === 0) return;
    const text = pending.join('');
    pending = [];
    out.write(text);
  };
  return {
    emit: (e) => {
      // Record events carry whole prompts: they are for tracers, not for the NDJSON stream.
      if (e.event === 'record') return;
      pending.push(`${JSON.stringify(e)}\n`);
      // Per-page events wait for the loop to turn; any other (a batch ended, a warning, the summary) goes
      // out at once, after the ones before it, so that what a reader waits for is never held back.
      if (!PER_PAGE.has(e.event)) flush();
      else if (!scheduled) {
        scheduled = true;
        unflushed.add(flush);
        setImmediate(flush);
      }
    },
    close: flush,
  };
}

/** Reporters holding lines not yet written: a process that exits before the loop turns writes them first. */
const unflushed = new Set<() => void>();
process.on('exit', () => {
  for (const flush of [...unflushed]) flush();
});

/** The events a build emits once per page, thousands at a time: written in groups by the NDJSON reporter. */
const PER_PAGE = new Set<BuildEvent['event']>(['built', 'restored', 'cutoff', 'stale']);

const time = () => new Date().toTimeString().slice(0, 8);

/** One human line per event (null: nothing to say). Shared by the plain and TTY reporters. */
export function describe(e: BuildEvent): { line: string; level: 'info' | 'warn' | 'detail' } | null {
  switch (e.event) {
    case 'start':
      return { line: `building ${e.selected} of ${e.targets} pages with the ${e.engine} engine`, level: 'detail' };
    case 'notice':
      return { line: e.message, level: 'info' };
    case 'warning':
      return { line: `warning: ${e.message}`, level: 'warn' };
    case 'plan': {
      const reasons = Object.entries(e.reasons).map(([k, v]) => `${k} ${v}`).join(', ');
      const states = Object.entries(e.counts).filter(([, v]) => v > 0).map(([k, v]) => `${v} ${k}`).join(', ');
      const line = `plan: ${states || 'nothing to do'}${reasons ? ` (stale: ${reasons})` : ''}; ${e.toRestore} to restore, ${e.toSend} to send`;
      const lines = [line, ...(e.estimate ? estimateLines(e.estimate) : []), ...(e.policies ? policyLines(e.policies) : [])];
      return { line: lines.join('\n'), level: 'info' };
    }
    case 'stale':
      return { line: `${e.state.padEnd(8)} ${e.key}${e.reasons.length ? `  [${e.reasons.map((r) => r.code).join(', ')}]` : ''}`, level: 'info' };
    case 'submitted':
    case 'idle':
      return null;
    case 'engine':
      return { line: e.message, level: 'detail' };
    case 'record':
      return null;
    case 'batch':
      // A state change is also an `engine` line (the engine's own log), so it is not said twice.
      if (e.phase === 'state') return null;
      return e.phase === 'created'
        ? { line: `batch ${e.name} created: ${e.records} pages`, level: 'detail' }
        : { line: `batch ${e.name} ${e.state}: ${e.succeeded} succeeded, ${e.failed} failed, ${e.tokensIn + e.tokensOut} tokens`, level: 'detail' };
    case 'upload':
      // The live panel counts uploads; a failed one also fails its pages, which are reported.
      return null;
    case 'watch':
      return { line: e.message, level: 'info' };
    case 'changed':
      // One per file (a copy of 200 scans is 200): for --json; the build that follows says what it did.
      return null;
    case 'stopped':
      return { line: `stopped: ${e.message}`, level: 'warn' };
    case 'built':
      return { line: `built    ${e.key} -> ${e.output}`, level: 'detail' };
    case 'restored':
      return { line: `restored ${e.key} -> ${e.output} (from the result store, no request)`, level: 'detail' };
    case 'recovered':
      return { line: `recorded ${e.key}: ${e.output} equals its stored result (an earlier run stopped before saving)`, level: 'detail' };
    case 'cutoff':
      return { line: `fresh    ${e.key} (its context did not change: no request)`, level: 'detail' };
    case 'failed':
      return { line: `${e.dead ? 'dead    ' : 'failed  '} ${e.key} (${e.class}, ${e.charged === false ? 'not charged' : `attempt ${e.attempt}`}): ${e.message}`, level: 'warn' };
    case 'blocked':
      return { line: `blocked  ${e.key}: waits for ${e.by ?? 'its predecessor'}${e.detail ? ` (${e.detail})` : ''}`, level: 'warn' };
    case 'missing-input':
      return { line: `missing  ${e.key}: ${e.detail ?? 'its image is missing or unreadable'}`, level: 'warn' };
    case 'summary':
      return { line: summaryLine(e), level: 'info' };
  }
}

export function summaryLine(s: Summary): string {
  if (s.dryRun) {
    return `dry run: ${s.fresh + s.edited}/${s.targets} up to date${s.edited ? ` (${s.edited} edited)` : ''}; nothing was sent or written`;
  }
  const parts = [`${s.built} built`, `${s.restored} restored`, `${s.cutoff} cutoff`, `${s.failed} failed`];
  if (s.dead) parts.push(`${s.dead} dead`);
  if (s.blocked) parts.push(`${s.blocked} blocked`);
  if (s.missingInput) parts.push(`${s.missingInput} missing input`);
  const done = `done: ${parts.join(', ')}; ${s.requests} requests, ${s.batches} batches, ${s.uploads} uploads; ${s.fresh + s.edited}/${s.targets} up to date${s.edited ? ` (${s.edited} edited)` : ''} in ${s.seconds} s`;
  const c = s.context;
  const context = c && c.drafts + c.speculated > 0
    ? `\ncontext: ${c.mode}; ${c.drafts} drafts${c.mode === 'speculative' ? `, ${c.speculated} sent early: ${c.hits} verified (no call), ${c.misses} sent again${c.hits + c.misses > 0 ? ` (hit rate ${Math.round((100 * c.hits) / (c.hits + c.misses))} %)` : ''}` : ''}`
    : '';
  const t = s.tail;
  const extra = t && t.interactive > 0 ? `, ${t.extraUsd === null ? 'extra cost unknown' : `+${formatUsd(t.extraUsd)} over batch prices`}` : '';
  const tail = t
    ? `\ndeadline ${t.deadline}: ${t.batch} pages by batch, ${t.interactive} interactively${extra} (batch turnaround ${minutes(t.turnaroundMs)}, ${turnaroundSource(t.turnaroundSamples)})`
    : '';
  // Nothing billed (the local engine, a no-op or restore-only build): no tokens line.
  if (s.costUsd === undefined || (s.tokensIn === 0 && s.tokensOut === 0)) return `${done}${context}${tail}`;
  // A line of its own, so that the first line keeps its shape for scripts that match it.
  const cost = s.costUsd === null ? 'cost unknown (no price for the model: add it to the ocrfile\'s prices)' : `cost ${formatUsd(s.costUsd)}`;
  return `${done}\ntokens: ${s.tokensIn.toLocaleString('en-US')} in, ${s.tokensOut.toLocaleString('en-US')} out; ${cost}${context}${tail}`;
}

/** The context policies table of a dry run: rounds, requests and cost of each (README "Context policies"). */
export function policyLines(p: PlanPolicies): string[] {
  const n = (x: number) => x.toLocaleString('en-US');
  const span = (r: [number, number], f: (x: number) => string) => (r[0] === r[1] ? f(r[0]) : `${f(r[0])} to ${f(r[1])}`);
  const turnaround = `batch turnaround ${minutes(p.turnaround.ms)} (${turnaroundSource(p.turnaround.samples)})`;
  const deadline = p.deadline ? `; tail: interactive calls for what batch rounds would finish after ${p.deadline}` : '';
  const lines = [`context policies (now ${p.mode}${p.mode === 'exact' ? '' : `, drafts ${p.draft}`}; a round is one ${turnaround}${deadline}):`];
  for (const r of p.rows) {
    const name = r.policy;
    const cost = r.costUsd ? `~${span(r.costUsd, formatUsd)}` : 'cost unknown';
    const interactive = r.interactive !== undefined ? `, ${n(r.interactive)} of them interactive` : '';
    lines.push(`  ${name.padEnd(12)} ${span(r.rounds, n)} rounds, ${span(r.requests, n)} requests${interactive}, ${cost}`);
  }
  return lines;
}

function turnaroundSource(samples: number): string {
  return samples > 0 ? `median of ${samples} batches` : samples < 0 ? 'context.turnaround' : 'assumed: no batch ended yet';
}

/** 42 min, 1.5 h, 20 s: a turnaround as a person reads it. */
function minutes(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 100) / 10} s`;
  if (ms < 2 * 3_600_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.round(ms / 360_000) / 10} h`;
}

/** The cost estimate as the lines printed under the plan line. */
export function estimateLines(e: CostEstimate): string[] {
  const n = (x: number) => x.toLocaleString('en-US');
  if (e.engine === 'local') return [`estimate: ${e.pages} page${e.pages === 1 ? '' : 's'} with the local engine: no tokens, $0`];
  const waiting = e.waiting > 0 ? ` (${e.waiting} waiting: they may need no call)` : '';
  const restored = e.restored > 0 ? `; ${e.restored} restored for free` : '';
  const prompt = e.promptSource === 'countTokens' ? `countTokens on ${e.promptSamples} prompts` : `${CHARS_PER_TOKEN} characters a token`;
  const out = e.outputSource === 'recorded' ? `mean of ${e.outputSamples} recorded pages` : 'default: no page recorded yet';
  const rule = e.imageRule;
  const image = !rule || rule.kind === 'tiles'
    ? `${TOKENS_PER_TILE} per 768 px tile, Gemini 2 rule`
    : `${n(rule.perImage)} per image at mediaResolution ${rule.setting ?? 'unset (high)'}, Gemini 3 rule`;
  const lines = [
    `estimate: ${e.pages} pages to send with ${e.engine} (${e.model ?? 'no model'})${waiting}${restored}`,
    `  input  ~${n(e.tokensIn)} tokens: ${n(e.imageTokens)} image (${image}), ${n(e.promptTokens)} prompt (${prompt})`,
    `  output ~${n(e.tokensOut)} tokens: ${n(e.outputPerPage)} a page, thinking included (${out})`,
  ];
  if (e.costUsd === null || !e.price) {
    lines.push(`  cost   unknown: no price for model ${e.model}; add it to the ocrfile's prices (USD per 1M tokens)`);
  } else {
    const p = e.price;
    const table = p.source === 'ocrfile' ? 'prices from the ocrfile' : `price table of ${p.asOf}${p.until ? `; this price until ${p.until}` : ''}`;
    const routed = p.model !== e.model ? `; requests for ${e.model} are answered and billed as ${p.model}` : '';
    lines.push(
      `  cost   ~${formatUsd(e.costUsd)} ±${Math.round(e.band * 100)} % (${formatUsd(e.lowUsd!)} to ${formatUsd(e.highUsd!)}) at ${p.tier} prices: ` +
        `$${p.input} in, $${p.output} out per 1M tokens (${table}${routed})`,
    );
  }
  return lines;
}

function plainReporter(o: ReporterOptions): Reporter {
  // Colour only when asked for (FORCE_COLOR) or on a terminal (status, adopt, --quiet): see colour.ts.
  const warn = colours(colourWanted(o.err as { isTTY?: boolean }));
  const out = colours(colourWanted(o.out as { isTTY?: boolean }));
  return {
    emit(e) {
      const d = describe(e);
      if (!d) return;
      if (d.level === 'warn') o.err.write(`${(e.event === 'failed' || e.event === 'missing-input' ? warn.red : warn.yellow)(d.line)}\n`);
      else if (e.event === 'summary') o.out.write(`${d.line.replace(/^done:/, (e.fresh + e.edited < e.targets ? out.red : out.green)('done:'))}\n`);
      else if (!o.quiet) o.out.write(`${out.dim(time())} ${d.line}\n`);
    },
    close: () => {},
  };
}
