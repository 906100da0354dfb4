import { and, eq, notInArray, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type Stripe from "stripe";
import { activeEntitlements, entitlementSets } from "../db/billing-schema";
import { conditionalInsert } from "../db/client";
import type { HandlerContext } from "../handlers/registry";
import type { Origin } from "./sources";

/** An active entitlement summary as Stripe sends it (`entitlements.active_entitlement_summary`). */
export interface EntitlementSummary {
  customer: string;
  livemode?: boolean;
  entitlements: { data: Stripe.Entitlements.ActiveEntitlement[]; has_more: boolean };
}

/**
 * Every active entitlement of a customer: the summary's (at most 10), and, when it says `has_more`,
 * the whole list from `GET /v1/entitlements/active_entitlements` through the invocation's Stripe
 * client (and so its rate budget). Null for the rest when there is no client: the set is then
 * recorded as incomplete.
 *
 * @example
 * const { entitlements, complete } = await allEntitlements(summary, ctx.stripe);
 */
export async function allEntitlements(
  summary: EntitlementSummary,
  stripe: Stripe | null,
): Promise<{ entitlements: Stripe.Entitlements.ActiveEntitlement[]; complete: boolean }> {
  if (!summary.entitlements.has_more) return { entitlements: summary.entitlements.data, complete: true };
  if (!stripe) return { entitlements: summary.entitlements.data, complete: false };
  return { entitlements: await listActiveEntitlements(stripe, summary.customer), complete: true };
}

/**
 * A customer's active entitlements, listed to the end from `GET /v1/entitlements/active_entitlements`
 * (pages of 100) with `stripe`: the invocation's client, acting as the customer's account.
 *
 * @example
 * const entitlements = await listActiveEntitlements(stripe, "cus_123");
 */
export async function listActiveEntitlements(stripe: Stripe, customer: string): Promise<Stripe.Entitlements.ActiveEntitlement[]> {
  const all: Stripe.Entitlements.ActiveEntitlement[] = [];
  let startingAfter: string | undefined;
  for (;;) {
    const page = await stripe.entitlements.activeEntitlements.list({
      customer,
      limit: 100,
      ...(startingAfter ? { starting_after: startingAfter } : {}),
    });
    all.push(...page.data);
    if (!page.has_more || page.data.length === 0) return all;
    startingAfter = page.data.at(-1)!.id;
  }
}

/**
 * Replaces a customer's set of active entitlements with `entitlements`, unless the set was last
 * written by a newer event (the same ordering rule as every projection): the version row in
 * `entitlement_sets` is upserted under that guard first, and the set's rows are changed only if the
 * version row now names this event, in the same transaction. Rows that did not change write nothing.
 *
 * @example
 * for (const statement of replaceEntitlements(ctx, origin, customer, entitlements, true)) ctx.write(statement);
 */
export function replaceEntitlements(
  ctx: Pick<HandlerContext, "db">,
  origin: Pick<Origin, "applied">,
  customerId: string,
  entitlements: readonly Stripe.Entitlements.ActiveEntitlement[],
  complete: boolean,
  livemode: boolean,
): BatchItem<"sqlite">[] {
  const { db } = ctx;
  const { account, eventId, eventCreated, nowMs } = origin.applied;
  const ofCustomer = and(eq(activeEntitlements.account, account), eq(activeEntitlements.customerId, customerId));
  // True once the guarded upsert below let this event's version in.
  const applied = sql`(SELECT ${entitlementSets.lastEventId} FROM ${entitlementSets}
    WHERE ${entitlementSets.account} = ${account} AND ${entitlementSets.customerId} = ${customerId}) = ${eventId}`;
  const byFeature = new Map(entitlements.map((e) => [featureOf(e), e]));
  return [
    db
      .insert(entitlementSets)
      .values({ account, customerId, complete, livemode, lastEventCreated: eventCreated, lastEventId: eventId, updatedAt: nowMs })
      .onConflictDoUpdate({
        target: [entitlementSets.account, entitlementSets.customerId],
        set: { complete, livemode, lastEventCreated: eventCreated, lastEventId: eventId, updatedAt: nowMs },
        setWhere: sql`excluded.last_event_created >= ${entitlementSets.lastEventCreated}`,
      }),
    db
      .delete(activeEntitlements)
      .where(and(ofCustomer, byFeature.size > 0 ? notInArray(activeEntitlements.featureId, [...byFeature.keys()]) : undefined, applied)),
    ...[...byFeature].map(([featureId, e]) =>
      conditionalInsert(
        db,
        activeEntitlements,
        { account, customerId, featureId, lookupKey: e.lookup_key, entitlementId: e.id },
        applied,
      ).onConflictDoUpdate({
        target: [activeEntitlements.account, activeEntitlements.customerId, activeEntitlements.featureId],
        set: { lookupKey: sql`excluded.lookup_key`, entitlementId: sql`excluded.entitlement_id` },
        setWhere: sql`${activeEntitlements.lookupKey} IS NOT excluded.lookup_key
          OR ${activeEntitlements.entitlementId} IS NOT excluded.entitlement_id`,
      }),
    ),
  ];
}

/** An entitlement's feature id, whether Stripe sent the id or the expanded feature. */
function featureOf(e: Stripe.Entitlements.ActiveEntitlement): string {
  return typeof e.feature === "string" ? e.feature : e.feature.id;
}
