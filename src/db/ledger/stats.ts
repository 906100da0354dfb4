import { and, count, desc, gte, inArray, isNotNull, max, type SQL, sql } from "drizzle-orm";
import { seqAt } from "../../ledger/event";
import { EVENT_STATUSES, type EventStatus, OPEN_STATUSES, UNFINISHED_STATUSES, type UnfinishedStatus } from "../../ledger/status";
import type { Database } from "../client";
import { stripeEvents } from "../schema";
import { candidates } from "./reads";

// Counts for the console, `/admin/api/stats` and the alerts: unfinished rows from the indexes that
// hold them, everything else from a day of arrivals.

/** The window of the arrival counts in the stats. */
const STATS_WINDOW_MS = 24 * 60 * 60_000;

export interface LedgerStats {
  /** Exact counts of events still owed processing and of dead events. */
  unfinished: Record<UnfinishedStatus, number>;
  /** Events that arrived within STATS_WINDOW_MS, by status, by type (the 100 most frequent) and by verifying secret. */
  recent: {
    byStatus: Record<EventStatus, number>;
    byType: { type: string; count: number }[];
    bySecretIndex: { secretIndex: number; count: number; lastReceivedAt: number }[];
  };
  /** The oldest event not yet processed (dead rows excluded: they wait for an operator, not the queue). */
  oldestUnprocessed: { id: string; type: string; receivedAt: number; status: EventStatus } | null;
}

/**
 * Counts for the console and `/admin/api/stats`, in two D1 round trips and without reading the whole
 * ledger: unfinished rows come from the indexes that hold them, the rest from a day of arrivals.
 */
export async function ledgerStats(db: Database, nowMs: number): Promise<LedgerStats> {
  const since = gte(stripeEvents.seq, seqAt(nowMs - STATS_WINDOW_MS));
  const open = (await candidates(db, UNFINISHED_STATUSES))!;
  const type = stripeEvents.type;
  const [unfinishedRows, oldestRows, statusRows, typeRows, secretRows] = await db.batch([
    db
      .select({ status: stripeEvents.status, count: count() })
      .from(stripeEvents)
      .where(and(open, inArray(stripeEvents.status, [...UNFINISHED_STATUSES])))
      .groupBy(stripeEvents.status),
    oldestUnprocessedQuery(db, open),
    db.select({ status: stripeEvents.status, count: count() }).from(stripeEvents).where(since).groupBy(stripeEvents.status),
    db.select({ type, count: count() }).from(stripeEvents).where(since).groupBy(type).orderBy(desc(count()), type).limit(100),
    db
      .select({ secretIndex: stripeEvents.secretIndex, count: count(), lastReceivedAt: max(stripeEvents.receivedAt) })
      .from(stripeEvents)
      .where(and(since, isNotNull(stripeEvents.secretIndex)))
      .groupBy(stripeEvents.secretIndex)
      .orderBy(stripeEvents.secretIndex),
  ]);
  const unfinished = Object.fromEntries(UNFINISHED_STATUSES.map((s) => [s, 0])) as Record<UnfinishedStatus, number>;
  for (const row of unfinishedRows) unfinished[row.status as UnfinishedStatus] = row.count;
  const byStatus = Object.fromEntries(EVENT_STATUSES.map((s) => [s, 0])) as Record<EventStatus, number>;
  for (const row of statusRows) byStatus[row.status] = row.count;
  return {
    unfinished,
    recent: {
      byStatus,
      byType: typeRows,
      bySecretIndex: secretRows.map((r) => ({ secretIndex: r.secretIndex!, count: r.count, lastReceivedAt: r.lastReceivedAt ?? 0 })),
    },
    oldestUnprocessed: oldestRows[0] ?? null,
  };
}

function oldestUnprocessedQuery(db: Database, open: SQL) {
  return db
    .select({ id: stripeEvents.id, type: stripeEvents.type, receivedAt: stripeEvents.receivedAt, status: stripeEvents.status })
    .from(stripeEvents)
    .where(and(open, inArray(stripeEvents.status, [...OPEN_STATUSES])))
    .orderBy(stripeEvents.seq)
    .limit(1);
}

/**
 * The oldest event still owed processing (`received`, `processing`, `failed`; dead ones wait for an
 * operator instead), or null, read from the rows that can hold one (see `candidates`).
 */
export async function oldestUnprocessed(db: Database): Promise<LedgerStats["oldestUnprocessed"]> {
  const [row] = await oldestUnprocessedQuery(db, (await candidates(db, OPEN_STATUSES))!);
  return row ?? null;
}

/** The database's size in bytes, as D1 reports it with every result. */
export async function databaseSize(db: Database): Promise<number | null> {
  const result = await db.run(sql`SELECT 1`);
  return result.meta.size_after ?? null;
}
