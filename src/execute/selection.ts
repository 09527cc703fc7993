import { usageError } from '../errors.js';
import { select } from '../graph/select.js';
import type { TargetKey } from '../types.js';
import type { Project } from './project.js';

export interface Selected {
  /** What the command acts on: the selected pages plus, when pages depend on their predecessor, every page before them in their chain. */
  keys: Set<TargetKey>;
  /** The pages the selectors named (what --force applies to). */
  explicit: Set<TargetKey>;
  all: boolean;
}

export function resolveSelection(p: Project, selectors: readonly string[], cwd: string): Selected {
  if (selectors.length === 0) {
    const keys = new Set(p.pages.map((pg) => pg.key));
    return { keys, explicit: keys, all: true };
  }
  const s = select(p.pages, selectors, { root: p.config.root, cwd, wildcards: p.config.keyWildcards });
  if (!s.ok) throw usageError(s.problems);
  const keys = new Set(s.keys);
  if (p.fingerprints.chainDependent) {
    for (const key of s.keys) {
      let k = p.index.predecessor.get(key);
      while (k && !keys.has(k)) {
        keys.add(k);
        k = p.index.predecessor.get(k);
      }
    }
  }
  return { keys, explicit: s.keys, all: false };
}
