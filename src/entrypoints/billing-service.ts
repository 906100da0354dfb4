import { WorkerEntrypoint } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { entitlementsForUser, type UserEntitlements } from "../billing/app-users";
import { type AccessPolicy, type Entitlements, entitlementsFor, type PlanItem, planItems, planNamesQuery } from "../billing/entitlements";
import { readConfig } from "../config";
import { subscriptions } from "../db/billing-schema";
import { createDb, type Database } from "../db/client";

export type { Entitlements, PlanItem, UserEntitlements };

export interface SubscriptionState {
  id: string;
  /** The customer (`cus_…`, or the `acct_…` of an Accounts v2 customer). */
  customerId: string;
  status: string;
  priceIds: string[];
  /** Every item as kept (price, product, quantity). */
  items: PlanItem[];
  itemsComplete: boolean;
  currentPeriodEnd: number | null;
  cancelAtPeriodEnd: boolean;
}

/** Where to look: `account` is a connected account's `acct_…`; absent means the platform's own objects. */
export interface Scope {
  account?: string;
}

/**
 * Billing state for other Workers, over a service binding (RPC). In the caller's wrangler.toml:
 *
 *   [[services]]
 *   binding = "BILLING"
 *   service = "stripe-webhooks"
 *   entrypoint = "BillingService"
 *
 * Every lookup is scoped to one account: the platform's unless `{ account: "acct_…" }` names a
 * connected account, so one connected account's customer never answers for another's. A customer is
 * a `cus_…` id, or the `acct_…` of an Accounts v2 account acting as the customer.
 *
 * Every argument is checked before anything is read: a call with something that is not a Stripe id
 * of the right kind throws a TypeError naming the method and the argument (never echoing it), so a
 * caller's bug (an empty string, an app user id passed as a customer id) fails loudly instead of
 * answering "not entitled". The methods check synchronously and return the read's promise: thrown
 * there, the TypeError reaches the caller only, instead of also surfacing as an unhandled rejection
 * in this Worker.
 *
 * @example
 * const { entitled, features, subscriptions } = await env.BILLING.entitlements("cus_123");
 * if (await env.BILLING.hasFeature("cus_123", "api_access")) { … }
 * const user = await env.BILLING.forUser("user_42"); // linked by client_reference_id or metadata
 */
export class BillingService extends WorkerEntrypoint<Env> {
  /** What the customer is entitled to now: subscriptions (with plan names), purchases and features. */
  entitlements(customerId: string, scope?: Scope): Promise<Entitlements> {
    const key = { account: accountOf(scope, "entitlements"), customerId: customerOf(customerId, "entitlements") };
    return entitlementsFor(this.db(), key, this.policy());
  }

  /** The lookup keys of the customer's active Stripe Entitlements (its features), sorted. */
  features(customerId: string, scope?: Scope): Promise<string[]> {
    return this.entitlements(customerId, scope).then((e) => e.features);
  }

  /** Whether the customer has the feature with this `lookup_key` among its active Stripe Entitlements. */
  hasFeature(customerId: string, lookupKey: string, scope?: Scope): Promise<boolean> {
    const wanted = text(lookupKey, 200, "hasFeature", "lookupKey");
    return this.features(customerId, scope).then((features) => features.includes(wanted));
  }

  /**
   * What the app's user is entitled to, found through the Checkout Session's `client_reference_id` or
   * the APP_USER_METADATA_KEY metadata of its customer or subscription: the same answer as for its
   * customer; `conflict` when the user id is linked to several customers (each one's rights count).
   */
  forUser(appUserId: string, scope?: Scope): Promise<UserEntitlements> {
    const user = text(appUserId, 500, "forUser", "appUserId");
    return entitlementsForUser(this.db(), accountOf(scope, "forUser"), user, this.policy());
  }

  /** One subscription's current state, or null when unknown. */
  subscription(subscriptionId: string, scope?: Scope): Promise<SubscriptionState | null> {
    const id = stripeId(subscriptionId, ["sub_"], "subscription", "subscriptionId");
    return this.readSubscription(id, accountOf(scope, "subscription"));
  }

  private async readSubscription(id: string, account: string): Promise<SubscriptionState | null> {
    const db = this.db();
    const where = and(eq(subscriptions.account, account), eq(subscriptions.id, id));
    const [[row], names] = await db.batch([db.select().from(subscriptions).where(where), planNamesQuery(db, where)]);
    if (!row) return null;
    return {
      id: row.id,
      customerId: row.customerId,
      status: row.status,
      priceIds: JSON.parse(row.priceIds) as string[],
      items: planItems(row.items, names),
      itemsComplete: row.itemsComplete,
      currentPeriodEnd: row.currentPeriodEnd ?? null,
      cancelAtPeriodEnd: row.cancelAtPeriodEnd,
    };
  }

  private db(): Database {
    return createDb(this.env.DB);
  }

  private policy(): AccessPolicy {
    return { pastDueGrantsAccess: readConfig(this.env).pastDueGrantsAccess };
  }
}

/** Stripe ids: a prefix, then letters and digits (test-mode Checkout Sessions and a few others add `test_`). */
const STRIPE_ID_BODY = /^[A-Za-z0-9_]{1,250}$/;

/** `value` when it is a Stripe id with one of `prefixes`; else a TypeError naming the method and the argument. */
function stripeId(value: unknown, prefixes: string[], method: string, argument: string): string {
  if (typeof value === "string" && prefixes.some((p) => value.startsWith(p) && STRIPE_ID_BODY.test(value.slice(p.length)))) return value;
  const got = typeof value === "string" ? (value === "" ? "an empty string" : "a string that is not one") : typeof value;
  throw new TypeError(
    `BillingService.${method}: ${argument} must be a Stripe id starting with ${prefixes.join(" or ")} ` +
      `(e.g. ${prefixes[0]}NffrFeUfNV2Hib); got ${got}.`,
  );
}

/** A customer: `cus_…`, or the `acct_…` of an Accounts v2 account acting as one. */
function customerOf(value: unknown, method: string): string {
  return stripeId(value, ["cus_", "acct_"], method, "customerId");
}

/** The account of a scope: `''` (the platform) when absent, else a checked `acct_…`. */
function accountOf(scope: Scope | undefined, method: string): string {
  if (scope === undefined || scope === null || scope.account === undefined) return "";
  return stripeId(scope.account, ["acct_"], method, "scope.account");
}

/** A non-blank string of at most `max` characters; else a TypeError naming the argument. */
function text(value: unknown, max: number, method: string, argument: string): string {
  if (typeof value === "string" && value.trim() !== "" && value.length <= max) return value.trim();
  throw new TypeError(`BillingService.${method}: ${argument} must be a non-blank string of at most ${max} characters.`);
}
