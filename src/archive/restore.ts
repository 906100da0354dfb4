import { and, eq, inArray } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { batchAll, chunk, type Database } from "../db/client";
import { partsInRange } from "../db/ledger/archive-catalogue";
import { resetStatements } from "../db/ledger/operator";
import { stripeEvents } from "../db/schema";
import { replayableStatuses } from "../ledger/status";
import type { ArchiveLine } from "./layout";
import { recordOf } from "./lookup";
import { readPart } from "./part";

/** Where a restore goes on: after this part of this hour (parts are restored in hour, then part, order). */
export interface RestorePosition {
  hour: number;
  id: number;
}

/** What one restore call did. */
export interface RestoreReport {
  /** Parts read. */
  parts: number;
  /** Archived events put back into the ledger (an id already there is left as it is). */
  restored: number;
  /** Of those, the ids reset for processing: the caller sends them to the queue. */
  replayed: string[];
  /** Where the next call goes on, or null when the range is done. */
  next: RestorePosition | null;
}

/** Lines per D1 batch: each is an insert, and a batch's ids go in one reset statement (under D1's 100 bound values). */
const LINES_PER_BATCH = 80;
/** Payload bytes per D1 batch at most, whatever the number of lines. */
const BYTES_PER_BATCH = 4_000_000;
/**
 * The `attempts` a restored row is inserted with: no row of the ledger has it otherwise (attempts never
 * go below 0), so the reset in the same batch takes the rows this batch inserted and no other.
 */
const RESTORED = -1;

/**
 * Brings archived events back into the ledger for processing, one part per call (at most 2,000
 * events): each is inserted as it was archived unless its id is in the ledger (`ON CONFLICT DO
 * NOTHING`, so restoring twice records nothing twice), and in the same transaction replayed, as an
 * operator's replay of a processed event is: `received`, due for the cron, with the charts' counters
 * moved (src/db/ledger/hours.ts). Its handlers run again; projections keep the newest state and
 * fulfilments are once-only, so an event already fulfilled fulfils nothing again. A lifecycle event
 * is put back as it was and not replayed: it records a transition that happened, and its hooks (an
 * app's "access granted" email) ran when it did. The caller sends `replayed` to the queue.
 *
 * @example
 * const report = await restoreArchived(db, bucket, from, to, null, Date.now());
 */
export async function restoreArchived(
  db: Database,
  bucket: R2Bucket,
  from: number,
  to: number,
  after: RestorePosition | null,
  nowMs: number,
): Promise<RestoreReport> {
  const report: RestoreReport = { parts: 0, restored: 0, replayed: [], next: null };
  const [part, more] = await partsInRange(db, from, to, after, 2);
  if (!part) return report;
  const lines = await readPart(bucket, part.key);
  if (lines === null) throw new Error(`The archive's part ${part.key} is missing from the bucket.`);
  for (const batch of batches(lines)) {
    const { inserted, replayed } = await restoreBatch(db, batch, nowMs);
    report.restored += inserted;
    report.replayed.push(...replayed);
  }
  report.parts = 1;
  report.next = more ? { hour: part.hour, id: part.id } : null;
  return report;
}

/** Lines grouped into batches of at most LINES_PER_BATCH lines and BYTES_PER_BATCH payload bytes. */
function* batches(lines: readonly ArchiveLine[]): Generator<ArchiveLine[]> {
  let batch: ArchiveLine[] = [];
  let bytes = 0;
  for (const line of lines) {
    if (batch.length > 0 && (batch.length === LINES_PER_BATCH || bytes + line.payload.length > BYTES_PER_BATCH)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(line);
    bytes += line.payload.length;
  }
  if (batch.length > 0) yield batch;
}

/**
 * One batch: the inserts, then the replay of the rows they inserted (marked by RESTORED attempts;
 * lifecycle rows keep theirs, so the replay leaves them as they were).
 */
async function restoreBatch(db: Database, lines: readonly ArchiveLine[], nowMs: number): Promise<{ inserted: number; replayed: string[] }> {
  const inserts: BatchItem<"sqlite">[] = lines.map((line) => {
    const { payload, ...record } = recordOf(line);
    return db
      .insert(stripeEvents)
      .values({ ...record, attempts: line.format === "lifecycle" ? record.attempts : RESTORED, payload, payloadEncoding: null })
      .onConflictDoNothing();
  });
  const ids = lines.map((l) => l.id);
  const resets = chunk(ids, LINES_PER_BATCH).flatMap((part) => [
    ...resetStatements(db, and(inArray(stripeEvents.id, part), eq(stripeEvents.attempts, RESTORED)), replayableStatuses(true), nowMs),
  ]);
  const results = await batchAll(db, [...inserts, ...resets]);
  const inserted = (results.slice(0, inserts.length) as unknown as D1Result[]).reduce((n, r) => n + (r.meta?.changes ?? 0), 0);
  const replayed = results
    .slice(inserts.length)
    .filter((_, i) => i % 2 === 1)
    .flatMap((r) => (r as unknown as { id: string }[]).map((row) => row.id));
  return { inserted, replayed };
}
