// The page count of every source file of a multi-page pattern, from a header read recorded by the file's
// content hash (cache table `sources`). The content hash itself comes from the stat cache, so a collection
// whose files did not change is counted with a stat per file and no read: a no-op build opens no image.
import path from 'node:path';
import type { StateStore } from '../cache/state.js';
import type { HashCache } from '../fingerprint/hash-cache.js';
import { probeSource } from './probe.js';

export class SourceCatalog {
  readonly #root: string;
  readonly #store: StateStore;
  readonly #hashes: HashCache;
  /** Header reads made by this process (the rest came from the cache): a measure for tests and the summary. */
  probed = 0;

  constructor(root: string, store: StateStore, hashes: HashCache) {
    this.#root = root;
    this.#store = store;
    this.#hashes = hashes;
  }

  /** Pages in the file at `rel` (relative to the root), or why they cannot be counted. */
  async count(rel: string): Promise<{ pages: number } | { problem: string }> {
    const h = this.#hashes.hash(rel);
    if (h.kind === 'missing') return { problem: 'it disappeared' };
    if (h.kind === 'error') return { problem: `it cannot be read (${h.message})` };
    const known = this.#store.source(h.hash);
    if (known) return known.pages > 0 ? { pages: known.pages } : { problem: String(known.info.problem ?? 'it cannot be read') };
    this.probed++;
    const probe = await probeSource(path.join(this.#root, rel));
    // A file that cannot be counted is recorded too: the same bytes fail the same way, so they are not read again.
    if ('problem' in probe) {
      this.#store.setSource({ hash: h.hash, format: 'unreadable', pages: 0, info: { problem: probe.problem } });
      return probe;
    }
    this.#store.setSource({ hash: h.hash, format: probe.format, pages: probe.pages, info: {} });
    return { pages: probe.pages };
  }
}
