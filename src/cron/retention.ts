import type { Settings } from "../config";
import { createDb } from "../db/client";
import { pruneFinal } from "../db/ledger/upkeep";
import { errorName, log } from "../log";

/** Rows deleted per statement (well inside D1's 30 s per query) and statements per run. */
const PRUNE_CHUNK = 500;
const PRUNE_CHUNKS_PER_RUN = 20;
const DAY_MS = 86_400_000;

/**
 * Bounded growth: deletes `processed` and `ignored` ledger rows older than the retention, oldest
 * first, at most 10,000 per run (the cron runs every minute, so far more than any account receives).
 * `failed` and `dead` rows wait for a replay or an explicit purge; billing tables are never touched.
 * A redelivery of a pruned event is recorded and processed again, and changes nothing: projections
 * keep the newest version, fulfilments run once. Returns how many rows it deleted; never throws.
 *
 * @example
 * ctx.waitUntil(pruneLedger(env, settings, Date.now()));
 */
export async function pruneLedger(env: Env, config: Pick<Settings, "retentionDays">, nowMs: number): Promise<number> {
  if (config.retentionDays === 0) return 0;
  const db = createDb(env.DB);
  const before = nowMs - config.retentionDays * DAY_MS;
  let deleted = 0;
  try {
    for (let i = 0; i < PRUNE_CHUNKS_PER_RUN; i++) {
      const n = await pruneFinal(db, before, PRUNE_CHUNK);
      deleted += n;
      if (n < PRUNE_CHUNK) break;
    }
  } catch (err) {
    log("error", "retention_failed", { deleted, error: errorName(err) });
    return deleted;
  }
  if (deleted > 0)
    log("info", "retention", { deleted, before: new Date(before).toISOString(), more: deleted === PRUNE_CHUNK * PRUNE_CHUNKS_PER_RUN });
  return deleted;
}
