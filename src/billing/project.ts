import { and, eq, getTableColumns, type SQL, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { toSnakeCase } from "drizzle-orm/casing";
import type { charges, checkoutSessions, customers, invoices, paymentIntents, prices, products, subscriptions } from "../db/billing-schema";
import type { HandlerContext } from "../handlers/registry";

export type ProjectedTable =
  | typeof customers
  | typeof subscriptions
  | typeof checkoutSessions
  | typeof invoices
  | typeof paymentIntents
  | typeof charges
  | typeof products
  | typeof prices;
export type RowOf<T extends ProjectedTable> = T["$inferInsert"] & { account: string; id: string; lastEventCreated: number };

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
  const [current] = await ctx.db
    .select({ lastEventCreated: table.lastEventCreated })
    .from(table)
    .where(and(eq(table.account, row.account), eq(table.id, row.id)));
  if (current && current.lastEventCreated > row.lastEventCreated) return "stale";
  const fresh = current?.lastEventCreated === row.lastEventCreated && refetch ? await refetch() : null;
  ctx.write(upsertRowsUnlessOlder(ctx.db, table, [fresh ?? row])[0]!);
  return fresh ? "refetched" : "applied";
}

/**
 * The ordering rule of every projected write, in SQL: the incoming row (`excluded`) replaces the stored
 * one only if its `last_event_created` is not older. SQLite evaluates it only on conflict, so a new
 * object is always inserted.
 */
function notOlder(table: ProjectedTable): SQL {
  return sql`excluded.last_event_created >= ${table.lastEventCreated}`;
}

/** D1 binds at most 100 parameters per statement. */
const MAX_BOUND_PARAMETERS = 100;

/**
 * Statements writing many rows of one table under the same rule as `project` (a row is replaced only
 * by a version not older than its own), for objects that need no same-second refetch because they were
 * just read from the API. Multi-row upserts, each under D1's 100 bound parameters (5 subscriptions,
 * 7 charges, 10 customers per statement); the rows must all have the same columns. Reads nothing: the
 * guard alone decides, so the statements are correct whatever was written in between.
 *
 * @example
 * await batchAll(db, upsertRowsUnlessOlder(db, subscriptions, page.map((s) => rows.subscription(s, by))));
 */
export function upsertRowsUnlessOlder<T extends ProjectedTable>(
  db: HandlerContext["db"],
  table: T,
  rows: readonly RowOf<T>[],
): BatchItem<"sqlite">[] {
  if (rows.length === 0) return [];
  const keys = Object.keys(rows[0]!).filter((k) => k !== "id" && k !== "account");
  const columns = getTableColumns(table) as Record<string, { name: string }>;
  // Every updated column takes the incoming row's value; with many rows it can only be named as excluded.<column>.
  const set = Object.fromEntries(keys.map((k) => [k, sql.raw(`excluded."${toSnakeCase(columns[k]!.name)}"`)]));
  const perStatement = Math.max(1, Math.floor(MAX_BOUND_PARAMETERS / (keys.length + 2)));
  const statements: BatchItem<"sqlite">[] = [];
  for (let i = 0; i < rows.length; i += perStatement) {
    statements.push(
      db
        .insert(table as typeof customers)
        .values(rows.slice(i, i + perStatement) as (typeof customers.$inferInsert)[])
        .onConflictDoUpdate({
          target: [table.account, table.id],
          set: set as Partial<typeof customers.$inferInsert>,
          setWhere: notOlder(table),
        }),
    );
  }
  return statements;
}
