import { and, count, desc, gt, max, sql } from "drizzle-orm";
import type { Database } from "./client";
import { PARKED } from "./events";
import { IN_ATTENTION_INDEX, stripeEvents } from "./schema";

/** Events that went dead after `afterMs`: how many of each type, and the newest `dead_at` among them. */
export interface Deaths {
  byType: { type: string; count: number }[];
  total: number;
  /** The newest `dead_at` counted, or null when none: where the next count starts. */
  newestDeadAt: number | null;
}

/**
 * Counts the events marked dead after `afterMs`, by type (most first), reading only the dead rows
 * of the attention index.
 *
 * @example
 * const { total, newestDeadAt } = await deathsSince(db, lastAlert.deadSince);
 */
export async function deathsSince(db: Database, afterMs: number): Promise<Deaths> {
  const rows = await db
    .select({ type: stripeEvents.type, count: count(), newest: max(stripeEvents.deadAt) })
    .from(stripeEvents)
    .where(and(IN_ATTENTION_INDEX, sql`${stripeEvents.status} = 'dead'`, gt(stripeEvents.deadAt, afterMs)))
    .groupBy(stripeEvents.type)
    .orderBy(desc(count()), stripeEvents.type);
  const newest = rows.reduce<number | null>((m, r) => (r.newest !== null && (m === null || r.newest > m) ? r.newest : m), null);
  return {
    byType: rows.map((r) => ({ type: r.type, count: r.count })),
    total: rows.reduce((n, r) => n + r.count, 0),
    newestDeadAt: newest,
  };
}

/** Thin events parked for want of STRIPE_SECRET_KEY, read from the attention index (`/health` counts them too). */
export const PARKED_THIN = sql`${PARKED} AND ${stripeEvents.format} = 'thin'`;

/** How many thin events are parked for want of STRIPE_SECRET_KEY (the same count `/health` reports). */
export async function parkedThinCount(db: Database): Promise<number> {
  const [row] = await db.select({ n: count() }).from(stripeEvents).where(PARKED_THIN);
  return row?.n ?? 0;
}
