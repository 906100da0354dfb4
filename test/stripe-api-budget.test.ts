import { HttpResponse, http } from "msw";
import { describe, expect, it } from "vitest";
import { billingHandlers } from "../src/billing/handlers";
import { stripeObject } from "./helpers/billing";
import { uid } from "./helpers/events";
import { envWith } from "./helpers/faults";
import { ledgerRow, seedEvent } from "./helpers/ledger";
import { stubStripeApi } from "./helpers/stripe-api";
import { relatedTo, thinEvent } from "./helpers/thin";
import { runBatch } from "./helpers/worker";

// A burst of thin events (a billing run, a backfill alongside live traffic) against an API that
// answers 429 above its limit, as Stripe does (25 requests a second in sandboxes). Every Stripe
// request of every invocation waits for its turn in one budget (STRIPE_API_RATE, a Durable Object),
// so the API never sees more than its limit, and nothing dies for it.

const API_LIMIT = 25;
const RATE = 20;

/** Stripe's API for subscriptions, answering 429 (Retry-After: 1) to a request over `limit` in the last second. */
function limitedApi(limit: number) {
  const arrivals: number[] = [];
  let refused = 0;
  const handler = http.get("https://api.stripe.com/v1/subscriptions/:id", ({ params }) => {
    const now = Date.now();
    arrivals.push(now);
    if (arrivals.filter((t) => t > now - 1000).length > limit) {
      refused++;
      return HttpResponse.json(
        { error: { type: "rate_limit_error", message: "Too many requests" } },
        { status: 429, headers: { "retry-after": "1" } },
      );
    }
    return HttpResponse.json(stripeObject("subscription", { id: String(params.id) }));
  });
  /** The most requests that arrived within any one second. */
  const peak = () => Math.max(0, ...arrivals.map((t) => arrivals.filter((u) => u >= t && u < t + 1000).length));
  return { handler, arrivals, peak, refused: () => refused };
}

describe(`a burst of thin events against an API that allows ${API_LIMIT} requests a second`, () => {
  it(`processes all of them, none dead or failed, and the API never sees more than ${API_LIMIT} in a second`, async () => {
    const api = limitedApi(API_LIMIT);
    stubStripeApi(api.handler);
    const testEnv = envWith({ STRIPE_SECRET_KEY: "rk_test_budget", STRIPE_API_RATE: String(RATE) });
    const events = Array.from({ length: 120 }, () =>
      thinEvent("v1.customer.subscription.updated", relatedTo(stripeObject("subscription", { id: uid("sub") }))),
    );
    for (const n of events) await seedEvent(n);

    // Four consumer invocations at once, as Queues runs them side by side; deferred events come back
    // in later batches, as their delayed messages would.
    let waiting = events.map((n) => n.id);
    for (let round = 0; waiting.length > 0 && round < 5; round++) {
      const batches = [0, 1, 2, 3].map((i) => waiting.filter((_, j) => j % 4 === i));
      const outcomes = await Promise.all(batches.map((ids) => runBatch(ids, { handlers: billingHandlers(), env: testEnv })));
      expect(outcomes.flatMap((o) => o.retried)).toEqual([]);
      const rows = await Promise.all(waiting.map(async (id) => [id, (await ledgerRow(id))?.status] as const));
      waiting = rows.filter(([, status]) => status !== "processed").map(([id]) => id);
    }

    expect(waiting).toEqual([]);
    for (const n of events) expect(await ledgerRow(n.id)).toMatchObject({ status: "processed", attempts: 1 });
    expect(api.arrivals).toHaveLength(events.length);
    expect(api.peak()).toBeLessThanOrEqual(API_LIMIT);
    expect(api.refused()).toBe(0);
  });
});
