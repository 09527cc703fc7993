// Secrets never leave the process: every value registered here (API keys, as they are read) is replaced
// by `[redacted]` in what ocrmake prints or stores, even when a server echoes it back in an error body.
// The key is also looked for base64- and URL-encoded, as it might be quoted in a reply.

const secrets = new Set<string>();
let forms: string[] = [];

export function registerSecret(value: string): void {
  if (value.length < 8 || secrets.has(value)) return;
  secrets.add(value);
  forms = [...secrets].flatMap((s) => [s, Buffer.from(s).toString('base64'), encodeURIComponent(s)]).filter((f, i, all) => all.indexOf(f) === i).sort((a, b) => b.length - a.length);
}

export const REDACTED = '[redacted]';

export function redact(text: string): string {
  if (forms.length === 0) return text;
  let out = text;
  for (const f of forms) if (out.includes(f)) out = out.split(f).join(REDACTED);
  return out;
}

/** A copy of `value` with every string redacted (the value itself when nothing needed it). */
export function redactDeep<T>(value: T): T {
  if (forms.length === 0) return value;
  return walk(value) as T;
}

function walk(v: unknown): unknown {
  if (typeof v === 'string') return redact(v);
  if (Array.isArray(v)) return v.map(walk);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = walk(x);
    return out;
  }
  return v;
}

/** An emit that redacts every event before passing it on (reporters, run reports and tracers see no secret). */
export function redacting<E>(emit: (e: E) => void): (e: E) => void {
  return (e) => emit(redactDeep(e));
}
