import { eq, inArray } from "drizzle-orm";
import type { DeliveryFormat } from "../ledger/event";
import type { Database } from "./client";
import { jobState } from "./schema";

/**
 * Reads a scheduled job's saved progress (JSON), or null when it has none yet.
 *
 * @example
 * const state = await readJobState<RecoveryState>(db, "recovery");
 */
export async function readJobState<T>(db: Database, key: string): Promise<T | null> {
  const [row] = await db.select({ value: jobState.value }).from(jobState).where(eq(jobState.key, key));
  return row ? (JSON.parse(row.value) as T) : null;
}

/**
 * Several jobs' saved progress in one query, parsed, by key; a key with nothing saved is absent.
 *
 * @example
 * const saved = await readJobStates(db, [BACKFILL_STATE, ENDPOINT_CHECK_STATE]);
 * const backfill = saved.get(BACKFILL_STATE) as BackfillState | undefined;
 */
export async function readJobStates(db: Database, keys: readonly string[]): Promise<Map<string, unknown>> {
  const rows = await db
    .select({ key: jobState.key, value: jobState.value })
    .from(jobState)
    .where(inArray(jobState.key, [...keys]));
  return new Map(rows.map((row) => [row.key, JSON.parse(row.value) as unknown]));
}

/** Saves a scheduled job's progress, replacing what was there. */
export async function writeJobState(db: Database, key: string, value: unknown, nowMs: number): Promise<void> {
  await jobStateStatement(db, key, value, nowMs);
}

/** The statement `writeJobState` runs, for a batch that saves progress with the work it accounts for. */
export function jobStateStatement(db: Database, key: string, value: unknown, nowMs: number) {
  const json = JSON.stringify(value);
  return db
    .insert(jobState)
    .values({ key, value: json, updatedAt: nowMs })
    .onConflictDoUpdate({ target: jobState.key, set: { value: json, updatedAt: nowMs } });
}

/** The job_state key recording that events of a delivery format reach this Worker. */
export function formatSeenKey(format: DeliveryFormat): string {
  return `format_seen:${format}`;
}

/**
 * True when the consumer has processed thin events and never a snapshot one: an event destination
 * with thin payloads and no webhook endpoint, where the snapshot recovery and the endpoint drift check
 * have nothing to look at.
 */
export async function isThinOnly(db: Database): Promise<boolean> {
  const seen = await readJobStates(db, [formatSeenKey("thin"), formatSeenKey("snapshot")]);
  return seen.has(formatSeenKey("thin")) && !seen.has(formatSeenKey("snapshot"));
}

/** What `formatSeenKey` holds: the `created` (Unix seconds) of the first such event processed. */
export interface FormatSeen {
  firstCreated: number;
}

/**
 * The statement remembering that events of `format` reach the consumer, so the recovery lists only
 * the formats in use. Only the first call writes a row; later ones conflict and write nothing (D1
 * bills no row for them).
 */
export function markFormatSeen(db: Database, format: DeliveryFormat, firstCreated: number, nowMs: number) {
  const value: FormatSeen = { firstCreated };
  return db
    .insert(jobState)
    .values({ key: formatSeenKey(format), value: JSON.stringify(value), updatedAt: nowMs })
    .onConflictDoNothing();
}
