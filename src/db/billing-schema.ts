import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

// Longer than 250 lines because it is one schema: every billing table, each column documented where
// apps read it, so that a reader finds the whole shape of the billing state in one place.

/**
 * Billing state projected from Stripe events. Every table keys on the account an object belongs to
 * (`''` for the platform's own, `acct_…` for a connected account's: the same id in two accounts is two
 * rows, and a lookup in one account never answers from another) and the Stripe id, and keeps the
 * fields apps query and `last_event_created`: the `created` time of the last event applied to the
 * row, which decides whether a late, older event may still change it. The whole Stripe object is not
 * kept here (its JSON is most of its size): it stays in the ledger's payload for
 * LEDGER_RETENTION_DAYS, and at Stripe for good.
 *
 * The tables are created WITHOUT ROWID in migrations/0008 (drizzle has no option for it): keyed by
 * their primary key alone, a new row costs one D1 row written instead of two. test/schema.test.ts pins it.
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

/** The connected account the object belongs to (`acct_…`), or `''` for the platform's own objects. */
const account = () => text().notNull().default("");

export const customers = sqliteTable(
  "customers",
  {
    account: account(),
    id: text().notNull(),
    email: text(),
    name: text(),
    deleted: integer({ mode: "boolean" }).notNull().default(false),
    /** The app's own user id, from the customer's metadata (APP_USER_METADATA_KEY). */
    appUserId: text(),
    ...projected,
  },
  (t) => [
    primaryKey({ columns: [t.account, t.id] }),
    index("customers_app_user_idx").on(t.account, t.appUserId).where(sql`app_user_id IS NOT NULL`),
  ],
);

/** One item of a subscription, as kept in its row's `items` (JSON). */
export interface SubscriptionItem {
  id: string;
  priceId: string | null;
  productId: string | null;
  quantity: number | null;
}

export const subscriptions = sqliteTable(
  "subscriptions",
  {
    account: account(),
    id: text().notNull(),
    /** The customer: a `cus_…` id, or the `acct_…` of an Accounts v2 account acting as the customer (`customer_account`). */
    customerId: text().notNull(),
    status: text().notNull(),
    /** JSON array of the price ids on the subscription's items. */
    priceIds: text().notNull(),
    /** JSON array of every item ({ id, priceId, productId, quantity }): kept in the row, so items cost no rows of their own. */
    items: text().notNull().default("[]"),
    /** False when the subscription has more items than its event carried and no API key could list the rest. */
    itemsComplete: integer({ mode: "boolean" }).notNull().default(true),
    /** Latest `current_period_end` over the items (the API moved it from the subscription to items). */
    currentPeriodEnd: integer(),
    cancelAtPeriodEnd: integer({ mode: "boolean" }).notNull(),
    cancelAt: integer(),
    canceledAt: integer(),
    trialEnd: integer(),
    /** The app's own user id, from the subscription's metadata (APP_USER_METADATA_KEY). */
    appUserId: text(),
    ...projected,
  },
  (t) => [
    primaryKey({ columns: [t.account, t.id] }),
    index("subscriptions_customer_idx").on(t.account, t.customerId),
    index("subscriptions_app_user_idx").on(t.account, t.appUserId).where(sql`app_user_id IS NOT NULL`),
  ],
);

export const checkoutSessions = sqliteTable(
  "checkout_sessions",
  {
    account: account(),
    id: text().notNull(),
    customerId: text(),
    mode: text().notNull(),
    status: text(),
    paymentStatus: text().notNull(),
    subscriptionId: text(),
    paymentIntentId: text(),
    /** The app's own user id, as the app passed it to Checkout. */
    clientReferenceId: text(),
    amountTotal: integer(),
    currency: text(),
    ...projected,
  },
  (t) => [
    primaryKey({ columns: [t.account, t.id] }),
    index("checkout_sessions_customer_idx").on(t.account, t.customerId),
    index("checkout_sessions_app_user_idx").on(t.account, t.clientReferenceId).where(sql`client_reference_id IS NOT NULL`),
  ],
);

export const invoices = sqliteTable(
  "invoices",
  {
    account: account(),
    id: text().notNull(),
    customerId: text(),
    subscriptionId: text(),
    status: text(),
    amountPaid: integer().notNull(),
    amountDue: integer().notNull(),
    currency: text().notNull(),
    /** Payment attempts so far: a failed payment's lifecycle hook runs once per attempt. */
    attemptCount: integer().notNull().default(0),
    ...projected,
  },
  (t) => [
    primaryKey({ columns: [t.account, t.id] }),
    index("invoices_customer_idx").on(t.account, t.customerId),
    index("invoices_subscription_idx").on(t.account, t.subscriptionId),
  ],
);

export const paymentIntents = sqliteTable(
  "payment_intents",
  {
    account: account(),
    id: text().notNull(),
    customerId: text(),
    status: text().notNull(),
    amount: integer().notNull(),
    amountReceived: integer().notNull(),
    currency: text().notNull(),
    /** `last_payment_error.code: message` of a failed attempt. */
    lastError: text(),
    ...projected,
  },
  (t) => [primaryKey({ columns: [t.account, t.id] }), index("payment_intents_customer_idx").on(t.account, t.customerId)],
);

/** Charges, kept for what was refunded (`charge.refunded`). */
export const charges = sqliteTable(
  "charges",
  {
    account: account(),
    id: text().notNull(),
    customerId: text(),
    paymentIntentId: text(),
    status: text().notNull(),
    amount: integer().notNull(),
    amountRefunded: integer().notNull(),
    refunded: integer({ mode: "boolean" }).notNull(),
    currency: text().notNull(),
    ...projected,
  },
  (t) => [primaryKey({ columns: [t.account, t.id] }), index("charges_payment_intent_idx").on(t.account, t.paymentIntentId)],
);

/** The catalogue: products (`product.*`), for the names of what customers subscribe to. */
export const products = sqliteTable(
  "products",
  {
    account: account(),
    id: text().notNull(),
    name: text().notNull(),
    active: integer({ mode: "boolean" }).notNull(),
    deleted: integer({ mode: "boolean" }).notNull().default(false),
    defaultPriceId: text(),
    ...projected,
  },
  (t) => [primaryKey({ columns: [t.account, t.id] })],
);

/** The catalogue: prices (`price.*`), each of a product. */
export const prices = sqliteTable(
  "prices",
  {
    account: account(),
    id: text().notNull(),
    productId: text(),
    active: integer({ mode: "boolean" }).notNull(),
    deleted: integer({ mode: "boolean" }).notNull().default(false),
    currency: text(),
    unitAmount: integer(),
    /** `month`, `year`, …; null for a one-time price. */
    recurringInterval: text(),
    lookupKey: text(),
    nickname: text(),
    ...projected,
  },
  (t) => [primaryKey({ columns: [t.account, t.id] })],
);

/**
 * Stripe Entitlements: each customer's active entitlements (a feature and its `lookup_key`), as the
 * last `entitlements.active_entitlement_summary.updated` applied said, listed to the end when the
 * summary said `has_more`. The set is replaced per customer under the version in `entitlement_sets`.
 */
export const activeEntitlements = sqliteTable(
  "active_entitlements",
  {
    account: account(),
    customerId: text().notNull(),
    featureId: text().notNull(),
    lookupKey: text().notNull(),
    /** The active entitlement's own id (`ent_…`). */
    entitlementId: text(),
  },
  (t) => [primaryKey({ columns: [t.account, t.customerId, t.featureId] })],
);

/** The version of each customer's set of active entitlements (see `activeEntitlements`). */
export const entitlementSets = sqliteTable(
  "entitlement_sets",
  {
    account: account(),
    customerId: text().notNull(),
    /** False when the summary said `has_more` and no API key could list the rest. */
    complete: integer({ mode: "boolean" }).notNull(),
    ...projected,
  },
  (t) => [primaryKey({ columns: [t.account, t.customerId] })],
);

/**
 * Whether each customer has access now, as the access lifecycle hooks last saw it: a change of
 * `entitled` is a transition (`access.granted` / `access.revoked`), numbered by `generation`. Kept
 * only while an access hook is registered; absent means not entitled.
 */
export const accessStates = sqliteTable(
  "access_states",
  {
    account: account(),
    customerId: text().notNull(),
    entitled: integer({ mode: "boolean" }).notNull(),
    /** Transitions so far: the next one's lifecycle event is numbered `generation + 1`. */
    generation: integer().notNull(),
    changedAt: integer().notNull(),
  },
  (t) => [primaryKey({ columns: [t.account, t.customerId] })],
);

/**
 * Once-only side effects, keyed by the Stripe object (in its account) and the kind of effect: a second
 * Event for the same change, a replay or a queue redelivery finds the row `done` and does nothing.
 */
export const fulfilments = sqliteTable(
  "fulfilments",
  {
    account: account(),
    objectId: text().notNull(),
    kind: text().notNull(),
    status: text({ enum: ["pending", "done"] }).notNull(),
    /** The event whose processing ran (or is running) the effect. */
    eventId: text().notNull(),
    /** A pending claim older than this (Unix ms) was abandoned and may be taken over. */
    claimedUntil: integer().notNull(),
    completedAt: integer(),
  },
  (t) => [primaryKey({ columns: [t.account, t.objectId, t.kind] })],
);
