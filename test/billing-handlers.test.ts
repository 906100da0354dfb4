import { describe, expect, it } from "vitest";
import { billingHandlers } from "../src/billing/handlers";
import { billingRow, eventAt, processEvents, stripeObject } from "./helpers/billing";
import { uid } from "./helpers/events";
import { ledgerRow } from "./helpers/ledger";

const T = 1_760_000_000;

describe("built-in billing handlers, with payloads built from Stripe's fixtures", () => {
  it.each([
    ["checkout.session.completed", { status: "complete", payment_status: "paid" }],
    ["checkout.session.async_payment_succeeded", { status: "complete", payment_status: "paid" }],
    ["checkout.session.async_payment_failed", { status: "complete", payment_status: "unpaid" }],
    ["checkout.session.expired", { status: "expired", payment_status: "unpaid" }],
  ])("%s stores the session's status, payment status, customer and amounts", async (type, fields) => {
    const session = stripeObject("checkoutSession", {
      id: uid("cs_test"),
      customer: uid("cus"),
      mode: "payment",
      amount_total: 4200,
      currency: "eur",
      ...fields,
    });
    const event = eventAt(type, session, T);
    expect(await processEvents([event])).toEqual([]);
    expect(await billingRow("checkout_sessions", session.id)).toMatchObject({
      customer_id: session.customer,
      mode: "payment",
      status: fields.status,
      payment_status: fields.payment_status,
      amount_total: 4200,
      currency: "eur",
      last_event_created: T,
    });
    expect((await ledgerRow(event.id))?.status).toBe("processed");
  });

  it("customer.created and customer.updated store the customer; customer.deleted marks it deleted", async () => {
    const id = uid("cus");
    await processEvents([
      eventAt("customer.created", stripeObject("customer", { id, email: "a@example.com" }), T),
      eventAt("customer.updated", stripeObject("customer", { id, email: "b@example.com", name: "Ada" }), T + 1),
    ]);
    expect(await billingRow("customers", id)).toMatchObject({ email: "b@example.com", name: "Ada", deleted: 0 });
    await processEvents([eventAt("customer.deleted", stripeObject("customer", { id, email: "b@example.com" }), T + 2)]);
    expect(await billingRow("customers", id)).toMatchObject({ deleted: 1 });
  });

  it.each([
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.paused",
    "customer.subscription.resumed",
    "customer.subscription.trial_will_end",
  ])("%s stores status, prices, period end, cancel flags and trial end", async (type) => {
    const base = stripeObject("subscription");
    const items = structuredClone(base.items) as { data: { current_period_end: number; price: { id: string } }[] };
    items.data[0]!.current_period_end = T + 30 * 86400;
    const sub = stripeObject("subscription", {
      id: uid("sub"),
      customer: uid("cus"),
      status: "trialing",
      cancel_at_period_end: true,
      trial_end: T + 7 * 86400,
      items,
    });
    await processEvents([eventAt(type, sub, T)]);
    expect(await billingRow("subscriptions", sub.id)).toMatchObject({
      customer_id: sub.customer,
      status: "trialing",
      price_ids: JSON.stringify([items.data[0]!.price.id]),
      current_period_end: T + 30 * 86400,
      cancel_at_period_end: 1,
      trial_end: T + 7 * 86400,
    });
  });

  it("customer.subscription.deleted leaves the subscription canceled", async () => {
    const sub = stripeObject("subscription", { id: uid("sub"), status: "active" });
    await processEvents([
      eventAt("customer.subscription.created", sub, T),
      eventAt("customer.subscription.deleted", { ...sub, status: "canceled", canceled_at: T + 5 }, T + 5),
    ]);
    expect(await billingRow("subscriptions", sub.id)).toMatchObject({ status: "canceled", canceled_at: T + 5 });
  });

  it.each(["invoice.paid", "invoice.payment_succeeded", "invoice.payment_failed"])(
    "%s stores the invoice with its subscription and amounts",
    async (type) => {
      const subId = uid("sub");
      const paid = type !== "invoice.payment_failed";
      const inv = stripeObject("invoice", {
        id: uid("in"),
        customer: uid("cus"),
        status: paid ? "paid" : "open",
        amount_due: 2000,
        amount_paid: paid ? 2000 : 0,
        currency: "usd",
        parent: { type: "subscription_details", subscription_details: { subscription: subId, metadata: null }, quote_details: null },
      });
      await processEvents([eventAt(type, inv, T)]);
      expect(await billingRow("invoices", inv.id)).toMatchObject({
        subscription_id: subId,
        status: paid ? "paid" : "open",
        amount_due: 2000,
        amount_paid: paid ? 2000 : 0,
      });
    },
  );

  it.each([
    ["payment_intent.succeeded", "succeeded", 5000, null],
    ["payment_intent.processing", "processing", 0, null],
    ["payment_intent.canceled", "canceled", 0, null],
    ["payment_intent.payment_failed", "requires_payment_method", 0, { code: "card_declined", message: "Your card was declined." }],
  ])("%s stores the payment intent's status, amounts and last error", async (type, status, received, error) => {
    const pi = stripeObject("paymentIntent", {
      id: uid("pi"),
      customer: uid("cus"),
      status,
      amount: 5000,
      amount_received: received,
      last_payment_error: error,
    });
    await processEvents([eventAt(type as string, pi, T)]);
    expect(await billingRow("payment_intents", pi.id)).toMatchObject({
      status,
      amount: 5000,
      amount_received: received,
      last_error: error ? "card_declined: Your card was declined." : null,
    });
  });

  it("charge.refunded records what was refunded", async () => {
    const ch = stripeObject("charge", {
      id: uid("ch"),
      payment_intent: uid("pi"),
      amount: 3000,
      amount_refunded: 1000,
      refunded: false,
      status: "succeeded",
    });
    await processEvents([eventAt("charge.refunded", ch, T)]);
    expect(await billingRow("charges", ch.id)).toMatchObject({
      amount: 3000,
      amount_refunded: 1000,
      refunded: 0,
      payment_intent_id: ch.payment_intent,
    });
  });

  it("has a handler for every event type the issue lists", () => {
    expect(billingHandlers().types().sort()).toEqual(
      [
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.async_payment_failed",
        "checkout.session.expired",
        "customer.created",
        "customer.updated",
        "customer.deleted",
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "customer.subscription.paused",
        "customer.subscription.resumed",
        "customer.subscription.trial_will_end",
        "invoice.paid",
        "invoice.payment_succeeded",
        "invoice.payment_failed",
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "payment_intent.canceled",
        "payment_intent.processing",
        "charge.refunded",
        "product.created",
        "product.updated",
        "product.deleted",
        "price.created",
        "price.updated",
        "price.deleted",
        "entitlements.active_entitlement_summary.updated",
      ].sort(),
    );
  });
});
