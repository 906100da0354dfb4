import type Stripe from "stripe";

/**
 * The once-only effects the built-in billing handlers trigger, and the object each receives:
 * `checkout_session.paid` when a Checkout Session is paid (on completion, or when its delayed
 * payment succeeds), `invoice.paid` when an invoice is paid (Stripe sends both `invoice.paid` and
 * `invoice.payment_succeeded` for one payment; the hook still runs once). Only Stripe's types are
 * imported here, so the handler registry can name the kinds without importing the billing code.
 * Hooks are registered with `Handlers.fulfil` and run by `ctx.fulfil` (src/handlers/run.ts).
 *
 * @example
 * const hook = (session: FulfilmentObjects["checkout_session.paid"]) => grantAccess(session.client_reference_id);
 */
export interface FulfilmentObjects {
  "checkout_session.paid": Stripe.Checkout.Session;
  "invoice.paid": Stripe.Invoice;
}

/** A once-only effect's name: `"checkout_session.paid"` or `"invoice.paid"`. */
export type FulfilmentKind = keyof FulfilmentObjects;
