// A test hook for the crash tests: `OCRMAKE_CRASH_AT=<point>:<n>` makes the process SIGKILL itself the n-th
// time it reaches <point> (1 when `:<n>` is left out). Points: `journal-append` (half a journal frame
// written), `fold` (the new snapshot exported, not yet in place), `fold-renamed` (the new snapshot in
// place, the old journal not yet reset). A kill from outside cannot be timed to land inside a
// millisecond-long write; this one is the same signal at the exact instant. Unset, it costs a comparison.
const spec = /^([a-z-]+)(?::(\d+))?$/.exec(process.env['OCRMAKE_CRASH_AT'] ?? '');
const armed = spec ? { point: spec[1]!, nth: Number(spec[2] ?? 1) } : null;
let seen = 0;

/** True when the process must die here (the caller may leave things half-done first, then call die). */
export function crashPoint(point: string): boolean {
  if (armed?.point !== point) return false;
  return ++seen === armed.nth;
}

crashPoint.die = (): never => {
  process.kill(process.pid, 'SIGKILL');
  // SIGKILL to oneself is delivered before kill() returns on Linux; elsewhere, wait for it.
  for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
};
