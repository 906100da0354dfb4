import { removeStaleParts, writeManifests } from "../archive/manifest";
import { type ArchiveReport, archiveFinalEvents } from "../archive/run";
import { deliveryProblem } from "../config";
import { pruneFinal } from "../db/ledger/upkeep";
import type { Deps } from "../deps";
import { errorName, log } from "../log";

/** Rows deleted per statement (well inside D1's 30 s per query) and statements per run. */
const PRUNE_CHUNK = 500;
const PRUNE_CHUNKS_PER_RUN = 20;
/** Rows one run moves to R2 at most (5 parts of 2,000; read 500 a statement). */
const ARCHIVE_ROWS_PER_RUN = PRUNE_CHUNK * PRUNE_CHUNKS_PER_RUN;
const DAY_MS = 86_400_000;

/**
 * Bounded growth: deletes `processed` and `ignored` ledger rows older than the retention, oldest
 * first, at most 10,000 per run (the cron runs every minute, so far more than any account receives).
 * With the ARCHIVE bucket bound they are first written to R2 and deleted only once R2 stored them
 * (src/archive/run.ts), and the run also tidies the archive (manifests, parts of a stopped run).
 * `failed` and `dead` rows wait for a replay or an explicit purge; billing tables are never touched.
 * A redelivery of a pruned event is recorded and processed again, and changes nothing: projections
 * keep the newest version, fulfilments run once. A refused setting stops it (it could delete too
 * much), never the other jobs. Returns how many rows it deleted; never throws.
 *
 * @example
 * await pruneLedger(deps);
 */
export async function pruneLedger(deps: Deps): Promise<number> {
  const { config } = deps;
  const problem = deliveryProblem(config);
  if (problem) {
    log("error", "config_invalid", { code: problem.code, variable: problem.variable });
    return 0;
  }
  if (config.retentionDays === 0) return 0;
  const before = deps.now() - config.retentionDays * DAY_MS;
  return deps.archive ? archiveThenDelete(deps, deps.archive, before) : deleteOnly(deps, before);
}

/** Retention without an archive: delete, 500 rows a statement. */
async function deleteOnly(deps: Deps, before: number): Promise<number> {
  let deleted = 0;
  try {
    for (let i = 0; i < PRUNE_CHUNKS_PER_RUN; i++) {
      const n = await pruneFinal(deps.db, before, PRUNE_CHUNK);
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

/**
 * Retention with the archive: the parts of a stopped run are removed first, then final rows are
 * moved to R2 part by part, then the hours touched get their manifests. Any failure stops the run with
 * what was committed: nothing uncommitted was deleted, and the next run starts again from the oldest row.
 */
async function archiveThenDelete(deps: Deps, bucket: R2Bucket, before: number): Promise<number> {
  const { db } = deps;
  const nowMs = deps.now();
  const report: ArchiveReport = { parts: 0, archived: 0, deleted: 0 };
  try {
    await removeStaleParts(db, bucket, nowMs);
    await archiveFinalEvents(db, bucket, before, ARCHIVE_ROWS_PER_RUN, nowMs, report);
    await writeManifests(db, bucket, nowMs);
  } catch (err) {
    log("error", "retention_failed", { ...report, error: errorName(err) });
    return report.deleted;
  }
  if (report.parts > 0)
    log("info", "retention", { ...report, before: new Date(before).toISOString(), more: report.archived === ARCHIVE_ROWS_PER_RUN });
  return report.deleted;
}
