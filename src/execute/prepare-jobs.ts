// Between the build loop and an engine: every request of a job gets its prepared image (prepare/) before the
// engine sees it. A page whose image cannot be prepared is answered here with an input error naming the file,
// the page inside it and the decoder's reason: for every engine alike, before anything is sent.
import path from 'node:path';
import { imageFamily, type ImageFamily } from '../config/images.js';
import type { Engine, Outcome } from '../engines/engine.js';
import { cacheProblem, isFsRefusal } from '../cache/problems.js';
import type { Request } from '../fingerprint/snapshot.js';
import { Preparer } from '../prepare/preparer.js';
import type { PreparedRequest } from '../prepare/types.js';
import type { Project } from './project.js';

export class JobPreparer {
  readonly #p: Project;
  readonly #warn: (message: string) => void;
  /** Made when the first page is sent: a no-op build never loads an image library. */
  #preparer: Preparer | null = null;

  /** The image family this preparer serves: the build engine's, or another's (local drafts in a Gemini build). */
  readonly #family: ImageFamily;

  constructor(p: Project, warn: (message: string) => void, family: ImageFamily = imageFamily(p.engine)) {
    this.#p = p;
    this.#warn = warn;
    this.#family = family;
  }

  /** Images decoded so far in this build. */
  get decoded(): number {
    return this.#preparer?.decoded ?? 0;
  }

  /**
   * The requests with their prepared images, in order; `answer` receives the input errors of the others.
   * An engine that reads no image (images: null) gets the requests as they are.
   */
  async prepare(engine: Engine, requests: readonly Request[], signal: AbortSignal, answer: (o: Outcome) => void): Promise<PreparedRequest[]> {
    const family = engine.images;
    if (family === null) return requests.map((r) => ({ ...r, image: null }));
    // The fingerprint recorded the settings of the build's engine family: prepare with exactly those.
    if (family !== this.#family) throw new Error(`the ${engine.name} engine takes ${family} images, but this preparer serves ${this.#family} ones`);
    this.#preparer ??= new Preparer({ cacheDir: this.#p.cacheDir, family, settings: this.#p.config.images[family], warn: this.#warn });
    const preparer = this.#preparer;
    const root = this.#p.config.root;
    // The cache's disk failed, not the page: stop the build, charge nothing (DESIGN §14).
    const refused = (err: unknown) => {
      if (!isFsRefusal(err) && typeof (err as NodeJS.ErrnoException)?.code !== 'string') return err;
      return cacheProblem(err, root, 'preparing images in .ocrcache/prepared');
    };
    const prepared = await Promise.all(
      requests.map(async (r) => {
        if (signal.aborted) return null;
        try {
          return { r, image: await preparer.prepare({ path: r.imagePath, rel: r.page.image ?? path.relative(root, r.imagePath), sourceHash: r.sourceHash, sourcePage: r.sourcePage }) };
        } catch (err) {
          throw refused(err);
        }
      }),
    );
    try {
      preparer.flush(); // the job's images durable before anything is sent, then their records
    } catch (err) {
      throw refused(err);
    }
    const ready: PreparedRequest[] = [];
    for (const p of prepared) {
      if (!p) continue;
      if ('problem' in p.image) answer({ ok: false, key: p.r.key, fingerprint: p.r.fingerprint, class: 'input-error', message: p.image.problem, charge: true });
      else ready.push({ ...p.r, image: p.image });
    }
    return ready;
  }

  async close(): Promise<void> {
    await this.#preparer?.close();
  }
}
