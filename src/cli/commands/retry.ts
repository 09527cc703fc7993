// `ocrmake retry [selectors..]`: gives failed and dead pages new attempts by removing their failure counters
// (the `attempts` rows), so the next build sends them again. The failure log is history and is kept.
//
// By default only the counter of each page's current request is removed: a counter of an older request
// (before a prompt or image change) matters only if that request comes back, and `--all-fingerprints`
// removes those too. The command writes the cache, so it holds the project lock, taken before the cache is
// read: a build that ends between our read and our save would otherwise have its results overwritten.
import path from 'node:path';
import type { EngineName } from '../../config/define.js';
import type { AttemptRow } from '../../cache/records.js';
import { acquireLock } from '../../cache/lock.js';
import { usageError } from '../../errors.js';
import { CACHE_DIR, planProject } from '../../execute/project.js';
import { select } from '../../graph/select.js';
import type { State } from '../../plan/types.js';
import type { TargetKey } from '../../types.js';
import { projectRoot } from '../root.js';
import { openQuietly } from '../open.js';

export interface RetryOptions {
  selectors: string[];
  dryRun: boolean;
  allFingerprints: boolean;
  json: boolean;
  engine: 'auto' | EngineName | undefined;
  cwd?: string;
}

export interface RetryJson {
  dryRun: boolean;
  reset: Array<{
    key: string;
    state: State;
    /** The current request's failure counter before the reset (0 when only older requests had one). */
    attempts: number;
    lastError: { class: string; message: string } | null;
    /** Counters removed: 1, or more with --all-fingerprints. */
    counters: number;
  }>;
  total: number;
}

export async function retry(o: RetryOptions): Promise<number> {
  const cwd = o.cwd ?? process.cwd();
  const root = projectRoot(cwd);
  const lock = o.dryRun ? null : acquireLock(path.join(root, CACHE_DIR), 'retry');
  try {
    const p = await openQuietly(root, o.engine);
    try {
      let keys: Set<TargetKey> | null = null;
      if (o.selectors.length > 0) {
        const s = select(p.pages, o.selectors, { root: p.config.root, cwd, wildcards: p.config.keyWildcards });
        if (!s.ok) throw usageError(s.problems);
        keys = s.keys;
      }
      const byKey = new Map<TargetKey, AttemptRow[]>();
      for (const a of p.store.allAttempts()) byKey.set(a.key, [...(byKey.get(a.key) ?? []), a]);
      const plan = planProject(p);
      const out: RetryJson = { dryRun: o.dryRun, reset: [], total: 0 };
      for (const chain of p.index.chains) {
        for (const page of chain.pages) {
          if (keys && !keys.has(page.key)) continue;
          const rows = byKey.get(page.key) ?? [];
          const fp = p.fingerprints.inputs.get(page.key)?.current?.fingerprint ?? null;
          const current = rows.find((r) => r.fingerprint === fp) ?? null;
          // A counter of 0 holds only failures that were not charged (a failed batch): nothing to give back.
          const counts = (r: AttemptRow) => r.count > 0 || r.lastClass === 'input-error';
          const targets = o.allFingerprints ? rows.filter(counts) : current && counts(current) ? [current] : [];
          if (targets.length === 0) continue;
          if (!o.dryRun) for (const r of targets) p.store.resetAttempts(page.key, r.fingerprint);
          const last = current ?? targets.at(-1)!;
          out.reset.push({
            key: page.key,
            state: plan.targets.get(page.key)!.state,
            attempts: current?.count ?? 0,
            lastError: last.lastClass ? { class: last.lastClass, message: last.lastMessage ?? '' } : null,
            counters: targets.length,
          });
        }
      }
      out.total = out.reset.length;
      if (!o.dryRun && out.total > 0) p.store.save();
      process.stdout.write(o.json ? `${JSON.stringify(out)}\n` : render(out, keys?.size ?? null, p.config.execution.maxAttempts, o.allFingerprints));
      return 0;
    } finally {
      p.store.close();
    }
  } finally {
    lock?.release();
  }
}

function render(r: RetryJson, selected: number | null, maxAttempts: number, all: boolean): string {
  const scope = all ? 'any request' : 'its current request';
  if (r.total === 0) {
    return selected === null
      ? `nothing to reset: no page has failed attempts on ${scope}\n`
      : `nothing to reset: none of the ${selected} selected page${selected === 1 ? '' : 's'} has failed attempts on ${scope}\n`;
  }
  const verb = r.dryRun ? 'would reset' : 'reset';
  const w = Math.max(...r.reset.map((x) => x.key.length));
  const lines = r.reset.map((x) => {
    const older = x.counters > (x.attempts > 0 ? 1 : 0) ? `; ${x.counters - (x.attempts > 0 ? 1 : 0)} older request(s)` : '';
    const last = x.lastError ? `; last ${x.lastError.class}: ${oneLine(x.lastError.message)}` : '';
    return `${verb.padEnd(11)}  ${x.key.padEnd(w)}  ${x.state}, ${x.attempts}/${maxAttempts} attempts${older}${last}`;
  });
  const pages = `${r.total} page${r.total === 1 ? '' : 's'}`;
  lines.push(
    r.dryRun
      ? `dry run: ${pages} would be reset; nothing was changed`
      : `${pages} reset: the next build tries ${r.total === 1 ? 'it' : 'them'} again (ocrmake failures keeps the history)`,
  );
  return `${lines.join('\n')}\n`;
}

function oneLine(s: string, max = 160): string {
  const flat = s.replace(/\s*\n\s*/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
