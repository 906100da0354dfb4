import { and, eq, type SQL, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { accessStates } from "../db/billing-schema";
import { conditionalInsert, type Database } from "../db/client";
import { lifecycleEvent } from "./lifecycle";

/** Subscription statuses that grant access; `past_due` too with PAST_DUE_GRANTS_ACCESS. */
export function entitlingStatuses(pastDueGrantsAccess: boolean): string[] {
  return pastDueGrantsAccess ? ["active", "trialing", "past_due"] : ["active", "trialing"];
}

/**
 * Whether a customer has access now, in SQL, from the billing tables as they stand at that point of
 * the transaction: not deleted, and an entitling subscription, a paid and not fully refunded one-time
 * Checkout purchase, or an active Stripe entitlement. The one definition of access: the lifecycle
 * transitions and `entitlementsFor` both use it.
 *
 * @example
 * db.select({ entitled: entitledSql("", "cus_123", true) }).from(sql`(SELECT 1)`);
 */
export function entitledSql(account: string, customerId: string, pastDueGrantsAccess: boolean): SQL<number> {
  const statuses = sql.join(
    entitlingStatuses(pastDueGrantsAccess).map((s) => sql`${s}`),
    sql`, `,
  );
  return sql<number>`(
    NOT EXISTS (SELECT 1 FROM customers WHERE account = ${account} AND id = ${customerId} AND deleted = 1)
    AND (
      EXISTS (SELECT 1 FROM subscriptions WHERE account = ${account} AND customer_id = ${customerId} AND status IN (${statuses}))
      OR EXISTS (
        SELECT 1 FROM checkout_sessions cs
        WHERE cs.account = ${account} AND cs.customer_id = ${customerId} AND cs.mode = 'payment'
          AND cs.payment_status IN ('paid', 'no_payment_required')
          AND NOT EXISTS (
            SELECT 1 FROM charges c WHERE c.account = cs.account AND c.payment_intent_id = cs.payment_intent_id AND c.refunded = 1
          )
      )
      OR EXISTS (SELECT 1 FROM active_entitlements WHERE account = ${account} AND customer_id = ${customerId})
    )
  )`;
}

/** What recomputing one customer's access needs. */
export interface AccessTarget {
  account: string;
  customerId: string;
  pastDueGrantsAccess: boolean;
  /** The event whose processing changed the customer's billing state. */
  triggerEventId: string;
  livemode: boolean;
  nowMs: number;
  /** Which transitions have hooks: only those become lifecycle events (both are still tracked). */
  granted: boolean;
  revoked: boolean;
}

/**
 * The statements that notice a change of a customer's access, to run after the statements that
 * change its billing state, in the same transaction: a lifecycle event `access.granted` or
 * `access.revoked`, numbered by the customer's next transition (so a duplicated or reordered delivery
 * that changes nothing records nothing, and a retry records the same one), then the new state in
 * `access_states`. Write nothing unless access changed.
 *
 * @example
 * for (const statement of accessTransitions(db, target)) ctx.emit(statement);
 */
export function accessTransitions(db: Database, t: AccessTarget): BatchItem<"sqlite">[] {
  const now = entitledSql(t.account, t.customerId, t.pastDueGrantsAccess);
  const state = and(eq(accessStates.account, t.account), eq(accessStates.customerId, t.customerId));
  const stored = sql`coalesce((SELECT entitled FROM ${accessStates} WHERE ${state}), 0)`;
  const generation = sql`coalesce((SELECT generation FROM ${accessStates} WHERE ${state}), 0) + 1`;
  const wanted = [t.granted ? sql`${now} = 1` : null, t.revoked ? sql`${now} = 0` : null].filter((c): c is SQL => c !== null);
  const statements: BatchItem<"sqlite">[] = [];
  if (wanted.length > 0) {
    statements.push(
      lifecycleEvent(
        db,
        {
          id: sql`'lc_access_' || ${accountTag(t.account)} || '_' || ${t.customerId} || '_' || (${generation})`,
          kind: sql`CASE WHEN ${now} = 1 THEN 'access.granted' ELSE 'access.revoked' END`,
          account: t.account,
          customerId: t.customerId,
          objectId: t.customerId,
          triggerEventId: t.triggerEventId,
          livemode: t.livemode,
          nowMs: t.nowMs,
        },
        sql`${now} != ${stored} AND (${sql.join(wanted, sql` OR `)})`,
      ),
    );
  }
  statements.push(
    conditionalInsert(
      db,
      accessStates,
      { account: t.account, customerId: t.customerId, entitled: true, generation: 1, changedAt: t.nowMs },
      sql`${now} = 1`,
    ).onConflictDoUpdate({
      target: [accessStates.account, accessStates.customerId],
      set: { entitled: true, generation: sql`${accessStates.generation} + 1`, changedAt: t.nowMs },
      setWhere: sql`${accessStates.entitled} = 0`,
    }),
    db
      .update(accessStates)
      .set({ entitled: false, generation: sql`${accessStates.generation} + 1`, changedAt: t.nowMs })
      .where(and(state, eq(accessStates.entitled, true), sql`${now} = 0`)),
  );
  return statements;
}

/** An account as the part of a lifecycle event's id: `p` for the platform, else its `acct_…`. */
export function accountTag(account: string): string {
  return account === "" ? "p" : account;
}
