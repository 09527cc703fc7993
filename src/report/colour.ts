// Colour for people, never for machines, decided the way most command-line tools decide it:
//   FORCE_COLOR set to anything but '0' or 'false' forces colour on, even into a pipe (as Node's own rule,
//     it takes precedence over NO_COLOR: a user who sets both asked for colour on purpose);
//   NO_COLOR set to a non-empty value turns it off (no-color.org);
//   otherwise colour only on a terminal, and not on TERM=dumb.
// JSON output is never coloured.

export type Paint = (text: string) => string;

export interface Colours {
  readonly enabled: boolean;
  readonly red: Paint;
  readonly green: Paint;
  readonly yellow: Paint;
  readonly blue: Paint;
  readonly cyan: Paint;
  readonly magenta: Paint;
  readonly dim: Paint;
  readonly bold: Paint;
}

export function colourWanted(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  const force = env['FORCE_COLOR'];
  if (force !== undefined) return force !== '0' && force.toLowerCase() !== 'false';
  if (env['NO_COLOR']) return false;
  if (!stream.isTTY) return false;
  return env['TERM'] !== 'dumb';
}

// SGR codes with their own closers, so that a painted part inside a painted line ends cleanly.
const sgr = (open: number, close: number): Paint => (text) => (text ? `\x1b[${open}m${text}\x1b[${close}m` : text);
const plain: Paint = (text) => text;

export function colours(enabled: boolean): Colours {
  if (!enabled) return { enabled, red: plain, green: plain, yellow: plain, blue: plain, cyan: plain, magenta: plain, dim: plain, bold: plain };
  return {
    enabled,
    red: sgr(31, 39),
    green: sgr(32, 39),
    yellow: sgr(33, 39),
    blue: sgr(34, 39),
    cyan: sgr(36, 39),
    magenta: sgr(35, 39),
    dim: sgr(2, 22),
    bold: sgr(1, 22),
  };
}

/** Removes SGR and other CSI sequences: what a person sees of a painted string. */
export const unpaint = (text: string): string => text.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, '');
