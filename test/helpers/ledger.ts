import { env } from "cloudflare:workers";
import type Stripe from "stripe";
import { chunk, createDb } from "../../src/db/client";
import { decodePayload } from "../../src/db/ledger/payload";
import { recordEvent } from "../../src/db/ledger/record";
import type { StripeEventRow } from "../../src/db/schema";
import { seqAt } from "../../src/ledger/event";
import { isThinPayload, snapshotEntry, thinEntry } from "../../src/stripe/event-shape";

type SnakeCase<S extends string> = S extends `${infer H}${infer T}`
  ? `${H extends Lowercase<H> ? H : `_${Lowercase<H>}`}${SnakeCase<T>}`
  : S;

/** A ledger row as D1 returns it to plain SQL: snake_case columns, booleans as 0 or 1. */
export type LedgerRow = { [K in keyof StripeEventRow as SnakeCase<K>]: StripeEventRow[K] extends boolean ? number : StripeEventRow[K] };

/** The ledger row for an event, read with plain SQL so assertions do not depend on the ORM mapping. */
export async function ledgerRow(id: string, db: D1Database = env.DB): Promise<LedgerRow | null> {
  return db.prepare("SELECT * FROM stripe_events WHERE id = ?").bind(id).first<LedgerRow>();
}

/** A ledger row's payload as the JSON text received, whether the row holds it as text or compressed. */
export async function payloadText(row: LedgerRow): Promise<string> {
  return decodePayload(row.payload, row.payload_encoding);
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
    await env.DB.prepare("UPDATE stripe_events SET seq = ? WHERE id = ?")
      .bind(seqAt(at) + (++arrivals % 1000), event.id)
      .run();
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

/** D1 binds at most 100 parameters per statement. */
const IDS_PER_QUERY = 100;

/** `columns` of the ledger rows of `ids`: one query per hundred ids, so a property checks thousands at its end. */
async function rowsOf<T>(ids: readonly string[], columns: string): Promise<T[]> {
  const rows: T[] = [];
  for (const part of chunk(ids, IDS_PER_QUERY)) {
    const { results } = await env.DB.prepare(`SELECT ${columns} FROM stripe_events WHERE id IN (${part.map(() => "?").join(",")})`)
      .bind(...part)
      .all<T>();
    rows.push(...results);
  }
  return rows;
}

/** The ledger rows of `ids`, keyed by id. */
export async function storedRows(ids: readonly string[]): Promise<Map<string, LedgerRow>> {
  return new Map((await rowsOf<LedgerRow>(ids, "*")).map((row) => [row.id, row]));
}

/** Which of `ids` have a ledger row. */
export async function storedIds(ids: readonly string[]): Promise<Set<string>> {
  return new Set((await rowsOf<{ id: string }>(ids, "id")).map((row) => row.id));
}
