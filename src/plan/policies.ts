// What each context policy would take for a plan (pure; README "Context policies"): batch rounds, requests
// and cost, printed by build --dry-run under the cost estimate.
//
// A round is one batch turnaround: a page can go out only in a round after the one that answered what its
// request depends on. Per chain, R is the number of pages to build (they form one dependent run in exact
// mode), F is 1 when that run starts at a page without context (the chain's first page). With B pages a
// batch and S batches at once, a round carries at most B×S requests, so `cap(n) = ceil(n / (B×S))` rounds
// carry n independent requests.
//   exact        every page waits for its predecessor: max(max R, cap(N)) rounds, N requests.
//   draft        first-pass: a round of drafts of the predecessors of the pages to build (E of them: a chain's
//                first page's draft is its own request, so E = R − 2 for a run that starts a chain, else R),
//                then a round of pages: cap(E + F) + cap(N − F) rounds, N + E requests. local: the drafts
//                are local OCR, no request: cap(N) rounds, N requests.
//   speculative  drafts, then every page sent early with its predecessor's draft as context. When every guess
//                holds (a hit) that is all, as draft. A miss is sent again once its predecessor is final, so
//                at worst the rounds are exact's and up to E more requests are paid. The plan gives the range.
//   tail         exact, with a deadline: a chain affords the k batch rounds that end before it (k × turnaround <
//                time left);
//                its other max(0, R − k) pages go through interactive calls at the interactive price.
import type { ContextMode, DraftSource } from '../config/resolved.js';

export interface PolicyChain {
  /** Pages of the chain to build. */
  toBuild: number;
  /** Whether the first of them has no predecessor (its request carries no context). */
  startsChain: boolean;
}

export interface PolicyInput {
  chains: readonly PolicyChain[];
  batchSize: number;
  slots: number;
  draft: DraftSource;
  /** USD a request at batch prices, and at interactive prices; null when unknown. */
  batchUsd: number | null;
  interactiveUsd: number | null;
  /** The deadline as time left and the batch turnaround assumed (ms), when a deadline is set. */
  deadline: { leftMs: number; turnaroundMs: number } | null;
}

export interface PolicyRow {
  policy: ContextMode | 'tail';
  /** Batch rounds: [best, worst] (equal when the policy is deterministic). */
  rounds: [number, number];
  requests: [number, number];
  costUsd: [number, number] | null;
  /** Pages sent through interactive calls (tail only). */
  interactive?: number;
}

export function predictPolicies(i: PolicyInput): PolicyRow[] {
  const per = Math.max(1, i.batchSize * i.slots);
  const cap = (n: number) => Math.ceil(n / per);
  const chains = i.chains.filter((c) => c.toBuild > 0);
  const n = chains.reduce((a, c) => a + c.toBuild, 0);
  const f = chains.filter((c) => c.startsChain).length;
  const maxRun = Math.max(0, ...chains.map((c) => c.toBuild));
  // Extra requests per chain: the drafts of every page before one to build (a chain's first page's draft is
  // its own request), which is also how many pages may miss in speculative mode.
  const e = chains.reduce((a, c) => a + (c.startsChain ? Math.max(0, c.toBuild - 2) : c.toBuild), 0);
  const cost = (a: number, b: number): [number, number] | null => (i.batchUsd === null ? null : [a * i.batchUsd, b * i.batchUsd]);

  const exact = Math.max(maxRun, cap(n));
  // Round 1: drafts and the pages that need none; round 2: the others.
  const twoRounds = e > 0 ? cap(e + f) + cap(n - f) : cap(n);
  const rows: PolicyRow[] = [{ policy: 'exact', rounds: [exact, exact], requests: [n, n], costUsd: cost(n, n) }];
  if (i.draft === 'local') {
    rows.push({ policy: 'draft', rounds: [cap(n), cap(n)], requests: [n, n], costUsd: cost(n, n) });
    rows.push({ policy: 'speculative', rounds: [cap(n), Math.max(cap(n), exact)], requests: [n, n + e], costUsd: cost(n, n + e) });
  } else {
    rows.push({ policy: 'draft', rounds: [twoRounds, twoRounds], requests: [n + e, n + e], costUsd: cost(n + e, n + e) });
    rows.push({ policy: 'speculative', rounds: [twoRounds, Math.max(twoRounds, exact)], requests: [n + e, n + 2 * e], costUsd: cost(n + e, n + 2 * e) });
  }
  if (i.deadline) {
    // Strictly before the deadline, as the build decides (tail.ts): k rounds fit when k × turnaround < time left.
    const k = Math.max(0, Math.ceil(i.deadline.leftMs / Math.max(1, i.deadline.turnaroundMs)) - 1);
    const interactive = chains.reduce((a, c) => a + Math.max(0, c.toBuild - k), 0);
    const rounds = Math.min(exact, Math.max(Math.min(k, maxRun), cap(n - interactive)));
    const usd = i.batchUsd === null || i.interactiveUsd === null ? null : (n - interactive) * i.batchUsd + interactive * i.interactiveUsd;
    rows.push({ policy: 'tail', rounds: [rounds, rounds], requests: [n, n], costUsd: usd === null ? null : [usd, usd], interactive });
  }
  return rows;
}
