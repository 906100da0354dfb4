import { and, asc, gte, lt, type SQL, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { LAG_BUCKET_EDGES_MS, LAG_BUCKETS } from "../../ledger/lag";
import { type Database, rawStatement } from "../client";
import { IN_ATTENTION_INDEX, type LedgerHourRow, ledgerHours, stripeEvents } from "../schema";

// The charts' hourly aggregates (`ledger_hours`) as counters, kept by work already done, so no cron read
// grows with the event rate:
// - the sweep (src/db/ledger/upkeep.ts), which reads every arrival once a grace (5 minutes) after it
//   arrived, counts it then, in the transaction that saves its position: `arrivals` + 1, and its status
//   at that moment (and a final one's lag bucket). Most events are final by then, so their whole count
//   costs the sweep's one row written per hour and window, never a write per event;
// - after that, a statement that moves swept events between counted statuses is preceded, in the same
//   D1 batch (one transaction), by a `countMove` with the same WHERE, which reads the rows about to move
//   and adds the move to their hours. It counts only rows the sweep has passed (`seq` at or before its
//   saved position): a move of a row the sweep has not reached yet needs no count, as the sweep will
//   count the row as it then is. Computed from the rows the move changes, inside its transaction, the
//   counters are exact whatever the race. Which move changes which counter:
// - claim: failed → processing, `failed` - 1 (received → processing changes nothing counted);
// - finish: processing → processed | ignored, that counter + 1 and the lag bucket of now - received_at + 1;
// - fail and park: processing → failed, `failed` + 1; defer (processing → received) changes nothing;
// - dead-letter: received | processing | failed → dead, `dead` + 1 and `failed` - 1 for a failed one;
// - replay: failed | dead | processed | ignored → received, that counter - 1 (and a final event's lag bucket);
// - purge: failed | dead → deleted, that counter - 1 and `arrivals` - 1;
// - restore (src/archive/restore.ts) puts an archived event back as it was and replays it (a lifecycle
//   event is put back final, not replayed): the replay's move;
// - retention deletes final events and changes nothing: an hour's figures outlive its events.

export const HOUR_MS = 3_600_000;

/** The job_state key of the sweep's position (the `seq` it has read and counted up to). */
export const SWEEP_STATE = "ledger_sweep";

/** The start of the UTC hour holding `ms`. */
export function hourOf(ms: number): number {
  return Math.floor(ms / HOUR_MS) * HOUR_MS;
}

/** A ledger row's hour of arrival (Unix ms), from its `seq` (arrival in µs), as an SQL expression. */
export const ARRIVAL_HOUR = sql`(${stripeEvents.seq} / ${sql.raw(String(HOUR_MS * 1000))} * ${sql.raw(String(HOUR_MS))})`;

/**
 * The bucket (src/ledger/lag.ts) of a lag in ms, as an SQL expression; null where the lag is. The lag
 * is computed once (a scalar subquery would not be), so its bound values are bound once.
 */
export function lagBucketSql(lagMs: SQL): SQL {
  const cases = LAG_BUCKET_EDGES_MS.map((edge, i) => sql`WHEN lag < ${sql.raw(String(edge))} THEN ${sql.raw(String(i))}`);
  const last = sql.raw(String(LAG_BUCKET_EDGES_MS.length));
  return sql`(SELECT CASE WHEN lag IS NULL THEN NULL ${sql.join(cases, sql` `)} ELSE ${last} END FROM (SELECT ${lagMs} AS lag))`;
}

/** The counters a move changes, each by an SQL expression of the row before the move (+1, -1, 0). */
export type CountedStatus = "processed" | "ignored" | "failed" | "dead";
export interface Move {
  counts: Partial<Record<CountedStatus | "arrivals", SQL>>;
  /** A lag bucket gained (+1) or lost (-1): the row's lag in ms, null where the row has none (nothing is counted). */
  lag?: { sign: 1 | -1; lagMs: SQL };
}

/** `by` (+1 or -1) for rows whose status is `status`, 0 otherwise; statuses are literals, so no parameter is bound. */
export function whenStatus(status: CountedStatus, by: 1 | -1 = 1): SQL {
  return sql`(CASE WHEN ${stripeEvents.status} = ${sql.raw(`'${status}'`)} THEN ${sql.raw(String(by))} ELSE 0 END)`;
}

/** The sweep's saved position; rows it has passed, and counted, are at or before it. */
const SWEPT_TO = sql`coalesce((SELECT json_extract(value, '$.seq') FROM job_state WHERE key = ${SWEEP_STATE}), 0)`;
const SWEPT = sql`${stripeEvents.seq} <= ${SWEPT_TO}`;

/**
 * The statement adding a move to `ledger_hours`: it reads the rows `where` selects (the move's own
 * WHERE, run just before the move in the same batch) that the sweep has counted, and adds `move` per
 * hour of arrival. Writes one row per hour touched, none when no such row matches (the usual case for
 * an event's first processing, within minutes of its arrival).
 *
 * @example
 * await batchAll(db, [countMove(db, where, { counts: { dead: sql`1` } }, nowMs), markDeadStatement]);
 */
export function countMove(db: Database, where: SQL | undefined, move: Move, nowMs: number): BatchItem<"sqlite"> {
  return countRows(db, and(where, SWEPT), move, nowMs);
}

/**
 * The statement counting the rows `where` selects as arrivals of their hours, each with its status now
 * and a final one's lag: the sweep's, for the window it passes (rows it has not counted before).
 *
 * @example
 * await batchAll(db, [countArrivals(db, windowCondition, nowMs), savePosition]);
 */
export function countArrivals(db: Database, where: SQL, nowMs: number): BatchItem<"sqlite"> {
  const lag = sql`${stripeEvents.processedAt} - ${stripeEvents.receivedAt}`;
  const final = sql`(CASE WHEN ${stripeEvents.status} IN ('processed', 'ignored') THEN ${lag} END)`;
  const counts = { arrivals: sql`1`, ...Object.fromEntries(COUNTED.map((s) => [s, whenStatus(s)])) };
  return countRows(db, where, { counts, lag: { sign: 1, lagMs: final } }, nowMs);
}

const COUNTED: readonly CountedStatus[] = ["processed", "ignored", "failed", "dead"];

function countRows(db: Database, where: SQL | undefined, move: Move, nowMs: number): BatchItem<"sqlite"> {
  const counters = Object.entries(move.counts) as [CountedStatus | "arrivals", SQL][];
  // Each row's figures are computed once, in the inner SELECT; the outer one sums them per hour.
  const perRow = counters.map(([name, per]) => sql`${per} AS ${sql.identifier(`d_${name}`)}`);
  const columns = counters.map(([name]) => sql.identifier(name));
  const sums = counters.map(([name]) => sql`coalesce(sum(${sql.identifier(`d_${name}`)}), 0)`);
  const set = counters.map(([name]) => sql`${sql.identifier(name)} = ${sql.identifier(name)} + excluded.${sql.identifier(name)}`);
  if (move.lag) {
    perRow.push(sql`${lagBucketSql(move.lag.lagMs)} AS lag_bucket`);
    const sign = sql.raw(String(move.lag.sign));
    const perBucket = Array.from(
      { length: LAG_BUCKETS },
      (_, i) => sql`count(CASE WHEN lag_bucket = ${sql.raw(String(i))} THEN 1 END) * ${sign}`,
    );
    columns.push(sql.identifier("lag_counts"));
    sums.push(sql`json_array(${sql.join(perBucket, sql`, `)})`);
    const path = (i: number) => sql.raw(`'$[${i}]'`);
    const added = Array.from(
      { length: LAG_BUCKETS },
      (_, i) => sql`coalesce(json_extract(lag_counts, ${path(i)}), 0) + json_extract(excluded.lag_counts, ${path(i)})`,
    );
    set.push(sql`lag_counts = json_array(${sql.join(added, sql`, `)})`);
  }
  return rawStatement(
    db,
    sql`INSERT INTO ledger_hours (hour, ${sql.join(columns, sql`, `)}, updated_at)
        SELECT arrival_hour, ${sql.join(sums, sql`, `)}, ${nowMs}
        FROM (SELECT ${ARRIVAL_HOUR} AS arrival_hour, ${sql.join(perRow, sql`, `)} FROM ${stripeEvents} WHERE ${where ?? sql`true`})
        GROUP BY arrival_hour
        ON CONFLICT (hour) DO UPDATE SET ${sql.join(set, sql`, `)}, updated_at = excluded.updated_at`,
  );
}

/**
 * The statement recording how many events are `failed` and `dead` in the whole ledger now into the
 * current hour's row (the charts' totals line), counted from the attention index alone: the rows
 * that need an operator, never the ledger. Rewrites the row only when a figure changed.
 *
 * @example
 * await sampleTotals(db, hourOf(Date.now()), Date.now());
 */
export function sampleTotals(db: Database, hour: number, nowMs: number): BatchItem<"sqlite"> {
  const total = (status: "failed" | "dead") =>
    sql`(SELECT count(*) FROM ${stripeEvents} WHERE ${IN_ATTENTION_INDEX} AND status = ${status})`;
  return rawStatement(
    db,
    sql`INSERT INTO ledger_hours (hour, failed_total, dead_total, updated_at)
        VALUES (${hour}, ${total("failed")}, ${total("dead")}, ${nowMs})
        ON CONFLICT (hour) DO UPDATE SET failed_total = excluded.failed_total, dead_total = excluded.dead_total,
          updated_at = excluded.updated_at
        WHERE (failed_total, dead_total) IS NOT (excluded.failed_total, excluded.dead_total)`,
  );
}

/** The rows of `ledger_hours` for hours in [`from`, `to`), oldest first (at most a row per hour). */
export async function readHours(db: Database, from: number, to: number): Promise<LedgerHourRow[]> {
  return db
    .select()
    .from(ledgerHours)
    .where(and(gte(ledgerHours.hour, from), lt(ledgerHours.hour, to)))
    .orderBy(asc(ledgerHours.hour));
}

/** The newest uncounted arrivals the charts read at most (the sweep's lag is about 5 minutes of arrivals). */
export const UNCOUNTED_LIMIT = 5_000;

/**
 * The charts' hours in [`from`, `to`): the rows of `ledger_hours` with the arrivals the sweep has not
 * counted yet added, by their status now. The sweep counts an arrival a grace (5 minutes) after it
 * arrived, so without them the last minutes (a test delivery just sent) would be missing. Reads, in
 * one transaction so that a sweep in between counts nothing twice, the hours' rows and at most
 * UNCOUNTED_LIMIT of the newest arrivals past the sweep's position (the ledger's primary key, newest
 * first: more than that only when the cron has not run for a while).
 *
 * @example
 * const rows = await readChartHours(db, current - 168 * HOUR_MS, current + HOUR_MS);
 */
export async function readChartHours(db: Database, from: number, to: number): Promise<LedgerHourRow[]> {
  const { seq, status, processedAt, receivedAt } = stripeEvents;
  const lag = sql`CASE WHEN ${status} IN ('processed', 'ignored') THEN ${processedAt} - ${receivedAt} END`;
  const perBucket = Array.from({ length: LAG_BUCKETS }, (_, i) => sql`count(CASE WHEN lag_bucket = ${sql.raw(String(i))} THEN 1 END)`);
  const counted = (status: CountedStatus) => sql.raw(`count(CASE WHEN status = '${status}' THEN 1 END) AS ${status}`);
  const uncounted = rawStatement(
    db,
    sql`SELECT arrival_hour AS hour, count(*) AS arrivals, ${sql.join(COUNTED.map(counted), sql`, `)},
               json_array(${sql.join(perBucket, sql`, `)}) AS ${sql.identifier("lagCounts")}
        FROM (SELECT ${ARRIVAL_HOUR} AS arrival_hour, ${status} AS status, ${lagBucketSql(lag)} AS lag_bucket
              FROM ${stripeEvents} WHERE ${seq} > ${SWEPT_TO} AND ${seq} >= ${from * 1000} AND ${seq} < ${to * 1000}
              ORDER BY ${seq} DESC LIMIT ${UNCOUNTED_LIMIT})
        GROUP BY arrival_hour`,
  );
  const [kept, tail] = await db.batch([
    db
      .select()
      .from(ledgerHours)
      .where(and(gte(ledgerHours.hour, from), lt(ledgerHours.hour, to)))
      .orderBy(asc(ledgerHours.hour)),
    uncounted,
  ]);
  const rows = new Map(kept.map((r) => [r.hour, r]));
  for (const t of (tail as unknown as D1Result<Omit<LedgerHourRow, "updatedAt">>).results) {
    const row = rows.get(t.hour) ?? { ...EMPTY_HOUR, hour: t.hour };
    const lags = JSON.parse(row.lagCounts) as number[];
    const added = (JSON.parse(t.lagCounts) as number[]).map((n, i) => n + (lags[i] ?? 0));
    rows.set(t.hour, {
      ...row,
      arrivals: row.arrivals + t.arrivals,
      processed: row.processed + t.processed,
      ignored: row.ignored + t.ignored,
      failed: row.failed + t.failed,
      dead: row.dead + t.dead,
      lagCounts: JSON.stringify(added),
    });
  }
  return [...rows.values()].sort((a, b) => a.hour - b.hour);
}

const EMPTY_HOUR: LedgerHourRow = {
  hour: 0,
  arrivals: 0,
  processed: 0,
  ignored: 0,
  failed: 0,
  dead: 0,
  lagCounts: "[]",
  lagP50Ms: null,
  lagP95Ms: null,
  failedTotal: null,
  deadTotal: null,
  updatedAt: 0,
};
