import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { billingHandlers } from "../src/billing/handlers";
import { adminApi, consolePage } from "./helpers/admin";
import { eventAt, paidCheckoutSession, processEvents, stripeObject } from "./helpers/billing";
import { uid } from "./helpers/events";
import { envWith } from "./helpers/faults";
import { seedEvent } from "./helpers/ledger";
import { thinEvent } from "./helpers/thin";

const T = 1_760_000_000;

/** A subscription's lifecycle, delivered out of order: the newest update first, the creation last but one. */
async function outOfOrderSubscription() {
  const customer = uid("cus");
  const sub = stripeObject("subscription", { id: uid("sub"), customer, status: "active" });
  const created = eventAt("customer.subscription.created", { ...sub, status: "incomplete" }, T);
  const pastDue = eventAt("customer.subscription.updated", { ...sub, status: "past_due" }, T + 10);
  const active = eventAt("customer.subscription.updated", { ...sub, status: "active" }, T + 20);
  await processEvents([active, created, pastDue]);
  return { customer, sub, created, pastDue, active };
}

describe("GET /admin/api/objects/{id}", () => {
  it(
    "lists every event of the object in Stripe's created order, with the arrival order and which arrived late, " +
      "next to its billing row",
    async () => {
      const { sub, customer, created, pastDue, active } = await outOfOrderSubscription();
      const { status, body } = await adminApi(`/objects/${sub.id}`);
      expect(status).toBe(200);
      expect(body.object_id).toBe(sub.id);
      expect(body.object).toMatchObject({
        object: "subscription",
        id: sub.id,
        customer_id: customer,
        status: "active",
        price_ids: expect.any(Array),
        last_event_id: active.id,
      });
      expect(body.events.map((e: any) => [e.id, e.arrival, e.arrived_late, e.status])).toEqual([
        [created.id, 2, true, "processed"],
        [pastDue.id, 3, true, "processed"],
        [active.id, 1, false, "processed"],
      ]);
      expect(body.more).toBe(false);
    },
  );

  it("takes an event id and answers with that event's object and its whole timeline", async () => {
    const { sub, pastDue } = await outOfOrderSubscription();
    const { body } = await adminApi(`/objects/${pastDue.id}`);
    expect(body.object_id).toBe(sub.id);
    expect(body.object.id).toBe(sub.id);
    expect(body.events).toHaveLength(3);
  });

  it("answers an event about no object with that event alone and no billing row", async () => {
    const ping = thinEvent("v2.core.event_destination.ping", null);
    await seedEvent(ping);
    const { status, body } = await adminApi(`/objects/${ping.id}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ object_id: null, object: null, events: [{ id: ping.id, arrival: 1, arrived_late: false }] });
  });

  it("answers the billing row with no events once retention has deleted them", async () => {
    const { sub } = await outOfOrderSubscription();
    await env.DB.prepare("DELETE FROM stripe_events WHERE object_id = ?").bind(sub.id).run();
    const { status, body } = await adminApi(`/objects/${sub.id}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ object: { id: sub.id }, events: [] });
  });

  it.each([
    ["an unknown subscription", "sub_unknown123", /^Nothing is known about sub_unknown123/],
    ["an unknown event", "evt_unknown123", /^No event evt_unknown123/],
  ])("answers 404 not_found for %s", async (_name, id, message) => {
    const { status, body } = await adminApi(`/objects/${id}`);
    expect(status).toBe(404);
    expect(body.error).toEqual({ code: "not_found", message: expect.stringMatching(message) });
  });
});

describe("the console's object search", () => {
  it("sends the search box to the object's page", async () => {
    const { status, location } = await consolePage("/admin/objects?id=%20sub_abc123%20");
    expect(status).toBe(303);
    expect(location).toBe("/admin/objects/sub_abc123");
  });

  it("shows the timeline in created order, marks late arrivals, and links the customer view", async () => {
    const { sub, customer, created, pastDue, active } = await outOfOrderSubscription();
    const { status, html } = await consolePage(`/admin/objects/${sub.id}`);
    expect(status).toBe(200);
    const rows = [
      ...html.matchAll(/<tr class="([^"]*)" data-event-id="([^"]+)" data-arrival="(\d)"|<tr data-event-id="([^"]+)" data-arrival="(\d)"/g),
    ].map((m) => [m[2] ?? m[4], m[3] ?? m[5], m[1] ?? ""]);
    expect(rows).toEqual([
      [created.id, "2", "late"],
      [pastDue.id, "3", "late"],
      [active.id, "1", ""],
    ]);
    expect(html).toContain('data-late="2"');
    expect(html).toContain(`href="/admin/customers/${customer}"`);
    expect(html).toContain('data-table="subscriptions"');
  });
});

describe("the customer view", () => {
  /** A customer with a subscription, a paid invoice, a paid one-time checkout partly refunded, and fulfilment hooks. */
  async function customerWithHistory() {
    const customer = uid("cus");
    const pi = uid("pi");
    const sub = stripeObject("subscription", { id: uid("sub"), customer, status: "active" });
    const invoice = stripeObject("invoice", { id: uid("in"), customer, status: "paid", amount_paid: 2000, amount_due: 2000 });
    const session = paidCheckoutSession(customer, pi);
    const intent = stripeObject("paymentIntent", {
      id: pi,
      customer,
      status: "succeeded",
      amount: 900,
      amount_received: 900,
      currency: "usd",
    });
    const charge = stripeObject("charge", {
      id: uid("ch"),
      customer,
      payment_intent: pi,
      amount: 900,
      amount_refunded: 300,
      refunded: false,
      currency: "usd",
    });
    const handlers = billingHandlers()
      .fulfil("checkout_session.paid", () => {})
      .fulfil("invoice.paid", () => {});
    const events = [
      eventAt("customer.created", stripeObject("customer", { id: customer, email: "ada@example.com" }), T),
      eventAt("customer.subscription.created", sub, T + 1),
      eventAt("invoice.paid", invoice, T + 2),
      eventAt("checkout.session.completed", session, T + 3),
      eventAt("payment_intent.succeeded", intent, T + 4),
      eventAt("charge.refunded", charge, T + 5),
    ];
    await processEvents(events, handlers);
    return { customer, sub, invoice, session, intent, charge, events };
  }

  it("answers the customer's rows, payments with their refunds, fulfilments, events, and BillingService's entitlements", async () => {
    const { customer, sub, invoice, session, intent, charge, events } = await customerWithHistory();
    const { status, body } = await adminApi(`/customers/${customer}`);
    expect(status).toBe(200);
    expect(body.customer).toMatchObject({ object: "customer", id: customer, email: "ada@example.com", deleted: false });
    expect(body.subscriptions.map((s: any) => [s.id, s.status])).toEqual([[sub.id, "active"]]);
    expect(body.invoices.map((i: any) => [i.id, i.amount_paid])).toEqual([[invoice.id, 2000]]);
    expect(body.checkout_sessions.map((s: any) => s.id)).toEqual([session.id]);
    expect(body.payments).toEqual([
      expect.objectContaining({
        object: "payment_intent",
        id: intent.id,
        amount_received: 900,
        charges: [expect.objectContaining({ object: "charge", id: charge.id, amount_refunded: 300 })],
      }),
    ]);
    expect(body.fulfilments.map((f: any) => [f.object_id, f.kind, f.status]).sort()).toEqual(
      [
        [invoice.id, "invoice.paid", "done"],
        [session.id, "checkout_session.paid", "done"],
      ].sort(),
    );
    expect(body.events.map((e: any) => e.id).sort()).toEqual(events.map((e) => e.id).sort());

    // Exactly what another Worker gets from BillingService over its service binding.
    const service = await (
      exports as unknown as { BillingService: { entitlements(id: string): Promise<any> } }
    ).BillingService.entitlements(customer);
    expect(body.entitled).toBe(service.entitled);
    expect(body.entitlements).toEqual([
      ...service.subscriptions.map((s: any) => ({
        kind: "subscription",
        id: s.id,
        status: s.status,
        price_ids: s.priceIds,
        plans: s.plans,
        items: s.items.map((i: any) => ({
          id: i.id,
          price_id: i.priceId,
          product_id: i.productId,
          product_name: i.productName,
          price_lookup_key: i.priceLookupKey,
          quantity: i.quantity,
        })),
        items_complete: s.itemsComplete,
        current_period_end: s.currentPeriodEnd,
        cancel_at_period_end: s.cancelAtPeriodEnd,
        trial_end: s.trialEnd,
      })),
      ...service.purchases.map((p: any) => ({
        kind: "purchase",
        checkout_session_id: p.checkoutSessionId,
        amount_total: p.amountTotal,
        currency: p.currency,
        payment_intent_id: p.paymentIntentId,
      })),
    ]);
    expect(body.entitlements.map((e: any) => e.kind).sort()).toEqual(["purchase", "subscription"]);
    expect(body.features).toEqual(service.features);
  });

  it("shows the same in the console, entitlements first", async () => {
    const { customer, sub, charge } = await customerWithHistory();
    const { status, html } = await consolePage(`/admin/customers/${customer}`);
    expect(status).toBe(200);
    expect(html).toContain('data-entitled="true"');
    expect(html).toContain(`href="/admin/objects/${sub.id}"`);
    expect(html).toContain(`3.00 USD (${charge.id})`);
    expect(html).toContain("checkout_session.paid");
  });

  it.each([
    ["an unknown customer", "/customers/cus_unknown123", 404, "not_found"],
    ["a subscription id", "/customers/sub_123", 400, "request_invalid"],
  ])("answers %s with %i", async (_name, path, status, code) => {
    const response = await adminApi(path);
    expect(response.status).toBe(status);
    expect(response.body.error.code).toBe(code);
  });
});

describe("objects of connected accounts", () => {
  /** The same customer id in two connected accounts, each with its own email, and the platform knowing none. */
  async function sameIdInTwoAccounts() {
    const id = uid("cus");
    const [a, b] = [uid("acct"), uid("acct")];
    const created = (account: string) => ({
      ...eventAt("customer.created", stripeObject("customer", { id, email: `${account}@example.com` }), T),
      account,
    });
    await processEvents([created(a), created(b)], billingHandlers(), envWith({ STRIPE_CONNECT_BILLING: "true" }));
    return { id, a, b };
  }

  it("answers a customer and an object in the account ?account= names, never another's", async () => {
    const { id, a, b } = await sameIdInTwoAccounts();
    for (const account of [a, b]) {
      const customer = await adminApi(`/customers/${id}?account=${account}`);
      expect(customer.status).toBe(200);
      expect(customer.body.customer).toMatchObject({ id, account, email: `${account}@example.com` });
      expect(customer.body.events.map((e: any) => e.account)).toEqual([account]);
      const object = await adminApi(`/objects/${id}?account=${account}`);
      expect(object.body).toMatchObject({ account, object: { account, email: `${account}@example.com` } });
      expect(object.body.events).toHaveLength(1);
    }
    // The platform has no such customer.
    expect((await adminApi(`/customers/${id}`)).status).toBe(404);
  });

  it("shows the connected account's customer in the console, its links staying in that account", async () => {
    const { id, a } = await sameIdInTwoAccounts();
    const { status, html } = await consolePage(`/admin/customers/${id}?account=${a}`);
    expect(status).toBe(200);
    expect(html).toContain(`${a}@example.com`);
    expect(html).toContain(`/admin/objects/${id}?account=${a}`);
  });

  it("refuses an account that is not an acct_ id with 400 request_invalid", async () => {
    const { status, body } = await adminApi("/customers/cus_123?account=cus_456");
    expect(status).toBe(400);
    expect(body.error).toMatchObject({
      code: "request_invalid",
      message: expect.stringContaining("account must be a connected account id"),
    });
  });
});
