import type Stripe from "stripe";
import { charges, checkoutSessions, customers, invoices, paymentIntents, subscriptions } from "../db/billing-schema";
import {
  type Handler,
  type HandlerContext,
  Handlers,
  type StripeEventOf,
  type StripeEventType,
  type ThinHandler,
  type ThinHandlerContext,
} from "../handlers/registry";
import { type ProjectedTable, project, type RowOf } from "./project";
import { type AppliedBy, invoiceSubscriptionId, rows } from "./rows";
import { type BillingStep, fromSnapshot, fromThin, type Origin } from "./sources";

/** Checkout Session payment statuses that mean the buyer has paid (or owes nothing). */
const PAID = new Set(["paid", "no_payment_required"]);

/**
 * A step that writes an object to its table through `project` (newer versions win). On a same-second
 * tie, an object that came in a snapshot event is re-read with `retrieve` when there is an API key;
 * one just fetched for a thin event is already the latest and wins as it is.
 */
function projector<O extends { id?: string | null }, T extends ProjectedTable>(
  table: T,
  toRow: (object: O, by: AppliedBy) => RowOf<T>,
  retrieve?: (stripe: Stripe, id: string) => Promise<NoInfer<O>>,
): BillingStep<O> {
  return (object, origin, ctx) => {
    const { stripe } = ctx;
    const refetch =
      stripe && retrieve && !origin.fetched ? async () => toRow(await retrieve(stripe, object.id ?? ""), origin.applied) : undefined;
    return project(ctx, table, toRow(object, origin.applied), refetch);
  };
}

const projectCustomer = projector(
  customers,
  (c: Stripe.Customer | Stripe.DeletedCustomer, applied) => rows.customer(c, applied),
  (stripe, id) => stripe.customers.retrieve(id),
);
// A deleted customer cannot be re-read usefully; its deletion is final whatever the tie.
const projectDeletedCustomer = projector(customers, (c: Stripe.Customer | Stripe.DeletedCustomer, applied) =>
  rows.customer(c, applied, true),
);
const projectSubscription = projector(
  subscriptions,
  (s: Stripe.Subscription, applied) => rows.subscription(s, applied),
  (stripe, id) => stripe.subscriptions.retrieve(id),
);
const projectCanceledSubscription = projector(
  subscriptions,
  (s: Stripe.Subscription, applied) => rows.subscription(s, applied, "canceled"),
  (stripe, id) => stripe.subscriptions.retrieve(id),
);
const projectCheckoutSession = projector(checkoutSessions, rows.checkoutSession, (stripe, id) => stripe.checkout.sessions.retrieve(id));
const projectInvoice = projector(invoices, rows.invoice, (stripe, id) => stripe.invoices.retrieve(id));
const projectPaymentIntent = projector(paymentIntents, rows.paymentIntent, (stripe, id) => stripe.paymentIntents.retrieve(id));
const projectCharge = projector(charges, rows.charge, (stripe, id) => stripe.charges.retrieve(id));

async function fulfilPaidCheckout(session: Stripe.Checkout.Session, origin: Origin, ctx: HandlerContext) {
  await projectCheckoutSession(session, origin, ctx);
  if (PAID.has(session.payment_status)) await ctx.fulfil("checkout_session.paid", session, origin.event);
}

async function creditPaidInvoice(invoice: Stripe.Invoice, origin: Origin, ctx: HandlerContext) {
  await projectInvoice(invoice, origin, ctx);
  if (invoice.status === "paid") await ctx.fulfil("invoice.paid", invoice, origin.event);
}

/**
 * A failed invoice payment changes the subscription's status (to `past_due` or `unpaid`, per the
 * account's retry settings), but the invoice does not carry that status. With an API key the
 * subscription is re-read from Stripe and stored; without one, the `customer.subscription.updated`
 * event Stripe sends alongside brings the new status.
 */
async function recordFailedInvoice(invoice: Stripe.Invoice, origin: Origin, ctx: HandlerContext) {
  await projectInvoice(invoice, origin, ctx);
  const subscriptionId = invoiceSubscriptionId(invoice);
  if (subscriptionId && ctx.stripe) {
    const current = await ctx.stripe.subscriptions.retrieve(subscriptionId);
    await project(ctx, subscriptions, rows.subscription(current, origin.applied));
  }
}

/**
 * A customer the API no longer knows (a thin customer event answered 404): stored as deleted, as a
 * `customer.deleted` snapshot event would. Other objects answered 404 are left as they are.
 */
function recordMissingCustomer(id: string, origin: Origin, ctx: ThinHandlerContext) {
  const gone = { id, object: "customer", deleted: true, livemode: origin.event.livemode } as Stripe.DeletedCustomer;
  return projectDeletedCustomer(gone, origin, ctx);
}

/**
 * Each built-in step, by the snapshot event type that triggers it. The thin twin of each type
 * (`v1.` + type) triggers the same step on the object fetched from the API.
 */
const STEPS = {
  "checkout.session.completed": fulfilPaidCheckout,
  "checkout.session.async_payment_succeeded": fulfilPaidCheckout,
  "checkout.session.async_payment_failed": projectCheckoutSession,
  "checkout.session.expired": projectCheckoutSession,
  "customer.created": projectCustomer,
  "customer.updated": projectCustomer,
  "customer.deleted": projectDeletedCustomer,
  "customer.subscription.created": projectSubscription,
  "customer.subscription.updated": projectSubscription,
  "customer.subscription.paused": projectSubscription,
  "customer.subscription.resumed": projectSubscription,
  "customer.subscription.trial_will_end": projectSubscription,
  "customer.subscription.deleted": projectCanceledSubscription,
  "invoice.paid": creditPaidInvoice,
  "invoice.payment_succeeded": creditPaidInvoice,
  "invoice.payment_failed": recordFailedInvoice,
  "payment_intent.succeeded": projectPaymentIntent,
  "payment_intent.payment_failed": projectPaymentIntent,
  "payment_intent.canceled": projectPaymentIntent,
  "payment_intent.processing": projectPaymentIntent,
  "charge.refunded": projectCharge,
} satisfies { [K in StripeEventType]?: BillingStep<StripeEventOf<K>["data"]["object"]> };

type BilledType = keyof typeof STEPS;

/**
 * The built-in handlers: they keep `customers`, `subscriptions`, `checkout_sessions`, `invoices`,
 * `payment_intents` and `charges` true to Stripe whatever order events arrive in and whichever format
 * delivers them (each snapshot type and its thin `v1.` twin end in the same row), and trigger the
 * once-only `checkout_session.paid` and `invoice.paid` fulfilments, once per object across formats.
 *
 * @example
 * export default createWorker({ handlers: billingHandlers().fulfil("invoice.paid", creditAccount) });
 */
export function billingHandlers(handlers = new Handlers()): Handlers {
  // Each step was checked against its type's object above; the loop only wires them up.
  for (const [type, step] of Object.entries(STEPS) as [BilledType, BillingStep<never>][]) {
    const isCustomer = type.startsWith("customer.") && !type.startsWith("customer.subscription.");
    // Scoped to the platform's own events: a connected account's reach them only with STRIPE_CONNECT_BILLING=true.
    handlers.on(type, fromSnapshot(step) as unknown as Handler<BilledType>, "platform");
    handlers.onThin(
      `v1.${type}`,
      fromThin(step, isCustomer ? recordMissingCustomer : undefined) as ThinHandler<`v1.${BilledType}`>,
      "platform",
    );
  }
  return handlers;
}
