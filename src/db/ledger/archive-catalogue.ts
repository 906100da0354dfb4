import { and, asc, desc, eq, gte, inArray, lt, ne, type SQL, sql } from "drizzle-orm";
import type { Database } from "../client";
import { type ArchivePartRow, archiveIndex, archiveParts } from "../schema";

// The R2 archive's catalogue in D1 (`archive_parts`, `archive_index`): its housekeeping, the hours it
// holds, the parts a restore goes through, and the parts that may hold an event id.

/**
 * Parts still `writing` that were begun before `beforeMs` (a run that stopped between its put and its
 * commit), removed from the catalogue; returns their keys, whose objects the caller deletes. Their
 * rows were never deleted from the ledger.
 *
 * @example
 * for (const key of await staleWritingParts(db, Date.now() - 15 * 60_000)) await bucket.delete(key);
 */
export async function staleWritingParts(db: Database, beforeMs: number): Promise<string[]> {
  const rows = await db
    .delete(archiveParts)
    .where(and(ne(archiveParts.state, "listed"), eq(archiveParts.state, "writing"), lt(archiveParts.createdAt, beforeMs)))
    .returning({ key: archiveParts.key });
  return rows.map((r) => r.key);
}

/** Hours (at most `limit`) that have a `done` part the hour's manifest in R2 does not name yet. */
export async function hoursToList(db: Database, limit: number): Promise<number[]> {
  const rows = await db
    .selectDistinct({ hour: archiveParts.hour })
    .from(archiveParts)
    .where(and(ne(archiveParts.state, "listed"), eq(archiveParts.state, "done")))
    .limit(limit);
  return rows.map((r) => r.hour);
}

/** The committed parts (`done` or `listed`) of one hour, oldest first: what its manifest names. */
export async function partsOfHour(db: Database, hour: number): Promise<ArchivePartRow[]> {
  return db
    .select()
    .from(archiveParts)
    .where(and(eq(archiveParts.hour, hour), ne(archiveParts.state, "writing")))
    .orderBy(asc(archiveParts.id));
}

/** Marks parts as named by their hour's manifest. */
export async function markListed(db: Database, ids: readonly number[]): Promise<void> {
  if (ids.length > 0)
    await db
      .update(archiveParts)
      .set({ state: "listed" })
      .where(and(inArray(archiveParts.id, [...ids]), eq(archiveParts.state, "done")));
}

/** One archived hour as `GET /admin/api/archive` lists it. */
export interface ArchivedHour {
  hour: number;
  parts: number;
  events: number;
  bytes: number;
}

/**
 * The archived hours in [`from`, `to`), newest first, at most `limit`, read through the hour index:
 * committed parts only.
 *
 * @example
 * const hours = await archivedHours(db, 0, Date.now(), 168);
 */
export async function archivedHours(db: Database, from: number, to: number, limit: number): Promise<ArchivedHour[]> {
  return db
    .select({
      hour: archiveParts.hour,
      parts: sql<number>`count(*)`,
      events: sql<number>`sum(${archiveParts.events})`,
      bytes: sql<number>`sum(${archiveParts.bytes})`,
    })
    .from(archiveParts)
    .where(and(gte(archiveParts.hour, from), lt(archiveParts.hour, to), ne(archiveParts.state, "writing")))
    .groupBy(archiveParts.hour)
    .orderBy(desc(archiveParts.hour))
    .limit(limit);
}

/**
 * The committed parts of the hours in [`from`, `to`) after the position (`hour`, `id`), in that order,
 * at most `limit`: what a restore goes through.
 */
export async function partsInRange(db: Database, from: number, to: number, after: { hour: number; id: number } | null, limit: number) {
  const position: SQL | undefined = after ? sql`(${archiveParts.hour}, ${archiveParts.id}) > (${after.hour}, ${after.id})` : undefined;
  return db
    .select()
    .from(archiveParts)
    .where(and(gte(archiveParts.hour, from), lt(archiveParts.hour, to), ne(archiveParts.state, "writing"), position))
    .orderBy(asc(archiveParts.hour), asc(archiveParts.id))
    .limit(limit);
}

/**
 * The committed parts whose fingerprint row for the id's bucket holds the id's fingerprint, newest
 * first: one index row per part and bucket size is read (the primary key's range), never the archive.
 * A part found may not hold the id (another id with the same fingerprint, or a match across two
 * fingerprints): the caller opens it to be sure.
 *
 * @example
 * const parts = await partsWithFingerprint(db, [[0, 0], [1, 1], …], fingerprintBytes);
 */
export async function partsWithFingerprint(
  db: Database,
  buckets: readonly (readonly [bits: number, bucket: number])[],
  fingerprint: Uint8Array,
): Promise<ArchivePartRow[]> {
  const hits = db
    .select({ part: archiveIndex.part })
    .from(archiveIndex)
    .where(
      and(
        sql`(${archiveIndex.bits}, ${archiveIndex.bucket}) IN (VALUES ${sql.join(
          buckets.map(([bits, bucket]) => sql`(${bits}, ${bucket})`),
          sql`, `,
        )})`,
        sql`instr(${archiveIndex.fingerprints}, ${fingerprint}) > 0`,
      ),
    );
  return db
    .select()
    .from(archiveParts)
    .where(and(inArray(archiveParts.id, hits), ne(archiveParts.state, "writing")))
    .orderBy(desc(archiveParts.id));
}
