import { eq } from "drizzle-orm";
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

/** Saves a scheduled job's progress, replacing what was there. */
export async function writeJobState(db: Database, key: string, value: unknown, nowMs: number): Promise<void> {
  const json = JSON.stringify(value);
  await db.insert(jobState).values({ key, value: json, updatedAt: nowMs }).onConflictDoUpdate({ target: jobState.key, set: { value: json, updatedAt: nowMs } });
}
