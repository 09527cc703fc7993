// The live panel's model: what a build is doing, from its events, as lines that fit the terminal. Pure
// (the time and the width are arguments), so the TTY reporter only draws what this returns.
//
//   ██████████░░░░░░░░░░░░░░  48/120 pages 40%  elapsed 1m12s  0.7 pages/s  ETA 1m43s
//   batch 3f9kq0x2lm  RUNNING     2m03s  100 pages  50 ok  2 failed
//   batch 8h2vx7c1qa  PENDING        9s   20 pages
//   uploads 34/60 images
//   · built Alabama:Howard College:1849:3
//   · failed Virginia:Hampden-Sydney College:1851:4 (json-error, attempt 1): the reply is not JSON…
import type { BuildEvent, Summary } from '../events.js';
import type { Colours, Paint } from './colour.js';
import { fitSegments, wrap, type Segments } from './fit.js';
import { summaryLine } from './reporter.js';

const BAR_WIDTH = 24;
/** Batch lines shown at most; more active batches are counted on one line. */
const MAX_BATCH_LINES = 8;
const RECENT_EVENTS = 4;

interface ActiveBatch {
  name: string;
  state: string;
  records: number;
  succeeded: number;
  failed: number;
  createdAt: number;
}

export class Panel {
  #startedAt: number | null = null;
  #firstSentAt: number | null = null;
  #total = 0;
  /** Pages finished for good in this run: built, restored, cutoff, dead. */
  #done = 0;
  /** Pages answered by the engine (built or dead): the rate counts only these, not instant restores. */
  #answered = 0;
  readonly #batches = new Map<string, ActiveBatch>();
  #slowest: { name: string; records: number; seconds: number; state: string } | null = null;
  readonly #uploads = { queued: 0, done: 0, failed: 0 };
  readonly #recent: Array<{ text: string; bad: boolean }> = [];
  readonly #failures = new Map<string, number>();
  readonly #built: string[] = [];
  #summary: Summary | null = null;

  add(e: BuildEvent, now: number): void {
    switch (e.event) {
      case 'start':
        this.#startedAt = now;
        return;
      case 'plan':
        // Waiting pages are built too (their predecessor first), so they count towards the total.
        this.#total = e.counts.stale + e.counts.failed + e.counts.waiting + e.counts.inflight;
        return;
      case 'submitted':
        this.#firstSentAt ??= now;
        return;
      case 'batch':
        this.#firstSentAt ??= now;
        if (e.phase === 'ended') {
          this.#batches.delete(e.name);
          const seconds = e.endedAt ? (Date.parse(e.endedAt) - Date.parse(e.createdAt)) / 1000 : 0;
          if (!this.#slowest || seconds > this.#slowest.seconds) this.#slowest = { name: e.name, records: e.records, seconds, state: e.state ?? 'ended' };
          this.#note(`batch ${shortBatch(e.name)} ${e.state}: ${e.succeeded} ok, ${e.failed} failed`, e.state !== 'succeeded');
          return;
        }
        this.#batches.set(e.name, {
          name: e.name,
          state: e.phase === 'created' ? 'SUBMITTED' : e.state ?? '?',
          records: e.records,
          succeeded: e.succeeded,
          failed: e.failed,
          createdAt: Date.parse(e.createdAt) || now,
        });
        return;
      case 'upload':
        if (e.phase === 'queued') this.#uploads.queued += e.files;
        else if (e.phase === 'done') this.#uploads.done++;
        else {
          this.#uploads.failed++;
          this.#note(`upload of ${e.image} failed: ${e.message}`, true);
        }
        return;
      case 'built':
        this.#done++;
        this.#answered++;
        if (this.#built.length < 3) this.#built.push(e.key);
        this.#note(`built ${e.key}`, false);
        return;
      case 'restored':
        this.#done++;
        this.#note(`restored ${e.key}`, false);
        return;
      case 'cutoff':
        this.#done++;
        this.#note(`fresh ${e.key} (same context: no request)`, false);
        return;
      case 'failed':
        this.#failures.set(e.class, (this.#failures.get(e.class) ?? 0) + 1);
        if (e.dead) {
          this.#done++;
          this.#answered++;
        }
        this.#note(`${e.dead ? 'dead' : 'failed'} ${e.key} (${e.class}, attempt ${e.attempt}): ${e.message}`, true);
        return;
      case 'engine':
        if (e.message.startsWith('re-attached')) this.#note(e.message, false);
        return;
      case 'summary': {
        const { event: _, ...summary } = e;
        this.#summary = summary;
        return;
      }
      default:
        return;
    }
  }

  #note(text: string, bad: boolean): void {
    this.#recent.push({ text, bad });
    if (this.#recent.length > RECENT_EVENTS) this.#recent.shift();
  }

  /** The panel as it should look at `now`, every line fitted to `width`. */
  lines(now: number, width: number, c: Colours): string[] {
    const out = [this.#progressLine(now, width, c)];
    const active = [...this.#batches.values()].sort((a, b) => a.createdAt - b.createdAt);
    const shown = active.length > MAX_BATCH_LINES ? active.slice(0, MAX_BATCH_LINES - 1) : active;
    for (const b of shown) out.push(fitSegments(batchLine(b, now, c), width));
    if (shown.length < active.length) out.push(fitSegments([[`  … and ${active.length - shown.length} more batches running`, c.dim]], width));
    const u = this.#uploads;
    if (u.queued > 0) {
      out.push(fitSegments([['  uploads ', c.dim], [`${u.done}/${u.queued} images`], ...(u.failed ? ([[`, ${u.failed} failed`, c.red]] as const) : [])], width));
    }
    for (const r of this.#recent) out.push(fitSegments([['  · ', c.dim], [r.text, r.bad ? c.red : c.dim]], width));
    return out;
  }

  #progressLine(now: number, width: number, c: Colours): string {
    const total = Math.max(this.#total, this.#done);
    const ratio = total === 0 ? 1 : this.#done / total;
    const filled = Math.round(ratio * BAR_WIDTH);
    const elapsed = this.#startedAt === null ? 0 : (now - this.#startedAt) / 1000;
    const parts: Array<readonly [string, Paint?]> = [
      ['█'.repeat(filled), c.green],
      ['░'.repeat(BAR_WIDTH - filled), c.dim],
      [`  ${this.#done}/${total} pages ${Math.floor(ratio * 100)}%`, c.bold],
      [`  elapsed ${clock(elapsed)}`],
    ];
    const since = this.#firstSentAt === null ? 0 : (now - this.#firstSentAt) / 1000;
    if (this.#answered > 0 && since > 0) {
      const rate = this.#answered / since;
      parts.push([`  ${rate >= 1 ? rate.toFixed(1) : rate.toPrecision(2)} pages/s`]);
      const left = total - this.#done;
      parts.push([`  ETA ${left <= 0 ? '0s' : clock(left / rate)}`, c.cyan]);
    } else {
      parts.push(['  ETA –', c.dim]);
    }
    return fitSegments(parts, width);
  }

  /**
   * What stays on screen after the run: the summary line, then the slowest batch, failures by class with the
   * command that shows them, and where the run report is. Wrapped (not cut) to `width`.
   */
  finalLines(width: number, c: Colours): string[] {
    const s = this.#summary;
    if (!s) return [];
    const ok = s.dead + s.blocked + s.missingInput === 0 && s.fresh + s.edited === s.targets;
    // A number and its unit stay on one line ("22.4 s", "3 batches").
    const keep = (l: string) => wrap(l.replace(/(\d) (?=\S)/g, '$1\u00a0'), width).map((w) => w.replace(/\u00a0/g, ' '));
    const [first, ...rest] = summaryLine(s).split('\n');
    const lines = [...keep(first!).map((l, i) => (i === 0 ? l.replace(/^done:/, (ok ? c.green : c.red)('done:')) : l)), ...rest.flatMap(keep)];
    if (s.dryRun) return lines;
    if (s.built > 0) {
      const more = s.built - this.#built.length;
      lines.push(...wrap(`  built ${this.#built.join(', ')}${more > 0 ? ` and ${more} more` : ''}`, width, '    '));
    }
    if (this.#slowest) {
      const b = this.#slowest;
      lines.push(...wrap(`  slowest batch: ${b.name} (${b.records} pages, ${b.state}) took ${clock(b.seconds)}`, width, '    '));
    }
    if (this.#failures.size > 0) {
      const byClass = [...this.#failures].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([k, n]) => `${k} ${n}`).join(', ');
      lines.push(...wrap(`  failed attempts by class: ${c.red(byClass)}; ocrmake failures shows them`, width, '    '));
    }
    lines.push(...wrap(`  ${c.dim('ocrmake runs latest shows this run\'s report')}`, width, '    '));
    return lines;
  }
}

function batchLine(b: ActiveBatch, now: number, c: Colours): Segments {
  const paint = STATE_PAINT[b.state]?.(c) ?? c.yellow;
  const parts: Array<readonly [string, Paint?]> = [
    ['  batch ', c.dim],
    [`${shortBatch(b.name)}  `],
    [b.state.padEnd(10), paint],
    [clock((now - b.createdAt) / 1000).padStart(7)],
    [`  ${plural(b.records, 'page')}`],
  ];
  if (b.succeeded > 0) parts.push([`  ${b.succeeded} ok`, c.green]);
  if (b.failed > 0) parts.push([`  ${b.failed} failed`, c.red]);
  return parts;
}

const STATE_PAINT: Record<string, (c: Colours) => Paint> = {
  SUBMITTED: (c) => c.dim,
  PENDING: (c) => c.yellow,
  RUNNING: (c) => c.cyan,
  SUCCEEDED: (c) => c.green,
  FAILED: (c) => c.red,
  CANCELLED: (c) => c.red,
  EXPIRED: (c) => c.red,
};

/** `batches/3f9kq0x2lm…` → `3f9kq0x2lm`: enough to tell a run's batches apart (the run report has full names). */
export const shortBatch = (name: string): string => name.replace(/^batches\//, '').slice(0, 10);

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** 9s, 2m03s, 1h05m. */
export function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
