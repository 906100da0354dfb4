/**
 * How long events took from arrival to their final status, kept as counts per bucket rather than
 * as the lags themselves: the hourly aggregates (`ledger_hours.lag_counts`) add one to a bucket when
 * an event becomes final and take it away when a replay reopens it, so the charts' percentiles never
 * need the ledger's rows. Pure.
 *
 * Bucket `i` holds lags below `LAG_BUCKET_EDGES_MS[i]` (and at or above the edge before it); the last
 * bucket holds everything from 12 hours up. Edges roughly double or more, so a percentile read from
 * the buckets is within its bucket: at most about 2.5 times off, which a logarithmic chart shows as a
 * small step.
 */
export const LAG_BUCKET_EDGES_MS = [
  250, 500, 1_000, 2_000, 5_000, 10_000, 30_000, 60_000, 120_000, 300_000, 600_000, 1_800_000, 3_600_000, 10_800_000, 43_200_000,
] as const;

/** How many buckets there are: one per edge, and the last one above every edge. */
export const LAG_BUCKETS = LAG_BUCKET_EDGES_MS.length + 1;

/**
 * The bucket a lag falls in.
 *
 * @example
 * lagBucket(800); // 2: at least 500 ms, below 1 s
 */
export function lagBucket(lagMs: number): number {
  const i = LAG_BUCKET_EDGES_MS.findIndex((edge) => lagMs < edge);
  return i === -1 ? LAG_BUCKET_EDGES_MS.length : i;
}

/**
 * The `p`th percentile (nearest rank) of the lags counted in `counts`, interpolated within its bucket
 * by rank; null when nothing was counted. The last bucket has no upper edge: its lower edge is given.
 * Negative counts (an hour whose earlier figures were frozen before the counts existed) count as 0.
 *
 * @example
 * lagPercentile([0, 0, 10, 0, …], 50); // between 500 and 1000 ms
 */
export function lagPercentile(counts: readonly number[], p: number): number | null {
  const clean = counts.map((n) => Math.max(0, n));
  const total = clean.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil((total * p) / 100));
  let before = 0;
  for (const [i, n] of clean.entries()) {
    if (before + n >= rank) {
      const low = i === 0 ? 0 : LAG_BUCKET_EDGES_MS[i - 1]!;
      const high = LAG_BUCKET_EDGES_MS[i];
      if (high === undefined) return low;
      return Math.round(low + ((high - low) * (rank - before)) / n);
    }
    before += n;
  }
  return null;
}

/**
 * An empty set of counts, one per bucket.
 *
 * @example
 * const counts = emptyLagCounts(); counts[lagBucket(1200)]++;
 */
export function emptyLagCounts(): number[] {
  return new Array<number>(LAG_BUCKETS).fill(0);
}
