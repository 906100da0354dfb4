import { and, gt, inArray, isNull, lt, lte, ne, or, sql } from "drizzle-orm";
import { seqAt } from "../../ledger/event";
import { FINAL_STATUSES, OPEN_STATUSES } from "../../ledger/status";
import { LEDGER_TIMING } from "../../ledger/timing";
import { batchAll, chunk, type Database, IDS_PER_STATEMENT, rawStatement } from "../client";
import { stripeEvents } from "../schema";
import { countArrivals, SWEEP_STATE } from "./hours";

// The statements of the ledger's upkeep: the re-drive schedule (a failed send, the cron's sweep and
// re-sends) and retention.

export { SWEEP_STATE } from "./hours";

/**
 * After a failed queue send: makes the rows due at the cron's next run instead of after the grace.
 * The only D1 write a delivery makes after its 2xx, and only on this failure path.
 *
 * @example
 * await markSendFailed(db, ["evt_123"], Date.now());
 */
export async function markSendFailed(db: Database, ids: readonly string[], nowMs: number): Promise<void> {
  await batchAll(
    db,
    chunk(ids, IDS_PER_STATEMENT).map((part) =>
      db
        .update(stripeEvents)
        .set({ redriveAt: nowMs })
        .where(and(inArray(stripeEvents.id, part), inArray(stripeEvents.status, [...OPEN_STATUSES]))),
    ),
  );
}

/**
 * The sweep: rows that arrived after `afterSeq` and at least a grace ago and are still unfinished
 * with no re-drive time (their send was lost, or their consumer is slow or gone) get one, due now,
 * so `takeDue` handles them. Reads at most `limit` rows in arrival order, and in the same transaction
 * counts them in the charts' hourly counters, each as an arrival with its status now (src/db/ledger/hours.ts:
 * the sweep reads every arrival once anyway, so counting costs no read of its own, and one row written
 * per hour of the window) and saves the position it reached (the next sweep starts after it): a
 * window is counted exactly once. Returns how many rows it scheduled and the `seq` it reached.
 *
 * @example
 * const { scheduled, reachedSeq } = await sweepArrivals(db, saved.seq, Date.now(), 5_000);
 */
export async function sweepArrivals(
  db: Database,
  afterSeq: number,
  nowMs: number,
  limit: number,
): Promise<{ scheduled: number; reachedSeq: number }> {
  const inWindow = and(gt(stripeEvents.seq, afterSeq), lt(stripeEvents.seq, seqAt(nowMs - LEDGER_TIMING.graceMs + 1)));
  const window = db.select({ seq: stripeEvents.seq }).from(stripeEvents).where(inWindow).orderBy(stripeEvents.seq).limit(limit);
  // The window's last seq, where the position moves to: the same rows as `window` in this transaction.
  const reached = sql`(SELECT max(seq) FROM (SELECT seq FROM ${stripeEvents} WHERE ${inWindow} ORDER BY seq LIMIT ${limit}))`;
  const [scheduled, , saved] = await db.batch([
    db
      .update(stripeEvents)
      .set({ redriveAt: nowMs })
      .where(
        and(inArray(stripeEvents.seq, window), isNull(stripeEvents.redriveAt), inArray(stripeEvents.status, ["received", "processing"])),
      )
      .returning({ seq: stripeEvents.seq }),
    countArrivals(db, sql`${stripeEvents.seq} > ${afterSeq} AND ${stripeEvents.seq} <= ${reached}`, nowMs),
    rawStatement(
      db,
      sql`INSERT INTO job_state (key, value, updated_at)
          SELECT ${SWEEP_STATE}, json_object('seq', reached), ${nowMs} FROM (SELECT ${reached} AS reached) WHERE reached IS NOT NULL
          ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at RETURNING value`,
    ),
  ]);
  const [row] = (saved as D1Result<{ value: string }>).results;
  const position = row ? (JSON.parse(row.value) as { seq: number }).seq : afterSeq;
  return { scheduled: scheduled.length, reachedSeq: position };
}

/**
 * Takes up to `limit` rows whose re-drive time has passed and reschedules them in the same statement
 * (next time: their age again, between the grace and `maxRedriveIntervalMs`), returning their ids
 * for the caller to send. Rows held under a live lease are left for later.
 *
 * @example
 * const ids = await takeDue(db, Date.now(), 500);
 */
export async function takeDue(db: Database, nowMs: number, limit: number): Promise<string[]> {
  const due = db
    .select({ seq: stripeEvents.seq })
    .from(stripeEvents)
    .where(
      and(
        lte(stripeEvents.redriveAt, nowMs),
        inArray(stripeEvents.status, [...OPEN_STATUSES]),
        or(ne(stripeEvents.status, "processing"), lte(stripeEvents.leaseUntil, nowMs)),
      ),
    )
    .orderBy(stripeEvents.redriveAt)
    .limit(limit);
  const { graceMs, maxRedriveIntervalMs } = LEDGER_TIMING;
  const rows = await db
    .update(stripeEvents)
    .set({ redriveAt: sql`${nowMs} + min(max(${nowMs} - ${stripeEvents.receivedAt}, ${graceMs}), ${maxRedriveIntervalMs})` })
    .where(inArray(stripeEvents.seq, due))
    .returning({ id: stripeEvents.id });
  return rows.map((r) => r.id);
}

/**
 * Deletes up to `limit` final (`processed`, `ignored`) rows that arrived before `beforeMs`, oldest
 * first. `failed` and `dead` rows are never deleted here, and the newest row is always kept so that
 * `seq` never goes back. Returns how many rows it deleted.
 *
 * @example
 * const deleted = await pruneFinal(db, Date.now() - 30 * 86_400_000, 500);
 */
export async function pruneFinal(db: Database, beforeMs: number, limit: number): Promise<number> {
  const old = db
    .select({ seq: stripeEvents.seq })
    .from(stripeEvents)
    .where(
      and(
        lt(stripeEvents.seq, seqAt(beforeMs)),
        sql`${stripeEvents.seq} < (SELECT max(${stripeEvents.seq}) FROM ${stripeEvents})`,
        inArray(stripeEvents.status, [...FINAL_STATUSES]),
      ),
    )
    .orderBy(stripeEvents.seq)
    .limit(limit);
  const deleted = await db.delete(stripeEvents).where(inArray(stripeEvents.seq, old)).returning({ seq: stripeEvents.seq });
  return deleted.length;
}
