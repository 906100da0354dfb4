import { describe, expect, it } from "vitest";
import { billingRow, eventAt, processEvents } from "./helpers/billing";
import { billingService } from "./helpers/billing-rpc";
import { price, product, requestLines, subscriptionItem, subscriptionItemsApi, subscriptionWithItems } from "./helpers/catalogue";
import { uid } from "./helpers/events";
import { envWith } from "./helpers/faults";
import { stubStripeApi } from "./helpers/stripe-api";

// The catalogue (products and prices) is kept so that an app can show plan names, and a subscription
// keeps every item even when its event carries only the first ten.

const T = 1_760_000_000;
const keyed = envWith({ STRIPE_SECRET_KEY: "rk_test_catalogue" });

describe("the catalogue tables", () => {
  it("keep a product through created, updated and deleted, and ignore an older update after the deletion", async () => {
    const prod = product("Basic", { default_price: uid("price") });
    await processEvents([
      eventAt("product.created", prod, T),
      eventAt("product.updated", { ...prod, name: "Basic plus" }, T + 10),
      eventAt("product.deleted", { ...prod, name: "Basic plus" }, T + 20),
      // A late copy of an update from before the deletion must not bring the product back.
      eventAt("product.updated", { ...prod, name: "Basic (late)" }, T + 15),
    ]);
    expect(await billingRow("products", prod.id)).toEqual({
      account: "",
      id: prod.id,
      name: "Basic plus",
      active: 0,
      deleted: 1,
      default_price_id: prod.default_price,
      livemode: 0,
      last_event_created: T + 20,
    });
  });

  it("keep a price through created, updated and deleted", async () => {
    const productId = uid("prod");
    const p = price(productId, { lookup_key: "pro_monthly", nickname: "Pro monthly", unit_amount: 2000 });
    await processEvents([eventAt("price.created", p, T)]);
    expect(await billingRow("prices", p.id)).toMatchObject({
      product_id: productId,
      active: 1,
      deleted: 0,
      currency: "usd",
      unit_amount: 2000,
      recurring_interval: "month",
      lookup_key: "pro_monthly",
      nickname: "Pro monthly",
    });
    await processEvents([eventAt("price.updated", { ...p, active: false, nickname: "Pro monthly (retired)" }, T + 10)]);
    expect(await billingRow("prices", p.id)).toMatchObject({ active: 0, deleted: 0, nickname: "Pro monthly (retired)" });
    await processEvents([eventAt("price.deleted", { ...p, active: false }, T + 20)]);
    expect(await billingRow("prices", p.id)).toMatchObject({ active: 0, deleted: 1, last_event_created: T + 20 });
  });

  it("keep the newer product name when an older event arrives after it", async () => {
    const prod = product("Old name");
    await processEvents([eventAt("product.updated", { ...prod, name: "New name" }, T + 10), eventAt("product.created", prod, T)]);
    expect(await billingRow("products", prod.id)).toMatchObject({ name: "New name", last_event_created: T + 10 });
  });
});

/**
 * A subscription of 30 items whose event carries the first ten: ten items of each of three products
 * (Starter, Team, Add-on), so the second and third plans are only on the list API's later pages.
 */
function thirtyItems() {
  const customer = uid("cus");
  const subId = uid("sub");
  const products = [product("Starter"), product("Team"), product("Add-on")];
  const prices = products.map((p, i) => price(p.id, { lookup_key: `plan_${i}`, nickname: `${p.name} monthly` }));
  const items = Array.from({ length: 30 }, (_, i) => subscriptionItem(subId, prices[Math.floor(i / 10)]!, i + 1));
  const sub = subscriptionWithItems({ id: subId, customer, status: "active" }, items);
  const catalogueEvents = [
    ...products.map((p) => eventAt("product.created", p, T - 100)),
    ...prices.map((p) => eventAt("price.created", p, T - 100)),
  ];
  return { customer, sub, items, products, prices, catalogueEvents };
}

describe("a subscription with more items than its event carries", () => {
  it("lists all 30 items across three pages with an API key, and BillingService returns them all", async () => {
    const { sub, items, catalogueEvents } = thirtyItems();
    await processEvents(catalogueEvents);
    expect([sub.items.data.length, sub.items.has_more]).toEqual([10, true]);
    const seen = stubStripeApi(subscriptionItemsApi(sub.id, items));

    expect(await processEvents([eventAt("customer.subscription.created", sub, T)], undefined, keyed)).toEqual([]);
    expect(requestLines(seen)).toEqual([
      "GET /v1/subscription_items",
      `GET /v1/subscription_items after ${items[9]!.id}`,
      `GET /v1/subscription_items after ${items[19]!.id}`,
    ]);
    const state = await billingService().subscription(sub.id);
    expect(state).toMatchObject({ id: sub.id, status: "active", itemsComplete: true });
    expect(state!.items.map((i) => i.id)).toEqual(items.map((i) => i.id));
    expect(state!.priceIds).toHaveLength(30);
    expect(state!.items[29]).toMatchObject({ quantity: 30, priceId: items[29]!.price.id });
  });

  it("keeps the ten items it carries, marked incomplete, when there is no API key", async () => {
    const { sub, items } = thirtyItems();
    const seen = stubStripeApi();
    await processEvents([eventAt("customer.subscription.created", sub, T)]);
    expect(seen).toEqual([]);
    const state = await billingService().subscription(sub.id);
    expect(state).toMatchObject({ itemsComplete: false });
    expect(state!.items.map((i) => i.id)).toEqual(items.slice(0, 10).map((i) => i.id));
  });
});

describe("plan names in BillingService.entitlements()", () => {
  it("names each product of a subscription once, in item order, with each item's product and price names", async () => {
    const { customer, sub, items, catalogueEvents } = thirtyItems();
    stubStripeApi(subscriptionItemsApi(sub.id, items));
    await processEvents([...catalogueEvents, eventAt("customer.subscription.created", sub, T)], undefined, keyed);

    const [entitled] = (await billingService().entitlements(customer)).subscriptions;
    expect(entitled).toMatchObject({ id: sub.id, itemsComplete: true, plans: ["Starter", "Team", "Add-on"] });
    expect(entitled!.items[0]).toEqual({
      id: items[0]!.id,
      priceId: items[0]!.price.id,
      productId: (items[0]!.price as { product: string }).product,
      quantity: 1,
      productName: "Starter",
      priceLookupKey: "plan_0",
      priceNickname: "Starter monthly",
    });
    expect(new Set(entitled!.items.slice(10, 20).map((i) => i.productName))).toEqual(new Set(["Team"]));
  });

  it("reads names when asked: a product known only after the subscription, and a later rename, both show", async () => {
    const customer = uid("cus");
    const prod = product("Pro");
    const subId = uid("sub");
    const sub = subscriptionWithItems({ id: subId, customer, status: "active" }, [subscriptionItem(subId, price(prod.id))]);
    await processEvents([eventAt("customer.subscription.created", sub, T)]);
    // Before any product event the item has no name: null, not a made-up one.
    expect((await billingService().entitlements(customer)).subscriptions[0]).toMatchObject({ plans: [], items: [{ productName: null }] });

    await processEvents([eventAt("product.created", prod, T + 1)]);
    expect((await billingService().entitlements(customer)).subscriptions[0]!.plans).toEqual(["Pro"]);
    await processEvents([eventAt("product.updated", { ...prod, name: "Pro (2027)" }, T + 2)]);
    expect((await billingService().entitlements(customer)).subscriptions[0]!.plans).toEqual(["Pro (2027)"]);
  });
});
