import type { Context } from "hono";
import { validator } from "hono/validator";
import { ApiError } from "../errors";
import type { AppEnv } from "./app-env";
import { type Fields, parseTime, text } from "./query";

// What the archive's endpoints read from a query string or a form: a range of hours of arrival and a
// restore's position, each refused with 400 `request_invalid` naming the parameter.

/** The archive endpoints' parameters, already validated. */
export interface ArchiveQuery {
  /** Hours of arrival from (inclusive), Unix ms. */
  from: number;
  /** To (exclusive), Unix ms. */
  to: number;
  /** A restore's position (`next_cursor` of the previous call), or null to start. */
  cursor: { hour: number; id: number } | null;
}

/**
 * Reads `from` and `to` (ISO 8601 or Unix ms) and `cursor`. With `required`, both times must be
 * given (a restore names its range); otherwise they default to everything up to now.
 *
 * @example
 * parseArchiveQuery({ from: "2026-11-01", to: "2026-11-02" }, true);
 */
export function parseArchiveQuery(fields: Fields, required: boolean, nowMs: number): ArchiveQuery {
  const from = parseTime("from", text(fields, "from"));
  const to = parseTime("to", text(fields, "to"));
  if (required && (from === undefined || to === undefined))
    throw new ApiError("request_invalid", "from and to are required: the range of arrival times to restore (ISO 8601 or Unix ms).");
  const range = { from: from ?? 0, to: to ?? nowMs + 1 };
  if (range.from >= range.to) throw new ApiError("request_invalid", "from must be before to.");
  return { ...range, cursor: decodeArchiveCursor(text(fields, "cursor")) };
}

/**
 * `c.req.valid("query")` is the archive query (`parseArchiveQuery`) read with the clock of the request.
 *
 * @example
 * routes.post("/archive/restore", archiveQuery(true), (c) => c.req.valid("query").from);
 */
export function archiveQuery(required: boolean) {
  return validator("query", (fields, c: Context<AppEnv>) => parseArchiveQuery(fields, required, c.var.deps.now()));
}

/** An opaque continuation token for a restore: the hour and part it stopped after, base 36. */
export function encodeArchiveCursor(position: { hour: number; id: number } | null): string | null {
  return position === null ? null : `p${position.hour.toString(36)}.${position.id.toString(36)}`;
}

function decodeArchiveCursor(raw: string | undefined): { hour: number; id: number } | null {
  if (raw === undefined) return null;
  const match = /^p([0-9a-z]{1,12})\.([0-9a-z]{1,12})$/.exec(raw);
  const hour = match ? Number.parseInt(match[1]!, 36) : Number.NaN;
  const id = match ? Number.parseInt(match[2]!, 36) : Number.NaN;
  if (!Number.isSafeInteger(hour) || !Number.isSafeInteger(id))
    throw new ApiError("request_invalid", "cursor is not one this API returned; pass next_cursor from the previous call unchanged.");
  return { hour, id };
}
