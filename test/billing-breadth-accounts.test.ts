import { describe, expect, it } from "vitest";
import { eventAt, paidCheckoutSession, processEvents, stripeObject } from "./helpers/billing";
import { billingService } from "./helpers/billing-rpc";
import {
  activeEntitlementsApi,
  entitlementSummary,
  entitlementsNamed,
  price,
  subscriptionItem,
  subscriptionItemsApi,
  subscriptionWithItems,
} from "./helpers/catalogue";
import { uid } from "./helpers/events";
import { envWith } from "./helpers/faults";
import { firings, lifecycleEnv, processWithLifecycle, recordingLifecycle } from "./helpers/lifecycle";
import { stubStripeApi } from "./helpers/stripe-api";

// Billing state is kept per account: the platform's own ('') and each connected account's. Customer
// ids are only unique within an account, so a lookup in one account must never answer from another.

const T = 1_760_000_000;
const connectBilling = envWith({ STRIPE_CONNECT_BILLING: "true" });
/** Connected billing with an API key: the calls made for a connected account's event must act as that account. */
const connectKeyed = envWith({ STRIPE_CONNECT_BILLING: "true", STRIPE_SECRET_KEY: "rk_test_connect" });

/** `event` as a connected account's event (Connect delivers them with `account`). */
const inAccount = <E extends object>(account: string, event: E) => ({ ...event, account });

describe("Accounts v2: an account acting as the customer", () => {
  it("is found by its acct_ id when the subscription names it as customer_account", async () => {
    const customerAccount = uid("acct");
    const sub = stripeObject("subscription", { id: uid("sub"), customer: null, customer_account: customerAccount, status: "active" });
    await processEvents([eventAt("customer.subscription.created", sub, T)]);
    expect(await billingService().entitlements(customerAccount)).toMatchObject({
      customerId: customerAccount,
      account: null,
      entitled: true,
      subscriptions: [expect.objectContaining({ id: sub.id, status: "active" })],
    });
    expect(await billingService().subscription(sub.id)).toMatchObject({ customerId: customerAccount });
  });

  it("gets access hooks under its acct_ id", async () => {
    const customerAccount = uid("acct");
    const sub = stripeObject("subscription", { id: uid("sub"), customer: null, customer_account: customerAccount, status: "active" });
    const { handlers, fired } = recordingLifecycle();
    await processWithLifecycle([eventAt("customer.subscription.created", sub, T)], handlers);
    expect(firings(fired)).toEqual([`access.granted ${customerAccount}`]);
    expect(fired[0]).toMatchObject({ customerId: customerAccount, account: "" });
  });
});

describe("two connected accounts with a customer of the same id", () => {
  /**
   * Account A: an active subscription and a feature. Account B: the same subscription id canceled,
   * and a paid one-time purchase. Same customer id in both, nothing on the platform.
   */
  async function twoAccounts() {
    const [a, b] = [uid("acct"), uid("acct")];
    const customer = uid("cus_same");
    const subId = uid("sub");
    const session = paidCheckoutSession(customer, uid("pi"));
    const sub = (status: string) => stripeObject("subscription", { id: subId, customer, status });
    const events = [
      inAccount(a, eventAt("customer.subscription.created", sub("active"), T)),
      inAccount(
        a,
        eventAt("entitlements.active_entitlement_summary.updated", entitlementSummary(customer, entitlementsNamed("a_only", 1)), T),
      ),
      inAccount(b, eventAt("customer.subscription.created", sub("active"), T)),
      inAccount(b, eventAt("customer.subscription.deleted", sub("canceled"), T + 10)),
      inAccount(b, eventAt("checkout.session.completed", session, T + 20)),
    ];
    return { a, b, customer, subId, session, events };
  }

  it("answers each account with its own state only, and the platform with neither", async () => {
    const { a, b, customer, subId, session, events } = await twoAccounts();
    expect(await processEvents(events, undefined, connectBilling)).toEqual([]);

    expect(await billingService().entitlements(customer, { account: a })).toMatchObject({
      account: a,
      entitled: true,
      subscriptions: [expect.objectContaining({ id: subId, status: "active" })],
      purchases: [],
      features: ["a_only_01"],
    });
    expect(await billingService().entitlements(customer, { account: b })).toMatchObject({
      account: b,
      entitled: true,
      subscriptions: [],
      purchases: [expect.objectContaining({ checkoutSessionId: session.id })],
      features: [],
    });
    expect(await billingService().entitlements(customer)).toMatchObject({
      account: null,
      entitled: false,
      subscriptions: [],
      purchases: [],
      features: [],
    });
    expect(await billingService().subscription(subId, { account: a })).toMatchObject({ status: "active" });
    expect(await billingService().subscription(subId, { account: b })).toMatchObject({ status: "canceled" });
    expect(await billingService().subscription(subId)).toBeNull();
  });

  it("fires access hooks per account, each numbered in its own account", async () => {
    const { a, b, customer, events } = await twoAccounts();
    const { handlers, fired } = recordingLifecycle();
    await processWithLifecycle(events, handlers, lifecycleEnv({ STRIPE_CONNECT_BILLING: "true" }));
    const access = fired.filter((c) => c.kind.startsWith("access.")).map((c) => `${c.kind} ${c.account}`);
    // B's subscription ends, but its purchase grants access again right after.
    expect(access).toEqual([`access.granted ${a}`, `access.granted ${b}`, `access.revoked ${b}`, `access.granted ${b}`]);
    expect(fired.every((c) => c.customerId === customer)).toBe(true);
  });

  it("lists a connected account's entitlements as that account, never as the platform", async () => {
    const account = uid("acct");
    const customer = uid("cus_same");
    const all = entitlementsNamed("connected", 12);
    // The stub answers only requests made as the account: Stripe answers the platform key alone with 404.
    const seen = stubStripeApi(activeEntitlementsApi(customer, all, account));
    const summary = eventAt("entitlements.active_entitlement_summary.updated", entitlementSummary(customer, all), T);
    expect(await processEvents([inAccount(account, summary)], undefined, connectKeyed)).toEqual([]);
    expect(seen.map((r) => r.headers.get("stripe-context") ?? r.headers.get("stripe-account"))).toEqual([account, account]);
    expect(await billingService().features(customer, { account })).toHaveLength(12);
    expect(await billingService().features(customer)).toEqual([]);
  });

  it("lists a connected account's subscription items as that account", async () => {
    const account = uid("acct");
    const subId = uid("sub");
    const items = Array.from({ length: 12 }, () => subscriptionItem(subId, price(uid("prod"))));
    const seen = stubStripeApi(subscriptionItemsApi(subId, items, account));
    const sub = subscriptionWithItems({ id: subId, customer: uid("cus_same"), status: "active" }, items);
    expect(await processEvents([inAccount(account, eventAt("customer.subscription.created", sub, T))], undefined, connectKeyed)).toEqual(
      [],
    );
    expect(seen).toHaveLength(2);
    expect(await billingService().subscription(subId, { account })).toMatchObject({
      itemsComplete: true,
      priceIds: items.map((i) => i.price.id),
    });
  });
});
