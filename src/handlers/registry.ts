import type { BatchItem } from "drizzle-orm/batch";
import type Stripe from "stripe";
import type { Database } from "../db/client";

/** Every event type Stripe's SDK knows, e.g. `"invoice.paid"`. */
export type StripeEventType = Stripe.Event["type"];

/** The typed event for one event type, e.g. `StripeEventOf<"invoice.paid">` is `Stripe.InvoicePaidEvent`. */
export type StripeEventOf<T extends StripeEventType> = Extract<Stripe.Event, { type: T }>;

/** What a handler gets besides the event. */
export interface HandlerContext {
  env: Env;
  db: Database;
  /** A Stripe API client when STRIPE_SECRET_KEY is set, else null. */
  stripe: Stripe | null;
  /** The consumer's clock, Unix ms. */
  nowMs: number;
  /** This registry, so built-in handlers can run the fulfilment hooks registered on it. */
  handlers: Handlers;
  /**
   * Queues a D1 write to commit in the same transaction as the event's outcome: the event is marked
   * processed together with it, or neither happens and the event is retried. Prefer it to awaiting
   * a write on `db` for anything that projects the event into your tables.
   *
   * @example
   * ctx.write(ctx.db.insert(orders).values(row).onConflictDoNothing());
   */
  write(query: BatchItem<"sqlite">): void;
}

/** Handles one event type; `object` is the event's `data.object`, typed for that type. */
export type Handler<T extends StripeEventType> = (
  object: StripeEventOf<T>["data"]["object"],
  event: StripeEventOf<T>,
  ctx: HandlerContext,
) => unknown;

/**
 * The once-only effects the built-in billing handlers trigger, and the object each receives:
 * `checkout_session.paid` when a Checkout Session is paid (on completion, or when its delayed
 * payment succeeds), `invoice.paid` when an invoice is paid (Stripe sends both `invoice.paid` and
 * `invoice.payment_succeeded` for one payment; the hook still runs once).
 */
export interface FulfilmentObjects {
  "checkout_session.paid": Stripe.Checkout.Session;
  "invoice.paid": Stripe.Invoice;
}
export type FulfilmentKind = keyof FulfilmentObjects;

/** A once-only effect: runs at most once per object, whatever events, replays or retries occur. */
export type FulfilmentHook<K extends FulfilmentKind> = (object: FulfilmentObjects[K], event: Stripe.Event, ctx: HandlerContext) => unknown;

/**
 * The event handlers, keyed by event type, and the fulfilment hooks, keyed by kind. Handlers run in
 * the queue consumer, where slow work is fine; a handler that throws fails the event, which the
 * queue retries with backoff and finally dead-letters. A handler may run more than once for one
 * event (retries, re-drives, replays), so it must be idempotent; hooks registered with `fulfil`
 * are made once-only for you.
 *
 * @example
 * const handlers = billingHandlers()
 *   .on("invoice.paid", async (invoice, event, { db }) => { … })
 *   .fulfil("checkout_session.paid", async (session) => { await sendReceipt(session); });
 */
export class Handlers {
  readonly #byType = new Map<string, Handler<StripeEventType>[]>();
  readonly #hooks = new Map<FulfilmentKind, FulfilmentHook<FulfilmentKind>[]>();

  /** Adds a handler for `type`; several handlers for one type run in the order added. */
  on<T extends StripeEventType>(type: T, handler: Handler<T>): this {
    const list = this.#byType.get(type) ?? [];
    list.push(handler as unknown as Handler<StripeEventType>);
    this.#byType.set(type, list);
    return this;
  }

  /** Adds a once-only hook for a fulfilment kind; hooks of one kind run in the order added. */
  fulfil<K extends FulfilmentKind>(kind: K, hook: FulfilmentHook<K>): this {
    const list = this.#hooks.get(kind) ?? [];
    list.push(hook as unknown as FulfilmentHook<FulfilmentKind>);
    this.#hooks.set(kind, list);
    return this;
  }

  /** The handlers for an event type, empty when none is registered. */
  for(type: string): readonly Handler<StripeEventType>[] {
    return this.#byType.get(type) ?? [];
  }

  /** The hooks for a fulfilment kind, empty when none is registered. */
  hooksFor<K extends FulfilmentKind>(kind: K): readonly FulfilmentHook<K>[] {
    return (this.#hooks.get(kind) ?? []) as unknown as FulfilmentHook<K>[];
  }

  /** The event types that have at least one handler. */
  types(): string[] {
    return [...this.#byType.keys()];
  }
}
