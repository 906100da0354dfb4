import type { LedgerHourRow } from "../../db/schema";
import { lagPercentile } from "../../ledger/lag";

// What the charts read from an hour's counters (src/db/ledger/hours.ts keeps them).

/**
 * An hour's arrivals in no other counted status: received or processing (the charts' rows include
 * the arrivals the sweep has not counted yet: `readChartHours`).
 */
export function pending(r: LedgerHourRow): number {
  return Math.max(0, r.arrivals - Math.max(0, r.processed) - Math.max(0, r.ignored) - Math.max(0, r.failed) - Math.max(0, r.dead));
}

/**
 * The `p`th percentile of an hour's received → processed lag, read from its lag buckets, or the
 * percentile stored for an hour aggregated before the buckets existed; null when it has neither.
 */
export function lagOf(r: LedgerHourRow, p: 50 | 95): number | null {
  const counts = JSON.parse(r.lagCounts) as number[];
  return lagPercentile(counts, p) ?? (p === 50 ? r.lagP50Ms : r.lagP95Ms);
}
