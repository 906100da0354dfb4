import Stripe from "stripe";

/**
 * A Stripe API client when `STRIPE_SECRET_KEY` is set, else null (features that need the API are
 * then skipped). Requests go through the global `fetch`, so tests stub them at the network edge.
 *
 * @example
 * const stripe = createStripeApi(env);
 * if (stripe) await stripe.subscriptions.retrieve("sub_…");
 */
export function createStripeApi(env: Pick<Env, "STRIPE_SECRET_KEY">): Stripe | null {
  const key = env.STRIPE_SECRET_KEY?.trim();
  if (!key) return null;
  return new Stripe(key, {
    httpClient: Stripe.createFetchHttpClient((input, init) => fetch(input, init)),
    maxNetworkRetries: 2,
    timeout: 10_000,
  });
}
