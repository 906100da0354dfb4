import type { Database } from "../db/client";
import { partsWithFingerprint } from "../db/ledger/archive-catalogue";
import type { EventRecord } from "../db/ledger/reads";
import { lookupKeys } from "./fingerprint";
import type { ArchiveLine } from "./layout";
import { readPart } from "./part";

/** An event found in the archive: the record as the ledger held it, and where it is kept. */
export type ArchivedEvent = EventRecord & { archived: { hour: number; key: string; archivedAt: number } };

/**
 * Finds an event that retention moved to R2, without reading the archive: the id's fingerprint
 * (src/archive/fingerprint.ts) names the parts that may hold it, one index row per part, and only those
 * objects are read, newest first (a replayed event archived twice is found as it was last). Null when
 * no part holds it.
 *
 * @example
 * const event = (await getEvent(db, id)) ?? (await findArchived(db, bucket, id));
 */
export async function findArchived(db: Database, bucket: R2Bucket, id: string): Promise<ArchivedEvent | null> {
  const { buckets, fingerprint } = await lookupKeys(id);
  for (const part of await partsWithFingerprint(db, buckets, fingerprint)) {
    const [line] = (await readPart(bucket, part.key, id)) ?? [];
    if (line) return { ...recordOf(line), archived: { hour: part.hour, key: part.key, archivedAt: part.createdAt } };
  }
  return null;
}

/** A line of a part as the ledger's record of the event. */
export function recordOf(line: ArchiveLine): EventRecord {
  return {
    seq: line.seq,
    id: line.id,
    type: line.type,
    apiVersion: line.api_version,
    livemode: line.livemode,
    account: line.account,
    created: line.created,
    receivedAt: line.received_at,
    status: line.status,
    attempts: line.attempts,
    leaseUntil: null,
    redriveAt: null,
    lastError: line.last_error,
    processedAt: line.processed_at,
    deadAt: line.dead_at,
    secretIndex: line.secret_index,
    source: line.source,
    format: line.format,
    objectId: line.object_id,
    context: line.context,
    twinOf: line.twin_of,
    payload: line.payload,
  };
}
