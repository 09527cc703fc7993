// The fake's logical clock. Nothing in the fake reads wall time: timestamps, file expiry and time-based
// batch transitions all follow this clock, which moves only when a test calls advance() or set().

export const DEFAULT_START = Date.parse('2026-11-20T10:00:00.000Z');

export class LogicalClock {
  #now: number;
  readonly #listeners: Array<(now: number) => void> = [];

  constructor(start: number = DEFAULT_START) {
    this.#now = start;
  }

  /** Milliseconds since the Unix epoch, on the logical time line. */
  now(): number {
    return this.#now;
  }

  /** Moves time forward and lets time-based batch transitions (and expiry) happen. */
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`clock.advance needs a finite ms >= 0, got ${ms}`);
    this.#now += ms;
    for (const listener of this.#listeners) listener(this.#now);
  }

  /** Jumps to an absolute time; it never runs backwards. */
  set(ms: number): void {
    this.advance(Math.max(0, ms - this.#now));
  }

  onAdvance(listener: (now: number) => void): void {
    this.#listeners.push(listener);
  }
}
