import { HttpResponse, http } from "msw";
import catalogue from "../fixtures/stripe-objects-more/entitlements-catalogue.json";
import { stripeObject } from "./billing";
import { uid } from "./events";

// Stripe's catalogue and Entitlements objects (test/fixtures/stripe-objects-more/), and their list
// APIs at the network edge, for the billing-breadth tests.

const FIXTURES = {
  summary: catalogue["entitlements.active_entitlement_summary"],
  activeEntitlement: catalogue["entitlements.active_entitlement"],
  feature: catalogue["entitlements.feature"],
  product: catalogue.product,
  price: catalogue.price,
  subscriptionItem: catalogue.subscription_item,
};

/** A copy of a catalogue or Entitlements fixture object with the fields a test sets. */
export function catalogueObject<K extends keyof typeof FIXTURES>(
  kind: K,
  fields: Record<string, unknown> = {},
): (typeof FIXTURES)[K] & Record<string, unknown> {
  return { ...structuredClone(FIXTURES[kind]), ...fields };
}

/** One active entitlement as the list API returns it (`feature` as an id), with a fresh id and feature. */
export type ActiveEntitlement = ReturnType<typeof activeEntitlement>;

/** An active entitlement to the feature with `lookupKey`, in test mode, as `GET /v1/entitlements/active_entitlements` lists it. */
export function activeEntitlement(lookupKey: string) {
  return catalogueObject("activeEntitlement", { id: uid("ent_test"), feature: uid("feat_test"), lookup_key: lookupKey, livemode: false });
}

/**
 * An active entitlement as a summary carries it: the summary fixture's entry, with the feature
 * expanded (Stripe expands it there) and the id, feature id and lookup key of `e`.
 */
function inSummary(e: ActiveEntitlement) {
  const [sample] = structuredClone(FIXTURES.summary.entitlements.data);
  return {
    ...sample!,
    id: e.id,
    livemode: false,
    lookup_key: e.lookup_key,
    feature: { ...sample!.feature, id: e.feature, lookup_key: e.lookup_key, livemode: false, name: `Feature ${e.lookup_key}` },
  };
}

/**
 * `entitlements.active_entitlement_summary` for `customer`: the first ten of `all` (Stripe's summary
 * carries at most ten), and `has_more` when there are more.
 */
export function entitlementSummary(customer: string, all: readonly ActiveEntitlement[]) {
  const summary = catalogueObject("summary", { customer, livemode: false });
  return {
    ...summary,
    entitlements: {
      ...summary.entitlements,
      url: "/v1/entitlements/active_entitlements",
      data: all.slice(0, 10).map(inSummary),
      has_more: all.length > 10,
    },
  };
}

/** `n` active entitlements with lookup keys `<prefix>_01`, `<prefix>_02`, … (so they sort in creation order). */
export function entitlementsNamed(prefix: string, n: number): ActiveEntitlement[] {
  return Array.from({ length: n }, (_, i) => activeEntitlement(`${prefix}_${String(i + 1).padStart(2, "0")}`));
}

/** A product named `name`, with a fresh id unless given. */
export function product(name: string, fields: Record<string, unknown> = {}) {
  return catalogueObject("product", { id: uid("prod"), name, default_price: null, ...fields });
}

/** A recurring price of `productId`, with a fresh id unless given. */
export function price(productId: string, fields: Record<string, unknown> = {}) {
  return catalogueObject("price", { id: uid("price"), product: productId, ...fields });
}

/** A subscription item of `subscription` for `priceObject` (expanded, as Stripe sends items). */
export function subscriptionItem(subscription: string, priceObject: Record<string, unknown>, quantity = 1) {
  return catalogueObject("subscriptionItem", { id: uid("si"), subscription, price: priceObject, quantity });
}

/**
 * A subscription fixture copy whose `items` list carries the first ten of `items` and says
 * `has_more` when there are more, as a subscription event does.
 */
export function subscriptionWithItems(fields: Record<string, unknown> & { id: string }, items: readonly Record<string, unknown>[]) {
  const sub = stripeObject("subscription", fields);
  return {
    ...sub,
    items: { ...sub.items, url: `/v1/subscription_items?subscription=${fields.id}`, data: items.slice(0, 10), has_more: items.length > 10 },
  };
}

/** Most objects the stubbed list APIs return on one page, whatever `limit` asks: enough pages to show the paging. */
export const STUB_PAGE_SIZE = 10;

/** Stripe's answer for an object the caller cannot see. */
function noSuch(what: string) {
  return HttpResponse.json(
    { error: { type: "invalid_request_error", code: "resource_missing", message: `No such ${what}` } },
    { status: 404 },
  );
}

/**
 * A Stripe list API at the network edge that lists `objects` only for the owner it names
 * (`?customer=` or `?subscription=`) and pages them as Stripe does (`starting_after`, `has_more`), at most
 * STUB_PAGE_SIZE a page. The owner may belong to a connected `account`: then, as at Stripe, only a
 * request made as that account (Stripe-Context, or Stripe-Account) sees it. Any other request gets
 * Stripe's 404, so a wrong filter or a wrong account fails the test.
 */
export function pagedListApi(path: string, owner: { param: string; id: string; account?: string }, objects: readonly { id: string }[]) {
  return http.get(`https://api.stripe.com${path}`, ({ request }) => {
    const q = new URL(request.url).searchParams;
    const actingAs = request.headers.get("stripe-context") ?? request.headers.get("stripe-account") ?? undefined;
    if (q.get(owner.param) !== owner.id || actingAs !== owner.account) return noSuch(owner.param);
    const limit = Math.min(Number(q.get("limit") ?? 10), STUB_PAGE_SIZE);
    const after = q.get("starting_after");
    const from = after === null ? 0 : objects.findIndex((o) => o.id === after) + 1;
    return HttpResponse.json({
      object: "list",
      url: path,
      has_more: from + limit < objects.length,
      data: objects.slice(from, from + limit),
    });
  });
}

/** `GET /v1/entitlements/active_entitlements?customer=…` listing `all`, for a customer of the platform or of `account`. */
export function activeEntitlementsApi(customer: string, all: readonly ActiveEntitlement[], account?: string) {
  return pagedListApi("/v1/entitlements/active_entitlements", { param: "customer", id: customer, account }, all);
}

/** `GET /v1/subscription_items?subscription=…` listing `items`, for a subscription of the platform or of `account`. */
export function subscriptionItemsApi(subscription: string, items: readonly { id: string }[], account?: string) {
  return pagedListApi("/v1/subscription_items", { param: "subscription", id: subscription, account }, items);
}

/** Each request among `seen` as `METHOD path` with its `starting_after`, in order. */
export function requestLines(seen: readonly Request[]): string[] {
  return seen.map((r) => {
    const url = new URL(r.url);
    const after = url.searchParams.get("starting_after");
    return `${r.method} ${url.pathname}${after ? ` after ${after}` : ""}`;
  });
}
