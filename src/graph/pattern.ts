// Path patterns with `{name}` wildcards and `{a,b}` alternation, e.g.
// `dataset/raw_image_dataset/{state}/{school}/{year}/{page}.{jpg,png}`.
// One parse gives the three things the rest of the pipeline needs: a fast-glob pattern to list candidate
// files, a regex to read wildcard values back out of a path, and a formatter for target paths.

export interface Pattern {
  readonly source: string;
  /** Wildcard names in the order they appear. */
  readonly wildcards: readonly string[];
  /** fast-glob pattern (wildcards become `*`, alternations stay braces). */
  readonly glob: string;
  readonly hasAlternation: boolean;
  match(path: string): Record<string, string> | null;
  format(values: Readonly<Record<string, string>>): string;
  /** Like format, but alternatives stay as written (`12.{png,jpg}`): for messages naming every accepted path. */
  display(values: Readonly<Record<string, string>>): string;
  /** Whether some path matches both this pattern and `other` (any wildcard values, any alternative). */
  overlaps(other: Pattern): boolean;
  /** @internal The parsed parts. */
  readonly parts: readonly Part[];
}

export type Part =
  | { kind: 'literal'; text: string }
  | { kind: 'wildcard'; name: string }
  | { kind: 'alternation'; options: string[] };

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export type PatternResult = { ok: true; pattern: Pattern } | { ok: false; message: string };

export function parsePattern(source: string): PatternResult {
  if (source.startsWith('/') || /^[A-Za-z]:[\\/]/.test(source)) {
    return { ok: false, message: `pattern "${source}" must be relative to the project root` };
  }
  if (source.split('/').includes('..')) return { ok: false, message: `pattern "${source}" must not contain ".."` };
  const parts: Part[] = [];
  let i = 0;
  let literal = '';
  while (i < source.length) {
    const ch = source[i]!;
    if (ch === '}') return { ok: false, message: `pattern "${source}" has an unmatched "}" at character ${i + 1}` };
    if (ch !== '{') {
      if ('*?[]'.includes(ch)) return { ok: false, message: `pattern "${source}" may not contain "${ch}"; use {name} wildcards` };
      literal += ch;
      i++;
      continue;
    }
    const end = source.indexOf('}', i);
    if (end < 0) return { ok: false, message: `pattern "${source}" has an unclosed "{" at character ${i + 1}` };
    const body = source.slice(i + 1, end);
    if (literal) parts.push({ kind: 'literal', text: literal });
    literal = '';
    if (body.includes(',')) {
      const options = body.split(',');
      if (options.some((o) => o === '' || /[{}/]/.test(o))) return { ok: false, message: `pattern "${source}" has an empty or invalid alternative in {${body}}` };
      parts.push({ kind: 'alternation', options });
    } else {
      if (!NAME.test(body)) return { ok: false, message: `pattern "${source}": "{${body}}" is not a wildcard name (letters, digits, _)` };
      if (parts.some((p) => p.kind === 'wildcard' && p.name === body)) return { ok: false, message: `pattern "${source}" uses {${body}} twice` };
      const prev = parts.at(-1);
      if (prev && prev.kind !== 'literal') return { ok: false, message: `pattern "${source}": {${body}} directly follows another brace group, so values cannot be told apart` };
      parts.push({ kind: 'wildcard', name: body });
    }
    i = end + 1;
  }
  if (literal) parts.push({ kind: 'literal', text: literal });
  return { ok: true, pattern: build(source, parts) };
}

function build(source: string, parts: Part[]): Pattern {
  const wildcards = parts.flatMap((p) => (p.kind === 'wildcard' ? [p.name] : []));
  const glob = parts
    .map((p) => (p.kind === 'literal' ? escapeGlob(p.text) : p.kind === 'wildcard' ? '*' : `{${p.options.map(escapeGlob).join(',')}}`))
    .join('');
  const regex = new RegExp(
    '^' +
      parts
        .map((p) => (p.kind === 'literal' ? escapeRegex(p.text) : p.kind === 'wildcard' ? '([^/]+?)' : `(?:${p.options.map(escapeRegex).join('|')})`))
        .join('') +
      '$',
  );
  return {
    source,
    wildcards,
    glob,
    hasAlternation: parts.some((p) => p.kind === 'alternation'),
    match(path) {
      const m = regex.exec(path);
      if (!m) return null;
      const values: Record<string, string> = {};
      for (let idx = 0; idx < wildcards.length; idx++) values[wildcards[idx]!] = m[idx + 1]!;
      return values;
    },
    format(values) {
      // A loop, not fill(): every page's output path is formatted, a million at a time. Joined, not
      // concatenated: `+=` leaves a chain of eight string pieces per path, kept until the path is used.
      const out = new Array<string>(parts.length);
      for (let i = 0; i < parts.length; i++) {
        const p = parts[i]!;
        if (p.kind === 'literal') out[i] = p.text;
        else if (p.kind === 'alternation') out[i] = p.options[0]!;
        else {
          const v = values[p.name];
          if (v === undefined) throw new Error(`no value for {${p.name}} in ${source}`);
          out[i] = v;
        }
      }
      return out.join('');
    },
    display: (values) => fill(values, (options) => `{${options.join(',')}}`),
    overlaps: (other) => overlaps(parts, other.parts),
    parts,
  };

  function fill(values: Readonly<Record<string, string>>, alternation: (options: string[]) => string): string {
    return parts
      .map((p) => {
        if (p.kind === 'literal') return p.text;
        if (p.kind === 'wildcard') {
          const v = values[p.name];
          if (v === undefined) throw new Error(`no value for {${p.name}} in ${source}`);
          return v;
        }
        return alternation(p.options);
      })
      .join('');
  }
}

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
// fast-glob treats ()[]{}!*?@+ as syntax; user folder names like "St. Mary's (Boston)" must stay literal.
const escapeGlob = (s: string): string => s.replace(/[()[\]{}!*?@+]/g, '\\$&');

/**
 * Whether two patterns can match one path. Alternations are expanded (they are short: extensions); each
 * expansion is a string of characters and wildcards (one or more characters other than `/`), and two such
 * strings intersect when a walk over both can reach their ends together (a wildcard eats characters of the
 * other side, or ends).
 */
function overlaps(a: readonly Part[], b: readonly Part[]): boolean {
  for (const x of expand(a)) for (const y of expand(b)) if (intersect(x, y)) return true;
  return false;
}

const STAR = -1;

/** Every alternative of a pattern as a list of char codes, with STAR for a wildcard (at most 64 variants). */
function expand(parts: readonly Part[]): number[][] {
  let out: number[][] = [[]];
  for (const p of parts) {
    if (p.kind === 'literal') out = out.map((s) => [...s, ...[...p.text].map((c) => c.codePointAt(0)!)]);
    else if (p.kind === 'wildcard') out = out.map((s) => [...s, STAR]);
    else out = out.flatMap((s) => p.options.map((o) => [...s, ...[...o].map((c) => c.codePointAt(0)!)])).slice(0, 64);
  }
  return out;
}

function intersect(a: number[], b: number[]): boolean {
  const SLASH = 0x2f;
  const memo = new Map<number, boolean>();
  const go = (i: number, j: number): boolean => {
    const id = i * (b.length + 1) + j;
    const known = memo.get(id);
    if (known !== undefined) return known;
    memo.set(id, false);
    let r: boolean;
    if (i === a.length && j === b.length) r = true;
    else if (a[i] === STAR && b[j] === STAR) r = go(i + 1, j + 1) || go(i, j + 1) || go(i + 1, j);
    // A wildcard eats one character (not `/`) of the other side, then may stop or go on.
    else if (a[i] === STAR) r = j < b.length && b[j] !== SLASH && (go(i + 1, j + 1) || go(i, j + 1));
    else if (b[j] === STAR) r = i < a.length && a[i] !== SLASH && (go(i + 1, j + 1) || go(i + 1, j));
    else r = i < a.length && j < b.length && a[i] === b[j] && go(i + 1, j + 1);
    memo.set(id, r);
    return r;
  };
  return go(0, 0);
}
