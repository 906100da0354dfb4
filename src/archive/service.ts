import { type ArchivedHour, archivedHours } from "../db/ledger/archive-catalogue";
import { type EventRecord, getEvent } from "../db/ledger/reads";
import type { Deps } from "../deps";
import { ApiError } from "../errors";
import { log } from "../log";
import { dispatch } from "../queue/enqueue";
import { type ArchivedEvent, findArchived } from "./lookup";
import { type RestorePosition, type RestoreReport, restoreArchived } from "./restore";

// What the admin API and the console ask of the archive, with the invocation's dependencies.

/** Archived hours one listing returns at most: a week. */
export const ARCHIVE_PAGE_HOURS = 168;

/**
 * One event, from the ledger, or from the archive when retention moved it there (and ARCHIVE is
 * bound); null when neither holds it.
 *
 * @example
 * const event = await findEvent(deps, "evt_123");
 * if (event && "archived" in event) … // read from R2
 */
export async function findEvent(deps: Deps, id: string): Promise<EventRecord | ArchivedEvent | null> {
  const event = await getEvent(deps.db, id);
  if (event !== null || deps.archive === null) return event;
  return findArchived(deps.db, deps.archive, id);
}

/**
 * The archived hours in [`from`, `to`), newest first (at most ARCHIVE_PAGE_HOURS); `archive_not_bound`
 * without the bucket.
 *
 * @example
 * const hours = await listArchive(deps, 0, Date.now());
 */
export async function listArchive(deps: Deps, from: number, to: number): Promise<ArchivedHour[]> {
  requireArchive(deps);
  return archivedHours(deps.db, from, to, ARCHIVE_PAGE_HOURS);
}

/**
 * Restores the next part of the range (src/archive/restore.ts) and sends the events it put back to the
 * queue; `archive_not_bound` without the bucket. A failed send is re-driven by the cron (the rows are
 * due a grace from now).
 *
 * @example
 * let next = null; do { ({ next } = await restoreRange(deps, from, to, next)); } while (next);
 */
export async function restoreRange(deps: Deps, from: number, to: number, after: RestorePosition | null): Promise<RestoreReport> {
  const bucket = requireArchive(deps);
  const report = await restoreArchived(deps.db, bucket, from, to, after, deps.now());
  if (report.replayed.length > 0) await dispatch(deps, report.replayed);
  log("info", "archive_restored", {
    parts: report.parts,
    restored: report.restored,
    replayed: report.replayed.length,
    more: report.next !== null,
  });
  return report;
}

function requireArchive(deps: Deps): R2Bucket {
  if (deps.archive === null)
    throw new ApiError(
      "archive_not_bound",
      "No ARCHIVE bucket is bound to this Worker, so nothing is archived: add the [[r2_buckets]] block of wrangler.toml and deploy.",
    );
  return deps.archive;
}
