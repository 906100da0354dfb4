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

/**
 * The named lifecycle hooks and what each receives. Each runs once per transition, derived from the
 * billing state rather than from raw event types, so a reordered or duplicated delivery fires it once:
 * - `access.granted` / `access.revoked`: a customer's access (an active or trialing subscription, or a
 *   past_due one with PAST_DUE_GRANTS_ACCESS, a paid unrefunded one-time purchase, or an active
 *   Stripe entitlement) begins or ends;
 * - `subscription.past_due`: a subscription's status moves into `past_due`;
 * - `subscription.trial_ending`: Stripe says a trial ends soon (`trial_will_end`), once per trial end;
 * - `invoice.payment_failed`: an invoice's payment attempt fails, once per attempt.
 * Registered with `Handlers.lifecycle`; each fires as an event of its own in the ledger
 * (`lifecycle.<kind>`), so it is retried, dead-lettered and replayed like any event, and its hooks'
 * `ctx.write` commits with its done mark.
 */
export const LIFECYCLE_KINDS = [
  "access.granted",
  "access.revoked",
  "subscription.past_due",
  "subscription.trial_ending",
  "invoice.payment_failed",
] as const;
export type LifecycleKind = (typeof LIFECYCLE_KINDS)[number];

/** What a lifecycle hook gets: which transition, whose, and the event that caused it. */
export interface LifecycleChange {
  kind: LifecycleKind;
  /** The connected account, `''` for the platform's own. */
  account: string;
  /** The customer (`cus_…`, or an Accounts v2 `acct_…`), when known. */
  customerId: string | null;
  /** The subscription or invoice of the transition; the customer for `access.*`. */
  objectId: string;
  /** The Stripe event whose processing found the transition. */
  triggerEventId: string;
  /** The object as that event carried it (a subscription, an invoice); absent for `access.*`. */
  object?: unknown;
}
