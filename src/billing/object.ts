import { and, eq } from "drizzle-orm";
import { charges, checkoutSessions, customers, invoices, paymentIntents, prices, products, subscriptions } from "../db/billing-schema";
import type { Database } from "../db/client";
import { objectTimeline, type Timeline } from "../db/ledger/timeline";

/** The billing tables by the prefix of the Stripe ids they hold. */
const TABLES = {
  cus_: ["customers", customers],
  sub_: ["subscriptions", subscriptions],
  in_: ["invoices", invoices],
  cs_: ["checkout_sessions", checkoutSessions],
  pi_: ["payment_intents", paymentIntents],
  ch_: ["charges", charges],
  py_: ["charges", charges],
  prod_: ["products", products],
  price_: ["prices", prices],
} as const;

/** A billing row and the table it came from. */
export interface BillingObject {
  table: (typeof TABLES)[keyof typeof TABLES][0];
  row: Record<string, unknown>;
}

/** A billing row's key as its D1 column is named (snake_case): `customerId` → `customer_id`. */
export function columnName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/**
 * The current row for a Stripe object in an account (`''` for the platform's own) in the billing
 * tables, found by its id's prefix (one primary key lookup), or null: not projected (yet), or a kind
 * no table keeps (`re_…` refunds live on their charge's row, `evt_…` is an event).
 *
 * @example
 * const found = await billingObject(db, "sub_123", ""); // { table: "subscriptions", row: { id, status, … } }
 */
export async function billingObject(db: Database, id: string, account: string): Promise<BillingObject | null> {
  const entry = Object.entries(TABLES).find(([prefix]) => id.startsWith(prefix))?.[1];
  if (!entry) return null;
  const [table, schema] = entry;
  // Each table has its own row type; the caller only displays the columns.
  const [row] = await db
    .select()
    .from(schema)
    .where(and(eq(schema.account, account), eq(schema.id, id)))
    .limit(1);
  return row ? { table, row: row as Record<string, unknown> } : null;
}

/** What the console and the API show for an object: its timeline and its billing row. */
export interface ObjectView {
  timeline: Timeline;
  /** The billing row of the timeline's object, or null (none kept, not projected yet, or no object). */
  object: BillingObject | null;
}

/**
 * An object's timeline and its billing row in an account (`''` for the platform's own), or null when
 * an `evt_` id is not in the ledger. For an object id both are read at once; an `evt_` id names its
 * object and account only through its event, so the billing row is read after the timeline.
 *
 * @example
 * const view = await objectView(db, "sub_123", ""); // { timeline: { events, … }, object: { table: "subscriptions", row } }
 */
export async function objectView(db: Database, id: string, account: string): Promise<ObjectView | null> {
  if (id.startsWith("evt_")) {
    const timeline = await objectTimeline(db, id, account);
    if (timeline === null) return null;
    return { timeline, object: timeline.objectId === null ? null : await billingObject(db, timeline.objectId, timeline.account) };
  }
  const [timeline, object] = await Promise.all([objectTimeline(db, id, account), billingObject(db, id, account)]);
  return timeline === null ? null : { timeline, object };
}
