import { eq, sql } from "drizzle-orm";
import type { charges, checkoutSessions, customers, invoices, paymentIntents, subscriptions } from "../db/billing-schema";
import type { HandlerContext } from "../handlers/registry";

export type ProjectedTable = typeof customers | typeof subscriptions | typeof checkoutSessions | typeof invoices | typeof paymentIntents | typeof charges;
export type RowOf<T extends ProjectedTable> = T["$inferInsert"] & { id: string; lastEventCreated: number };

/**
 * What writing an object did: `applied` (the row will hold it), `stale` (the row already holds a
 * newer event's version: nothing changes, not an error), `refetched` (a same-second tie resolved by
 * storing the object fetched from the Stripe API).
 */
export type ProjectionOutcome = "applied" | "stale" | "refetched";

/**
 * Writes an object's row unless the row was last written by a newer event, so that Stripe's
 * out-of-order deliveries end in the same state as in-order ones. Reads the row's version, then
 * queues the upsert with `ctx.write`: it commits with the event's outcome, and its own guard
 * (`excluded.last_event_created >= last_event_created`) keeps it correct even if the row moved
 * meanwhile. On a same-second tie the object is re-read from the Stripe API when `refetch` is given;
 * otherwise the later arrival wins.
 *
 * @example
 * await project(ctx, subscriptions, rows.subscription(sub, by), () => fetchSubscriptionRow(sub.id));
 */
export async function project<T extends ProjectedTable>(
  ctx: Pick<HandlerContext, "db" | "write">,
  table: T,
  row: RowOf<T>,
  refetch?: () => Promise<RowOf<T> | null>,
): Promise<ProjectionOutcome> {
  const [current] = await ctx.db.select({ lastEventCreated: table.lastEventCreated }).from(table).where(eq(table.id, row.id));
  if (current && current.lastEventCreated > row.lastEventCreated) return "stale";
  const fresh = current?.lastEventCreated === row.lastEventCreated && refetch ? await refetch() : null;
  ctx.write(upsertUnlessOlder(ctx.db, table, fresh ?? row));
  return fresh ? "refetched" : "applied";
}

function upsertUnlessOlder<T extends ProjectedTable>(db: HandlerContext["db"], table: T, row: RowOf<T>) {
  const { id: _id, ...set } = row;
  // The update branch compares the incoming event's created time with the stored one; SQLite runs
  // it only on conflict, so a new object is always inserted.
  return db
    .insert(table as typeof customers)
    .values(row as typeof customers.$inferInsert)
    .onConflictDoUpdate({
      target: table.id,
      set: set as Partial<typeof customers.$inferInsert>,
      setWhere: sql`excluded.last_event_created >= ${table.lastEventCreated}`,
    });
}
