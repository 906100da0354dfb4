import { sql } from "drizzle-orm";
import { check, index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * Where an event is in its life. `received` → `queued` → `processing` → `processed` | `ignored`;
 * a failed attempt → `failed` (retried by the queue); retries exhausted → `dead` (kept for replay).
 */
export const EVENT_STATUSES = ["received", "queued", "processing", "processed", "ignored", "failed", "dead"] as const;
export type EventStatus = (typeof EVENT_STATUSES)[number];

/**
 * The ledger: one row per Stripe event id, written before the delivery is acknowledged. The
 * verified body is kept in `payload` so processing and replay never depend on a queue message
 * (queue messages are capped at 128 KB; Stripe events can be larger).
 * Times we set are Unix milliseconds; `created` is Stripe's own Unix seconds.
 */
export const stripeEvents = sqliteTable(
  "stripe_events",
  {
    id: text().primaryKey(),
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
    lastError: text(),
    processedAt: integer(),
    /**
     * When the cron re-enqueues this row if nothing has moved it on by then: the enqueue grace for
     * `received`, the delivery deadline for `queued`, the lease for `processing`, the retry deadline
     * for `failed`. Null once the row is final.
     */
    redriveAt: integer(),
    /** Position (0-based) of the configured webhook secret that verified the delivery. */
    secretIndex: integer(),
    /** `webhook` for a delivery, `recovery` for an event found through the Events API that never arrived. */
    source: text({ enum: ["webhook", "recovery"] }).notNull().default("webhook"),
    payload: text().notNull(),
  },
  (t) => [
    check("stripe_events_status_check", sql.raw(`status IN (${EVENT_STATUSES.map((s) => `'${s}'`).join(", ")})`)),
    index("stripe_events_redrive_at_idx").on(t.redriveAt).where(sql`redrive_at IS NOT NULL`),
    index("stripe_events_status_received_at_idx").on(t.status, t.receivedAt),
    index("stripe_events_type_created_idx").on(t.type, t.created),
  ],
);

export type StripeEventRow = typeof stripeEvents.$inferSelect;
export type NewStripeEventRow = typeof stripeEvents.$inferInsert;

export * from "./billing-schema";
