import { and, count, desc, eq, gte, inArray, isNotNull, lt, lte, max, or, type SQL } from "drizzle-orm";
import type { Database } from "./client";
import { IDS_PER_STATEMENT, REDRIVE_AFTER_MS } from "./events";
import { EVENT_STATUSES, stripeEvents, type EventStatus, type StripeEventRow } from "./schema";

/** What an operator may filter events by; every field is optional. Times are Unix ms of receipt. */
export interface EventFilter {
  statuses?: readonly EventStatus[];
  type?: string;
  receivedFrom?: number;
  receivedTo?: number;
}

/** A position in the list order (received_at desc, id desc): the last row of the previous page. */
export interface Cursor {
  receivedAt: number;
  id: string;
}

/** Statuses an operator may replay: the retries either ran out or are still failing. */
export const REPLAYABLE: readonly EventStatus[] = ["dead", "failed"];

/** The list row: everything but the payload, which can be large. */
export type EventSummary = Omit<StripeEventRow, "payload">;

const summaryColumns = {
  id: stripeEvents.id,
  type: stripeEvents.type,
  apiVersion: stripeEvents.apiVersion,
  livemode: stripeEvents.livemode,
  account: stripeEvents.account,
  created: stripeEvents.created,
  receivedAt: stripeEvents.receivedAt,
  status: stripeEvents.status,
  attempts: stripeEvents.attempts,
  lastError: stripeEvents.lastError,
  processedAt: stripeEvents.processedAt,
  redriveAt: stripeEvents.redriveAt,
  secretIndex: stripeEvents.secretIndex,
  source: stripeEvents.source,
};

function whereOf(filter: EventFilter, after: Cursor | null): SQL | undefined {
  const parts: (SQL | undefined)[] = [
    filter.statuses && filter.statuses.length > 0 ? inArray(stripeEvents.status, [...filter.statuses]) : undefined,
    filter.type ? eq(stripeEvents.type, filter.type) : undefined,
    filter.receivedFrom !== undefined ? gte(stripeEvents.receivedAt, filter.receivedFrom) : undefined,
    filter.receivedTo !== undefined ? lte(stripeEvents.receivedAt, filter.receivedTo) : undefined,
    after ? or(lt(stripeEvents.receivedAt, after.receivedAt), and(eq(stripeEvents.receivedAt, after.receivedAt), lt(stripeEvents.id, after.id))) : undefined,
  ];
  return and(...parts);
}

/**
 * One page of events matching the filter, newest first (ties broken by id, so the order is stable
 * and a cursor never skips or repeats a row). `next` is null on the last page.
 */
export async function listEvents(db: Database, filter: EventFilter, after: Cursor | null, limit: number): Promise<{ events: EventSummary[]; next: Cursor | null }> {
  const rows = await db
    .select(summaryColumns)
    .from(stripeEvents)
    .where(whereOf(filter, after))
    .orderBy(desc(stripeEvents.receivedAt), desc(stripeEvents.id))
    .limit(limit + 1);
  const events = rows.slice(0, limit);
  const last = events.at(-1);
  return { events, next: rows.length > limit && last ? { receivedAt: last.receivedAt, id: last.id } : null };
}

/** The full ledger row for one event, payload and last error included, or null. */
export async function getEvent(db: Database, id: string): Promise<StripeEventRow | null> {
  const rows = await db.select().from(stripeEvents).where(eq(stripeEvents.id, id)).limit(1);
  return rows[0] ?? null;
}

/**
 * Puts `dead`/`failed` rows among `ids` back to `queued` in one conditional statement per chunk
 * (rows that moved on meanwhile are left alone) and returns the ids it reset. Attempts restart at 0
 * so the retry backoff starts afresh; the last error stays visible until the next outcome. The
 * redrive deadline is a minute away: if the queue send that follows fails, the cron picks the row up.
 */
export async function resetForReplay(db: Database, ids: readonly string[], nowMs: number): Promise<string[]> {
  const reset: string[] = [];
  for (let i = 0; i < ids.length; i += IDS_PER_STATEMENT) {
    const rows = await db
      .update(stripeEvents)
      .set({ status: "queued", attempts: 0, redriveAt: nowMs + REDRIVE_AFTER_MS.received })
      .where(and(inArray(stripeEvents.id, ids.slice(i, i + IDS_PER_STATEMENT)), inArray(stripeEvents.status, [...REPLAYABLE])))
      .returning({ id: stripeEvents.id });
    reset.push(...rows.map((r) => r.id));
  }
  return reset;
}

/** Ids of replayable rows matching the filter after the cursor, in list order, at most `limit`. */
export async function findReplayable(db: Database, filter: EventFilter, after: Cursor | null, limit: number): Promise<{ ids: string[]; next: Cursor | null }> {
  const statuses = (filter.statuses ?? REPLAYABLE).filter((s) => REPLAYABLE.includes(s));
  if (statuses.length === 0) return { ids: [], next: null };
  const rows = await db
    .select({ id: stripeEvents.id, receivedAt: stripeEvents.receivedAt })
    .from(stripeEvents)
    .where(whereOf({ ...filter, statuses }, after))
    .orderBy(desc(stripeEvents.receivedAt), desc(stripeEvents.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { ids: page.map((r) => r.id), next: rows.length > limit && last ? { receivedAt: last.receivedAt, id: last.id } : null };
}

/** Statuses that still owe processing. */
const UNFINISHED: EventStatus[] = ["received", "queued", "processing", "failed"];

export interface LedgerStats {
  byStatus: Record<EventStatus, number>;
  byType: { type: string; count: number }[];
  /** The oldest event not yet processed (dead rows excluded: they wait for an operator, not the queue). */
  oldestUnprocessed: { id: string; receivedAt: number; status: EventStatus } | null;
  /** Deliveries per position of the secret that verified them; recovered events have none. */
  bySecretIndex: { secretIndex: number; count: number; lastReceivedAt: number }[];
}

/** Counts for the console and `/admin/api/stats`, in one D1 round trip. */
export async function ledgerStats(db: Database): Promise<LedgerStats> {
  const [statusRows, typeRows, oldestRows, secretRows] = await db.batch([
    db.select({ status: stripeEvents.status, count: count() }).from(stripeEvents).groupBy(stripeEvents.status),
    db.select({ type: stripeEvents.type, count: count() }).from(stripeEvents).groupBy(stripeEvents.type).orderBy(desc(count()), stripeEvents.type).limit(100),
    db
      .select({ id: stripeEvents.id, receivedAt: stripeEvents.receivedAt, status: stripeEvents.status })
      .from(stripeEvents)
      .where(inArray(stripeEvents.status, UNFINISHED))
      .orderBy(stripeEvents.receivedAt, stripeEvents.id)
      .limit(1),
    db
      .select({ secretIndex: stripeEvents.secretIndex, count: count(), lastReceivedAt: max(stripeEvents.receivedAt) })
      .from(stripeEvents)
      .where(isNotNull(stripeEvents.secretIndex))
      .groupBy(stripeEvents.secretIndex)
      .orderBy(stripeEvents.secretIndex),
  ]);
  const byStatus = Object.fromEntries(EVENT_STATUSES.map((s) => [s, 0])) as Record<EventStatus, number>;
  for (const row of statusRows) byStatus[row.status] = row.count;
  return {
    byStatus,
    byType: typeRows,
    oldestUnprocessed: oldestRows[0] ?? null,
    bySecretIndex: secretRows.map((r) => ({ secretIndex: r.secretIndex!, count: r.count, lastReceivedAt: r.lastReceivedAt ?? 0 })),
  };
}
