import { HttpResponse, http } from "msw";
import notifications from "../fixtures/thin-events/notifications.json";
import { newEventId } from "./events";

/** The three notifications of the stripe SDK's own tests, as they are (test/fixtures/README.md). */
export const SDK_NOTIFICATIONS = notifications;

/** A v1 resource's API path, which a thin event's `related_object.url` carries. */
const PATHS: Record<string, string> = {
  subscription: "/v1/subscriptions/",
  customer: "/v1/customers/",
  invoice: "/v1/invoices/",
  "checkout.session": "/v1/checkout/sessions/",
  payment_intent: "/v1/payment_intents/",
  charge: "/v1/charges/",
};

/**
 * `related_object` for a v1 object, e.g. `relatedTo(subscription)` →
 * `{ id, type: "subscription", url: "/v1/subscriptions/sub_…" }`.
 */
export function relatedTo(object: { id?: unknown; object?: unknown }): { id: string; type: string; url: string } {
  const type = String(object.object);
  const id = String(object.id);
  const path = PATHS[type];
  if (!path) throw new Error(`No API path known for ${type}`);
  return { id, type, url: `${path}${id}` };
}

export type ThinBody = Record<string, unknown> & { id: string; type: string; created: string };

/**
 * A thin notification on the envelope of the SDK's fixture (`evt_123`): a new id, the given type,
 * `created` now (or the Unix seconds given), no context unless given, and the related object given
 * (or none).
 */
export function thinEvent(
  type: string,
  related: { id?: string; type: string; url: string } | null,
  fields: { created?: number; context?: string | null; livemode?: boolean } = {},
): ThinBody {
  const { related_object: _sample, ...envelope } = structuredClone(notifications[0]!);
  const created = new Date((fields.created ?? Math.floor(Date.now() / 1000)) * 1000).toISOString();
  return {
    ...envelope,
    id: newEventId(),
    type,
    created,
    context: fields.context ?? null,
    livemode: fields.livemode ?? false,
    ...(related ? { related_object: related } : {}),
  };
}

/** An msw handler answering GET on Stripe's API for one object, as Stripe's API would (JSON, 200). */
export function apiObject(object: { id?: unknown; object?: unknown }, base = "https://api.stripe.com") {
  return http.get(`${base}${relatedTo(object).url}`, () => HttpResponse.json(object));
}

/** An msw handler answering GET for one object with a Stripe API error. */
export function apiError(
  url: string,
  status: number,
  type = status === 429 ? "rate_limit_error" : status >= 500 ? "api_error" : "invalid_request_error",
  code?: string,
) {
  return http.get(`https://api.stripe.com${url}`, () =>
    HttpResponse.json({ error: { type, message: `stubbed ${status}`, ...(code ? { code } : {}) } }, { status }),
  );
}
