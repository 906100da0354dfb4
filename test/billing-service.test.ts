import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { eventAt, paidCheckoutSession, processEvents, stripeObject } from "./helpers/billing";
import { uid } from "./helpers/events";

const T = 1_760_000_000;

/** The BillingService entrypoint over RPC, as another Worker's service binding reaches it. */
const billing = () =>
  (exports as unknown as { BillingService: { entitlements(id: string): Promise<any>; subscription(id: string): Promise<any> } })
    .BillingService;

describe("BillingService over a service binding", () => {
  it("entitles a customer with an active subscription and reports its prices and period", async () => {
    const customer = uid("cus");
    const sub = stripeObject("subscription", { id: uid("sub"), customer, status: "active", cancel_at_period_end: false });
    await processEvents([eventAt("customer.subscription.created", sub, T)]);
    const result = await billing().entitlements(customer);
    expect(result).toMatchObject({ customerId: customer, entitled: true, deleted: false, purchases: [] });
    expect(result.subscriptions).toEqual([expect.objectContaining({ id: sub.id, status: "active", cancelAtPeriodEnd: false })]);
    expect(await billing().subscription(sub.id)).toMatchObject({ id: sub.id, status: "active" });
  });

  it("stops entitling once the subscription is canceled", async () => {
    const customer = uid("cus");
    const sub = stripeObject("subscription", { id: uid("sub"), customer, status: "trialing" });
    await processEvents([eventAt("customer.subscription.created", sub, T)]);
    expect((await billing().entitlements(customer)).entitled).toBe(true);
    await processEvents([eventAt("customer.subscription.deleted", { ...sub, status: "canceled" }, T + 1)]);
    expect(await billing().entitlements(customer)).toMatchObject({ entitled: false, subscriptions: [] });
  });

  it("entitles a paid one-time checkout until its charge is fully refunded", async () => {
    const customer = uid("cus");
    const pi = uid("pi");
    const session = paidCheckoutSession(customer, pi);
    await processEvents([eventAt("checkout.session.completed", session, T)]);
    expect(await billing().entitlements(customer)).toMatchObject({
      entitled: true,
      purchases: [{ checkoutSessionId: session.id, amountTotal: 900, currency: "usd", paymentIntentId: pi }],
    });

    await processEvents([
      eventAt(
        "charge.refunded",
        stripeObject("charge", { id: uid("ch"), customer, payment_intent: pi, amount: 900, amount_refunded: 900, refunded: true }),
        T + 100,
      ),
    ]);
    expect(await billing().entitlements(customer)).toMatchObject({ entitled: false, purchases: [] });
  });

  it("does not entitle an unpaid checkout, an unknown customer or a deleted one", async () => {
    const customer = uid("cus");
    await processEvents([
      eventAt(
        "checkout.session.completed",
        stripeObject("checkoutSession", { id: uid("cs_test"), customer, mode: "payment", payment_status: "unpaid" }),
        T,
      ),
    ]);
    expect((await billing().entitlements(customer)).entitled).toBe(false);
    expect(await billing().entitlements(uid("cus"))).toMatchObject({ entitled: false, deleted: false });
    expect(await billing().subscription("sub_unknown")).toBeNull();

    const gone = uid("cus");
    await processEvents([
      eventAt("customer.subscription.created", stripeObject("subscription", { id: uid("sub"), customer: gone, status: "active" }), T),
      eventAt("customer.deleted", stripeObject("customer", { id: gone }), T + 1),
    ]);
    expect(await billing().entitlements(gone)).toMatchObject({ entitled: false, deleted: true });
  });
});

describe("BillingService arguments", () => {
  const rpc = () =>
    (exports as unknown as { BillingService: { entitlements(id: unknown): Promise<unknown>; subscription(id: unknown): Promise<unknown> } })
      .BillingService;

  it.each([
    ["an empty string", ""],
    ["an app user id", "user_42"],
    ["a subscription id", "sub_123"],
    ["SQL", "cus_1' OR '1'='1"],
    ["a number", 42],
    ["nothing", undefined],
  ])("refuses %s as a customer id with a TypeError naming the argument, never the value", async (_name, value) => {
    const call = rpc().entitlements(value);
    await expect(call).rejects.toThrow(/^BillingService\.entitlements: customerId must be a Stripe id starting with cus_/);
    if (typeof value === "string" && value !== "") await call.catch((err: Error) => expect(err.message).not.toContain(value));
  });

  it("refuses a customer id where a subscription id belongs", async () => {
    await expect(rpc().subscription("cus_123")).rejects.toThrow(/subscriptionId must be a Stripe id starting with sub_/);
  });
});
