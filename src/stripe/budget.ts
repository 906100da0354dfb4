/**
 * How many Stripe API requests this Worker may send, every invocation together: evenly spaced slots,
 * `rate` a second, kept by one Durable Object (src/entrypoints/stripe-api-budget.ts), which the
 * Stripe client of each invocation asks before every request.
 */
export interface BudgetKeeper {
  /**
   * Grants one request a slot `waitMs` from now (send it then), or, when the next free slot is
   * further ahead than it hands out, says how long to wait before asking again.
   */
  take(rate: number): Promise<{ granted: boolean; waitMs: number }>;
  /** Stripe answered 429: grants nothing before `untilMs`. */
  pause(untilMs: number): Promise<void>;
}

/** How long one request may wait for the budget before the invocation gives up and defers its work. */
export const MAX_WAIT_MS = 10_000;
/** How long everyone pauses after a 429 that names no Retry-After. */
const DEFAULT_PAUSE_MS = 1_000;

/**
 * One invocation's share of the budget: `take()` before each request, `answered(response)` after.
 * Once a request has waited MAX_WAIT_MS, the invocation is `spent`: every later `take()` fails at
 * once, so its remaining events are deferred (sent again later, no attempt spent) instead of piling
 * up waiting or failing towards the dead-letter queue.
 *
 * @example
 * const budget = new ApiBudget(keeper, 10);
 * await budget.take();
 * budget.answered(await fetch(request));
 */
export class ApiBudget {
  readonly #keeper: BudgetKeeper;
  readonly #rate: number;
  readonly #maxWaitMs: number;
  #spent = false;

  constructor(keeper: BudgetKeeper, rate: number, maxWaitMs = MAX_WAIT_MS) {
    this.#keeper = keeper;
    this.#rate = rate;
    this.#maxWaitMs = maxWaitMs;
  }

  /** Whether a request of this invocation gave up waiting for the budget. */
  get spent(): boolean {
    return this.#spent;
  }

  /** Resolves when a request may be sent; throws `BudgetSpent` once this invocation has waited too long. */
  async take(): Promise<void> {
    const started = Date.now();
    while (!this.#spent) {
      const { granted, waitMs } = await this.#keeper.take(this.#rate);
      if (granted) {
        if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
        return;
      }
      if (Date.now() - started + waitMs > this.#maxWaitMs) this.#spent = true;
      else await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
    throw new BudgetSpent();
  }

  /** Pauses every invocation after a 429, for its Retry-After (seconds) or a second. */
  async answered(response: Response): Promise<void> {
    if (response.status !== 429) return;
    const seconds = Number(response.headers.get("retry-after"));
    const pauseMs = Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : DEFAULT_PAUSE_MS;
    await this.#keeper.pause(Date.now() + pauseMs);
  }
}

/** Thrown by `ApiBudget.take` once the invocation's wait for the Stripe API budget ran out. */
export class BudgetSpent extends Error {
  override name = "BudgetSpent";
  constructor() {
    super("The Stripe API budget (STRIPE_API_RATE) was spent for this invocation; the work is deferred.");
  }
}
