import { and, asc, gte, lt, sql } from "drizzle-orm";
import { seqAt } from "../../ledger/event";
import { FINAL_STATUSES } from "../../ledger/status";
import type { Database } from "../client";
import { IN_ATTENTION_INDEX, type LedgerHourRow, ledgerHours } from "../schema";

export const HOUR_MS = 3_600_000;

/** The start of the UTC hour holding `ms`. */
export function hourOf(ms: number): number {
  return Math.floor(ms / HOUR_MS) * HOUR_MS;
}

/**
 * The statement that recomputes one hour's row of `ledger_hours` from that hour's arrivals: counts by
 * status and the received → processed lag (nearest-rank p50 and p95 of final arrivals). It reads the
 * hour's `seq` range once and nothing else of the ledger; with `sampleTotals` it also records how many
 * events are `failed` and `dead` in the whole ledger now, counted from the attention index alone.
 * An unchanged row is not rewritten (D1 bills no row for it).
 *
 * @example
 * await recomputeHour(db, hourOf(Date.now()), Date.now(), true);
 */
export function recomputeHour(db: Database, hour: number, nowMs: number, sampleTotals: boolean) {
  const total = (status: "failed" | "dead") =>
    sampleTotals ? sql`(SELECT count(*) FROM stripe_events WHERE ${IN_ATTENTION_INDEX} AND status = ${status})` : sql`NULL`;
  const count = (status: string) => sql`count(CASE WHEN status = ${status} THEN 1 END)`;
  const final = sql.raw(FINAL_STATUSES.map((s) => `'${s}'`).join(", "));
  // Nearest rank: the smallest lag whose rank r satisfies r ≥ p·n/100.
  const percentile = (p: number) => sql`min(CASE WHEN rank * 100 >= n * ${p} THEN lag END)`;
  return db.run(sql`
    WITH arrivals AS (
      SELECT status, processed_at - received_at AS lag FROM stripe_events WHERE seq >= ${seqAt(hour)} AND seq < ${seqAt(hour + HOUR_MS)}
    ),
    counts AS (
      SELECT ${count("received")} AS received, ${count("processing")} AS processing, ${count("processed")} AS processed,
             ${count("ignored")} AS ignored, ${count("failed")} AS failed, ${count("dead")} AS dead
      FROM arrivals
    ),
    lags AS (
      SELECT lag, row_number() OVER (ORDER BY lag) AS rank, count(*) OVER () AS n
      FROM arrivals WHERE status IN (${final}) AND lag IS NOT NULL
    ),
    percentiles AS (SELECT ${percentile(50)} AS p50, ${percentile(95)} AS p95 FROM lags)
    INSERT INTO ledger_hours (hour, received, processing, processed, ignored, failed, dead, lag_p50_ms, lag_p95_ms,
                              failed_total, dead_total, updated_at)
    SELECT ${hour}, received, processing, processed, ignored, failed, dead, p50, p95, ${total("failed")}, ${total("dead")}, ${nowMs}
    FROM counts, percentiles WHERE true
    ON CONFLICT (hour) DO UPDATE SET
      received = excluded.received, processing = excluded.processing, processed = excluded.processed, ignored = excluded.ignored,
      failed = excluded.failed, dead = excluded.dead, lag_p50_ms = excluded.lag_p50_ms, lag_p95_ms = excluded.lag_p95_ms,
      failed_total = coalesce(excluded.failed_total, failed_total), dead_total = coalesce(excluded.dead_total, dead_total),
      updated_at = excluded.updated_at
    WHERE (received, processing, processed, ignored, failed, dead, lag_p50_ms, lag_p95_ms,
           coalesce(excluded.failed_total, failed_total), coalesce(excluded.dead_total, dead_total))
       IS NOT (excluded.received, excluded.processing, excluded.processed, excluded.ignored, excluded.failed, excluded.dead,
               excluded.lag_p50_ms, excluded.lag_p95_ms, failed_total, dead_total)
  `);
}

/** The rows of `ledger_hours` for hours in [`from`, `to`), oldest first (at most a row per hour). */
export async function readHours(db: Database, from: number, to: number): Promise<LedgerHourRow[]> {
  return db
    .select()
    .from(ledgerHours)
    .where(and(gte(ledgerHours.hour, from), lt(ledgerHours.hour, to)))
    .orderBy(asc(ledgerHours.hour));
}
