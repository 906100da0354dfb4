import { eq, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { charges, checkoutSessions, customers, invoices, paymentIntents, subscriptions } from "../db/billing-schema";

export type ProjectedTable = typeof customers | typeof subscriptions | typeof checkoutSessions | typeof invoices | typeof paymentIntents | typeof charges;
export type RowOf<T extends ProjectedTable> = T["$inferInsert"] & { id: string; lastEventCreated: number };

/**
 * What writing an object did: `applied` (the row now holds it), `stale` (the row already holds a
 * newer event's version: nothing changed, not an error), `refetched` (a same-second tie resolved by
 * storing the object fetched from the Stripe API).
 */
export type ProjectionOutcome = "applied" | "stale" | "refetched";

/**
 * Writes an object's row unless the row was last written by a newer event, so that Stripe's
 * out-of-order deliveries end in the same state as in-order ones. The common case is one statement
 * (an upsert whose update only runs for a strictly newer event). On a same-second tie the object is
 * re-read from the Stripe API when `refetch` is given; otherwise the later arrival wins.
 *
 * @example
 * await project(db, subscriptions, rows.subscription(sub, by), () => fetchSubscriptionRow(sub.id));
 */
export async function project<T extends ProjectedTable>(
  db: Database,
  table: T,
  row: RowOf<T>,
  refetch?: () => Promise<RowOf<T> | null>,
): Promise<ProjectionOutcome> {
  if (await upsertUnlessOlder(db, table, row, "newer")) return "applied";

  const [current] = await db.select({ lastEventCreated: table.lastEventCreated }).from(table).where(eq(table.id, row.id));
  if (current && current.lastEventCreated > row.lastEventCreated) return "stale";

  const fresh = refetch ? await refetch() : null;
  await upsertUnlessOlder(db, table, fresh ?? row, "same-or-newer");
  return fresh ? "refetched" : "applied";
}

async function upsertUnlessOlder<T extends ProjectedTable>(db: Database, table: T, row: RowOf<T>, accept: "newer" | "same-or-newer"): Promise<boolean> {
  const { id: _id, ...set } = row;
  const comparison = accept === "newer" ? sql.raw(">") : sql.raw(">=");
  // The update branch compares the incoming event's created time with the stored one; SQLite runs
  // it only on conflict, so a new object is always inserted.
  const written = await db
    .insert(table as typeof customers)
    .values(row as typeof customers.$inferInsert)
    .onConflictDoUpdate({
      target: table.id,
      set: set as Partial<typeof customers.$inferInsert>,
      setWhere: sql`excluded.last_event_created ${comparison} ${table.lastEventCreated}`,
    })
    .returning({ id: table.id });
  return written.length > 0;
}
