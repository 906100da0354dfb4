import { sql } from "drizzle-orm";
import { check, index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * Where an event is in its life: `received` → `processing` → `processed` | `ignored`; a failed
 * attempt → `failed` (retried by the queue); retries exhausted → `dead` (kept for replay).
 * The transitions, and which statuses are final, live in src/db/events.ts.
 */
export const EVENT_STATUSES = ["received", "processing", "processed", "ignored", "failed", "dead"] as const;
export type EventStatus = (typeof EVENT_STATUSES)[number];

/**
 * How Stripe delivered an event: `snapshot` (a webhook endpoint's `object: "event"`, the object in
 * `data.object`) or `thin` (an event destination's `object: "v2.core.event"` notification, whose data
 * the consumer fetches from the API).
 */
export const EVENT_FORMATS = ["snapshot", "thin"] as const;
export type EventFormat = (typeof EVENT_FORMATS)[number];

/**
 * The ledger: one row per Stripe event id, written before the delivery is acknowledged. The
 * verified body is kept in `payload` so processing and replay never depend on a queue message
 * (queue messages are capped at 128 KB; Stripe events can be larger).
 * Times we set are Unix milliseconds; `created` is Stripe's own Unix seconds.
 *
 * D1 bills every row a statement writes, index entries included, so each index here is paid for by
 * a query the product runs, and a normal event's status changes touch none of them:
 * - the unique index on `id`: idempotency (`INSERT … ON CONFLICT(id) DO NOTHING`) and lookups;
 * - `seq` (the rowid, free): arrival order for the console, time filters, the sweep and retention;
 * - `type`: the console's type filter, newest first;
 * - `redrive_at`, partial: only rows the cron must look at again (never a fresh or final row);
 * - `status` for `failed`/`dead` only, partial: what an operator replays or purges.
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
    /** Position (0-based) of the configured webhook secret that verified the delivery. */
    secretIndex: integer(),
    /** `webhook` for a delivery, `recovery` for an event found through the Events API that never arrived. */
    source: text({ enum: ["webhook", "recovery"] }).notNull().default("webhook"),
    /** The delivery format; rows recorded before thin events existed are `snapshot`. */
    format: text({ enum: EVENT_FORMATS }).notNull().default("snapshot"),
    /**
     * The id of the object the event is about: `data.object.id` of a snapshot event, `related_object.id`
     * of a thin one (null when it has none). Written once at insert; not indexed (every index costs a
     * row written per event), so nothing may filter on it until a query that needs it pays for one.
     */
    objectId: text(),
    /**
     * A thin event's `context` as Stripe sent it (`acct_…`, or `acct_…/acct_…` for nested accounts):
     * the Stripe-Context its data is fetched with. Null for snapshot events, which carry `account`.
     */
    context: text(),
    payload: text().notNull(),
  },
  (t) => [
    check("stripe_events_status_check", sql.raw(`status IN (${EVENT_STATUSES.map((s) => `'${s}'`).join(", ")})`)),
    index("stripe_events_type_idx").on(t.type),
    index("stripe_events_redrive_idx").on(t.redriveAt).where(sql`redrive_at IS NOT NULL`),
    index("stripe_events_attention_idx").on(t.status).where(sql.raw(`status IN ('failed', 'dead')`)),
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

export * from "./billing-schema";
