import { HttpResponse, http } from "msw";
import { describe, expect, it } from "vitest";
import { billingHandlers } from "../src/billing/handlers";
import { FETCH_CLOCK_MARGIN_SECONDS } from "../src/billing/sources";
import { billingRow, eventAt, processEvents, stripeObject } from "./helpers/billing";
import { uid } from "./helpers/events";
import { envWith } from "./helpers/faults";
import { stubStripeApi } from "./helpers/stripe-api";
import { apiObject, relatedTo, thinEvent } from "./helpers/thin";

const keyed = envWith({ STRIPE_SECRET_KEY: "rk_test_thin_billing" });
const T = 1_760_000_000;
/** The consumer's clock, `s` seconds after T. */
const at = (s: number) => () => (T + s) * 1000;

/** One change to a subscription as Stripe reports it in both formats: a snapshot event and its thin twin. */
function twins(sub: Record<string, unknown>, created: number) {
  return {
    snapshot: eventAt("customer.subscription.updated", sub, created),
    thin: thinEvent("v1.customer.subscription.updated", relatedTo(sub), { created }),
  };
}

describe("thin and snapshot twins of one change", () => {
  it.each([
    ["fetched well after the change", 100],
    ["fetched in the same second as the change", 0],
  ])("end in the same subscriptions row in both orders when %s", async (_name, fetchedAfter) => {
    // Two subscriptions in the same state: one gets the snapshot event first, the other the thin one.
    const [subA, subB] = [uid("sub"), uid("sub")].map((id) =>
      stripeObject("subscription", { id, status: "past_due", cancel_at_period_end: true }),
    );
    stubStripeApi(apiObject(subA!), apiObject(subB!));
    const a = twins(subA!, T);
    expect(await processEvents([a.snapshot, a.thin], billingHandlers(), keyed, at(fetchedAfter))).toEqual([]);
    const { id: _a, ...snapshotFirst } = (await billingRow("subscriptions", subA!.id))!;

    const b = twins(subB!, T);
    expect(await processEvents([b.thin, b.snapshot], billingHandlers(), keyed, at(fetchedAfter))).toEqual([]);
    const { id: _b, ...thinFirst } = (await billingRow("subscriptions", subB!.id))!;

    expect(thinFirst).toEqual(snapshotFirst);
    expect(snapshotFirst).toMatchObject({
      status: "past_due",
      cancel_at_period_end: 1,
      last_event_created: Math.max(T, T + fetchedAfter - FETCH_CLOCK_MARGIN_SECONDS),
    });
  });

  it("keeps the fetched state when an older snapshot event arrives after it", async () => {
    const id = uid("sub");
    stubStripeApi(apiObject(stripeObject("subscription", { id, status: "active" })));
    const thin = thinEvent("v1.customer.subscription.updated", relatedTo(stripeObject("subscription", { id })), { created: T });
    const older = eventAt("customer.subscription.updated", stripeObject("subscription", { id, status: "past_due" }), T + 50);
    await processEvents([thin], billingHandlers(), keyed, at(100));
    await processEvents([older], billingHandlers(), keyed, at(120));
    expect(await billingRow("subscriptions", id)).toMatchObject({
      status: "active",
      last_event_created: T + 100 - FETCH_CLOCK_MARGIN_SECONDS,
    });
  });

  it("does not overwrite a row written by an event created after the fetch, and lets a later event overwrite it", async () => {
    const [first, second] = [uid("sub"), uid("sub")];
    stubStripeApi(...[first, second].map((id) => apiObject(stripeObject("subscription", { id, status: "active" }))));
    const thinFor = (id: string) =>
      thinEvent("v1.customer.subscription.updated", relatedTo(stripeObject("subscription", { id })), { created: T });

    const newer = eventAt("customer.subscription.deleted", stripeObject("subscription", { id: first, status: "canceled" }), T + 200);
    await processEvents([newer, thinFor(first)], billingHandlers(), keyed, at(100));
    expect(await billingRow("subscriptions", first)).toMatchObject({ status: "canceled", last_event_created: T + 200 });

    const later = eventAt("customer.subscription.updated", stripeObject("subscription", { id: second, status: "past_due" }), T + 150);
    await processEvents([thinFor(second), later], billingHandlers(), keyed, at(100));
    expect(await billingRow("subscriptions", second)).toMatchObject({ status: "past_due", last_event_created: T + 150 });
  });

  it("re-reads the subscription of a thin invoice.payment_failed, as for its snapshot twin", async () => {
    const subscription = stripeObject("subscription", { id: uid("sub"), status: "past_due" });
    const invoice = stripeObject("invoice", {
      id: uid("in"),
      status: "open",
      amount_paid: 0,
      parent: { type: "subscription_details", subscription_details: { subscription: subscription.id } },
    });
    const seen = stubStripeApi(apiObject(invoice), apiObject(subscription));
    await processEvents([thinEvent("v1.invoice.payment_failed", relatedTo(invoice))], billingHandlers(), keyed);
    expect(await billingRow("invoices", invoice.id)).toMatchObject({ status: "open", subscription_id: subscription.id });
    expect(await billingRow("subscriptions", subscription.id)).toMatchObject({ status: "past_due" });
    expect(seen.map((r) => new URL(r.url).pathname)).toEqual([`/v1/invoices/${invoice.id}`, `/v1/subscriptions/${subscription.id}`]);
  });
});

describe("once-only fulfilment across formats", () => {
  it.each([
    ["snapshot invoice.paid, then thin v1.invoice.paid", ["snapshot", "thin"]],
    ["thin v1.invoice.paid, then snapshot invoice.paid", ["thin", "snapshot"]],
  ] as const)("credits a paid invoice once: %s", async (_name, order) => {
    const invoice = stripeObject("invoice", { id: uid("in"), status: "paid", amount_paid: 2000, amount_due: 2000 });
    stubStripeApi(apiObject(invoice));
    const credited: { id: string; by: string }[] = [];
    const handlers = billingHandlers().fulfil("invoice.paid", (paid, event) => void credited.push({ id: paid.id ?? "", by: event.object }));
    const events = {
      snapshot: eventAt("invoice.paid", invoice, T),
      thin: thinEvent("v1.invoice.paid", relatedTo(invoice), { created: T }),
    };
    expect(
      await processEvents(
        order.map((o) => events[o]),
        handlers,
        keyed,
      ),
    ).toEqual([]);
    // A second thin type for the same payment changes nothing either.
    expect(await processEvents([thinEvent("v1.invoice.payment_succeeded", relatedTo(invoice), { created: T })], handlers, keyed)).toEqual(
      [],
    );
    expect(credited).toEqual([{ id: invoice.id, by: order[0] === "thin" ? "v2.core.event" : "event" }]);
  });

  it("fulfils a paid checkout once when the thin twin arrives first and the snapshot event second", async () => {
    const session = stripeObject("checkoutSession", { id: uid("cs_test"), status: "complete", payment_status: "paid" });
    stubStripeApi(http.get(`https://api.stripe.com/v1/checkout/sessions/${session.id}`, () => HttpResponse.json(session)));
    const granted: string[] = [];
    const handlers = billingHandlers().fulfil("checkout_session.paid", (paid) => void granted.push(paid.id));
    await processEvents(
      [thinEvent("v1.checkout.session.completed", relatedTo(session)), eventAt("checkout.session.completed", session, T)],
      handlers,
      keyed,
    );
    expect(granted).toEqual([session.id]);
    expect(await billingRow("checkout_sessions", session.id)).toMatchObject({ payment_status: "paid" });
  });

  it("does not fulfil from a thin event whose fetched object is not paid", async () => {
    const session = stripeObject("checkoutSession", { id: uid("cs_test"), status: "complete", payment_status: "unpaid" });
    stubStripeApi(apiObject(session));
    const granted: string[] = [];
    const handlers = billingHandlers().fulfil("checkout_session.paid", (paid) => void granted.push(paid.id));
    await processEvents([thinEvent("v1.checkout.session.completed", relatedTo(session))], handlers, keyed);
    expect(granted).toEqual([]);
  });
});
