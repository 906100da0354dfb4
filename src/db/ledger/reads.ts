import { and, count, desc, eq, gt, gte, inArray, isNotNull, lt, type SQL, sql } from "drizzle-orm";
import { unionAll } from "drizzle-orm/sqlite-core";
import { seqAt } from "../../ledger/event";
import { type EventStatus, OPEN_STATUSES, REPLAYABLE_STATUSES } from "../../ledger/status";
import type { Database } from "../client";
import { readJobState } from "../job-state";
import { IN_ATTENTION_INDEX, type StripeEventRow, stripeEvents } from "../schema";
import { decodePayload } from "./payload";
import { SWEEP_STATE } from "./upkeep";

// What the console and the admin API read from the ledger: filtered pages in arrival order, one
// event, and what a bulk replay would take. Every read is bounded (an index, or SCAN_WINDOW rows).

/** What an operator may filter events by; every field is optional. Times are Unix ms of arrival. */
export interface EventFilter {
  statuses?: readonly EventStatus[];
  type?: string;
  receivedFrom?: number;
  receivedTo?: number;
}

/** A position in the list order (arrival, newest first): the `seq` of the last row of the previous page. */
export type Cursor = number;

/** The list row: everything but the payload, which can be large. */
export type EventSummary = Omit<StripeEventRow, "payload" | "payloadEncoding">;

/** One event whole: its summary and its payload as the JSON text it was received as, whatever its storage. */
export type EventRecord = EventSummary & { payload: string };

/** The columns of an `EventSummary`, for queries that list events. */
export const summaryColumns = {
  seq: stripeEvents.seq,
  id: stripeEvents.id,
  type: stripeEvents.type,
  apiVersion: stripeEvents.apiVersion,
  livemode: stripeEvents.livemode,
  account: stripeEvents.account,
  created: stripeEvents.created,
  receivedAt: stripeEvents.receivedAt,
  status: stripeEvents.status,
  attempts: stripeEvents.attempts,
  leaseUntil: stripeEvents.leaseUntil,
  lastError: stripeEvents.lastError,
  processedAt: stripeEvents.processedAt,
  deadAt: stripeEvents.deadAt,
  redriveAt: stripeEvents.redriveAt,
  secretIndex: stripeEvents.secretIndex,
  source: stripeEvents.source,
  format: stripeEvents.format,
  objectId: stripeEvents.objectId,
  context: stripeEvents.context,
  twinOf: stripeEvents.twinOf,
};

/**
 * Where rows of the given statuses can be found without reading the whole ledger, or undefined when
 * they are everywhere (`processed`, `ignored`: most rows, so a page fills quickly in arrival order).
 * `failed`/`dead` rows are in the attention index; `received`/`processing`/`failed` rows are either
 * newer than the sweep's position or have a re-drive time (the sweep gives one to every unfinished
 * row it passes). The term must name the partial index's condition verbatim for SQLite to use it.
 */
export async function candidates(db: Database, statuses: readonly EventStatus[]): Promise<SQL | undefined> {
  const attention = (s: EventStatus) => (REPLAYABLE_STATUSES as readonly EventStatus[]).includes(s);
  const open = (s: EventStatus) => (OPEN_STATUSES as readonly EventStatus[]).includes(s);
  if (statuses.every(attention)) return IN_ATTENTION_INDEX;
  if (!statuses.every((s) => attention(s) || open(s))) return undefined;
  const sweptTo = (await readJobState<{ seq: number }>(db, SWEEP_STATE))?.seq ?? 0;
  const seqs = (where: SQL | undefined) => db.select({ seq: stripeEvents.seq }).from(stripeEvents).where(where);
  const sources = [seqs(isNotNull(stripeEvents.redriveAt)), seqs(gt(stripeEvents.seq, sweptTo)), seqs(IN_ATTENTION_INDEX)] as const;
  return inArray(stripeEvents.seq, statuses.includes("dead") ? unionAll(...sources) : unionAll(sources[0], sources[1]));
}

/**
 * Rows a page of a filter that no index answers (a type, `processed`/`ignored`) reads at most: the
 * newest arrivals before the cursor. Reading until `limit` matches are found could read the whole
 * ledger for a rare type; a window keeps every page bounded, at the price of pages that may hold
 * fewer matches than `limit` (even none) while `next` continues where the window ended.
 */
export const SCAN_WINDOW = 5_000;

function nonEmpty(statuses: readonly EventStatus[] | undefined): readonly EventStatus[] | undefined {
  return statuses && statuses.length > 0 ? statuses : undefined;
}

/**
 * The arrivals a page may read: below the cursor (or `to`), at or above `from`. Always bounded above,
 * so the plan is a range on the rowid or an index, never a table scan.
 */
function arrivalRange(filter: EventFilter, after: Cursor | null): SQL | undefined {
  return and(
    lt(stripeEvents.seq, after ?? (filter.receivedTo !== undefined ? seqAt(filter.receivedTo + 1) : Number.MAX_SAFE_INTEGER)),
    filter.receivedTo !== undefined && after !== null ? lt(stripeEvents.seq, seqAt(filter.receivedTo + 1)) : undefined,
    filter.receivedFrom !== undefined ? gte(stripeEvents.seq, seqAt(filter.receivedFrom)) : undefined,
  );
}

/**
 * The WHERE of an indexed page: the arrival range, the filter, and `indexed`, the caller's
 * `candidates` term for the filter's statuses (computed once: for open statuses it reads the sweep's
 * position, a round trip of its own).
 */
function whereOf(filter: EventFilter, after: Cursor | null, indexed: SQL | undefined): SQL | undefined {
  const statuses = nonEmpty(filter.statuses);
  return and(
    arrivalRange(filter, after),
    statuses ? inArray(stripeEvents.status, [...statuses]) : undefined,
    indexed,
    filter.type ? eq(stripeEvents.type, filter.type) : undefined,
  );
}

/** A page of the list. `window` is set when the page read a bounded window of arrivals (see SCAN_WINDOW). */
export interface EventPage {
  events: EventSummary[];
  next: Cursor | null;
  window: { rowsRead: number; oldestSeq: number | null } | null;
}

/**
 * One page of events matching the filter, newest arrival first (a cursor never skips or repeats a
 * row: `seq` is unique). `next` is null on the last page. Time filters apply to the arrival time.
 * A filter that names a type or a final status, and whose statuses no partial index holds, reads at
 * most SCAN_WINDOW arrivals per page (see `window`); every other filter reads what it returns.
 */
export async function listEvents(db: Database, filter: EventFilter, after: Cursor | null, limit: number): Promise<EventPage> {
  const statuses = nonEmpty(filter.statuses);
  const indexed = statuses ? await candidates(db, statuses) : undefined;
  if (indexed === undefined && (statuses !== undefined || filter.type)) return listWindow(db, filter, after, limit);
  const rows = await db
    .select(summaryColumns)
    .from(stripeEvents)
    .where(whereOf(filter, after, indexed))
    .orderBy(desc(stripeEvents.seq))
    .limit(limit + 1);
  const events = rows.slice(0, limit);
  return { events, next: rows.length > limit ? events.at(-1)!.seq : null, window: null };
}

/**
 * The matches among the SCAN_WINDOW newest arrivals of the range, and where that window ended, in one
 * round trip. Each statement reads the window once, by the rowid, newest first.
 */
async function listWindow(db: Database, filter: EventFilter, after: Cursor | null, limit: number): Promise<EventPage> {
  const statuses = nonEmpty(filter.statuses);
  const arrivals = db
    .select(summaryColumns)
    .from(stripeEvents)
    .where(arrivalRange(filter, after))
    .orderBy(desc(stripeEvents.seq))
    .limit(SCAN_WINDOW)
    .as("arrivals");
  const arrivalSeqs = db
    .select({ seq: stripeEvents.seq })
    .from(stripeEvents)
    .where(arrivalRange(filter, after))
    .orderBy(desc(stripeEvents.seq))
    .limit(SCAN_WINDOW)
    .as("arrivals");
  const [rows, [bound]] = await db.batch([
    db
      .select()
      .from(arrivals)
      .where(and(statuses ? inArray(arrivals.status, [...statuses]) : undefined, filter.type ? eq(arrivals.type, filter.type) : undefined))
      .orderBy(desc(arrivals.seq))
      .limit(limit + 1),
    db.select({ rowsRead: count(), oldestSeq: sql<number | null>`min(${arrivalSeqs.seq})` }).from(arrivalSeqs),
  ]);
  const events = rows.slice(0, limit);
  const window = { rowsRead: bound?.rowsRead ?? 0, oldestSeq: bound?.oldestSeq ?? null };
  // More matches than fit: continue after the last one shown. Otherwise, if the window was full,
  // older arrivals are still unread: continue where the window ended.
  const next = rows.length > limit ? events.at(-1)!.seq : window.rowsRead === SCAN_WINDOW ? window.oldestSeq : null;
  return { events, next, window };
}

/** The full ledger row for one event, payload (decoded) and last error included, or null. */
export async function getEvent(db: Database, id: string): Promise<EventRecord | null> {
  const [row] = await db.select().from(stripeEvents).where(eq(stripeEvents.id, id)).limit(1);
  if (!row) return null;
  const { payload, payloadEncoding, ...summary } = row;
  return { ...summary, payload: await decodePayload(payload, payloadEncoding) };
}

/** One event without its payload, or null. */
export async function getEventSummary(db: Database, id: string): Promise<EventSummary | null> {
  const rows = await db.select(summaryColumns).from(stripeEvents).where(eq(stripeEvents.id, id)).limit(1);
  return rows[0] ?? null;
}

/** Ids of replayable rows matching the filter after the cursor, in list order, at most `limit`. */
export async function findReplayable(
  db: Database,
  filter: EventFilter,
  after: Cursor | null,
  limit: number,
): Promise<{ ids: string[]; next: Cursor | null }> {
  const statuses = (filter.statuses ?? REPLAYABLE_STATUSES).filter((s) => (REPLAYABLE_STATUSES as readonly string[]).includes(s));
  if (statuses.length === 0) return { ids: [], next: null };
  // Only failed/dead remain: all in the attention index (what `candidates` answers for them).
  const rows = await db
    .select({ id: stripeEvents.id, seq: stripeEvents.seq })
    .from(stripeEvents)
    .where(whereOf({ ...filter, statuses }, after, IN_ATTENTION_INDEX))
    .orderBy(desc(stripeEvents.seq))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  return { ids: page.map((r) => r.id), next: rows.length > limit ? page.at(-1)!.seq : null };
}

/**
 * How many `failed`/`dead` events match the filter (other statuses in it are ignored), counted from
 * the attention index: what a bulk replay of the filter would reset.
 */
export async function countReplayable(db: Database, filter: EventFilter): Promise<number> {
  const statuses = (filter.statuses ?? REPLAYABLE_STATUSES).filter((s) => (REPLAYABLE_STATUSES as readonly string[]).includes(s));
  if (statuses.length === 0) return 0;
  const [row] = await db
    .select({ n: count() })
    .from(stripeEvents)
    .where(whereOf({ ...filter, statuses }, null, IN_ATTENTION_INDEX));
  return row?.n ?? 0;
}
