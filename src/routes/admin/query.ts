import { EVENT_STATUSES, type EventStatus } from "../../db/schema";
import type { Cursor, EventFilter } from "../../db/admin";
import { ApiError } from "../../errors";

export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 100;

/** The query parameters the list and replay endpoints share, already validated. */
export interface ListQuery {
  filter: EventFilter;
  cursor: Cursor | null;
  limit: number;
}

/**
 * Reads `status` (comma-separated), `type`, `from`/`to` (ISO 8601 or Unix ms), `cursor` and `limit`.
 * Throws `request_invalid` naming the parameter; blank parameters count as absent (an empty form field).
 */
export function parseListQuery(query: Record<string, string | undefined>, maxLimit = MAX_PAGE): ListQuery {
  const get = (name: string) => {
    const v = query[name]?.trim();
    return v === undefined || v === "" ? undefined : v;
  };
  const statusRaw = get("status");
  const statuses = statusRaw?.split(",").map((s) => s.trim()).filter((s) => s !== "");
  for (const s of statuses ?? []) {
    if (!(EVENT_STATUSES as readonly string[]).includes(s)) {
      throw new ApiError("request_invalid", `status must be one or more of ${EVENT_STATUSES.join(", ")} (comma-separated).`);
    }
  }
  const limitRaw = get("limit");
  const limit = limitRaw === undefined ? Math.min(DEFAULT_PAGE, maxLimit) : Number(limitRaw);
  if (!Number.isInteger(limit) || limit < 1 || limit > maxLimit) throw new ApiError("request_invalid", `limit must be a whole number from 1 to ${maxLimit}.`);
  return {
    filter: { statuses: statuses as EventStatus[] | undefined, type: get("type"), receivedFrom: parseTime("from", get("from")), receivedTo: parseTime("to", get("to")) },
    cursor: decodeCursor(get("cursor")),
    limit,
  };
}

function parseTime(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  // A datetime-local form field has no zone; it is read as UTC, which is what the console shows.
  const ms = /^\d+$/.test(raw) ? Number(raw) : Date.parse(/[zZ]|[+-]\d{2}:\d{2}$/.test(raw) ? raw : `${raw}Z`);
  if (!Number.isSafeInteger(ms)) throw new ApiError("request_invalid", `${name} must be an ISO 8601 time (2026-11-24T12:00:00Z) or Unix milliseconds.`);
  return ms;
}

/** An opaque continuation token for the list order (the arrival position of the last row, base 36). */
export function encodeCursor(cursor: Cursor | null): string | null {
  return cursor === null ? null : `s${cursor.toString(36)}`;
}

function decodeCursor(raw: string | undefined): Cursor | null {
  if (raw === undefined) return null;
  const seq = /^s[0-9a-z]{1,12}$/.test(raw) ? Number.parseInt(raw.slice(1), 36) : Number.NaN;
  if (!Number.isSafeInteger(seq)) throw new ApiError("request_invalid", "cursor is not one this API returned; pass next_cursor from the previous page unchanged.");
  return seq;
}
