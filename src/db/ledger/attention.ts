import { and, count, desc, gt, max, sql } from "drizzle-orm";
import type { Database } from "../client";
import { IN_ATTENTION_INDEX, jobState, stripeEvents } from "../schema";

/**
 * The condition of a parked row (see `parkEvent` in consumer.ts: `failed` with no re-drive time). It
 * names the attention index's condition verbatim, so SQLite reads only `failed`/`dead` rows from
 * `stripe_events_attention_idx`, never the ledger.
 */
export const PARKED = sql`${IN_ATTENTION_INDEX} AND ${stripeEvents.status} = 'failed' AND ${stripeEvents.redriveAt} IS NULL`;

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

/** What `/health` and the alerts read besides the secrets and settings (see `readAttention`). */
export interface AttentionReadings {
  /** Thin events parked for want of STRIPE_SECRET_KEY. */
  parkedThin: number;
  /** The job_state value saved under the key asked for (the endpoint drift check's report), parsed; null when none. */
  saved: unknown;
  /** The database's size in bytes, as D1 reports it with every result. */
  sizeBytes: number | undefined;
}

/**
 * One query that proves D1 answers on the current schema, counts the parked thin events (from the
 * attention index, never the ledger), reads one job_state value (`/health` and the alerts read the
 * endpoint drift check's saved report, so neither calls Stripe) and reports the database's size.
 * Throws what D1 throws.
 *
 * @example
 * const { parkedThin, saved, sizeBytes } = await readAttention(db, ENDPOINT_CHECK_STATE);
 */
export async function readAttention(db: Database, jobStateKey: string): Promise<AttentionReadings> {
  const result = await db.run(
    sql`SELECT count(*) AS parked,
               (SELECT ${jobState.value} FROM ${jobState} WHERE ${jobState.key} = ${jobStateKey}) AS saved
        FROM ${stripeEvents} WHERE ${PARKED_THIN}`,
  );
  const row = result.results[0] as { parked: number; saved: string | null } | undefined;
  return {
    parkedThin: row?.parked ?? 0,
    saved: row?.saved ? (JSON.parse(row.saved) as unknown) : null,
    sizeBytes: result.meta.size_after ?? undefined,
  };
}
