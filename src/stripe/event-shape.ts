import type Stripe from "stripe";
import type { DeliveryFormat, LedgerEvent } from "../ledger/event";

/**
 * A thin event notification's JSON as Stripe sends it (`object: "v2.core.event"`), before the SDK
 * adds its `fetchEvent`/`fetchRelatedObject` methods. Only the fields the ledger reads are listed.
 */
export interface ThinPayload {
  id: string;
  object: "v2.core.event";
  type: string;
  /** ISO 8601, e.g. `2022-02-15T00:27:45.330Z` (a snapshot event's is Unix seconds). */
  created: string;
  livemode?: boolean;
  context?: string | null;
  related_object?: { id?: string; type: string; url: string } | null;
  /** The snapshot event reporting the same change (a thin `v1.*` event's twin), when Stripe gives it. */
  snapshot_event?: string | null;
}

// Stripe writes `created` as ISO 8601 in UTC; Date.parse alone would also take "2022" or "Feb 15".
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

const optionalString = (v: unknown) => v === undefined || v === null || typeof v === "string";
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Whether a verified snapshot body has the fields the ledger stores with Stripe's types (a row that
 * cannot be inserted would be answered 500, and Stripe would retry it for days).
 *
 * @example
 * if (!isSnapshotEvent(event)) throw notAnEvent("snapshot");
 */
export function isSnapshotEvent(value: unknown): value is Stripe.Event {
  return (
    isObject(value) &&
    typeof value.id === "string" &&
    value.id.startsWith("evt_") &&
    typeof value.type === "string" &&
    value.type !== "" &&
    Number.isSafeInteger(value.created) &&
    (value.livemode === undefined || typeof value.livemode === "boolean") &&
    optionalString(value.api_version) &&
    optionalString(value.account)
  );
}

/**
 * Whether a verified thin body is a notification the ledger can store and the consumer can act on:
 * `object: "v2.core.event"`, an `evt_` id, a type, an ISO 8601 `created`, and a `related_object`
 * that, when present, has a path to fetch (the SDK's own parser checks none of these).
 *
 * @example
 * isThinPayload(JSON.parse(body)); // false for {} and for a snapshot event
 */
export function isThinPayload(value: unknown): value is ThinPayload {
  if (!isObject(value)) return false;
  const related = value.related_object;
  return (
    value.object === "v2.core.event" &&
    typeof value.id === "string" &&
    value.id.startsWith("evt_") &&
    typeof value.type === "string" &&
    value.type !== "" &&
    typeof value.created === "string" &&
    ISO_TIME.test(value.created) &&
    !Number.isNaN(Date.parse(value.created)) &&
    (value.livemode === undefined || typeof value.livemode === "boolean") &&
    optionalString(value.context) &&
    (value.snapshot_event === undefined ||
      value.snapshot_event === null ||
      (typeof value.snapshot_event === "string" && value.snapshot_event.startsWith("evt_"))) &&
    (related === undefined ||
      related === null ||
      (isObject(related) && typeof related.url === "string" && related.url.startsWith("/") && optionalString(related.id)))
  );
}

/** Which format a verified body claims to be, from its `object` field; null when it is neither. */
export function claimedFormat(payload: string): DeliveryFormat | null {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return null;
  }
  if (!isObject(value)) return null;
  return value.object === "event" ? "snapshot" : value.object === "v2.core.event" ? "thin" : null;
}

/** A thin event's `created` in Unix seconds, the unit of the ledger and of snapshot events. */
export function thinCreatedSeconds(created: string): number {
  return Math.floor(Date.parse(created) / 1000);
}

/**
 * The ledger's record of a snapshot event.
 *
 * @example
 * await recordEvent(db, snapshotEntry(event), arrival);
 */
export function snapshotEntry(event: Stripe.Event): LedgerEvent {
  const object = (event as { data?: { object?: { id?: unknown } } }).data?.object;
  return {
    id: event.id,
    type: event.type,
    format: "snapshot",
    created: event.created,
    livemode: event.livemode === true,
    apiVersion: event.api_version ?? null,
    account: event.account ?? null,
    context: null,
    objectId: typeof object?.id === "string" ? object.id : null,
    twinOf: null,
  };
}

/**
 * The ledger's record of a thin notification. `account` is filled when the context is one connected
 * account (`acct_…`), so the console shows Connect events of both formats alike; a nested context
 * (`acct_…/acct_…`) is kept whole in `context` only.
 *
 * @example
 * await recordEvent(db, thinEntry(notification), arrival);
 */
export function thinEntry(n: ThinPayload): LedgerEvent {
  const context = n.context ?? null;
  return {
    id: n.id,
    type: n.type,
    format: "thin",
    created: thinCreatedSeconds(n.created),
    livemode: n.livemode === true,
    apiVersion: null,
    account: context !== null && /^acct_[^/]+$/.test(context) ? context : null,
    context,
    objectId: n.related_object?.id ?? null,
    twinOf: n.snapshot_event ?? null,
  };
}
