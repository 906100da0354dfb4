import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * Billing state projected from Stripe events. Every table keys on the Stripe id and keeps the fields
 * apps query and `last_event_created`: the `created` time of the last event applied to the row,
 * which decides whether a late, older event may still change it. The whole Stripe object is not
 * kept here (invoices, payments and charges grow with time, and their JSON is most of their size):
 * it stays in the ledger's payload for LEDGER_RETENTION_DAYS, and at Stripe for good.
 *
 * The tables are created WITHOUT ROWID in migrations/0003 (drizzle has no option for it): keyed by
 * the Stripe id alone, a new row costs one D1 row written instead of two. test/schema.test.ts pins it.
 */
const projected = {
  livemode: integer({ mode: "boolean" }).notNull(),
  /** `created` (Unix seconds) of the event last applied to this row. */
  lastEventCreated: integer().notNull(),
  /** Id of the event last applied to this row. */
  lastEventId: text().notNull(),
  /** When we last wrote this row, Unix ms. */
  updatedAt: integer().notNull(),
};

export const customers = sqliteTable("customers", {
  id: text().primaryKey(),
  email: text(),
  name: text(),
  deleted: integer({ mode: "boolean" }).notNull().default(false),
  ...projected,
});

export const subscriptions = sqliteTable(
  "subscriptions",
  {
    id: text().primaryKey(),
    customerId: text().notNull(),
    status: text().notNull(),
    /** JSON array of the price ids on the subscription's items. */
    priceIds: text().notNull(),
    /** Latest `current_period_end` over the items (the API moved it from the subscription to items). */
    currentPeriodEnd: integer(),
    cancelAtPeriodEnd: integer({ mode: "boolean" }).notNull(),
    cancelAt: integer(),
    canceledAt: integer(),
    trialEnd: integer(),
    ...projected,
  },
  (t) => [index("subscriptions_customer_idx").on(t.customerId)],
);

export const checkoutSessions = sqliteTable(
  "checkout_sessions",
  {
    id: text().primaryKey(),
    customerId: text(),
    mode: text().notNull(),
    status: text(),
    paymentStatus: text().notNull(),
    subscriptionId: text(),
    paymentIntentId: text(),
    clientReferenceId: text(),
    amountTotal: integer(),
    currency: text(),
    ...projected,
  },
  (t) => [index("checkout_sessions_customer_idx").on(t.customerId)],
);

export const invoices = sqliteTable(
  "invoices",
  {
    id: text().primaryKey(),
    customerId: text(),
    subscriptionId: text(),
    status: text(),
    amountPaid: integer().notNull(),
    amountDue: integer().notNull(),
    currency: text().notNull(),
    ...projected,
  },
  (t) => [index("invoices_customer_idx").on(t.customerId), index("invoices_subscription_idx").on(t.subscriptionId)],
);

export const paymentIntents = sqliteTable(
  "payment_intents",
  {
    id: text().primaryKey(),
    customerId: text(),
    status: text().notNull(),
    amount: integer().notNull(),
    amountReceived: integer().notNull(),
    currency: text().notNull(),
    /** `last_payment_error.code: message` of a failed attempt. */
    lastError: text(),
    ...projected,
  },
  (t) => [index("payment_intents_customer_idx").on(t.customerId)],
);

/** Charges, kept for what was refunded (`charge.refunded`). */
export const charges = sqliteTable(
  "charges",
  {
    id: text().primaryKey(),
    customerId: text(),
    paymentIntentId: text(),
    status: text().notNull(),
    amount: integer().notNull(),
    amountRefunded: integer().notNull(),
    refunded: integer({ mode: "boolean" }).notNull(),
    currency: text().notNull(),
    ...projected,
  },
  (t) => [index("charges_payment_intent_idx").on(t.paymentIntentId)],
);

/**
 * Once-only side effects, keyed by the Stripe object and the kind of effect: a second Event for the
 * same change, a replay or a queue redelivery finds the row `done` and does nothing.
 */
export const fulfilments = sqliteTable(
  "fulfilments",
  {
    objectId: text().notNull(),
    kind: text().notNull(),
    status: text({ enum: ["pending", "done"] }).notNull(),
    /** The event whose processing ran (or is running) the effect. */
    eventId: text().notNull(),
    /** A pending claim older than this (Unix ms) was abandoned and may be taken over. */
    claimedUntil: integer().notNull(),
    completedAt: integer(),
  },
  (t) => [primaryKey({ columns: [t.objectId, t.kind] })],
);
