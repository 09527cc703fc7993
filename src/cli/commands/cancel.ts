// `ocrmake cancel <batch>|--all`: cancels recorded batches that are still open (being submitted or
// running) at the API, and frees their pages: the next build sends them again, with no attempt charged.
// Holds the project lock, so no build re-attaches a batch while it is being cancelled.
import path from 'node:path';
import { acquireLock } from '../../cache/lock.js';
import { StateStore } from '../../cache/state.js';
import { ExitCode, ExitSignal, usageError } from '../../errors.js';
import { CACHE_DIR } from '../../execute/project.js';
import { cacheJournal } from '../../execute/journal.js';
import type { OpenBatch } from '../../engines/journal.js';
import { projectRoot } from '../root.js';

export interface CancelOptions {
  batch: string | undefined;
  all: boolean;
  json: boolean;
  cwd?: string;
}

export async function cancel(o: CancelOptions): Promise<number> {
  if (!o.batch === !o.all) throw usageError([{ reason: 'option-invalid', message: 'name one batch or give --all', hint: 'ocrmake batches lists the open ones: ocrmake cancel batches/abc… or ocrmake cancel --all.' }]);
  const root = projectRoot(o.cwd ?? process.cwd());
  const lock = acquireLock(path.join(root, CACHE_DIR), 'cancel');
  try {
    const { store } = await StateStore.open(path.join(root, CACHE_DIR));
    try {
      const journal = cacheJournal(store, 'gemini-batch');
      const open = journal.open();
      const wanted = o.all ? open : open.filter((b) => matches(b, o.batch!));
      if (!o.all && wanted.length === 0) {
        throw usageError([{ reason: 'selector-invalid', message: `"${o.batch}" is not an open batch of this project`, hint: open.length ? `Open batches: ${open.map((b) => b.name ?? b.displayName).join(', ')}.` : 'No batch is open (ocrmake batches lists them all).' }]);
      }
      const { createClient } = await import('../../engines/gemini/client.js');
      const { findByDisplayName } = await import('../../engines/gemini/batch-lookup.js');
      const { Outage } = await import('../../engines/gemini/errors.js');
      const client = await createClient({ root, engine: 'gemini-batch', timeoutMs: 30_000 });
      const lookup = { client: async () => client, outage: new Outage(60_000, client.endpoint), retryBaseMs: 1000, log: () => {} };
      const signal = new AbortController().signal;
      const done: Array<{ name: string | null; displayName: string; pages: number; remote: 'cancelled' | 'not-found' }> = [];
      for (const b of wanted) {
        const name = b.name ?? (await findByDisplayName(lookup, b.displayName, signal));
        let remote: 'cancelled' | 'not-found' = 'not-found';
        if (name) {
          try {
            await client.ai.batches.cancel({ name });
            remote = 'cancelled';
          } catch (err) {
            const status = (err as { status?: number }).status;
            if (status !== 404) throw new ExitSignal(ExitCode.failed, `could not cancel ${name} at ${client.endpoint} (${(err as Error).message.split('\n')[0]}); nothing was changed for it. Try again.`);
          }
        }
        journal.finished(b.displayName, 'cancelled');
        journal.save();
        done.push({ name, displayName: b.displayName, pages: b.records.length, remote });
      }
      if (o.json) process.stdout.write(`${JSON.stringify({ cancelled: done })}\n`);
      else {
        for (const d of done) {
          process.stdout.write(`cancelled ${d.name ?? d.displayName} (${d.displayName}, ${d.pages} pages)${d.remote === 'not-found' ? ': it was not at the API' : ''}; its pages go into the next build's batches, uncharged\n`);
        }
        if (done.length === 0) process.stdout.write('no open batch to cancel\n');
      }
      return ExitCode.ok;
    } finally {
      store.close();
    }
  } finally {
    lock.release();
  }
}

function matches(b: OpenBatch, wanted: string): boolean {
  const id = wanted.replace(/^batches\//, '');
  return b.displayName === wanted || b.name === wanted || b.name === `batches/${id}`;
}
