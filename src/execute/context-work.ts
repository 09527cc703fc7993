// The extra requests of the draft and speculative context policies (DESIGN §15), kept apart from the build
// loop's pages: their results go to the result store only, never to an output.
//   draft       — a page's request made without its own context (first-pass), or its local OCR (local).
//                 In draft mode the next page's context comes from it; in speculative mode it is the guess.
//   speculative — a page's request with the context its predecessor's draft gives, sent before the
//                 predecessor is final. When the predecessor's final output gives the same context, the
//                 page's exact request is this very request, and the build restores it with no call (a hit).
// They travel in the same jobs as pages, under keys that cannot be page keys (`draft|<fingerprint>`,
// `spec|<fingerprint>`), so that a batch result (also one re-attached after a crash) finds its way back.
import type { Request } from '../fingerprint/snapshot.js';
import type { TargetPlan } from '../plan/types.js';
import type { Fingerprint, TargetKey } from '../types.js';
import type { Project } from './project.js';
import type { Chain } from '../graph/page.js';

export type AuxKind = 'draft' | 'spec';

const AUX = /^(draft|spec)\|([0-9a-f]{64})$/;

export const auxKey = (kind: AuxKind, fp: Fingerprint): TargetKey => `${kind}|${fp}` as TargetKey;

export function parseAux(key: string): { kind: AuxKind; fingerprint: Fingerprint } | null {
  const m = AUX.exec(key);
  return m ? { kind: m[1] as AuxKind, fingerprint: m[2] as Fingerprint } : null;
}

export interface ContextStats {
  drafts: number;
  speculated: number;
  hits: number;
  misses: number;
}

export class ContextWork {
  readonly #p: Project;
  /** Pages whose draft is wanted, and pages to send speculatively, in the order they became wanted. */
  readonly #drafts = new Set<TargetKey>();
  readonly #specs = new Set<TargetKey>();
  /** Aux requests in flight, by fingerprint, with the page they are of (null: re-attached after a crash). */
  readonly #inflight = new Map<Fingerprint, { kind: AuxKind; key: TargetKey | null }>();
  /** The speculative request sent for each page in this build (to tell a hit from a miss). */
  readonly #speculated = new Map<TargetKey, Fingerprint>();
  /** Pages whose draft failed for good in this build: their successors are blocked. */
  readonly failedDrafts = new Map<TargetKey, string>();
  readonly stats: ContextStats = { drafts: 0, speculated: 0, hits: 0, misses: 0 };

  constructor(p: Project) {
    this.#p = p;
  }

  get active(): boolean {
    return this.#p.fingerprints.drafts !== null;
  }

  /** After a chain was re-planned: what its pages now want (a predecessor's draft, an early send). */
  note(chain: Chain, plans: ReadonlyMap<TargetKey, TargetPlan>, selected: ReadonlySet<TargetKey>): void {
    const f = this.#p.fingerprints;
    if (f.drafts === null) return;
    const speculative = f.contextMode === 'speculative';
    for (const page of chain.pages) {
      const pred = this.#p.index.predecessor.get(page.key);
      if (!pred || !selected.has(page.key)) continue;
      const t = plans.get(page.key);
      if (!t) continue;
      if (!speculative) {
        if (t.state === 'waiting' && f.inputs.get(page.key)?.awaits === pred) this.#drafts.add(pred);
        continue;
      }
      // Speculative: a page that must wait for its predecessor's final output may go out early.
      const ps = plans.get(pred)?.state;
      const waitsForPred = (t.state === 'waiting' || (t.state === 'stale' && !t.buildable)) && ps !== 'fresh' && ps !== 'edited';
      if (!waitsForPred || ps === 'dead' || ps === 'blocked' || ps === 'missing-input') continue;
      const draft = f.draftOf(pred);
      if (draft && !this.#p.objects.has(draft)) this.#drafts.add(pred);
      else if (draft) this.#specs.add(page.key);
    }
  }

  /**
   * Up to `n` requests to send now with the build's engine (first-pass drafts and speculative sends), each
   * under its aux key. `busy` says whether a fingerprint is already being sent as a page's own request (a
   * first page's draft is its own request).
   */
  take(n: number, busy: (fp: Fingerprint) => boolean): Request[] {
    const out: Request[] = [];
    const f = this.#p.fingerprints;
    if (f.drafts === 'first-pass') this.#takeDrafts(n, out, busy);
    for (const key of this.#specs) {
      if (out.length >= n) break;
      this.#specs.delete(key);
      const r = f.speculativeRequest(key);
      if (!r || this.#p.objects.has(r.fingerprint) || this.#inflight.has(r.fingerprint) || busy(r.fingerprint) || this.#speculated.get(key) === r.fingerprint) continue;
      this.#inflight.set(r.fingerprint, { kind: 'spec', key });
      this.#speculated.set(key, r.fingerprint);
      this.stats.speculated++;
      out.push({ ...r, key: auxKey('spec', r.fingerprint) });
    }
    return out;
  }

  /** Up to `n` local drafts (draft: 'local'), for the offline engine. */
  takeLocal(n: number, busy: (fp: Fingerprint) => boolean): Request[] {
    const out: Request[] = [];
    if (this.#p.fingerprints.drafts === 'local') this.#takeDrafts(n, out, busy);
    return out;
  }

  #takeDrafts(n: number, out: Request[], busy: (fp: Fingerprint) => boolean): void {
    const f = this.#p.fingerprints;
    for (const key of this.#drafts) {
      if (out.length >= n) break;
      this.#drafts.delete(key);
      const fp = f.draftOf(key);
      if (!fp || this.#p.objects.has(fp) || this.#inflight.has(fp) || busy(fp) || this.failedDrafts.has(key)) continue;
      let r: Request;
      try {
        r = f.draftRequest(key);
      } catch {
        continue;
      }
      this.#inflight.set(fp, { kind: 'draft', key });
      this.stats.drafts++;
      out.push({ ...r, key: auxKey('draft', fp) });
    }
  }

  /** Whether a request with this fingerprint is out as a draft or a speculative send. */
  inFlight(fp: Fingerprint | undefined): boolean {
    return fp !== undefined && this.#inflight.has(fp);
  }

  /** Whether any aux request waits to be sent (the loop keeps filling while so). */
  get pending(): boolean {
    return this.#drafts.size > 0 || this.#specs.size > 0;
  }

  /** An aux result or failure arrived: the page it is of (null when this process did not send it: a re-attached batch). */
  settle(fp: Fingerprint): { kind: AuxKind; key: TargetKey } | null {
    const owner = this.#inflight.get(fp) ?? null;
    this.#inflight.delete(fp);
    return owner?.key ? { kind: owner.kind, key: owner.key } : null;
  }

  /** An aux request in a batch re-attached after a crash: in flight until its answer comes. */
  adopt(fp: Fingerprint, kind: AuxKind): void {
    this.#inflight.set(fp, { kind, key: null });
  }

  /** A page's own request is about to go out: if it was sent speculatively with another context, a miss. */
  sending(key: TargetKey, fp: Fingerprint): void {
    const spec = this.#speculated.get(key);
    if (spec !== undefined && spec !== fp) {
      this.stats.misses++;
      this.#speculated.delete(key);
    }
  }

  /** A page was restored from the result store: if by its speculative result, a hit. */
  restored(key: TargetKey, fp: Fingerprint): boolean {
    if (this.#speculated.get(key) !== fp) return false;
    this.stats.hits++;
    this.#speculated.delete(key);
    return true;
  }
}
