// `try --sample N`: which pages a variant is tried on. Deterministic, so that two variants tried on a sample
// of the same size see the same pages and compare page by page. Pages are taken a layer at a time across
// the books — every book's first page, then every book's second, … — so the sample spreads over the
// collection, and a page is taken only after its predecessor: each sampled page's context is then the
// variant's own output of the page before, exactly the request the real build sends once the variant's
// settings are adopted (so those pages are restored with no request).
import type { Chain } from '../graph/page.js';
import type { TargetKey } from '../types.js';

export function samplePages(chains: readonly Chain[], selected: ReadonlySet<TargetKey>, n: number): TargetKey[] {
  const queues = chains.map((c) => c.pages.filter((p) => selected.has(p.key)).map((p) => p.key)).filter((q) => q.length > 0);
  const out: TargetKey[] = [];
  for (let depth = 0; out.length < n; depth++) {
    let any = false;
    for (const q of queues) {
      const key = q[depth];
      if (key === undefined) continue;
      any = true;
      out.push(key);
      if (out.length === n) break;
    }
    if (!any) break;
  }
  return out;
}
