import type Stripe from "stripe";

type ThinEventNotification = Stripe.V2.Core.EventNotification;

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
