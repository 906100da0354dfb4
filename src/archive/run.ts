import type { Database } from "../db/client";
import { ARCHIVE_READ_CHUNK, type ArchivedRow, beginPart, commitPart, finalRowsToArchive } from "../db/ledger/archive";
import { HOUR_MS, hourOf } from "../db/ledger/hours";
import type { StripeEventRow } from "../db/schema";
import { seqAt } from "../ledger/event";
import { log } from "../log";
import { fingerprintRows } from "./fingerprint";
import { partKey } from "./layout";
import { buildPart, PART_MAX_EVENTS } from "./part";

/** What one archiving run did. */
export interface ArchiveReport {
  /** Parts committed. */
  parts: number;
  /** Lines written to R2 in those parts. */
  archived: number;
  /** Ledger rows their commits deleted (fewer than `archived` only when a row changed in between). */
  deleted: number;
}

/**
 * Moves final events that arrived before `beforeMs` to R2, oldest first, at most `maxRows` this run,
 * part by part: each part (one hour of arrival, at most PART_MAX_EVENTS rows, read ARCHIVE_READ_CHUNK at
 * a time) is recorded `writing`, put to R2 with its SHA-256, and only then committed, which deletes its
 * rows from the ledger in the same transaction that marks it `done`. A put or a commit that fails
 * throws, leaving every row of the part in the ledger and the part `writing` (removed by a later run's
 * cleanup); `report` holds what was committed until then.
 *
 * @example
 * const report = { parts: 0, archived: 0, deleted: 0 };
 * await archiveFinalEvents(db, bucket, Date.now() - 7 * 86_400_000, 10_000, Date.now(), report);
 */
export async function archiveFinalEvents(
  db: Database,
  bucket: R2Bucket,
  beforeMs: number,
  maxRows: number,
  nowMs: number,
  report: ArchiveReport,
): Promise<ArchiveReport> {
  let after = 0;
  while (report.archived < maxRows) {
    const rows = await collectPart(db, after, seqAt(beforeMs), Math.min(PART_MAX_EVENTS, maxRows - report.archived));
    if (rows.length === 0) break;
    const deleted = await archivePart(db, bucket, rows, nowMs);
    report.parts++;
    report.archived += rows.length;
    report.deleted += deleted;
    after = rows.at(-1)!.seq;
  }
  return report;
}

/** The next part: final rows after `afterSeq`, all of the first one's hour of arrival, at most `limit`. */
async function collectPart(db: Database, afterSeq: number, beforeSeq: number, limit: number): Promise<StripeEventRow[]> {
  const rows: StripeEventRow[] = [];
  let cursor = afterSeq;
  let end = beforeSeq;
  while (rows.length < limit) {
    const want = Math.min(ARCHIVE_READ_CHUNK, limit - rows.length);
    const chunk = await finalRowsToArchive(db, cursor, end, want);
    if (chunk.length === 0) break;
    if (rows.length === 0) end = Math.min(end, seqAt(arrivalHour(chunk[0]!) + HOUR_MS));
    const inHour = chunk.filter((r) => r.seq < end);
    rows.push(...inHour);
    if (inHour.length < chunk.length || chunk.length < want) break;
    cursor = chunk.at(-1)!.seq;
  }
  return rows;
}

/** A row's hour of arrival, as `ledger_hours` and the archive's keys count it (from `seq`). */
function arrivalHour(row: { seq: number }): number {
  return hourOf(Math.floor(row.seq / 1000));
}

/** Puts one part and commits it; returns the rows its commit deleted. */
async function archivePart(db: Database, bucket: R2Bucket, read: readonly StripeEventRow[], nowMs: number): Promise<number> {
  const { body, sha256, rows, unreadable } = await buildPart(read);
  for (const id of unreadable) log("error", "archive_payload_unreadable", { event_id: id });
  if (rows.length === 0) return 0;
  const hour = arrivalHour(rows[0]!);
  const first = rows[0]!.seq;
  const last = rows.at(-1)!.seq;
  const key = partKey(hour, first, last, nowMs);
  const id = await beginPart(db, { hour, key, firstSeq: first, lastSeq: last, lines: rows.length, bytes: body.byteLength }, nowMs);
  // R2 answers only once the object is stored; with the checksum, an object stored damaged is refused.
  await bucket.put(key, body, {
    sha256,
    httpMetadata: { contentType: "application/gzip" },
    customMetadata: { hour: new Date(hour).toISOString(), first_seq: String(first), last_seq: String(last), lines: String(rows.length) },
  });
  const archived: ArchivedRow[] = rows.map((r) => ({ seq: r.seq, processedAt: r.processedAt }));
  return commitPart(db, id, archived, await fingerprintRows(rows.map((r) => r.id)));
}
