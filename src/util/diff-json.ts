// The differences between two JSON values, as one line per changed leaf: `path: before → after`.

const MAX_LINES = 20;
const MAX_VALUE = 80;

export function diffJson(before: unknown, after: unknown): string[] {
  const out: string[] = [];
  walk(before, after, '', out);
  return out.length > MAX_LINES ? [...out.slice(0, MAX_LINES), `… and ${out.length - MAX_LINES} more`] : out;
}

function walk(a: unknown, b: unknown, at: string, out: string[]): void {
  if (isObject(a) && isObject(b)) {
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) walk(a[k], b[k], at ? `${at}.${k}` : k, out);
    return;
  }
  if (JSON.stringify(a) === JSON.stringify(b)) return;
  out.push(`${at || '(value)'}: ${show(a)} → ${show(b)}`);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function show(v: unknown): string {
  if (v === undefined) return '(unset)';
  const s = JSON.stringify(v);
  return s.length > MAX_VALUE ? `${s.slice(0, MAX_VALUE - 1)}…` : s;
}
