import type { Context } from "hono";
import type { Cursor, EventFilter } from "../../db/ledger/reads";
import { ApiError } from "../../errors";
import { EVENT_STATUSES, type EventStatus } from "../../ledger/status";

const DEFAULT_PAGE = 50;
const MAX_PAGE = 100;

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
  const statuses = statusRaw
    ?.split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  for (const s of statuses ?? []) {
    if (!(EVENT_STATUSES as readonly string[]).includes(s)) {
      throw new ApiError("request_invalid", `status must be one or more of ${EVENT_STATUSES.join(", ")} (comma-separated).`);
    }
  }
  const limitRaw = get("limit");
  const limit = limitRaw === undefined ? Math.min(DEFAULT_PAGE, maxLimit) : Number(limitRaw);
  if (!Number.isInteger(limit) || limit < 1 || limit > maxLimit)
    throw new ApiError("request_invalid", `limit must be a whole number from 1 to ${maxLimit}.`);
  return {
    filter: {
      statuses: statuses as EventStatus[] | undefined,
      type: get("type"),
      receivedFrom: parseTime("from", get("from")),
      receivedTo: parseTime("to", get("to")),
    },
    cursor: decodeCursor(get("cursor")),
    limit,
  };
}

/**
 * The filter fields of the events page, as its form and links carry them (a blank field is absent).
 *
 * @example
 * filterFields({ status: "dead", type: "", cursor: "s1" }); // { status: "dead", type: undefined, from: undefined, to: undefined }
 */
export function filterFields(fields: Record<string, string | undefined>) {
  const pick = (name: string) => (fields[name] ? fields[name] : undefined);
  return { status: pick("status"), type: pick("type"), from: pick("from"), to: pick("to") };
}

function parseTime(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  // A datetime-local form field has no zone; it is read as UTC, which is what the console shows.
  const ms = /^\d+$/.test(raw) ? Number(raw) : Date.parse(/[zZ]|[+-]\d{2}:\d{2}$/.test(raw) ? raw : `${raw}Z`);
  if (!Number.isSafeInteger(ms))
    throw new ApiError("request_invalid", `${name} must be an ISO 8601 time (2026-11-24T12:00:00Z) or Unix milliseconds.`);
  return ms;
}

/** An opaque continuation token for the list order (the arrival position of the last row, base 36). */
export function encodeCursor(cursor: Cursor | null): string | null {
  return cursor === null ? null : `s${cursor.toString(36)}`;
}

function decodeCursor(raw: string | undefined): Cursor | null {
  if (raw === undefined) return null;
  const seq = /^s[0-9a-z]{1,12}$/.test(raw) ? Number.parseInt(raw.slice(1), 36) : Number.NaN;
  if (!Number.isSafeInteger(seq))
    throw new ApiError("request_invalid", "cursor is not one this API returned; pass next_cursor from the previous page unchanged.");
  return seq;
}

/**
 * A boolean query parameter or form field: `true`/`1` or `false`/`0`; absent or blank is false.
 * Anything else is `request_invalid` naming it, so a typo never silently means "no".
 */
export function isTrue(name: string, raw: string | undefined): boolean {
  const value = raw?.trim().toLowerCase() ?? "";
  if (value === "true" || value === "1") return true;
  if (value === "false" || value === "0" || value === "") return false;
  throw new ApiError("request_invalid", `${name} must be true or false.`);
}

// Stripe ids are a short lowercase prefix, an underscore and letters, digits or underscores
// (`cus_NffrFeUfNV2Hib`, `cs_test_a1…`, `evt_1Nv…`).
const STRIPE_ID = /^[a-z]{2,8}_[A-Za-z0-9_]{1,250}$/;

/**
 * A Stripe object or event id from a path or the search box, trimmed; `request_invalid` for anything
 * else, or for an id without one of `prefixes` when given.
 *
 * @example
 * parseStripeId(" sub_123 "); // "sub_123"
 */
export function parseStripeId(raw: string | undefined, prefixes?: readonly string[]): string {
  const id = (raw ?? "").trim();
  if (!STRIPE_ID.test(id)) {
    throw new ApiError("request_invalid", "The id must be a Stripe id such as evt_…, cus_…, sub_…, in_…, cs_…, pi_…, ch_… or re_….");
  }
  if (prefixes && !prefixes.some((p) => id.startsWith(p)))
    throw new ApiError("request_invalid", `The id must start with ${prefixes.join(" or ")}.`);
  return id;
}

/**
 * A console form's text fields. A body that cannot be read (a malformed multipart) is the client's
 * mistake: `request_invalid`, not a 500.
 */
export async function readForm(c: Context): Promise<Record<string, string>> {
  const body = await c.req.parseBody().catch(() => {
    throw new ApiError(
      "request_invalid",
      "The form could not be read: post it as application/x-www-form-urlencoded or multipart/form-data, as the console's own forms do.",
    );
  });
  return Object.fromEntries(Object.entries(body).filter((entry): entry is [string, string] => typeof entry[1] === "string"));
}
