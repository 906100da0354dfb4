import { validator } from "hono/validator";
import type { Cursor, EventFilter } from "../db/ledger/reads";
import { ApiError } from "../errors";
import { EVENT_STATUSES, type EventStatus } from "../ledger/status";

// What the admin API and the console read from query strings, paths and forms, as hono/validator
// middleware: a route gets the parsed value from `c.req.valid(...)`, and a bad value is refused with
// 400 `request_invalid` naming the parameter before the route runs. Hand-written checks rather than a
// schema library: the parameters are few, the messages name each one as the operator typed it, and
// the bundle stays free of a validation library (a size budget of 200 KiB gzip).

const DEFAULT_PAGE = 50;
const MAX_PAGE = 100;

/** The query parameters the list and replay endpoints share, already validated. */
export interface ListQuery {
  filter: EventFilter;
  cursor: Cursor | null;
  limit: number;
}

/** A query or form as hono/validator hands it over: a repeated field is an array. */
export type Fields = Record<string, string | string[] | File | (string | File)[] | undefined>;

/**
 * A field's text: the first value of a repeated one, blank (an empty form field) as absent.
 *
 * @example
 * text({ from: ["2026-11-02", "x"] }, "from"); // "2026-11-02"
 */
export function text(fields: Fields, name: string): string | undefined {
  const raw = fields[name];
  const first = Array.isArray(raw) ? raw[0] : raw;
  const value = typeof first === "string" ? first.trim() : undefined;
  return value === "" ? undefined : value;
}

/**
 * Reads `status` (comma-separated), `type`, `from`/`to` (ISO 8601 or Unix ms), `cursor` and `limit`.
 * Throws `request_invalid` naming the parameter; blank parameters count as absent (an empty form field).
 *
 * @example
 * parseListQuery({ status: "failed,dead", limit: "20" }).filter.statuses; // ["failed", "dead"]
 */
export function parseListQuery(fields: Fields, maxLimit = MAX_PAGE): ListQuery {
  const statuses = text(fields, "status")
    ?.split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  for (const s of statuses ?? []) {
    if (!(EVENT_STATUSES as readonly string[]).includes(s)) {
      throw new ApiError("request_invalid", `status must be one or more of ${EVENT_STATUSES.join(", ")} (comma-separated).`);
    }
  }
  const limitRaw = text(fields, "limit");
  const limit = limitRaw === undefined ? Math.min(DEFAULT_PAGE, maxLimit) : Number(limitRaw);
  if (!Number.isInteger(limit) || limit < 1 || limit > maxLimit)
    throw new ApiError("request_invalid", `limit must be a whole number from 1 to ${maxLimit}.`);
  return {
    filter: {
      statuses: statuses as EventStatus[] | undefined,
      type: text(fields, "type"),
      receivedFrom: parseTime("from", text(fields, "from")),
      receivedTo: parseTime("to", text(fields, "to")),
    },
    cursor: decodeCursor(text(fields, "cursor")),
    limit,
  };
}

/**
 * `c.req.valid("query")` is the list query (`parseListQuery`), pages of at most `maxLimit`.
 *
 * @example
 * routes.get("/events", listQuery(), (c) => c.json(c.req.valid("query").filter));
 */
export function listQuery(maxLimit = MAX_PAGE) {
  return validator("query", (fields) => parseListQuery(fields, maxLimit));
}

/**
 * The filter fields of the events page, as its form and links carry them (a blank field is absent).
 *
 * @example
 * filterFields({ status: "dead", type: "", cursor: "s1" }); // { status: "dead", type: undefined, from: undefined, to: undefined }
 */
export function filterFields(fields: Fields) {
  return { status: text(fields, "status"), type: text(fields, "type"), from: text(fields, "from"), to: text(fields, "to") };
}

/**
 * A time parameter as Unix ms: ISO 8601 (a zone-less one is UTC, as the console shows times) or Unix
 * ms; absent stays undefined; anything else is `request_invalid` naming the parameter.
 *
 * @example
 * parseTime("from", "2026-11-02T13:00"); // 1793624400000
 */
export function parseTime(name: string, raw: string | undefined): number | undefined {
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
function isTrue(name: string, raw: string | undefined): boolean {
  const value = raw?.toLowerCase() ?? "";
  if (value === "true" || value === "1") return true;
  if (value === "false" || value === "0" || value === "") return false;
  throw new ApiError("request_invalid", `${name} must be true or false.`);
}

/**
 * `c.req.valid(target)` is `{ allowFinal }`, from `allow_processed` in the query or the form: whether
 * an operator confirmed replaying a processed or ignored event.
 *
 * @example
 * routes.post("/events/:id/replay", allowProcessed("query"), (c) => c.req.valid("query").allowFinal);
 */
export function allowProcessed<T extends "query" | "form">(target: T) {
  return validator(target, (fields: Fields) => ({ allowFinal: isTrue("allow_processed", text(fields, "allow_processed")) }));
}

/**
 * `c.req.valid("form")` is the form's filter fields (`filterFields`), for a console form that acts on
 * the events matching a filter.
 */
export const filterForm = validator("form", (fields: Fields) => filterFields(fields));

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
 * `c.req.valid(target)` is `{ id, account }`: the id as `stripeId` reads it, and the `account` query
 * parameter, the connected account (`acct_…`) the object belongs to, `''` (the platform's own) when
 * absent or blank. The same id in two accounts is two objects.
 *
 * @example
 * routes.get("/customers/:id", objectRef("param", ["cus_", "acct_"]), (c) => c.req.valid("param").account);
 */
export function objectRef<T extends "param" | "query">(target: T, prefixes?: readonly string[]) {
  return validator(target, (fields: Fields, c) => ({
    id: parseStripeId(text(fields, "id") ?? "", prefixes),
    account: parseAccount(c.req.query("account")),
  }));
}

/** The `account` parameter: `''` when absent or blank, else a connected account id (`acct_…`). */
function parseAccount(raw: string | undefined): string {
  const account = (raw ?? "").trim();
  if (account === "") return "";
  if (!/^acct_[A-Za-z0-9]{1,250}$/.test(account))
    throw new ApiError("request_invalid", "account must be a connected account id (acct_…), or absent for the platform's own objects.");
  return account;
}
