import type { StripeEventRow } from "../db/schema";
import { EVENT_FORMATS, type EventFormat } from "../ledger/event";
import { EVENT_STATUSES, type EventStatus } from "../ledger/status";

// Where the archive keeps things in R2, and what a line of a part holds. Keys sort by hour, so an R2
// listing (or `rclone ls`) reads in time order:
//   ledger/v1/2026/11/02/13/manifest.json                 the hour's parts, rewritten as parts are added
//   ledger/v1/2026/11/02/13/part-<first seq>-<last seq>-<archived ms>-<random>.jsonl.gz
// A part is gzip JSON Lines (`zcat part.jsonl.gz | jq`): one ledger row a line, its payload the JSON
// text exactly as received (a string, so a restore puts back the verified bytes), times in Unix ms.

/** Everything under this prefix is the archive's; `v1` is the line format below. */
export const ARCHIVE_PREFIX = "ledger/v1";

/**
 * The key prefix of one hour of arrival.
 *
 * @example
 * hourPrefix(Date.UTC(2026, 10, 2, 13)); // "ledger/v1/2026/11/02/13"
 */
export function hourPrefix(hour: number): string {
  const iso = new Date(hour).toISOString(); // 2026-11-02T13:00:00.000Z
  return `${ARCHIVE_PREFIX}/${iso.slice(0, 4)}/${iso.slice(5, 7)}/${iso.slice(8, 10)}/${iso.slice(11, 13)}`;
}

/**
 * A part's key, unique to this attempt (the archive time and a random suffix): a part written again
 * after a failure, or by a run at the same millisecond, never overwrites another part's object, and
 * removing a stopped run's object never removes a committed one.
 */
export function partKey(hour: number, firstSeq: number, lastSeq: number, archivedAt: number): string {
  const random = crypto.getRandomValues(new Uint32Array(1))[0]!.toString(36);
  return `${hourPrefix(hour)}/part-${firstSeq}-${lastSeq}-${archivedAt}-${random}.jsonl.gz`;
}

/** The key of an hour's manifest. */
export function manifestKey(hour: number): string {
  return `${hourPrefix(hour)}/manifest.json`;
}

/** One ledger row as a part holds it (snake_case, as the admin API names the fields). */
export interface ArchiveLine {
  seq: number;
  id: string;
  type: string;
  api_version: string | null;
  livemode: boolean;
  account: string | null;
  created: number;
  received_at: number;
  status: EventStatus;
  attempts: number;
  last_error: string | null;
  processed_at: number | null;
  dead_at: number | null;
  secret_index: number | null;
  source: StripeEventRow["source"];
  format: EventFormat;
  object_id: string | null;
  context: string | null;
  twin_of: string | null;
  /** The verified body, as received. */
  payload: string;
}

/**
 * A ledger row (its payload already decoded) as one line of a part.
 *
 * @example
 * const line = toLine(row, await decodePayload(row.payload, row.payloadEncoding));
 */
export function toLine(row: StripeEventRow, payload: string): string {
  const line: ArchiveLine = {
    seq: row.seq,
    id: row.id,
    type: row.type,
    api_version: row.apiVersion,
    livemode: row.livemode,
    account: row.account,
    created: row.created,
    received_at: row.receivedAt,
    status: row.status,
    attempts: row.attempts,
    last_error: row.lastError,
    processed_at: row.processedAt,
    dead_at: row.deadAt,
    secret_index: row.secretIndex,
    source: row.source,
    format: row.format,
    object_id: row.objectId,
    context: row.context,
    twin_of: row.twinOf,
    payload,
  };
  return JSON.stringify(line);
}

/**
 * Parses one line of a part, checking the fields a restore writes back; throws a TypeError naming
 * what is wrong (a part written by another tool, or damaged).
 *
 * @example
 * const line = parseLine(text);
 */
export function parseLine(text: string): ArchiveLine {
  const line = JSON.parse(text) as Partial<ArchiveLine>;
  const problems = [
    typeof line.seq === "number" && Number.isSafeInteger(line.seq) ? null : "seq",
    typeof line.id === "string" && line.id !== "" ? null : "id",
    typeof line.type === "string" ? null : "type",
    typeof line.payload === "string" ? null : "payload",
    typeof line.received_at === "number" ? null : "received_at",
    typeof line.created === "number" ? null : "created",
    (EVENT_STATUSES as readonly unknown[]).includes(line.status) ? null : "status",
    (EVENT_FORMATS as readonly unknown[]).includes(line.format) ? null : "format",
  ].filter((p) => p !== null);
  if (problems.length > 0) throw new TypeError(`An archive line has no valid ${problems.join(", ")}.`);
  return line as ArchiveLine;
}
