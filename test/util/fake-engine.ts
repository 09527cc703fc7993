// An in-process engine for executor tests: answers every request with a schema-valid page derived from
// the image hash (so a rebuild with the same image gives the same reply), and fails chosen keys.
import type { Engine, Job, Outcome } from '../../src/engines/engine.js';
import type { FailureClass } from '../../src/cache/records.js';
import type { Request } from '../../src/fingerprint/snapshot.js';

export interface FakeEngineOptions {
  jobSize?: number;
  maxJobs?: number;
  /** A failure class for requests that should fail, or null. */
  fail?: (r: Request) => FailureClass | null;
  /** The page text; default depends only on the image. */
  text?: (r: Request) => string;
}

export interface FakeEngine extends Engine {
  /** Every request received, in order. */
  readonly sent: Request[];
}

export function fakePage(text: string, pageNumber: number) {
  return {
    raw_ocr: { text_blocks: [{ block_id: 1, position: 'body', text, font_style: 'regular' }], layout_description: 'one block' },
    page_info: { page_number: String(pageNumber), is_complete_page: true, content_type: 'courses' },
    school_name: null,
    catalog_year: null,
    academic_year: null,
    courses: [],
  };
}

export function fakeEngine(o: FakeEngineOptions = {}): FakeEngine {
  const sent: Request[] = [];
  const counters = { requests: 0, batches: 0, uploads: 0 };
  return {
    name: 'gemini-batch',
    images: null, // it reads no image: nothing is prepared for it
    jobSize: o.jobSize ?? 100,
    maxJobs: o.maxJobs ?? 10,
    counters,
    sent,
    async *run(job: Job): AsyncIterable<Outcome> {
      counters.batches++;
      for (const r of job.requests) {
        sent.push(r);
        counters.requests++;
        await new Promise((resolve) => setImmediate(resolve));
        const failure = o.fail?.(r) ?? null;
        if (failure) {
          yield { ok: false, key: r.key, fingerprint: r.fingerprint, class: failure, message: `fake ${failure}`, charge: true };
          continue;
        }
        const text = o.text ? o.text(r) : `page text of image ${r.imageHash.slice(0, 12)}`;
        yield { ok: true, key: r.key, fingerprint: r.fingerprint, value: fakePage(text, r.page.pageNumber) };
      }
    },
    async close() {},
  };
}
