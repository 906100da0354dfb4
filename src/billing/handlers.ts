import type Stripe from "stripe";
import { charges, checkoutSessions, customers, invoices, paymentIntents, subscriptions } from "../db/billing-schema";
import { Handlers, type HandlerContext } from "../handlers/registry";
import { fulfilOnce } from "./fulfil";
import { project } from "./project";
import { invoiceSubscriptionId, rows, type AppliedBy } from "./rows";

const by = (event: Stripe.Event, ctx: HandlerContext): AppliedBy => ({ eventId: event.id, eventCreated: event.created, nowMs: ctx.nowMs });

/** Checkout Session payment statuses that mean the buyer has paid (or owes nothing). */
const PAID = new Set(["paid", "no_payment_required"]);

function projectCustomer(deleted: boolean) {
  return (customer: Stripe.Customer | Stripe.DeletedCustomer, event: Stripe.Event, ctx: HandlerContext) =>
    project(ctx.db, customers, rows.customer(customer, by(event, ctx), deleted), ctx.stripe && !deleted
      ? async () => rows.customer(await ctx.stripe!.customers.retrieve(customer.id), by(event, ctx))
      : undefined);
}

function projectSubscription(forceStatus?: "canceled") {
  return (subscription: Stripe.Subscription, event: Stripe.Event, ctx: HandlerContext) =>
    project(ctx.db, subscriptions, rows.subscription(subscription, by(event, ctx), forceStatus), ctx.stripe
      ? async () => rows.subscription(await ctx.stripe!.subscriptions.retrieve(subscription.id), by(event, ctx), forceStatus)
      : undefined);
}

async function projectCheckoutSession(session: Stripe.Checkout.Session, event: Stripe.Event, ctx: HandlerContext) {
  await project(ctx.db, checkoutSessions, rows.checkoutSession(session, by(event, ctx)), ctx.stripe
    ? async () => rows.checkoutSession(await ctx.stripe!.checkout.sessions.retrieve(session.id), by(event, ctx))
    : undefined);
}

async function fulfilPaidCheckout(session: Stripe.Checkout.Session, event: Stripe.Event, ctx: HandlerContext) {
  await projectCheckoutSession(session, event, ctx);
  if (PAID.has(session.payment_status)) await fulfilOnce("checkout_session.paid", session, event, ctx);
}

async function projectInvoice(invoice: Stripe.Invoice, event: Stripe.Event, ctx: HandlerContext) {
  const id = invoice.id ?? "";
  await project(ctx.db, invoices, rows.invoice(invoice, by(event, ctx)), ctx.stripe
    ? async () => rows.invoice(await ctx.stripe!.invoices.retrieve(id), by(event, ctx))
    : undefined);
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
    await project(ctx.db, subscriptions, rows.subscription(current, by(event, ctx)));
  }
}

function projectPaymentIntent(intent: Stripe.PaymentIntent, event: Stripe.Event, ctx: HandlerContext) {
  return project(ctx.db, paymentIntents, rows.paymentIntent(intent, by(event, ctx)), ctx.stripe
    ? async () => rows.paymentIntent(await ctx.stripe!.paymentIntents.retrieve(intent.id), by(event, ctx))
    : undefined);
}

function projectCharge(charge: Stripe.Charge, event: Stripe.Event, ctx: HandlerContext) {
  return project(ctx.db, charges, rows.charge(charge, by(event, ctx)), ctx.stripe
    ? async () => rows.charge(await ctx.stripe!.charges.retrieve(charge.id), by(event, ctx))
    : undefined);
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
    .on("customer.created", projectCustomer(false))
    .on("customer.updated", projectCustomer(false))
    .on("customer.deleted", projectCustomer(true))
    .on("customer.subscription.created", projectSubscription())
    .on("customer.subscription.updated", projectSubscription())
    .on("customer.subscription.paused", projectSubscription())
    .on("customer.subscription.resumed", projectSubscription())
    .on("customer.subscription.trial_will_end", projectSubscription())
    .on("customer.subscription.deleted", projectSubscription("canceled"))
    .on("invoice.paid", creditPaidInvoice)
    .on("invoice.payment_succeeded", creditPaidInvoice)
    .on("invoice.payment_failed", recordFailedInvoice)
    .on("payment_intent.succeeded", projectPaymentIntent)
    .on("payment_intent.payment_failed", projectPaymentIntent)
    .on("payment_intent.canceled", projectPaymentIntent)
    .on("payment_intent.processing", projectPaymentIntent)
    .on("charge.refunded", projectCharge);
}
