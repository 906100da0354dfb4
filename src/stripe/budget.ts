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
 * Requests of one invocation in flight at once. The Workers runtime opens at most six connections at a
 * time per invocation and queues the rest: a request granted its slot but queued there would reach
 * Stripe late, together with later ones (measured: 39 in one second at a rate of 20, bench/RESULTS.md).
 * So a request asks for its slot only once it holds one of these, and is sent when the slot comes.
 */
export const MAX_IN_FLIGHT = 4;

/**
 * One invocation's share of the budget: `take()` before each request (it resolves to the release of
 * the request's turn, to call once its response is read), `answered(response)` after. Once a request
 * has waited MAX_WAIT_MS (for a turn, then for its slot), the invocation is `spent`: every later
 * `take()` fails at once, so its remaining events are deferred (sent again later, no attempt spent)
 * instead of piling up waiting or failing towards the dead-letter queue.
 *
 * @example
 * const budget = new ApiBudget(keeper, 10);
 * const release = await budget.take();
 * try { budget.answered(await fetch(request)); } finally { release(); }
 */
export class ApiBudget {
  readonly #keeper: BudgetKeeper;
  readonly #rate: number;
  readonly #maxWaitMs: number;
  #spent = false;
  #inFlight = 0;
  /** Requests waiting for a turn, first come first served: each is woken with whether it got one. */
  readonly #waiting: ((turn: boolean) => void)[] = [];

  constructor(keeper: BudgetKeeper, rate: number, maxWaitMs = MAX_WAIT_MS) {
    this.#keeper = keeper;
    this.#rate = rate;
    this.#maxWaitMs = maxWaitMs;
  }

  /** Whether a request of this invocation gave up waiting for the budget. */
  get spent(): boolean {
    return this.#spent;
  }

  /**
   * Resolves when a request may be sent, to the function that ends its turn; throws `BudgetSpent` once
   * this invocation has waited too long.
   */
  async take(): Promise<() => void> {
    const started = Date.now();
    if (!(await this.#turn(started))) throw new BudgetSpent();
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.#pass();
    };
    try {
      while (!this.#spent) {
        const { granted, waitMs } = await this.#keeper.take(this.#rate);
        if (granted) {
          if (waitMs > 0) await sleep(waitMs);
          return release;
        }
        if (Date.now() - started + waitMs > this.#maxWaitMs) this.#giveUp();
        else await sleep(waitMs);
      }
    } catch (err) {
      release();
      throw err;
    }
    release();
    throw new BudgetSpent();
  }

  /** Pauses every invocation after a 429, for its Retry-After (seconds) or a second. */
  async answered(response: Response): Promise<void> {
    if (response.status !== 429) return;
    const seconds = Number(response.headers.get("retry-after"));
    const pauseMs = Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : DEFAULT_PAUSE_MS;
    await this.#keeper.pause(Date.now() + pauseMs);
  }

  /** Waits for one of the MAX_IN_FLIGHT turns; false when the invocation is or becomes spent first. */
  async #turn(started: number): Promise<boolean> {
    if (this.#spent) return false;
    if (this.#inFlight < MAX_IN_FLIGHT) {
      this.#inFlight++;
      return true;
    }
    return new Promise<boolean>((resolve) => {
      const wake = (turn: boolean) => {
        clearTimeout(timer);
        resolve(turn);
      };
      const timer = setTimeout(
        () => {
          this.#waiting.splice(this.#waiting.indexOf(wake), 1);
          this.#giveUp();
          resolve(false);
        },
        this.#maxWaitMs - (Date.now() - started),
      );
      this.#waiting.push(wake);
    });
  }

  /** Ends a turn: hands it to the first waiting request, if any. */
  #pass(): void {
    const next = this.#waiting.shift();
    if (next) next(true);
    else this.#inFlight--;
  }

  /** The invocation has waited too long: it and every request still waiting give up. */
  #giveUp(): void {
    this.#spent = true;
    for (const wake of this.#waiting.splice(0)) wake(false);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Thrown by `ApiBudget.take` once the invocation's wait for the Stripe API budget ran out. */
export class BudgetSpent extends Error {
  override name = "BudgetSpent";
  constructor() {
    super("The Stripe API budget (STRIPE_API_RATE) was spent for this invocation; the work is deferred.");
  }
}
