import { DurableObject } from "cloudflare:workers";
import type { BudgetKeeper } from "../stripe/budget";

/** The window STRIPE_API_RATE counts requests in. */
const WINDOW_MS = 1_000;

/**
 * The one place that counts this Worker's Stripe API requests, so that every invocation together
 * (queue consumers running side by side, the cron's recoveries and backfill) stays under
 * STRIPE_API_RATE a second: a sliding window of the grants of the last second, and a pause after a
 * 429. One instance (`idFromName("stripe-api")`), in memory only: when it is evicted it has been
 * idle, so its window was empty anyway.
 */
export class StripeApiBudget extends DurableObject<Env> implements BudgetKeeper {
  /** Times of the grants of the last WINDOW_MS, oldest first. */
  #grants: number[] = [];
  #pausedUntil = 0;

  async take(rate: number): Promise<{ granted: boolean; waitMs: number }> {
    const now = Date.now();
    if (now < this.#pausedUntil) return { granted: false, waitMs: this.#pausedUntil - now };
    while (this.#grants.length > 0 && this.#grants[0]! <= now - WINDOW_MS) this.#grants.shift();
    if (this.#grants.length < rate) {
      this.#grants.push(now);
      return { granted: true, waitMs: 0 };
    }
    // The next grant is possible once the grant `rate` places back has left the window.
    return { granted: false, waitMs: Math.max(1, this.#grants[this.#grants.length - rate]! + WINDOW_MS - now) };
  }

  async pause(untilMs: number): Promise<void> {
    this.#pausedUntil = Math.max(this.#pausedUntil, untilMs);
  }
}
