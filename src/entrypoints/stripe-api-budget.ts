import { DurableObject } from "cloudflare:workers";
import type { BudgetKeeper } from "../stripe/budget";

/** STRIPE_API_RATE counts requests a second. */
const WINDOW_MS = 1_000;
/** How far ahead a slot is handed out: a caller further back in line asks again later. */
const RESERVE_AHEAD_MS = 1_000;

/**
 * The one place that schedules this Worker's Stripe API requests, so that every invocation together
 * (queue consumers running side by side, the cron's recoveries and backfill) stays under
 * STRIPE_API_RATE a second: each request gets its own slot, the slots `1000 / rate` ms apart, and
 * none before the end of a pause after a 429. Evenly spaced, requests reach the API as they were
 * granted, never a second's worth at once: a burst granted at the end of one second and sent a little
 * slower than the next one's could land in the same second at Stripe (measured: 29 at a rate of 20,
 * bench/RESULTS.md "Stripe API rate discipline"). A slot is handed out at most RESERVE_AHEAD_MS
 * ahead, so at most one second of requests is promised when a 429 pauses the rest. One instance
 * (`idFromName("stripe-api")`), in memory only: when it is evicted it has been idle, so no slot was
 * pending anyway.
 */
export class StripeApiBudget extends DurableObject<Env> implements BudgetKeeper {
  /** The earliest time the next slot may be at. */
  #next = 0;
  #pausedUntil = 0;

  async take(rate: number): Promise<{ granted: boolean; waitMs: number }> {
    const now = Date.now();
    const slot = Math.max(now, this.#next, this.#pausedUntil);
    if (slot - now > RESERVE_AHEAD_MS) return { granted: false, waitMs: slot - now - RESERVE_AHEAD_MS };
    this.#next = slot + WINDOW_MS / rate;
    return { granted: true, waitMs: slot - now };
  }

  async pause(untilMs: number): Promise<void> {
    this.#pausedUntil = Math.max(this.#pausedUntil, untilMs);
  }
}
