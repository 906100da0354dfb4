import { sql } from "drizzle-orm";
import type { Arrival, LedgerEvent } from "../../ledger/event";
import { cachedFor, type Database } from "../client";
import { stripeEvents } from "../schema";

// The one statement a delivery makes (and the recovery, for an event Stripe never delivered).

/**
 * The insert, built once per D1 binding with placeholders: the request path only binds values.
 * `seq` is the arrival time in microseconds, or one past the newest row when that is larger, so
 * arrival order is unique and time-ordered without a second index.
 */
const insertStatement = cachedFor((db) =>
  db
    .insert(stripeEvents)
    .values({
      seq: sql`max(${sql.placeholder("seqFloor")}, (SELECT coalesce(max(${stripeEvents.seq}), 0) + 1 FROM ${stripeEvents}))`,
      id: sql.placeholder("id"),
      type: sql.placeholder("type"),
      apiVersion: sql.placeholder("apiVersion"),
      livemode: sql.placeholder("livemode"),
      account: sql.placeholder("account"),
      created: sql.placeholder("created"),
      receivedAt: sql.placeholder("receivedAt"),
      source: sql.placeholder("source"),
      secretIndex: sql.placeholder("secretIndex"),
      format: sql.placeholder("format"),
      objectId: sql.placeholder("objectId"),
      context: sql.placeholder("context"),
      twinOf: sql.placeholder("twinOf"),
      payload: sql.placeholder("payload"),
    })
    .onConflictDoNothing({ target: stripeEvents.id })
    .returning({ seq: stripeEvents.seq })
    .prepare(),
);

/**
 * Inserts the ledger row for an event unless one with that id exists, in one statement
 * (`INSERT … ON CONFLICT(id) DO NOTHING RETURNING`), so concurrent deliveries of one event cannot
 * both win. Returns true when this call created the row. The row starts `received` with no re-drive
 * time: the cron's sweep finds it if it is still unclaimed after `LEDGER_TIMING.graceMs`.
 *
 * @example
 * const isNew = await recordEvent(db, snapshotEntry(event), { receivedAt: Date.now(), payload, source: "webhook", secretIndex: 0 });
 */
export async function recordEvent(db: Database, event: LedgerEvent, arrival: Arrival): Promise<boolean> {
  const inserted = await insertStatement(db).all({
    seqFloor: arrival.receivedAt * 1000,
    id: event.id,
    type: event.type,
    apiVersion: event.apiVersion,
    livemode: event.livemode ? 1 : 0,
    account: event.account,
    created: event.created,
    receivedAt: arrival.receivedAt,
    source: arrival.source,
    secretIndex: arrival.secretIndex ?? null,
    format: event.format,
    objectId: event.objectId,
    context: event.context,
    twinOf: event.twinOf,
    payload: arrival.payload,
  });
  return inserted.length === 1;
}
