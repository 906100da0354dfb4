/**
 * How an event reached the ledger: `snapshot` (a webhook endpoint's `object: "event"`, the object in
 * `data.object`), `thin` (an event destination's `object: "v2.core.event"` notification, whose data
 * the consumer fetches from the API), or `lifecycle` (a transition this Worker derived from the
 * billing state, `lifecycle.<kind>`, recorded in the same transaction as the event that caused it).
 */
export const EVENT_FORMATS = ["snapshot", "thin", "lifecycle"] as const;
export type EventFormat = (typeof EVENT_FORMATS)[number];

/** The formats Stripe delivers, each to its own path: a lifecycle event is never delivered. */
export type DeliveryFormat = Exclude<EventFormat, "lifecycle">;

/**
 * What the ledger records about an event, whichever format delivered it (src/stripe/event-shape.ts
 * turns a verified snapshot event or thin notification into one).
 */
export interface LedgerEvent {
  id: string;
  type: string;
  format: EventFormat;
  /** Unix seconds (a thin event's ISO 8601 `created`, converted). */
  created: number;
  livemode: boolean;
  /** A snapshot event's `api_version`; null for thin events, which have none. */
  apiVersion: string | null;
  /** The connected account (`acct_…`) the event belongs to, null for the platform's own. */
  account: string | null;
  /** A thin event's `context`, as sent. */
  context: string | null;
  /** `data.object.id` (snapshot) or `related_object.id` (thin), when there is one. */
  objectId: string | null;
  /** A thin event's `snapshot_event`: the id of the snapshot event reporting the same change. */
  twinOf: string | null;
}

/** How an event reached the ledger, besides the event itself. */
export interface Arrival {
  receivedAt: number;
  /** The body as stored: the verified bytes of a delivery, or the Events API's JSON. */
  payload: string;
  source: "webhook" | "recovery" | "lifecycle";
  /** Which configured webhook secret verified a delivery. */
  secretIndex?: number;
}

/**
 * The arrival position (`seq`) of an arrival time: every row received at or after `ms` has a `seq` at
 * least this (a row's `seq` is its arrival in microseconds, raised to stay unique and increasing).
 *
 * @example
 * gte(stripeEvents.seq, seqAt(Date.now() - 24 * 3_600_000)); // a day of arrivals
 */
export function seqAt(ms: number): number {
  return ms * 1000;
}

/**
 * What goes on the events queue: the event id only. The event itself is read from the ledger, so a
 * message never nears the 128 KB queue limit and a replay needs nothing but the id.
 */
export interface EventMessage {
  id: string;
}
