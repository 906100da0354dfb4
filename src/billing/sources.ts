import type Stripe from "stripe";
import type { HandlerContext, ThinEventNotification, ThinHandlerContext, TriggeringEvent } from "../handlers/registry";
import { log } from "../log";
import { isNotFound } from "../stripe/api";
import { thinCreatedSeconds } from "../stripe/event-shape";
import type { AppliedBy } from "./rows";

/**
 * Where an object given to a billing handler came from: the event that carried it (snapshot) or announced it
 * (thin), the version its row is stamped with, and whether it was just fetched from the API.
 */
export interface Origin {
  event: TriggeringEvent;
  applied: AppliedBy;
  /** True for an object fetched for a thin event: it is the latest state, so a tie needs no refetch. */
  fetched: boolean;
}

/** A billing handler written once for both formats. */
export type BillingStep<O> = (object: O, origin: Origin, ctx: HandlerContext) => unknown;

/**
 * Seconds subtracted from the consumer's clock when stamping a fetched object. Rows are ordered by
 * Stripe's clock (events' `created`); a fetched object is stamped by ours, so the stamp must never be
 * later than the moment Stripe read the object: a later stamp would make an event created after the
 * read look older, and its change would be lost. One second covers the skew between two
 * NTP-synchronised clocks; stamping a little early is harmless (an event from just before the fetch
 * may be applied over it, and every later change brings its own event).
 */
export const FETCH_CLOCK_MARGIN_SECONDS = 1;

/**
 * The version of an object fetched for a thin event: when it was fetched, by Stripe's clock at the
 * latest (see FETCH_CLOCK_MARGIN_SECONDS), and never before the notification itself. `nowMs` is the
 * consumer's clock read before the fetch. A snapshot event created before it can no longer overwrite
 * the row; one created after it still can; one in the same second is a tie, which the snapshot side
 * resolves by refetching (with a key) or by arrival order (without).
 *
 * @example
 * fetchedStamp(notification, ctx.nowMs); // e.g. 1767225599 for a fetch at 1767225600.4 s
 */
function fetchedStamp(notification: Pick<ThinEventNotification, "created">, nowMs: number): number {
  return Math.max(thinCreatedSeconds(notification.created), fetchedAt(nowMs));
}

/**
 * The version of any object read from the API when our clock said `nowMs` (read before the request):
 * that second minus FETCH_CLOCK_MARGIN_SECONDS, so never later than Stripe's read. The one stamping
 * rule for fetched objects: `fetchedStamp` (thin events) and the backfill (list pages) both use it.
 *
 * @example
 * fetchedAt(1767225600_400); // 1767225599
 */
export function fetchedAt(nowMs: number): number {
  return Math.floor(nowMs / 1000) - FETCH_CLOCK_MARGIN_SECONDS;
}

/** How an object of this attempt is stamped: by `eventId` at `eventCreated`, in the event's account. */
function appliedBy(ctx: HandlerContext, eventId: string, eventCreated: number): AppliedBy {
  return { eventId, eventCreated, nowMs: ctx.nowMs, account: ctx.account ?? "", appUserKey: ctx.config.appUserMetadataKey };
}

/**
 * A snapshot handler (`Handlers.on`) running `step` on `data.object`, stamped with the event's `created`.
 *
 * @example
 * handlers.on("customer.updated", fromSnapshot(projectCustomer));
 */
export function fromSnapshot<O>(step: BillingStep<O>) {
  return (object: O, event: Stripe.Event, ctx: HandlerContext) =>
    step(object, { event, applied: appliedBy(ctx, event.id, event.created), fetched: false }, ctx);
}

/**
 * Where an object fetched for a thin event came from: the notification, stamped as fetched now.
 *
 * @example
 * const origin = thinOrigin(notification, ctx);
 */
export function thinOrigin(notification: ThinEventNotification, ctx: ThinHandlerContext): Origin {
  return { event: notification, applied: appliedBy(ctx, notification.id, fetchedStamp(notification, ctx.nowMs)), fetched: true };
}

/**
 * A thin handler (`Handlers.onThin`) running `step` on the related object fetched from the API, stamped
 * with `fetchedStamp`. When the API answers 404 (deleted, or not visible to this key), `onMissing`
 * runs instead if given, else nothing is written; either way the event ends `processed`, because no
 * retry can bring the object back. Other API errors are thrown: a 429 defers the event, a 5xx or
 * a network error fails it and the queue retries.
 *
 * @example
 * handlers.onThin("v1.customer.updated", fromThin(projectCustomer));
 */
export function fromThin<O>(step: BillingStep<O>, onMissing?: (id: string, origin: Origin, ctx: ThinHandlerContext) => unknown) {
  return async (notification: ThinEventNotification, ctx: ThinHandlerContext) => {
    const origin = thinOrigin(notification, ctx);
    const related = (notification as Stripe.Events.UnknownEventNotification).related_object;
    let object: O | null;
    try {
      object = (await (notification as Stripe.Events.UnknownEventNotification).fetchRelatedObject()) as O | null;
    } catch (err) {
      if (!isNotFound(err)) throw err;
      log("warn", "related_object_missing", { event_id: notification.id, type: notification.type, object_id: related?.id ?? null });
      if (onMissing && related?.id) await onMissing(related.id, origin, ctx);
      return;
    }
    // A notification without a related object has nothing to project.
    if (object !== null) await step(object, origin, ctx);
  };
}
