// Lines that fit a terminal: cut at a word boundary with an ellipsis, or wrapped at word boundaries, never
// cut mid-word (a key like `Hampden-Sydney College:1851:4` or a message like "expected array" must not turn
// into "expected arrad" garbage at the edge). Widths count code points; every character of ocrmake's own
// text is one column wide.
import { unpaint, type Paint } from './colour.js';

const ELLIPSIS = '…';
/** A break may come after a space, or after one of these (paths, keys, lists). */
const BREAK_AFTER = new Set([' ', '/', ':', ',', ';', '=']);

/** `text` if it fits `width` columns, else its longest word-bounded head that does, plus an ellipsis. */
export function truncate(text: string, width: number): string {
  const chars = [...text];
  if (chars.length <= width) return text;
  if (width <= 1) return width === 1 ? ELLIPSIS : '';
  const room = width - 1;
  let cut = room;
  // A boundary at or before the cut that keeps at least half the room; else a hard cut (one long word).
  if (chars[room] !== ' ') {
    let at = -1;
    for (let i = room - 1; i >= Math.floor(room / 2); i--) {
      if (BREAK_AFTER.has(chars[i]!)) {
        at = i + 1;
        break;
      }
    }
    if (at > 0) cut = at;
  }
  return `${chars.slice(0, cut).join('').trimEnd()}${ELLIPSIS}`;
}

/** Columns a (possibly painted) string takes. */
const columns = (s: string): number => [...unpaint(s)].length;

/**
 * Greedy word wrap to `width` columns; continuation lines start with `indent`. Existing line breaks are
 * kept; paint does not count; a word longer than a whole line is split where it must be.
 */
export function wrap(text: string, width: number, indent = '  '): string[] {
  const out: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    let first = true;
    const room = () => (first ? width : width - indent.length);
    const push = () => {
      out.push(first ? line : `${indent}${line}`);
      first = false;
      line = '';
    };
    for (const word of paragraph.split(/(?<= )/)) {
      let w = word;
      while (columns(line) + columns(w.trimEnd()) > room() && line.length > 0) {
        line = line.trimEnd();
        push();
      }
      // A word longer than a line: hard-split it.
      while (columns(w.trimEnd()) > room()) {
        const chars = [...w];
        line = chars.slice(0, room()).join('');
        w = chars.slice(room()).join('');
        push();
      }
      line += w;
    }
    out.push(first ? line.trimEnd() : `${indent}${line.trimEnd()}`);
  }
  return out;
}

/** A line made of painted parts. */
export type Segments = ReadonlyArray<readonly [text: string, paint?: Paint]>;

/** Paints a line of parts, fitted to `width` as `truncate` fits plain text (the ellipsis is unpainted). */
export function fitSegments(parts: Segments, width: number): string {
  const text = parts.map(([t]) => t).join('');
  const fitted = truncate(text, width);
  const cut = fitted === text ? Infinity : [...fitted].length - 1;
  let used = 0;
  let out = '';
  for (const [t, paint] of parts) {
    if (used >= cut) break;
    const chars = [...t];
    const take = Math.min(chars.length, cut - used);
    const piece = take === chars.length ? t : chars.slice(0, take).join('').trimEnd();
    out += paint ? paint(piece) : piece;
    used += take;
  }
  return cut === Infinity ? out : `${out}${ELLIPSIS}`;
}
