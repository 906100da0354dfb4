import { and, eq, inArray, lte, notInArray, or, sql } from "drizzle-orm";
import type Stripe from "stripe";
import type { Database } from "./client";
import { stripeEvents, type NewStripeEventRow } from "./schema";

/**
 * How long each non-final status may stand still before the cron re-enqueues the row.
 * Re-enqueueing an event that is in fact moving is harmless (the claim lets one consumer through),
 * so these only need to be longer than the normal path, not exact.
 */
export const REDRIVE_AFTER_MS = {
  /** The enqueue runs in waitUntil right after the 2xx; a minute covers it with room to spare. */
  received: 60_000,
  /** The queue delivers at least once; this only guards against a consumer paused for an hour. */
  queued: 60 * 60_000,
  /** A queue consumer invocation may run for at most 15 minutes. */
  processing: 15 * 60_000,
  /** Added to the retry delay: the queue's own redelivery should come well before this. */
  failedSlack: 15 * 60_000,
} as const;

/** How an event reached the ledger, besides the event itself. */
export interface Arrival {
  receivedAt: number;
  /** The body as stored: the verified bytes of a delivery, or the Events API's JSON. */
  payload: string;
  source: "webhook" | "recovery";
  /** Which configured webhook secret verified a delivery. */
  secretIndex?: number;
}

/**
 * Inserts the ledger row for an event unless one with that id exists, in one statement
 * (`INSERT … ON CONFLICT(id) DO NOTHING RETURNING`), so concurrent deliveries of one event cannot
 * both win. Returns true when this call created the row.
 *
 * @example
 * const isNew = await recordEvent(db, event, { receivedAt: Date.now(), payload, source: "webhook", secretIndex: 0 });
 */
export async function recordEvent(db: Database, event: Stripe.Event, arrival: Arrival): Promise<boolean> {
  const row: NewStripeEventRow = {
    id: event.id,
    type: event.type,
    apiVersion: event.api_version ?? null,
    livemode: event.livemode === true,
    account: event.account ?? null,
    created: event.created,
    receivedAt: arrival.receivedAt,
    source: arrival.source,
    secretIndex: arrival.secretIndex ?? null,
    payload: arrival.payload,
  };
  const inserted = await db
    .insert(stripeEvents)
    .values({ ...row, status: "received", redriveAt: row.receivedAt + REDRIVE_AFTER_MS.received })
    .onConflictDoNothing({ target: stripeEvents.id })
    .returning({ id: stripeEvents.id });
  return inserted.length === 1;
}

/**
 * D1 binds at most 100 parameters per statement; statements that take a list of ids split it into
 * chunks that leave room for their other parameters.
 */
export const IDS_PER_STATEMENT = 90;

/**
 * Marks rows `queued` after their ids were sent to the queue: rows still `received`, and rows the
 * cron found due. Rows a consumer has claimed meanwhile are left alone. Any number of ids: they are
 * written in one `db.batch` of statements of at most IDS_PER_STATEMENT ids each.
 */
export async function markQueued(db: Database, ids: readonly string[], nowMs: number): Promise<void> {
  const statements = chunk(ids, IDS_PER_STATEMENT).map((part) =>
    db
      .update(stripeEvents)
      .set({ status: "queued", redriveAt: nowMs + REDRIVE_AFTER_MS.queued })
      .where(
        and(
          inArray(stripeEvents.id, part),
          inArray(stripeEvents.status, ["received", "queued", "processing", "failed"]),
          or(eq(stripeEvents.status, "received"), lte(stripeEvents.redriveAt, nowMs)),
        ),
      ),
  );
  const [first, ...rest] = statements;
  if (first) await db.batch([first, ...rest]);
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const parts: T[][] = [];
  for (let i = 0; i < items.length; i += size) parts.push(items.slice(i, i + size));
  return parts;
}

export interface ClaimedEvent {
  type: string;
  payload: string;
  /** Attempts including this one. */
  attempts: number;
}

/**
 * The statement that takes an event for processing, one conditional UPDATE: it matches only an
 * event waiting to be processed (`received`, `queued`, `failed`) or one whose processing lease has
 * expired, and returns nothing when there is nothing to do (already final, dead, held by another
 * consumer, unknown). Statements are returned unrun so the consumer can send a batch's worth in one
 * `db.batch` round trip.
 */
export function claimEvent(db: Database, id: string, nowMs: number) {
  return db
    .update(stripeEvents)
    .set({ status: "processing", attempts: sql`${stripeEvents.attempts} + 1`, redriveAt: nowMs + REDRIVE_AFTER_MS.processing })
    .where(
      and(
        eq(stripeEvents.id, id),
        or(
          inArray(stripeEvents.status, ["received", "queued", "failed"]),
          and(eq(stripeEvents.status, "processing"), lte(stripeEvents.redriveAt, nowMs)),
        ),
      ),
    )
    .returning({ type: stripeEvents.type, payload: stripeEvents.payload, attempts: stripeEvents.attempts });
}

/** The statement recording a successful attempt: `processed`, or `ignored` when no handler wanted it. */
export function finishEvent(db: Database, id: string, status: "processed" | "ignored", nowMs: number) {
  return db
    .update(stripeEvents)
    .set({ status, processedAt: nowMs, redriveAt: null, lastError: null })
    .where(and(eq(stripeEvents.id, id), inArray(stripeEvents.status, ["processing", "queued"])));
}

/** The statement recording a failed attempt; the queue redelivers after `retryDelaySeconds`. */
export function failEvent(db: Database, id: string, error: string, retryDelaySeconds: number, nowMs: number) {
  return db
    .update(stripeEvents)
    .set({ status: "failed", lastError: error, redriveAt: nowMs + retryDelaySeconds * 1000 + REDRIVE_AFTER_MS.failedSlack })
    .where(and(eq(stripeEvents.id, id), eq(stripeEvents.status, "processing")));
}

/** Marks an event whose retries ran out `dead`. It stays in the ledger, payload and error included, for replay. */
export async function markDead(db: Database, id: string): Promise<void> {
  await db
    .update(stripeEvents)
    .set({ status: "dead", redriveAt: null })
    .where(and(eq(stripeEvents.id, id), notInArray(stripeEvents.status, ["processed", "ignored", "dead"])));
}

/** Ids of rows whose `redrive_at` has passed, oldest first, at most `limit`. */
export async function findDueForRedrive(db: Database, nowMs: number, limit: number): Promise<string[]> {
  const rows = await db
    .select({ id: stripeEvents.id })
    .from(stripeEvents)
    .where(lte(stripeEvents.redriveAt, nowMs))
    .orderBy(stripeEvents.redriveAt)
    .limit(limit);
  return rows.map((r) => r.id);
}
