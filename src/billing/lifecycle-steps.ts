import { and, eq, type SQL, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type Stripe from "stripe";
import { invoices, subscriptions } from "../db/billing-schema";
import type { HandlerContext } from "../handlers/registry";
import { accountTag } from "./access";
import { lifecycleEvent } from "./lifecycle";
import { customerOf } from "./rows";
import type { Origin } from "./sources";

// The lifecycle transitions of subscriptions and invoices: each a lifecycle event recorded in the
// same transaction as the object's row, only when the object really moves into the state (read
// against the row before this event's change, and never for an event older than the row), and once
// per transition (its ledger id names it).

/** Queues a transition's conditional insert, when there is one. */
export function lifecycleWhen(ctx: HandlerContext, statement: BatchItem<"sqlite"> | null): void {
  if (statement) ctx.emit(statement);
}

/** The row's version is newer than this event's: the event is stale and moves nothing. */
function newerThan(table: typeof subscriptions | typeof invoices, account: string, id: string, created: number): SQL {
  return sql`EXISTS (SELECT 1 FROM ${table} WHERE ${and(eq(table.account, account), eq(table.id, id))}
    AND ${table.lastEventCreated} > ${created})`;
}

function common(ctx: HandlerContext, origin: Origin, object: { id: string; customer?: unknown; customer_account?: unknown }) {
  return {
    account: origin.applied.account,
    customerId: customerOf(object as never),
    objectId: object.id,
    triggerEventId: origin.event.id,
    object,
    livemode: origin.event.livemode === true,
    nowMs: ctx.nowMs,
  };
}

/**
 * `subscription.past_due`, when a subscription moves into `past_due`: not when its row already says
 * `past_due` (a duplicate, a second event about the same failure), nor from an event older than the
 * row. Once per triggering event.
 */
export function pastDue(ctx: HandlerContext, origin: Origin, s: Stripe.Subscription): BatchItem<"sqlite"> | null {
  if (s.status !== "past_due" || !ctx.wants("subscription.past_due")) return null;
  const { account, eventCreated } = origin.applied;
  const already = sql`EXISTS (SELECT 1 FROM ${subscriptions} WHERE ${and(eq(subscriptions.account, account), eq(subscriptions.id, s.id))}
    AND ${subscriptions.status} = 'past_due')`;
  return lifecycleEvent(
    ctx.db,
    { ...common(ctx, origin, s), id: `lc_past_due_${accountTag(account)}_${s.id}_${origin.event.id}`, kind: "subscription.past_due" },
    sql`NOT ${already} AND NOT ${newerThan(subscriptions, account, s.id, eventCreated)}`,
  );
}

/** `subscription.trial_ending`, when Stripe says a trialing subscription's trial ends soon: once per trial end. */
export function trialEnding(ctx: HandlerContext, origin: Origin, s: Stripe.Subscription): BatchItem<"sqlite"> | null {
  if (s.status !== "trialing" || !s.trial_end || !ctx.wants("subscription.trial_ending")) return null;
  const { account, eventCreated } = origin.applied;
  return lifecycleEvent(
    ctx.db,
    { ...common(ctx, origin, s), id: `lc_trial_ending_${accountTag(account)}_${s.id}_${s.trial_end}`, kind: "subscription.trial_ending" },
    sql`NOT ${newerThan(subscriptions, account, s.id, eventCreated)}`,
  );
}

/** `invoice.payment_failed`, once per payment attempt, unless the invoice's row says it was paid since. */
export function paymentFailed(ctx: HandlerContext, origin: Origin, invoice: Stripe.Invoice): BatchItem<"sqlite"> | null {
  if (!invoice.id || !ctx.wants("invoice.payment_failed")) return null;
  const { account, eventCreated } = origin.applied;
  const paid = sql`EXISTS (SELECT 1 FROM ${invoices} WHERE ${and(eq(invoices.account, account), eq(invoices.id, invoice.id))}
    AND ${invoices.status} = 'paid')`;
  return lifecycleEvent(
    ctx.db,
    {
      ...common(ctx, origin, { ...invoice, id: invoice.id }),
      id: `lc_payment_failed_${accountTag(account)}_${invoice.id}_${invoice.attempt_count ?? 0}`,
      kind: "invoice.payment_failed",
    },
    sql`NOT ${paid} AND NOT ${newerThan(invoices, account, invoice.id, eventCreated)}`,
  );
}
