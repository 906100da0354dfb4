import { env } from "cloudflare:workers";
import type Stripe from "stripe";
import { createDb } from "../../src/db/client";
import { recordEvent, seqAt } from "../../src/db/events";
import { isThinPayload, snapshotEntry, thinEntry } from "../../src/stripe/event-shape";

/** The ledger row for an event, read with plain SQL so assertions do not depend on the ORM mapping. */
export async function ledgerRow(id: string, db: D1Database = env.DB) {
  return db.prepare("SELECT * FROM stripe_events WHERE id = ?").bind(id).first<Record<string, unknown>>();
}

/** How many ledger rows exist for an id (the primary key makes this 0 or 1). */
export async function ledgerCount(id: string): Promise<number> {
  const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM stripe_events WHERE id = ?").bind(id).first<{ n: number }>();
  return row?.n ?? 0;
}

let arrivals = 0;

/**
 * Records an event (snapshot, or thin when it is a `v2.core.event` notification) through the Worker's
 * own ledger function, without a delivery or an enqueue. Given
 * a past `receivedAt`, the row is also placed at that point of the arrival order (`seq`), as if it
 * had arrived then: the insert itself puts a late row after every row already there.
 */
export async function seedEvent(event: Record<string, unknown>, receivedAt?: number): Promise<void> {
  const at = receivedAt ?? Date.now();
  const entry = isThinPayload(event) ? thinEntry(event) : snapshotEntry(event as unknown as Stripe.Event);
  await recordEvent(createDb(env.DB), entry, { receivedAt: at, payload: JSON.stringify(event), source: "webhook" });
  if (receivedAt !== undefined) {
    await env.DB.prepare("UPDATE stripe_events SET seq = ? WHERE id = ?").bind(seqAt(at) + (++arrivals % 1000), event.id).run();
  }
}

/**
 * Empties the ledger and the scheduled jobs' state. Tests that run the cron (which acts on every row)
 * call it before each test, so that one test's rows and simulated clock cannot leak into the next.
 */
export async function clearLedger(): Promise<void> {
  await env.DB.batch([env.DB.prepare("DELETE FROM stripe_events"), env.DB.prepare("DELETE FROM job_state")]);
}

/** Sets columns on a ledger row directly, to stage states such as an expired processing lease. */
export async function setRow(id: string, columns: Record<string, string | number | null>): Promise<void> {
  const names = Object.keys(columns);
  await env.DB.prepare(`UPDATE stripe_events SET ${names.map((n) => `${n} = ?`).join(", ")} WHERE id = ?`)
    .bind(...names.map((n) => columns[n]), id)
    .run();
}

