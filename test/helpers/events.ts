import baseEvent from "../fixtures/stripe-objects/event.json";
import checkoutSession from "../fixtures/stripe-objects/checkout.session.json";
import customer from "../fixtures/stripe-objects/customer.json";
import invoice from "../fixtures/stripe-objects/invoice.json";

export const OBJECTS = { "checkout.session": checkoutSession, customer, invoice } as const;

/** A fresh event id, so tests sharing a file's storage never collide. */
export function newEventId(): string {
  return `evt_test_${crypto.randomUUID().replaceAll("-", "")}`;
}

/**
 * A Stripe event shaped like the OpenAPI fixture (stripe-objects/event.json) carrying a copy of a
 * fixture object, with a unique id and `created` of now unless overridden.
 */
export function buildEvent(type: string, object: object, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ...structuredClone(baseEvent),
    id: newEventId(),
    type,
    created: Math.floor(Date.now() / 1000),
    api_version: "2026-10-28.endive",
    data: { object: structuredClone(object) },
    ...overrides,
  };
}
