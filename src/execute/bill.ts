// What a run is billed: every reply's tokens (failed ones too) at the price of the day for the model that
// answered it. Google may answer a retired model's requests with another, billed at that model's price
// while the fingerprint still names the requested one: the first such answer of each model gets a warning.
import { sameModel, todayUtc } from '../cost/models.js';
import { costAt, priceFor, type PriceQuote } from '../cost/pricing.js';
import type { Outcome } from '../engines/engine.js';
import { routingWarning } from './model-notes.js';
import type { Project } from './project.js';

export class Bill {
  readonly #p: Project;
  readonly #warned = new Set<string>();
  readonly #quotes = new Map<string, PriceQuote | null>();
  tokensIn = 0;
  tokensOut = 0;
  /** USD; null once a reply came from a model with no known price. */
  costUsd: number | null = 0;
  /** What replies of the interactive tail cost above the batch price of the same tokens (USD; null: no price). */
  tailExtraUsd: number | null = 0;

  constructor(p: Project) {
    this.#p = p;
  }

  /**
   * Adds one reply, at the prices of the engine that sent it (`engine`: the interactive tail of a Batch
   * build); returns the warning to show when it came from another model, the first time.
   */
  add(o: Outcome, engine: string = this.#p.engine): string | null {
    const p = this.#p;
    this.tokensIn += o.tokensIn ?? 0;
    this.tokensOut += o.tokensOut ?? 0;
    if (p.engine === 'local') return null;
    const requested = p.config.rule.model;
    const answered = o.modelVersion && !sameModel(requested, o.modelVersion) ? o.modelVersion : null;
    if ((o.tokensIn ?? 0) + (o.tokensOut ?? 0) > 0) {
      const today = todayUtc();
      const price = (tier: string) => this.#cost(tier, answered ?? requested, o.tokensIn ?? 0, o.tokensOut ?? 0, today);
      const usd = price(engine);
      this.costUsd = usd === null || this.costUsd === null ? null : this.costUsd + usd;
      if (engine !== p.engine) {
        const batch = price(p.engine);
        this.tailExtraUsd = usd === null || batch === null || this.tailExtraUsd === null ? null : this.tailExtraUsd + usd - batch;
      }
    }
    if (!answered || this.#warned.has(answered)) return null;
    this.#warned.add(answered);
    return routingWarning(requested, answered, todayUtc());
  }

  /** costOf, with each day's quote of a model looked up once (a batch brings a thousand replies at a time). */
  #cost(engine: string, model: string, tokensIn: number, tokensOut: number, today: string): number | null {
    if (engine === 'local') return 0;
    const key = `${engine}\n${model}\n${today}`;
    let quote = this.#quotes.get(key);
    if (quote === undefined) this.#quotes.set(key, (quote = priceFor(model, engine, today, this.#p.config.prices)));
    return quote === null ? null : costAt(quote, tokensIn, tokensOut);
  }
}
