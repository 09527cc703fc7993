// What the HTML report shows of a project: each page's plan verdict with the details `explain` gives, and
// the newest rows of the failure log.
import path from 'node:path';
import { attemptsOf, type Project } from '../../execute/project.js';
import type { Plan } from '../../plan/types.js';
import type { TargetKey } from '../../types.js';
import type { ReportFailureInput, ReportInput, ReportPageInput } from './data.js';

/** The failure table shows this many of the newest rows; the header gives the total. */
export const FAILURE_ROWS = 2000;

export function collectReport(p: Project, plan: Plan, now: Date): ReportInput {
  const log = p.store.failureLogBrief();
  const lastError = new Map<TargetKey, { class: string; message: string; at: string }>();
  for (const f of log) lastError.set(f.key, { class: f.class, message: f.message, at: f.at });
  const attempts = attemptsOf(p);
  const failures: ReportFailureInput[] = [];
  for (let i = log.length - 1; i >= 0 && failures.length < FAILURE_ROWS; i--) {
    const f = log[i]!;
    failures.push({ key: f.key, class: f.class, code: f.code ?? null, message: f.message, attempt: f.attempt, at: f.at });
  }
  return {
    project: p.config.name ?? path.basename(p.config.root),
    engine: p.engine,
    dependent: p.fingerprints.chainDependent,
    generatedAt: now.toISOString(),
    maxAttempts: p.config.execution.maxAttempts,
    bookWildcards: p.config.chainWildcards,
    pages: pagesOf(p, plan, attempts, lastError),
    failures,
    failureTotal: log.length,
  };
}

function* pagesOf(p: Project, plan: Plan, attempts: ReturnType<typeof attemptsOf>, lastError: Map<TargetKey, ReportPageInput['lastError']>): Iterable<ReportPageInput> {
  for (const chain of p.index.chains) {
    for (const page of chain.pages) {
      const t = plan.targets.get(page.key)!;
      yield {
        key: page.key,
        book: page.chainId,
        page: page.pageNumber,
        state: t.state,
        output: page.output,
        image: page.image,
        hasPredecessor: p.index.predecessor.has(page.key),
        reasons: t.reasons,
        blockedBy: t.blockedBy,
        detail: t.detail,
        attempts: attempts.get(page.key)?.count ?? 0,
        lastError: lastError.get(page.key) ?? null,
      };
    }
  }
}
