// The run report (DESIGN §11): a reporter that collects one build's events and, when its summary arrives,
// writes `.ocrcache/runs/<id>.json` and a Markdown summary of the same beside it, like the original
// pipeline's Prefect artifacts: counts, tokens and cost, one row per batch, the failures.
//
// Watch runs a build per change; each build cycle (start … summary) gets its own report. A cycle that
// never reaches its summary (Ctrl-C during a build) is written on close, marked interrupted.
//
// A report is a by-product: nothing here may make a build fail. Every failure to collect or write is
// caught and becomes one warning line.
import fs from 'node:fs';
import path from 'node:path';
import type { FailureClass } from '../cache/records.js';
import type { BatchReport, BuildEvent, Summary } from '../events.js';
import { writeFileAtomic } from '../util/fs.js';
import { todayUtc } from '../cost/models.js';
import { costOf, PRICES_AS_OF } from '../cost/pricing.js';
import type { Reporter } from './reporter.js';
import { renderRunMarkdown } from './run-markdown.js';

export const RUNS_DIR = path.join('.ocrcache', 'runs');
export const RUN_REPORT_VERSION = 1;
/** Failures kept in one report; the failure log (`ocrmake failures`) has them all. */
const MAX_FAILURES = 1000;

export interface RunBatch {
  name: string;
  displayName: string;
  /** succeeded, failed, cancelled, expired; `running` when the run ended before the batch did. */
  state: string;
  records: number;
  /** From the run's record events by their batch: exact even when the engine's own tally is not. */
  succeeded: number;
  failed: number;
  tokensIn: number;
  tokensOut: number;
  costUsd: number | null;
  createdAt: string;
  endedAt: string | null;
  seconds: number | null;
}

export interface RunFailure {
  key: string;
  class: FailureClass;
  message: string;
  code: string | null;
  attempt: number;
  dead: boolean;
  batch: string | null;
}

export interface RunReport {
  version: number;
  id: string;
  command: string;
  /** ok: every selected page fresh or edited; failed: some are not; stopped: the engine stopped the build; interrupted: no summary (Ctrl-C). */
  outcome: 'ok' | 'failed' | 'stopped' | 'interrupted';
  startedAt: string;
  finishedAt: string;
  seconds: number;
  engine: string | null;
  model: string | null;
  /** Replies by the model that answered them (modelVersion), when the API said; empty for the local engine. */
  answeredBy: Record<string, number>;
  pages: { total: number; selected: number; fresh: number; edited: number; waiting: number };
  counts: {
    built: number;
    restored: number;
    cutoff: number;
    /** Failed attempts in this run (a page that failed once and then succeeded counts once). */
    failed: number;
    dead: number;
    blocked: number;
    missingInput: number;
    requests: number;
    batches: number;
    uploads: number;
  };
  /** The plan at the start of the run: pages by state and stale reasons. */
  plan: { counts: Record<string, number>; reasons: Record<string, number>; toSend: number; toRestore: number; estimateUsd: number | null } | null;
  tokens: { in: number; out: number };
  /** USD at the engine's price for the model (batch: half price); null when the model's price is unknown. */
  costUsd: number | null;
  pricesAsOf: string;
  batches: RunBatch[];
  failures: RunFailure[];
  /** Failures beyond MAX_FAILURES, left out of `failures`. */
  failuresOmitted: number;
  blocked: Array<{ key: string; by: string | null; detail: string | null }>;
  missingInput: Array<{ key: string; detail: string | null }>;
  warnings: string[];
  stopped: string | null;
}

export interface RunReportOptions {
  root: string;
  command: string;
  /** Where the one-line warning goes when a report cannot be written. */
  err: NodeJS.WritableStream;
  /** Called with the files of each report written (tests, and commands that want to print the path). */
  onWritten?: (files: { json: string; markdown: string; id: string }) => void;
}

/** Collects one build cycle at a time. */
class Cycle {
  /** When the build started (its `start` event); a cycle cut short before it has no report. */
  startedAt = Date.now();
  start: Extract<BuildEvent, { event: 'start' }> | null = null;
  plan: RunReport['plan'] = null;
  model: string | null = null;
  readonly answeredBy: Record<string, number> = {};
  readonly batches = new Map<string, { report: BatchReport; ended: boolean }>();
  readonly byBatch = new Map<string, { succeeded: number; failed: number; tokensIn: number; tokensOut: number }>();
  /** The batch and error code of each page's latest answer (not the whole event: it carries the prompt). */
  readonly lastRecord = new Map<string, { batch: string | null; code: string | null }>();
  readonly failures: RunFailure[] = [];
  failuresOmitted = 0;
  readonly blocked: RunReport['blocked'] = [];
  readonly missingInput: RunReport['missingInput'] = [];
  readonly warnings: string[] = [];
  stopped: string | null = null;
  /** Tallies for a cycle without a summary. */
  readonly seen = { built: 0, restored: 0, cutoff: 0, failed: 0, tokensIn: 0, tokensOut: 0 };

  add(e: BuildEvent): void {
    switch (e.event) {
      case 'start':
        this.start = e;
        this.startedAt = Date.now();
        return;
      case 'plan':
        this.plan ??= { counts: { ...e.counts }, reasons: { ...e.reasons }, toSend: e.toSend, toRestore: e.toRestore, estimateUsd: e.estimate?.costUsd ?? null };
        return;
      case 'batch': {
        const { event: _, ...report } = e;
        const prev = this.batches.get(e.name);
        // Progress while it runs changes nothing here once the batch is known (its counts come from records).
        if (e.phase === 'state' && prev) return;
        // A re-attached batch has no `created` event in this run; its `ended` one carries its records.
        this.batches.set(e.name, { report: prev && e.phase === 'ended' ? { ...report, createdAt: prev.report.createdAt } : report, ended: e.phase === 'ended' });
        return;
      }
      case 'record': {
        this.model ??= e.model;
        if (e.modelVersion) this.answeredBy[e.modelVersion] = (this.answeredBy[e.modelVersion] ?? 0) + 1;
        this.lastRecord.set(e.key, { batch: e.batch, code: e.error?.code ?? null });
        this.seen.tokensIn += e.tokensIn;
        this.seen.tokensOut += e.tokensOut;
        if (e.batch) {
          const t = this.byBatch.get(e.batch) ?? { succeeded: 0, failed: 0, tokensIn: 0, tokensOut: 0 };
          if (e.ok) t.succeeded++;
          else t.failed++;
          t.tokensIn += e.tokensIn;
          t.tokensOut += e.tokensOut;
          this.byBatch.set(e.batch, t);
        }
        return;
      }
      case 'failed': {
        this.seen.failed++;
        if (this.failures.length >= MAX_FAILURES) {
          this.failuresOmitted++;
          return;
        }
        // The record event of this failure comes just before it (upload errors have none).
        const r = this.lastRecord.get(e.key);
        this.lastRecord.delete(e.key);
        this.failures.push({ key: e.key, class: e.class, message: e.message, code: r?.code ?? null, attempt: e.attempt, dead: e.dead, batch: r?.batch ?? null });
        return;
      }
      case 'built':
        this.seen.built++;
        return;
      case 'restored':
        this.seen.restored++;
        return;
      case 'cutoff':
        this.seen.cutoff++;
        return;
      case 'blocked':
        this.blocked.push({ key: e.key, by: e.by, detail: e.detail });
        return;
      case 'missing-input':
        this.missingInput.push({ key: e.key, detail: e.detail });
        return;
      case 'warning':
        this.warnings.push(e.message);
        return;
      case 'stopped':
        this.stopped = e.message;
        return;
      default:
        return;
    }
  }

  /**
   * When the run began: its `start` event. (Not now minus the summary's duration: a tracer may hold the
   * summary back until it has flushed, so it can arrive well after the build ended.)
   */
  began(s: Summary | null): Date {
    return this.start || !s ? new Date(this.startedAt) : new Date(Date.now() - s.seconds * 1000);
  }

  report(id: string, command: string, s: Summary | null, began: Date): RunReport {
    const engine = this.start?.engine ?? null;
    const model = engine === 'local' ? null : this.model;
    const finished = Date.now();
    const seconds = s ? s.seconds : Math.round((finished - began.getTime()) / 100) / 10;
    const tokens = s ? { in: s.tokensIn, out: s.tokensOut } : { in: this.seen.tokensIn, out: this.seen.tokensOut };
    // The build prices its tokens with the ocrfile's price overrides (summary.costUsd); the reporter sees
    // only the default table, so batches get their share of that total (see batchCosts).
    const atDefault = (tIn: number, tOut: number) => (engine === null || tIn + tOut === 0 ? 0 : costOf(engine, model, tIn, tOut, todayUtc()));
    const costUsd = s?.costUsd !== undefined ? s.costUsd : atDefault(tokens.in, tokens.out);
    const rows = [...this.batches.values()].map(({ report: b, ended }) => {
      const t = this.byBatch.get(b.name);
      return { b, ended, tIn: t?.tokensIn ?? b.tokensIn, tOut: t?.tokensOut ?? b.tokensOut, t };
    });
    const shares = batchCosts(costUsd, { tokens: tokens.in + tokens.out, atDefault: atDefault(tokens.in, tokens.out) }, rows.map((r) => ({ tokens: r.tIn + r.tOut, atDefault: atDefault(r.tIn, r.tOut) })));
    const batches = rows.map(({ b, ended, tIn, tOut, t }, i): RunBatch => {
      const endedAt = ended ? b.endedAt : null;
      return {
        name: b.name,
        displayName: b.displayName,
        state: ended ? b.state ?? 'ended' : 'running',
        records: b.records,
        succeeded: t?.succeeded ?? b.succeeded,
        failed: t?.failed ?? b.failed,
        tokensIn: tIn,
        tokensOut: tOut,
        costUsd: shares[i] ?? null,
        createdAt: b.createdAt,
        endedAt,
        seconds: endedAt ? Math.round((Date.parse(endedAt) - Date.parse(b.createdAt)) / 100) / 10 : null,
      };
    });
    const selected = s?.targets ?? this.start?.selected ?? 0;
    const outcome: RunReport['outcome'] = !s ? 'interrupted' : this.stopped ? 'stopped' : s.fresh + s.edited === s.targets ? 'ok' : 'failed';
    return {
      version: RUN_REPORT_VERSION,
      id,
      command,
      outcome,
      startedAt: began.toISOString(),
      finishedAt: new Date(finished).toISOString(),
      seconds,
      engine,
      model,
      answeredBy: { ...this.answeredBy },
      pages: { total: this.start?.targets ?? selected, selected, fresh: s?.fresh ?? 0, edited: s?.edited ?? 0, waiting: s?.waiting ?? 0 },
      counts: {
        built: s?.built ?? this.seen.built,
        restored: s?.restored ?? this.seen.restored,
        cutoff: s?.cutoff ?? this.seen.cutoff,
        failed: s?.failed ?? this.seen.failed,
        dead: s?.dead ?? this.failures.filter((f) => f.dead).length,
        blocked: s?.blocked ?? this.blocked.length,
        missingInput: s?.missingInput ?? this.missingInput.length,
        requests: s?.requests ?? batches.reduce((n, b) => n + b.records, 0),
        batches: s?.batches ?? batches.length,
        uploads: s?.uploads ?? 0,
      },
      plan: this.plan,
      tokens,
      costUsd,
      pricesAsOf: PRICES_AS_OF,
      batches,
      failures: this.failures,
      failuresOmitted: this.failuresOmitted,
      blocked: this.blocked,
      missingInput: this.missingInput,
      warnings: this.warnings,
      stopped: this.stopped,
    };
  }
}

/**
 * Each batch's share of the run's cost. Cost is linear in tokens, so with the default prices a batch's share
 * is exactly its own cost; with an ocrfile price override it is the run's (exact) total scaled by the
 * batch's default-priced part of it (or, for a model the default table does not know, its part of the tokens).
 */
export function batchCosts(
  total: number | null,
  run: { tokens: number; atDefault: number | null },
  batches: ReadonlyArray<{ tokens: number; atDefault: number | null }>,
): Array<number | null> {
  if (total === null) return batches.map(() => null);
  const byPrice = run.atDefault !== null && run.atDefault > 0 && batches.every((b) => b.atDefault !== null);
  return batches.map((b) => {
    if (byPrice) return (total * b.atDefault!) / run.atDefault!;
    return run.tokens === 0 ? 0 : (total * b.tokens) / run.tokens;
  });
}

/** A sortable, file-name-safe id for the cache's runs table: UTC time to the millisecond, then the pid (`20261124-160003-123-4242`). */
export function runId(at: Date, pid = process.pid): string {
  const iso = at.toISOString(); // 2026-11-24T16:00:03.123Z
  return `${iso.slice(0, 10).replace(/-/g, '')}-${iso.slice(11, 19).replace(/:/g, '')}-${iso.slice(20, 23)}-${pid}`;
}

/**
 * A run report's id: its UTC start to the second (`20261124-160003`), short enough to type, sortable, and
 * the same length for every run. Runs of one project do not overlap (the lock), so a second is unique but
 * for watch cycles that start within one second: those get `-2`, `-3`, … (see `createRunReporter`).
 */
export function reportId(at: Date): string {
  const iso = at.toISOString(); // 2026-11-24T16:00:03.123Z
  return `${iso.slice(0, 10).replace(/-/g, '')}-${iso.slice(11, 19).replace(/:/g, '')}`;
}

export function createRunReporter(o: RunReportOptions): Reporter {
  let cycle: Cycle | null = null;
  const warn = (what: string, err: unknown) => {
    try {
      o.err.write(`warning: ${what}: ${(err as Error)?.message ?? String(err)} (the build itself is not affected)\n`);
    } catch {
      // Nowhere left to say it.
    }
  };
  const write = (c: Cycle, s: Summary | null) => {
    try {
      const began = c.began(s);
      const dir = path.join(o.root, RUNS_DIR);
      // Two cycles in one second (watch), or a report already there (a clock set back): the next free suffix.
      const base = reportId(began);
      let id = base;
      for (let n = 2; fs.existsSync(path.join(dir, `${id}.json`)); n++) id = `${base}-${n}`;
      const report = c.report(id, o.command, s, began);
      const tmp = path.join(o.root, '.ocrcache', 'tmp');
      const markdown = path.join(dir, `${id}.md`);
      const json = path.join(dir, `${id}.json`);
      // The Markdown first: a listed report (its JSON) always has its summary beside it.
      writeFileAtomic(markdown, renderRunMarkdown(report), tmp);
      writeFileAtomic(json, `${JSON.stringify(report, null, 2)}\n`, tmp);
      o.onWritten?.({ json, markdown, id });
    } catch (err) {
      warn('could not write the run report', err);
    }
  };
  return {
    emit(e) {
      try {
        if (e.event === 'summary') {
          const c = cycle;
          cycle = null;
          if (c && !e.dryRun) {
            const { event: _, ...summary } = e;
            write(c, summary);
          }
          return;
        }
        // Watch's own lines and the file changes it saw belong to no build.
        if (e.event === 'watch' || e.event === 'changed') return;
        cycle ??= new Cycle();
        cycle.add(e);
      } catch (err) {
        warn('the run report missed an event', err);
      }
    },
    close() {
      const c = cycle;
      cycle = null;
      // Only a cycle that got as far as starting a build is worth a report.
      if (c?.start) write(c, null);
    },
  };
}

/** Every run report in `<root>/.ocrcache/runs`, newest first (by start, then id). Unreadable files are skipped. */
export function listRunReports(root: string): RunReport[] {
  const dir = path.join(root, RUNS_DIR);
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  const out: RunReport[] = [];
  for (const name of names.sort().reverse()) {
    try {
      out.push(JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')) as RunReport);
    } catch {
      // A report is a by-product; a damaged one is left out of the list.
    }
  }
  // Ids of older versions (…-123-4242) sort apart from today's; the start time orders them all.
  return out.sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}
