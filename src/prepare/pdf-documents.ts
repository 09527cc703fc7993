// Open PDF documents, shared by the pages of one file while they are prepared: pdf.js parses a file once,
// not once per page. A few stay open (pages of a book are usually prepared together); older ones are closed.
import type { PrepareProblem } from './types.js';
import { openPdf } from './pdf.js';

type Doc = Exclude<Awaited<ReturnType<typeof openPdf>>, PrepareProblem>;

/** Documents kept open at once. */
const KEEP = 3;

export class PdfDocuments {
  readonly #open = new Map<string, Promise<Doc | PrepareProblem>>();

  /** The document with this content hash, opened from `bytes` if it is not open already. */
  open(hash: string, bytes: Uint8Array): Promise<Doc | PrepareProblem> {
    let doc = this.#open.get(hash);
    if (doc) {
      // Most recently used last.
      this.#open.delete(hash);
      this.#open.set(hash, doc);
      return doc;
    }
    doc = openPdf(bytes);
    this.#open.set(hash, doc);
    while (this.#open.size > KEEP) {
      const [oldest, old] = this.#open.entries().next().value as [string, Promise<Doc | PrepareProblem>];
      this.#open.delete(oldest);
      void old.then((d) => ('problem' in d ? undefined : delay(() => d.destroy())));
    }
    return doc;
  }

  async close(): Promise<void> {
    const docs = [...this.#open.values()];
    this.#open.clear();
    await Promise.all(docs.map(async (p) => {
      const d = await p;
      if (!('problem' in d)) await d.destroy();
    }));
  }
}

/** Destroys a little later, so that a page still being read from an evicted document can finish. */
function delay(p: () => Promise<void>): void {
  setTimeout(() => void p().catch(() => {}), 30_000).unref();
}
