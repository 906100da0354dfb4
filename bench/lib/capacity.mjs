// How long one D1 database lasts, from the measured bytes per event.

/** D1's largest database on Workers Paid, and wrangler.toml's default D1_MAX_BYTES. */
export const D1_LIMIT_BYTES = 10e9;
const DAYS_PER_MONTH = 365.25 / 12;

/**
 * Days until the database holds `limitBytes`, at `eventsPerMonth` spread evenly:
 * - retention off: every event keeps its ledger row and its projection rows;
 * - with `retentionDays`: the ledger holds at most that window of events (SQLite reuses the pages of
 *   deleted rows, so it stops growing there), while the projections keep growing by their bytes per
 *   event: an upper bound, since in the bench every event brings a new object.
 *
 * @example
 * daysUntilFull({ ledgerBytes: 6500, projectionBytes: 400, retentionDays: 30 }).withRetention;
 */
export function daysUntilFull({ ledgerBytes, projectionBytes, retentionDays, eventsPerMonth = 1e6, limitBytes = D1_LIMIT_BYTES }) {
  const perDay = eventsPerMonth / DAYS_PER_MONTH;
  const retentionOff = limitBytes / (perDay * (ledgerBytes + projectionBytes));
  const ledgerSteadyBytes = retentionDays * perDay * ledgerBytes;
  let withRetention;
  if (retentionOff <= retentionDays)
    withRetention = retentionOff; // full before the first deletion
  else if (projectionBytes <= 0) withRetention = Infinity;
  else withRetention = (limitBytes - ledgerSteadyBytes) / (perDay * projectionBytes);
  return { eventsPerDay: perDay, retentionOff, withRetention, ledgerSteadyBytes };
}
