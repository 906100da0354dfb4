import { env } from "cloudflare:workers";
import { billingHandlers } from "../../src/billing/handlers";
import type { Handlers } from "../../src/handlers/registry";
import charge from "../fixtures/stripe-objects/charge.json";
import checkoutSession from "../fixtures/stripe-objects/checkout.session.json";
import customer from "../fixtures/stripe-objects/customer.json";
import invoice from "../fixtures/stripe-objects/invoice.json";
import paymentIntent from "../fixtures/stripe-objects/payment_intent.json";
import subscription from "../fixtures/stripe-objects/subscription.json";
import { buildEvent, type TestEvent, uid } from "./events";
import { seedEvent } from "./ledger";
import { runBatch } from "./worker";

const FIXTURES = { charge, checkoutSession, customer, invoice, paymentIntent, subscription };

/** A copy of a Stripe fixture object with the fields a test sets. */
export function stripeObject<K extends keyof typeof FIXTURES>(
  kind: K,
  fields: Record<string, unknown> = {},
): (typeof FIXTURES)[K] & Record<string, unknown> {
  return { ...structuredClone(FIXTURES[kind]), ...fields };
}

/** A completed one-time Checkout Session of 9.00 USD, paid through `paymentIntent`, for `customer`. */
export function paidCheckoutSession(customer: string, paymentIntent: string) {
  return stripeObject("checkoutSession", {
    id: uid("cs_test"),
    customer,
    mode: "payment",
    status: "complete",
    payment_status: "paid",
    payment_intent: paymentIntent,
    amount_total: 900,
    currency: "usd",
  });
}

/** An event of `type` carrying `object`, created at `created` (Unix seconds). */
export function eventAt(type: string, object: object, created: number): TestEvent {
  return buildEvent(type, object, { created });
}

/**
 * Records events in the ledger and runs them through the queue consumer one at a time, in the order
 * given (the order Stripe delivered them in), with the built-in billing handlers unless others are given,
 * and the consumer's clock (`now`, what fetched thin objects are stamped with) when given. Thin
 * notifications (`object: "v2.core.event"`) are recorded as thin events.
 * Returns the ids of messages the consumer retried.
 */
export async function processEvents(
  events: readonly (Record<string, unknown> & { id: string })[],
  handlers: Handlers = billingHandlers(),
  testEnv: Env = env,
  now?: () => number,
): Promise<string[]> {
  const retried: string[] = [];
  for (const event of events) {
    await seedEvent(event);
    const outcome = await runBatch([event.id], { handlers, env: testEnv, ...(now ? { now } : {}) });
    retried.push(...outcome.retried.map((r) => r.id));
  }
  return retried;
}

/** A billing table row by id, without the columns that record when and by which event it was written. */
export async function billingRow(table: string, id: string): Promise<Record<string, unknown> | null> {
  const row = await env.DB.prepare(`SELECT * FROM ${table} WHERE id = ?`).bind(id).first<Record<string, unknown>>();
  if (!row) return null;
  const { updated_at: _u, last_event_id: _e, ...rest } = row;
  return rest;
}
