import { and, inArray, lt, type SQL, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { type EventStatus, REPLAYABLE_STATUSES, replayableStatuses } from "../../ledger/status";
import { LEDGER_TIMING } from "../../ledger/timing";
import { batchAll, chunk, type Database, IDS_PER_STATEMENT } from "../client";
import { stripeEvents } from "../schema";
import { type CountedStatus, countMove, type Move, whenStatus } from "./hours";

// The moves only an operator makes (the admin API and the console): replay and purge, each after the
// count that keeps the charts' hourly counters (src/db/ledger/hours.ts), with the same WHERE.

/** What leaving `statuses` takes from the counters: one from the row's own status, and a final row's lag. */
function leaving(statuses: readonly EventStatus[]): Move {
  const counted = statuses.filter((s): s is CountedStatus => s !== "received" && s !== "processing");
  const lag = sql`${stripeEvents.processedAt} - ${stripeEvents.receivedAt}`;
  const final = sql`(CASE WHEN ${stripeEvents.status} IN ('processed', 'ignored') THEN ${lag} END)`;
  return {
    counts: Object.fromEntries(counted.map((s) => [s, whenStatus(s, -1)])),
    ...(counted.some((s) => s === "processed" || s === "ignored") ? { lag: { sign: -1 as const, lagMs: final } } : {}),
  };
}

/**
 * The statements resetting the rows `where` selects among `statuses` for a replay (with their count
 * first), returning the ids reset; `restore` (src/archive/restore.ts) runs them for the rows it puts back.
 */
export function resetStatements(db: Database, where: SQL | undefined, statuses: readonly EventStatus[], nowMs: number) {
  const matching = and(where, inArray(stripeEvents.status, [...statuses]));
  return [
    countMove(db, matching, leaving(statuses), nowMs),
    db
      .update(stripeEvents)
      .set({ status: "received", attempts: 0, leaseUntil: null, redriveAt: nowMs + LEDGER_TIMING.graceMs, deadAt: null })
      .where(matching)
      .returning({ id: stripeEvents.id }),
  ] as const;
}

/**
 * Puts `failed`/`dead` rows among `ids` (and `processed`/`ignored` ones with `allowFinal`) back to
 * `received`, due for the cron a grace from now (so a replay whose send fails is still re-driven),
 * and returns the ids it reset. Attempts restart at 0 so the retry backoff starts afresh; the last
 * error stays visible until the next outcome.
 *
 * @example
 * const reset = await resetForReplay(db, ["evt_123"], Date.now());
 */
export async function resetForReplay(db: Database, ids: readonly string[], nowMs: number, allowFinal = false): Promise<string[]> {
  const statements: BatchItem<"sqlite">[] = chunk(ids, IDS_PER_STATEMENT).flatMap((part) => [
    ...resetStatements(db, inArray(stripeEvents.id, part), replayableStatuses(allowFinal), nowMs),
  ]);
  const results = await batchAll(db, statements);
  return results.filter((_, i) => i % 2 === 1).flatMap((r) => (r as unknown as { id: string }[]).map((row) => row.id));
}

/**
 * Deletes `failed`/`dead` rows among `ids` (an operator's explicit purge) and returns the ids deleted.
 * The newest row is kept, like retention does, so that `seq` never goes back.
 *
 * @example
 * const purged = await purgeEvents(db, ["evt_123"], Date.now());
 */
export async function purgeEvents(db: Database, ids: readonly string[], nowMs: number): Promise<string[]> {
  const statements: BatchItem<"sqlite">[] = chunk(ids, IDS_PER_STATEMENT).flatMap((part) => {
    const where = and(
      inArray(stripeEvents.id, part),
      inArray(stripeEvents.status, [...REPLAYABLE_STATUSES]),
      lt(stripeEvents.seq, sql`(SELECT max(${stripeEvents.seq}) FROM ${stripeEvents})`),
    );
    const move = leaving(REPLAYABLE_STATUSES);
    const gone = { ...move, counts: { ...move.counts, arrivals: sql`-1` } };
    return [countMove(db, where, gone, nowMs), db.delete(stripeEvents).where(where).returning({ id: stripeEvents.id })];
  });
  const results = await batchAll(db, statements);
  return results.filter((_, i) => i % 2 === 1).flatMap((r) => (r as unknown as { id: string }[]).map((row) => row.id));
}
