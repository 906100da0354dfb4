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
 * @example
 * const { entitled } = await env.BILLING.entitlements("cus_123");
 */
export class BillingService extends WorkerEntrypoint<Env> {
  /** What the customer is entitled to now: active/trialing subscriptions and paid one-time purchases. */
  async entitlements(customerId: string): Promise<Entitlements> {
    return entitlementsFor(createDb(this.env.DB), customerId);
  }

  /** One subscription's current state, or null when unknown. */
  async subscription(subscriptionId: string): Promise<SubscriptionState | null> {
    const [row] = await createDb(this.env.DB).select().from(subscriptions).where(eq(subscriptions.id, subscriptionId));
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
