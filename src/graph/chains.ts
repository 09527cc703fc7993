// Chains: the pages of one book in page order. A page's predecessor is page n-1 of its chain; a gap in
// the numbering starts a new chain unless the ocrfile says `chain: 'previous-existing'`.
import type { TargetKey } from '../types.js';
import type { Chain, Page } from './page.js';

export interface ChainIndex {
  readonly chains: readonly Chain[];
  readonly byKey: ReadonlyMap<TargetKey, Page>;
  readonly predecessor: ReadonlyMap<TargetKey, TargetKey>;
  readonly successor: ReadonlyMap<TargetKey, TargetKey>;
  /** The chain each key belongs to. */
  readonly chainOf: ReadonlyMap<TargetKey, Chain>;
}

/** Whether `page` comes right after `prev` in one chain (`prev` being the page before it in discovery order). */
export function follows(prev: Page, page: Page, mode: 'consecutive' | 'previous-existing'): boolean {
  return prev.chainId === page.chainId && (mode === 'previous-existing' || prev.pageNumber === page.pageNumber - 1);
}

/** `pages` must be sorted by chain id, then page number (as discover returns them). */
export function buildChains(pages: readonly Page[], mode: 'consecutive' | 'previous-existing'): ChainIndex {
  const chains: Chain[] = [];
  const byKey = new Map<TargetKey, Page>();
  const predecessor = new Map<TargetKey, TargetKey>();
  const successor = new Map<TargetKey, TargetKey>();
  const chainOf = new Map<TargetKey, Chain>();
  let current: Page[] = [];
  const close = () => {
    if (current.length === 0) return;
    const chain: Chain = { id: `${current[0]!.chainId}:${current[0]!.pageNumber}`, pages: current };
    chains.push(chain);
    for (const p of current) chainOf.set(p.key, chain);
    current = [];
  };
  let prev: Page | null = null;
  for (const page of pages) {
    byKey.set(page.key, page);
    const linked = prev !== null && follows(prev, page, mode);
    if (!linked) close();
    if (linked && prev) {
      predecessor.set(page.key, prev.key);
      successor.set(prev.key, page.key);
    }
    current.push(page);
    prev = page;
  }
  close();
  return { chains, byKey, predecessor, successor, chainOf };
}
