import { and, gte, lt } from "drizzle-orm";
import type { Database } from "../db/client";
import { HOUR_MS, hourOf, recomputeHour } from "../db/ledger/hours";
import { ledgerHours } from "../db/schema";
import type { Deps } from "../deps";
import { errorName, log } from "../log";

/** The charts reach back this many hours (7 days); a missing hour in it is filled, one per run. */
export const CHART_HOURS = 7 * 24;
/**
 * Hours older than the previous one still change (retries end in `dead` hours after arrival, replays,
 * the sweep's re-drives), so each run also recomputes one of the hours 2 to 47 back, in turn: each is
 * refreshed every 46 minutes. Older hours keep their figures (retention, at least 3 days, may already
 * have deleted their final events, so recomputing them would undercount).
 */
const REFRESH_HOURS = 48;

/**
 * Keeps `ledger_hours` current for the charts, from bounded reads, never a write per event. Each run
 * (every minute) recomputes the current hour (and samples the failed/dead totals into it), the
 * previous one, one older hour in turn (see REFRESH_HOURS), and the newest hour of the last week that
 * has no row yet (after an outage, or on a new install). At most four hours of arrivals are read; a
 * row is written only when its figures changed. Never throws.
 *
 * @example
 * await refreshLedgerHours(deps);
 */
export async function refreshLedgerHours(deps: Deps): Promise<number[]> {
  const { db } = deps;
  const nowMs = deps.now();
  const current = hourOf(nowMs);
  const hours = [current, current - HOUR_MS, hourInTurn(current, nowMs)];
  try {
    const missing = await newestMissingHour(db, current - CHART_HOURS * HOUR_MS, current - HOUR_MS);
    if (missing !== null && !hours.includes(missing)) hours.push(missing);
    // One statement per hour (drizzle cannot batch raw SQL); each stands alone, so an error leaves
    // the others' rows as they were, to be recomputed next minute.
    for (const hour of hours) await recomputeHour(db, hour, nowMs, hour === current);
  } catch (err) {
    log("error", "ledger_hours_failed", { error: errorName(err) });
    return [];
  }
  return hours;
}

/**
 * The hour 2 to 47 back whose number (hours since the epoch) has this minute's residue modulo 46: each
 * hour of that window comes round once every 46 minutes, also across the turn of an hour (counted by
 * offset from the current hour instead, an hour crossed halfway through a round would shift every
 * offset by one and could skip an hour for a round).
 *
 * @example
 * hourInTurn(hourOf(now), now); // an hour between current - 47 h and current - 2 h
 */
export function hourInTurn(current: number, nowMs: number): number {
  const span = REFRESH_HOURS - 2;
  const oldest = current / HOUR_MS - (REFRESH_HOURS - 1);
  const offset = (((Math.floor(nowMs / 60_000) - oldest) % span) + span) % span;
  return (oldest + offset) * HOUR_MS;
}

/** The newest hour in [`from`, `to`) without a row, or null (reads at most CHART_HOURS rows of ledger_hours). */
async function newestMissingHour(db: Database, from: number, to: number): Promise<number | null> {
  const rows = await db
    .select({ hour: ledgerHours.hour })
    .from(ledgerHours)
    .where(and(gte(ledgerHours.hour, from), lt(ledgerHours.hour, to)));
  const present = new Set(rows.map((r) => r.hour));
  for (let hour = to - HOUR_MS; hour >= from; hour -= HOUR_MS) if (!present.has(hour)) return hour;
  return null;
}
