import type Stripe from "stripe";
import { charges, checkoutSessions, customers, invoices, paymentIntents, subscriptions } from "../db/billing-schema";
import { Handlers, type HandlerContext } from "../handlers/registry";
import { fulfilOnce } from "./fulfil";
import { project, type ProjectedTable, type RowOf } from "./project";
import { invoiceSubscriptionId, rows, type AppliedBy } from "./rows";

const by = (event: Stripe.Event, ctx: HandlerContext): AppliedBy => ({ eventId: event.id, eventCreated: event.created, nowMs: ctx.nowMs });

/** Checkout Session payment statuses that mean the buyer has paid (or owes nothing). */
const PAID = new Set(["paid", "no_payment_required"]);

/**
 * A handler that writes an event's object to its table through `project` (newer events win); with an
 * API key, a same-second tie stores the object re-read with `retrieve`.
 */
function projector<O extends { id?: string | null }, T extends ProjectedTable>(
  table: T,
  toRow: (object: O, by: AppliedBy) => RowOf<T>,
  retrieve?: (stripe: Stripe, id: string) => Promise<NoInfer<O>>,
) {
  return (object: O, event: Stripe.Event, ctx: HandlerContext) => {
    const applied = by(event, ctx);
    const { stripe } = ctx;
    const refetch = stripe && retrieve ? async () => toRow(await retrieve(stripe, object.id ?? ""), applied) : undefined;
    return project(ctx, table, toRow(object, applied), refetch);
  };
}

const projectCustomer = projector(customers, (c: Stripe.Customer | Stripe.DeletedCustomer, applied) => rows.customer(c, applied), (stripe, id) => stripe.customers.retrieve(id));
// A deleted customer cannot be re-read usefully; its deletion is final whatever the tie.
const projectDeletedCustomer = projector(customers, (c: Stripe.Customer | Stripe.DeletedCustomer, applied) => rows.customer(c, applied, true));
const projectSubscription = projector(subscriptions, (s: Stripe.Subscription, applied) => rows.subscription(s, applied), (stripe, id) => stripe.subscriptions.retrieve(id));
const projectCanceledSubscription = projector(subscriptions, (s: Stripe.Subscription, applied) => rows.subscription(s, applied, "canceled"), (stripe, id) => stripe.subscriptions.retrieve(id));
const projectCheckoutSession = projector(checkoutSessions, rows.checkoutSession, (stripe, id) => stripe.checkout.sessions.retrieve(id));
const projectInvoice = projector(invoices, rows.invoice, (stripe, id) => stripe.invoices.retrieve(id));
const projectPaymentIntent = projector(paymentIntents, rows.paymentIntent, (stripe, id) => stripe.paymentIntents.retrieve(id));
const projectCharge = projector(charges, rows.charge, (stripe, id) => stripe.charges.retrieve(id));

async function fulfilPaidCheckout(session: Stripe.Checkout.Session, event: Stripe.Event, ctx: HandlerContext) {
  await projectCheckoutSession(session, event, ctx);
  if (PAID.has(session.payment_status)) await fulfilOnce("checkout_session.paid", session, event, ctx);
}

async function creditPaidInvoice(invoice: Stripe.Invoice, event: Stripe.Event, ctx: HandlerContext) {
  await projectInvoice(invoice, event, ctx);
  if (invoice.status === "paid") await fulfilOnce("invoice.paid", invoice, event, ctx);
}

/**
 * A failed invoice payment changes the subscription's status (to `past_due` or `unpaid`, per the
 * account's retry settings), but the invoice does not carry that status. With an API key the
 * subscription is re-read from Stripe and stored; without one, the `customer.subscription.updated`
 * event Stripe sends alongside brings the new status.
 */
async function recordFailedInvoice(invoice: Stripe.Invoice, event: Stripe.Event, ctx: HandlerContext) {
  await projectInvoice(invoice, event, ctx);
  const subscriptionId = invoiceSubscriptionId(invoice);
  if (subscriptionId && ctx.stripe) {
    const current = await ctx.stripe.subscriptions.retrieve(subscriptionId);
    await project(ctx, subscriptions, rows.subscription(current, by(event, ctx)));
  }
}

/**
 * The built-in handlers: they keep `customers`, `subscriptions`, `checkout_sessions`, `invoices`,
 * `payment_intents` and `charges` true to Stripe whatever order events arrive in, and trigger the
 * once-only `checkout_session.paid` and `invoice.paid` fulfilments.
 *
 * @example
 * export default createWorker({ handlers: billingHandlers().fulfil("invoice.paid", creditAccount) });
 */
export function billingHandlers(handlers = new Handlers()): Handlers {
  return handlers
    .on("checkout.session.completed", fulfilPaidCheckout)
    .on("checkout.session.async_payment_succeeded", fulfilPaidCheckout)
    .on("checkout.session.async_payment_failed", projectCheckoutSession)
    .on("checkout.session.expired", projectCheckoutSession)
    .on("customer.created", projectCustomer)
    .on("customer.updated", projectCustomer)
    .on("customer.deleted", projectDeletedCustomer)
    .on("customer.subscription.created", projectSubscription)
    .on("customer.subscription.updated", projectSubscription)
    .on("customer.subscription.paused", projectSubscription)
    .on("customer.subscription.resumed", projectSubscription)
    .on("customer.subscription.trial_will_end", projectSubscription)
    .on("customer.subscription.deleted", projectCanceledSubscription)
    .on("invoice.paid", creditPaidInvoice)
    .on("invoice.payment_succeeded", creditPaidInvoice)
    .on("invoice.payment_failed", recordFailedInvoice)
    .on("payment_intent.succeeded", projectPaymentIntent)
    .on("payment_intent.payment_failed", projectPaymentIntent)
    .on("payment_intent.canceled", projectPaymentIntent)
    .on("payment_intent.processing", projectPaymentIntent)
    .on("charge.refunded", projectCharge);
}
