import { desc, eq, inArray, or, type SQL } from "drizzle-orm";
import { unionAll } from "drizzle-orm/sqlite-core";
import { charges, checkoutSessions, customers, fulfilments, invoices, paymentIntents, subscriptions } from "../db/billing-schema";
import type { Database } from "../db/client";
import { type EventSummary, summaryColumns } from "../db/ledger/reads";
import { stripeEvents } from "../db/schema";
import { type Entitlements, entitlementsFor } from "./entitlements";

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
 * const view = await customerView(db, "cus_123");
 * view.entitlements.entitled;
 */
export async function customerView(db: Database, customerId: string): Promise<CustomerView> {
  const ids = <T extends typeof subscriptions | typeof invoices | typeof checkoutSessions | typeof paymentIntents>(table: T) =>
    db.select({ id: table.id }).from(table).where(eq(table.customerId, customerId));
  const ofCustomer = <T extends typeof subscriptions | typeof invoices | typeof checkoutSessions | typeof paymentIntents>(
    table: T,
    order: SQL,
  ) => db.select().from(table).where(eq(table.customerId, customerId)).orderBy(order).limit(CUSTOMER_LIST_LIMIT);
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
      .where(inArray(charges.paymentIntentId, ids(paymentIntents))),
  );
  // The entitlements query does not depend on the batch: both run at once.
  const [[customerRows, subscriptionRows, invoiceRows, sessionRows, intentRows, chargeRows, fulfilmentRows, eventRows], entitlements] =
    await Promise.all([
      db.batch([
        db.select().from(customers).where(eq(customers.id, customerId)).limit(1),
        ofCustomer(subscriptions, desc(subscriptions.lastEventCreated)),
        ofCustomer(invoices, desc(invoices.lastEventCreated)),
        ofCustomer(checkoutSessions, desc(checkoutSessions.lastEventCreated)),
        ofCustomer(paymentIntents, desc(paymentIntents.lastEventCreated)),
        db
          .select()
          .from(charges)
          .where(inArray(charges.paymentIntentId, ids(paymentIntents)))
          .orderBy(desc(charges.lastEventCreated))
          .limit(CUSTOMER_LIST_LIMIT),
        db
          .select()
          .from(fulfilments)
          .where(inArray(fulfilments.objectId, unionAll(ids(checkoutSessions), ids(invoices))))
          .limit(CUSTOMER_LIST_LIMIT),
        db
          .select(summaryColumns)
          .from(stripeEvents)
          .where(or(eq(stripeEvents.objectId, customerId), inArray(stripeEvents.objectId, objectIds)))
          .orderBy(desc(stripeEvents.seq))
          .limit(CUSTOMER_EVENTS_LIMIT),
      ]),
      entitlementsFor(db, customerId),
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
