import { WorkerEntrypoint } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { type Entitlements, entitlementsFor } from "../billing/entitlements";
import { subscriptions } from "../db/billing-schema";
import { createDb } from "../db/client";

export interface SubscriptionState {
  id: string;
  status: string;
  priceIds: string[];
  currentPeriodEnd: number | null;
  cancelAtPeriodEnd: boolean;
}

/**
 * Billing state for other Workers, over a service binding (RPC). In the caller's wrangler.toml:
 *
 *   [[services]]
 *   binding = "BILLING"
 *   service = "stripe-webhooks"
 *   entrypoint = "BillingService"
 *
 * Every argument is checked before anything is read: a call with something that is not a Stripe id
 * of the right kind throws a TypeError naming the method and the argument (never echoing it), so a
 * caller's bug (an empty string, an app user id passed as a customer id) fails loudly instead of
 * answering "not entitled".
 *
 * @example
 * const { entitled } = await env.BILLING.entitlements("cus_123");
 */
export class BillingService extends WorkerEntrypoint<Env> {
  /** What the customer is entitled to now: active/trialing subscriptions and paid one-time purchases. */
  async entitlements(customerId: string): Promise<Entitlements> {
    return entitlementsFor(createDb(this.env.DB), stripeId(customerId, "cus_", "entitlements", "customerId"));
  }

  /** One subscription's current state, or null when unknown. */
  async subscription(subscriptionId: string): Promise<SubscriptionState | null> {
    const id = stripeId(subscriptionId, "sub_", "subscription", "subscriptionId");
    const [row] = await createDb(this.env.DB).select().from(subscriptions).where(eq(subscriptions.id, id));
    if (!row) return null;
    return {
      id: row.id,
      status: row.status,
      priceIds: JSON.parse(row.priceIds) as string[],
      currentPeriodEnd: row.currentPeriodEnd ?? null,
      cancelAtPeriodEnd: row.cancelAtPeriodEnd,
    };
  }
}

/** Stripe ids: a prefix, then letters and digits (test-mode Checkout Sessions and a few others add `test_`). */
const STRIPE_ID_BODY = /^[A-Za-z0-9_]{1,250}$/;

/** `value` when it is a Stripe id with `prefix`; else a TypeError naming the method and the argument. */
function stripeId(value: unknown, prefix: string, method: string, argument: string): string {
  if (typeof value === "string" && value.startsWith(prefix) && STRIPE_ID_BODY.test(value.slice(prefix.length))) return value;
  const got = typeof value === "string" ? (value === "" ? "an empty string" : "a string that is not one") : typeof value;
  throw new TypeError(
    `BillingService.${method}: ${argument} must be a Stripe id starting with ${prefix} (e.g. ${prefix}NffrFeUfNV2Hib); got ${got}.`,
  );
}
