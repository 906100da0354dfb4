import { and, asc, eq, gt, inArray, lt, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { FINAL_STATUSES } from "../../ledger/status";
import { batchAll, chunk, type Database, rawStatement } from "../client";
import { archiveIndex, archiveParts, type StripeEventRow, stripeEvents } from "../schema";

// The statements that move final rows to the R2 archive (src/archive/ decides what to do with them):
// reading them, and a part's begin and commit (the catalogue's reads are in archive-catalogue.ts). The
// one rule that keeps history whole: a part's rows are deleted only by the batch that marks it `done`,
// and only if that batch did.

/** Rows read per statement when collecting a part (well inside D1's limits even for large payloads). */
export const ARCHIVE_READ_CHUNK = 500;

/**
 * Up to `limit` final rows after `afterSeq` and before `beforeSeq`, oldest first, whole (payload as
 * stored); never the newest row of the ledger, which retention always keeps so that `seq` never goes back.
 *
 * @example
 * const rows = await finalRowsToArchive(db, 0, seqAt(Date.now() - 7 * 86_400_000), 500);
 */
export async function finalRowsToArchive(db: Database, afterSeq: number, beforeSeq: number, limit: number): Promise<StripeEventRow[]> {
  return db
    .select()
    .from(stripeEvents)
    .where(
      and(
        gt(stripeEvents.seq, afterSeq),
        lt(stripeEvents.seq, beforeSeq),
        sql`${stripeEvents.seq} < (SELECT max(${stripeEvents.seq}) FROM ${stripeEvents})`,
        inArray(stripeEvents.status, [...FINAL_STATUSES]),
      ),
    )
    .orderBy(asc(stripeEvents.seq))
    .limit(limit);
}

/** What a part is, before its object is put. */
export interface NewPart {
  hour: number;
  key: string;
  firstSeq: number;
  lastSeq: number;
  lines: number;
  bytes: number;
}

/**
 * Records a part as `writing`, before its object is put: if the run stops before the commit, the
 * next run finds the row and removes the object (`staleWritingParts`). Returns the part's id.
 *
 * @example
 * const id = await beginPart(db, part, Date.now());
 */
export async function beginPart(db: Database, part: NewPart, nowMs: number): Promise<number> {
  const [row] = await db
    .insert(archiveParts)
    .values({ ...part, state: "writing", createdAt: nowMs })
    .returning({ id: archiveParts.id });
  return row!.id;
}

/** A row as the part's object holds it: what the delete checks is unchanged since it was read. */
export interface ArchivedRow {
  seq: number;
  processedAt: number | null;
}

/** Rows per delete statement: the rows travel as one JSON parameter, so D1's 100 bound values do not limit them. */
const DELETE_CHUNK = 500;
/** Fingerprint rows per insert: four bound values each. */
const INDEX_ROWS_PER_STATEMENT = 24;

/**
 * The statements committing a part, run as one batch (one transaction): mark it `done` with the
 * number of rows it is about to delete, add its fingerprint rows, and delete its rows from the ledger.
 * A row is deleted only if it is still the final row the part holds (same `seq`, still processed or
 * ignored, same `processed_at`: a replay in between changes one of them, and that row stays for a later
 * part), and only if this batch marked the part `done`: a part a cleanup already removed deletes nothing.
 *
 * @example
 * await batchAll(db, commitPartStatements(db, id, rows, fingerprintRows));
 */
export function commitPartStatements(
  db: Database,
  partId: number,
  rows: readonly ArchivedRow[],
  fingerprints: readonly { bits: number; bucket: number; fingerprints: Uint8Array }[],
): BatchItem<"sqlite">[] {
  const lists = chunk(rows, DELETE_CHUNK).map((part) => JSON.stringify(part.map((r) => [r.seq, r.processedAt ?? -1])));
  // The first term finds the rows by the rowid; the second checks each is as the part holds it
  // (`processed_at` -1 for a row that has none, which only rows seeded by hand lack).
  const unchanged = (list: string) =>
    sql`${stripeEvents.seq} IN (SELECT value ->> 0 FROM json_each(${list}))
        AND (${stripeEvents.seq}, coalesce(${stripeEvents.processedAt}, -1)) IN (SELECT value ->> 0, value ->> 1 FROM json_each(${list}))
        AND ${inArray(stripeEvents.status, [...FINAL_STATUSES])}`;
  const counted = sql.join(
    lists.map((list) => sql`(SELECT count(*) FROM ${stripeEvents} WHERE ${unchanged(list)})`),
    sql` + `,
  );
  const committed = sql`EXISTS (SELECT 1 FROM ${archiveParts} WHERE ${archiveParts.id} = ${partId} AND ${archiveParts.state} = 'done')`;
  return [
    db
      .update(archiveParts)
      .set({ state: "done", events: lists.length === 0 ? sql`0` : counted })
      .where(and(eq(archiveParts.id, partId), eq(archiveParts.state, "writing"))),
    ...chunk(fingerprints, INDEX_ROWS_PER_STATEMENT).map((part) =>
      rawStatement(
        db,
        sql`INSERT INTO ${archiveIndex} (bits, bucket, part, fingerprints)
            SELECT * FROM (VALUES ${sql.join(
              part.map((f) => sql`(${f.bits}, ${f.bucket}, ${partId}, ${f.fingerprints})`),
              sql`, `,
            )}) WHERE ${committed}`,
      ),
    ),
    ...lists.map((list) =>
      rawStatement(
        db,
        sql`DELETE FROM ${stripeEvents} WHERE ${unchanged(list)}
            AND ${stripeEvents.seq} < (SELECT max(${stripeEvents.seq}) FROM ${stripeEvents}) AND ${committed}`,
      ),
    ),
  ];
}

/**
 * Commits a part (see `commitPartStatements`) and returns how many ledger rows it deleted: 0 when the
 * part was no longer `writing`.
 *
 * @example
 * const deleted = await commitPart(db, id, rows, fingerprintRows);
 */
export async function commitPart(
  db: Database,
  partId: number,
  rows: readonly ArchivedRow[],
  fingerprints: readonly { bits: number; bucket: number; fingerprints: Uint8Array }[],
): Promise<number> {
  const statements = commitPartStatements(db, partId, rows, fingerprints);
  const results = (await batchAll(db, statements)) as unknown as D1Result[];
  return results.slice(statements.length - Math.ceil(rows.length / DELETE_CHUNK)).reduce((n, r) => n + (r.meta?.changes ?? 0), 0);
}
