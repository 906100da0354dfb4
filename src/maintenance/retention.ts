import { deliveryProblem } from "../config";
import { pruneFinal } from "../db/ledger/upkeep";
import type { Deps } from "../deps";
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
 * keep the newest version, fulfilments run once. A refused setting stops it (it could delete too
 * much), never the other jobs. Returns how many rows it deleted; never throws.
 *
 * @example
 * await pruneLedger(deps);
 */
export async function pruneLedger(deps: Deps): Promise<number> {
  const { config, db } = deps;
  const problem = deliveryProblem(config);
  if (problem) {
    log("error", "config_invalid", { code: problem.code, variable: problem.variable });
    return 0;
  }
  if (config.retentionDays === 0) return 0;
  const before = deps.now() - config.retentionDays * DAY_MS;
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
