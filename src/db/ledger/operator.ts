import { and, inArray, lt, sql } from "drizzle-orm";
import { REPLAYABLE_STATUSES, replayableStatuses } from "../../ledger/status";
import { LEDGER_TIMING } from "../../ledger/timing";
import { batchAll, chunk, type Database, IDS_PER_STATEMENT } from "../client";
import { stripeEvents } from "../schema";

// The moves only an operator makes (the admin API and the console): replay and purge.

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
  const parts = await batchAll(
    db,
    chunk(ids, IDS_PER_STATEMENT).map((part) =>
      db
        .update(stripeEvents)
        .set({ status: "received", attempts: 0, leaseUntil: null, redriveAt: nowMs + LEDGER_TIMING.graceMs, deadAt: null })
        .where(and(inArray(stripeEvents.id, part), inArray(stripeEvents.status, [...replayableStatuses(allowFinal)])))
        .returning({ id: stripeEvents.id }),
    ),
  );
  return parts.flat().map((r) => r.id);
}

/**
 * Deletes `failed`/`dead` rows among `ids` (an operator's explicit purge) and returns the ids deleted.
 * The newest row is kept, like retention does, so that `seq` never goes back.
 *
 * @example
 * const purged = await purgeEvents(db, ["evt_123"]);
 */
export async function purgeEvents(db: Database, ids: readonly string[]): Promise<string[]> {
  const parts = await batchAll(
    db,
    chunk(ids, IDS_PER_STATEMENT).map((part) =>
      db
        .delete(stripeEvents)
        .where(
          and(
            inArray(stripeEvents.id, part),
            inArray(stripeEvents.status, [...REPLAYABLE_STATUSES]),
            lt(stripeEvents.seq, sql`(SELECT max(${stripeEvents.seq}) FROM ${stripeEvents})`),
          ),
        )
        .returning({ id: stripeEvents.id }),
    ),
  );
  return parts.flat().map((r) => r.id);
}
