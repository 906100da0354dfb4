import type Stripe from "stripe";
import type { Database } from "../db/client";

/** Every event type Stripe's SDK knows, e.g. `"invoice.paid"`. */
export type StripeEventType = Stripe.Event["type"];

/** The typed event for one event type, e.g. `StripeEventOf<"invoice.paid">` is `Stripe.InvoicePaidEvent`. */
export type StripeEventOf<T extends StripeEventType> = Extract<Stripe.Event, { type: T }>;

/** What a handler gets besides the event: this invocation's bindings and a D1 client. */
export interface HandlerContext {
  env: Env;
  db: Database;
}

/** Handles one event type; `object` is the event's `data.object`, typed for that type. */
export type Handler<T extends StripeEventType> = (
  object: StripeEventOf<T>["data"]["object"],
  event: StripeEventOf<T>,
  ctx: HandlerContext,
) => unknown;

/**
 * The event handlers, keyed by event type. Handlers run in the queue consumer, where slow work is
 * fine; a handler that throws fails the event, which the queue retries with backoff and finally
 * dead-letters. A handler may run more than once for one event (retries, re-drives), so it must be
 * idempotent.
 *
 * @example
 * const handlers = new Handlers().on("invoice.paid", async (invoice, event, { db }) => {
 *   console.log(invoice.id, invoice.amount_paid);
 * });
 */
export class Handlers {
  readonly #byType = new Map<string, Handler<StripeEventType>[]>();

  /** Adds a handler for `type`; several handlers for one type run in the order added. */
  on<T extends StripeEventType>(type: T, handler: Handler<T>): this {
    const list = this.#byType.get(type) ?? [];
    list.push(handler as unknown as Handler<StripeEventType>);
    this.#byType.set(type, list);
    return this;
  }

  /** The handlers for an event type, empty when none is registered. */
  for(type: string): readonly Handler<StripeEventType>[] {
    return this.#byType.get(type) ?? [];
  }

  /** The event types that have at least one handler. */
  types(): string[] {
    return [...this.#byType.keys()];
  }
}
