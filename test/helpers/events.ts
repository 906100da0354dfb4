import checkoutSession from "../fixtures/stripe-objects/checkout.session.json";
import customer from "../fixtures/stripe-objects/customer.json";
import baseEvent from "../fixtures/stripe-objects/event.json";
import invoice from "../fixtures/stripe-objects/invoice.json";

export const OBJECTS = { "checkout.session": checkoutSession, customer, invoice } as const;

/**
 * A fresh id with Stripe's shape (`sub_…`, `cus_…`), so tests sharing a file's storage never collide.
 *
 * @example
 * uid("sub"); // "sub_4f1c…" (32 hex digits)
 */
export function uid(prefix: string): string {
  return `${prefix}_${crypto.randomUUID().replaceAll("-", "")}`;
}

/** A fresh event id. */
export function newEventId(): string {
  return uid("evt_test");
}

/** A Stripe event as the tests build it: the fields they read are typed, the rest is the fixture's. */
export type TestEvent = Record<string, unknown> & { id: string; type: string; created: number; data: { object: Record<string, unknown> } };

/**
 * A Stripe event shaped like the OpenAPI fixture (stripe-objects/event.json) carrying a copy of a
 * fixture object, with a unique id and `created` of now unless overridden.
 */
export function buildEvent(type: string, object: object, overrides: Record<string, unknown> = {}): TestEvent {
  return {
    ...structuredClone(baseEvent),
    id: newEventId(),
    type,
    created: Math.floor(Date.now() / 1000),
    api_version: "2026-10-28.endive",
    data: { object: structuredClone(object) as Record<string, unknown> },
    ...overrides,
  } as TestEvent;
}
