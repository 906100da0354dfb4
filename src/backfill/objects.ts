import type Stripe from "stripe";
import type { ProjectedTable, RowOf } from "../billing/project";
import { type AppliedBy, rows } from "../billing/rows";
import { charges, checkoutSessions, customers, invoices, paymentIntents, subscriptions } from "../db/billing-schema";

/** One page of a Stripe list API: the objects and whether more follow the last one. */
export interface ListPage {
  data: { id: string }[];
  has_more: boolean;
}

/** What the backfill needs to import one kind of object: its list call, its table, and its row mapping. */
export interface BackfillSource {
  /** `GET /v1/…` with `limit` and `starting_after`, in Stripe's list order (newest first). */
  list(stripe: Stripe, page: { limit: number; starting_after?: string }): Promise<ListPage>;
  table: ProjectedTable;
  /** The same mapping the event handlers use (src/billing/rows.ts). */
  toRow(object: never, by: AppliedBy): RowOf<ProjectedTable>;
}

/**
 * The object types a backfill imports, in the order it imports them: each is the current state of
 * every object of that type in the account (the platform's own; connected accounts are not listed).
 * Subscriptions are listed with `status=all`, because the list leaves canceled ones out by default.
 * Refunds need no list of their own: a charge carries `amount_refunded` and `refunded`.
 */
export const BACKFILL_SOURCES = {
  customers: {
    list: (stripe, page) => stripe.customers.list(page),
    table: customers,
    toRow: (c: Stripe.Customer, by) => rows.customer(c, by),
  },
  subscriptions: {
    list: (stripe, page) => stripe.subscriptions.list({ ...page, status: "all" }),
    table: subscriptions,
    toRow: (s: Stripe.Subscription, by) => rows.subscription(s, by),
  },
  checkout_sessions: { list: (stripe, page) => stripe.checkout.sessions.list(page), table: checkoutSessions, toRow: rows.checkoutSession },
  invoices: { list: (stripe, page) => stripe.invoices.list(page) as Promise<ListPage>, table: invoices, toRow: rows.invoice },
  payment_intents: { list: (stripe, page) => stripe.paymentIntents.list(page), table: paymentIntents, toRow: rows.paymentIntent },
  charges: { list: (stripe, page) => stripe.charges.list(page), table: charges, toRow: rows.charge },
} satisfies Record<string, BackfillSource>;

export type BackfillType = keyof typeof BACKFILL_SOURCES;

/** The backfill's object types, in import order. */
export const BACKFILL_TYPES = Object.keys(BACKFILL_SOURCES) as BackfillType[];
