// What changes from one run to the next is replaced by a placeholder, so that the README's examples are the
// same every time the script runs (and a test can tell when they are out of date): clock times, dates,
// durations, run and batch ids, process ids and the temporary project folder. Everything else is printed as
// it was. Placeholders keep the width of what they replace inside tables, so columns stay aligned.

export interface NormaliseOptions {
  /** The project folder the commands ran in (shown as `.`). */
  dir?: string;
}

export function normalise(text: string, o: NormaliseOptions = {}): string {
  let t = text;
  if (o.dir) t = t.split(`${o.dir}/`).join('').split(o.dir).join('.');
  const batches = new Map<string, string>();
  t = t
    // Batch names (36 characters) and display names.
    .replace(/batches\/[a-z0-9]{36}/g, (m) => {
      if (!batches.has(m)) batches.set(m, `batches/<batch ${batches.size + 1}>`);
      return batches.get(m)!;
    })
    .replace(/ocrmake-[a-z0-9]{6,12}-[a-z0-9]{6}/g, 'ocrmake-<id>')
    // The corrupt cache's new name, then ISO times (before plain clock times).
    .replace(/corrupt-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z/g, 'corrupt-YYYY-MM-DDTHH-MM-SS-sssZ')
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z/g, (m) => (m.length > 20 ? 'YYYY-MM-DDTHH:MM:SS.sssZ' : 'YYYY-MM-DDTHH:MM:SSZ'))
    .replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/g, 'YYYY-MM-DD HH:MM:SS')
    .replace(/\b\d{8}-\d{6}(-\d+)?\b/g, (m) => 'YYYYMMDD-HHMMSS'.padEnd(m.length))
    .replace(/^\d\d:\d\d:\d\d /gm, 'HH:MM:SS ')
    // Durations: in a right-aligned column (two spaces or more before), keep the cell's width.
    .replace(/( {2,})(\d+(?:\.\d+)?|\d+ min \d+) s\b/g, (m) => 'N.N s'.padStart(m.length))
    .replace(/\b(\d+(?:\.\d+)?) s\b/g, 'N.N s')
    .replace(/\bin \d+ ms\b/g, 'in N ms')
    .replace(/"seconds":\d+(\.\d+)?/g, '"seconds":N.N')
    // Process ids (the lock holder).
    .replace(/\bpid \d+\b/g, 'pid PID')
    .replace(/\bkill \d+\b/g, 'kill PID');
  return t;
}

/** Keeps the first `head` and last `tail` of the lines that match `which`, with `...` for the others. */
export function elide(text: string, which: RegExp, head: number, tail: number): string {
  const lines = text.split('\n');
  const hits = lines.flatMap((l, i) => (which.test(l) ? [i] : []));
  if (hits.length <= head + tail + 1) return text;
  const drop = new Set(hits.slice(head, hits.length - tail));
  const out: string[] = [];
  for (const [i, l] of lines.entries()) {
    if (!drop.has(i)) out.push(l);
    else if (!drop.has(i - 1)) out.push('...');
  }
  return out.join('\n');
}

/** Drops lines that depend on the machine rather than the command (the Braintrust notice). */
export function withoutNotices(text: string): string {
  return text
    .split('\n')
    .filter((l) => !/^(HH:MM:SS )?(Braintrust tracing is off|Braintrust experiment not logged|No GEMINI_API_KEY or GOOGLE_API_KEY is set)/.test(l))
    .join('\n');
}
