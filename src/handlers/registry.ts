import type { BatchItem } from "drizzle-orm/batch";
import type Stripe from "stripe";
import type { Config } from "../config";
import type { Database } from "../db/client";
import type { FulfilmentKind, FulfilmentObjects, LifecycleChange, LifecycleKind } from "./hooks";

/** Every event type Stripe's SDK knows, e.g. `"invoice.paid"`. */
export type StripeEventType = Stripe.Event["type"];

/** The typed event for one event type, e.g. `StripeEventOf<"invoice.paid">` is `Stripe.InvoicePaidEvent`. */
export type StripeEventOf<T extends StripeEventType> = Extract<Stripe.Event, { type: T }>;

/** A thin event notification as the SDK types it (`Stripe.V2.Core.EventNotification`): 326 types, v1 and v2. */
export type ThinEventNotification = Stripe.V2.Core.EventNotification;

/** Every thin event type Stripe's SDK knows, e.g. `"v1.customer.subscription.updated"`, `"v2.core.account.created"`. */
export type ThinEventType = ThinEventNotification["type"];

/**
 * The typed notification for one thin type: `ThinEventOf<"v1.invoice.paid">` has
 * `fetchRelatedObject(): Promise<Stripe.Invoice>` and `fetchEvent()`.
 */
export type ThinEventOf<T extends ThinEventType> = Extract<ThinEventNotification, { type: T }>;

/** The event that triggered a handler or hook: a snapshot event (`object: "event"`) or a thin notification (`object: "v2.core.event"`). */
export type TriggeringEvent = Stripe.Event | ThinEventNotification;

/** What a handler gets besides the event. */
export interface HandlerContext {
  env: Env;
  /** The invocation's configuration, as plain values (src/config/). */
  config: Config;
  db: Database;
  /** A Stripe API client when STRIPE_SECRET_KEY is set, else null. */
  stripe: Stripe | null;
  /** The consumer's clock, Unix ms. */
  nowMs: number;
  /**
   * The connected account the event belongs to (`event.account`, or a thin event's context, e.g.
   * `acct_…` or `acct_…/acct_…`); null for the platform's own events.
   */
  account: string | null;
  /**
   * Runs the once-only hooks registered for `kind` (`Handlers.fulfil`) on `object`: at most once per
   * object and kind, whatever events, replays or retries reach it, in either delivery format (the
   * key is the object's id, never the event). `event` is the one that triggered it. Resolves true
   * when this call ran them; with no hook registered it writes nothing and resolves false.
   *
   * @example
   * if (session.payment_status === "paid") await ctx.fulfil("checkout_session.paid", session, event);
   */
  fulfil<K extends FulfilmentKind>(
    kind: K,
    object: FulfilmentObjects[K] & { id?: string | null },
    event: TriggeringEvent,
  ): Promise<boolean>;
  /**
   * Queues a D1 write to commit in the same transaction as the event's outcome: the event is marked
   * processed together with it, or neither happens and the event is retried. Prefer it to awaiting
   * a write on `db` for anything that projects the event into your tables.
   *
   * @example
   * ctx.write(ctx.db.insert(orders).values(row).onConflictDoNothing());
   */
  write(query: BatchItem<"sqlite">): void;
  /**
   * Queues the conditional insert of a lifecycle event (src/billing/lifecycle.ts builds them): it
   * commits with the event's outcome, inserts only when the transition happens, and an inserted one is
   * sent to the queue right after the commit. For the built-in billing handlers.
   */
  emit(insert: BatchItem<"sqlite">): void;
  /** Whether a lifecycle hook of `kind` is registered: the built-in billing records its transitions only then. */
  wants(kind: LifecycleKind): boolean;
}

/** A named lifecycle hook (see src/handlers/hooks.ts): `ctx.write` commits with the transition's done mark. */
export type LifecycleHook = (change: LifecycleChange, ctx: HandlerContext) => unknown;

/** Handles one event type; `object` is the event's `data.object`, typed for that type. */
export type Handler<T extends StripeEventType> = (
  object: StripeEventOf<T>["data"]["object"],
  event: StripeEventOf<T>,
  ctx: HandlerContext,
) => unknown;

/**
 * A once-only effect: runs at most once per object, whatever events, replays or retries occur, and
 * whichever format delivered them. `event` is the one that triggered it: narrow on
 * `event.object === "event"` (snapshot) or `"v2.core.event"` (thin) before reading format-specific fields.
 */
export type FulfilmentHook<K extends FulfilmentKind> = (
  object: FulfilmentObjects[K],
  event: TriggeringEvent,
  ctx: HandlerContext,
) => unknown;

/** What a thin handler gets besides the notification: the same as a snapshot handler, with an API client always present. */
export type ThinHandlerContext = HandlerContext & {
  /**
   * The API client for this event: STRIPE_SECRET_KEY's, with the notification's Stripe-Context (the
   * connected account) when it has one. A thin event without a key never reaches a handler.
   */
  stripe: Stripe;
};

/**
 * Handles one thin event type. `notification.fetchRelatedObject()` and `notification.fetchEvent()`
 * call the Stripe API once per attempt, however many handlers ask; a 429 (or the API budget running out)
 * defers the event, and what else they throw (5xx, network)
 * fails the event, which the queue retries with backoff.
 */
export type ThinHandler<T extends ThinEventType> = (notification: ThinEventOf<T>, ctx: ThinHandlerContext) => unknown;

/**
 * The event handlers, keyed by event type, and the fulfilment hooks, keyed by kind. Handlers run in
 * the queue consumer, where slow work is fine; a handler that throws fails the event, which the
 * queue retries with backoff and finally dead-letters. A handler may run more than once for one
 * event (retries, re-drives, replays), so it must be idempotent; hooks registered with `fulfil`
 * are made once-only for you.
 *
 * Snapshot events (`on`) and thin events (`onThin`) have separate handler lists keyed by their own
 * type names (`invoice.paid` / `v1.invoice.paid`); the built-in billing handlers register both, and
 * `fulfil` hooks run once per object whichever format delivered the payment.
 *
 * @example
 * const handlers = billingHandlers()
 *   .on("invoice.paid", async (invoice, event, { db }) => { … })
 *   .onThin("v2.core.account.updated", async (notification, { stripe }) => {
 *     const account = await notification.fetchRelatedObject();
 *     …
 *   })
 *   .fulfil("checkout_session.paid", async (session) => { await sendReceipt(session); });
 */
export class Handlers {
  readonly #byType = new Map<string, Scoped<Handler<StripeEventType>>[]>();
  readonly #byThinType = new Map<string, Scoped<ThinHandler<ThinEventType>>[]>();
  readonly #hooks = new Map<FulfilmentKind, FulfilmentHook<FulfilmentKind>[]>();
  readonly #lifecycle = new Map<LifecycleKind, LifecycleHook[]>();

  /**
   * Adds a handler for `type`; several handlers for one type run in the order added. `scope` says
   * whether it also gets connected accounts' events (`all`, the default) or only the platform's own
   * (`platform`, the built-in billing handlers, unless STRIPE_CONNECT_BILLING=true).
   */
  on<T extends StripeEventType>(type: T, handler: Handler<T>, scope: HandlerScope = "all"): this {
    add(this.#byType, type, { handler: handler as unknown as Handler<StripeEventType>, scope });
    return this;
  }

  /** Adds a handler for a thin event type; several handlers for one type run in the order added. `scope` as for `on`. */
  onThin<T extends ThinEventType>(type: T, handler: ThinHandler<T>, scope: HandlerScope = "all"): this {
    add(this.#byThinType, type, { handler: handler as unknown as ThinHandler<ThinEventType>, scope });
    return this;
  }

  /** Adds a once-only hook for a fulfilment kind; hooks of one kind run in the order added. */
  fulfil<K extends FulfilmentKind>(kind: K, hook: FulfilmentHook<K>): this {
    const list = this.#hooks.get(kind) ?? [];
    list.push(hook as unknown as FulfilmentHook<FulfilmentKind>);
    this.#hooks.set(kind, list);
    return this;
  }

  /**
   * Adds a hook for a lifecycle transition (`access.granted`, `access.revoked`, `subscription.past_due`,
   * `subscription.trial_ending`, `invoice.payment_failed`), run once per transition; hooks of one kind
   * run in the order added. Transitions of a kind are only recorded while a hook for it is registered.
   */
  lifecycle(kind: LifecycleKind, hook: LifecycleHook): this {
    this.#lifecycle.set(kind, [...(this.#lifecycle.get(kind) ?? []), hook]);
    return this;
  }

  /** The hooks for a lifecycle kind, empty when none is registered. */
  lifecycleHooksFor(kind: string): readonly LifecycleHook[] {
    return this.#lifecycle.get(kind as LifecycleKind) ?? [];
  }

  /**
   * The handlers for an event type, empty when none is registered; without those scoped to the
   * `platform` when `withPlatformScoped` is false (a connected account's event, connected billing off).
   */
  for(type: string, withPlatformScoped = true): readonly Handler<StripeEventType>[] {
    return select(this.#byType.get(type), withPlatformScoped);
  }

  /** The handlers for a thin event type, as `for` does. */
  forThin(type: string, withPlatformScoped = true): readonly ThinHandler<ThinEventType>[] {
    return select(this.#byThinType.get(type), withPlatformScoped);
  }

  /** The hooks for a fulfilment kind, empty when none is registered. */
  hooksFor<K extends FulfilmentKind>(kind: K): readonly FulfilmentHook<K>[] {
    return (this.#hooks.get(kind) ?? []) as unknown as FulfilmentHook<K>[];
  }

  /** The snapshot event types that have at least one handler. */
  types(): string[] {
    return [...this.#byType.keys()];
  }

  /** The thin event types that have at least one handler. */
  thinTypes(): string[] {
    return [...this.#byThinType.keys()];
  }
}

/**
 * Which events a handler gets: `all` of them, or the `platform`'s own only (a connected account's
 * events reach it only with STRIPE_CONNECT_BILLING=true).
 */
export type HandlerScope = "all" | "platform";

interface Scoped<H> {
  handler: H;
  scope: HandlerScope;
}

function add<H>(map: Map<string, Scoped<H>[]>, type: string, entry: Scoped<H>): void {
  const list = map.get(type) ?? [];
  list.push(entry);
  map.set(type, list);
}

/** The handlers of a list; `withPlatformScoped` false leaves out those scoped to the platform's own events. */
function select<H>(list: readonly Scoped<H>[] | undefined, withPlatformScoped: boolean): H[] {
  return (list ?? []).filter((e) => withPlatformScoped || e.scope === "all").map((e) => e.handler);
}
