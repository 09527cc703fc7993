// The interactive tail (README "Context policies"): with a deadline, a Batch build sends a page through
// interactive calls instead when the rounds its chain still needs, at the batch turnaround this project has
// seen, would end after the deadline. Batch keeps the breadth (every chain that can make the deadline by
// batch goes at half price); interactive calls take the pages that cannot. The decision is made again for
// every page as it becomes sendable, with the turnaround measured so far: a slow round moves more pages to
// the tail, a fast one fewer.
//
// Turnaround: the median, over the last TURNAROUND_SAMPLES batches of this project that succeeded, of the
// time from create to the poll that saw the end (what a chain really waits per round). Before any batch has
// ended, ASSUMED_TURNAROUND_MS: Google targets 24 h and most batches end far sooner; an hour is what our
// runs saw for batches of 100 pages (README), and the first ended batch replaces it.
import type { StateStore } from '../cache/state.js';

export const ASSUMED_TURNAROUND_MS = 3_600_000;
export const TURNAROUND_SAMPLES = 20;

export interface Turnaround {
  ms: number;
  /** Batches measured (0: ASSUMED_TURNAROUND_MS; -1: the ocrfile's context.turnaround). */
  samples: number;
}

/**
 * The batch turnaround to plan with: the ocrfile's context.turnaround when set (samples -1), else the one
 * this project has seen (median of its last succeeded batches), else the assumption (samples 0).
 */
export function observedTurnaround(store: StateStore, configured: number | null = null): Turnaround {
  if (configured !== null) return { ms: configured, samples: -1 };
  const rows = store.query(
    "SELECT created_at, updated_at FROM batches WHERE state = 'done:succeeded' ORDER BY updated_at DESC LIMIT ?",
    [TURNAROUND_SAMPLES],
  );
  const ms = rows
    .map((r) => Date.parse(String(r['updated_at'])) - Date.parse(String(r['created_at'])))
    .filter((x) => Number.isFinite(x) && x >= 0)
    .sort((a, b) => a - b);
  if (ms.length === 0) return { ms: ASSUMED_TURNAROUND_MS, samples: 0 };
  const mid = ms.length >> 1;
  return { ms: ms.length % 2 ? ms[mid]! : (ms[mid - 1]! + ms[mid]!) / 2, samples: ms.length };
}

export interface TailStats {
  /** The deadline (ISO) and the turnaround the decisions used last. */
  deadline: string;
  turnaroundMs: number;
  turnaroundSamples: number;
  /** Pages sent through interactive calls, and through the Batch API, by this build. */
  interactive: number;
  batch: number;
  /** What the interactive pages cost above the batch price of the same tokens (USD; null: no known price). */
  extraUsd: number | null;
}

export class Tail {
  readonly deadlineAt: number;
  #turnaround: Turnaround;
  readonly stats: TailStats;

  constructor(deadlineAt: number, turnaround: Turnaround) {
    this.deadlineAt = deadlineAt;
    this.#turnaround = turnaround;
    this.stats = { deadline: new Date(deadlineAt).toISOString(), turnaroundMs: turnaround.ms, turnaroundSamples: turnaround.samples, interactive: 0, batch: 0, extraUsd: 0 };
  }

  /** A batch ended: the turnaround is measured again. */
  update(turnaround: Turnaround): void {
    this.#turnaround = turnaround;
    this.stats.turnaroundMs = turnaround.ms;
    this.stats.turnaroundSamples = turnaround.samples;
  }

  /** Whether a page whose chain needs `rounds` more batch rounds (itself included) goes interactive now. */
  wants(rounds: number, now: number): boolean {
    return now + rounds * this.#turnaround.ms > this.deadlineAt;
  }
}
