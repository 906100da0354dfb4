// How long one D1 database lasts, and how many events a month it holds, from the measured bytes per event.

/** D1's largest database on Workers Paid, and wrangler.toml's default D1_MAX_BYTES. */
export const D1_LIMIT_BYTES = 10e9;
const DAYS_PER_MONTH = 365.25 / 12;

/**
 * Days until the database holds `limitBytes`, at `eventsPerMonth` spread evenly:
 * - retention off: every event keeps its ledger row and its projection rows;
 * - with `retentionDays`: the ledger holds at most that window of events (SQLite reuses the pages of
 *   deleted rows, so it stops growing there), while the projections (and, with the archive, its
 *   catalogue) keep growing by their bytes per event: an upper bound for the projections, since in
 *   the bench every event brings a new object.
 *
 * @example
 * daysUntilFull({ ledgerBytes: 2000, projectionBytes: 160, growthBytes: 4, retentionDays: 7 }).withRetention;
 */
export function daysUntilFull({
  ledgerBytes,
  projectionBytes,
  growthBytes = 0,
  retentionDays,
  eventsPerMonth = 1e6,
  limitBytes = D1_LIMIT_BYTES,
}) {
  const perDay = eventsPerMonth / DAYS_PER_MONTH;
  const growing = projectionBytes + growthBytes;
  const retentionOff = limitBytes / (perDay * (ledgerBytes + projectionBytes));
  const ledgerSteadyBytes = retentionDays * perDay * ledgerBytes;
  let withRetention;
  if (ledgerSteadyBytes >= limitBytes) withRetention = limitBytes / (perDay * (ledgerBytes + growing));
  else if (growing <= 0) withRetention = Infinity;
  else withRetention = (limitBytes - ledgerSteadyBytes) / (perDay * growing);
  return { eventsPerDay: perDay, retentionOff, withRetention, ledgerSteadyBytes };
}

/**
 * The most events a month one database holds at its steady state: the hot ledger (`retentionDays` of
 * events at `ledgerBytes` each, indexes included) filling `limitBytes`; the projections' and the
 * archive catalogue's growth come on top, month by month (see `daysUntilFull`).
 *
 * @example
 * eventsPerMonthHeld({ ledgerBytes: 2200, retentionDays: 7 }); // ≈ 19.8M
 */
export function eventsPerMonthHeld({ ledgerBytes, retentionDays, limitBytes = D1_LIMIT_BYTES }) {
  return (limitBytes / (ledgerBytes * retentionDays)) * DAYS_PER_MONTH;
}
