import type Stripe from "stripe";
import { type Config, readConfig } from "./config";
import { createDb, type Database } from "./db/client";
import type { Handlers } from "./handlers/registry";
import type { EventMessage } from "./ledger/event";
import { createStripeApi } from "./stripe/api";
import { ApiBudget } from "./stripe/budget";

/**
 * What one invocation of the Worker works with (a request, a queue batch, a cron tick), built once by
 * src/worker.ts and handed down: nothing below it reads `env` for its configuration or builds its
 * own client. Tests build one with other bindings, a fixed clock or their own handlers.
 */
export interface Deps {
  /** The bindings, for what has no field here (a handler's own secrets, the rate limiters). */
  readonly env: Env;
  /** The variables and secrets as plain values, with the list of refused ones. */
  readonly config: Config;
  readonly db: Database;
  /**
   * This invocation's Stripe API client: null when STRIPE_SECRET_KEY is unset or STRIPE_API_BASE is
   * refused. Made on first use, so a delivery (which never calls Stripe) never pays for one.
   */
  readonly stripe: Stripe | null;
  /**
   * This invocation's share of STRIPE_API_RATE, which the Stripe client waits on before each request;
   * `spent` once a request waited too long (the consumer then defers what is left).
   */
  readonly stripeBudget: ApiBudget;
  /** The events queue. */
  readonly queue: Queue<EventMessage>;
  /** The R2 bucket retention archives final events to (ARCHIVE); null when none is bound. */
  readonly archive: R2Bucket | null;
  /** The clock, Unix ms. */
  readonly now: () => number;
  /** The registered event handlers and fulfilment hooks. */
  readonly handlers: Handlers;
}

/**
 * Builds an invocation's dependencies from its bindings. Parsing the configuration and wrapping D1
 * are cached per binding object, so this costs a few property reads per request.
 *
 * @example
 * const deps = createDeps(env, { handlers, now: Date.now });
 * await consumeEvents(batch, deps);
 */
export function createDeps(env: Env, options: { handlers: Handlers; now: () => number }): Deps {
  const config = readConfig(env);
  let stripe: Stripe | null | undefined;
  let budget: ApiBudget | undefined;
  const stripeBudget = () => {
    budget ??= new ApiBudget(env.STRIPE_API_BUDGET.get(env.STRIPE_API_BUDGET.idFromName("stripe-api")), config.stripeApiRate);
    return budget;
  };
  return {
    env,
    config,
    db: createDb(env.DB),
    get stripe() {
      if (stripe === undefined) stripe = createStripeApi(config, stripeBudget());
      return stripe;
    },
    get stripeBudget() {
      return stripeBudget();
    },
    queue: env.EVENTS_QUEUE,
    archive: env.ARCHIVE ?? null,
    now: options.now,
    handlers: options.handlers,
  };
}
