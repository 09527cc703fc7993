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

// Copies only the objects on the way to a string that changed: every event of a build passes through
// here (a `record` event holds the whole prompt and reply), and almost none holds a secret.
function walk(v: unknown): unknown {
  if (typeof v === 'string') return redact(v);
  if (Array.isArray(v)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < v.length; i++) {
      const x = walk(v[i]);
      if (x !== v[i]) (out ??= v.slice())[i] = x;
    }
    return out ?? v;
  }
  if (v && typeof v === 'object') {
    let out: Record<string, unknown> | null = null;
    for (const k in v) {
      if (!Object.hasOwn(v, k)) continue;
      const x0 = (v as Record<string, unknown>)[k];
      const x = walk(x0);
      if (x !== x0) (out ??= { ...(v as Record<string, unknown>) })[k] = x;
    }
    return out ?? v;
  }
  return v;
}

/** An emit that redacts every event before passing it on (reporters, run reports and tracers see no secret). */
export function redacting<E>(emit: (e: E) => void): (e: E) => void {
  return (e) => emit(redactDeep(e));
}
