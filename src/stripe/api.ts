import Stripe from "stripe";
import { readStripeApiBase } from "../config";
import { ApiError } from "../errors";
import { log } from "../log";

/**
 * A Stripe API client when `STRIPE_SECRET_KEY` is set, else null (features that need the API are
 * then skipped). Every request goes to STRIPE_API_BASE (Stripe's API by default) through the global
 * `fetch`, so tests stub them at the network edge. A refused STRIPE_API_BASE (plain http to a
 * non-loopback host, …) also gives null, logged as `config_invalid`: the key is never sent there.
 *
 * @example
 * const stripe = createStripeApi(env);
 * if (stripe) await stripe.subscriptions.retrieve("sub_…");
 */
export function createStripeApi(env: Pick<Env, "STRIPE_SECRET_KEY" | "STRIPE_API_BASE">): Stripe | null {
  const key = env.STRIPE_SECRET_KEY?.trim();
  if (!key) return null;
  const base = readStripeApiBase(env);
  if (base instanceof ApiError) {
    log("error", "config_invalid", { message: base.message });
    return null;
  }
  return new Stripe(key, {
    host: base.host,
    port: base.port,
    protocol: base.protocol,
    httpClient: Stripe.createFetchHttpClient((input, init) => fetch(input, init)),
    maxNetworkRetries: 2,
    timeout: 10_000,
  });
}

/**
 * `createStripeApi` for an admin request that cannot work without the API: throws 409
 * `stripe_key_missing` when STRIPE_SECRET_KEY is unset and 500 `config_invalid` when STRIPE_API_BASE
 * is refused, each saying what `purpose` needs. Never repeats a value.
 *
 * @example
 * const stripe = requireStripeApi(c.env, "The backfill reads Stripe's list APIs");
 */
export function requireStripeApi(env: Pick<Env, "STRIPE_SECRET_KEY" | "STRIPE_API_BASE">, purpose: string): Stripe {
  const base = readStripeApiBase(env);
  if (env.STRIPE_SECRET_KEY?.trim() && base instanceof ApiError) throw base;
  const stripe = createStripeApi(env);
  if (!stripe) {
    throw new ApiError(
      "stripe_key_missing",
      `${purpose} with STRIPE_SECRET_KEY, which is not set. Set it (wrangler secret put STRIPE_SECRET_KEY; locally in .dev.vars): a restricted key with read access to Webhook Endpoints, Customers, Subscriptions, Checkout Sessions, Invoices, PaymentIntents and Charges.`,
    );
  }
  return stripe;
}
