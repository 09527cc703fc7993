// Finding a batch by its display name, and proving one absent. A create whose outcome is unknown (a 5xx,
// a 429, a reset or a timeout after the server may have acted) must never be followed by a second create
// for the same intent until a list that works, repeated across a lag window (lists can trail creates by
// seconds), has shown the batch is not there. While the list itself fails, nothing is created: the intent
// stays recorded and the build stops, uncharged, for the next build to resolve.
import type { Client } from './client.js';
import { raceAbort, sleep, withRetry, type Outage } from './errors.js';

/** How long a list may trail a create: absence is proven only by lists this long after the create. */
export function createLagMs(): number {
  const env = Number(process.env['OCRMAKE_CREATE_LAG_MS']);
  return Number.isFinite(env) && env >= 0 ? env : 60_000;
}

export class ListFailed extends Error {
  override name = 'ListFailed';
}

export interface Lookup {
  client: () => Promise<Client>;
  outage: Outage;
  retryBaseMs: number;
  log: (message: string) => void;
}

/** The batch created with this display name, or null when a working list does not show it. Throws ListFailed. */
export async function findByDisplayName(l: Lookup, displayName: string, signal: AbortSignal): Promise<string | null> {
  const { ai } = await l.client();
  try {
    return await withRetry(
      async () => {
        const pager = await raceAbort(ai.batches.list({ config: { pageSize: 100 } }), signal);
        const found: string[] = [];
        for await (const job of pager) if (job.displayName === displayName && job.name) found.push(job.name);
        if (found.length > 1) l.log(`${found.length} batches carry the display name ${displayName} (${found.join(', ')}); the first is used`);
        return found.at(-1) ?? null;
      },
      { attempts: 5, baseMs: l.retryBaseMs, maxMs: 30_000, signal, outage: l.outage },
    );
  } catch (err) {
    if (signal.aborted) throw err;
    throw new ListFailed(`the batch list failed (${(err as Error)?.message?.split('\n')[0] ?? String(err)})`);
  }
}

/**
 * After a create whose outcome is unknown: the batch's name when a list shows it; null once lists spanning
 * the lag window (from `since`, when the create was sent) have all not shown it. Throws ListFailed when
 * the list cannot be read.
 */
export async function resolveCreate(l: Lookup, displayName: string, since: number, pollMs: number, signal: AbortSignal): Promise<string | null> {
  const lag = createLagMs();
  for (;;) {
    const checkedAt = Date.now();
    const found = await findByDisplayName(l, displayName, signal);
    if (found || signal.aborted) return found;
    // Absent in a list made after the window: the create did not land (a later one would show by now).
    if (checkedAt - since >= lag) return null;
    await sleep(Math.min(Math.max(250, pollMs), lag - (checkedAt - since) + 10), signal);
  }
}
