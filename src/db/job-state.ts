import { eq } from "drizzle-orm";
import type { Database } from "./client";
import { jobState, type EventFormat } from "./schema";

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

/** Saves a scheduled job's progress, replacing what was there. */
export async function writeJobState(db: Database, key: string, value: unknown, nowMs: number): Promise<void> {
  const json = JSON.stringify(value);
  await db.insert(jobState).values({ key, value: json, updatedAt: nowMs }).onConflictDoUpdate({ target: jobState.key, set: { value: json, updatedAt: nowMs } });
}

/** The job_state key recording that events of a delivery format reach this Worker. */
export function formatSeenKey(format: EventFormat): string {
  return `format_seen:${format}`;
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
export function markFormatSeen(db: Database, format: EventFormat, firstCreated: number, nowMs: number) {
  const value: FormatSeen = { firstCreated };
  return db.insert(jobState).values({ key: formatSeenKey(format), value: JSON.stringify(value), updatedAt: nowMs }).onConflictDoNothing();
}
