// Longer than 250 lines because it is the one table of built-in billing steps and the few lines
// each step needs; its parts (rows, projection, entitlements, lifecycle) live in their own modules.

import type Stripe from "stripe";
import { charges, checkoutSessions, customers, invoices, paymentIntents, prices, products, subscriptions } from "../db/billing-schema";
import {
  type Handler,
  type HandlerContext,
  Handlers,
  type StripeEventOf,
  type StripeEventType,
  type ThinHandler,
  type ThinHandlerContext,
} from "../handlers/registry";
import { accessTransitions } from "./access";
import { allEntitlements, type EntitlementSummary, replaceEntitlements } from "./entitlement-set";
import { lifecycleWhen, pastDue, paymentFailed, trialEnding } from "./lifecycle-steps";
import { type ProjectedTable, project, type RowOf } from "./project";
import { type AppliedBy, customerOf, invoiceSubscriptionId, rows } from "./rows";
import { type BillingStep, fromSnapshot, fromThin, type Origin } from "./sources";
import { thinEntitlementSummary } from "./thin-summary";

/** Checkout Session payment statuses that mean the buyer has paid (or owes nothing). */
const PAID = new Set(["paid", "no_payment_required"]);

/**
 * After a step changed a customer's billing state: records a change of the customer's access as an
 * `access.granted` / `access.revoked` lifecycle event, when a hook for either is registered.
 */
function noteAccess(ctx: HandlerContext, origin: Origin, customerId: string | null): void {
  const granted = ctx.wants("access.granted");
  const revoked = ctx.wants("access.revoked");
  if (!customerId || (!granted && !revoked)) return;
  const target = {
    account: origin.applied.account,
    customerId,
    pastDueGrantsAccess: ctx.config.pastDueGrantsAccess,
    triggerEventId: origin.event.id,
    livemode: origin.event.livemode === true,
    nowMs: ctx.nowMs,
    granted,
    revoked,
  };
  for (const statement of accessTransitions(ctx.db, target)) ctx.emit(statement);
}

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

/** A projector, then the access check for the object's customer. */
function withAccess<O extends { id?: string | null }>(
  step: BillingStep<O>,
  customerOfObject: (object: O) => string | null,
): BillingStep<O> {
  return async (object, origin, ctx) => {
    await step(object, origin, ctx);
    noteAccess(ctx, origin, customerOfObject(object));
  };
}

const projectCustomer = projector(
  customers,
  (c: Stripe.Customer | Stripe.DeletedCustomer, applied) => rows.customer(c, applied),
  (stripe, id) => stripe.customers.retrieve(id),
);
// A deleted customer cannot be re-read usefully; its deletion is final whatever the tie.
const projectDeletedCustomer = withAccess(
  projector(customers, (c: Stripe.Customer | Stripe.DeletedCustomer, applied) => rows.customer(c, applied, true)),
  (c) => c.id,
);

/**
 * Every item of a subscription: the event's list, and, when it says `has_more`, the rest from
 * `GET /v1/subscription_items` with the API key (through the rate budget). Undefined without a key:
 * the row then keeps the event's items and says they are incomplete.
 */
async function allItems(s: Stripe.Subscription, stripe: Stripe | null): Promise<Stripe.SubscriptionItem[] | undefined> {
  if (s.items?.has_more !== true || !stripe) return undefined;
  const all: Stripe.SubscriptionItem[] = [];
  let startingAfter: string | undefined;
  for (;;) {
    const page = await stripe.subscriptionItems.list({
      subscription: s.id,
      limit: 100,
      ...(startingAfter ? { starting_after: startingAfter } : {}),
    });
    all.push(...page.data);
    if (!page.has_more || page.data.length === 0) return all;
    startingAfter = page.data.at(-1)!.id;
  }
}

/** A subscription: its lifecycle transitions, all its items, its row, then its customer's access. */
function subscriptionStep(options: { canceled?: boolean } = {}): BillingStep<Stripe.Subscription> {
  return async (s, origin, ctx) => {
    // Before the row changes: a transition is read against the state it changes from.
    if (!options.canceled) lifecycleWhen(ctx, pastDue(ctx, origin, s));
    const items = await allItems(s, ctx.stripe);
    const toRow = (sub: Stripe.Subscription, by: AppliedBy, listed?: Stripe.SubscriptionItem[]) =>
      rows.subscription(sub, by, { canceled: options.canceled, ...(listed ? { allItems: listed } : {}) });
    const { stripe } = ctx;
    const refetch =
      stripe && !origin.fetched
        ? async () => {
            const fresh = await stripe.subscriptions.retrieve(s.id);
            return toRow(fresh, origin.applied, await allItems(fresh, stripe));
          }
        : undefined;
    await project(ctx, subscriptions, toRow(s, origin.applied, items), refetch);
    noteAccess(ctx, origin, customerOf(s as never));
  };
}

const projectSubscription = subscriptionStep();
const projectCanceledSubscription = subscriptionStep({ canceled: true });

async function trialWillEnd(s: Stripe.Subscription, origin: Origin, ctx: HandlerContext) {
  lifecycleWhen(ctx, trialEnding(ctx, origin, s));
  await projectSubscription(s, origin, ctx);
}

const projectCheckoutSession = withAccess(
  projector(checkoutSessions, rows.checkoutSession, (stripe, id) => stripe.checkout.sessions.retrieve(id)),
  (s) => customerOf(s as never),
);
const projectInvoice = projector(invoices, rows.invoice, (stripe, id) => stripe.invoices.retrieve(id));
const projectPaymentIntent = projector(paymentIntents, rows.paymentIntent, (stripe, id) => stripe.paymentIntents.retrieve(id));
// A refund can end a one-time purchase's access.
const projectCharge = withAccess(
  projector(charges, rows.charge, (stripe, id) => stripe.charges.retrieve(id)),
  (c) => customerOf(c as never),
);
const projectProduct = projector(
  products,
  (p: Stripe.Product | Stripe.DeletedProduct, applied) => rows.product(p, applied),
  (stripe, id) => stripe.products.retrieve(id),
);
const projectDeletedProduct = projector(products, (p: Stripe.Product | Stripe.DeletedProduct, applied) => rows.product(p, applied, true));
const projectPrice = projector(
  prices,
  (p: Stripe.Price | Stripe.DeletedPrice, applied) => rows.price(p, applied),
  (stripe, id) => stripe.prices.retrieve(id),
);
const projectDeletedPrice = projector(prices, (p: Stripe.Price | Stripe.DeletedPrice, applied) => rows.price(p, applied, true));

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
 * subscription is re-read from Stripe and stored (and its transitions noticed); without one, the
 * `customer.subscription.updated` event Stripe sends alongside brings the new status.
 */
async function recordFailedInvoice(invoice: Stripe.Invoice, origin: Origin, ctx: HandlerContext) {
  lifecycleWhen(ctx, paymentFailed(ctx, origin, invoice));
  await projectInvoice(invoice, origin, ctx);
  const subscriptionId = invoiceSubscriptionId(invoice);
  if (subscriptionId && ctx.stripe) {
    const current = await ctx.stripe.subscriptions.retrieve(subscriptionId);
    await projectSubscription(current, { ...origin, fetched: true }, ctx);
  }
}

/** The summary's entitlements, listed to the end, replace the customer's set; then the customer's access. */
async function applySummary(summary: EntitlementSummary, origin: Origin, ctx: HandlerContext) {
  const { entitlements, complete } = await allEntitlements(summary, ctx.stripe);
  const livemode = summary.livemode ?? origin.event.livemode === true;
  for (const statement of replaceEntitlements(ctx, origin, summary.customer, entitlements, complete, livemode)) ctx.write(statement);
  noteAccess(ctx, origin, summary.customer);
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
  "customer.subscription.trial_will_end": trialWillEnd,
  "customer.subscription.deleted": projectCanceledSubscription,
  "invoice.paid": creditPaidInvoice,
  "invoice.payment_succeeded": creditPaidInvoice,
  "invoice.payment_failed": recordFailedInvoice,
  "payment_intent.succeeded": projectPaymentIntent,
  "payment_intent.payment_failed": projectPaymentIntent,
  "payment_intent.canceled": projectPaymentIntent,
  "payment_intent.processing": projectPaymentIntent,
  "charge.refunded": projectCharge,
  "product.created": projectProduct,
  "product.updated": projectProduct,
  "product.deleted": projectDeletedProduct,
  "price.created": projectPrice,
  "price.updated": projectPrice,
  "price.deleted": projectDeletedPrice,
} satisfies { [K in StripeEventType]?: BillingStep<StripeEventOf<K>["data"]["object"]> };

type BilledType = keyof typeof STEPS;

/** The entitlement summary's type: a snapshot event carries the summary; its thin twin carries nothing to fetch directly. */
const SUMMARY_UPDATED = "entitlements.active_entitlement_summary.updated";

/**
 * The built-in handlers: they keep the billing tables (customers, subscriptions with all their items,
 * checkout sessions, invoices, payment intents, charges, the catalogue of products and prices, and
 * each customer's active Stripe entitlements) true to Stripe whatever order events arrive in and
 * whichever format delivers them (each snapshot type and its thin `v1.` twin end in the same row),
 * each row kept under its account; they trigger the once-only `checkout_session.paid` and
 * `invoice.paid` fulfilments, and record the lifecycle transitions that have hooks. Registered for the
 * platform's own events (a connected account's reach them only with STRIPE_CONNECT_BILLING=true).
 *
 * @example
 * export default createWorker({ handlers: billingHandlers().fulfil("invoice.paid", creditAccount) });
 */
export function billingHandlers(handlers = new Handlers()): Handlers {
  // Each step was checked against its type's object above; the loop only wires them up.
  for (const [type, step] of Object.entries(STEPS) as [BilledType, BillingStep<never>][]) {
    const isCustomer = type.startsWith("customer.") && !type.startsWith("customer.subscription.");
    handlers.on(type, fromSnapshot(step) as unknown as Handler<BilledType>, "platform");
    handlers.onThin(
      `v1.${type}`,
      fromThin(step, isCustomer ? recordMissingCustomer : undefined) as ThinHandler<`v1.${BilledType}`>,
      "platform",
    );
  }
  handlers.on(SUMMARY_UPDATED, fromSnapshot(applySummary) as unknown as Handler<typeof SUMMARY_UPDATED>, "platform");
  handlers.onThin(`v1.${SUMMARY_UPDATED}`, thinEntitlementSummary(applySummary), "platform");
  return handlers;
}
