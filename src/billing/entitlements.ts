import { and, desc, eq, inArray, notExists, sql } from "drizzle-orm";
import { charges, checkoutSessions, customers, subscriptions } from "../db/billing-schema";
import type { Database } from "../db/client";

/** Subscription statuses that grant access. */
export const ENTITLING_STATUSES = ["active", "trialing"] as const;

export interface EntitledSubscription {
  id: string;
  status: string;
  priceIds: string[];
  currentPeriodEnd: number | null;
  cancelAtPeriodEnd: boolean;
  trialEnd: number | null;
}

export interface Purchase {
  checkoutSessionId: string;
  amountTotal: number | null;
  currency: string | null;
  paymentIntentId: string | null;
}

/** What a customer is entitled to now, from the billing tables. */
export interface Entitlements {
  customerId: string;
  /** True when the customer has an active or trialing subscription or a paid, unrefunded purchase. */
  entitled: boolean;
  deleted: boolean;
  subscriptions: EntitledSubscription[];
  purchases: Purchase[];
}

/**
 * A customer's entitlements: `active`/`trialing` subscriptions, and one-time Checkout purchases that
 * are paid and not fully refunded. A deleted customer is entitled to nothing.
 *
 * @example
 * const { entitled } = await entitlementsFor(db, "cus_123");
 */
export async function entitlementsFor(db: Database, customerId: string): Promise<Entitlements> {
  const [customer] = await db.select({ deleted: customers.deleted }).from(customers).where(eq(customers.id, customerId));
  const deleted = customer?.deleted === true;

  const subs = await db
    .select()
    .from(subscriptions)
    .where(and(eq(subscriptions.customerId, customerId), inArray(subscriptions.status, [...ENTITLING_STATUSES])))
    .orderBy(desc(subscriptions.currentPeriodEnd));

  const purchases = await db
    .select({
      checkoutSessionId: checkoutSessions.id,
      amountTotal: checkoutSessions.amountTotal,
      currency: checkoutSessions.currency,
      paymentIntentId: checkoutSessions.paymentIntentId,
    })
    .from(checkoutSessions)
    .where(
      and(
        eq(checkoutSessions.customerId, customerId),
        eq(checkoutSessions.mode, "payment"),
        inArray(checkoutSessions.paymentStatus, ["paid", "no_payment_required"]),
        notExists(
          db
            .select({ one: sql`1` })
            .from(charges)
            .where(and(eq(charges.paymentIntentId, checkoutSessions.paymentIntentId), eq(charges.refunded, true))),
        ),
      ),
    );

  const entitledSubs = deleted
    ? []
    : subs.map((s) => ({
        id: s.id,
        status: s.status,
        priceIds: JSON.parse(s.priceIds) as string[],
        currentPeriodEnd: s.currentPeriodEnd ?? null,
        cancelAtPeriodEnd: s.cancelAtPeriodEnd,
        trialEnd: s.trialEnd ?? null,
      }));
  const entitledPurchases = deleted ? [] : purchases;
  return {
    customerId,
    entitled: entitledSubs.length > 0 || entitledPurchases.length > 0,
    deleted,
    subscriptions: entitledSubs,
    purchases: entitledPurchases,
  };
}
