import { sql } from "drizzle-orm";
import { check, index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { EVENT_FORMATS } from "../ledger/event";
import { EVENT_STATUSES } from "../ledger/status";

/**
 * The attention index's condition: the `failed` and `dead` rows an operator replays or purges. A query
 * that should read only those rows repeats it verbatim (`and(IN_ATTENTION_INDEX, …)`): SQLite uses a
 * partial index only for a WHERE that contains the index's own condition.
 */
export const IN_ATTENTION_INDEX = sql.raw("status IN ('failed', 'dead')");

/**
 * The ledger: one row per Stripe event id, written before the delivery is acknowledged. The
 * verified body is kept in `payload` so processing and replay never depend on a queue message
 * (queue messages are capped at 128 KB; Stripe events can be larger).
 * Times we set are Unix milliseconds; `created` is Stripe's own Unix seconds.
 *
 * D1 bills every row a statement writes, index entries included, so each index here is paid for by
 * a query the product runs, and a normal event's status changes touch none of them:
 * - the unique index on `id`: idempotency (`INSERT … ON CONFLICT(id) DO NOTHING`) and lookups;
 * - `seq` (the rowid, free): arrival order for the console, time filters, the sweep, retention and
 *   the hourly aggregates (`ledger_hours`);
 * - `object_id`, partial (`IS NOT NULL`): an object's timeline (the console's search, `/admin/api/objects`);
 *   events about no object (a destination ping) write no entry. The type filter has no index: it reads
 *   a bounded window of arrivals per page (src/db/ledger/reads.ts), which is why `type` gave its index up;
 * - `redrive_at`, partial: only rows the cron must look at again (never a fresh or final row);
 * - `status` for `failed`/`dead` only, partial: what an operator replays or purges;
 * - `twin_of`, partial: a snapshot event's thin twin, when thin delivery is in use (snapshot events and
 *   thin events without a twin write no entry).
 */
export const stripeEvents = sqliteTable(
  "stripe_events",
  {
    /**
     * Arrival order: `received_at` in microseconds, raised to one past the largest `seq` when that
     * is larger, so it is unique and increases in commit order (D1 has a single writer).
     */
    seq: integer().primaryKey(),
    id: text().notNull().unique(),
    type: text().notNull(),
    apiVersion: text(),
    livemode: integer({ mode: "boolean" }).notNull(),
    /** The connected account (`acct_…`) for Connect events, null for the platform's own. */
    account: text(),
    /** `event.created`, Unix seconds. */
    created: integer().notNull(),
    receivedAt: integer().notNull(),
    status: text({ enum: EVENT_STATUSES }).notNull().default("received"),
    /** Processing attempts claimed so far. */
    attempts: integer().notNull().default(0),
    /** While `processing`: until when the consumer that claimed it holds it. */
    leaseUntil: integer(),
    /**
     * When the cron looks at this row again: set only for rows that need it (an enqueue that failed,
     * a row the sweep found unfinished past its grace, a failed attempt, a replay); null otherwise.
     */
    redriveAt: integer(),
    lastError: text(),
    processedAt: integer(),
    /**
     * When the dead-letter consumer marked the event `dead` (Unix ms); null otherwise. Written by the
     * same statement that sets `dead`, so it costs no row: the alerts count deaths since their last
     * message with it.
     */
    deadAt: integer(),
    /** Position (0-based) of the configured webhook secret that verified the delivery. */
    secretIndex: integer(),
    /**
     * `webhook` for a delivery, `recovery` for an event found through the Events API that never arrived,
     * `lifecycle` for a transition derived here (src/billing/lifecycle.ts).
     */
    source: text({ enum: ["webhook", "recovery", "lifecycle"] })
      .notNull()
      .default("webhook"),
    /** The delivery format; rows recorded before thin events existed are `snapshot`. */
    format: text({ enum: EVENT_FORMATS }).notNull().default("snapshot"),
    /**
     * The id of the object the event is about: `data.object.id` of a snapshot event, `related_object.id`
     * of a thin one (null when it has none). Written once at insert, with its index entry: the only
     * index an event's insert pays for besides `id` (it took the place of the `type` index).
     */
    objectId: text(),
    /**
     * A thin event's `context` as Stripe sent it (`acct_…`, or `acct_…/acct_…` for nested accounts):
     * the Stripe-Context its data is fetched with. Null for snapshot events, which carry `account`.
     */
    context: text(),
    /**
     * A thin `v1.*` event's `snapshot_event`: the id of its snapshot twin (the same change, sent to a
     * webhook endpoint). Whichever of the two is processed second ends `ignored` as a twin.
     */
    twinOf: text(),
    payload: text().notNull(),
  },
  (t) => [
    check("stripe_events_status_check", sql.raw(`status IN (${EVENT_STATUSES.map((s) => `'${s}'`).join(", ")})`)),
    index("stripe_events_object_idx").on(t.objectId).where(sql`object_id IS NOT NULL`),
    index("stripe_events_redrive_idx").on(t.redriveAt).where(sql`redrive_at IS NOT NULL`),
    index("stripe_events_attention_idx").on(t.status).where(IN_ATTENTION_INDEX),
    index("stripe_events_twin_idx").on(t.twinOf).where(sql`twin_of IS NOT NULL`),
  ],
);

export type StripeEventRow = typeof stripeEvents.$inferSelect;
export type NewStripeEventRow = typeof stripeEvents.$inferInsert;

/** Small key/value state for scheduled jobs (the sweep cursor, the event recovery's progress). */
export const jobState = sqliteTable("job_state", {
  key: text().primaryKey(),
  value: text().notNull(),
  updatedAt: integer().notNull(),
});

/**
 * Hourly aggregates of the ledger for the console's charts, so that a chart never reads a week of
 * ledger rows: one row per UTC hour of arrival, recomputed by the every-minute cron from that hour's
 * `seq` range (src/maintenance/ledger-hours.ts), never written per event. WITHOUT ROWID in migrations/0005
 * (drizzle cannot say so): keyed by the hour alone, a new row is one row written.
 */
export const ledgerHours = sqliteTable("ledger_hours", {
  /** Start of the UTC hour, Unix ms. */
  hour: integer().primaryKey(),
  /** Arrivals of this hour, by their status when the hour was last recomputed. */
  received: integer().notNull(),
  processing: integer().notNull(),
  processed: integer().notNull(),
  ignored: integer().notNull(),
  failed: integer().notNull(),
  dead: integer().notNull(),
  /** Received → processed (processed and ignored arrivals of this hour), nearest-rank percentiles, ms. */
  lagP50Ms: integer("lag_p50_ms"),
  lagP95Ms: integer("lag_p95_ms"),
  /**
   * `failed` and `dead` events in the whole ledger (any arrival time), sampled while this hour was the
   * current one (the last sample wins); null for an hour the cron did not see as current.
   */
  failedTotal: integer(),
  deadTotal: integer(),
  /** When the cron last recomputed this hour, Unix ms. */
  updatedAt: integer().notNull(),
});

export type LedgerHourRow = typeof ledgerHours.$inferSelect;

export * from "./admin-schema";
export * from "./billing-schema";
