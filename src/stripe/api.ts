import Stripe from "stripe";
import { type Config, type ConfigProblem, problemWith } from "../config";
import { ApiError } from "../errors";
import { log } from "../log";
import { type ApiBudget, MAX_WAIT_MS } from "./budget";

/** How long one request to the Stripe API may take, from the moment the budget lets it go. */
const REQUEST_TIMEOUT_MS = 10_000;

/**
 * A Stripe API client when `STRIPE_SECRET_KEY` is set, else null (features that need the API are
 * then skipped). Every request goes to STRIPE_API_BASE (Stripe's API by default) through the global
 * `fetch`, so tests stub them at the network edge; with a `budget`, each request first waits for its
 * turn under STRIPE_API_RATE, and a 429 pauses everyone. Redirects are refused (answered as the 3xx
 * they are): the key is only ever sent where it was configured to go. A refused STRIPE_API_BASE (plain
 * http to a non-loopback host, …) also gives null, logged as `config_invalid`. The Worker makes one
 * per invocation (src/deps.ts), on first use.
 *
 * @example
 * const stripe = createStripeApi(readConfig(env), budget);
 * if (stripe) await stripe.subscriptions.retrieve("sub_…");
 */
export function createStripeApi(config: Config, budget: ApiBudget | null = null): Stripe | null {
  const { key, base } = config.stripeApi;
  if (key === null) return null;
  const refused = refusedApiConfig(config);
  if (refused || base === null) {
    log("error", "config_invalid", { message: refused?.message });
    return null;
  }
  return new Stripe(key, {
    host: base.host,
    port: base.port,
    protocol: base.protocol,
    httpClient: Stripe.createFetchHttpClient(async (input, init) => {
      const release = await budget?.take();
      try {
        // The request's own timeout starts once its turn has come (the SDK's covers the wait too).
        const signal = AbortSignal.any([init?.signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)].filter((s) => s != null));
        const response = await fetch(input, { ...init, signal, redirect: "manual" });
        await budget?.answered(response);
        // The SDK would read a 3xx as a success with an empty object; the key goes nowhere else.
        if (response.status >= 300 && response.status < 400) {
          await response.body?.cancel();
          throw new Error(`The Stripe API answered a redirect (${response.status}), which is never followed.`);
        }
        // Read whole before the turn ends, so that the connection is free for the next request.
        const body = await response.arrayBuffer();
        return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
      } finally {
        release?.();
      }
    }),
    maxNetworkRetries: 2,
    // The wait for the budget (at most MAX_WAIT_MS and one slot ahead) and the request itself.
    timeout: MAX_WAIT_MS + 1_000 + REQUEST_TIMEOUT_MS,
  });
}

/** The HTTP status the Stripe API answered a failed call with; null when it was never reached (network, timeout). */
export function stripeStatus(err: unknown): number | null {
  return err instanceof Stripe.errors.StripeError && typeof err.statusCode === "number" ? err.statusCode : null;
}

/** Whether an API call failed because the object does not exist (deleted, or not visible to this key). */
export function isNotFound(err: unknown): boolean {
  return stripeStatus(err) === 404;
}

/**
 * The invocation's client for an admin request that cannot work without the API: throws 409
 * `stripe_key_missing` when STRIPE_SECRET_KEY is unset and 500 `config_invalid` when STRIPE_API_BASE
 * is refused, each saying what `purpose` needs. Never repeats a value.
 *
 * @example
 * const stripe = requireStripeApi(deps, "The backfill reads Stripe's list APIs");
 */
export function requireStripeApi(deps: { config: Config; stripe: Stripe | null }, purpose: string): Stripe {
  if (deps.stripe) return deps.stripe;
  const refused = refusedApiConfig(deps.config);
  if (refused) throw new ApiError(refused.code, refused.message);
  throw new ApiError(
    "stripe_key_missing",
    `${purpose} with STRIPE_SECRET_KEY, which is not set. Set it (wrangler secret put STRIPE_SECRET_KEY; locally in .dev.vars): ` +
      "a restricted key with read access to Webhook Endpoints, Customers, Subscriptions, Checkout Sessions, Invoices, " +
      "PaymentIntents and Charges.",
  );
}

/**
 * Why there is no Stripe API client for thin events, for `last_error` and `/health`: the variable to
 * fix and what to do next. Never repeats a value.
 *
 * @example
 * if (!deps.stripe) return park(noApiClientReason(deps.config));
 */
export function noApiClientReason(config: Config): string {
  const refused = refusedApiConfig(config);
  if (refused) {
    return (
      `A thin event's data must be fetched from the Stripe API, but ${refused.message} ` +
      "Fix it, then replay this event (it was parked, not retried)."
    );
  }
  return (
    "STRIPE_SECRET_KEY is not set: a thin event carries no data, which must be fetched from the Stripe API with a key. " +
    "Set it (wrangler secret put STRIPE_SECRET_KEY; " +
    "a restricted key with read access to Events and the objects your handlers fetch), " +
    "then replay this event (it was parked, not retried)."
  );
}

/** Why a set STRIPE_SECRET_KEY is not used: a refused STRIPE_API_BASE, or a key of the other mode; null when neither. */
function refusedApiConfig(config: Config): ConfigProblem | null {
  if (config.stripeApi.key === null) return null;
  return problemWith(config, "STRIPE_API_BASE") ?? problemWith(config, "STRIPE_SECRET_KEY");
}
