import { hourOf, sampleTotals } from "../db/ledger/hours";
import type { Deps } from "../deps";
import { errorName, log } from "../log";

/** The charts reach back this many hours (7 days). */
export const CHART_HOURS = 7 * 24;

/**
 * The one part of the charts' hourly aggregates the cron keeps: each minute it samples how many
 * events are `failed` and `dead` in the whole ledger into the current hour's row, from the attention
 * index (the rows waiting for an operator, never the ledger's arrivals). Every other figure is a
 * counter kept by the sweep and the later moves (src/db/ledger/hours.ts), so no read here grows with
 * the event rate. Returns the hour sampled, or null when D1 failed; never throws.
 *
 * @example
 * await refreshLedgerHours(deps);
 */
export async function refreshLedgerHours(deps: Deps): Promise<number | null> {
  const nowMs = deps.now();
  const hour = hourOf(nowMs);
  try {
    await sampleTotals(deps.db, hour, nowMs);
  } catch (err) {
    log("error", "ledger_hours_failed", { error: errorName(err) });
    return null;
  }
  return hour;
}
