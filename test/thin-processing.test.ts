import { env } from "cloudflare:workers";
import { HttpResponse, http } from "msw";
import { describe, expect, it, vi } from "vitest";
import { billingHandlers } from "../src/billing/handlers";
import { Handlers, type ThinEventOf } from "../src/handlers/registry";
import { billingRow, stripeObject } from "./helpers/billing";
import { uid } from "./helpers/events";
import { envWith, heldQueue } from "./helpers/faults";
import { ledgerRow, seedEvent } from "./helpers/ledger";
import { stubStripeApi } from "./helpers/stripe-api";
import { apiError, apiObject, relatedTo, type ThinBody, thinEvent } from "./helpers/thin";
import { runBatch } from "./helpers/worker";

const KEY = "rk_test_thin_processing";
const keyed = envWith({ STRIPE_SECRET_KEY: KEY });

/** Records a thin event and runs it through the consumer once; returns whether its message was retried or acked. */
async function processThin(
  n: ThinBody,
  handlers: Handlers = billingHandlers(),
  testEnv: Env = keyed,
): Promise<{ retried: boolean; acked: boolean }> {
  await seedEvent(n);
  const { acked, retried } = await runBatch([n.id], { handlers, env: testEnv });
  return { retried: retried.length > 0, acked: acked.includes(n.id) };
}

describe("processing a thin event", () => {
  it("fetches the related object with the key and projects it into the same table as its snapshot twin", async () => {
    const sub = stripeObject("subscription", { id: uid("sub"), status: "past_due" });
    const seen = stubStripeApi(apiObject(sub));
    const n = thinEvent("v1.customer.subscription.updated", relatedTo(sub));
    expect(await processThin(n)).toMatchObject({ retried: false });
    expect(await ledgerRow(n.id)).toMatchObject({ status: "processed", last_error: null });
    expect(await billingRow("subscriptions", sub.id)).toMatchObject({ status: "past_due", customer_id: sub.customer });
    expect(seen.map((r) => `${r.method} ${new URL(r.url).pathname}`)).toEqual([`GET /v1/subscriptions/${sub.id}`]);
    expect(seen[0]!.headers.get("authorization")).toBe(`Bearer ${KEY}`);
    expect(seen[0]!.headers.get("stripe-request-trigger")).toBe(`event=${n.id}`);
    expect(seen[0]!.headers.get("stripe-context")).toBeNull();
  });

  it("fetches a connected account's object with its Stripe-Context when connected billing is on", async () => {
    const customer = stripeObject("customer", { id: uid("cus"), email: "connected@example.com" });
    const seen = stubStripeApi(apiObject(customer));
    const n = thinEvent("v1.customer.updated", relatedTo(customer), { context: "acct_1Connected" });
    await processThin(n, billingHandlers(), envWith({ STRIPE_SECRET_KEY: KEY, STRIPE_CONNECT_BILLING: "true" }));
    expect(seen[0]!.headers.get("stripe-context")).toBe("acct_1Connected");
    expect(await billingRow("customers", customer.id)).toMatchObject({ email: "connected@example.com" });
  });

  it("ends a thin type with no handler ignored, with no API call and no key needed", async () => {
    const seen = stubStripeApi(); // any request fails the test
    const ping = thinEvent("v2.core.event_destination.ping", {
      id: "ed_test_ping",
      type: "v2.core.event_destination",
      url: "/v2/core/event_destinations/ed_test_ping",
    });
    expect(await processThin(ping, billingHandlers(), env)).toEqual({ retried: false, acked: true });
    expect(await ledgerRow(ping.id)).toMatchObject({ status: "ignored" });
    expect(seen).toEqual([]);
  });

  it("runs a user handler for a v2-only type with the typed notification and an API client", async () => {
    const account = { id: uid("acct"), object: "v2.core.account", display_name: "Connected Co" };
    stubStripeApi(http.get(`https://api.stripe.com/v2/core/accounts/${account.id}`, () => HttpResponse.json(account)));
    const got: { id: string; type: string; name: unknown; keyed: boolean }[] = [];
    const handlers = new Handlers().onThin(
      "v2.core.account.updated",
      async (notification: ThinEventOf<"v2.core.account.updated">, { stripe }) => {
        const fetched = await notification.fetchRelatedObject();
        got.push({ id: notification.id, type: notification.type, name: fetched.display_name, keyed: stripe !== null });
      },
    );
    const n = thinEvent("v2.core.account.updated", { id: account.id, type: "v2.core.account", url: `/v2/core/accounts/${account.id}` });
    await processThin(n, handlers);
    expect(got).toEqual([{ id: n.id, type: "v2.core.account.updated", name: "Connected Co", keyed: true }]);
    expect(await ledgerRow(n.id)).toMatchObject({ status: "processed" });
  });

  it("fetches the related object once however many handlers ask for it", async () => {
    const sub = stripeObject("subscription", { id: uid("sub") });
    const seen = stubStripeApi(apiObject(sub));
    const ids: string[] = [];
    const handlers = billingHandlers().onThin(
      "v1.customer.subscription.updated",
      async (notification) => void ids.push((await notification.fetchRelatedObject()).id),
    );
    await processThin(thinEvent("v1.customer.subscription.updated", relatedTo(sub)), handlers);
    expect(ids).toEqual([sub.id]);
    expect(seen).toHaveLength(1);
  });
});

describe("Stripe API failures while processing a thin event", () => {
  it("defers the event on 429: acked and sent again later, back to received, no attempt spent towards the dead-letter queue", async () => {
    const sub = stripeObject("subscription", { id: uid("sub") });
    const seen = stubStripeApi(apiError(relatedTo(sub).url, 429));
    const { queue, sent } = heldQueue();
    const n = thinEvent("v1.customer.subscription.updated", relatedTo(sub));
    expect(await processThin(n, billingHandlers(), envWith({ STRIPE_SECRET_KEY: KEY, EVENTS_QUEUE: queue }))).toEqual({
      retried: false,
      acked: true,
    });
    expect(await ledgerRow(n.id)).toMatchObject({ status: "received", attempts: 0, redrive_at: expect.any(Number) });
    expect(sent).toEqual([n.id]);
    expect(seen).toHaveLength(1);
  });

  it.each([
    // The SDK itself retries a 5xx twice (maxNetworkRetries 2) before the event fails.
    ["500 server error", 500, 3, /StripeAPIError/],
  ])("fails the event on %s and leaves it to the queue's retry with backoff", async (_name, status, calls, error) => {
    const sub = stripeObject("subscription", { id: uid("sub") });
    const seen = stubStripeApi(apiError(relatedTo(sub).url, status));
    const n = thinEvent("v1.customer.subscription.updated", relatedTo(sub));
    expect(await processThin(n)).toMatchObject({ retried: true });
    const row = await ledgerRow(n.id);
    expect(row).toMatchObject({ status: "failed", last_error: expect.stringMatching(error), attempts: 1 });
    expect(row!.redrive_at).toEqual(expect.any(Number));
    expect(seen).toHaveLength(calls);
    expect(await billingRow("subscriptions", sub.id)).toBeNull();

    // The queue's retry, once the API answers again.
    vi.restoreAllMocks();
    stubStripeApi(apiObject(sub));
    expect(await processThin(n)).toMatchObject({ retried: false });
    expect(await ledgerRow(n.id)).toMatchObject({ status: "processed", attempts: 2, last_error: null });
  });

  it("fails the event on a network error and leaves it to the queue's retry", async () => {
    const sub = stripeObject("subscription", { id: uid("sub") });
    // fetch rejects, as it does when the connection fails; the SDK retries twice, then gives up.
    vi.spyOn(globalThis, "fetch").mockRejectedValue(new TypeError("Network connection lost."));
    const n = thinEvent("v1.customer.subscription.updated", relatedTo(sub));
    expect(await processThin(n)).toMatchObject({ retried: true });
    expect(await ledgerRow(n.id)).toMatchObject({ status: "failed", last_error: expect.stringMatching(/StripeConnectionError/) });
  });

  it("ends processed, writing nothing, when the object is gone (404)", async () => {
    const logged = vi.spyOn(console, "warn");
    const sub = stripeObject("subscription", { id: uid("sub") });
    stubStripeApi(apiError(relatedTo(sub).url, 404, "invalid_request_error", "resource_missing"));
    const n = thinEvent("v1.customer.subscription.updated", relatedTo(sub));
    expect(await processThin(n)).toEqual({ retried: false, acked: true });
    expect(await ledgerRow(n.id)).toMatchObject({ status: "processed" });
    expect(await billingRow("subscriptions", sub.id)).toBeNull();
    const lines = logged.mock.calls.map(([line]) => JSON.parse(String(line)) as Record<string, unknown>);
    expect(lines).toContainEqual({ level: "warn", msg: "related_object_missing", event_id: n.id, type: n.type, object_id: sub.id });
  });

  it("records a customer the API no longer knows (404) as deleted", async () => {
    const id = uid("cus");
    stubStripeApi(apiError(`/v1/customers/${id}`, 404, "invalid_request_error", "resource_missing"));
    const n = thinEvent("v1.customer.updated", { id, type: "customer", url: `/v1/customers/${id}` });
    await processThin(n);
    expect(await ledgerRow(n.id)).toMatchObject({ status: "processed" });
    expect(await billingRow("customers", id)).toMatchObject({ deleted: 1 });
  });
});
