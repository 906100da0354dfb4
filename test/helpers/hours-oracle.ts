import { env } from "cloudflare:workers";
import { HOUR_MS } from "../../src/db/ledger/hours";
import { emptyLagCounts, lagBucket } from "../../src/ledger/lag";

// The hourly aggregates as the cron used to recompute them from the ledger (before issue 20): counts of
// each hour's arrivals by their status now, and their received → processed lags. The counters the
// Worker keeps now must agree with it on every hour whose events are all still in the ledger.

/** One hour as recomputed from the ledger's rows. */
export interface RecomputedHour {
  hour: number;
  arrivals: number;
  processed: number;
  ignored: number;
  failed: number;
  dead: number;
  /** Received → processed lags of the final arrivals, ascending. */
  lags: number[];
  /** Those lags counted per bucket of src/ledger/lag.ts. */
  lagCounts: number[];
}

/**
 * Every hour that has arrivals in the ledger, recomputed from its rows (a full read: a test oracle).
 *
 * @example
 * const oracle = await recomputeFromLedger();
 */
export async function recomputeFromLedger(db: D1Database = env.DB): Promise<Map<number, RecomputedHour>> {
  const { results } = await db
    .prepare(
      `SELECT seq / ${HOUR_MS * 1000} * ${HOUR_MS} AS hour, status,
              CASE WHEN status IN ('processed', 'ignored') THEN processed_at - received_at END AS lag
       FROM stripe_events ORDER BY hour, lag`,
    )
    .all<{ hour: number; status: string; lag: number | null }>();
  const hours = new Map<number, RecomputedHour>();
  for (const row of results) {
    let h = hours.get(row.hour);
    if (!h) {
      h = { hour: row.hour, arrivals: 0, processed: 0, ignored: 0, failed: 0, dead: 0, lags: [], lagCounts: emptyLagCounts() };
      hours.set(row.hour, h);
    }
    h.arrivals++;
    if (row.status === "processed" || row.status === "ignored" || row.status === "failed" || row.status === "dead") h[row.status]++;
    if (row.lag !== null) {
      h.lags.push(row.lag);
      h.lagCounts[lagBucket(row.lag)]!++;
    }
  }
  return hours;
}

/** The counters kept in `ledger_hours`, by hour, read with plain SQL (`lag_counts` parsed). */
export async function keptHours(db: D1Database = env.DB): Promise<Map<number, Omit<RecomputedHour, "lags">>> {
  const { results } = await db
    .prepare("SELECT hour, arrivals, processed, ignored, failed, dead, lag_counts FROM ledger_hours")
    .all<Omit<RecomputedHour, "lags" | "lagCounts"> & { lag_counts: string }>();
  return new Map(
    results.map(({ lag_counts, ...row }) => {
      const counts = JSON.parse(lag_counts) as number[];
      return [row.hour, { ...row, lagCounts: counts.length === 0 ? emptyLagCounts() : counts }];
    }),
  );
}
