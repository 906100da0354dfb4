import type { BatchItem } from "drizzle-orm/batch";
import type Stripe from "stripe";
import { type ProjectedTable, type RowOf, upsertRowsUnlessOlder } from "../billing/project";
import { type AppliedBy, rows } from "../billing/rows";
import { charges, checkoutSessions, customers, invoices, paymentIntents, prices, products, subscriptions } from "../db/billing-schema";
import type { Database } from "../db/client";
import { entitlementsPage } from "./entitlements";

/** One page of a Stripe list API: the objects and whether more follow the last one. */
export interface ListPage {
  data: { id: string }[];
  has_more: boolean;
}

/** What the backfill needs to import one kind of object: its list call, its table, and its row mapping. */
export interface BackfillSource {
  /** `GET /v1/…` with `limit` and `starting_after`, in Stripe's list order (newest first), with the account's client. */
  list(stripe: Stripe, page: { limit: number; starting_after?: string }): Promise<ListPage>;
  table: ProjectedTable;
  /** The same mapping the event handlers use (src/billing/rows.ts). */
  toRow(object: never, by: AppliedBy): RowOf<ProjectedTable>;
}

/**
 * The object types a backfill imports from a list API, in the order it imports them: each is the
 * current state of every object of that type in the account. The catalogue comes before the
 * subscriptions that name its products. Subscriptions are listed with `status=all`, because the list
 * leaves canceled ones out by default; a subscription's row keeps the items its list entry carries
 * (the first 10; `items_complete` says when there are more, and its next event lists them all).
 * Refunds need no list of their own: a charge carries `amount_refunded` and `refunded`.
 */
export const BACKFILL_SOURCES = {
  customers: {
    list: (stripe, page) => stripe.customers.list(page),
    table: customers,
    toRow: (c: Stripe.Customer, by) => rows.customer(c, by),
  },
  products: {
    list: (stripe, page) => stripe.products.list(page),
    table: products,
    toRow: (p: Stripe.Product, by) => rows.product(p, by),
  },
  prices: {
    list: (stripe, page) => stripe.prices.list(page),
    table: prices,
    toRow: (p: Stripe.Price, by) => rows.price(p, by),
  },
  subscriptions: {
    list: (stripe, page) => stripe.subscriptions.list({ ...page, status: "all" }),
    table: subscriptions,
    toRow: (s: Stripe.Subscription, by) => rows.subscription(s, by),
  },
  checkout_sessions: {
    list: (stripe, page) => stripe.checkout.sessions.list(page),
    table: checkoutSessions,
    toRow: rows.checkoutSession,
  },
  invoices: { list: (stripe, page) => stripe.invoices.list(page) as Promise<ListPage>, table: invoices, toRow: rows.invoice },
  payment_intents: {
    list: (stripe, page) => stripe.paymentIntents.list(page),
    table: paymentIntents,
    toRow: rows.paymentIntent,
  },
  charges: { list: (stripe, page) => stripe.charges.list(page), table: charges, toRow: rows.charge },
} satisfies Record<string, BackfillSource>;

/** A type the backfill imports through its list API. */
export type ListedType = keyof typeof BACKFILL_SOURCES;

/**
 * Every type a backfill imports, in import order: the listed types, then each customer's active
 * Stripe Entitlements (no list spans customers: src/backfill/entitlements.ts asks per customer).
 */
export const BACKFILL_TYPES = [...(Object.keys(BACKFILL_SOURCES) as ListedType[]), "entitlements"] as const;
export type BackfillType = ListedType | "entitlements";

/** A page read for one type, ready to commit with the backfill's progress. */
export interface Page {
  statements: BatchItem<"sqlite">[];
  /** API requests it took. */
  requests: number;
  imported: number;
  startingAfter: string | null;
  done: boolean;
}

/**
 * Reads the next page of `type` after `startingAfter` with the account's client: a list API page, or
 * a page of customers' entitlements (src/backfill/entitlements.ts).
 *
 * @example
 * const page = await readPage(db, stripe, "customers", null, by, 100, false);
 */
export async function readPage(
  db: Database,
  stripe: Stripe,
  type: BackfillType,
  startingAfter: string | null,
  by: AppliedBy,
  pageSize: number,
  livemode: boolean,
): Promise<Page> {
  if (type === "entitlements") {
    const page = await entitlementsPage(db, stripe, startingAfter, by, livemode);
    return { ...page, imported: page.customers };
  }
  const source = BACKFILL_SOURCES[type];
  const page: ListPage = await source.list(stripe, { limit: pageSize, ...(startingAfter ? { starting_after: startingAfter } : {}) });
  const rows = page.data.map((object) => source.toRow(object as never, by));
  return {
    statements: upsertRowsUnlessOlder(db, source.table, rows),
    requests: 1,
    imported: rows.length,
    startingAfter: page.data.at(-1)?.id ?? startingAfter,
    done: !page.has_more || page.data.length === 0,
  };
}
