import { env } from "cloudflare:workers";
import type Stripe from "stripe";
import { createDb } from "../../src/db/client";
import { recordEvent } from "../../src/db/events";

/** The ledger row for an event, read with plain SQL so assertions do not depend on the ORM mapping. */
export async function ledgerRow(id: string, db: D1Database = env.DB) {
  return db.prepare("SELECT * FROM stripe_events WHERE id = ?").bind(id).first<Record<string, unknown>>();
}

/** How many ledger rows exist for an id (the primary key makes this 0 or 1). */
export async function ledgerCount(id: string): Promise<number> {
  const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM stripe_events WHERE id = ?").bind(id).first<{ n: number }>();
  return row?.n ?? 0;
}

/** Records an event through the Worker's own ledger function, without a delivery or an enqueue. */
export async function seedEvent(event: Record<string, unknown>, receivedAt = Date.now()): Promise<void> {
  await recordEvent(createDb(env.DB), event as unknown as Stripe.Event, { receivedAt, payload: JSON.stringify(event), source: "webhook" });
}

/** Sets columns on a ledger row directly, to stage states such as an expired processing lease. */
export async function setRow(id: string, columns: Record<string, string | number | null>): Promise<void> {
  const names = Object.keys(columns);
  await env.DB.prepare(`UPDATE stripe_events SET ${names.map((n) => `${n} = ?`).join(", ")} WHERE id = ?`)
    .bind(...names.map((n) => columns[n]), id)
    .run();
}
