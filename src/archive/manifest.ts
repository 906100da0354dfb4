import type { Database } from "../db/client";
import { hoursToList, markListed, partsOfHour, staleWritingParts } from "../db/ledger/archive-catalogue";
import { manifestKey } from "./layout";

// The archive's housekeeping, in R2: each hour's manifest (what its parts are, so the bucket describes
// itself without D1), and the objects of parts whose run stopped between its put and its commit.

/** A part still `writing` this long after it began belongs to a run that stopped (a cron run lasts minutes at most). */
export const STALE_PART_MS = 30 * 60_000;
/** Hours whose manifest one run rewrites at most. */
const MANIFESTS_PER_RUN = 24;

/**
 * Writes the manifest of every hour (at most MANIFESTS_PER_RUN) with a committed part it does not
 * name yet, then marks those parts listed; a manifest that fails is written by a later run. Returns the
 * hours written.
 *
 * @example
 * await writeManifests(db, bucket, Date.now());
 */
export async function writeManifests(db: Database, bucket: R2Bucket, nowMs: number): Promise<number[]> {
  const hours = await hoursToList(db, MANIFESTS_PER_RUN);
  for (const hour of hours) {
    const parts = await partsOfHour(db, hour);
    const manifest = {
      version: 1,
      hour: new Date(hour).toISOString(),
      written_at: new Date(nowMs).toISOString(),
      events: parts.reduce((n, p) => n + p.events, 0),
      parts: parts.map((p) => ({
        key: p.key,
        first_seq: p.firstSeq,
        last_seq: p.lastSeq,
        lines: p.lines,
        events: p.events,
        bytes: p.bytes,
        archived_at: new Date(p.createdAt).toISOString(),
      })),
    };
    await bucket.put(manifestKey(hour), JSON.stringify(manifest, null, 2), { httpMetadata: { contentType: "application/json" } });
    await markListed(
      db,
      parts.map((p) => p.id),
    );
  }
  return hours;
}

/**
 * Removes the parts of runs that stopped between their put and their commit: their catalogue rows,
 * then their objects. Their events were never deleted from the ledger, so a later part holds them.
 * Returns how many were removed.
 *
 * @example
 * await removeStaleParts(db, bucket, Date.now());
 */
export async function removeStaleParts(db: Database, bucket: R2Bucket, nowMs: number): Promise<number> {
  const keys = await staleWritingParts(db, nowMs - STALE_PART_MS);
  if (keys.length > 0) await bucket.delete(keys);
  return keys.length;
}
