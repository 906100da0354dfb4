import { and, asc, desc, eq, inArray, notExists, type SQL, sql } from "drizzle-orm";
import {
  activeEntitlements,
  charges,
  checkoutSessions,
  customers,
  entitlementSets,
  type SubscriptionItem,
  subscriptions,
} from "../db/billing-schema";
import type { Database } from "../db/client";
import { entitledSql, entitlingStatuses } from "./access";

/** A customer in its account: `''` for the platform's own, `acct_…` for a connected account's. */
export interface CustomerKey {
  account: string;
  /** A `cus_…` id, or the `acct_…` of an Accounts v2 account acting as the customer. */
  customerId: string;
}

/** How the app reads access: whether a `past_due` subscription still grants it (PAST_DUE_GRANTS_ACCESS). */
export interface AccessPolicy {
  pastDueGrantsAccess: boolean;
}

/** One item of a subscription with the catalogue's names for it (null when the catalogue lacks them). */
export interface PlanItem extends SubscriptionItem {
  /** The product's name: the plan name an app shows. */
  productName: string | null;
  priceLookupKey: string | null;
  priceNickname: string | null;
}

export interface EntitledSubscription {
  id: string;
  status: string;
  priceIds: string[];
  /** Every item, with plan names from the catalogue. */
  items: PlanItem[];
  /** False when the subscription has more items than its event carried and none could be listed. */
  itemsComplete: boolean;
  /** The names of the subscription's products, one per product, in item order. */
  plans: string[];
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
  /** The connected account the customer belongs to, or null for the platform's own. */
  account: string | null;
  /**
   * True when the customer is not deleted and has an entitling subscription (`active`, `trialing`, and
   * `past_due` with PAST_DUE_GRANTS_ACCESS), a paid and not fully refunded one-time purchase, or an
   * active Stripe entitlement.
   */
  entitled: boolean;
  deleted: boolean;
  subscriptions: EntitledSubscription[];
  purchases: Purchase[];
  /** The `lookup_key`s of the customer's active Stripe Entitlements (features), sorted. */
  features: string[];
  /** False when Stripe said there were more entitlements than its summary carried and none could be listed. */
  featuresComplete: boolean;
}

/**
 * A customer's entitlements in one round trip: its entitling subscriptions with their plan names,
 * one-time Checkout purchases that are paid and not fully refunded, and the lookup keys of its active
 * Stripe Entitlements. `entitled` is `entitledSql`, the definition the access lifecycle hooks use.
 * A deleted customer is entitled to nothing. Every read is a primary key or index lookup in the
 * customer's account.
 *
 * @example
 * const { entitled, features } = await entitlementsFor(db, { account: "", customerId: "cus_123" }, { pastDueGrantsAccess: true });
 */
export async function entitlementsFor(db: Database, key: CustomerKey, policy: AccessPolicy): Promise<Entitlements> {
  const { account, customerId } = key;
  const statuses = entitlingStatuses(policy.pastDueGrantsAccess);
  const ofSubscriptions = and(
    eq(subscriptions.account, account),
    eq(subscriptions.customerId, customerId),
    inArray(subscriptions.status, statuses),
  );
  const [[customer], subs, names, purchases, features, [set], [flag]] = await db.batch([
    db
      .select({ deleted: customers.deleted })
      .from(customers)
      .where(and(eq(customers.account, account), eq(customers.id, customerId))),
    db.select().from(subscriptions).where(ofSubscriptions).orderBy(desc(subscriptions.currentPeriodEnd)),
    planNamesQuery(db, ofSubscriptions),
    db
      .select({
        checkoutSessionId: checkoutSessions.id,
        amountTotal: checkoutSessions.amountTotal,
        currency: checkoutSessions.currency,
        paymentIntentId: checkoutSessions.paymentIntentId,
      })
      .from(checkoutSessions)
      .where(
        and(
          eq(checkoutSessions.account, account),
          eq(checkoutSessions.customerId, customerId),
          eq(checkoutSessions.mode, "payment"),
          inArray(checkoutSessions.paymentStatus, ["paid", "no_payment_required"]),
          notExists(
            db
              .select({ one: sql`1` })
              .from(charges)
              .where(
                and(
                  eq(charges.account, account),
                  eq(charges.paymentIntentId, checkoutSessions.paymentIntentId),
                  eq(charges.refunded, true),
                ),
              ),
          ),
        ),
      ),
    db
      .select({ lookupKey: activeEntitlements.lookupKey })
      .from(activeEntitlements)
      .where(and(eq(activeEntitlements.account, account), eq(activeEntitlements.customerId, customerId)))
      .orderBy(asc(activeEntitlements.lookupKey)),
    db
      .select({ complete: entitlementSets.complete })
      .from(entitlementSets)
      .where(and(eq(entitlementSets.account, account), eq(entitlementSets.customerId, customerId))),
    db.select({ entitled: entitledSql(account, customerId, policy.pastDueGrantsAccess) }).from(sql`(SELECT 1)`),
  ]);

  const deleted = customer?.deleted === true;
  const entitledSubs = deleted
    ? []
    : subs.map((s) => {
        const items = planItems(s.items, names);
        return {
          id: s.id,
          status: s.status,
          priceIds: JSON.parse(s.priceIds) as string[],
          items,
          itemsComplete: s.itemsComplete,
          plans: [...new Set(items.map((i) => i.productName).filter((n): n is string => n !== null))],
          currentPeriodEnd: s.currentPeriodEnd ?? null,
          cancelAtPeriodEnd: s.cancelAtPeriodEnd,
          trialEnd: s.trialEnd ?? null,
        };
      });
  return {
    customerId,
    account: account === "" ? null : account,
    entitled: flag?.entitled === 1,
    deleted,
    subscriptions: entitledSubs,
    purchases: deleted ? [] : purchases,
    features: deleted ? [] : features.map((f) => f.lookupKey),
    featuresComplete: set?.complete ?? true,
  };
}

/** A row of `planNamesQuery`: the catalogue's names for one price and its product. */
export interface PlanName {
  productId: string | null;
  productName: string | null;
  priceId: string | null;
  lookupKey: string | null;
  nickname: string | null;
}

/**
 * The catalogue's names for every item of the subscriptions `where` selects, in one read: the items'
 * JSON walked with json_each, each joined to its product and price by primary key in the
 * subscription's account.
 *
 * @example
 * const [rows, names] = await db.batch([db.select().from(subscriptions).where(w), planNamesQuery(db, w)]);
 */
export function planNamesQuery(db: Database, where: SQL | undefined) {
  const item = (field: string) => sql<string | null>`json_extract(item.value, ${`$.${field}`})`;
  // A raw statement with parameters cannot join a D1 batch in drizzle: this is a select over SQL
  // instead. Every column has its own name: in a batch, drizzle maps D1's rows by column name, and two
  // unnamed `json_extract(…)` columns would collapse into one.
  return db
    .selectDistinct({
      productId: item("productId").as("item_product_id"),
      productName: sql<string | null>`p.name`.as("product_name"),
      priceId: item("priceId").as("item_price_id"),
      lookupKey: sql<string | null>`pr.lookup_key`.as("price_lookup_key"),
      nickname: sql<string | null>`pr.nickname`.as("price_nickname"),
    })
    .from(
      sql`${subscriptions}, json_each(${subscriptions.items}) item
        LEFT JOIN products p ON p.account = ${subscriptions.account} AND p.id = ${item("productId")}
        LEFT JOIN prices pr ON pr.account = ${subscriptions.account} AND pr.id = ${item("priceId")}`,
    )
    .where(where);
}

/** A subscription row's `items` JSON with the catalogue's names from `planNamesQuery`. */
export function planItems(itemsJson: string, names: readonly PlanName[]): PlanItem[] {
  const byPrice = new Map(names.map((n) => [n.priceId, n]));
  const byProduct = new Map(names.map((n) => [n.productId, n.productName]));
  return (JSON.parse(itemsJson) as SubscriptionItem[]).map((i) => ({
    ...i,
    productName: byProduct.get(i.productId) ?? null,
    priceLookupKey: byPrice.get(i.priceId)?.lookupKey ?? null,
    priceNickname: byPrice.get(i.priceId)?.nickname ?? null,
  }));
}
