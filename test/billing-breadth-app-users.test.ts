import { describe, expect, it } from "vitest";
import { adminApi } from "./helpers/admin";
import { eventAt, paidCheckoutSession, processEvents, stripeObject } from "./helpers/billing";
import { billingService } from "./helpers/billing-rpc";
import { uid } from "./helpers/events";
import { envWith } from "./helpers/faults";

// An app knows its own user ids, not Stripe's customer ids: forUser must give exactly the answer
// for the customer the user paid as, and must say so when one user id points at two customers
// rather than pick one silently.

const T = 1_760_000_000;

/** What forUser answers, without the fields only a user lookup has: comparable with entitlements(). */
async function userAnswer(appUserId: string) {
  const { appUserId: _u, customerId: _c, customerIds: _cs, conflict: _x, ...rest } = await billingService().forUser(appUserId);
  return rest;
}

/** What entitlements() answers for a customer, without its customer id. */
async function customerAnswer(customerId: string) {
  const { customerId: _c, ...rest } = await billingService().entitlements(customerId);
  return rest;
}

describe("BillingService.forUser", () => {
  it("answers not entitled, with no customer, for a user who never paid", async () => {
    expect(await billingService().forUser(uid("user"))).toMatchObject({
      entitled: false,
      customerId: null,
      customerIds: [],
      conflict: false,
      subscriptions: [],
      purchases: [],
      features: [],
    });
  });

  it("answers as the customer once a paid checkout names the user as client_reference_id", async () => {
    const user = uid("user");
    const customer = uid("cus");
    expect(await billingService().forUser(user)).toMatchObject({ entitled: false, customerId: null });
    const session = { ...paidCheckoutSession(customer, uid("pi")), client_reference_id: user };
    await processEvents([eventAt("checkout.session.completed", session, T)]);

    expect(await billingService().forUser(user)).toMatchObject({ customerId: customer, customerIds: [customer], conflict: false });
    expect(await userAnswer(user)).toEqual(await customerAnswer(customer));
    expect(await userAnswer(user)).toMatchObject({ entitled: true, purchases: [{ checkoutSessionId: session.id }] });
  });

  it.each([
    [
      "the customer's metadata",
      (user: string, customer: string) =>
        eventAt("customer.created", stripeObject("customer", { id: customer, metadata: { app_user_id: user } }), T),
    ],
    [
      "the subscription's metadata",
      (user: string, customer: string) =>
        eventAt(
          "customer.subscription.created",
          stripeObject("subscription", { id: uid("sub"), customer, status: "active", metadata: { app_user_id: user } }),
          T,
        ),
    ],
  ])("links a user through app_user_id in %s", async (_where, linking) => {
    const user = uid("user");
    const customer = uid("cus");
    await processEvents([
      linking(user, customer),
      eventAt("customer.subscription.created", stripeObject("subscription", { id: uid("sub"), customer, status: "active" }), T + 1),
    ]);
    expect(await billingService().forUser(user)).toMatchObject({ customerId: customer, conflict: false, entitled: true });
    expect(await userAnswer(user)).toEqual(await customerAnswer(customer));
  });

  it("reads the metadata key APP_USER_METADATA_KEY names, and only that one", async () => {
    const [user, other, customer] = [uid("user"), uid("user"), uid("cus")];
    const metadata = { uid: user, app_user_id: other };
    await processEvents(
      [eventAt("customer.created", stripeObject("customer", { id: customer, metadata }), T)],
      undefined,
      envWith({ APP_USER_METADATA_KEY: "uid" } as Partial<Env>),
    );
    expect(await billingService().forUser(user)).toMatchObject({ customerId: customer });
    expect(await billingService().forUser(other)).toMatchObject({ customerId: null, customerIds: [] });
  });
});

describe("one user id on two customers", () => {
  /** `user` paid as one customer (client_reference_id) and is named in another customer's metadata. */
  async function conflicting() {
    const user = uid("user");
    const [paying, named] = [uid("cus"), uid("cus")];
    await processEvents([
      eventAt("checkout.session.completed", { ...paidCheckoutSession(paying, uid("pi")), client_reference_id: user }, T),
      eventAt("customer.created", stripeObject("customer", { id: named, metadata: { app_user_id: user } }), T + 1),
    ]);
    return { user, paying, named };
  }

  it("is reported by forUser as a conflict naming both customers, with no single customer", async () => {
    const { user, paying, named } = await conflicting();
    expect(await billingService().forUser(user)).toMatchObject({
      conflict: true,
      customerId: null,
      customerIds: [paying, named].sort(),
      // Each linked customer's rights count: the paying one's purchase entitles the user.
      entitled: true,
    });
  });

  it("is listed in the admin API's customer view as app_user_conflicts", async () => {
    const { user, paying, named } = await conflicting();
    const { status, body } = await adminApi(`/customers/${paying}`);
    expect(status).toBe(200);
    expect(body.app_users).toEqual([{ app_user_id: user, customer_id: paying, sources: ["client_reference_id"] }]);
    expect(body.app_user_conflicts).toEqual([{ app_user_id: user, customer_id: named, sources: ["customer_metadata"] }]);
  });

  it("ends when one of the customers is deleted", async () => {
    const { user, paying, named } = await conflicting();
    // Stripe's customer.deleted carries the customer as it was, metadata included: the link stays in
    // the row, and it is the deletion that must end it.
    await processEvents([eventAt("customer.deleted", stripeObject("customer", { id: named, metadata: { app_user_id: user } }), T + 2)]);
    expect(await billingService().forUser(user)).toMatchObject({ conflict: false, customerId: paying, customerIds: [paying] });
    expect((await adminApi(`/customers/${paying}`)).body.app_user_conflicts).toEqual([]);
  });
});
