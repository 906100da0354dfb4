import { HttpResponse, type HttpResponseResolver, http } from "msw";
import type { BackfillType, ListedType } from "../../src/backfill/objects";

/** Each listed type's list API path. */
export const LIST_PATHS: Record<ListedType, string> = {
  customers: "/v1/customers",
  products: "/v1/products",
  prices: "/v1/prices",
  subscriptions: "/v1/subscriptions",
  checkout_sessions: "/v1/checkout/sessions",
  invoices: "/v1/invoices",
  payment_intents: "/v1/payment_intents",
  charges: "/v1/charges",
};

type StripeObject = { id: string } & Record<string, unknown>;

/**
 * One of Stripe's list APIs at the network edge, paged as Stripe pages it: `limit` (default 10) objects
 * after `starting_after`, in the order given (Stripe lists newest first), with `has_more`. `objects` is
 * read on every request, so a test can change the account between pages. `intercept` may answer a
 * request itself (a 429, a 403) or run something while the request is in flight, before the page is read.
 */
export function listApi(
  type: ListedType,
  objects: StripeObject[] | (() => StripeObject[]),
  intercept?: (query: URLSearchParams) => Response | undefined | Promise<Response | undefined>,
) {
  const resolver: HttpResponseResolver = async ({ request }) => {
    const q = new URL(request.url).searchParams;
    const early = await intercept?.(q);
    if (early) return early;
    const all = typeof objects === "function" ? objects() : objects;
    const limit = Number(q.get("limit") ?? 10);
    const after = q.get("starting_after");
    const from = after === null ? 0 : all.findIndex((o) => o.id === after) + 1;
    const data = all.slice(from, from + limit);
    return HttpResponse.json({ object: "list", url: LIST_PATHS[type], has_more: from + limit < all.length, data });
  };
  return http.get(`https://api.stripe.com${LIST_PATHS[type]}`, resolver);
}

/**
 * An empty list for every backfilled type not given, so a test can stub only the types it is about;
 * for `entitlements`, an account that defined no feature (the import's first question).
 */
export function emptyLists(except: BackfillType[] = []) {
  const lists = (Object.keys(LIST_PATHS) as ListedType[]).filter((t) => !except.includes(t)).map((t) => listApi(t, []));
  return except.includes("entitlements") ? lists : [...lists, featureList([])];
}

/** `GET /v1/entitlements/features`: the account's features (the entitlements import asks for one). */
export function featureList(features: { id: string }[]) {
  return http.get("https://api.stripe.com/v1/entitlements/features", ({ request }) => {
    const limit = Number(new URL(request.url).searchParams.get("limit") ?? 10);
    const data = features.slice(0, limit);
    return HttpResponse.json({ object: "list", url: "/v1/entitlements/features", has_more: features.length > limit, data });
  });
}

/** Stripe's error answer, e.g. `stripeError(429, "rate_limit_error")`. */
export function stripeError(status: number, type: string): Response {
  return HttpResponse.json({ error: { type, message: `A message from Stripe that must not be repeated (${status})` } }, { status });
}

/** The paths (with `starting_after`, and `status` where given) of the list requests among `seen`, in order. */
export function listRequests(seen: readonly Request[]): string[] {
  return seen
    .map((r) => new URL(r.url))
    .filter((u) => Object.values(LIST_PATHS).includes(u.pathname))
    .map((u) => `${u.pathname}${u.searchParams.has("starting_after") ? ` after ${u.searchParams.get("starting_after")}` : ""}`);
}

/**
 * What the rest of a cron tick asks the API when STRIPE_SECRET_KEY is set, answered empty: the
 * snapshot recovery's Events list and the drift check's webhook endpoints.
 */
export function otherCronCalls() {
  const empty = (url: string) => HttpResponse.json({ object: "list", url, has_more: false, data: [] });
  return [
    http.get("https://api.stripe.com/v1/events", () => empty("/v1/events")),
    http.get("https://api.stripe.com/v1/webhook_endpoints", () => empty("/v1/webhook_endpoints")),
  ];
}
