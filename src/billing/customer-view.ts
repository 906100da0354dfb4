import { and, desc, eq, inArray, isNull, or, type SQL } from "drizzle-orm";
import { unionAll } from "drizzle-orm/sqlite-core";
import { charges, checkoutSessions, customers, fulfilments, invoices, paymentIntents, subscriptions } from "../db/billing-schema";
import type { Database } from "../db/client";
import { type EventSummary, summaryColumns } from "../db/ledger/reads";
import { stripeEvents } from "../db/schema";
import { type AppUserLink, appUsersOfCustomer } from "./app-users";
import { type AccessPolicy, type CustomerKey, type Entitlements, entitlementsFor } from "./entitlements";

/** Each list of the customer view holds at most this many rows, the most recently changed first. */
export const CUSTOMER_LIST_LIMIT = 100;
/** The customer view shows this many of the newest ledger events about the customer's objects. */
const CUSTOMER_EVENTS_LIMIT = 50;

export interface CustomerView {
  customer: typeof customers.$inferSelect | null;
  subscriptions: (typeof subscriptions.$inferSelect)[];
  invoices: (typeof invoices.$inferSelect)[];
  checkoutSessions: (typeof checkoutSessions.$inferSelect)[];
  paymentIntents: (typeof paymentIntents.$inferSelect)[];
  /** Charges of the customer's payment intents (the billing tables keep refunded charges). */
  charges: (typeof charges.$inferSelect)[];
  /** Once-only effects of the customer's checkout sessions and invoices. */
  fulfilments: (typeof fulfilments.$inferSelect)[];
  /** Exactly what `BillingService.entitlements()` answers for this customer. */
  entitlements: Entitlements;
  /** The app user ids linked to this customer, and what links them. */
  appUsers: AppUserLink[];
  /** Other customers linked to the same app user ids: a conflict for the operator to resolve. */
  appUserConflicts: AppUserLink[];
  /** The newest ledger events about the customer or any of the objects above. */
  events: EventSummary[];
}

/**
 * What the billing tables know about a customer, in one round trip run alongside the entitlements
 * query that `BillingService` runs. Every list is read through a `customer_id` index (charges through their
 * payment intents, fulfilments through their objects' keys, events through the ledger's `object_id`
 * index), so the cost follows the customer's size, never the tables'.
 *
 * @example
 * const view = await customerView(db, { account: "", customerId: "cus_123" }, { pastDueGrantsAccess: true });
 * view.entitlements.entitled;
 */
export async function customerView(db: Database, key: CustomerKey, policy: AccessPolicy): Promise<CustomerView> {
  const { account, customerId } = key;
  type Owned = typeof subscriptions | typeof invoices | typeof checkoutSessions | typeof paymentIntents;
  const owned = (table: Owned) => and(eq(table.account, account), eq(table.customerId, customerId));
  const ids = (table: Owned) => db.select({ id: table.id }).from(table).where(owned(table));
  const ofCustomer = <T extends Owned>(table: T, order: SQL) =>
    db.select().from(table).where(owned(table)).orderBy(order).limit(CUSTOMER_LIST_LIMIT);
  // Every object id the customer owns, for the events about them (D1 allows five terms in a compound
  // SELECT, so the customer's own id is a term of its own).
  const objectIds = unionAll(
    ids(subscriptions),
    ids(invoices),
    ids(checkoutSessions),
    ids(paymentIntents),
    db
      .select({ id: charges.id })
      .from(charges)
      .where(and(eq(charges.account, account), inArray(charges.paymentIntentId, ids(paymentIntents)))),
  );
  // The entitlements query does not depend on the batch: both run at once.
  const [
    [customerRows, subscriptionRows, invoiceRows, sessionRows, intentRows, chargeRows, fulfilmentRows, eventRows],
    entitlements,
    appUsers,
  ] = await Promise.all([
    db.batch([
      db
        .select()
        .from(customers)
        .where(and(eq(customers.account, account), eq(customers.id, customerId)))
        .limit(1),
      ofCustomer(subscriptions, desc(subscriptions.lastEventCreated)),
      ofCustomer(invoices, desc(invoices.lastEventCreated)),
      ofCustomer(checkoutSessions, desc(checkoutSessions.lastEventCreated)),
      ofCustomer(paymentIntents, desc(paymentIntents.lastEventCreated)),
      db
        .select()
        .from(charges)
        .where(and(eq(charges.account, account), inArray(charges.paymentIntentId, ids(paymentIntents))))
        .orderBy(desc(charges.lastEventCreated))
        .limit(CUSTOMER_LIST_LIMIT),
      db
        .select()
        .from(fulfilments)
        .where(and(eq(fulfilments.account, account), inArray(fulfilments.objectId, unionAll(ids(checkoutSessions), ids(invoices)))))
        .limit(CUSTOMER_LIST_LIMIT),
      db
        .select(summaryColumns)
        .from(stripeEvents)
        .where(
          and(
            account === "" ? isNull(stripeEvents.account) : eq(stripeEvents.account, account),
            or(eq(stripeEvents.objectId, customerId), inArray(stripeEvents.objectId, objectIds)),
          ),
        )
        .orderBy(desc(stripeEvents.seq))
        .limit(CUSTOMER_EVENTS_LIMIT),
    ]),
    entitlementsFor(db, key, policy),
    appUsersOfCustomer(db, account, customerId),
  ]);
  return {
    customer: customerRows[0] ?? null,
    subscriptions: subscriptionRows,
    invoices: invoiceRows,
    checkoutSessions: sessionRows,
    paymentIntents: intentRows,
    charges: chargeRows,
    fulfilments: fulfilmentRows,
    entitlements,
    appUsers: appUsers.links,
    appUserConflicts: appUsers.conflicts,
    events: eventRows,
  };
}

/** Whether the billing tables and the ledger know nothing at all about the customer. */
export function isUnknownCustomer(view: CustomerView): boolean {
  return (
    view.customer === null &&
    [view.subscriptions, view.invoices, view.checkoutSessions, view.paymentIntents, view.events].every((list) => list.length === 0)
  );
}
