// The live view on a terminal (DESIGN §11): a panel at the bottom of the screen (pages bar with elapsed
// time, rate and ETA; a line per running batch with its state as the API reports it; uploads; the last few
// events), redrawn by cli-progress; warnings and failures printed above it, wrapped to the terminal's
// width; and, when the build ends, the panel cleared and a short summary left on screen.
//
// cli-progress draws one line per "bar"; each of ours is a row of the panel whose text comes from the
// panel model (panel.ts), so rows are added and removed as batches come and go.
import cliProgress from 'cli-progress';
import type { BuildEvent } from '../events.js';
import { colours, colourWanted, type Colours } from './colour.js';
import { fitSegments, wrap } from './fit.js';
import { Panel } from './panel.js';
import { describe, type Reporter, type ReporterOptions } from './reporter.js';

/** Redraws per second: elapsed times and ages move by the second, so a few frames are plenty. */
const FPS = 4;

export function ttyReporter(o: ReporterOptions): Reporter {
  const err = o.err as NodeJS.WriteStream;
  const c: Colours = colours(colourWanted(err));
  const width = () => Math.max(20, (err.columns || 80) - 1);
  const panel = new Panel();
  let bars: cliProgress.MultiBar | null = null;
  let rows: cliProgress.SingleBar[] = [];
  let text: string[] = [];

  const refresh = () => {
    text = panel.lines(Date.now(), width(), c);
  };
  /** One cli-progress bar per panel line; each draws its line of the latest frame. */
  const fitRows = () => {
    if (!bars) return;
    while (rows.length < text.length) {
      const i = rows.length;
      rows.push(bars.create(1, 0, {}, { format: () => text[i] ?? '' }));
    }
    while (rows.length > text.length) bars.remove(rows.pop()!);
  };
  const start = () => {
    if (bars) return;
    bars = new cliProgress.MultiBar({ stream: err, hideCursor: true, clearOnComplete: true, fps: FPS, linewrap: false, autopadding: false });
    // The text is recomputed just before every redraw (times move), with the rows already in place.
    bars.on('update-pre', refresh);
    process.once('exit', showCursor);
    refresh();
    fitRows();
  };
  const stop = () => {
    if (!bars) return;
    bars.stop();
    bars = null;
    rows = [];
    process.off('exit', showCursor);
  };
  // A second Ctrl-C exits at once: give the terminal its cursor back.
  const showCursor = () => err.write('\x1b[?25h');

  /** A line that stays: above the panel while it runs. Each physical line clears what the panel drew there. */
  const print = (line: string, paint: (s: string) => string = (s) => s) => {
    const lines = line.split('\n').flatMap((l) => wrap(l, width()).map(paint));
    if (bars) bars.log(lines.map((l) => `\r\x1b[2K${l}\n`).join(''));
    else err.write(lines.map((l) => `${l}\n`).join(''));
  };

  return {
    emit(e: BuildEvent) {
      panel.add(e, Date.now());
      switch (e.event) {
        case 'start':
        case 'notice':
        case 'warning':
        case 'stale':
        case 'stopped':
        case 'plan': {
          const d = describe(e);
          if (!d || d.level === 'detail') return;
          if (e.event === 'plan') {
            o.out.write(`${d.line}\n`);
            return;
          }
          print(d.line, d.level === 'warn' ? c.yellow : undefined);
          return;
        }
        case 'summary': {
          stop();
          o.out.write(`${panel.finalLines(width(), c).join('\n')}\n`);
          return;
        }
        default: {
          // Work has begun (or re-attached batches are back): the panel takes the bottom of the screen.
          start();
          const d = describe(e);
          if (d && d.level === 'warn') print(d.line, e.event === 'failed' ? c.red : c.yellow);
          refresh();
          fitRows();
        }
      }
    },
    close() {
      // Interrupted (no summary): leave the last frame, not a cleared screen.
      if (bars) {
        const last = panel.lines(Date.now(), width(), c);
        stop();
        err.write(`${last.join('\n')}\n${fitSegments([['stopped before the end of the build', c.yellow]], width())}\n`);
      }
    },
  };
}
