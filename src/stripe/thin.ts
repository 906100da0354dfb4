import type Stripe from "stripe";
import type { StripeApiConfig } from "../config";
import { ApiError } from "../errors";
import type { ThinEventNotification } from "../handlers/registry";
import { stripeStatus } from "./api";

/**
 * Turns a thin notification stored in the ledger (the verified body as received) back into the SDK's
 * notification, whose `fetchRelatedObject()` and `fetchEvent()` call the API with `stripe`'s key and
 * the notification's Stripe-Context. Each of the two fetches runs at most once per call of this
 * function, however many handlers ask for it, so one attempt costs one API request per object.
 * Parses the stored body, never `JSON.stringify` of a notification: the SDK's parsed `context`
 * would be written as `{"_segments":[…]}`, which it cannot read back.
 *
 * @example
 * const notification = rehydrateThin(stripe, row.payload);
 * const subscription = await notification.fetchRelatedObject();
 */
export function rehydrateThin(stripe: Stripe, payload: string): ThinEventNotification {
  const notification = stripe.parseEventNotificationWithoutVerification(payload);
  // Every notification has both methods at runtime (the SDK adds them); only the types vary by event type.
  const methods = notification as unknown as Stripe.Events.UnknownEventNotification;
  const fetchRelated = methods.fetchRelatedObject;
  const fetchEvent = methods.fetchEvent;
  let related: Promise<unknown> | undefined;
  let event: Promise<Stripe.V2.Core.EventBase> | undefined;
  methods.fetchRelatedObject = () => (related ??= fetchRelated());
  methods.fetchEvent = () => (event ??= fetchEvent());
  return notification;
}

/** The API client for one thin event: `stripe` itself, or a copy carrying the event's Stripe-Context (a connected account). */
export function clientForThin(stripe: Stripe, notification: ThinEventNotification): Stripe {
  return notification.context ? stripe.withStripeContext(notification.context) : stripe;
}

/** Whether an API call failed because the object does not exist (deleted, or not visible to this key). */
export function isNotFound(err: unknown): boolean {
  return stripeStatus(err) === 404;
}

/**
 * Why there is no Stripe API client for thin events, for `last_error` and `/health`: the variable to
 * fix and what to do next. Never repeats a value.
 */
export function noApiClientReason(api: StripeApiConfig): string {
  if (api.key !== null && api.base instanceof ApiError) {
    return (
      `A thin event's data must be fetched from the Stripe API, but ${api.base.message} ` +
      "Fix it, then replay this event (it was parked, not retried)."
    );
  }
  return (
    "STRIPE_SECRET_KEY is not set: a thin event carries no data, which must be fetched from the Stripe API with a key. " +
    "Set it (wrangler secret put STRIPE_SECRET_KEY; " +
    "a restricted key with read access to Events and the objects your handlers fetch), " +
    "then replay this event (it was parked, not retried)."
  );
}
