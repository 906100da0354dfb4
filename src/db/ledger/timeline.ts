import { and, desc, eq, isNull } from "drizzle-orm";
import type { Database } from "../client";
import { stripeEvents } from "../schema";
import { type EventSummary, getEventSummary, summaryColumns } from "./reads";

/** An object's timeline holds at most this many events: its newest arrivals. */
export const TIMELINE_LIMIT = 200;

/** A ledger event in an object's timeline. */
export interface TimelineEvent extends EventSummary {
  /** Position in arrival order among the timeline's events, from 1. */
  arrival: number;
  /** True when an event created later at Stripe arrived before this one: Stripe delivered out of order. */
  late: boolean;
}

export interface Timeline {
  /** The object the events are about (for an `evt_` id: its event's object; null when it has none). */
  objectId: string | null;
  /** The account the object belongs to: `''` for the platform's own, else the connected account's `acct_…`. */
  account: string;
  /** The event searched for, when the id was an `evt_` id. */
  event: EventSummary | null;
  /** In Stripe's `created` order, same-second events in arrival order. */
  events: TimelineEvent[];
  /** True when older arrivals beyond TIMELINE_LIMIT were left out. */
  more: boolean;
}

/**
 * Every ledger event that touched an object (`cus_…`, `sub_…`, `in_…`, …) in one account (`''` for the
 * platform's own, `acct_…` for a connected account's: the same id in two accounts is two objects),
 * read through the partial index on `object_id`; for an `evt_` id, that event and the events of its
 * object in the event's account. Null when an `evt_` id is not in the ledger. An object with no events
 * has an empty timeline (retention deletes final events; the billing row outlives them).
 *
 * @example
 * const timeline = await objectTimeline(db, "sub_123", "");
 * timeline.events.filter((e) => e.late); // delivered after a newer event
 */
export async function objectTimeline(db: Database, id: string, account: string): Promise<Timeline | null> {
  let event: EventSummary | null = null;
  let objectId: string | null = id;
  let scope = account;
  if (id.startsWith("evt_")) {
    event = await getEventSummary(db, id);
    if (event === null) return null;
    objectId = event.objectId;
    scope = event.account ?? "";
  }
  if (objectId === null) return { objectId, account: scope, event, events: order(event ? [event] : []), more: false };
  const rows = await db
    .select(summaryColumns)
    .from(stripeEvents)
    .where(and(eq(stripeEvents.objectId, objectId), scope === "" ? isNull(stripeEvents.account) : eq(stripeEvents.account, scope)))
    .orderBy(desc(stripeEvents.seq))
    .limit(TIMELINE_LIMIT + 1);
  return { objectId, account: scope, event, events: order(rows.slice(0, TIMELINE_LIMIT)), more: rows.length > TIMELINE_LIMIT };
}

/**
 * Puts events in `created` order and marks each with its arrival position and whether it arrived
 * late, i.e. after an event that Stripe created later (which is what an out-of-order delivery is).
 */
function order(events: readonly EventSummary[]): TimelineEvent[] {
  const byArrival = [...events].sort((a, b) => a.seq - b.seq);
  let newestCreated = Number.NEGATIVE_INFINITY;
  const marked = byArrival.map((e, i) => {
    const late = e.created < newestCreated;
    newestCreated = Math.max(newestCreated, e.created);
    return { ...e, arrival: i + 1, late };
  });
  return marked.sort((a, b) => a.created - b.created || a.seq - b.seq);
}
