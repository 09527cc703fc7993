// `ocrmake graph`: the dependency graph (pages, predecessor → page edges, one cluster per book) as DOT,
// Mermaid or JSON, on stdout or into a file.
import path from 'node:path';
import type { EngineName } from '../../config/define.js';
import { usageError } from '../../errors.js';
import { planProject, type Project } from '../../execute/project.js';
import { select } from '../../graph/select.js';
import type { Plan } from '../../plan/types.js';
import { renderGraph, type GraphFormat, type GraphModel } from '../../report/graph.js';
import type { TargetKey } from '../../types.js';
import { writeFileAtomic } from '../../util/fs.js';
import { projectRoot } from '../root.js';
import { openQuietly } from '../open.js';

export interface GraphOptions {
  format: GraphFormat;
  /** A file to write; stdout when undefined. */
  out: string | undefined;
  /** Only these pages (and the edges between them); all when empty. */
  selectors: string[];
  engine: 'auto' | EngineName | undefined;
  cwd?: string;
}

export async function graph(o: GraphOptions): Promise<number> {
  const cwd = o.cwd ?? process.cwd();
  const root = projectRoot(cwd);
  const p = await openQuietly(root, o.engine);
  try {
    let keys: ReadonlySet<TargetKey> | null = null;
    if (o.selectors.length > 0) {
      const s = select(p.pages, o.selectors, { root, cwd, wildcards: p.config.keyWildcards });
      if (!s.ok) throw usageError(s.problems);
      keys = s.keys;
    }
    const text = renderGraph(graphModel(p, planProject(p), keys), o.format);
    if (o.out === undefined || o.out === '-') process.stdout.write(text);
    else {
      const file = path.resolve(cwd, o.out);
      writeFileAtomic(file, text);
      process.stderr.write(`wrote ${path.relative(cwd, file) || file}\n`);
    }
    return 0;
  } finally {
    p.store.close();
  }
}

/** Nodes in chain order; an edge for each predecessor link whose two ends are both shown. */
export function graphModel(p: Project, plan: Plan, keys: ReadonlySet<TargetKey> | null): GraphModel {
  const g: GraphModel = { engine: p.engine, dependent: p.fingerprints.chainDependent, nodes: [], edges: [] };
  for (const chain of p.index.chains) {
    for (const page of chain.pages) {
      if (keys && !keys.has(page.key)) continue;
      g.nodes.push({ key: page.key, state: plan.targets.get(page.key)!.state, chain: page.chainId, output: page.output });
      const pred = p.index.predecessor.get(page.key);
      if (pred && (!keys || keys.has(pred))) g.edges.push({ from: pred, to: page.key });
    }
  }
  return g;
}
