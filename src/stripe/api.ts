import Stripe from "stripe";
import type { StripeApiConfig } from "../config";
import { ApiError } from "../errors";
import { log } from "../log";

/**
 * A Stripe API client when `STRIPE_SECRET_KEY` is set, else null (features that need the API are
 * then skipped). Every request goes to STRIPE_API_BASE (Stripe's API by default) through the global
 * `fetch`, so tests stub them at the network edge. A refused STRIPE_API_BASE (plain http to a
 * non-loopback host, …) also gives null, logged as `config_invalid`: the key is never sent there.
 *
 * @example
 * const stripe = createStripeApi(readConfig(env).stripeApi);
 * if (stripe) await stripe.subscriptions.retrieve("sub_…");
 */
export function createStripeApi(api: StripeApiConfig): Stripe | null {
  if (api.key === null) return null;
  if (api.base instanceof ApiError) {
    log("error", "config_invalid", { message: api.base.message });
    return null;
  }
  return new Stripe(api.key, {
    host: api.base.host,
    port: api.base.port,
    protocol: api.base.protocol,
    httpClient: Stripe.createFetchHttpClient((input, init) => fetch(input, init)),
    maxNetworkRetries: 2,
    timeout: 10_000,
  });
}

/** The HTTP status the Stripe API answered a failed call with; null when it was never reached (network, timeout). */
export function stripeStatus(err: unknown): number | null {
  return err instanceof Stripe.errors.StripeError && typeof err.statusCode === "number" ? err.statusCode : null;
}

/**
 * `createStripeApi` for an admin request that cannot work without the API: throws 409
 * `stripe_key_missing` when STRIPE_SECRET_KEY is unset and 500 `config_invalid` when STRIPE_API_BASE
 * is refused, each saying what `purpose` needs. Never repeats a value.
 *
 * @example
 * const stripe = requireStripeApi(c.var.config.stripeApi, "The backfill reads Stripe's list APIs");
 */
export function requireStripeApi(api: StripeApiConfig, purpose: string): Stripe {
  if (api.key !== null && api.base instanceof ApiError) throw api.base;
  const stripe = createStripeApi(api);
  if (!stripe) {
    throw new ApiError(
      "stripe_key_missing",
      `${purpose} with STRIPE_SECRET_KEY, which is not set. Set it (wrangler secret put STRIPE_SECRET_KEY; locally in .dev.vars): ` +
        "a restricted key with read access to Webhook Endpoints, Customers, Subscriptions, Checkout Sessions, Invoices, " +
        "PaymentIntents and Charges.",
    );
  }
  return stripe;
}
