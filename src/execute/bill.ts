// What a run is billed: every reply's tokens (failed ones too) at the price of the day for the model that
// answered it. Google may answer a retired model's requests with another, billed at that model's price
// while the fingerprint still names the requested one: the first such answer of each model gets a warning.
import { sameModel, todayUtc } from '../cost/models.js';
import { costOf } from '../cost/pricing.js';
import type { Outcome } from '../engines/engine.js';
import { routingWarning } from './model-notes.js';
import type { Project } from './project.js';

export class Bill {
  readonly #p: Project;
  readonly #warned = new Set<string>();
  tokensIn = 0;
  tokensOut = 0;
  /** USD; null once a reply came from a model with no known price. */
  costUsd: number | null = 0;

  constructor(p: Project) {
    this.#p = p;
  }

  /** Adds one reply; returns the warning to show when it came from another model, the first time. */
  add(o: Outcome): string | null {
    const p = this.#p;
    this.tokensIn += o.tokensIn ?? 0;
    this.tokensOut += o.tokensOut ?? 0;
    if (p.engine === 'local') return null;
    const requested = p.config.rule.model;
    const answered = o.modelVersion && !sameModel(requested, o.modelVersion) ? o.modelVersion : null;
    if ((o.tokensIn ?? 0) + (o.tokensOut ?? 0) > 0) {
      const usd = costOf(p.engine, answered ?? requested, o.tokensIn ?? 0, o.tokensOut ?? 0, todayUtc(), p.config.prices);
      this.costUsd = usd === null || this.costUsd === null ? null : this.costUsd + usd;
    }
    if (!answered || this.#warned.has(answered)) return null;
    this.#warned.add(answered);
    return routingWarning(requested, answered, todayUtc());
  }
}
